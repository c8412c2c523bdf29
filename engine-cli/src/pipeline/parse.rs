//! TOML text -> [`Pipeline`], with errors that point at the file, key and line.

use std::ops::Range;
use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};
use engine_core::known_options::{Side, unknown_options};
use toml_edit::{Document, Item, TableLike, Value};

use super::spec::{Pipeline, SinkSpec, SourceSpec, TriggerSpec, ViewSpec, Watermark};

const TOP_KEYS: &[&str] = &["source", "view", "query", "sink", "conf"];
const SOURCE_KEYS: &[&str] = &["format", "path", "schema", "options", "watermark"];
const VIEW_KEYS: &[&str] = &["sql", "watermark"];
const QUERY_KEYS: &[&str] = &["sql"];
const SINK_KEYS: &[&str] = &[
    "format",
    "path",
    "outputMode",
    "trigger",
    "checkpointLocation",
    "queryName",
    "partitionBy",
    "options",
];
const WATERMARK_KEYS: &[&str] = &["column", "delay"];
const TRIGGER_KEYS: &[&str] = &["processingTime", "once", "availableNow", "continuous"];

/// Reads and checks the pipeline file at `path`, then applies `overrides` (`--set
/// sink.path=/tmp/out`, `source.orders.options.subscribe=t`, `conf.spark.sql.x=y`).
pub fn read_pipeline(path: &Path, overrides: &[String]) -> Result<Pipeline> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    parse_pipeline_with(&text, &path.display().to_string(), overrides)
}

/// [`parse_pipeline`] after applying `overrides` (`key=value`, as `--set` takes them).
pub fn parse_pipeline_with(text: &str, file: &str, overrides: &[String]) -> Result<Pipeline> {
    if overrides.is_empty() {
        return parse_pipeline(text, file);
    }
    let mut doc = text
        .parse::<toml_edit::DocumentMut>()
        .map_err(|e| syntax_error(file, text, &e))?;
    for o in overrides {
        apply_override(&mut doc, o)?;
    }
    // Overrides are applied to the text first, so a bad `--set` value is checked exactly like
    // one written in the file; its line is then that of the rewritten document.
    parse_pipeline(&doc.to_string(), file)
}

