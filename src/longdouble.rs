//! Bit-exact emulation of the C `long double` arithmetic Redis 7.0 performs on x86-64 Linux.
//!
//! Redis implements `INCRBYFLOAT`, `HINCRBYFLOAT` and the seconds-based timeouts of blocking
//! commands with C `long double`, which gcc on x86-64 maps to the x87 80-bit extended format:
//! a sign, a 15-bit exponent and a 64-bit significand with an explicit integer bit, rounded to
//! nearest with ties to even. Its replies therefore differ from `f64` arithmetic: three
//! `INCRBYFLOAT k 0.1` reply "0.3", not "0.30000000000000004". This module reproduces, byte for
//! byte, the few operations Redis applies to such values:
//!
//! * [`LongDouble::parse`]: `string2ld` (glibc `strtold` plus Redis's validity checks);
//! * [`LongDouble::add`]: the x87 addition;
//! * [`LongDouble::write_human`]: `ld2string(.., LD_STR_HUMAN)`, i.e. glibc's `"%.17Lf"`, trimmed;
//! * [`LongDouble::mul1000_to_i64`]: `(long long)(v * 1000.0)`.
//!
//! Conversions are exact: decimal input is converted with big-integer arithmetic and correctly
//! rounded (as glibc does), and output is derived from the exact binary value. Work is bounded
//! by Redis's 5 KiB input limit and the format's exponent range, so hostile input stays cheap.
//!
//! As in Redis, the C locale and the default rounding mode are assumed. The reference is glibc
//! (checked against 2.36), including one quirk of its `strtold`: a hexadecimal input whose value
//! is subnormal is rounded as if its 65th significant bit were zero (see `round_ratio`).

use std::cmp::Ordering;

/// `string2ld` rejects inputs of this many bytes or more (Redis's `MAX_LONG_DOUBLE_CHARS`).
const MAX_LONG_DOUBLE_CHARS: usize = 5 * 1024;
/// Weight of the lowest significand bit of subnormals and of the smallest normal exponent.
const MIN_EXP: i32 = -16445;
/// Weight of the lowest significand bit of the largest finite numbers.
const MAX_EXP: i32 = 16320;
/// Values below `2^MIN_NORMAL_LOG2` are subnormal.
const MIN_NORMAL_LOG2: i32 = -16382;
/// Biased x87 exponent of a normal number is `exp + EXP_BIAS` (15-bit bias plus 63 fraction bits).
const EXP_BIAS: i32 = 16383 + 63;
/// Parsed exponents saturate here: far beyond any finite or nonzero result, and overflow-safe.
const EXPONENT_LIMIT: i32 = 1 << 20;
/// Decimal inputs of at least `10^DEC_OVERFLOW` overflow (the maximum is about 1.19e4932).
const DEC_OVERFLOW: i32 = 4933;
/// Decimal inputs below `10^DEC_UNDERFLOW` round to zero (half the least subnormal is 1.82e-4951).
const DEC_UNDERFLOW: i32 = -4951;

/// A C `long double` as x87 holds it (sign, 64-bit significand, binary exponent), NaN and
/// infinities included.
#[derive(Clone, Copy, Debug)]
pub struct LongDouble {
    negative: bool,
    class: Class,
}

/// The kind of number a [`LongDouble`] holds.
#[derive(Clone, Copy, Debug)]
enum Class {
    /// `mant * 2^exp`. Zero is `mant == 0, exp == MIN_EXP`; normal numbers have the top bit of
    /// `mant` set and `MIN_EXP <= exp <= MAX_EXP`; subnormals have `exp == MIN_EXP`.
    Finite { mant: u64, exp: i32 },
    /// Positive or negative infinity.
    Infinite,
    /// Only produced by `inf + -inf`; encoded as x87's default NaN ("real indefinite").
    Nan,
}

impl LongDouble {
    /// Redis's `string2ld` (util.c): glibc `strtold` on the whole input, correctly rounded, and
    /// `None` when Redis rejects it: empty or at least 5120 bytes, leading C whitespace, any
    /// unparsed byte (including an embedded NUL), overflow to infinity, underflow to zero, or NaN.
    /// Accepted are signs, "1.", ".5", exponents, "inf"/"infinity" in any case, hexadecimal
    /// floats ("0x1.8p3"), subnormal results and "-0".
    pub fn parse(s: &[u8]) -> Option<LongDouble> {
        if s.is_empty() || s.len() >= MAX_LONG_DOUBLE_CHARS || is_c_space(s[0]) {
            return None;
        }
        let (negative, body) = split_sign(s);
        if body.eq_ignore_ascii_case(b"inf") || body.eq_ignore_ascii_case(b"infinity") {
            return Some(Self::infinity(negative));
        }
        // NaN spellings fall through to the numeric grammar and fail: Redis rejects NaN anyway.
        match body {
            [b'0', b'x' | b'X', hex @ ..] => parse_hex(negative, hex),
            _ => parse_decimal(negative, body),
        }
    }

    /// The exact conversion `(long double)v`.
    pub fn from_i64(v: i64) -> LongDouble {
        round(v < 0, u128::from(v.unsigned_abs()), 0, false)
    }

    /// `self + other` as x87 computes it: exact sum rounded to nearest even, overflow to
    /// infinity, `inf + -inf` is NaN, and an exact zero is `+0` unless both operands are `-0`.
    #[allow(clippy::should_implement_trait, reason = "callable without importing ops::Add")]
    pub fn add(self, other: LongDouble) -> LongDouble {
        match (self.class, other.class) {
            (Class::Nan, _) | (_, Class::Nan) => Self::NAN,
            (Class::Infinite, Class::Infinite) if self.negative != other.negative => Self::NAN,
            (Class::Infinite, _) => self,
            (_, Class::Infinite) => other,
            (Class::Finite { mant: a, exp: ea }, Class::Finite { mant: b, exp: eb }) => {
                add_finite((self.negative, a, ea), (other.negative, b, eb))
            }
        }
    }

    /// Whether this is a NaN.
    pub fn is_nan(self) -> bool {
        matches!(self.class, Class::Nan)
    }

    /// Whether this is positive or negative infinity.
    pub fn is_infinite(self) -> bool {
        matches!(self.class, Class::Infinite)
    }

    /// Appends Redis's `ld2string(.., LD_STR_HUMAN)`: glibc's `"%.17Lf"` (the exact value rounded
    /// half-even to 17 fractional digits) with trailing fractional zeros and a trailing '.'
    /// removed, and "-0" printed as "0". Infinities print as "inf"/"-inf" like Redis; NaN, which
    /// Redis never formats this way, prints as glibc's "nan"/"-nan".
    pub fn write_human(self, out: &mut Vec<u8>) {
        let (mant, exp) = match self.class {
            Class::Finite { mant, exp } => (mant, exp),
            Class::Infinite => return out.extend_from_slice(self.sign_prefix(b"-inf")),
            Class::Nan => return out.extend_from_slice(self.sign_prefix(b"-nan")),
        };
        if exp >= 0 {
            // An integer: all 17 fractional digits are zeros and get trimmed.
            let mut int = BigUint::from_u64(mant);
            int.shl(exp.unsigned_abs());
            if self.negative && !int.is_zero() {
                out.push(b'-');
            }
            int.write_decimal(out);
            return;
        }
        // value * 10^17 = mant * 10^17 / 2^-exp, where mant * 10^17 < 2^121.
        let scaled = shr_round_half_even(u128::from(mant) * POW10_17, exp.unsigned_abs(), false);
        if scaled == 0 {
            out.push(b'0');
            return;
        }
        if self.negative {
            out.push(b'-');
        }
        push_decimal(out, scaled / POW10_17, 1);
        let frac = scaled % POW10_17;
        if frac != 0 {
            out.push(b'.');
            push_decimal(out, frac, 17);
            while out.last() == Some(&b'0') {
                out.pop();
            }
        }
    }

    /// `(long long)(self * 1000.0)` as gcc compiles it on x86-64: the product rounded to extended
    /// precision, then truncated toward zero; NaN, infinities and values outside the `i64` range
    /// give `i64::MIN`, x87's "integer indefinite".
    pub fn mul1000_to_i64(self) -> i64 {
        self.mul1000_to_i64_rounding(false)
    }

    /// `(long long) ceill(self * 1000.0)`: as [`Self::mul1000_to_i64`] but rounded up, which is
    /// how Redis 7.0.15 turns a blocking command's timeout in seconds into milliseconds.
    pub fn mul1000_ceil_to_i64(self) -> i64 {
        self.mul1000_to_i64_rounding(true)
    }

