//! `sstream sql`: run SQL text.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;
use engine_sql::session::Session;

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

/// Splits `text` into statements at `;` outside quotes and comments.
pub fn split_statements(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = text.chars().peekable();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        match quote {
            Some(q) => {
                cur.push(c);
                if c == '\\' {
                    if let Some(n) = chars.next() {
                        cur.push(n);
                    }
                } else if c == q {
                    quote = None;
                }
            }
            None => match c {
                '\'' | '"' | '`' => {
                    quote = Some(c);
                    cur.push(c);
                }
                '-' if chars.peek() == Some(&'-') => {
                    for n in chars.by_ref() {
                        if n == '\n' {
                            cur.push('\n');
                            break;
                        }
                    }
                }
                ';' => out.push(std::mem::take(&mut cur)),
                c => cur.push(c),
            },
        }
    }
    out.push(cur);
    out.into_iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_outside_quotes_and_comments() {
        let s = split_statements("SELECT ';' AS a; -- x; y\nSELECT 2;;");
        assert_eq!(s, vec!["SELECT ';' AS a", "SELECT 2"]);
    }
}
