//! Session configuration: Spark's keys, Spark's defaults, typed getters.

use std::collections::BTreeMap;

use crate::{EngineError, Result};

use crate::expr::function::FunctionContext;
use crate::format::parse_time_zone;

/// `spark.sql.shuffle.partitions`: fan-out of exchanges (Spark's default 200).
pub const SHUFFLE_PARTITIONS: &str = "spark.sql.shuffle.partitions";
/// `spark.sql.ansi.enabled`: Spark 4 default `true`.
pub const ANSI_ENABLED: &str = "spark.sql.ansi.enabled";
/// `spark.sql.session.timeZone`: default the machine's zone, as in Spark (we use `UTC`
/// unless `TZ` names a zone, since containers rarely set one).
pub const SESSION_TIME_ZONE: &str = "spark.sql.session.timeZone";
/// `spark.master`: `local`, `local[N]` or `local[*]`.
pub const MASTER: &str = "spark.master";
/// `spark.app.name`.
pub const APP_NAME: &str = "spark.app.name";
/// `spark.sql.caseSensitive`: name resolution ignores case unless true (default false).
pub const CASE_SENSITIVE: &str = "spark.sql.caseSensitive";
/// Rows per batch produced by scans (Arrow-native engines batch; Spark has a similar knob
/// for Arrow transfers: `spark.sql.execution.arrow.maxRecordsPerBatch`, default 10000).
pub const BATCH_SIZE: &str = "spark.sql.execution.arrow.maxRecordsPerBatch";

pub use crate::options::parse_bool;

/// Session configuration: string keys and values, as Spark's `RuntimeConfig`. The `Debug`
/// form redacts secrets (`spark.hadoop.fs.s3a.secret.key`, ...), as Spark's UI does.
#[derive(Clone, Default, PartialEq)]
pub struct SessionConf {
    values: BTreeMap<String, String>,
}

impl std::fmt::Debug for SessionConf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionConf")
            .field("values", &crate::options::redacted(&self.values))
            .finish()
    }
}

impl SessionConf {
    /// An empty configuration (every key at its default).
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `key` to `value`.
    pub fn set(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.values.insert(key.into(), value.into());
    }

    /// Removes `key`, restoring its default.
    pub fn unset(&mut self, key: &str) {
        self.values.remove(key);
    }

