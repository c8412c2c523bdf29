//! `sstream sql`: run SQL text.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;
use engine_sql::session::Session;
use engine_sql::sql::parser::split_statements;

use crate::output::{OutputFormat, print_dataframe};

/// Arguments of `sstream sql`.
#[derive(Debug, Args)]
pub struct SqlArgs {
    /// SQL statements separated by `;`.
    #[arg(short = 'e', long = "execute", conflicts_with = "file")]
    execute: Option<String>,
    /// A file of SQL statements separated by `;`.
    #[arg(short = 'f', long = "file")]
    file: Option<PathBuf>,
    /// How to print query results.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    output: OutputFormat,
    /// Session configuration, e.g. `--conf spark.sql.shuffle.partitions=8`.
    #[arg(long = "conf", value_name = "KEY=VALUE")]
    conf: Vec<String>,
    /// Rows to show per result in table mode.
    #[arg(long, default_value_t = 20)]
    num_rows: usize,
}

/// Builds a session from `--conf KEY=VALUE` pairs.
pub fn session_with(conf: &[String]) -> Result<Session> {
    let mut b = Session::builder().app_name("sstream");
    for kv in conf {
        let (k, v) = kv
            .split_once('=')
            .with_context(|| format!("--conf `{kv}`: expected KEY=VALUE"))?;
        b = b.config(k.trim(), v.trim());
    }
    Ok(b.build()?)
}

/// Runs `sstream sql`.
pub fn run(args: SqlArgs) -> Result<()> {
    let text = match (&args.execute, &args.file) {
        (Some(e), _) => e.clone(),
        (None, Some(f)) => std::fs::read_to_string(f)
            .with_context(|| format!("reading SQL file {}", f.display()))?,
        (None, None) => bail!("give SQL with -e \"...\" or a file with -f FILE"),
    };
    let session = session_with(&args.conf)?;
    let mut out = std::io::stdout().lock();
    for stmt in split_statements(&text) {
        let df = session.sql(&stmt)?;
        print_dataframe(&mut out, &df, args.output, args.num_rows)?;
    }
    Ok(())
}