    /// The product `self * 1000` in extended precision, converted to `i64` toward zero or, with
    /// `ceil`, toward +infinity; `i64::MIN` when it is not finite or out of range.
    fn mul1000_to_i64_rounding(self, ceil: bool) -> i64 {
        let Class::Finite { mant, exp } = self.class else {
            return i64::MIN;
        };
        let Class::Finite { mant, exp } = round(self.negative, u128::from(mant) * 1000, exp, false).class else {
            return i64::MIN;
        };
        if exp >= 0 {
            return if mant == 0 { 0 } else { i64::MIN };
        }
        let shift = exp.unsigned_abs();
        let magnitude = mant.checked_shr(shift).unwrap_or(0);
        let fraction = if shift >= 64 { mant != 0 } else { mant & ((1 << shift) - 1) != 0 };
        let up = u64::from(ceil && fraction && !self.negative);
        match magnitude.checked_add(up).map(i64::try_from) {
            Some(Ok(m)) if self.negative => -m,
            Some(Ok(m)) => m,
            _ => i64::MIN,
        }
    }

    /// The 80-bit x87 encoding as `fstpt` stores it: sign in bit 79, biased exponent in bits
    /// 64..79, significand (with its explicit integer bit) in bits 0..64.
    pub fn to_bits(self) -> u128 {
        let (biased_exp, mant) = match self.class {
            Class::Finite { mant, exp } if mant >> 63 == 1 => ((exp + EXP_BIAS) as u128, mant),
            Class::Finite { mant, .. } => (0, mant),
            Class::Infinite => (0x7fff, 1 << 63),
            Class::Nan => (0x7fff, 0xc000_0000_0000_0000),
        };
        (u128::from(self.negative) << 79) | (biased_exp << 64) | u128::from(mant)
    }

    /// x87's default NaN, which has the sign bit set.
    const NAN: LongDouble = LongDouble { negative: true, class: Class::Nan };

    /// `+0` or `-0`.
    fn zero(negative: bool) -> LongDouble {
        let class = Class::Finite { mant: 0, exp: MIN_EXP };
        LongDouble { negative, class }
    }

    /// `+inf` or `-inf`.
    fn infinity(negative: bool) -> LongDouble {
        let class = Class::Infinite;
        LongDouble { negative, class }
    }

    /// `signed` (which starts with '-') without its sign when this value is positive.
    fn sign_prefix(self, signed: &'static [u8]) -> &'static [u8] {
        if self.negative { signed } else { &signed[1..] }
    }
}

/// `a + b` is [`LongDouble::add`].
impl std::ops::Add for LongDouble {
    type Output = LongDouble;

    fn add(self, other: LongDouble) -> LongDouble {
        LongDouble::add(self, other)
    }
}

/// `10^17`: `"%.17Lf"` prints 17 fractional digits.
const POW10_17: u128 = 100_000_000_000_000_000;

/// The C locale's `isspace`.
fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// Splits an optional leading '+' or '-' off `s`; returns whether it was '-'.
fn split_sign(s: &[u8]) -> (bool, &[u8]) {
    match s {
        [b'-', rest @ ..] => (true, rest),
        [b'+', rest @ ..] => (false, rest),
        _ => (false, s),
    }
}

/// Parses the decimal form: `digits [. digits] [e [sign] digits]`, the whole of `s`.
fn parse_decimal(negative: bool, s: &[u8]) -> Option<LongDouble> {
    let (int, frac, exp) = split_number(s, u8::is_ascii_digit, b'e')?;
    let digits = significant_digits(int, frac);
    if digits.is_empty() {
        return Some(LongDouble::zero(negative));
    }
    // The value is digits * 10^scale, with 10^(n-1) <= digits < 10^n.
    let scale = exp - frac.len() as i32;
    let n = digits.len() as i32;
    if n - 1 + scale >= DEC_OVERFLOW || n + scale <= DEC_UNDERFLOW {
        return None;
    }
    let mut num = BigUint::from_digits(&digits, 10);
    let mut den = BigUint::from_u64(1);
    if scale >= 0 {
        num.mul_pow5(scale.unsigned_abs());
    } else {
        den.mul_pow5(scale.unsigned_abs());
    }
    reject_out_of_range(round_ratio(negative, num, den, scale))
}

/// Parses the part after "0x": `hexdigits [. hexdigits] [p [sign] decimal-digits]`.
fn parse_hex(negative: bool, s: &[u8]) -> Option<LongDouble> {
    let (int, frac, exp) = split_number(s, u8::is_ascii_hexdigit, b'p')?;
    let digits = significant_digits(int, frac);
    if digits.is_empty() {
        return Some(LongDouble::zero(negative));
    }
    let num = BigUint::from_digits(&digits, 16);
    let bin_exp = exp - 4 * frac.len() as i32;
    reject_out_of_range(round_ratio(negative, num, BigUint::from_u64(1), bin_exp))
}

/// Matches `s` entirely against strtold's `mantissa [marker [sign] decimal-digits]`, where the
/// mantissa has at least one digit and at most one '.'. Returns the digits before and after the
/// point and the exponent, saturated at `EXPONENT_LIMIT`.
fn split_number(s: &[u8], is_digit: fn(&u8) -> bool, marker: u8) -> Option<(&[u8], &[u8], i32)> {
    let (int, rest) = s.split_at(s.iter().take_while(|d| is_digit(d)).count());
    let (frac, rest) = match rest {
        [b'.', after @ ..] => after.split_at(after.iter().take_while(|d| is_digit(d)).count()),
        _ => (&rest[..0], rest),
    };
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let exp = match rest {
        [] => 0,
        [m, exp @ ..] if m.to_ascii_lowercase() == marker => parse_exponent(exp)?,
        _ => return None,
    };
    Some((int, frac, exp))
}

/// Parses `[sign] decimal-digits`, saturating the magnitude at `EXPONENT_LIMIT`.
fn parse_exponent(s: &[u8]) -> Option<i32> {
    let (negative, digits) = split_sign(s);
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let magnitude = digits.iter().fold(0, |acc: i32, d| (acc * 10 + i32::from(d - b'0')).min(EXPONENT_LIMIT));
    Some(if negative { -magnitude } else { magnitude })
}

/// The mantissa digits `int` followed by `frac`, without leading zeros.
fn significant_digits(int: &[u8], frac: &[u8]) -> Vec<u8> {
    let all = int.iter().chain(frac).copied();
    all.skip_while(|&d| d == b'0').collect()
}

/// Applies Redis's ERANGE checks to the rounding of a nonzero literal: overflow to infinity and
/// underflow to zero are rejected (subnormal results are accepted).
fn reject_out_of_range(value: LongDouble) -> Option<LongDouble> {
    match value.class {
        Class::Finite { mant, .. } if mant != 0 => Some(value),
        _ => None,
    }
}

/// Rounds `num / den * 2^bin_exp` (with `num` nonzero) to the nearest long double.
fn round_ratio(negative: bool, mut num: BigUint, mut den: BigUint, bin_exp: i32) -> LongDouble {
    // Scale so that the quotient has 127 or 128 bits: ample guard bits for `round`.
    let scale = 127 + den.bit_len() - num.bit_len();
    if scale >= 0 {
        num.shl(scale.unsigned_abs());
    } else {
        den.shl(scale.unsigned_abs());
    }
    let (mut quotient, inexact) = num.div_to_u128(&den);
    let exp = bin_exp - scale;
    let len = 128 - quotient.leading_zeros() as i32;
    if len - 1 + exp < MIN_NORMAL_LOG2 {
        // glibc quirk: for a subnormal result, strtold's round_and_return re-rounds the 64 leading
        // bits using only the bits after the 65th as sticky, losing the 65th bit itself. Only
        // exact hexadecimal input can expose this (decimal input that short is never so exact).
        quotient &= !(1 << (len - 65));
    }
    round(negative, quotient, exp, inexact)
}

/// Exact sum of two finite values given as `(negative, mant, exp)`, rounded to a long double.
fn add_finite(a: (bool, u64, i32), b: (bool, u64, i32)) -> LongDouble {
    let ((hi_neg, hi_mant, hi_exp), (lo_neg, lo_mant, lo_exp)) = if a.2 >= b.2 { (a, b) } else { (b, a) };
    // Both significands get 63 guard bits; bits of `lo` shifted out only make the sum inexact.
    let x = u128::from(hi_mant) << 63;
    let (y, inexact) = shr_sticky(u128::from(lo_mant) << 63, (hi_exp - lo_exp).unsigned_abs());
    let exp = hi_exp - 63;
    if hi_neg == lo_neg {
        return round(hi_neg, x + y, exp, inexact);
    }
    // When `inexact`, `lo` exceeded 2^63 guard units of `hi`, so `x` (at least 2^126) dominates
    // and the true difference lies strictly between `x - y - 1` and `x - y`.
    match x.cmp(&y) {
        Ordering::Greater => round(hi_neg, x - y - u128::from(inexact), exp, inexact),
        // Only possible when the exponents are equal, hence exact.
        Ordering::Less => round(lo_neg, y - x, exp, false),
        Ordering::Equal => LongDouble::zero(false),
    }
}

/// `v >> n` and whether any 1 bits were shifted out.
fn shr_sticky(v: u128, n: u32) -> (u128, bool) {
    if n >= 128 { (0, v != 0) } else { (v >> n, v & ((1 << n) - 1) != 0) }
}

/// `r / 2^shift` rounded to nearest, ties to even. If `inexact`, the dividend is really `r`
/// plus some fraction in (0, 1), which only matters to break an exact tie (needs `shift >= 1`).
fn shr_round_half_even(r: u128, shift: u32, inexact: bool) -> u128 {
    if shift == 0 {
        return r;
    }
    let kept = r.checked_shr(shift).unwrap_or(0);
    if shift > 128 {
        return kept;
    }
    let half = 1u128 << (shift - 1);
    let round_up = match (r & (half | (half - 1))).cmp(&half) {
        Ordering::Greater => true,
        Ordering::Equal => inexact || kept & 1 == 1,
        Ordering::Less => false,
    };
    kept + u128::from(round_up)
}

/// Rounds `(r + f) * 2^e` to the nearest long double (ties to even, overflow to infinity, gradual
/// underflow), where `f` is an unknown fraction in (0, 1) if `inexact` and 0 otherwise.
/// When `inexact`, `r` must exceed 64 bits so that `f` lies below the rounding position.
fn round(negative: bool, r: u128, e: i32, inexact: bool) -> LongDouble {
    if r == 0 {
        return LongDouble::zero(negative);
    }
    debug_assert!(!inexact || r >> 64 != 0);
    let len = 128 - r.leading_zeros() as i32;
    let exp = (e + len - 64).max(MIN_EXP);
    let mant = match exp - e {
        shift if shift <= 0 => r << shift.unsigned_abs(),
        shift => shr_round_half_even(r, shift.unsigned_abs(), inexact),
    };
    // Rounding up may carry into a 65th bit.
    let (mant, exp) = if mant >> 64 != 0 { (mant >> 1, exp + 1) } else { (mant, exp) };
    if exp > MAX_EXP {
        return LongDouble::infinity(negative);
    }
    if mant == 0 {
        return LongDouble::zero(negative);
    }
    let class = Class::Finite { mant: mant as u64, exp };
    LongDouble { negative, class }
}

/// Appends the decimal digits of `v`, left-padded with zeros to at least `width` digits.
fn push_decimal(out: &mut Vec<u8>, mut v: u128, width: usize) {
    let start = out.len();
    while v != 0 || out.len() - start < width.max(1) {
        out.push(b'0' + (v % 10) as u8);
        v /= 10;
    }
    out[start..].reverse();
}

/// A minimal arbitrary-precision unsigned integer, just enough for exact conversions:
/// little-endian 32-bit limbs without high zero limbs.
#[derive(Clone, Debug, PartialEq, Eq)]
struct BigUint {
    limbs: Vec<u32>,
}

impl BigUint {
    /// The value `v`.
    fn from_u64(v: u64) -> Self {
        let mut n = BigUint { limbs: vec![v as u32, (v >> 32) as u32] };
        n.trim();
        n
    }

