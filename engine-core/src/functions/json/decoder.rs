//! The schema-driven JSON decoder behind `from_json`: parses a batch of JSON texts straight
//! into Arrow column buffers, without an intermediate tree (`serde_json::Value`) per row.
//!
//! One pass per record: the parser walks the bytes and appends each value to the column
//! buffer of the schema field it belongs to (fields are matched by name, the next schema
//! field is tried first since producers usually keep the order). Every buffer can be
//! truncated back to a row boundary, so a record that turns out malformed half-way is
//! rolled back in O(1) per column and re-emitted as Spark's PERMISSIVE result; valid input
//! never pays for the error path.
//!
//! Semantics follow Spark's `JacksonParser`: a value of the wrong JSON kind for its field
//! (a string for an INT, a number out of range) makes that field NULL and the record
//! "bad" (partial result, the other fields kept); a syntax error makes the whole record
//! bad (all fields NULL). Text after the first complete value is ignored, as in Spark.

use std::sync::Arc;

use crate::{EngineError, Result};
use arrow::array::{
    ArrayRef, BooleanArray, Date32Array, Decimal128Array, Float32Array, Float64Array, Int8Array,
    Int16Array, Int32Array, Int64Array, ListArray, MapArray, NullArray, StringArray, StructArray,
    TimestampMicrosecondArray, new_null_array,
};
use arrow::buffer::{NullBuffer, OffsetBuffer, ScalarBuffer};
use arrow::datatypes::{DataType, FieldRef, Fields};
use chrono_tz::Tz;

use super::swar::special_mask;
use crate::datetime_text;
use crate::functions::datetime_format::{DateTimePattern, days_from_date};

/// Jackson-style parser features and value formats (Spark's JSON options).
#[derive(Debug, Clone)]
pub struct JsonParseOptions {
    /// `allowComments` (default false): `/* */` and `//` comments.
    pub allow_comments: bool,
    /// `allowUnquotedFieldNames` (default false).
    pub allow_unquoted_field_names: bool,
    /// `allowSingleQuotes` (default true).
    pub allow_single_quotes: bool,
    /// `allowNumericLeadingZeros` (default false): `007`.
    pub allow_numeric_leading_zeros: bool,
    /// `allowNonNumericNumbers` (default true): `NaN`, `Infinity`, `-Infinity`.
    pub allow_non_numeric_numbers: bool,
    /// `allowBackslashEscapingAnyCharacter` (default false).
    pub allow_backslash_escaping_any: bool,
    /// `allowUnquotedControlChars` (default false).
    pub allow_unquoted_control_chars: bool,
    /// `timestampFormat`; `None`: Spark's default (ISO 8601 with fallbacks).
    pub timestamp_format: Option<Arc<DateTimePattern>>,
    /// `dateFormat`; `None`: Spark's default `yyyy-MM-dd` with fallbacks.
    pub date_format: Option<Arc<DateTimePattern>>,
    /// The session time zone (zone-less timestamps are read in it).
    pub time_zone: Tz,
    /// The query's start, µs since the epoch: a time without a date is on its date.
    pub now_micros: i64,
}

impl Default for JsonParseOptions {
    fn default() -> Self {
        JsonParseOptions {
            allow_comments: false,
            allow_unquoted_field_names: false,
            allow_single_quotes: true,
            allow_numeric_leading_zeros: false,
            allow_non_numeric_numbers: true,
            allow_backslash_escaping_any: false,
            allow_unquoted_control_chars: false,
            timestamp_format: None,
            date_format: None,
            time_zone: Tz::UTC,
            now_micros: datetime_text::now_micros(),
        }
    }
}

/// Why a value could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fail {
    /// Not JSON: the record is malformed as a whole.
    Syntax,
    /// Valid JSON of the wrong kind or range for the field: the field becomes NULL.
    Convert,
}

pub(crate) type PResult<T> = std::result::Result<T, Fail>;

// ---------------------------------------------------------------------------------------
// Column buffers
// ---------------------------------------------------------------------------------------

#[derive(Debug)]
pub(crate) struct Prim<T> {
    v: Vec<T>,
    ok: Vec<bool>,
}

impl<T: Copy + Default> Prim<T> {
    fn new() -> Self {
        Prim {
            v: Vec::new(),
            ok: Vec::new(),
        }
    }
    #[inline]
    fn push(&mut self, x: T) {
        self.v.push(x);
        self.ok.push(true);
    }
    #[inline]
    fn push_null(&mut self) {
        self.v.push(T::default());
        self.ok.push(false);
    }
    fn truncate(&mut self, n: usize) {
        self.v.truncate(n);
        self.ok.truncate(n);
    }
    fn take(&mut self) -> (ScalarBuffer<T>, Option<NullBuffer>)
    where
        T: arrow::datatypes::ArrowNativeType,
    {
        let v = std::mem::take(&mut self.v);
        let ok = std::mem::take(&mut self.ok);
        (ScalarBuffer::from(v), nulls(ok))
    }
}

fn nulls(ok: Vec<bool>) -> Option<NullBuffer> {
    if ok.iter().all(|b| *b) {
        None
    } else {
        Some(NullBuffer::from(ok))
    }
}

#[derive(Debug)]
pub(crate) struct StrCol {
    off: Vec<i32>,
    data: Vec<u8>,
    ok: Vec<bool>,
}

