//! `format_string(fmt, args...)` and its alias `printf`: Java's `String.format` over Spark's
//! internal values, as Spark's `FormatString` calls it.
//!
//! Spark hands Java its internal objects, which decides what each conversion accepts: a
//! DECIMAL is Spark's `Decimal` (so `%s` works and `%f` fails), a DATE its day number, a
//! TIMESTAMP its microseconds, a STRING a `UTF8String` (only `%s`, `%b`, `%h`-free forms).
//! A wrong conversion fails as Java's `IllegalFormatConversionException` does (Spark gives
//! it no error class; the class here is the Java exception's name).
//! Supported: `%s %S %b %B %c %C %d %o %x %X %e %E %f %g %G %% %n`, flags `-#+ 0,(`,
//! width, precision, `n$` and `<` argument indexes. `%h`, `%a` and `%t` are not supported.

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::datatypes::{
    DataType, Date32Type, Decimal128Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type,
    Int64Type, TimestampMicrosecondType,
};

use super::string::{SimpleFunction, arrays, ret_string, rows, want_string};
use super::string_extra::{build_strings, opt_str, str_col};
use super::{FunctionContext, ScalarFunction, wrong_num_args};
use crate::expr::columnar::ColumnarValue;
use crate::format::{format_decimal, format_f32, format_f64};
use crate::{EngineError, Result};

/// One argument value as the Java object Spark passes.
#[derive(Debug, Clone, PartialEq)]
enum JVal {
    Null,
    Bool(bool),
    /// An integral value and its Java class's width in bits.
    Int(i64, u32),
    Float(f32),
    Double(f64),
    /// Spark's `Decimal`: prints with `toString` only.
    Decimal(String),
    /// `UTF8String` and other objects formatted with `toString` only.
    Text(String, &'static str),
}

impl JVal {
    fn class(&self) -> &'static str {
        match self {
            JVal::Null => "null",
            JVal::Bool(_) => "java.lang.Boolean",
            JVal::Int(_, 8) => "java.lang.Byte",
            JVal::Int(_, 16) => "java.lang.Short",
            JVal::Int(_, 32) => "java.lang.Integer",
            JVal::Int(..) => "java.lang.Long",
            JVal::Float(_) => "java.lang.Float",
            JVal::Double(_) => "java.lang.Double",
            JVal::Decimal(_) => "org.apache.spark.sql.types.Decimal",
            JVal::Text(_, class) => class,
        }
    }

    /// Java's `String.valueOf`.
    fn to_text(&self) -> String {
        match self {
            JVal::Null => "null".into(),
            JVal::Bool(b) => b.to_string(),
            JVal::Int(v, _) => v.to_string(),
            JVal::Float(v) => format_f32(*v),
            JVal::Double(v) => format_f64(*v),
            JVal::Decimal(s) | JVal::Text(s, _) => s.clone(),
        }
    }
}

/// A parsed piece of a format string.
#[derive(Debug, Clone, PartialEq)]
enum Piece {
    Literal(String),
    Spec(Spec),
}

/// Where a specifier takes its argument from.
#[derive(Debug, Clone, Copy, PartialEq)]
enum ArgRef {
    /// The next ordinary argument.
    Next,
    /// `n$`, 1-based.
    Explicit(usize),
    /// `<`: the previous specifier's argument.
    Previous,
    /// `%%` and `%n` take none.
    None,
}

/// `%[index$][flags][width][.precision]conversion`.
#[derive(Debug, Clone, PartialEq)]
struct Spec {
    arg: ArgRef,
    flags: String,
    width: Option<usize>,
    precision: Option<usize>,
    conversion: char,
}

fn java_error(class: &str, message: String) -> EngineError {
    EngineError::execution(class, format!("java.util.{class}: {message}"))
}