/// Parses and checks pipeline TOML; `file` names it in errors.
pub fn parse_pipeline(text: &str, file: &str) -> Result<Pipeline> {
    let doc = Document::parse(text).map_err(|e| syntax_error(file, text, &e))?;
    let p = Parser { text, file };
    let root = doc.as_table();
    p.check_keys(root, "", TOP_KEYS)?;

    let mut pipeline = Pipeline {
        conf: Vec::new(),
        sources: Vec::new(),
        views: Vec::new(),
        query: String::new(),
        sink: SinkSpec {
            format: String::new(),
            path: None,
            output_mode: "append".into(),
            trigger: TriggerSpec::Default,
            checkpoint_location: None,
            query_name: None,
            partition_by: Vec::new(),
            options: Vec::new(),
        },
    };

    if let Some(conf) = root.get("conf") {
        pipeline.conf = p.string_map(conf, "conf")?;
    }
    let sources = p.required_table(root, "source", "")?;
    for (name, item) in sources.iter() {
        let key = format!("source.{name}");
        let t = p.table(item, &key)?;
        p.check_keys(t, &key, SOURCE_KEYS)?;
        pipeline.sources.push(SourceSpec {
            name: name.to_string(),
            format: p.required_str(t, "format", &key)?,
            path: p.optional_str(t, "path", &key)?,
            schema: p.optional_str(t, "schema", &key)?,
            options: match t.get("options") {
                Some(o) => {
                    let options = p.string_map(o, &format!("{key}.options"))?;
                    let format = p.required_str(t, "format", &key)?;
                    p.check_options(o, &options, &format, Side::Read, &key)?;
                    options
                }
                None => Vec::new(),
            },
            watermark: p.watermark(t, &key)?,
        });
    }
    if sources.is_empty() {
        bail!(
            "{file}: `[source]` has no sources; add a table such as `[source.orders]` with a `format`"
        );
    }
    if let Some(views) = root.get("view") {
        let views = p.table(views, "view")?;
        for (name, item) in views.iter() {
            let key = format!("view.{name}");
            let t = p.table(item, &key)?;
            p.check_keys(t, &key, VIEW_KEYS)?;
            pipeline.views.push(ViewSpec {
                name: name.to_string(),
                sql: p.required_str(t, "sql", &key)?,
                watermark: p.watermark(t, &key)?,
            });
        }
    }
    let query = p.required_table(root, "query", "")?;
    p.check_keys(query, "query", QUERY_KEYS)?;
    pipeline.query = p.required_str(query, "sql", "query")?;

    let sink = p.required_table(root, "sink", "")?;
    p.check_keys(sink, "sink", SINK_KEYS)?;
    let s = &mut pipeline.sink;
    s.format = p.required_str(sink, "format", "sink")?;
    s.path = p.optional_str(sink, "path", "sink")?;
    if let Some(mode) = p.optional_str(sink, "outputMode", "sink")? {
        if !["append", "update", "complete"].contains(&mode.to_ascii_lowercase().as_str()) {
            bail!(
                "{}: `sink.outputMode` is `{mode}`; valid values are append, update and complete",
                p.at(sink.get_key_value("outputMode").map(|(k, _)| k.span()))
            );
        }
        s.output_mode = mode.to_ascii_lowercase();
    }
    s.checkpoint_location = p.optional_str(sink, "checkpointLocation", "sink")?;
    s.query_name = p.optional_str(sink, "queryName", "sink")?;
    if let Some(cols) = sink.get("partitionBy") {
        s.partition_by = p.string_list(cols, "sink.partitionBy")?;
    }
    if let Some(o) = sink.get("options") {
        s.options = p.string_map(o, "sink.options")?;
        p.check_options(o, &s.options, &s.format, Side::Write, "sink")?;
    }
    if let Some(t) = sink.get("trigger") {
        s.trigger = p.trigger(t)?;
    }
    Ok(pipeline)
}

struct Parser<'a> {
    text: &'a str,
    file: &'a str,
}