impl StrCol {
    fn new() -> Self {
        StrCol {
            off: vec![0],
            data: Vec::new(),
            ok: Vec::new(),
        }
    }
    #[inline]
    fn commit(&mut self) {
        self.off.push(self.data.len() as i32);
        self.ok.push(true);
    }
    #[inline]
    fn push_null(&mut self) {
        self.off.push(self.data.len() as i32);
        self.ok.push(false);
    }
    fn truncate(&mut self, n: usize) {
        self.ok.truncate(n);
        self.off.truncate(n + 1);
        let end = self.off.last().copied().unwrap_or(0) as usize;
        self.data.truncate(end);
    }
    /// Drops bytes appended since the last committed value.
    fn rollback_pending(&mut self) {
        let end = self.off.last().copied().unwrap_or(0) as usize;
        self.data.truncate(end);
    }
    fn finish(&mut self) -> Result<StringArray> {
        let off = std::mem::replace(&mut self.off, vec![0]);
        let data = std::mem::take(&mut self.data);
        let ok = std::mem::take(&mut self.ok);
        // Every pushed value is UTF-8: copied from UTF-8 input or decoded escapes.
        Ok(StringArray::try_new(
            OffsetBuffer::new(ScalarBuffer::from(off)),
            data.into(),
            nulls(ok),
        )?)
    }
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum IntKind {
    I8,
    I16,
    I32,
    I64,
}

impl IntKind {
    fn range(self) -> (i64, i64) {
        match self {
            // Jackson's `getByteValue` takes -128..=255 and wraps (255 is -1), as Spark gets.
            IntKind::I8 => (i64::from(i8::MIN), i64::from(u8::MAX)),
            IntKind::I16 => (i64::from(i16::MIN), i64::from(i16::MAX)),
            IntKind::I32 => (i64::from(i32::MIN), i64::from(i32::MAX)),
            IntKind::I64 => (i64::MIN, i64::MAX),
        }
    }
}

/// A column being built, one variant per supported Arrow type.
#[derive(Debug)]
pub(crate) enum Col {
    Null(usize),
    Bool(Prim<bool>),
    Int(Prim<i64>, IntKind),
    Float(Prim<f64>, bool),
    Decimal(Prim<i128>, u8, i8),
    Str(StrCol),
    Timestamp(Prim<i64>, DataType),
    Date(Prim<i32>),
    List(Box<ListCol>),
    Map(Box<MapCol>),
    Struct(StructCol),
    /// Types without a direct reader (binary, intervals, ...): kept as text and cast.
    Cast(StrCol, DataType),
}

#[derive(Debug)]
pub(crate) struct ListCol {
    off: Vec<i32>,
    ok: Vec<bool>,
    child: Col,
    field: FieldRef,
}

#[derive(Debug)]
pub(crate) struct MapCol {
    off: Vec<i32>,
    ok: Vec<bool>,
    keys: Col,
    values: Col,
    entries: FieldRef,
    sorted: bool,
}

#[derive(Debug)]
pub(crate) struct StructCol {
    fields: Fields,
    names: Vec<Vec<u8>>,
    children: Vec<Col>,
    ok: Vec<bool>,
    /// Index of the corrupt-record column (root only): never matched to a JSON key.
    corrupt: Option<usize>,
}

impl StructCol {
    pub(crate) fn new(fields: &Fields, corrupt: Option<&str>) -> Self {
        StructCol {
            names: fields
                .iter()
                .map(|f| f.name().as_bytes().to_vec())
                .collect(),
            children: fields.iter().map(|f| Col::new(f.data_type())).collect(),
            fields: fields.clone(),
            ok: Vec::new(),
            corrupt: corrupt.and_then(|c| {
                fields
                    .iter()
                    .position(|f| f.name() == c && f.data_type() == &DataType::Utf8)
            }),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.ok.len()
    }

    pub(crate) fn truncate_rows(&mut self, n: usize) {
        self.ok.truncate(n);
        for c in &mut self.children {
            c.truncate(n);
        }
    }

    /// A NULL struct.
    pub(crate) fn push_null(&mut self) {
        self.ok.push(false);
        for c in &mut self.children {
            c.push_null();
        }
    }

    /// A valid struct whose fields are all NULL (Spark's result for a malformed record).
    pub(crate) fn push_all_null(&mut self) {
        self.ok.push(true);
        for c in &mut self.children {
            c.push_null();
        }
    }

    /// Sets the corrupt-record column of the last row.
    pub(crate) fn set_corrupt(&mut self, raw: Option<&str>) {
        if let Some(i) = self.corrupt
            && let Col::Str(s) = &mut self.children[i]
        {
            let row = self.ok.len().saturating_sub(1);
            s.truncate(row);
            match raw {
                Some(r) => {
                    s.data.extend_from_slice(r.as_bytes());
                    s.commit();
                }
                None => s.push_null(),
            }
        }
    }

    pub(crate) fn has_corrupt(&self) -> bool {
        self.corrupt.is_some()
    }

    pub(crate) fn finish(&mut self) -> Result<StructArray> {
        let cols = self
            .children
            .iter_mut()
            .map(Col::finish)
            .collect::<Result<Vec<_>>>()?;
        let ok = std::mem::take(&mut self.ok);
        let n = ok.len();
        let fields: Fields = self
            .fields
            .iter()
            .map(|f| Arc::new(f.as_ref().clone().with_nullable(true)))
            .collect::<Vec<_>>()
            .into();
        if fields.is_empty() {
            return Ok(StructArray::new_empty_fields(n, nulls(ok)));
        }
        Ok(StructArray::try_new(fields, cols, nulls(ok))?)
    }
}

impl Col {
    pub(crate) fn new(dt: &DataType) -> Col {
        match dt {
            DataType::Null => Col::Null(0),
            DataType::Boolean => Col::Bool(Prim::new()),
            DataType::Int8 => Col::Int(Prim::new(), IntKind::I8),
            DataType::Int16 => Col::Int(Prim::new(), IntKind::I16),
            DataType::Int32 => Col::Int(Prim::new(), IntKind::I32),
            DataType::Int64 => Col::Int(Prim::new(), IntKind::I64),
            DataType::Float32 => Col::Float(Prim::new(), true),
            DataType::Float64 => Col::Float(Prim::new(), false),
            DataType::Decimal128(p, s) => Col::Decimal(Prim::new(), *p, *s),
            DataType::Utf8 => Col::Str(StrCol::new()),
            DataType::Timestamp(arrow::datatypes::TimeUnit::Microsecond, _) => {
                Col::Timestamp(Prim::new(), dt.clone())
            }
            DataType::Date32 => Col::Date(Prim::new()),
            DataType::List(f) => Col::List(Box::new(ListCol {
                off: vec![0],
                ok: Vec::new(),
                child: Col::new(f.data_type()),
                field: f.clone(),
            })),
            DataType::Map(entries, sorted) => {
                let (k, v) = match entries.data_type() {
                    DataType::Struct(kv) if kv.len() == 2 => {
                        (kv[0].data_type().clone(), kv[1].data_type().clone())
                    }
                    _ => (DataType::Utf8, DataType::Utf8),
                };
                Col::Map(Box::new(MapCol {
                    off: vec![0],
                    ok: Vec::new(),
                    keys: Col::new(&k),
                    values: Col::new(&v),
                    entries: entries.clone(),
                    sorted: *sorted,
                }))
            }
            DataType::Struct(fields) => Col::Struct(StructCol::new(fields, None)),
            other => Col::Cast(StrCol::new(), other.clone()),
        }
    }

    /// Reads one object (cursor on `{`) as a one-element array of structs: Spark accepts
    /// a single object where an array of structs is expected.
    pub(crate) fn push_single_object(&mut self, p: &mut Parser<'_>) -> PResult<()> {
        let Col::List(l) = self else {
            return Err(Fail::Syntax);
        };
        let Col::Struct(s) = &mut l.child else {
            return Err(Fail::Syntax);
        };
        match p.object(s) {
            Ok(()) | Err(Fail::Convert) => {}
            Err(Fail::Syntax) => return Err(Fail::Syntax),
        }
        l.off.push(s.len() as i32);
        l.ok.push(true);
        Ok(())
    }

    pub(crate) fn len(&self) -> usize {
        match self {
            Col::Null(n) => *n,
            Col::Bool(p) => p.ok.len(),
            Col::Int(p, _) | Col::Timestamp(p, _) => p.ok.len(),
            Col::Float(p, _) => p.ok.len(),
            Col::Decimal(p, _, _) => p.ok.len(),
            Col::Date(p) => p.ok.len(),
            Col::Str(s) | Col::Cast(s, _) => s.ok.len(),
            Col::List(l) => l.ok.len(),
            Col::Map(m) => m.ok.len(),
            Col::Struct(s) => s.len(),
        }
    }

    pub(crate) fn truncate(&mut self, n: usize) {
        match self {
            Col::Null(k) => *k = (*k).min(n),
            Col::Bool(p) => p.truncate(n),
            Col::Int(p, _) | Col::Timestamp(p, _) => p.truncate(n),
            Col::Float(p, _) => p.truncate(n),
            Col::Decimal(p, _, _) => p.truncate(n),
            Col::Date(p) => p.truncate(n),
            Col::Str(s) | Col::Cast(s, _) => s.truncate(n),
            Col::List(l) => {
                l.ok.truncate(n);
                l.off.truncate(n + 1);
                let end = l.off.last().copied().unwrap_or(0) as usize;
                l.child.truncate(end);
            }
            Col::Map(m) => {
                m.ok.truncate(n);
                m.off.truncate(n + 1);
                let end = m.off.last().copied().unwrap_or(0) as usize;
                m.keys.truncate(end);
                m.values.truncate(end);
            }
            Col::Struct(s) => s.truncate_rows(n),
        }
    }