/// Splits a format string into literals and specifiers, as `java.util.Formatter` parses it.
fn parse(fmt: &str) -> Result<Vec<Piece>> {
    let mut out = Vec::new();
    let mut lit = String::new();
    let mut chars = fmt.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        if c != '%' {
            lit.push(c);
            continue;
        }
        let mut digits = String::new();
        let mut arg = ArgRef::Next;
        let mut flags = String::new();
        let mut width = None;
        let mut precision = None;
        // An index is digits followed by `$`; otherwise leading digits are the width
        // (a leading `0` is a flag).
        let rest: String = fmt[start + 1..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        if !rest.is_empty() && fmt[start + 1 + rest.len()..].starts_with('$') {
            for _ in 0..=rest.len() {
                chars.next();
            }
            let n: usize = rest.parse().unwrap_or(0);
            arg = ArgRef::Explicit(n);
        }
        while let Some(&(_, f)) = chars.peek() {
            if "-#+ 0,(<".contains(f) {
                if f == '<' {
                    arg = ArgRef::Previous;
                } else {
                    flags.push(f);
                }
                chars.next();
            } else {
                break;
            }
        }
        while let Some(&(_, d)) = chars.peek() {
            if d.is_ascii_digit() {
                digits.push(d);
                chars.next();
            } else {
                break;
            }
        }
        if !digits.is_empty() {
            width = digits.parse().ok();
        }
        if let Some(&(_, '.')) = chars.peek() {
            chars.next();
            let mut p = String::new();
            while let Some(&(_, d)) = chars.peek() {
                if d.is_ascii_digit() {
                    p.push(d);
                    chars.next();
                } else {
                    break;
                }
            }
            if p.is_empty() {
                return Err(java_error(
                    "IllegalFormatPrecisionException",
                    "precision missing".into(),
                ));
            }
            precision = p.parse().ok();
        }
        let Some((_, conversion)) = chars.next() else {
            return Err(java_error(
                "UnknownFormatConversionException",
                "Conversion = '%'".into(),
            ));
        };
        if !"bBsScCdoxXeEfgG%n".contains(conversion) {
            return Err(java_error(
                "UnknownFormatConversionException",
                format!("Conversion = '{conversion}'"),
            ));
        }
        if matches!(conversion, '%' | 'n') {
            arg = ArgRef::None;
        }
        if !lit.is_empty() {
            out.push(Piece::Literal(std::mem::take(&mut lit)));
        }
        out.push(Piece::Spec(Spec {
            arg,
            flags,
            width,
            precision,
            conversion,
        }));
    }
    if !lit.is_empty() {
        out.push(Piece::Literal(lit));
    }
    Ok(out)
}

impl Spec {
    fn text(&self) -> String {
        let mut s = String::from("%");
        s.push_str(&self.flags);
        if let Some(w) = self.width {
            s.push_str(&w.to_string());
        }
        if let Some(p) = self.precision {
            s.push_str(&format!(".{p}"));
        }
        s.push(self.conversion);
        s
    }

    fn mismatch(&self, v: &JVal) -> EngineError {
        java_error(
            "IllegalFormatConversionException",
            format!("{} != {}", self.conversion, v.class()),
        )
    }

    /// Pads `s` to the width: spaces on the left, or on the right with `-`.
    fn pad(&self, s: String) -> String {
        let len = s.chars().count();
        match self.width {
            Some(w) if w > len => {
                let fill = " ".repeat(w - len);
                if self.flags.contains('-') {
                    s + &fill
                } else {
                    fill + &s
                }
            }
            _ => s,
        }
    }

    fn upper(&self, s: String) -> String {
        if self.conversion.is_ascii_uppercase() {
            s.to_uppercase()
        } else {
            s
        }
    }

    /// A number's digits with sign, grouping, zero padding and parentheses applied.
    fn number(&self, negative: bool, digits: String, prefix: &str) -> String {
        let f = &self.flags;
        let digits = if f.contains(',') {
            group(&digits)
        } else {
            digits
        };
        let (lead, trail) = match (negative, f.contains('(')) {
            (true, true) => ("(", ")"),
            (true, false) => ("-", ""),
            (false, _) if f.contains('+') => ("+", ""),
            (false, _) if f.contains(' ') => (" ", ""),
            _ => ("", ""),
        };
        let mut body = digits;
        if f.contains('0')
            && let Some(w) = self.width
        {
            let used = lead.len() + trail.len() + prefix.len() + body.chars().count();
            if w > used {
                body = "0".repeat(w - used) + &body;
            }
        }
        self.pad(format!("{lead}{prefix}{body}{trail}"))
    }