impl Parser<'_> {
    /// Rejects an option the built-in `format` does not know, naming the closest known one
    /// (Spark would ignore it silently).
    fn check_options(
        &self,
        item: &Item,
        options: &[(String, String)],
        format: &str,
        side: Side,
        path: &str,
    ) -> Result<()> {
        let given = engine_core::options::Options::new(
            options.iter().map(|(k, v)| (k.as_str(), v.clone())),
        );
        let Some(u) = unknown_options(format, side, &given).into_iter().next() else {
            return Ok(());
        };
        let span = item
            .as_table_like()
            .and_then(|t| t.get_key_value(&u.key))
            .map(|(k, _)| k.span());
        let hint = u
            .closest
            .map(|c| format!("; did you mean `{c}`?"))
            .unwrap_or_default();
        bail!(
            "{}: `{path}.options.{}` is not an option of format `{format}`{hint}",
            self.at(span),
            u.key
        )
    }

    /// `file:line` of a span (or just the file when the span is unknown).
    fn at(&self, span: Option<Option<Range<usize>>>) -> String {
        match span.flatten() {
            Some(r) => {
                let line = self.text[..r.start.min(self.text.len())]
                    .bytes()
                    .filter(|b| *b == b'\n')
                    .count()
                    + 1;
                format!("{}:{line}", self.file)
            }
            None => self.file.to_string(),
        }
    }

    fn item_at(&self, item: &Item) -> String {
        self.at(Some(item.span()))
    }

    fn check_keys(&self, t: &dyn TableLike, path: &str, valid: &[&str]) -> Result<()> {
        for (k, _) in t.iter() {
            if valid.contains(&k) {
                continue;
            }
            let span = t.get_key_value(k).map(|(key, _)| key.span());
            let full = if path.is_empty() {
                k.to_string()
            } else {
                format!("{path}.{k}")
            };
            let hint = closest(k, valid)
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_default();
            bail!(
                "{}: unknown key `{full}`{hint} (valid keys here: {})",
                self.at(span),
                valid.join(", ")
            );
        }
        Ok(())
    }

    fn table<'t>(&self, item: &'t Item, key: &str) -> Result<&'t dyn TableLike> {
        item.as_table_like().ok_or_else(|| {
            anyhow!(
                "{}: `{key}` must be a table (`[{key}]` or `{key} = {{ ... }}`)",
                self.item_at(item)
            )
        })
    }

    fn required_table<'t>(
        &self,
        t: &'t dyn TableLike,
        key: &str,
        _parent: &str,
    ) -> Result<&'t dyn TableLike> {
        match t.get(key) {
            Some(item) => self.table(item, key),
            None => bail!(
                "{}: missing `[{key}]`; a pipeline needs [source.NAME], [query] and [sink]",
                self.file
            ),
        }
    }

    fn required_str(&self, t: &dyn TableLike, key: &str, path: &str) -> Result<String> {
        self.optional_str(t, key, path)?.ok_or_else(|| {
            anyhow!(
                "{}: `{path}` is missing the required key `{key}`",
                self.at(Some(self.table_span(t)))
            )
        })
    }

    fn table_span(&self, t: &dyn TableLike) -> Option<Range<usize>> {
        t.iter()
            .next()
            .and_then(|(k, _)| t.get_key_value(k).and_then(|(key, _)| key.span()))
    }

    fn optional_str(&self, t: &dyn TableLike, key: &str, path: &str) -> Result<Option<String>> {
        match t.get(key) {
            None => Ok(None),
            Some(item) => match item.as_value().and_then(Value::as_str) {
                Some(s) => Ok(Some(s.to_string())),
                None => bail!(
                    "{}: `{path}.{key}` must be a string",
                    self.at(t.get_key_value(key).map(|(k, _)| k.span()))
                ),
            },
        }
    }

    /// A table of scalar values as text: Spark's options are strings, but `maxFilesPerTrigger
    /// = 1` or `header = true` read more naturally in TOML.
    fn string_map(&self, item: &Item, path: &str) -> Result<Vec<(String, String)>> {
        let t = self.table(item, path)?;
        let mut out = Vec::new();
        for (k, v) in t.iter() {
            let text = match v.as_value() {
                Some(Value::String(s)) => s.value().clone(),
                Some(Value::Integer(i)) => i.value().to_string(),
                Some(Value::Float(f)) => f.value().to_string(),
                Some(Value::Boolean(b)) => b.value().to_string(),
                _ => bail!(
                    "{}: `{path}.{k}` must be a string, number or boolean",
                    self.at(t.get_key_value(k).map(|(key, _)| key.span()))
                ),
            };
            out.push((k.to_string(), text));
        }
        Ok(out)
    }

    fn string_list(&self, item: &Item, path: &str) -> Result<Vec<String>> {
        let arr = item.as_value().and_then(Value::as_array).ok_or_else(|| {
            anyhow!(
                "{}: `{path}` must be an array of strings",
                self.item_at(item)
            )
        })?;
        arr.iter()
            .map(|v| {
                v.as_str().map(str::to_string).ok_or_else(|| {
                    anyhow!(
                        "{}: `{path}` must be an array of strings",
                        self.item_at(item)
                    )
                })
            })
            .collect()
    }

    fn watermark(&self, t: &dyn TableLike, path: &str) -> Result<Option<Watermark>> {
        let Some(item) = t.get("watermark") else {
            return Ok(None);
        };
        let key = format!("{path}.watermark");
        let w = self.table(item, &key)?;
        self.check_keys(w, &key, WATERMARK_KEYS)?;
        Ok(Some(Watermark {
            column: self.required_str(w, "column", &key)?,
            delay: self.required_str(w, "delay", &key)?,
        }))
    }

    fn trigger(&self, item: &Item) -> Result<TriggerSpec> {
        let t = self.table(item, "sink.trigger")?;
        self.check_keys(t, "sink.trigger", TRIGGER_KEYS)?;
        let set: Vec<&str> = t.iter().map(|(k, _)| k).collect();
        if set.len() != 1 {
            bail!(
                "{}: `sink.trigger` must set exactly one of {} (found {})",
                self.item_at(item),
                TRIGGER_KEYS.join(", "),
                if set.is_empty() {
                    "none".to_string()
                } else {
                    set.join(", ")
                }
            );
        }
        let flag = |key: &str| -> Result<()> {
            match t.get(key).and_then(Item::as_value).and_then(Value::as_bool) {
                Some(true) => Ok(()),
                _ => bail!(
                    "{}: `sink.trigger.{key}` must be `true` (leave `trigger` out for the default trigger)",
                    self.item_at(item)
                ),
            }
        };
        Ok(match set[0] {
            "processingTime" => TriggerSpec::ProcessingTime(self.required_str(
                t,
                "processingTime",
                "sink.trigger",
            )?),
            "continuous" => {
                TriggerSpec::Continuous(self.required_str(t, "continuous", "sink.trigger")?)
            }
            "once" => {
                flag("once")?;
                TriggerSpec::Once
            }
            _ => {
                flag("availableNow")?;
                TriggerSpec::AvailableNow
            }
        })
    }
}

