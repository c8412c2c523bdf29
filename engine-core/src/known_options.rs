//! The options each built-in format reads, so a misspelt one is caught: Spark ignores
//! unknown options silently, and a misspelt `maxFilesPerTrigger` quietly turns rate
//! limiting off. Pipeline files and the command line reject an unknown option naming the
//! closest known one; the library API logs a warning, or fails when
//! [`FAIL_ON_UNKNOWN_OPTIONS`] is set.
//!
//! Not checked: formats that are not built in (their options are theirs), keys starting with
//! `spark.` (session settings given per query) and, for Kafka, `kafka.*` (passed to the
//! client as they are).

use crate::options::Options;
use crate::{EngineError, Result};

/// Session setting (ours, default false): an unknown option of a built-in format is an error
/// in the library API too, not only a warning.
pub const FAIL_ON_UNKNOWN_OPTIONS: &str = "spark.sstream.options.failOnUnknown";

/// Which side of a query the options configure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// `read` / `readStream`.
    Read,
    /// `write` / `writeStream`.
    Write,
}

/// Every file format: where, which files, and how the batch or stream takes them.
const FILE_READ: &[&str] = &[
    "path",
    "paths",
    "pathGlobFilter",
    "recursiveFileLookup",
    "modifiedBefore",
    "modifiedAfter",
    "ignoreCorruptFiles",
    "ignoreMissingFiles",
    "basePath",
    "maxFilesPerTrigger",
    "maxBytesPerTrigger",
    "latestFirst",
    "fileNameOnly",
    "maxFileAge",
    "cleanSource",
    "sourceArchiveDir",
    "maxCachedFiles",
    "discardCachedInputRatio",
];

const FILE_WRITE: &[&str] = &[
    "path",
    "compression",
    "codec",
    "maxRecordsPerFile",
    "partitionBy",
    crate::options::PARTITION_COLUMNS_OPTION,
    "checkpointLocation",
];

/// Options of the text-based formats' dates and times, read and written.
const DATETIME: &[&str] = &[
    "dateFormat",
    "timestampFormat",
    "timestampNTZFormat",
    "enableDateTimeParsingFallback",
    "timeZone",
    "locale",
];

const CSV: &[&str] = &[
    "sep",
    "delimiter",
    "encoding",
    "charset",
    "quote",
    "quoteAll",
    "escape",
    "escapeQuotes",
    "comment",
    "header",
    "inferSchema",
    "preferDate",
    "enforceSchema",
    "ignoreLeadingWhiteSpace",
    "ignoreTrailingWhiteSpace",
    "nullValue",
    "nanValue",
    "positiveInf",
    "negativeInf",
    "maxColumns",
    "maxCharsPerColumn",
    "mode",
    "columnNameOfCorruptRecord",
    "multiLine",
    "charToEscapeQuoteEscaping",
    "samplingRatio",
    "emptyValue",
    "lineSep",
    "unescapedQuoteHandling",
];

const JSON: &[&str] = &[
    "primitivesAsString",
    "prefersDecimal",
    "allowComments",
    "allowUnquotedFieldNames",
    "allowSingleQuotes",
    "allowNumericLeadingZeros",
    "allowBackslashEscapingAnyCharacter",
    "allowNonNumericNumbers",
    "allowUnquotedControlChars",
    "mode",
    "columnNameOfCorruptRecord",
    "multiLine",
    "encoding",
    "lineSep",
    "samplingRatio",
    "dropFieldIfAllNull",
    "ignoreNullFields",
    "singleVariantColumn",
];

const PARQUET: &[&str] = &[
    "mergeSchema",
    "datetimeRebaseMode",
    "int96RebaseMode",
    "parquet.block.rows",
];

const TEXT: &[&str] = &["wholetext", "lineSep"];

const RATE: &[&str] = &["rowsPerSecond", "rampUpTime", "numPartitions"];

const RATE_MICRO_BATCH: &[&str] = &[
    "rowsPerBatch",
    "numPartitions",
    "startTimestamp",
    "advanceMillisPerBatch",
];

const CONSOLE: &[&str] = &["numRows", "truncate"];

const KAFKA_READ: &[&str] = &[
    "assign",
    "subscribe",
    "subscribePattern",
    "startingTimestamp",
    "startingOffsetsByTimestamp",
    "startingOffsets",
    "endingTimestamp",
    "endingOffsetsByTimestamp",
    "endingOffsets",
    "startingOffsetsByTimestampStrategy",
    "failOnDataLoss",
    "kafkaConsumer.pollTimeoutMs",
    "fetchOffset.numRetries",
    "fetchOffset.retryIntervalMs",
    "maxOffsetsPerTrigger",
    "minOffsetsPerTrigger",
    "maxTriggerDelay",
    "minPartitions",
    "maxRecordsPerPartition",
    "groupIdPrefix",
    "includeHeaders",
];

const KAFKA_WRITE: &[&str] = &[
    "topic",
    "includeHeaders",
    "checkpointLocation",
    "deliveryGuarantee",
    "transactionalIdPrefix",
    "readBackClockSkewMs",
];