    pub(crate) fn push_null(&mut self) {
        match self {
            Col::Null(k) => *k += 1,
            Col::Bool(p) => p.push_null(),
            Col::Int(p, _) | Col::Timestamp(p, _) => p.push_null(),
            Col::Float(p, _) => p.push_null(),
            Col::Decimal(p, _, _) => p.push_null(),
            Col::Date(p) => p.push_null(),
            Col::Str(s) | Col::Cast(s, _) => s.push_null(),
            Col::List(l) => {
                let last = l.off.last().copied().unwrap_or(0);
                l.off.push(last);
                l.ok.push(false);
            }
            Col::Map(m) => {
                let last = m.off.last().copied().unwrap_or(0);
                m.off.push(last);
                m.ok.push(false);
            }
            Col::Struct(s) => s.push_null(),
        }
    }

    pub(crate) fn finish(&mut self) -> Result<ArrayRef> {
        Ok(match self {
            Col::Null(n) => Arc::new(NullArray::new(std::mem::take(n))),
            Col::Bool(p) => {
                let v = std::mem::take(&mut p.v);
                let ok = std::mem::take(&mut p.ok);
                Arc::new(BooleanArray::new(v.into(), nulls(ok)))
            }
            Col::Int(p, k) => {
                let (v, n) = p.take();
                match k {
                    IntKind::I64 => Arc::new(Int64Array::new(v, n)),
                    IntKind::I32 => Arc::new(Int32Array::new(
                        v.iter().map(|x| *x as i32).collect::<Vec<_>>().into(),
                        n,
                    )),
                    IntKind::I16 => Arc::new(Int16Array::new(
                        v.iter().map(|x| *x as i16).collect::<Vec<_>>().into(),
                        n,
                    )),
                    IntKind::I8 => Arc::new(Int8Array::new(
                        v.iter().map(|x| *x as i8).collect::<Vec<_>>().into(),
                        n,
                    )),
                }
            }
            Col::Float(p, f32) => {
                let (v, n) = p.take();
                if *f32 {
                    Arc::new(Float32Array::new(
                        v.iter().map(|x| *x as f32).collect::<Vec<_>>().into(),
                        n,
                    ))
                } else {
                    Arc::new(Float64Array::new(v, n))
                }
            }
            Col::Decimal(p, prec, scale) => {
                let (v, n) = p.take();
                Arc::new(Decimal128Array::new(v, n).with_precision_and_scale(*prec, *scale)?)
            }
            Col::Str(s) => Arc::new(s.finish()?),
            Col::Cast(s, to) => {
                let text: ArrayRef = Arc::new(s.finish()?);
                arrow::compute::cast(&text, to).unwrap_or_else(|_| new_null_array(to, text.len()))
            }
            Col::Timestamp(p, dt) => {
                let (v, n) = p.take();
                let tz = match dt {
                    DataType::Timestamp(_, tz) => tz.clone(),
                    _ => None,
                };
                Arc::new(TimestampMicrosecondArray::new(v, n).with_timezone_opt(tz))
            }
            Col::Date(p) => {
                let (v, n) = p.take();
                Arc::new(Date32Array::new(v, n))
            }
            Col::List(l) => {
                let child = l.child.finish()?;
                let off = std::mem::replace(&mut l.off, vec![0]);
                let ok = std::mem::take(&mut l.ok);
                let field = Arc::new(
                    l.field
                        .as_ref()
                        .clone()
                        .with_nullable(true)
                        .with_data_type(child.data_type().clone()),
                );
                Arc::new(ListArray::try_new(
                    field,
                    OffsetBuffer::new(ScalarBuffer::from(off)),
                    child,
                    nulls(ok),
                )?)
            }
            Col::Map(m) => {
                let keys = m.keys.finish()?;
                let values = m.values.finish()?;
                let off = std::mem::replace(&mut m.off, vec![0]);
                let ok = std::mem::take(&mut m.ok);
                let (kf, vf) = match m.entries.data_type() {
                    DataType::Struct(kv) if kv.len() == 2 => (kv[0].clone(), kv[1].clone()),
                    _ => {
                        return Err(EngineError::Internal(
                            "map entries without key/value".into(),
                        ));
                    }
                };
                let entries = StructArray::try_new(
                    Fields::from(vec![
                        kf.as_ref().clone().with_nullable(false),
                        vf.as_ref().clone().with_nullable(true),
                    ]),
                    vec![keys, values],
                    None,
                )?;
                let entries_field = Arc::new(
                    m.entries
                        .as_ref()
                        .clone()
                        .with_data_type(arrow::array::Array::data_type(&entries).clone()),
                );
                Arc::new(MapArray::try_new(
                    entries_field,
                    OffsetBuffer::new(ScalarBuffer::from(off)),
                    entries,
                    nulls(ok),
                    m.sorted,
                )?)
            }
            Col::Struct(s) => Arc::new(s.finish()?),
        })
    }
}

// ---------------------------------------------------------------------------------------
// The parser
// ---------------------------------------------------------------------------------------

/// A cursor over one record's bytes.
pub(crate) struct Parser<'a> {
    b: &'a [u8],
    pub(crate) i: usize,
    o: &'a JsonParseOptions,
    /// Scratch for decoded keys.
    key: Vec<u8>,
    /// The current key when it had no escapes: a range of the input (no copy).
    key_range: Option<(usize, usize)>,
    depth: usize,
    /// Set when any value failed to convert (the record is "bad" even if a nested struct
    /// kept its partial result).
    pub(crate) bad: bool,
}

/// Nesting deeper than this is rejected as malformed instead of overflowing the stack
/// (Jackson's default `maxNestingDepth` is 1000 as well).
const MAX_DEPTH: usize = 1000;

#[inline]
fn is_ws(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r')
}

impl<'a> Parser<'a> {
    pub(crate) fn new(b: &'a [u8], o: &'a JsonParseOptions) -> Self {
        Parser {
            b,
            i: 0,
            o,
            key: Vec::new(),
            key_range: None,
            depth: 0,
            bad: false,
        }
    }

    #[inline]
    pub(crate) fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    /// Skips whitespace (and comments when allowed).
    #[inline(always)]
    pub(crate) fn ws(&mut self) -> PResult<()> {
        // Fast exit: compact JSON has no whitespace between tokens.
        match self.b.get(self.i) {
            Some(c) if !is_ws(*c) && *c != b'/' => return Ok(()),
            None => return Ok(()),
            _ => {}
        }
        self.ws_slow()
    }

    #[inline(never)]
    fn ws_slow(&mut self) -> PResult<()> {
        loop {
            while self.i < self.b.len() && is_ws(self.b[self.i]) {
                self.i += 1;
            }
            if self.o.allow_comments && self.peek() == Some(b'/') {
                match self.b.get(self.i + 1) {
                    Some(b'/') => {
                        let rest = &self.b[self.i..];
                        self.i += memchr::memchr(b'\n', rest).unwrap_or(rest.len());
                    }
                    Some(b'*') => {
                        let rest = &self.b[self.i + 2..];
                        let end = memchr::memmem::find(rest, b"*/").ok_or(Fail::Syntax)?;
                        self.i += 2 + end + 2;
                    }
                    _ => return Err(Fail::Syntax),
                }
                continue;
            }
            return Ok(());
        }
    }