/// The valid key closest to a misspelt one, if any is close enough to be a likely typo.
fn closest<'a>(key: &str, valid: &[&'a str]) -> Option<&'a str> {
    valid
        .iter()
        .map(|v| {
            (
                strsim::jaro_winkler(&key.to_ascii_lowercase(), &v.to_ascii_lowercase()),
                *v,
            )
        })
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, v)| v)
}

/// A TOML syntax error as `file:line:column: message` and the offending line, which is
/// not quoted when it names a secret option (its value could be the broken part).
fn syntax_error(file: &str, text: &str, e: &toml_edit::TomlError) -> anyhow::Error {
    let message = e.message().trim_end();
    let Some(start) = e.span().map(|s| s.start) else {
        return anyhow!("{file}: {message}");
    };
    let before = text.get(..start).unwrap_or(text);
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line_no = before.matches('\n').count() + 1;
    let column = before
        .get(line_start..)
        .map_or(1, |l| l.chars().count() + 1);
    let rest = text.get(line_start..).unwrap_or_default();
    let line = rest
        .split('\n')
        .next()
        .unwrap_or_default()
        .trim_end_matches('\r');
    let quoted = if engine_core::options::is_secret_key(line) {
        "(the line is not shown: it sets a secret)".to_string()
    } else {
        format!("`{line}`")
    };
    anyhow!("{file}:{line_no}:{column}: {message}: {quoted}")
}