    fn format(&self, v: &JVal) -> Result<String> {
        let c = self.conversion.to_ascii_lowercase();
        if matches!(v, JVal::Null) && c != 'b' {
            return Ok(self.pad(self.upper("null".into())));
        }
        Ok(match c {
            'b' => {
                let b = match v {
                    JVal::Null => false,
                    JVal::Bool(b) => *b,
                    _ => true,
                };
                let s = truncate(b.to_string(), self.precision);
                self.pad(self.upper(s))
            }
            's' => self.pad(self.upper(truncate(v.to_text(), self.precision))),
            'c' => match v {
                JVal::Int(code, bits) if *bits <= 32 => {
                    let code = if *bits == 8 { code & 0xff } else { *code };
                    let ch = u32::try_from(code)
                        .ok()
                        .and_then(char::from_u32)
                        .ok_or_else(|| {
                            java_error(
                                "IllegalFormatCodePointException",
                                format!("Code point = {code:#x}"),
                            )
                        })?;
                    self.pad(self.upper(ch.to_string()))
                }
                _ => return Err(self.mismatch(v)),
            },
            'd' => match v {
                JVal::Int(x, _) => self.number(*x < 0, x.unsigned_abs().to_string(), ""),
                _ => return Err(self.mismatch(v)),
            },
            'o' | 'x' => match v {
                JVal::Int(x, bits) => {
                    // Java prints negatives as the two's complement of the value's width.
                    let mask = if *bits >= 64 {
                        u64::MAX
                    } else {
                        (1u64 << bits) - 1
                    };
                    let u = (*x as u64) & mask;
                    let (digits, prefix) = if c == 'o' {
                        (format!("{u:o}"), "0")
                    } else {
                        (format!("{u:x}"), "0x")
                    };
                    let prefix = if self.flags.contains('#') { prefix } else { "" };
                    self.upper(self.number(false, digits, prefix))
                }
                _ => return Err(self.mismatch(v)),
            },
            'e' | 'f' | 'g' => {
                let x = match v {
                    JVal::Double(x) => *x,
                    JVal::Float(x) => f64::from(*x),
                    _ => return Err(self.mismatch(v)),
                };
                if x.is_nan() || x.is_infinite() {
                    let s = if x.is_nan() {
                        "NaN".to_string()
                    } else if x < 0.0 {
                        "-Infinity".into()
                    } else {
                        "Infinity".into()
                    };
                    return Ok(self.pad(self.upper(s)));
                }
                let digits = java_decimal_digits(v);
                let p = self.precision.unwrap_or(6);
                let body = match c {
                    'f' => fixed(&digits, p),
                    'e' => scientific(&digits, p),
                    _ => general(&digits, p),
                };
                self.upper(self.number(x.is_sign_negative(), body, ""))
            }
            _ => return Err(EngineError::Internal(format!("conversion {}", self.text()))),
        })
    }
}

/// `s` cut to `precision` characters.
fn truncate(s: String, precision: Option<usize>) -> String {
    match precision {
        Some(p) => s.chars().take(p).collect(),
        None => s,
    }
}