    /// The value of `key` if set.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.values.get(key).map(String::as_str)
    }

    /// Every explicitly set key and value.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &str)> {
        self.values.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// `options` plus every `spark.*` setting of this session the options do not set
    /// themselves: connectors see only their options, yet must honour the session (time
    /// zone of text timestamps, split sizes, producer cache timeouts). Spark hands its
    /// connectors the session the same way, through `SQLConf`.
    pub fn with_session_settings(
        &self,
        options: &crate::options::Options,
    ) -> crate::options::Options {
        let mut merged = options.clone();
        for (k, v) in self.entries() {
            if k.starts_with("spark.") && options.get(k).is_none() {
                merged.set(k, v);
            }
        }
        merged
    }

    /// A boolean setting, or `default` when unset.
    pub fn get_bool(&self, key: &str, default: bool) -> Result<bool> {
        self.get(key).map_or(Ok(default), |v| parse_bool(key, v))
    }

    /// A positive integer setting, or `default` when unset.
    pub fn get_usize(&self, key: &str, default: usize) -> Result<usize> {
        match self.get(key) {
            None => Ok(default),
            Some(v) => v
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| {
                    EngineError::invalid_option(
                        key,
                        format!("expected a positive integer, got `{v}`"),
                    )
                }),
        }
    }

    /// `spark.sql.shuffle.partitions` (default 200).
    pub fn shuffle_partitions(&self) -> Result<usize> {
        self.get_usize(SHUFFLE_PARTITIONS, 200)
    }

    /// `spark.sql.ansi.enabled` (default true, Spark 4).
    pub fn ansi(&self) -> Result<bool> {
        self.get_bool(ANSI_ENABLED, true)
    }

    /// Rows per batch (default 8192).
    pub fn batch_size(&self) -> usize {
        self.get_usize(BATCH_SIZE, 8192).unwrap_or(8192)
    }

    /// The session time zone.
    pub fn time_zone(&self) -> Result<chrono_tz::Tz> {
        let id = match self.get(SESSION_TIME_ZONE) {
            Some(v) => v.to_string(),
            None => std::env::var("TZ").unwrap_or_else(|_| "UTC".into()),
        };
        parse_time_zone(&id).ok_or_else(|| {
            EngineError::invalid_option(
                SESSION_TIME_ZONE,
                format!("`{id}` is not a time zone id; use a region id such as `UTC` or `Europe/Berlin`, or an offset such as `+02:00`"),
            )
        })
    }

    /// Worker threads from `spark.master` (`local` = 1, `local[N]`, `local[*]` = all cores).
    pub fn worker_threads(&self) -> Result<usize> {
        let master = self.get(MASTER).unwrap_or("local[*]").trim();
        let cores = || std::thread::available_parallelism().map_or(1, |n| n.get());
        if master == "local" {
            return Ok(1);
        }
        let inner = master
            .strip_prefix("local[")
            .and_then(|r| r.strip_suffix(']'))
            .ok_or_else(|| {
                EngineError::invalid_option(
                    MASTER,
                    format!("`{master}` is not supported; use `local`, `local[N]` or `local[*]`"),
                )
            })?;
        if inner == "*" {
            return Ok(cores());
        }
        inner
            .parse::<usize>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| {
                EngineError::invalid_option(
                    MASTER,
                    format!("`{master}`: N in local[N] must be a positive integer"),
                )
            })
    }

    /// The function context for a query starting now.
    pub fn function_context(&self) -> Result<FunctionContext> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_micros() as i64)
            .unwrap_or(0);
        Ok(FunctionContext {
            time_zone: self.time_zone()?,
            ansi: self.ansi()?,
            query_start_micros: now,
            malformed_records: Default::default(),
        })
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn secret_settings_are_redacted_in_debug_output() {
        let mut c = super::SessionConf::new();
        c.set("spark.hadoop.fs.s3a.secret.key", "hunter2");
        c.set("spark.sql.shuffle.partitions", "4");
        let shown = format!("{c:?}");
        assert!(!shown.contains("hunter2") && shown.contains('4'), "{shown}");
    }

    #[test]
    fn connectors_see_session_settings_their_options_do_not_override() {
        let mut conf = SessionConf::default();
        conf.set("spark.sql.session.timeZone", "Europe/Paris");
        conf.set("spark.sql.files.maxPartitionBytes", "1024");
        let options = crate::options::Options::new([
            ("spark.sql.files.maxPartitionBytes", "2048"),
            ("path", "/x"),
        ]);
        let merged = conf.with_session_settings(&options);
        assert_eq!(
            merged.get("spark.sql.session.timeZone"),
            Some("Europe/Paris")
        );
        assert_eq!(
            merged.get("spark.sql.files.maxPartitionBytes"),
            Some("2048")
        );
        assert_eq!(merged.get("path"), Some("/x"));
    }

    use super::*;

    #[test]
    fn defaults_follow_spark_4() {
        let c = SessionConf::new();
        assert_eq!(c.shuffle_partitions().unwrap(), 200);
        assert!(c.ansi().unwrap());
    }

    #[test]
    fn master_parses() {
        let mut c = SessionConf::new();
        c.set(MASTER, "local[3]");
        assert_eq!(c.worker_threads().unwrap(), 3);
        c.set(MASTER, "local");
        assert_eq!(c.worker_threads().unwrap(), 1);
        c.set(MASTER, "yarn");
        let e = c.worker_threads().unwrap_err().to_string();
        assert!(e.contains("spark.master"), "{e}");
    }

    #[test]
    fn bad_values_name_the_key() {
        let mut c = SessionConf::new();
        c.set(SHUFFLE_PARTITIONS, "zero");
        let e = c.shuffle_partitions().unwrap_err().to_string();
        assert!(e.contains(SHUFFLE_PARTITIONS), "{e}");
    }
}