/// The options format `format` (any case) reads on `side`, or `None` when it is not a
/// built-in format (nothing is checked).
pub fn known_options(format: &str, side: Side) -> Option<Vec<&'static str>> {
    let format = format.to_ascii_lowercase();
    let file = |own: &[&'static str], dates: bool| {
        let base = match side {
            Side::Read => FILE_READ,
            Side::Write => FILE_WRITE,
        };
        let mut v: Vec<&'static str> = base.iter().chain(own).copied().collect();
        if dates {
            v.extend_from_slice(DATETIME);
        }
        Some(v)
    };
    let write_only = |own: &[&'static str]| {
        let mut v = own.to_vec();
        v.push("checkpointLocation");
        Some(v)
    };
    match (format.as_str(), side) {
        ("csv", _) => file(CSV, true),
        ("json", _) => file(JSON, true),
        ("parquet", _) => file(PARQUET, false),
        ("text", _) => file(TEXT, false),
        ("rate", Side::Read) => Some(RATE.to_vec()),
        ("rate-micro-batch", Side::Read) => Some(RATE_MICRO_BATCH.to_vec()),
        ("console", Side::Write) => write_only(CONSOLE),
        ("memory" | "noop", Side::Write) => write_only(&[]),
        ("kafka", Side::Read) => Some(KAFKA_READ.to_vec()),
        ("kafka", Side::Write) => Some(KAFKA_WRITE.to_vec()),
        _ => None,
    }
}

/// An option of `format` that it does not know, and the known option closest to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownOption {
    /// The key as given.
    pub key: String,
    /// The known option it is most likely a misspelling of.
    pub closest: Option<&'static str>,
}

impl std::fmt::Display for UnknownOption {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "unknown option `{}`", self.key)?;
        if let Some(c) = self.closest {
            write!(f, "; did you mean `{c}`?")?;
        }
        Ok(())
    }
}

/// The keys of `options` (as given) that built-in `format` does not read on `side`.
pub fn unknown_options(format: &str, side: Side, options: &Options) -> Vec<UnknownOption> {
    let Some(known) = known_options(format, side) else {
        return Vec::new();
    };
    let kafka = format.eq_ignore_ascii_case("kafka");
    options
        .iter_original()
        .map(|(k, _)| k)
        .filter(|k| {
            let lower = k.to_ascii_lowercase();
            !(lower.starts_with("spark.")
                || (kafka && lower.starts_with("kafka."))
                || known.iter().any(|o| o.eq_ignore_ascii_case(k)))
        })
        .map(|k| UnknownOption {
            key: k.to_string(),
            closest: closest(k, &known),
        })
        .collect()
}

/// The known option nearest to `key` (case ignored), if any is near enough to be meant.
fn closest(key: &str, known: &[&'static str]) -> Option<&'static str> {
    let key = key.to_ascii_lowercase();
    known
        .iter()
        .map(|o| {
            (
                strsim::damerau_levenshtein(&key, &o.to_ascii_lowercase()),
                *o,
            )
        })
        .filter(|(d, o)| *d <= 3.max(o.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, o)| o)
}

/// The error for unknown options of `format`, naming each and its closest known option.
pub fn unknown_options_error(format: &str, unknown: &[UnknownOption]) -> EngineError {
    let list: Vec<String> = unknown.iter().map(ToString::to_string).collect();
    EngineError::invalid_option(
        unknown.first().map_or("", |u| u.key.as_str()),
        format!("format `{format}`: {}", list.join(", ")),
    )
}

/// What the library API does with unknown options of a built-in format: a warning naming
/// them and their closest known options, or, with `fail` ([`FAIL_ON_UNKNOWN_OPTIONS`]), an
/// error.
pub fn check_options(format: &str, side: Side, options: &Options, fail: bool) -> Result<()> {
    let unknown = unknown_options(format, side, options);
    if unknown.is_empty() {
        return Ok(());
    }
    if fail {
        return Err(unknown_options_error(format, &unknown));
    }
    for u in &unknown {
        log::warn!("format `{format}`: {u} (Spark ignores it)");
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn misspelt_options_are_found_with_the_closest_known_one() {
        let o = Options::new([
            ("maxFilePerTrigger", "2"),
            ("HEADER", "true"),
            ("spark.sql.streaming.fileSink.log.compactInterval", "3"),
            ("qwertyuiopasdf", "1"),
        ]);
        let u = unknown_options("csv", Side::Read, &o);
        assert_eq!(
            u,
            vec![
                UnknownOption {
                    key: "maxFilePerTrigger".into(),
                    closest: Some("maxFilesPerTrigger")
                },
                UnknownOption {
                    key: "qwertyuiopasdf".into(),
                    closest: None
                },
            ]
        );
        let e = check_options("csv", Side::Read, &o, true)
            .unwrap_err()
            .to_string();
        assert!(e.contains("did you mean `maxFilesPerTrigger`?"), "{e}");
        assert!(check_options("csv", Side::Read, &o, false).is_ok());
        // Kafka passes `kafka.*` through; formats not built in are not checked.
        let k = Options::new([("kafka.bootstrap.servers", "b"), ("subscrbe", "t")]);
        let u = unknown_options("kafka", Side::Read, &k);
        assert_eq!(u.len(), 1);
        assert_eq!(u[0].closest, Some("subscribe"));
        assert!(unknown_options("delta", Side::Read, &o).is_empty());
        // A read option is unknown to a write.
        let w = Options::new([("maxFilesPerTrigger", "1")]);
        assert_eq!(unknown_options("json", Side::Write, &w).len(), 1);
    }
}
