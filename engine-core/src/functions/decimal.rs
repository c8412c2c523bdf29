//! Exact DECIMAL helpers on unscaled `i128` values (Spark rounds HALF_UP).

/// `10^n` if it fits in an `i128`.
pub(crate) fn pow10(n: u32) -> Option<i128> {
    10i128.checked_pow(n)
}

/// Divides with Java's `RoundingMode.HALF_UP` (ties away from zero).
pub(crate) fn div_half_up(x: i128, y: i128) -> Option<i128> {
    if y == 0 {
        return None;
    }
    let q = x.checked_div(y)?;
    let r = x.checked_rem(y)?;
    // |2r| >= |y| means round away from zero.
    let twice = r.unsigned_abs().checked_mul(2)?;
    if twice >= y.unsigned_abs() {
        if (x < 0) != (y < 0) {
            q.checked_sub(1)
        } else {
            q.checked_add(1)
        }
    } else {
        Some(q)
    }
}

/// Changes the scale of an unscaled value, rounding HALF_UP when digits are dropped.
pub(crate) fn rescale(v: i128, from: i8, to: i8) -> Option<i128> {
    let diff = to as i32 - from as i32;
    if diff >= 0 {
        v.checked_mul(pow10(diff as u32)?)
    } else {
        div_half_up(v, pow10((-diff) as u32)?)
    }
}

/// True when `v` has at most `precision` digits.
pub(crate) fn fits(v: i128, precision: u8) -> bool {
    match pow10(precision as u32) {
        Some(limit) => v.unsigned_abs() < limit.unsigned_abs(),
        None => true,
    }
}

/// Spark's `NUMERIC_VALUE_OUT_OF_RANGE` for a decimal result that does not fit.
pub(crate) fn decimal_out_of_range(
    unscaled: Option<i128>,
    scale: i8,
    p: u8,
    s: i8,
) -> crate::EngineError {
    let value = unscaled
        .map(|v| crate::format::format_decimal(v, scale))
        .unwrap_or_else(|| "The value".into());
    crate::EngineError::execution(
        "NUMERIC_VALUE_OUT_OF_RANGE.WITH_SUGGESTION",
        format!(
            " {value} cannot be represented as Decimal({p}, {s}). If necessary set \"spark.sql.ansi.enabled\" to \"false\" to bypass this error, and return NULL instead. SQLSTATE: 22003"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_half_up() {
        assert_eq!(div_half_up(15, 10), Some(2));
        assert_eq!(div_half_up(-15, 10), Some(-2));
        assert_eq!(div_half_up(14, 10), Some(1));
        assert_eq!(rescale(12345, 3, 1), Some(123));
        assert_eq!(rescale(12355, 3, 1), Some(124));
        assert_eq!(rescale(12, 0, 2), Some(1200));
        assert!(fits(999, 3));
        assert!(!fits(1000, 3));
    }
}