/// `1234567` as `1,234,567` (digits before any `.` grouped by three).
fn group(digits: &str) -> String {
    let (int, frac) = digits.split_at(digits.find('.').unwrap_or(digits.len()));
    let n = int.len();
    let mut out = String::with_capacity(n + n / 3 + frac.len());
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (n - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out + frac
}

/// The decimal digits and exponent of `|v|` as Java's `Double.toString` gives them (the
/// value Java's Formatter rounds): `(digits, exp)` meaning `0.digits * 10^exp`.
fn java_decimal_digits(v: &JVal) -> (Vec<u8>, i32) {
    let s = match v {
        JVal::Float(x) => format!("{:e}", x.abs()),
        JVal::Double(x) => format!("{:e}", x.abs()),
        _ => "0e0".into(),
    };
    let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: Vec<u8> = mantissa
        .bytes()
        .filter(u8::is_ascii_digit)
        .map(|b| b - b'0')
        .collect();
    if digits.iter().all(|d| *d == 0) {
        return (vec![0], 1);
    }
    (digits, exp + 1)
}

/// Rounds `0.digits * 10^exp` HALF_UP to `keep` significant digits (at least 0); returns
/// the digits and the exponent, which grows by one when rounding carries over.
fn round_digits(digits: &[u8], exp: i32, keep: i64) -> (Vec<u8>, i32) {
    if keep < 0 {
        return (vec![0], exp);
    }
    let keep = usize::try_from(keep).unwrap_or(usize::MAX);
    if digits.len() <= keep {
        let mut d = digits.to_vec();
        d.resize(keep.max(1), 0);
        return (d, exp);
    }
    let mut d: Vec<u8> = digits[..keep].to_vec();
    if digits[keep] >= 5 {
        let mut i = d.len();
        loop {
            if i == 0 {
                d.insert(0, 1);
                return (d, exp + 1);
            }
            i -= 1;
            if d[i] == 9 {
                d[i] = 0;
            } else {
                d[i] += 1;
                break;
            }
        }
    }
    if d.is_empty() {
        d.push(0);
    }
    (d, exp)
}

/// `%.pf`: fixed notation with `p` fraction digits.
fn fixed((digits, exp): &(Vec<u8>, i32), p: usize) -> String {
    let p_i = i64::try_from(p).unwrap_or(i64::MAX / 2);
    let (d, exp) = round_digits(digits, *exp, i64::from(*exp) + p_i);
    // Digits at positions: the value is 0.d * 10^exp.
    let at = |pos: i64| -> u8 {
        if pos < 0 {
            return 0;
        }
        usize::try_from(pos)
            .ok()
            .and_then(|p| d.get(p).copied())
            .unwrap_or(0)
    };
    let exp = i64::from(exp);
    let mut s = String::new();
    if exp <= 0 {
        s.push('0');
    } else {
        for i in 0..exp {
            s.push(char::from(b'0' + at(i)));
        }
    }
    if p > 0 {
        s.push('.');
        for i in 0..p_i {
            s.push(char::from(b'0' + at(exp + i)));
        }
    }
    s
}

/// `%.pe`: one digit, `p` fraction digits and a signed two-digit exponent.
fn scientific((digits, exp): &(Vec<u8>, i32), p: usize) -> String {
    let p_i = i64::try_from(p).unwrap_or(i64::MAX / 2);
    let (d, exp) = round_digits(digits, *exp, p_i + 1);
    let zero = d.iter().all(|x| *x == 0);
    let e = if zero { 0 } else { exp - 1 };
    let mut s = String::new();
    s.push(char::from(b'0' + d.first().copied().unwrap_or(0)));
    if p > 0 {
        s.push('.');
        for i in 1..=p {
            s.push(char::from(b'0' + d.get(i).copied().unwrap_or(0)));
        }
    }
    let sign = if e < 0 { '-' } else { '+' };
    s.push_str(&format!("e{sign}{:02}", e.unsigned_abs()));
    s
}

/// `%.pg`: Java's general form: fixed for 10^-4 <= rounded value < 10^p, else scientific,
/// `p` significant digits in total (0 counts as 1).
fn general(v: &(Vec<u8>, i32), p: usize) -> String {
    let p = p.max(1);
    let p_i = i64::try_from(p).unwrap_or(i64::MAX / 2);
    let (d, exp) = round_digits(&v.0, v.1, p_i);
    let zero = d.iter().all(|x| *x == 0);
    let e = i64::from(exp) - 1;
    if zero || (-4..p_i).contains(&e) {
        let frac = usize::try_from(p_i - 1 - if zero { 0 } else { e }).unwrap_or(0);
        fixed(v, frac)
    } else {
        scientific(v, p - 1)
    }
}

/// Row `i` of `a` as the Java object Spark passes to the formatter.
fn jval(a: &ArrayRef, i: usize) -> Result<JVal> {
    if a.is_null(i) {
        return Ok(JVal::Null);
    }
    Ok(match a.data_type() {
        DataType::Null => JVal::Null,
        DataType::Boolean => JVal::Bool(a.as_boolean().value(i)),
        DataType::Int8 => JVal::Int(i64::from(a.as_primitive::<Int8Type>().value(i)), 8),
        DataType::Int16 => JVal::Int(i64::from(a.as_primitive::<Int16Type>().value(i)), 16),
        DataType::Int32 => JVal::Int(i64::from(a.as_primitive::<Int32Type>().value(i)), 32),
        DataType::Int64 => JVal::Int(a.as_primitive::<Int64Type>().value(i), 64),
        DataType::Float32 => JVal::Float(a.as_primitive::<Float32Type>().value(i)),
        DataType::Float64 => JVal::Double(a.as_primitive::<Float64Type>().value(i)),
        // Spark passes a date as its day number and a timestamp as its microseconds.
        DataType::Date32 => JVal::Int(i64::from(a.as_primitive::<Date32Type>().value(i)), 32),
        DataType::Timestamp(_, _) => {
            JVal::Int(a.as_primitive::<TimestampMicrosecondType>().value(i), 64)
        }
        DataType::Decimal128(_, s) => JVal::Decimal(format_decimal(
            a.as_primitive::<Decimal128Type>().value(i),
            *s,
        )),
        DataType::Utf8 => JVal::Text(
            a.as_string::<i32>().value(i).to_string(),
            "org.apache.spark.unsafe.types.UTF8String",
        ),
        DataType::LargeUtf8 => JVal::Text(
            a.as_string::<i64>().value(i).to_string(),
            "org.apache.spark.unsafe.types.UTF8String",
        ),
        other => {
            return Err(EngineError::Unsupported(format!(
                "format_string of a {}",
                crate::types::sql_type_name(other)
            )));
        }
    })
}

/// Formats one row: `pieces` with the row's argument values.
fn format_row(pieces: &[Piece], values: &[JVal]) -> Result<String> {
    let mut out = String::new();
    let mut next = 0usize;
    let mut last: Option<usize> = None;
    for p in pieces {
        let spec = match p {
            Piece::Literal(s) => {
                out.push_str(s);
                continue;
            }
            Piece::Spec(s) => s,
        };
        let index = match spec.arg {
            ArgRef::None => {
                out.push_str(if spec.conversion == '%' { "%" } else { "\n" });
                continue;
            }
            ArgRef::Next => {
                next += 1;
                next - 1
            }
            ArgRef::Explicit(n) => n.saturating_sub(1),
            ArgRef::Previous => last.ok_or_else(|| {
                java_error(
                    "MissingFormatArgumentException",
                    format!("Format specifier '{}'", spec.text()),
                )
            })?,
        };
        last = Some(index);
        let v = values.get(index).ok_or_else(|| {
            java_error(
                "MissingFormatArgumentException",
                format!("Format specifier '{}'", spec.text()),
            )
        })?;
        out.push_str(&spec.format(v)?);
    }
    Ok(out)
}

fn coerce_format(name: &str, args: &[DataType]) -> Result<Vec<DataType>> {
    let Some((first, rest)) = args.split_first() else {
        return Err(wrong_num_args(name, "> 0", 0));
    };
    let mut out = vec![want_string(name, 1, first)?];
    out.extend(rest.iter().cloned());
    Ok(out)
}

fn eval_format(
    _: &str,
    args: &[ColumnarValue],
    n: usize,
    _: &FunctionContext,
) -> Result<ColumnarValue> {
    let rows = rows(args, n);
    let a = arrays(args, rows)?;
    let fmt = str_col(&a, 0)?;
    // Constant formats are parsed once per batch.
    let mut cached: Option<(String, Vec<Piece>)> = None;
    build_strings(args, rows, |i| {
        let Some(f) = opt_str(fmt, i) else {
            return Ok(None);
        };
        if cached.as_ref().is_none_or(|(s, _)| s != f) {
            cached = Some((f.to_string(), parse(f)?));
        }
        let pieces = cached.as_ref().map(|(_, p)| p.as_slice()).unwrap_or(&[]);
        let values = a[1..]
            .iter()
            .map(|c| jval(c, i))
            .collect::<Result<Vec<_>>>()?;
        format_row(pieces, &values).map(Some)
    })
}

/// The registry entries: `format_string` and `printf`.
pub(crate) fn functions() -> Vec<(&'static str, std::sync::Arc<dyn ScalarFunction>)> {
    SimpleFunction::new(
        "format_string",
        (1, usize::MAX),
        coerce_format,
        ret_string,
        eval_format,
    )
    .entries(&["printf"])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(f: &str, v: &[JVal]) -> String {
        format_row(&parse(f).unwrap(), v).unwrap()
    }

    #[test]
    fn java_format_forms() {
        let d = |x| JVal::Double(x);
        let i = |x| JVal::Int(x, 32);
        assert_eq!(fmt("%.2f", &[d(2.675)]), "2.68");
        assert_eq!(fmt("%.0f", &[d(2.5)]), "3");
        assert_eq!(fmt("%10.3f|", &[d(5.43216)]), "     5.432|");
        assert_eq!(fmt("%08.2f", &[d(-3.5)]), "-0003.50");
        assert_eq!(fmt("%e", &[d(12345.678)]), "1.234568e+04");
        assert_eq!(fmt("%.1e", &[d(0.000123)]), "1.2e-04");
        assert_eq!(fmt("%f", &[d(0.0)]), "0.000000");
        assert_eq!(fmt("%g", &[d(0.0001)]), "0.000100000");
        assert_eq!(
            fmt("%05d|%+d|%,d", &[i(42), i(42), i(1234567)]),
            "00042|+42|1,234,567"
        );
        assert_eq!(fmt("%x %X %o", &[i(-1), i(255), i(8)]), "ffffffff FF 10");
        assert_eq!(fmt("%x", &[JVal::Int(-1, 64)]), "ffffffffffffffff");
        assert_eq!(fmt("%2$s %1$s %<s", &[i(1), i(2)]), "2 1 1");
        assert_eq!(
            fmt("%-5s|%5s|%b %c %%", &[i(1), JVal::Null, JVal::Null, i(65)]),
            "1    | null|false A %"
        );
    }

    #[test]
    fn errors_name_java_exceptions() {
        let e = format_row(&parse("%d").unwrap(), &[JVal::Double(1.0)]).unwrap_err();
        assert!(e.to_string().contains("d != java.lang.Double"), "{e}");
        let e = format_row(&parse("%s %s").unwrap(), &[JVal::Null]).unwrap_err();
        assert!(e.to_string().contains("Format specifier '%s'"), "{e}");
        assert!(parse("%q").is_err());
    }
}