    /// The number written with `digits` (ASCII, valid for `radix` 10 or 16), most significant first.
    fn from_digits(digits: &[u8], radix: u32) -> Self {
        let mut n = BigUint { limbs: Vec::new() };
        // Seven digits at a time: 16^7 and 10^7 both fit in a limb.
        for chunk in digits.chunks(7) {
            let value = chunk.iter().fold(0, |acc, &d| acc * radix + char::from(d).to_digit(radix).unwrap_or(0));
            n.mul_add_small(radix.pow(chunk.len() as u32), value);
        }
        n
    }

    /// Restores the invariant: no high zero limbs.
    fn trim(&mut self) {
        while self.limbs.last() == Some(&0) {
            self.limbs.pop();
        }
    }

    /// Whether the value is zero.
    fn is_zero(&self) -> bool {
        self.limbs.is_empty()
    }

    /// Number of significant bits (small here: inputs are bounded).
    fn bit_len(&self) -> i32 {
        let top = self.limbs.last().map_or(0, |l| l.leading_zeros());
        (32 * self.limbs.len()) as i32 - top as i32
    }

    /// `self = self * m + a`.
    fn mul_add_small(&mut self, m: u32, a: u32) {
        let mut carry = u64::from(a);
        for limb in &mut self.limbs {
            let t = u64::from(*limb) * u64::from(m) + carry;
            *limb = t as u32;
            carry = t >> 32;
        }
        self.limbs.push(carry as u32);
        self.trim();
    }

    /// `self *= 5^n`.
    fn mul_pow5(&mut self, mut n: u32) {
        while n > 0 {
            let step = n.min(13); // 5^13 fits in a limb
            self.mul_add_small(5u32.pow(step), 0);
            n -= step;
        }
    }

    /// `self <<= bits`.
    fn shl(&mut self, bits: u32) {
        if self.is_zero() {
            return;
        }
        let (words, bits) = ((bits / 32) as usize, bits % 32);
        if bits > 0 {
            let mut carry = 0;
            for limb in &mut self.limbs {
                let t = (u64::from(*limb) << bits) | carry;
                *limb = t as u32;
                carry = t >> 32;
            }
            self.limbs.push(carry as u32);
            self.trim();
        }
        self.limbs.splice(0..0, std::iter::repeat_n(0, words));
    }

    /// `self >>= 1`.
    fn shr1(&mut self) {
        let mut carry = 0;
        for limb in self.limbs.iter_mut().rev() {
            let low = *limb & 1;
            *limb = (*limb >> 1) | (carry << 31);
            carry = low;
        }
        self.trim();
    }

    /// `self -= other`; requires `self >= other`.
    fn sub_assign(&mut self, other: &Self) {
        let mut borrow = false;
        for (i, limb) in self.limbs.iter_mut().enumerate() {
            let (d1, b1) = limb.overflowing_sub(other.limbs.get(i).copied().unwrap_or(0));
            let (d2, b2) = d1.overflowing_sub(u32::from(borrow));
            *limb = d2;
            borrow = b1 || b2;
        }
        self.trim();
    }

    /// `self /= d`, returning the remainder.
    fn div_rem_small(&mut self, d: u32) -> u32 {
        let mut rem = 0u64;
        for limb in self.limbs.iter_mut().rev() {
            let cur = (rem << 32) | u64::from(*limb);
            *limb = (cur / u64::from(d)) as u32;
            rem = cur % u64::from(d);
        }
        self.trim();
        rem as u32
    }

    /// The quotient `self / den` (which must be below 2^128) and whether a remainder was left,
    /// by binary long division; `self` is left holding the remainder.
    fn div_to_u128(&mut self, den: &Self) -> (u128, bool) {
        let Ok(steps) = u32::try_from(self.bit_len() - den.bit_len()) else {
            return (0, !self.is_zero());
        };
        debug_assert!(steps < 128);
        let mut d = den.clone();
        d.shl(steps);
        let mut quotient = 0u128;
        for _ in 0..=steps {
            quotient <<= 1;
            if *self >= d {
                self.sub_assign(&d);
                quotient |= 1;
            }
            d.shr1();
        }
        (quotient, !self.is_zero())
    }

    /// Appends the decimal digits of `self`.
    fn write_decimal(mut self, out: &mut Vec<u8>) {
        const CHUNK: u32 = 1_000_000_000;
        let mut chunks = Vec::new();
        while !self.is_zero() {
            chunks.push(self.div_rem_small(CHUNK));
        }
        let mut chunks = chunks.into_iter().rev();
        push_decimal(out, chunks.next().unwrap_or(0).into(), 1);
        for chunk in chunks {
            push_decimal(out, chunk.into(), 9);
        }
    }
}

impl Ord for BigUint {
    fn cmp(&self, other: &Self) -> Ordering {
        let by_len = self.limbs.len().cmp(&other.limbs.len());
        by_len.then_with(|| self.limbs.iter().rev().cmp(other.limbs.iter().rev()))
    }
}

impl PartialOrd for BigUint {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::LongDouble;

