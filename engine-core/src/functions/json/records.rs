//! JSON records decoded into the rows of a STRUCT with Spark's parse modes: what `from_json`
//! and the JSON file reader share, so a record means the same to both.
//!
//! A record is one JSON object (a row); for the file reader a top-level array of objects is
//! one row per element, as Spark reads it. A record that is not JSON, or whose value does
//! not fit its field's type, is malformed: PERMISSIVE keeps the row (the fields that were
//! read, Spark 4's partial results; all NULL after a syntax error) and puts the raw text in
//! the corrupt-record column when the schema has one; DROPMALFORMED removes it; FAILFAST is
//! left to the caller, which knows where the record came from.

use arrow::array::StructArray;
use arrow::datatypes::Fields;

use super::decoder::{Fail, JsonParseOptions, PResult, Parser, StructCol};
use crate::Result;
use crate::options::ParseMode;

/// Rows decoded so far.
#[derive(Debug)]
pub struct Records {
    root: StructCol,
    mode: ParseMode,
    arrays_as_rows: bool,
}

impl Records {
    /// Rows of `fields`; `corrupt` names the corrupt-record field (a STRING field of
    /// `fields`) that PERMISSIVE fills with malformed records; with `arrays_as_rows` a
    /// top-level array of objects gives one row per element.
    pub fn new(
        fields: &Fields,
        corrupt: Option<&str>,
        mode: ParseMode,
        arrays_as_rows: bool,
    ) -> Self {
        let corrupt = corrupt.filter(|_| mode == ParseMode::Permissive);
        Records {
            root: StructCol::new(fields, corrupt),
            mode,
            arrays_as_rows,
        }
    }

    /// A NULL row (`from_json` of NULL or blank text).
    pub fn push_null(&mut self) {
        self.root.push_null();
    }

    /// Decodes one record; returns whether it was malformed. Blank text is a NULL row.
    pub fn push(&mut self, record: &[u8], options: &JsonParseOptions) -> bool {
        let start = self.root.len();
        let mut p = Parser::new(record, options);
        if p.at_end() {
            self.root.push_null();
            return false;
        }
        let r = match p.peek() {
            Some(b'{') => p.object(&mut self.root),
            Some(b'[') if self.arrays_as_rows => array_rows(&mut p, &mut self.root),
            _ => Err(Fail::Syntax),
        };
        let malformed = match r {
            Ok(()) => p.bad,
            Err(Fail::Convert) => true,
            Err(Fail::Syntax) => {
                // Nothing of a record that is not JSON is kept.
                self.root.truncate_rows(start);
                self.root.push_all_null();
                true
            }
        };
        if malformed {
            match self.mode {
                ParseMode::DropMalformed => self.root.truncate_rows(start),
                ParseMode::Permissive if self.root.has_corrupt() => {
                    // One row per record unless an array expanded; mark the last one.
                    self.root
                        .set_corrupt(Some(&String::from_utf8_lossy(record)));
                }
                _ => {}
            }
        }
        malformed
    }

    /// How many rows there are.
    pub fn len(&self) -> usize {
        self.root.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The rows as a struct array; the decoder is left empty.
    pub fn finish(&mut self) -> Result<StructArray> {
        self.root.finish()
    }
}

/// `[{...}, {...}]`: one row per object.
fn array_rows(p: &mut Parser<'_>, root: &mut StructCol) -> PResult<()> {
    p.expect(b'[')?;
    p.ws()?;
    if p.peek() == Some(b']') {
        p.i += 1;
        return Ok(());
    }
    let mut converted = false;
    loop {
        p.ws()?;
        if p.peek() != Some(b'{') {
            return Err(Fail::Syntax);
        }
        match p.object(root) {
            Ok(()) => {}
            Err(Fail::Convert) => converted = true,
            Err(Fail::Syntax) => return Err(Fail::Syntax),
        }
        p.ws()?;
        match p.peek() {
            Some(b',') => p.i += 1,
            Some(b']') => {
                p.i += 1;
                return if converted {
                    Err(Fail::Convert)
                } else {
                    Ok(())
                };
            }
            _ => return Err(Fail::Syntax),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use arrow::array::{Array, AsArray};
    use arrow::datatypes::{DataType, Field, Int32Type};

    fn fields() -> Fields {
        Fields::from(vec![
            Field::new("a", DataType::Int32, true),
            Field::new("b", DataType::Utf8, true),
            Field::new("_corrupt_record", DataType::Utf8, true),
        ])
    }

    #[test]
    fn modes_keep_drop_or_report() {
        let o = JsonParseOptions::default();
        let input: [&[u8]; 4] = [
            br#"{"a":1,"b":"x"}"#,
            br#"{"a":"no","b":"y"}"#,
            b"{oops",
            b"[{\"a\":2},{\"a\":3}]",
        ];
        let mut r = Records::new(
            &fields(),
            Some("_corrupt_record"),
            ParseMode::Permissive,
            true,
        );
        let bad: Vec<bool> = input.iter().map(|t| r.push(t, &o)).collect();
        assert_eq!(bad, [false, true, true, false]);
        let s = r.finish().unwrap();
        assert_eq!(s.len(), 5);
        let a = s.column(0).as_primitive::<Int32Type>();
        assert!(a.is_null(1) && a.is_null(2));
        assert_eq!((a.value(3), a.value(4)), (2, 3));
        // Partial results: `b` of the record whose `a` did not convert is kept.
        assert_eq!(s.column(1).as_string::<i32>().value(1), "y");
        let c = s.column(2).as_string::<i32>();
        assert_eq!(c.value(2), "{oops");
        assert!(c.is_null(0) && c.is_null(3));

        let mut r = Records::new(&fields(), None, ParseMode::DropMalformed, false);
        for t in input {
            r.push(t, &o);
        }
        assert_eq!(r.finish().unwrap().len(), 1);
    }
}