    /// True when only whitespace is left.
    pub(crate) fn at_end(&mut self) -> bool {
        self.ws().is_ok() && self.i >= self.b.len()
    }

    #[inline]
    pub(crate) fn expect(&mut self, c: u8) -> PResult<()> {
        if self.peek() == Some(c) {
            self.i += 1;
            Ok(())
        } else {
            Err(Fail::Syntax)
        }
    }

    fn literal(&mut self, word: &[u8]) -> PResult<()> {
        if self.b[self.i..].starts_with(word) {
            let end = self.i + word.len();
            // `truex` is not `true`.
            if self
                .b
                .get(end)
                .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
            {
                return Err(Fail::Syntax);
            }
            self.i = end;
            Ok(())
        } else {
            Err(Fail::Syntax)
        }
    }

    /// Reads a quoted string (cursor on the quote), appending its decoded text to `out`.
    #[inline]
    pub(crate) fn string_into(&mut self, out: &mut Vec<u8>) -> PResult<()> {
        let (start, end, clean) = self.scan_string()?;
        out.extend_from_slice(&self.b[start..end]);
        if clean {
            return Ok(());
        }
        // An escape at `end`: decode the rest piece by piece.
        self.i = end;
        let q = self.b[start - 1];
        loop {
            self.escape(out)?;
            let rest = &self.b[self.i..];
            let j = self.special_in(rest, q).ok_or(Fail::Syntax)?;
            out.extend_from_slice(&rest[..j]);
            self.i += j;
            match self.b[self.i] {
                c if c == q => {
                    self.i += 1;
                    return Ok(());
                }
                b'\\' => {}
                _ => return Err(Fail::Syntax),
            }
        }
    }

    /// The first quote `q`, backslash or (disallowed) control character in `rest`.
    #[inline(always)]
    fn special_in(&self, rest: &[u8], q: u8) -> Option<usize> {
        let ctl = !self.o.allow_unquoted_control_chars;
        // Short strings (most JSON keys and values) are fastest eight bytes at a time in a
        // register; long ones use memchr.
        let head = rest.len().min(32);
        let mut k = 0;
        while let Some(word) = rest.get(k..k + 8).filter(|_| k + 8 <= head) {
            let mut w = [0u8; 8];
            w.copy_from_slice(word);
            let m = special_mask(u64::from_le_bytes(w), q, ctl);
            if m != 0 {
                return Some(k + (m.trailing_zeros() / 8) as usize);
            }
            k += 8;
        }
        for (j, &c) in rest[k..head].iter().enumerate() {
            if c == q || c == b'\\' || (ctl && c < 0x20) {
                return Some(k + j);
            }
        }
        if head == rest.len() {
            return None;
        }
        let j = head + memchr::memchr2(q, b'\\', &rest[head..])?;
        if ctl && let Some(k) = rest[head..j].iter().position(|c| *c < 0x20) {
            return Some(head + k);
        }
        Some(j)
    }

    /// Scans a quoted string at the cursor: `(start, end, clean)` where `start..end` is the
    /// raw content up to the closing quote (`clean`, cursor after it) or up to the first
    /// escape (cursor undefined; the caller decodes from `end`).
    #[inline(always)]
    fn scan_string(&mut self) -> PResult<(usize, usize, bool)> {
        let q = self.b[self.i];
        if q == b'\'' && !self.o.allow_single_quotes {
            return Err(Fail::Syntax);
        }
        let start = self.i + 1;
        let rest = &self.b[start..];
        let j = self.special_in(rest, q).ok_or(Fail::Syntax)?;
        let end = start + j;
        match self.b[end] {
            c if c == q => {
                self.i = end + 1;
                Ok((start, end, true))
            }
            b'\\' => Ok((start, end, false)),
            _ => Err(Fail::Syntax),
        }
    }

    /// Skips a quoted string without decoding it.
    fn skip_string(&mut self) -> PResult<()> {
        let (start, end, clean) = self.scan_string()?;
        if clean {
            return Ok(());
        }
        let q = self.b[start - 1];
        self.i = end;
        loop {
            // On a backslash: skip it and the escaped character (a `\uXXXX` is checked).
            match self.b.get(self.i + 1) {
                Some(b'u') => {
                    self.i += 2;
                    self.hex4()?;
                }
                Some(_) => self.i += 2,
                None => return Err(Fail::Syntax),
            }
            let rest = &self.b[self.i..];
            let j = self.special_in(rest, q).ok_or(Fail::Syntax)?;
            self.i += j;
            match self.b[self.i] {
                c if c == q => {
                    self.i += 1;
                    return Ok(());
                }
                b'\\' => {}
                _ => return Err(Fail::Syntax),
            }
        }
    }

    fn escape(&mut self, out: &mut Vec<u8>) -> PResult<()> {
        // On the backslash.
        let c = *self.b.get(self.i + 1).ok_or(Fail::Syntax)?;
        self.i += 2;
        match c {
            b'"' | b'\\' | b'/' | b'\'' if c != b'\'' || self.o.allow_single_quotes => out.push(c),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'u' => {
                let hi = self.hex4()?;
                let cp = if (0xD800..0xDC00).contains(&hi)
                    && self.b.get(self.i) == Some(&b'\\')
                    && self.b.get(self.i + 1) == Some(&b'u')
                {
                    let save = self.i;
                    self.i += 2;
                    let lo = self.hex4()?;
                    if (0xDC00..0xE000).contains(&lo) {
                        0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                    } else {
                        self.i = save;
                        0xFFFD
                    }
                } else {
                    hi
                };
                let ch = char::from_u32(cp).unwrap_or('\u{FFFD}');
                let mut buf = [0u8; 4];
                out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
            }
            other if self.o.allow_backslash_escaping_any => {
                // Keep the escaped character (which may start a multi-byte sequence).
                out.push(other);
            }
            _ => return Err(Fail::Syntax),
        }
        Ok(())
    }

    fn hex4(&mut self) -> PResult<u32> {
        let h = self.b.get(self.i..self.i + 4).ok_or(Fail::Syntax)?;
        let mut v = 0u32;
        for c in h {
            v = v * 16 + (*c as char).to_digit(16).ok_or(Fail::Syntax)?;
        }
        self.i += 4;
        Ok(v)
    }

    /// Reads an object key (quoted, or bare when allowed) into `self.key`, then the colon.
    pub(crate) fn key(&mut self) -> PResult<()> {
        self.key_range = None;
        match self.peek() {
            Some(b'"') | Some(b'\'') => {
                let (start, end, clean) = self.scan_string()?;
                if clean {
                    self.key_range = Some((start, end));
                } else {
                    // Rare: an escaped key is decoded into the scratch buffer.
                    self.i = start - 1;
                    let mut k = std::mem::take(&mut self.key);
                    k.clear();
                    let r = self.string_into(&mut k);
                    self.key = k;
                    r?;
                }
            }
            Some(c)
                if self.o.allow_unquoted_field_names
                    && (c.is_ascii_alphabetic() || c == b'_' || c == b'$') =>
            {
                let start = self.i;
                while self
                    .peek()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'$')
                {
                    self.i += 1;
                }
                self.key_range = Some((start, self.i));
            }
            _ => return Err(Fail::Syntax),
        }
        self.ws()?;
        self.expect(b':')?;
        self.ws()
    }