/// Applies one `--set a.b.c=value`: the dotted path names tables of the file, the last part
/// the key; `conf.` takes the rest of the path as one key, since Spark's keys contain dots.
fn apply_override(doc: &mut toml_edit::DocumentMut, spec: &str) -> Result<()> {
    // Errors show the assignment with a secret value redacted.
    let shown = engine_core::options::redact_assignment(spec);
    let (path, value) = spec
        .split_once('=')
        .ok_or_else(|| anyhow!("--set `{shown}`: expected KEY=VALUE, e.g. sink.path=/tmp/out"))?;
    let mut parts: Vec<String> = path.trim().split('.').map(str::to_string).collect();
    // Keys that hold dotted names (Spark conf keys, `kafka.*` options) stay whole.
    if let Some(i) = parts.iter().position(|p| p == "conf" || p == "options")
        && parts.len() > i + 2
    {
        let rest = parts.split_off(i + 1).join(".");
        parts.push(rest);
    }
    let (last, tables) = parts
        .split_last()
        .ok_or_else(|| anyhow!("--set `{shown}`: empty key"))?;
    let mut table: &mut dyn TableLike = doc.as_table_mut();
    for t in tables {
        if table.get(t).is_none() {
            table.insert(t, toml_edit::table());
        }
        let next = table
            .get_mut(t)
            .and_then(Item::as_table_like_mut)
            .ok_or_else(|| anyhow!("--set `{shown}`: `{t}` is not a table in the file"))?;
        table = next;
    }
    // A value that parses as TOML (true, 5, { availableNow = true }) keeps its type;
    // anything else is a string.
    let parsed = value
        .trim()
        .parse::<Value>()
        .unwrap_or_else(|_| Value::from(value.trim()));
    table.insert(last, Item::Value(parsed));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[conf]
"spark.sql.shuffle.partitions" = 4

[source.orders]
format = "kafka"
options = { "kafka.bootstrap.servers" = "127.0.0.1:9092", subscribe = "orders",
            startingOffsets = "earliest", maxOffsetsPerTrigger = 100000 }

[view.parsed]
sql = "SELECT o.* FROM orders"
watermark = { column = "ts", delay = "10 minutes" }

[query]
sql = "SELECT to_json(struct(*)) AS value FROM parsed"

[sink]
format = "kafka"
outputMode = "append"
trigger = { processingTime = "5 seconds" }
checkpointLocation = "/tmp/ckpt/orders"
options = { "kafka.bootstrap.servers" = "127.0.0.1:9092", topic = "items" }
"#;

    #[test]
    fn the_issue_example_parses() {
        let p = parse_pipeline(GOOD, "p.toml").unwrap();
        assert_eq!(
            p.conf,
            vec![("spark.sql.shuffle.partitions".into(), "4".into())]
        );
        assert_eq!(p.sources.len(), 1);
        let s = &p.sources[0];
        assert_eq!((s.name.as_str(), s.format.as_str()), ("orders", "kafka"));
        assert!(
            s.options
                .contains(&("maxOffsetsPerTrigger".into(), "100000".into()))
        );
        assert_eq!(p.views[0].name, "parsed");
        assert_eq!(
            p.views[0].watermark,
            Some(Watermark {
                column: "ts".into(),
                delay: "10 minutes".into()
            })
        );
        assert_eq!(
            p.sink.trigger,
            TriggerSpec::ProcessingTime("5 seconds".into())
        );
        assert_eq!(
            p.sink.checkpoint_location.as_deref(),
            Some("/tmp/ckpt/orders")
        );
    }

    #[test]
    fn unknown_key_names_file_line_and_suggestion() {
        let bad = GOOD.replace("outputMode = \"append\"", "outputmod = \"append\"");
        let e = parse_pipeline(&bad, "p.toml").unwrap_err().to_string();
        assert!(
            e.starts_with("p.toml:19: unknown key `sink.outputmod`"),
            "{e}"
        );
        assert!(e.contains("did you mean `outputMode`?"), "{e}");
    }

    #[test]
    fn missing_required_keys_and_tables_are_named() {
        let e = parse_pipeline(
            &GOOD.replace("format = \"kafka\"\noptions", "options"),
            "p.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("`source.orders` is missing the required key `format`"),
            "{e}"
        );
        let no_sink = &GOOD[..GOOD.find("[sink]").unwrap()];
        let e = parse_pipeline(no_sink, "p.toml").unwrap_err().to_string();
        assert!(e.contains("missing `[sink]`"), "{e}");
    }

    #[test]
    fn bad_values_are_rejected_with_their_line() {
        let e = parse_pipeline(&GOOD.replace("\"append\"", "\"appendix\""), "p.toml")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("p.toml:19:") && e.contains("append, update and complete"),
            "{e}"
        );
        let two = GOOD.replace(
            "processingTime = \"5 seconds\"",
            "processingTime = \"5 seconds\", once = true",
        );
        let e = parse_pipeline(&two, "p.toml").unwrap_err().to_string();
        assert!(e.contains("exactly one of"), "{e}");
        let e = parse_pipeline(
            &GOOD.replace("[query]\nsql = ", "[query]\nsql = 5 #"),
            "p.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("`query.sql` must be a string"), "{e}");
    }

    #[test]
    fn secrets_stay_out_of_errors_and_debug_output() {
        // A syntax error on a line that sets a secret does not quote the line.
        let bad = GOOD.replace(
            "subscribe = \"orders\",",
            "subscribe = \"orders\", \"kafka.sasl.password\" = \"hunter2,",
        );
        let e = parse_pipeline(&bad, "p.toml").unwrap_err().to_string();
        assert!(!e.contains("hunter2") && e.contains("p.toml:"), "{e}");
        // A bad `--set` of a secret does not echo its value.
        let e = parse_pipeline_with(GOOD, "p.toml", &["sink.nope.x.kafka.sasl.password".into()])
            .unwrap_err()
            .to_string();
        assert!(e.contains("expected KEY=VALUE"), "{e}");
        let e = parse_pipeline_with(
            GOOD,
            "p.toml",
            &["sink.format.x.kafka.sasl.password=hunter2".into()],
        )
        .unwrap_err()
        .to_string();
        assert!(!e.contains("hunter2"), "{e}");
        // The parsed pipeline's debug form redacts it.
        let p = parse_pipeline_with(
            GOOD,
            "p.toml",
            &["source.orders.options.kafka.sasl.password=hunter2".into()],
        )
        .unwrap();
        assert!(
            p.sources[0]
                .options
                .iter()
                .any(|(k, v)| k == "kafka.sasl.password" && v == "hunter2")
        );
        assert!(!format!("{p:?}").contains("hunter2"));
    }

    #[test]
    fn misspelt_options_of_built_in_formats_are_errors_naming_the_closest() {
        let bad = GOOD.replace("subscribe = \"orders\"", "subscrbe = \"orders\"");
        let e = parse_pipeline(&bad, "p.toml").unwrap_err().to_string();
        assert!(
            e.contains("`source.orders.options.subscrbe` is not an option of format `kafka`")
                && e.contains("did you mean `subscribe`?")
                && e.starts_with("p.toml:"),
            "{e}"
        );
        let e = parse_pipeline_with(GOOD, "p.toml", &["sink.options.topc=x".into()])
            .unwrap_err()
            .to_string();
        assert!(e.contains("did you mean `topic`?"), "{e}");
        // `kafka.*` options go to the client as they are.
        parse_pipeline_with(GOOD, "p.toml", &["sink.options.kafka.linger.ms=5".into()]).unwrap();
    }

    #[test]
    fn toml_syntax_errors_name_the_file() {
        let e = parse_pipeline("[sink\nformat=1", "p.toml")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("p.toml:1:"), "{e}");
        assert!(e.contains("`[sink`"), "{e}");
    }

    #[test]
    fn overrides_replace_values_and_keep_dotted_keys_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.toml");
        std::fs::write(&path, GOOD).unwrap();
        let p = read_pipeline(
            &path,
            &[
                "sink.checkpointLocation=/other".into(),
                "sink.options.kafka.bootstrap.servers=h:1".into(),
                "conf.spark.sql.session.timeZone=UTC".into(),
                "sink.trigger={ availableNow = true }".into(),
            ],
        )
        .unwrap();
        assert_eq!(p.sink.checkpoint_location.as_deref(), Some("/other"));
        assert!(
            p.sink
                .options
                .contains(&("kafka.bootstrap.servers".into(), "h:1".into()))
        );
        assert!(
            p.conf
                .contains(&("spark.sql.session.timeZone".into(), "UTC".into()))
        );
        assert_eq!(p.sink.trigger, TriggerSpec::AvailableNow);
        let e = read_pipeline(&path, &["nonsense".into()])
            .unwrap_err()
            .to_string();
        assert!(e.contains("expected KEY=VALUE"), "{e}");
    }
}