    /// `(long long) ceill(strtold(s) * 1000.0)` as gcc -O2 on x86-64 computes it.
    #[test]
    fn mul1000_ceil_matches_c() {
        for (input, want) in [
            ("0.0001", 1),
            ("-0.0001", 0),
            ("-0.001", 0),
            ("0.001", 1),
            ("1.5", 1500),
            ("0.0015", 2),
            ("-1.5", -1500),
            ("-0.0015", -1),
            ("9223372036854775.807", 9223372036854775807),
            ("9223372036854775.808", i64::MIN),
            ("-9223372036854775.808", -9223372036854775807),
            ("-9223372036854775.809", i64::MIN),
            ("1e20", i64::MIN),
            ("inf", i64::MIN),
            ("-inf", i64::MIN),
            ("0", 0),
            ("-0", 0),
            ("2.5e-3", 3),
            ("0.1", 100),
            ("0x10", 16000),
            ("1e-4000", 1),
        ] {
            let v = LongDouble::parse(input.as_bytes()).expect(input);
            assert_eq!(v.mul1000_ceil_to_i64(), want, "{input}");
        }
    }

    /// `None` for a rejected input or a NaN sum, else (x87 bits, human form, mul1000_to_i64).
    type Expected = Option<(u128, &'static str, i64)>;

    fn human(v: LongDouble) -> String {
        let mut out = Vec::new();
        v.write_human(&mut out);
        String::from_utf8(out).expect("ASCII output")
    }

    /// As in ref/gen_tables.py: outputs longer than 450 bytes are compared by ends and length.
    fn abbreviate(s: String) -> String {
        if s.len() <= 450 {
            return s;
        }
        format!("{}...{}[{}]", &s[..32], &s[s.len() - 32..], s.len())
    }

    fn check(label: &str, got: LongDouble, (bits, human_form, mul1000): (u128, &str, i64)) {
        assert_eq!(got.to_bits(), bits, "bits of {label}");
        assert_eq!(abbreviate(human(got)), human_form, "human form of {label}");
        assert_eq!(got.mul1000_to_i64(), mul1000, "mul1000_to_i64 of {label}");
    }

    fn parse(s: &str) -> LongDouble {
        LongDouble::parse(s.as_bytes()).unwrap_or_else(|| panic!("{s:?} should parse"))
    }

    /// The reply of INCRBYFLOAT on a key holding `stored` (`None`: no such key).
    fn incrbyfloat(stored: Option<&str>, incr: &str) -> String {
        let current = stored.map_or(LongDouble::from_i64(0), parse);
        human(current.add(parse(incr)))
    }

    #[test]
    fn parse_matches_reference() {
        for &(input, want) in PARSE_CASES {
            let label = String::from_utf8_lossy(input);
            match (LongDouble::parse(input), want) {
                (None, None) => {}
                (Some(v), Some(w)) => check(&label, v, w),
                (got, _) => panic!("{label:?}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn sums_match_reference() {
        for &(a, b, want) in SUM_CASES {
            let sum = parse(a).add(parse(b));
            match want {
                None => assert!(sum.is_nan(), "{a} + {b} should be NaN"),
                Some(w) => check(&format!("{a} + {b}"), sum, w),
            }
        }
    }

    #[test]
    fn redis_known_results() {
        assert_eq!(incrbyfloat(None, "0.1"), "0.1");
        assert_eq!(incrbyfloat(Some("0.1"), "0.1"), "0.2");
        assert_eq!(incrbyfloat(Some("0.2"), "0.1"), "0.3");
        assert_eq!(incrbyfloat(Some("1.1"), "2.2"), "3.3");
        assert_eq!(incrbyfloat(Some("123456789012345678"), "0"), "123456789012345678");
        assert_eq!(incrbyfloat(Some("1.5e-300"), "0"), "0");
        assert_eq!(incrbyfloat(Some("10.5"), "0"), "10.5");
        assert_eq!(incrbyfloat(Some("5.0e3"), "0"), "5000");
        assert_eq!(
            incrbyfloat(Some("1e308"), "0"),
            "99999999999999999996685879655845645660560099847415567207797047994921734868838061\
             87210012692188853932044674722505401322315213474959396058359742081443019641876795\
             91000196031907786631096045071066679391533957889389145605435630612683649016186302\
             17086589253444881623791300855757318142424510452728255046343928578048"
        );
        assert_eq!(human(parse("0x10")), "16");
        assert_eq!(parse("1e400").to_bits(), 0x452f_da763fc8cb9ff9e6);
        assert!(parse("inf").is_infinite() && parse("-INFINITY").is_infinite());
        for rejected in ["nan", " 1", "1 ", "", "1e5000", "1e-5000"] {
            assert!(LongDouble::parse(rejected.as_bytes()).is_none(), "{rejected:?}");
        }
        // Blocking commands reply "timeout is negative" for these.
        assert_eq!(parse("inf").mul1000_to_i64(), i64::MIN);
        assert_eq!(parse("-0.5").mul1000_to_i64(), -500);
        // Not negative after truncation (0.001 is slightly below 1/1000 in long double).
        assert_eq!(parse("-0.001").mul1000_to_i64(), 0);
    }

    #[test]
    fn length_limit_and_costly_inputs() {
        // 5119 bytes is the longest input string2ld accepts.
        let longest = format!("1.{}", "3".repeat(5117));
        assert_eq!(parse(&longest).to_bits(), 0x3fff_aaaaaaaaaaaaaaab);
        assert!(LongDouble::parse(format!("{longest}3").as_bytes()).is_none());
        assert!(LongDouble::parse(format!("0.{}1", "0".repeat(5000)).as_bytes()).is_none());
        let shifted = format!("0.{}1e5000", "0".repeat(5000));
        assert_eq!(parse(&shifted).to_bits(), 0x3ffb_cccccccccccccccd);
        let subnormal = format!("{}e-9000", "7".repeat(5113));
        assert_eq!(parse(&subnormal).to_bits(), 0x0d8e_9de80482b47a6d7b);
        assert_eq!(parse(&format!("{}e-4933", "9".repeat(5000))).to_bits(), 0x40dd_bde94e8e43d0c8ec);
        let largest = "1".repeat(4933);
        assert_eq!(parse(&largest).to_bits(), 0x7ffe_ef15384a66c5f5c7);
        assert_eq!(human(parse(&largest)).len(), 4933);
        assert!(LongDouble::parse("1".repeat(4934).as_bytes()).is_none());
        assert!(LongDouble::parse(format!("0x{}", "f".repeat(5117)).as_bytes()).is_none());
        assert!(LongDouble::parse(b"1e-999999999999").is_none());
        assert!(LongDouble::parse(b"0e999999999999").is_some());
    }

    #[test]
    fn from_i64_is_exact() {
        for v in [0, 1, -1, 42, -1000, 1 << 53, (1 << 53) + 1, i64::MAX, i64::MIN + 1, i64::MIN] {
            let x = LongDouble::from_i64(v);
            assert_eq!(x.to_bits(), parse(&v.to_string()).to_bits(), "{v}");
            assert_eq!(human(x), v.to_string());
        }
        assert_eq!(LongDouble::from_i64(9_223_372_036_854_775).mul1000_to_i64(), 9_223_372_036_854_775_000);
        assert_eq!(LongDouble::from_i64(i64::MAX).mul1000_to_i64(), i64::MIN);
    }

    #[test]
    fn special_values() {
        let (inf, neg_inf) = (parse("inf"), parse("-inf"));
        assert!(inf.add(neg_inf).is_nan() && !inf.add(inf).is_nan());
        assert_eq!(inf.add(parse("-1e4932")).to_bits(), inf.to_bits());
        assert_eq!((human(inf), human(neg_inf)), ("inf".to_string(), "-inf".to_string()));
        assert_eq!(inf.add(neg_inf).mul1000_to_i64(), i64::MIN);
        assert_eq!(parse("-0").add(parse("0")).to_bits(), 0);
        assert_eq!(parse("-0").add(parse("-0")).to_bits(), 1 << 79);
    }

    /// (input, None if `string2ld` rejects it, else (x87 bits, human form, mul1000)).
    #[rustfmt::skip]
    const PARSE_CASES: &[(&[u8], Expected)] = &[
        (b"0.1", Some((0x3ffb_cccccccccccccccd, "0.1", 100))),
        (b"0.2", Some((0x3ffc_cccccccccccccccd, "0.2", 200))),
        (b"0.3", Some((0x3ffd_999999999999999a, "0.3", 300))),
        (b"1.1", Some((0x3fff_8ccccccccccccccd, "1.1", 1100))),
        (b"2.2", Some((0x4000_8ccccccccccccccd, "2.2", 2200))),
        (b"3.3", Some((0x4000_d333333333333333, "3.3", 3300))),
        (b"10.5", Some((0x4002_a800000000000000, "10.5", 10500))),
        (b"5.0e3", Some((0x400b_9c40000000000000, "5000", 5000000))),
        (b"1e308", Some((0x43fe_8e679c2f5e44ff8f, "99999999999999999996685879655845645660560099847415567207797047994921734868838061872100126921888539320446747225054013223152134749593960583597420814430196418767959100019603190778663109604507106667939153395788938914560543563061268364901618630217086589253444881623791300855757318142424510452728255046343928578048", -9223372036854775808))),
        (b"0x10", Some((0x4003_8000000000000000, "16", 16000))),
        (b"1e400", Some((0x452f_da763fc8cb9ff9e6, "10000000000000000000281880683947586514586453433629052038625910693539685534008629862039363994848324160522094053927317616200295822777259255734023828976593340661017797447434546173917862448116674971723778943824391593338047470675026246684401359237513603830343735485505244955964979021825038280091068414947402456898653040951017512658092615827588920183472511643316591362664138176309734806343732497430221946880", -9223372036854775808))),
        (b"inf", Some((0x7fff_8000000000000000, "inf", -9223372036854775808))),
        (b"nan", None),
        (b" 1", None),
        (b"1 ", None),
        (b"", None),
        (b"123456789012345678", Some((0x4037_db4da5d31879a700, "123456789012345678", -9223372036854775808))),
        (b"1.5e-300", Some((0x3c1b_8094be91d5b41518, "0", 0))),
        (b"0", Some((0x0000_0000000000000000, "0", 0))),
        (b"-0", Some((0x8000_0000000000000000, "0", 0))),
        (b"+0", Some((0x0000_0000000000000000, "0", 0))),
        (b"0.0", Some((0x0000_0000000000000000, "0", 0))),
        (b"-0.0", Some((0x8000_0000000000000000, "0", 0))),
        (b"00", Some((0x0000_0000000000000000, "0", 0))),
        (b".0", Some((0x0000_0000000000000000, "0", 0))),
        (b"0.", Some((0x0000_0000000000000000, "0", 0))),
        (b"1", Some((0x3fff_8000000000000000, "1", 1000))),
        (b"-1", Some((0xbfff_8000000000000000, "-1", -1000))),
        (b"+1", Some((0x3fff_8000000000000000, "1", 1000))),
        (b"1.", Some((0x3fff_8000000000000000, "1", 1000))),
        (b".5", Some((0x3ffe_8000000000000000, "0.5", 500))),
        (b"-.5", Some((0xbffe_8000000000000000, "-0.5", -500))),
        (b"+.5", Some((0x3ffe_8000000000000000, "0.5", 500))),
        (b".", None),
        (b"+", None),
        (b"-", None),
        (b"--1", None),
        (b"+-1", None),
        (b"-+1", None),
        (b"1-", None),
        (b"1..2", None),
        (b"1.2.3", None),
        (b" ", None),
        (b"\t1", None),
        (b"\n1", None),
        (b"\x0b1", None),
        (b"\x0c1", None),
        (b"\r1", None),
        (b"1\t", None),
        (b"1\x00", None),
        (b"1\x002", None),
        (b"\x00", None),
        (b"\xc3\xa9", None),
        (b"1\xff", None),
        (b"1e", None),
        (b"1e+", None),
        (b"1e-", None),
        (b"1e+5", Some((0x400f_c350000000000000, "100000", 100000000))),
        (b"1E5", Some((0x400f_c350000000000000, "100000", 100000000))),
        (b"1e05", Some((0x400f_c350000000000000, "100000", 100000000))),
        (b"1.e5", Some((0x400f_c350000000000000, "100000", 100000000))),
        (b".e5", None),
        (b"e5", None),
        (b"1e5.0", None),
        (b"0.1e1", Some((0x3fff_8000000000000000, "1", 1000))),
        (b"100e-2", Some((0x3fff_8000000000000000, "1", 1000))),
        (b"1e-999999999999", None),
        (b"1e999999999999", None),
        (b"0e999999999999", Some((0x0000_0000000000000000, "0", 0))),
        (b"-0e-999999999999", Some((0x8000_0000000000000000, "0", 0))),
        (b"1e0000000000000000000000000005", Some((0x400f_c350000000000000, "100000", 100000000))),
        (b"1e4932", Some((0x7ffe_d72cb2a95c7ef6cd, "10000000000000000000060189493879...71163141086538418113791886622720[4933]", -9223372036854775808))),
        (b"1.18973149535723176502e+4932", Some((0x7ffe_ffffffffffffffff, "11897314953572317650212638530309...62444156604419552086811989770240[4933]", -9223372036854775808))),
        (b"1.18973149535723176508e+4932", None),
        (b"1.2e4932", None),
        (b"1e4933", None),
        (b"-1e4933", None),
        (b"1e-4950", Some((0x0000_0000000000000003, "0", 0))),
        (b"3.6e-4951", Some((0x0000_0000000000000001, "0", 0))),
        (b"3.64519953188247460253e-4951", Some((0x0000_0000000000000001, "0", 0))),
        (b"1.9e-4951", Some((0x0000_0000000000000001, "0", 0))),
        (b"1.82e-4951", None),
        (b"1.83e-4951", Some((0x0000_0000000000000001, "0", 0))),
        (b"1.8e-4951", None),
        (b"1e-4951", None),
        (b"1e-4952", None),
        (b"-3.6e-4951", Some((0x8000_0000000000000001, "0", 0))),
        (b"3.3621031431120935063e-4932", Some((0x0001_8000000000000000, "0", 0))),
        (b"3.3621031431120935062e-4932", Some((0x0001_8000000000000000, "0", 0))),
        (b"INF", Some((0x7fff_8000000000000000, "inf", -9223372036854775808))),
        (b"Inf", Some((0x7fff_8000000000000000, "inf", -9223372036854775808))),
        (b"-inf", Some((0xffff_8000000000000000, "-inf", -9223372036854775808))),
        (b"+inf", Some((0x7fff_8000000000000000, "inf", -9223372036854775808))),
        (b"infinity", Some((0x7fff_8000000000000000, "inf", -9223372036854775808))),
        (b"INFINITY", Some((0x7fff_8000000000000000, "inf", -9223372036854775808))),
        (b"-Infinity", Some((0xffff_8000000000000000, "-inf", -9223372036854775808))),
        (b"+iNfInItY", Some((0x7fff_8000000000000000, "inf", -9223372036854775808))),
        (b"infin", None),
        (b"infinit", None),
        (b"infinityy", None),
        (b"in", None),
        (b"i", None),
        (b"inf ", None),
        (b"NaN", None),
        (b"-nan", None),
        (b"+nan", None),
        (b"nan(123)", None),
        (b"nan()", None),
        (b"nan(", None),
        (b"nanx", None),
        (b"0X10", Some((0x4003_8000000000000000, "16", 16000))),
        (b"-0x10", Some((0xc003_8000000000000000, "-16", -16000))),
        (b"+0x10", Some((0x4003_8000000000000000, "16", 16000))),
        (b"0x1.8p3", Some((0x4002_c000000000000000, "12", 12000))),
        (b"0X.8P-2", Some((0x3ffc_8000000000000000, "0.125", 125))),
        (b"0x", None),
        (b"0x.", None),
        (b"0x.p1", None),
        (b"0xp1", None),
        (b"0x1p", None),
        (b"0x1p+", None),
        (b"0x1p-", None),
        (b"0x1P+1", Some((0x4000_8000000000000000, "2", 2000))),
        (b"0x1.", Some((0x3fff_8000000000000000, "1", 1000))),
        (b"0x.1", Some((0x3ffb_8000000000000000, "0.0625", 62))),
        (b"0x1g", None),
        (b"0x1e5", Some((0x4007_f280000000000000, "485", 485000))),
        (b"0x0", Some((0x0000_0000000000000000, "0", 0))),
        (b"0x0p99999999999", Some((0x0000_0000000000000000, "0", 0))),
        (b"0x1p99999999999", None),
        (b"0x1p-99999999999", None),
        (b"0x1p-16445", Some((0x0000_0000000000000001, "0", 0))),
        (b"0x1p-16446", None),
        (b"0x1.0000000000000001p-16446", None),
        (b"0x1.00000000000000008p-16446", Some((0x0000_0000000000000001, "0", 0))),
        (b"0x1.0000000000000005p-16384", Some((0x0000_2000000000000000, "0", 0))),
        (b"0x1.0000000000000006p-16384", Some((0x0000_2000000000000001, "0", 0))),
        (b"0x3p-16447", Some((0x0000_0000000000000001, "0", 0))),
        (b"0x1p-16382", Some((0x0001_8000000000000000, "0", 0))),
        (b"0x1p16383", Some((0x7ffe_8000000000000000, "59486574767861588254287966331400...84971576230223513645334982033408[4932]", -9223372036854775808))),
        (b"0x1p16384", None),
        (b"0x1.fffffffffffffffep16383", Some((0x7ffe_ffffffffffffffff, "11897314953572317650212638530309...62444156604419552086811989770240[4933]", -9223372036854775808))),
        (b"0x1.ffffffffffffffffp16383", None),
        (b"0x1.fffffffffffffffefp16383", Some((0x7ffe_ffffffffffffffff, "11897314953572317650212638530309...62444156604419552086811989770240[4933]", -9223372036854775808))),
        (b"0xffffffffffffffff", Some((0x403e_ffffffffffffffff, "18446744073709551615", -9223372036854775808))),
        (b"0xffffffffffffffff8", Some((0x4043_8000000000000000, "295147905179352825856", -9223372036854775808))),
        (b"0xffffffffffffffff7", Some((0x4042_ffffffffffffffff, "295147905179352825840", -9223372036854775808))),
        (b"0xffffffffffffffff9", Some((0x4043_8000000000000000, "295147905179352825856", -9223372036854775808))),
        (b"0xfffffffffffffffe8", Some((0x4042_fffffffffffffffe, "295147905179352825824", -9223372036854775808))),
        (b"0x1.00000000000000008", Some((0x3fff_8000000000000000, "1", 1000))),
        (b"0x1.00000000000000018", Some((0x3fff_8000000000000001, "1", 1000))),
        (b"0x1.000000000000000080000000000001", Some((0x3fff_8000000000000000, "1", 1000))),
        (b"0xDeadBeef.cafeP-7", Some((0x4017_deadbeefcafe0000, "29186941.8733823299407959", 29186941873))),
        (b"18446744073709551615", Some((0x403e_ffffffffffffffff, "18446744073709551615", -9223372036854775808))),
        (b"18446744073709551616", Some((0x403f_8000000000000000, "18446744073709551616", -9223372036854775808))),
        (b"18446744073709551617", Some((0x403f_8000000000000000, "18446744073709551616", -9223372036854775808))),
        (b"18446744073709551615.5", Some((0x403f_8000000000000000, "18446744073709551616", -9223372036854775808))),
        (b"18446744073709551614.5", Some((0x403e_fffffffffffffffe, "18446744073709551614", -9223372036854775808))),
        (b"36893488147419103231", Some((0x4040_8000000000000000, "36893488147419103232", -9223372036854775808))),
        (b"36893488147419103232", Some((0x4040_8000000000000000, "36893488147419103232", -9223372036854775808))),
        (b"36893488147419103233", Some((0x4040_8000000000000000, "36893488147419103232", -9223372036854775808))),
        (b"9223372036854775807", Some((0x403d_fffffffffffffffe, "9223372036854775807", -9223372036854775808))),
        (b"9223372036854775808", Some((0x403e_8000000000000000, "9223372036854775808", -9223372036854775808))),
        (b"-9223372036854775808", Some((0xc03e_8000000000000000, "-9223372036854775808", -9223372036854775808))),
        (b"-9223372036854775809", Some((0xc03e_8000000000000001, "-9223372036854775809", -9223372036854775808))),
        (b"9223372036854775.807", Some((0x4034_83126e978d4fdf3a, "9223372036854775.806640625", 9223372036854775806))),
        (b"9223372036854775.8075", Some((0x4034_83126e978d4fdf3b, "9223372036854775.8076171875", 9223372036854775807))),
        (b"9223372036854775.808", Some((0x4034_83126e978d4fdf3b, "9223372036854775.8076171875", 9223372036854775807))),
        (b"-9223372036854775.807", Some((0xc034_83126e978d4fdf3a, "-9223372036854775.806640625", -9223372036854775806))),
        (b"-9223372036854775.808", Some((0xc034_83126e978d4fdf3b, "-9223372036854775.8076171875", -9223372036854775807))),
        (b"-9223372036854775.809", Some((0xc034_83126e978d4fdf3c, "-9223372036854775.80859375", -9223372036854775808))),
        (b"9223372036854776", Some((0x4034_83126e978d4fe000, "9223372036854776", -9223372036854775808))),
        (b"-0.0001", Some((0xbff1_d1b71758e219652c, "-0.0001", 0))),
        (b"-0.001", Some((0xbff5_83126e978d4fdf3b, "-0.001", 0))),
        (b"-0.0009", Some((0xbff4_ebedfa43fe5c91d1, "-0.0009", 0))),
        (b"0.0009", Some((0x3ff4_ebedfa43fe5c91d1, "0.0009", 0))),
        (b"0.001", Some((0x3ff5_83126e978d4fdf3b, "0.001", 0))),
        (b"0.0015", Some((0x3ff5_c49ba5e353f7ced9, "0.0015", 1))),
        (b"-1", Some((0xbfff_8000000000000000, "-1", -1000))),
        (b"-inf", Some((0xffff_8000000000000000, "-inf", -9223372036854775808))),
        (b"1.5", Some((0x3fff_c000000000000000, "1.5", 1500))),
        (b"2.999", Some((0x4000_bfef9db22d0e5604, "2.999", 2999))),
        (b"1e-4000", Some((0x0c17_9c3d73864f3805c0, "0", 0))),
        (b"-1e-4000", Some((0x8c17_9c3d73864f3805c0, "0", 0))),
        (b"0.000003814697265625", Some((0x3fed_8000000000000000, "0.00000381469726562", 0))),
        (b"0.000011444091796875", Some((0x3fee_c000000000000000, "0.00001144409179688", 0))),
        (b"-0.000003814697265625", Some((0xbfed_8000000000000000, "-0.00000381469726562", 0))),
        (b"0.0000019073486328125", Some((0x3fec_8000000000000000, "0.00000190734863281", 0))),
        (b"0.00000000000000000500000000000000001", Some((0x3fc5_b877aa3236a4b464, "0.00000000000000001", 0))),
        (b"0.000000000000000005", Some((0x3fc5_b877aa3236a4b449, "0", 0))),
        (b"0.000000000000000015", Some((0x3fc7_8a59bfa5a8fb8737, "0.00000000000000002", 0))),
        (b"0.000000000000000025", Some((0x3fc7_e69594bec44de15b, "0.00000000000000002", 0))),
        (b"1.00000000000000000", Some((0x3fff_8000000000000000, "1", 1000))),
        (b"0.99999999999999999", Some((0x3ffe_ffffffffffffff48, "0.99999999999999999", 999))),
        (b"0.999999999999999995", Some((0x3ffe_ffffffffffffffa4, "1", 999))),
        (b"9.999999999999999995", Some((0x4002_9ffffffffffffffa, "9.99999999999999999", 9999))),
        (b"1234567890.12345678901234567890", Some((0x401d_932c05a43f35ba6f, "1234567890.12345678906422108", 1234567890123))),
        (b"3.14159265358979323846", Some((0x4000_c90fdaa22168c235, "3.14159265358979324", 3141))),
        (b"2.71828182845904523536", Some((0x4000_adf85458a2bb4a9b, "2.71828182845904524", 2718))),
        (b"-0.00000000000000001", Some((0xbfc6_b877aa3236a4b449, "-0.00000000000000001", 0))),
        (b"0.00000000000000001", Some((0x3fc6_b877aa3236a4b449, "0.00000000000000001", 0))),
        (b"123.456", Some((0x4005_f6e978d4fdf3b646, "123.456", 123456))),
        (b"-123.456", Some((0xc005_f6e978d4fdf3b646, "-123.456", -123456))),
        (b"1e17", Some((0x4037_b1a2bc2ec5000000, "100000000000000000", -9223372036854775808))),
        (b"1e18", Some((0x403a_de0b6b3a76400000, "1000000000000000000", -9223372036854775808))),
        (b"1e19", Some((0x403e_8ac7230489e80000, "10000000000000000000", -9223372036854775808))),
        (b"1e20", Some((0x4041_ad78ebc5ac620000, "100000000000000000000", -9223372036854775808))),
        (b"1e21", Some((0x4044_d8d726b7177a8000, "1000000000000000000000", -9223372036854775808))),
        (b"1e-17", Some((0x3fc6_b877aa3236a4b449, "0.00000000000000001", 0))),
        (b"1e-18", Some((0x3fc3_9392ee8e921d5d07, "0", 0))),
        (b"1e-19", Some((0x3fbf_ec1e4a7db69561a5, "0", 0))),
        (b"1e-20", Some((0x3fbc_bce5086492111aeb, "0", 0))),
        (b"0.5", Some((0x3ffe_8000000000000000, "0.5", 500))),
        (b"0.25", Some((0x3ffd_8000000000000000, "0.25", 250))),
        (b"0.125", Some((0x3ffc_8000000000000000, "0.125", 125))),
        (b"1e-5", Some((0x3fee_a7c5ac471b478423, "0.00001", 0))),
        (b"1e-10", Some((0x3fdd_dbe6fecebdedd5bf, "0.0000000001", 0))),
        (b"1e50", Some((0x40a5_88d8762bf324cd10, "100000000000000000003583830118858923890798487404544", -9223372036854775808))),
        (b"-1e50", Some((0xc0a5_88d8762bf324cd10, "-100000000000000000003583830118858923890798487404544", -9223372036854775808))),
        (b"4.35", Some((0x4001_8b33333333333333, "4.35", 4350))),
        (b"0.07", Some((0x3ffb_8f5c28f5c28f5c29, "0.07", 70))),
        (b"1.7976931348623157e308", Some((0x43fe_fffffffffffff7ac, "179769313486231569995921046774104434048386446944329178485314420765176628523124396354701868608387085564428793419425520689308708363451136055357897278026477617073498977686288394835618163294045594434929537447290627480669417384648879122776218333598953852832103282504751611691208117720159985926376802466863339536384", -9223372036854775808))),
        (b"2.2250738585072014e-308", Some((0x3c01_8000000000000046, "0", 0))),
        (b"4.9406564584124654e-324", Some((0x3bcc_ffffffffffffff64, "0", 0))),
        (b"-7.6", Some((0xc001_f333333333333333, "-7.6", -7600))),
        (b"653.68e-4", Some((0x3ffb_85dfa871a3b14a90, "0.065368", 65))),
        (b"-98502942.", Some((0xc019_bbe123c000000000, "-98502942", -98502942000))),
        (b"-1540699370.9744314239", Some((0xc01d_b7aa69d5f2e8acf4, "-1540699370.97443142393603921", -1540699370974))),
        (b"-42.4145601336967835", Some((0xc004_a9a88273a1cff24b, "-42.4145601336967835", -42414))),
        (b"-834.96", Some((0xc008_d0bd70a3d70a3d71, "-834.96000000000000002", -834960))),
        (b"22158664532684236.9", Some((0x4035_9d72604055db99cd, "22158664532684236.900390625", -9223372036854775808))),
        (b"957156830645747.1004e-25", Some((0x3fdd_d27b23aaaa3e2001, "0.00000000009571568", 0))),
        (b"+78137585582.260971873", Some((0x4023_918ae77d7216786c, "78137585582.26097187399864197", 78137585582260))),
        (b"+5.", Some((0x4001_a000000000000000, "5", 5000))),
        (b"-37113.264859198595027", Some((0xc00e_90f943cdcffc02aa, "-37113.26485919859502616", -37113264))),
        (b".08e13", Some((0x4026_ba43b74000000000, "800000000000", 800000000000000))),
        (b"-26.", Some((0xc003_d000000000000000, "-26", -26000))),
        (b"+84357250239986263494.69184575864993774759e-11", Some((0x401c_c91f945999759730, "843572502.39986263494938612", 843572502399))),
        (b"3293815363.079637826007444394175892047581e8", Some((0x4039_9246586366acf0d3, "329381536307963782.59375", -9223372036854775808))),
        (b"+5.e-29", Some((0x3fa0_fd87b5f28300ca0e, "0", 0))),
        (b"97.", Some((0x4005_c200000000000000, "97", 97000))),
        (b"-967158090728.40632368", Some((0xc026_e12f1d4be86804d4, "-967158090728.40632367134094238", -967158090728406))),
        (b"-88.975", Some((0xc005_b1f3333333333333, "-88.975", -88975))),
        (b"+44942069.05688466972e12", Some((0x4040_9bec936c69abdf46, "44942069056884669720", -9223372036854775808))),
        (b"-82871.338e29", Some((0xc06f_cc4b2abe7f17585a, "-8287133799999999999832696394088448", -9223372036854775808))),
        (b"-5.639518008611475990e30", Some((0xc065_8e5c87ebf6c4cfe4, "-5639518008611475990241972584448", -9223372036854775808))),
        (b"-54.926e-24", Some((0xbfb5_84cd8c1bc7c49417, "0", 0))),
        (b"+4286.1636923433370978e-22", Some((0x3fc1_fd02aca7bf18553a, "0", 0))),
        (b"-8.221557495639507334e-10", Some((0xbfe0_e1fe114f3bd7bc5c, "-0.00000000082215575", 0))),
        (b"0x16ddc6b923b50e8dap-77", Some((0x3ff2_b6ee35c91da8746d, "0.00017445612736059", 0))),
        (b"-0xe426ef3af2b8395p-21", Some((0xc025_e426ef3af2b83950, "-489952877945.35981225967407227", -489952877945359))),
        (b"-0x8df79baae642c02f5da6p-98", Some((0xbfec_8df79baae642c02f, "-0.00000211547641529", 0))),
        (b"-0x65e5a0dae7b010b4p-42", Some((0xc013_cbcb41b5cf602168, "-1669480.21377444364497933", -1669480213))),
        (b"-0x1447be68ea2cd44554p-3", Some((0xc040_a23df3475166a22b, "-46763070781430335660", -9223372036854775808))),
        (b"0xb93f193c6d1af14262a2p-61", Some((0x4011_b93f193c6d1af142, "379384.78862624418439964", 379384788))),
        (b"-0x18p-72", Some((0xbfbb_c000000000000000, "0", 0))),
        (b"0x51d16533dc87829dp-89", Some((0x3fe4_a3a2ca67b90f053a, "0.00000000952486304", 0))),
        (b"-0x6a25dba13aaf7675p-101", Some((0xbfd8_d44bb742755eecea, "-0.0000000000030169", 0))),
        (b"-0x63p-97", Some((0xbfa4_c600000000000000, "0", 0))),
    ];

    /// (a, b, None if a + b is NaN, else (x87 bits, human form, mul1000) of a + b).
    #[rustfmt::skip]
    const SUM_CASES: &[(&str, &str, Expected)] = &[
        ("0", "0.1", Some((0x3ffb_cccccccccccccccd, "0.1", 100))),
        ("0.1", "0.1", Some((0x3ffc_cccccccccccccccd, "0.2", 200))),
        ("0.2", "0.1", Some((0x3ffd_999999999999999a, "0.3", 300))),
        ("1.1", "2.2", Some((0x4000_d333333333333334, "3.3", 3300))),
        ("123456789012345678", "0", Some((0x4037_db4da5d31879a700, "123456789012345678", -9223372036854775808))),
        ("1.5e-300", "0", Some((0x3c1b_8094be91d5b41518, "0", 0))),
        ("1e308", "0", Some((0x43fe_8e679c2f5e44ff8f, "99999999999999999996685879655845645660560099847415567207797047994921734868838061872100126921888539320446747225054013223152134749593960583597420814430196418767959100019603190778663109604507106667939153395788938914560543563061268364901618630217086589253444881623791300855757318142424510452728255046343928578048", -9223372036854775808))),
        ("10.5", "0.1", Some((0x4002_a99999999999999a, "10.6", 10600))),
        ("5.0e3", "200", Some((0x400b_a280000000000000, "5200", 5200000))),
        ("3.0e3", "2.0e2", Some((0x400a_c800000000000000, "3200", 3200000))),
        ("inf", "-inf", None),
        ("-inf", "inf", None),
        ("inf", "inf", Some((0x7fff_8000000000000000, "inf", -9223372036854775808))),
        ("inf", "1", Some((0x7fff_8000000000000000, "inf", -9223372036854775808))),
        ("-inf", "-1e4000", Some((0xffff_8000000000000000, "-inf", -9223372036854775808))),
        ("1", "-inf", Some((0xffff_8000000000000000, "-inf", -9223372036854775808))),
        ("-0", "0", Some((0x0000_0000000000000000, "0", 0))),
        ("0", "-0", Some((0x0000_0000000000000000, "0", 0))),
        ("-0", "-0", Some((0x8000_0000000000000000, "0", 0))),
        ("0", "0", Some((0x0000_0000000000000000, "0", 0))),
        ("1", "-1", Some((0x0000_0000000000000000, "0", 0))),
        ("-1", "1", Some((0x0000_0000000000000000, "0", 0))),
        ("3.3", "-3.3", Some((0x0000_0000000000000000, "0", 0))),
        ("0.3", "-0.1", Some((0x3ffc_ccccccccccccccce, "0.2", 200))),
        ("-0.1", "-0.2", Some((0xbffd_999999999999999a, "-0.3", -300))),
        ("1.18973149535723176502e+4932", "1.18973149535723176502e+4932", Some((0x7fff_8000000000000000, "inf", -9223372036854775808))),
        ("1.18973149535723176502e+4932", "-1.18973149535723176502e+4932", Some((0x0000_0000000000000000, "0", 0))),
        ("0x1.fffffffffffffffep16383", "0x1p16319", Some((0x7fff_8000000000000000, "inf", -9223372036854775808))),
        ("0x1.fffffffffffffffep16383", "0x1p16318", Some((0x7ffe_ffffffffffffffff, "11897314953572317650212638530309...62444156604419552086811989770240[4933]", -9223372036854775808))),
        ("0x1.fffffffffffffffep16383", "0x1.0000001p16318", Some((0x7ffe_ffffffffffffffff, "11897314953572317650212638530309...62444156604419552086811989770240[4933]", -9223372036854775808))),
        ("-0x1.fffffffffffffffep16383", "-0x1p16319", Some((0xffff_8000000000000000, "-inf", -9223372036854775808))),
        ("0xffffffffffffffff", "0.5", Some((0x403f_8000000000000000, "18446744073709551616", -9223372036854775808))),
        ("0xffffffffffffffff", "0.5000001", Some((0x403f_8000000000000000, "18446744073709551616", -9223372036854775808))),
        ("0xffffffffffffffff", "1", Some((0x403f_8000000000000000, "18446744073709551616", -9223372036854775808))),
        ("0xfffffffffffffffe", "0.5", Some((0x403e_fffffffffffffffe, "18446744073709551614", -9223372036854775808))),
        ("0xfffffffffffffffe", "1.5", Some((0x403f_8000000000000000, "18446744073709551616", -9223372036854775808))),
        ("0x8000000000000000", "-0.5", Some((0x403d_ffffffffffffffff, "9223372036854775807.5", -9223372036854775808))),
        ("0x8000000000000000", "-0.25", Some((0x403e_8000000000000000, "9223372036854775808", -9223372036854775808))),
        ("0x8000000000000000", "-0.75", Some((0x403d_fffffffffffffffe, "9223372036854775807", -9223372036854775808))),
        ("0x8000000000000001", "-0.5", Some((0x403e_8000000000000000, "9223372036854775808", -9223372036854775808))),
        ("0x1p-16445", "0x1p-16445", Some((0x0000_0000000000000002, "0", 0))),
        ("0x1p-16445", "-0x1p-16445", Some((0x0000_0000000000000000, "0", 0))),
        ("0x1p-16382", "-0x1p-16445", Some((0x0000_7fffffffffffffff, "0", 0))),
        ("0x7fffffffffffffffp-16445", "0x1p-16445", Some((0x0001_8000000000000000, "0", 0))),
        ("1e4000", "1e-4000", Some((0x73e6_d1ba8323fe558c61, "99999999999999999999654638730996...90272729951206648276349901340672[4000]", -9223372036854775808))),
        ("-1e4000", "1e-4000", Some((0xf3e6_d1ba8323fe558c61, "-9999999999999999999965463873099...90272729951206648276349901340672[4001]", -9223372036854775808))),
        ("1", "1e-19", Some((0x3fff_8000000000000001, "1", 1000))),
        ("1", "1e-20", Some((0x3fff_8000000000000000, "1", 1000))),
        ("1", "-1e-20", Some((0x3fff_8000000000000000, "1", 1000))),
        ("1", "0x1p-64", Some((0x3fff_8000000000000000, "1", 1000))),
        ("1", "0x1.0000001p-64", Some((0x3fff_8000000000000001, "1", 1000))),
        ("1", "0x3p-65", Some((0x3fff_8000000000000001, "1", 1000))),
        ("1", "-0x1p-65", Some((0x3fff_8000000000000000, "1", 1000))),
        ("1", "-0x1p-64", Some((0x3ffe_ffffffffffffffff, "1", 999))),
        ("1", "-0x1.0000001p-65", Some((0x3ffe_ffffffffffffffff, "1", 999))),
        ("1", "-0x1p-200", Some((0x3fff_8000000000000000, "1", 1000))),
        ("0x1p100", "-0x1p-100", Some((0x4063_8000000000000000, "1267650600228229401496703205376", -9223372036854775808))),
        ("0x1p100", "0x1p-100", Some((0x4063_8000000000000000, "1267650600228229401496703205376", -9223372036854775808))),
        ("9223372036854775", "0.807", Some((0x4034_83126e978d4fdf3a, "9223372036854775.806640625", 9223372036854775806))),
        ("9223372036854775", "0.808", Some((0x4034_83126e978d4fdf3b, "9223372036854775.8076171875", 9223372036854775807))),
        ("-9223372036854775", "-0.808", Some((0xc034_83126e978d4fdf3b, "-9223372036854775.8076171875", -9223372036854775807))),
        ("1e-4940", "1e-4940", Some((0x0000_0000000cc64f1cc4, "0", 0))),
        ("18446744073709551615", "1", Some((0x403f_8000000000000000, "18446744073709551616", -9223372036854775808))),
        ("-18446744073709551616", "1", Some((0xc03e_ffffffffffffffff, "-18446744073709551615", -9223372036854775808))),
        ("99999999999999999", "0.00000000000000001", Some((0x4037_b1a2bc2ec4ffff80, "99999999999999999", -9223372036854775808))),
        ("0.1", "-0.09999999999999999", Some((0x3fc6_b880000000000000, "0.00000000000000001", 0))),
        ("-0xcf01e449e277543bp-28", "-0xbc17e09cdc7db0b5p-20", Some((0xc02a_bce6e28126602809, "-12981239288422.00977420806884766", -12981239288422009))),
        ("-0xb3a89e7e3a4c5025p-43", "0x96e8343304de87c9p-63", Some((0xc013_b3a8950fb7091fd7, "-1471762.63267333153169147", -1471762632))),
        ("-0xb1b948864f11ff2cp-76", "-0xa965a3b019081905p-130", Some((0xbff2_b1b948864f1201d2, "-0.00016949058808159", 0))),
        ("0xfa65d690c5bf3046p-51", "0xc5a3e2d4ef5cbbe2p-67", Some((0x400b_fa669c34a8941fa3, "8012.82627231313741012", 8012826))),
        ("0xfc721e091efac11cp-54", "-0xfb9ac424545f778dp-61", Some((0x4008_fa7ae880d652022d, "1001.92044087342950115", 1001920))),
        ("-0xadbd56bfd2d8daadp-47", "0x9cd3278c780ef74bp-93", Some((0xc00f_adbd56bfd2d66760, "-88954.67772899121223418", -88954677))),
        ("0x9594e3295ff09ec9p-30", "-0xdad846ea3e3905bbp-96", Some((0x4020_9594e3295ff09ec9, "10038250661.49906129483133554", 10038250661499))),
        ("-0xaeb8ae12b8c2e1a2p-16", "-0xf21b471a7c054a74p-31", Some((0xc02e_aeba924946f7d9ad, "-192116341425911.8502960205078125", -192116341425911850))),
        ("-0x8fb324c89dea2e01p-34", "-0xc5a4720c32e80652p-45", Some((0xc01c_8fcbd956df708b02, "-603125333.71820275497157127", -603125333718))),
        ("-0x9225e5beb39f06f2p-55", "-0x8e97622e98fa08f6p-125", Some((0xc007_9225e5beb39f06f2, "-292.29607375879827874", -292296))),
        ("0x9cf0f77c4074a27cp-19", "-0xc2400ae27b3e5e4dp-89", Some((0x402b_9cf0f77c4074a27c, "21569844774926.57933807373046875", 21569844774926579))),
        ("-0xf616d104ac448468p-14", "-0xcb7debac8aac608ep-67", Some((0xc030_f616d104ac448ac4, "-1082311425831186.168212890625", -1082311425831186168))),
        ("0xb474debe5cfa4380p-64", "-0x890f1a3395c911d5p-84", Some((0x3ffe_b474d62d6b570a23, "0.70490778550023606", 704))),
        ("0xd16da037a4d34130p-98", "-0x9b8825f4663483aap-137", Some((0x3fdc_d16da037a39c30e4, "0.00000000004761847", 0))),
        ("0xbe633c25880b4b80p-95", "-0xb4f825dab8db8bfdp-69", Some((0xbff9_b4f825ab200c829b, "-0.02209098202820453", -22))),
        ("0xa598a5eb5a583072p-91", "-0xdc640d88b2c12461p-70", Some((0xbff8_dc64085bed91c98e, "-0.01345158401792289", -13))),
        ("-0xf46f4861dc917d96p-4", "0x90eebd80120aa6c5p-64", Some((0xc03a_f46f4861dc917d8d, "-1100836015801178072.8125", -9223372036854775808))),
        ("0xb91ea05de43ae0c9p-99", "-0xdd8444e4a6482507p-120", Some((0x3fdb_b91e9971c213bb97, "0.00000000002104565", 0))),
        ("0xdcd06373b80d0537p-84", "-0xd6ea0110f0484defp-34", Some((0xc01c_d6ea0110f04816bb, "-901414980.23464999691350386", -901414980234))),
        ("-0x86f0bda5e49599b5p-78", "0xef1f7b4ad1f95155p-131", Some((0xbff0_86f0bda5e495923c, "-0.00003217229695299", 0))),
    ];
}