    /// The key read by the last [`Self::key`] call.
    #[inline(always)]
    pub(crate) fn key_bytes(&self) -> &[u8] {
        match self.key_range {
            Some((a, b)) => &self.b[a..b],
            None => &self.key,
        }
    }

    /// Scans a number token; returns its text and whether it is integral. Non-numeric
    /// numbers (`NaN`, `Infinity`) are handled by the callers that accept them.
    #[inline]
    fn number(&mut self) -> PResult<(&'a [u8], bool)> {
        let start = self.i;
        let b = self.b;
        let mut i = self.i;
        if b.get(i) == Some(&b'-') {
            i += 1;
        }
        let int_start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        let int_len = i - int_start;
        if int_len == 0 {
            return Err(Fail::Syntax);
        }
        if int_len > 1 && b[int_start] == b'0' && !self.o.allow_numeric_leading_zeros {
            return Err(Fail::Syntax);
        }
        let mut integral = true;
        if b.get(i) == Some(&b'.') {
            integral = false;
            i += 1;
            let s = i;
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            if i == s {
                return Err(Fail::Syntax);
            }
        }
        if matches!(b.get(i), Some(b'e') | Some(b'E')) {
            integral = false;
            i += 1;
            if matches!(b.get(i), Some(b'+') | Some(b'-')) {
                i += 1;
            }
            let s = i;
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            if i == s {
                return Err(Fail::Syntax);
            }
        }
        self.i = i;
        Ok((&b[start..i], integral))
    }

    /// `NaN`, `Infinity`, `+Infinity`, `-Infinity` when allowed.
    fn non_numeric(&mut self) -> PResult<f64> {
        if !self.o.allow_non_numeric_numbers {
            return Err(Fail::Syntax);
        }
        for (w, v) in [
            (&b"NaN"[..], f64::NAN),
            (b"Infinity", f64::INFINITY),
            (b"+Infinity", f64::INFINITY),
            (b"-Infinity", f64::NEG_INFINITY),
        ] {
            if self.b[self.i..].starts_with(w) {
                self.i += w.len();
                return Ok(v);
            }
        }
        Err(Fail::Syntax)
    }

    /// Skips one value, checking its syntax.
    #[inline]
    pub(crate) fn skip(&mut self) -> PResult<()> {
        let depth_left = MAX_DEPTH.saturating_sub(self.depth);
        if let Some(end) = super::fast_skip::skip_plain(self.b, self.i, depth_left) {
            self.i = end;
            return Ok(());
        }
        self.skip_general()
    }

    /// [`Self::skip`] for any value the options allow, token by token (its nested values
    /// too: trying the fast path again at every level could rescan a deep value per level).
    fn skip_general(&mut self) -> PResult<()> {
        match self.peek().ok_or(Fail::Syntax)? {
            b'{' => {
                self.enter()?;
                self.i += 1;
                self.ws()?;
                if self.peek() == Some(b'}') {
                    self.i += 1;
                    self.depth -= 1;
                    return Ok(());
                }
                loop {
                    self.key()?;
                    self.skip_general()?;
                    self.ws()?;
                    match self.peek() {
                        Some(b',') => {
                            self.i += 1;
                            self.ws()?;
                        }
                        Some(b'}') => {
                            self.i += 1;
                            self.depth -= 1;
                            return Ok(());
                        }
                        _ => return Err(Fail::Syntax),
                    }
                }
            }
            b'[' => {
                self.enter()?;
                self.i += 1;
                self.ws()?;
                if self.peek() == Some(b']') {
                    self.i += 1;
                    self.depth -= 1;
                    return Ok(());
                }
                loop {
                    self.skip_general()?;
                    self.ws()?;
                    match self.peek() {
                        Some(b',') => {
                            self.i += 1;
                            self.ws()?;
                        }
                        Some(b']') => {
                            self.i += 1;
                            self.depth -= 1;
                            return Ok(());
                        }
                        _ => return Err(Fail::Syntax),
                    }
                }
            }
            b'"' | b'\'' => self.skip_string(),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            b'N' | b'I' | b'+' => self.non_numeric().map(|_| ()),
            b'-' if self.b.get(self.i + 1) == Some(&b'I') => self.non_numeric().map(|_| ()),
            _ => self.number().map(|_| ()),
        }
    }

    fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(Fail::Syntax);
        }
        Ok(())
    }

    /// Writes the compact JSON text of the value at the cursor (Spark's text for a
    /// non-string value read into a STRING field: `{"c":[1,2]}`, `1.5`).
    pub(crate) fn raw_text(&mut self, out: &mut Vec<u8>) -> PResult<()> {
        match self.peek().ok_or(Fail::Syntax)? {
            b'{' => {
                self.enter()?;
                self.i += 1;
                out.push(b'{');
                self.ws()?;
                if self.peek() == Some(b'}') {
                    self.i += 1;
                    self.depth -= 1;
                    out.push(b'}');
                    return Ok(());
                }
                loop {
                    self.key()?;
                    out.push(b'"');
                    let k = self.key_bytes().to_vec();
                    escape_json_into(&k, out);
                    out.extend_from_slice(b"\":");
                    self.raw_text(out)?;
                    self.ws()?;
                    match self.peek() {
                        Some(b',') => {
                            self.i += 1;
                            out.push(b',');
                            self.ws()?;
                        }
                        Some(b'}') => {
                            self.i += 1;
                            self.depth -= 1;
                            out.push(b'}');
                            return Ok(());
                        }
                        _ => return Err(Fail::Syntax),
                    }
                }
            }
            b'[' => {
                self.enter()?;
                self.i += 1;
                out.push(b'[');
                self.ws()?;
                if self.peek() == Some(b']') {
                    self.i += 1;
                    self.depth -= 1;
                    out.push(b']');
                    return Ok(());
                }
                loop {
                    self.raw_text(out)?;
                    self.ws()?;
                    match self.peek() {
                        Some(b',') => {
                            self.i += 1;
                            out.push(b',');
                            self.ws()?;
                        }
                        Some(b']') => {
                            self.i += 1;
                            self.depth -= 1;
                            out.push(b']');
                            return Ok(());
                        }
                        _ => return Err(Fail::Syntax),
                    }
                }
            }
            b'"' | b'\'' => {
                let mut s = Vec::new();
                self.string_into(&mut s)?;
                out.push(b'"');
                escape_json_into(&s, out);
                out.push(b'"');
                Ok(())
            }
            b't' => {
                self.literal(b"true")?;
                out.extend_from_slice(b"true");
                Ok(())
            }
            b'f' => {
                self.literal(b"false")?;
                out.extend_from_slice(b"false");
                Ok(())
            }
            b'n' => {
                self.literal(b"null")?;
                out.extend_from_slice(b"null");
                Ok(())
            }
            b'N' | b'I' | b'+' => {
                let v = self.non_numeric()?;
                out.extend_from_slice(crate::format::format_f64(v).as_bytes());
                Ok(())
            }
            b'-' if self.b.get(self.i + 1) == Some(&b'I') => {
                let v = self.non_numeric()?;
                out.extend_from_slice(crate::format::format_f64(v).as_bytes());
                Ok(())
            }
            _ => {
                let (t, integral) = self.number()?;
                if integral {
                    out.extend_from_slice(t);
                } else {
                    let v = parse_f64(t);
                    out.extend_from_slice(crate::format::format_f64(v).as_bytes());
                }
                Ok(())
            }
        }
    }

    /// Reads one value into `col`. On `Fail::Convert` the cursor is past the value and
    /// `col` holds a NULL for it; on `Fail::Syntax` the state is undefined (the caller
    /// rolls the record back).
    pub(crate) fn value(&mut self, col: &mut Col) -> PResult<()> {
        let start = self.i;
        let depth = self.depth;
        let before = col.len();
        match self.value_inner(col) {
            Ok(()) => Ok(()),
            Err(Fail::Syntax) => Err(Fail::Syntax),
            Err(Fail::Convert) => {
                // Rewind and skip the whole value, checking its syntax, then NULL.
                col.truncate(before);
                if let Col::Str(s) | Col::Cast(s, _) = col {
                    s.rollback_pending();
                }
                self.i = start;
                self.depth = depth;
                self.bad = true;
                self.skip()?;
                col.push_null();
                Err(Fail::Convert)
            }
        }
    }

    #[inline]
    fn value_inner(&mut self, col: &mut Col) -> PResult<()> {
        let c = self.peek().ok_or(Fail::Syntax)?;
        if c == b'n' {
            self.literal(b"null")?;
            col.push_null();
            return Ok(());
        }
        match col {
            Col::Null(n) => {
                self.skip()?;
                *n += 1;
                Ok(())
            }
            Col::Str(s) => {
                if c == b'"' || c == b'\'' {
                    self.string_into(&mut s.data)?;
                } else {
                    self.raw_text(&mut s.data)?;
                }
                s.commit();
                Ok(())
            }
            Col::Int(p, kind) => {
                if !(c == b'-' || c.is_ascii_digit()) {
                    self.skip()?;
                    return Err(Fail::Convert);
                }
                let (t, integral) = self.number()?;
                if !integral {
                    return Err(Fail::Convert);
                }
                let v = parse_i64(t).ok_or(Fail::Convert)?;
                let (lo, hi) = kind.range();
                if v < lo || v > hi {
                    return Err(Fail::Convert);
                }
                p.push(v);
                Ok(())
            }
            Col::Float(p, _) => {
                let v = match c {
                    b'"' | b'\'' => {
                        let mut s = Vec::new();
                        self.string_into(&mut s)?;
                        if !self.o.allow_non_numeric_numbers {
                            return Err(Fail::Convert);
                        }
                        special_float(&s).ok_or(Fail::Convert)?
                    }
                    b'N' | b'I' | b'+' => self.non_numeric()?,
                    b'-' if self.b.get(self.i + 1) == Some(&b'I') => self.non_numeric()?,
                    b'-' | b'0'..=b'9' => parse_f64(self.number()?.0),
                    _ => {
                        self.skip()?;
                        return Err(Fail::Convert);
                    }
                };
                p.push(v);
                Ok(())
            }
            Col::Bool(p) => match c {
                b't' => {
                    self.literal(b"true")?;
                    p.push(true);
                    Ok(())
                }
                b'f' => {
                    self.literal(b"false")?;
                    p.push(false);
                    Ok(())
                }
                _ => {
                    self.skip()?;
                    Err(Fail::Convert)
                }
            },
            Col::Decimal(p, prec, scale) => {
                let v = match c {
                    // Spark reads a string as `java.math.BigDecimal` after dropping commas.
                    b'"' | b'\'' => {
                        let mut s = Vec::new();
                        self.string_into(&mut s)?;
                        s.retain(|b| *b != b',');
                        if !is_java_big_decimal(&s) {
                            return Err(Fail::Convert);
                        }
                        parse_decimal(&s, *prec, *scale)
                    }
                    b'-' | b'0'..=b'9' => parse_decimal(self.number()?.0, *prec, *scale),
                    _ => {
                        self.skip()?;
                        return Err(Fail::Convert);
                    }
                };
                p.push(v.ok_or(Fail::Convert)?);
                Ok(())
            }
            Col::Timestamp(p, dt) => {
                match c {
                    b'"' | b'\'' => {
                        let mut s = Vec::new();
                        self.string_into(&mut s)?;
                        let text = std::str::from_utf8(&s).map_err(|_| Fail::Convert)?;
                        let (tz, now) = (&self.o.time_zone, self.o.now_micros);
                        let v = match (&self.o.timestamp_format, dt) {
                            (Some(f), _) => f.parse_micros(text, tz),
                            // TIMESTAMP_NTZ text may not carry a zone (no fallback either).
                            (None, DataType::Timestamp(_, None)) => {
                                datetime_text::parse_timestamp_ntz(text, false)
                            }
                            (None, _) => datetime_text::parse_reader_timestamp(text, tz, now),
                        };
                        p.push(v.ok_or(Fail::Convert)?);
                    }
                    b'-' | b'0'..=b'9' => {
                        let (t, integral) = self.number()?;
                        if !integral {
                            return Err(Fail::Convert);
                        }
                        let secs = parse_i64(t).ok_or(Fail::Convert)?;
                        p.push(secs.checked_mul(1_000_000).ok_or(Fail::Convert)?);
                    }
                    _ => {
                        self.skip()?;
                        return Err(Fail::Convert);
                    }
                }
                Ok(())
            }
            Col::Date(p) => {
                if c != b'"' && c != b'\'' {
                    self.skip()?;
                    return Err(Fail::Convert);
                }
                let mut s = Vec::new();
                self.string_into(&mut s)?;
                let text = std::str::from_utf8(&s).map_err(|_| Fail::Convert)?;
                let d = match &self.o.date_format {
                    Some(f) => f.parse(text).map(|(dt, _)| days_from_date(dt.date())),
                    // Spark 1.5 wrote dates as a number of days: Spark still reads them.
                    None => datetime_text::parse_reader_date(text).or_else(|| java_int(text)),
                }
                .ok_or(Fail::Convert)?;
                p.push(d);
                Ok(())
            }
            Col::Cast(s, _) => {
                if c == b'"' || c == b'\'' {
                    self.string_into(&mut s.data)?;
                } else {
                    self.raw_text(&mut s.data)?;
                }
                s.commit();
                Ok(())
            }
            Col::List(l) => {
                if c != b'[' {
                    self.skip()?;
                    return Err(Fail::Convert);
                }
                let ok = self.elements(b']', |p| p.value(&mut l.child))?;
                l.off.push(l.child.len() as i32);
                l.ok.push(true);
                // Spark fails the whole array when an element fails.
                if ok { Ok(()) } else { Err(Fail::Convert) }
            }
            Col::Map(m) => {
                if c != b'{' {
                    self.skip()?;
                    return Err(Fail::Convert);
                }
                let ok = self.elements(b'}', |p| {
                    p.key()?;
                    let mut key_ok = true;
                    match &mut m.keys {
                        Col::Str(s) => {
                            let k = p.key_bytes();
                            s.data.extend_from_slice(k);
                            s.commit();
                        }
                        other => {
                            // Non-string keys: parse the key text as that type.
                            let k = p.key_bytes().to_vec();
                            let mut quoted = Vec::with_capacity(k.len() + 2);
                            quoted.push(b'"');
                            quoted.extend_from_slice(&k);
                            quoted.push(b'"');
                            let mut sub = Parser::new(&quoted, p.o);
                            key_ok = sub.value(other).is_ok();
                        }
                    }
                    // The value is read even when the key failed, to keep the parse going.
                    match p.value(&mut m.values) {
                        Ok(()) if !key_ok => Err(Fail::Convert),
                        r => r,
                    }
                })?;
                m.off.push(m.keys.len() as i32);
                m.ok.push(true);
                if ok { Ok(()) } else { Err(Fail::Convert) }
            }
            Col::Struct(s) => {
                if c != b'{' {
                    self.skip()?;
                    return Err(Fail::Convert);
                }
                // Nested structs keep their partial result, as Spark's converters do.
                match self.object(s) {
                    Ok(()) => Ok(()),
                    Err(Fail::Convert) => Ok(()),
                    Err(Fail::Syntax) => Err(Fail::Syntax),
                }
            }
        }
    }

    /// Reads the elements of an array or a map (cursor on its opening bracket) up to and
    /// including `close`, calling `each` with the cursor on each element. Returns whether
    /// every element converted; a syntax error ends the read.
    fn elements(
        &mut self,
        close: u8,
        mut each: impl FnMut(&mut Self) -> PResult<()>,
    ) -> PResult<bool> {
        self.enter()?;
        self.i += 1;
        self.ws()?;
        let mut ok = true;
        if self.peek() == Some(close) {
            self.i += 1;
        } else {
            loop {
                match each(self) {
                    Ok(()) => {}
                    Err(Fail::Convert) => ok = false,
                    Err(Fail::Syntax) => return Err(Fail::Syntax),
                }
                self.ws()?;
                match self.peek() {
                    Some(b',') => {
                        self.i += 1;
                        self.ws()?;
                    }
                    Some(b) if b == close => {
                        self.i += 1;
                        break;
                    }
                    _ => return Err(Fail::Syntax),
                }
            }
        }
        self.depth -= 1;
        Ok(ok)
    }

    /// Reads an object (cursor on `{`) as one row of `s`. `Err(Convert)`: the row was
    /// written, but a field failed (it is NULL).
    pub(crate) fn object(&mut self, s: &mut StructCol) -> PResult<()> {
        self.enter()?;
        self.i += 1;
        let row = s.len();
        let mut bad = false;
        self.ws()?;
        if self.peek() == Some(b'}') {
            self.i += 1;
        } else {
            let mut guess = 0usize;
            loop {
                self.key()?;
                let n = s.names.len();
                let key = self.key_bytes();
                let hit = if guess < n && same_key(&s.names[guess], key) {
                    Some(guess)
                } else {
                    s.names.iter().position(|k| same_key(k, key))
                };
                match hit {
                    Some(f) if Some(f) != s.corrupt => {
                        guess = f + 1;
                        let child = &mut s.children[f];
                        if child.len() > row {
                            // Duplicate key: the last value wins, as in Spark.
                            child.truncate(row);
                        }
                        match self.value(child) {
                            Ok(()) => {}
                            Err(Fail::Convert) => bad = true,
                            Err(Fail::Syntax) => return Err(Fail::Syntax),
                        }
                    }
                    _ => self.skip()?,
                }
                self.ws()?;
                match self.peek() {
                    Some(b',') => {
                        self.i += 1;
                        self.ws()?;
                    }
                    Some(b'}') => {
                        self.i += 1;
                        break;
                    }
                    _ => return Err(Fail::Syntax),
                }
            }
        }
        self.depth -= 1;
        for (i, c) in s.children.iter_mut().enumerate() {
            if c.len() == row && Some(i) != s.corrupt {
                c.push_null();
            }
        }
        s.ok.push(true);
        if let Some(ci) = s.corrupt
            && s.children[ci].len() == row
        {
            s.children[ci].push_null();
        }
        if bad { Err(Fail::Convert) } else { Ok(()) }
    }
}

