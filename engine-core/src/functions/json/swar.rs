//! Eight bytes at a time in a register: finding the first byte that ends a JSON string's
//! plain run (its quote, a backslash, a control character), shared by the decoder and its
//! fast skip.

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// A mask with the high bit set in the lowest byte of `x` (little-endian) that is `q`, a
/// backslash or (when `ctl`) a control character below 0x20. Only the lowest set bit is
/// exact: a borrow from a matching byte may also mark bytes above it, never below, so
/// `trailing_zeros() / 8` is the index of the first special byte.
#[inline(always)]
pub(super) fn special_mask(x: u64, q: u8, ctl: bool) -> u64 {
    let zero = |v: u64| v.wrapping_sub(LO) & !v & HI;
    let mut m = zero(x ^ (LO * u64::from(q))) | zero(x ^ (LO * u64::from(b'\\')));
    if ctl {
        m |= x.wrapping_sub(LO * 0x20) & !x & HI;
    }
    m
}
