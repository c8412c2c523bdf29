//! Actions that print: `show`, `print_schema`, `explain`; and rows for programs.

use arrow::record_batch::RecordBatch;
use engine_core::Result;

use super::DataFrame;
use engine_core::format::value_to_string;
use engine_core::physical::plan::display_tree;
use engine_core::scalar::ScalarValue;
use engine_core::types::{schema_tree_string, simple_string};

/// One result row: values in column order.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The values.
    pub values: Vec<ScalarValue>,
}

impl Row {
    /// The values' Spark display text (`NULL` for a null, as `show` prints it) joined by
    /// `sep`: a one-line form of the row for printing and for comparing results in tests.
    ///
    /// ```
    /// use engine_sql::prelude::*;
    ///
    /// let spark = Session::builder().master("local[1]").build()?;
    /// let df = spark.sql("SELECT 1 AS id, 'a' AS name, CAST(NULL AS DOUBLE) AS score, 2.5D AS x")?;
    /// let rows: Vec<String> = df.collect_rows()?.iter().map(|r| r.join("|")).collect();
    /// assert_eq!(rows, ["1|a|NULL|2.5"]);
    /// # Ok::<(), engine_core::EngineError>(())
    /// ```
    pub fn join(&self, sep: &str) -> String {
        self.values
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(sep)
    }
}

impl DataFrame {
    /// Runs the query and returns its rows (for small results).
    pub fn collect_rows(&self) -> Result<Vec<Row>> {
        let batches = self.collect()?;
        let mut rows = Vec::new();
        for b in &batches {
            for r in 0..b.num_rows() {
                let values = b
                    .columns()
                    .iter()
                    .map(|c| ScalarValue::try_from_array(c.as_ref(), r))
                    .collect::<Result<Vec<_>>>()?;
                rows.push(Row { values });
            }
        }
        Ok(rows)
    }

    /// The text `show(n, truncate)` prints: Spark's ASCII table, values truncated to
    /// `truncate` characters when it is positive (right-aligned then, left-aligned when 0).
    pub fn show_string(&self, n: usize, truncate: usize) -> Result<String> {
        let batches = self.limit(n + 1)?.collect()?;
        let names = self.columns()?;
        let tz = self.session().conf().time_zone()?;
        let mut rows: Vec<Vec<String>> = Vec::new();
        for b in &batches {
            for r in 0..b.num_rows() {
                rows.push(
                    b.columns()
                        .iter()
                        .map(|c| {
                            value_to_string(c.as_ref(), r, &tz).unwrap_or_else(|| "NULL".into())
                        })
                        .collect(),
                );
            }
        }
        let has_more = rows.len() > n;
        rows.truncate(n);
        Ok(render_table(&names, &rows, truncate, has_more, n))
    }

    /// Prints the first `n` rows as Spark's `df.show(n, truncate)` does.
    pub fn show(&self, n: usize, truncate: usize) -> Result<()> {
        print!("{}", self.show_string(n, truncate)?);
        Ok(())
    }

    /// Spark's `printSchema` text (`root` then one ` |-- name: type (nullable = ...)` line per
    /// field, nested types indented).
    pub fn schema_tree_string(&self) -> Result<String> {
        Ok(schema_tree_string(
            self.schema()?.fields().iter().map(|f| f.as_ref()),
        ))
    }

    /// Prints [`DataFrame::schema_tree_string`].
    pub fn print_schema(&self) -> Result<()> {
        print!("{}", self.schema_tree_string()?);
        Ok(())
    }

    /// The text of `explain(extended)`: the physical plan, or with `extended` the parsed,
    /// analyzed, optimized and physical plans as Spark prints them.
    pub fn explain_string(&self, extended: bool) -> Result<String> {
        let ctx = self.session().task_context()?;
        // Optimize once: the physical plan and the "Optimized" section show the same plan.
        let optimized = self.optimized_plan()?;
        let physical = display_tree(&engine_core::physical::planner::create_physical_plan(
            &optimized, &ctx,
        )?);
        if !extended {
            return Ok(format!("== Physical Plan ==\n{physical}\n"));
        }
        let schema = self.schema()?;
        let header: Vec<String> = schema
            .fields()
            .iter()
            .map(|f| format!("{}: {}", f.name(), simple_string(f.data_type())))
            .collect();
        Ok(format!(
            "== Parsed Logical Plan ==\n{}\n\n== Analyzed Logical Plan ==\n{}\n{}\n\n== Optimized Logical Plan ==\n{}\n\n== Physical Plan ==\n{}\n",
            self.parsed_plan().display_tree(),
            header.join(", "),
            self.logical_plan().display_tree(),
            optimized.display_tree(),
            physical
        ))
    }