/// Key equality without a `memcmp` call for the short keys JSON objects have (the call
/// cost more than the comparison, once per field of every record).
#[inline(always)]
fn same_key(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let n = a.len();
    let word = |s: &[u8], at: usize| {
        let mut w = [0u8; 8];
        if let Some(src) = s.get(at..at + 8) {
            w.copy_from_slice(src);
        }
        u64::from_le_bytes(w)
    };
    match n {
        0..8 => a.iter().zip(b).all(|(x, y)| x == y),
        // Two overlapping words cover 8 to 16 bytes.
        8..=16 => word(a, 0) == word(b, 0) && word(a, n - 8) == word(b, n - 8),
        _ => a == b,
    }
}

/// Java's `Integer.parseInt`: an optional sign and decimal digits that fit in 32 bits.
fn java_int(text: &str) -> Option<i32> {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// The strings Spark's JSON reader takes for FLOAT and DOUBLE (`JacksonParser`): exactly
/// these spellings, when `allowNonNumericNumbers` is on.
fn special_float(s: &[u8]) -> Option<f64> {
    match s {
        b"NaN" => Some(f64::NAN),
        b"Infinity" | b"+Infinity" | b"+INF" => Some(f64::INFINITY),
        b"-Infinity" | b"-INF" => Some(f64::NEG_INFINITY),
        _ => None,
    }
}

/// Whether `s` is what `new java.math.BigDecimal(s)` takes: a sign, digits with a point
/// somewhere (at least one digit), an exponent; no spaces.
fn is_java_big_decimal(s: &[u8]) -> bool {
    let s = s
        .strip_prefix(b"+")
        .or_else(|| s.strip_prefix(b"-"))
        .unwrap_or(s);
    let (mantissa, exponent) = match s.iter().position(|b| matches!(b, b'e' | b'E')) {
        Some(i) => (s.get(..i).unwrap_or_default(), s.get(i + 1..)),
        None => (s, None),
    };
    let digits = mantissa.iter().filter(|b| b.is_ascii_digit()).count();
    let points = mantissa.iter().filter(|b| **b == b'.').count();
    let mantissa_ok = digits > 0 && points <= 1 && digits + points == mantissa.len();
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e
            .strip_prefix(b"+")
            .or_else(|| e.strip_prefix(b"-"))
            .unwrap_or(e);
        !e.is_empty() && e.iter().all(u8::is_ascii_digit)
    });
    mantissa_ok && exponent_ok
}

#[inline]
fn parse_i64(t: &[u8]) -> Option<i64> {
    let (neg, digits) = match t.first() {
        Some(b'-') => (true, &t[1..]),
        _ => (false, t),
    };
    if digits.is_empty() || digits.len() > 19 {
        return None;
    }
    let mut v: i64 = 0;
    for d in digits {
        v = v.checked_mul(10)?;
        let x = i64::from(d - b'0');
        v = if neg {
            v.checked_sub(x)?
        } else {
            v.checked_add(x)?
        };
    }
    Some(v)
}

/// Clinger's fast path: a decimal with at most 15 significant digits and a small power of
/// ten converts exactly with one multiplication or division.
#[inline]
fn fast_f64(t: &[u8]) -> Option<f64> {
    const POW10: [f64; 23] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
        1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ];
    let (neg, body) = match t.first() {
        Some(b'-') => (true, &t[1..]),
        _ => (false, t),
    };
    let mut mant: u64 = 0;
    let mut digits = 0;
    let mut frac = 0i32;
    let mut seen_dot = false;
    for &c in body {
        match c {
            b'0'..=b'9' => {
                if digits >= 15 {
                    return None;
                }
                mant = mant * 10 + u64::from(c - b'0');
                if mant > 0 {
                    digits += 1;
                }
                if seen_dot {
                    frac += 1;
                }
            }
            b'.' if !seen_dot => seen_dot = true,
            _ => return None,
        }
    }
    let m = mant as f64;
    let v = if frac == 0 {
        m
    } else {
        m / *POW10.get(frac as usize)?
    };
    Some(if neg { -v } else { v })
}

