//! Printing query results: Spark's `show` table, JSON lines or CSV.

use std::io::Write;

use anyhow::Result;
use clap::ValueEnum;
use engine_sql::dataframe::DataFrame;
use engine_sql::datasource::options::Options;
use engine_sql::datasource::writer::{SaveMode, WriteSpec, write_json_lines};
use engine_sql::format::value_to_string;

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Spark's `show()` table.
    Table,
    /// One JSON object per row; NULL fields omitted, as Spark's JSON writer does.
    Json,
    /// CSV with a header line; NULL as an empty field.
    Csv,
}

/// Prints `df` in `format`; commands with no columns print nothing.
pub fn print_dataframe(
    out: &mut impl Write,
    df: &DataFrame,
    format: OutputFormat,
    num_rows: usize,
) -> Result<()> {
    let names = df.columns()?;
    if names.is_empty() {
        return Ok(());
    }
    match format {
        OutputFormat::Table => write!(out, "{}", df.show_string(num_rows, 20)?)?,
        OutputFormat::Json => {
            // The engine's JSON writer follows Spark's conventions (NULL fields omitted,
            // ISO-8601 timestamps in the session zone).
            let spec = WriteSpec {
                format: "json".into(),
                options: Options::default(),
                mode: SaveMode::Append,
                partition_by: vec![],
                time_zone: df.session().conf().time_zone()?,
            };
            write_json_lines(&mut *out, &df.collect()?, &spec)?;
        }
        OutputFormat::Csv => {
            let tz = df.session().conf().time_zone()?;
            writeln!(
                out,
                "{}",
                names
                    .iter()
                    .map(|n| csv_field(n))
                    .collect::<Vec<_>>()
                    .join(",")
            )?;
            for batch in df.collect()? {
                for r in 0..batch.num_rows() {
                    let fields: Vec<String> = batch
                        .columns()
                        .iter()
                        .map(|c| {
                            value_to_string(c.as_ref(), r, &tz)
                                .map(|v| csv_field(&v))
                                .unwrap_or_default()
                        })
                        .collect();
                    writeln!(out, "{}", fields.join(","))?;
                }
            }
        }
    }
    Ok(())
}

fn csv_field(v: &str) -> String {
    if v.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v.to_string()
    }
}