    /// Prints [`DataFrame::explain_string`].
    pub fn explain(&self, extended: bool) -> Result<()> {
        print!("{}", self.explain_string(extended)?);
        Ok(())
    }

    /// The first `n` rows as batches.
    pub fn head(&self, n: usize) -> Result<Vec<RecordBatch>> {
        self.limit(n)?.collect()
    }
}

/// Display width of a string: East Asian wide characters take two columns, as in Spark.
fn width(s: &str) -> usize {
    s.chars()
        .map(|c| {
            let cp = c as u32;
            let wide = (0x1100..=0x115F).contains(&cp)
                || (0x2E80..=0xA4CF).contains(&cp)
                || (0xAC00..=0xD7A3).contains(&cp)
                || (0xF900..=0xFAFF).contains(&cp)
                || (0xFE30..=0xFE4F).contains(&cp)
                || (0xFF00..=0xFF60).contains(&cp)
                || (0xFFE0..=0xFFE6).contains(&cp);
            if wide { 2 } else { 1 }
        })
        .sum()
}

fn truncate_cell(s: &str, truncate: usize) -> String {
    let len = s.chars().count();
    if truncate == 0 || len <= truncate {
        return s.to_string();
    }
    if truncate < 4 {
        s.chars().take(truncate).collect()
    } else {
        let head: String = s.chars().take(truncate - 3).collect();
        format!("{head}...")
    }
}

fn render_table(
    names: &[String],
    rows: &[Vec<String>],
    truncate: usize,
    has_more: bool,
    n: usize,
) -> String {
    let header: Vec<String> = names.iter().map(|h| truncate_cell(h, truncate)).collect();
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.iter().map(|c| truncate_cell(c, truncate)).collect())
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| width(h).max(3)).collect();
    for r in &cells {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(width(c));
        }
    }
    let sep: String = {
        let mut s = String::from("+");
        for w in &widths {
            s.push_str(&"-".repeat(*w));
            s.push('+');
        }
        s.push('\n');
        s
    };
    let line = |cells: &[String]| -> String {
        let mut s = String::from("|");
        for (c, w) in cells.iter().zip(&widths) {
            let pad = " ".repeat(w - width(c));
            if truncate > 0 {
                s.push_str(&pad);
                s.push_str(c);
            } else {
                s.push_str(c);
                s.push_str(&pad);
            }
            s.push('|');
        }
        s.push('\n');
        s
    };
    let mut out = String::new();
    out.push_str(&sep);
    out.push_str(&line(&header));
    out.push_str(&sep);
    for r in &cells {
        out.push_str(&line(r));
    }
    out.push_str(&sep);
    if has_more {
        out.push_str(&format!(
            "only showing top {n} {}\n",
            if n == 1 { "row" } else { "rows" }
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_matches_spark_layout() {
        let t = render_table(
            &["a".into(), "name".into()],
            &[
                vec!["1".into(), "hello".into()],
                vec!["22".into(), "NULL".into()],
            ],
            20,
            true,
            2,
        );
        assert_eq!(
            t,
            "+---+-----+\n|  a| name|\n+---+-----+\n|  1|hello|\n| 22| NULL|\n+---+-----+\nonly showing top 2 rows\n"
        );
    }

    #[test]
    fn long_values_truncate_with_dots() {
        assert_eq!(
            truncate_cell("abcdefghijklmnopqrstuvwxyz", 20),
            "abcdefghijklmnopq..."
        );
        assert_eq!(truncate_cell("abcdef", 3), "abc");
        assert_eq!(truncate_cell("abcdef", 0), "abcdef");
    }

    #[test]
    fn left_aligned_without_truncation() {
        let t = render_table(&["col".into()], &[vec!["x".into()]], 0, false, 20);
        assert_eq!(t, "+---+\n|col|\n+---+\n|x  |\n+---+\n");
    }
}