#[inline]
fn parse_f64(t: &[u8]) -> f64 {
    if let Some(v) = fast_f64(t) {
        return v;
    }
    // The token was validated as a JSON number, so it is ASCII.
    std::str::from_utf8(t)
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .unwrap_or(f64::NAN)
}

/// A JSON number as DECIMAL(p, s), rounded half-up; `None` when it does not fit.
fn parse_decimal(t: &[u8], precision: u8, scale: i8) -> Option<i128> {
    let s = std::str::from_utf8(t).ok()?;
    let (unscaled, sc) = crate::functions::cast::parse_decimal(s)?;
    let diff = i32::from(scale) - i32::from(sc);
    let v = if diff >= 0 {
        unscaled.checked_mul(10i128.checked_pow(diff as u32)?)?
    } else {
        let p = 10i128.checked_pow((-diff) as u32)?;
        let q = unscaled / p;
        let r = unscaled % p;
        if r.abs() * 2 >= p {
            q + unscaled.signum()
        } else {
            q
        }
    };
    let max = 10i128.checked_pow(u32::from(precision))?;
    (v.abs() < max).then_some(v)
}

/// Appends `s` escaped as JSON string content (Jackson's escaping: `"`, `\`, control
/// characters; `/` and non-ASCII kept).
pub(crate) fn escape_json_into(s: &[u8], out: &mut Vec<u8>) {
    let mut last = 0;
    for (i, &c) in s.iter().enumerate() {
        let esc: &[u8] = match c {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            8 => b"\\b",
            12 => b"\\f",
            c if c < 0x20 => {
                out.extend_from_slice(&s[last..i]);
                out.extend_from_slice(format!("\\u{:04X}", c).as_bytes());
                last = i + 1;
                continue;
            }
            _ => continue,
        };
        out.extend_from_slice(&s[last..i]);
        out.extend_from_slice(esc);
        last = i + 1;
    }
    out.extend_from_slice(&s[last..]);
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use arrow::array::AsArray;

    #[test]
    fn decimal_strings_are_java_big_decimals_and_exponents_never_overflow() {
        for ok in ["1", "+1.5", "-.5", "1.", "1e3", "1E+3", "-1.5e-2"] {
            assert!(is_java_big_decimal(ok.as_bytes()), "{ok}");
        }
        for bad in [
            "", ".", "+", " 1", "1 ", "1e", "1e+", "1.2.3", "e3", "1x", "--1", "é",
        ] {
            assert!(!is_java_big_decimal(bad.as_bytes()), "{bad}");
        }
        // Regression (fuzzing, issue 16): `frac.len() - exp` overflowed for this exponent.
        assert_eq!(crate::functions::cast::parse_decimal("1e-2147483648"), None);
        assert_eq!(parse_decimal(b"1e2147483647", 5, 2), None);
        assert_eq!(parse_decimal(b"-0.004", 5, 2), Some(0));
    }

    proptest::proptest! {
        /// The word-at-a-time scan finds the same first special byte as a byte loop, for
        /// any bytes (high bytes, quotes, controls) and both quote characters.
        #[test]
        fn special_in_is_the_first_quote_backslash_or_control(
            bytes in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::strategy::Just(b'"'),
                    proptest::strategy::Just(b'\''),
                    proptest::strategy::Just(b'\\'),
                    0u8..0x20,
                    0x20u8..=0xff,
                ],
                0..80,
            ),
            single in proptest::bool::ANY,
            allow_ctl in proptest::bool::ANY,
        ) {
            let o = JsonParseOptions {
                allow_unquoted_control_chars: allow_ctl,
                ..JsonParseOptions::default()
            };
            let q = if single { b'\'' } else { b'"' };
            let p = Parser::new(&bytes, &o);
            let expected = bytes
                .iter()
                .position(|&c| c == q || c == b'\\' || (!allow_ctl && c < 0x20));
            proptest::prop_assert_eq!(p.special_in(&bytes, q), expected);
        }
    }

    proptest::proptest! {
        /// Wherever the fast skip answers, the general skip ends at the same byte: over
        /// random soups of JSON tokens, valid, lenient and malformed, nested or not.
        #[test]
        fn the_fast_skip_ends_where_the_general_skip_ends(
            tokens in proptest::collection::vec(
                proptest::sample::select(vec![
                    "{", "}", "[", "]", ",", ":", " ", "\n", "\"k\"", "\"a\\\"b\"", "\"\\u00e9\"",
                    "\"\\x\"", "'s'", "1", "-2.5e3", "007", "0", "1.", "true", "truex", "null",
                    "NaN", "-Infinity", "/*c*/", "\"\u{1}\"", "k", "\"",
                ]),
                0..24,
            ),
            depth in 0usize..1000,
        ) {
            let text: String = tokens.concat();
            let o = JsonParseOptions {
                allow_comments: true,
                allow_unquoted_field_names: true,
                ..JsonParseOptions::default()
            };
            if let Some(end) = super::super::fast_skip::skip_plain(
                text.as_bytes(),
                0,
                MAX_DEPTH - depth,
            ) {
                let mut p = Parser::new(text.as_bytes(), &o);
                p.depth = depth;
                proptest::prop_assert_eq!(p.skip_general(), Ok(()));
                proptest::prop_assert_eq!(p.i, end);
                proptest::prop_assert_eq!(p.depth, depth);
            }
        }
    }

    #[test]
    fn keys_compare_equal_exactly_when_their_bytes_do() {
        let keys: Vec<Vec<u8>> = (0..=20)
            .flat_map(|n| {
                let base: Vec<u8> = (0..n).map(|i| b'a' + i as u8).collect();
                let mut last = base.clone();
                if let Some(c) = last.last_mut() {
                    *c = b'#';
                }
                let mut first = base.clone();
                if let Some(c) = first.first_mut() {
                    *c = b'#';
                }
                [base, last, first]
            })
            .collect();
        for a in &keys {
            for b in &keys {
                assert_eq!(same_key(a, b), a == b, "{a:?} {b:?}");
            }
        }
    }

    #[test]
    fn fast_paths_agree_with_the_general_parsers() {
        for t in [
            "1.5",
            "-0.25",
            "123456.789",
            "0.001",
            "42",
            "-7",
            "99999999999999.9",
        ] {
            assert_eq!(
                fast_f64(t.as_bytes()).map(f64::to_bits),
                Some(t.parse::<f64>().unwrap().to_bits()),
                "{t}"
            );
        }
        assert_eq!(fast_f64(b"1e5"), None);
        assert_eq!(fast_f64(b"1234567890123456789"), None);
    }

    #[test]
    fn strings_keys_and_escapes() {
        let o = JsonParseOptions::default();
        let fields = Fields::from(vec![
            arrow::datatypes::Field::new("a\"b", DataType::Utf8, true),
            arrow::datatypes::Field::new("c", DataType::Utf8, true),
        ]);
        let mut s = StructCol::new(&fields, None);
        let doc = br#"{"a\"b":"x\u00e9\ud83d\ude00y","skip":"q\"\\","c":'single'}"#;
        let mut p = Parser::new(doc, &o);
        p.object(&mut s).unwrap();
        let a = s.finish().unwrap();
        let c0 = a.column(0).as_string::<i32>().value(0).to_string();
        let c1 = a.column(1).as_string::<i32>().value(0).to_string();
        assert_eq!(c0, "xé😀y");
        assert_eq!(c1, "single");
    }
}
