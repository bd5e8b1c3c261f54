//! HyperLogLog values, byte for byte as Redis 7.0's `hyperloglog.c` lays
//! them out, so an HLL moves between ferrokv and redis-server as a plain
//! string (GET on one, SET on the other) and both keep answering alike.
//!
//! # Layout
//!
//! A 16-byte header: the magic `HYLL`, one encoding byte (0 dense, 1
//! sparse), three unused bytes, and the cached cardinality as a 64-bit
//! little-endian integer whose top bit set means "stale, recompute".
//! 16384 registers of 6 bits follow:
//!
//! - **dense**: 12288 bytes, register `i` at bits `6i..6i+6` counted from
//!   the least significant bit of each byte upwards (a register may straddle
//!   two bytes); the string is exactly [`DENSE_SIZE`] bytes.
//! - **sparse**: run-length opcodes covering the registers in order:
//!   `00xxxxxx` ZERO (1..64 zero registers), `01xxxxxx yyyyyyyy` XZERO
//!   (1..16384 zero registers), `1vvvvvxx` VAL (1..4 registers of value
//!   1..32). A register above 32, or a string that would outgrow
//!   `hll-sparse-max-bytes`, turns the HLL dense.
//!
//! # Faithfulness
//!
//! Every update is Redis's own sequence of edits (the opcode split of
//! `hllSparseSet`, then its merge of up to five adjacent opcodes), so the
//! bytes equal Redis's after the same commands, not only the counts. The
//! estimate is `hllCount` with Otmar Ertl's estimator (register histogram,
//! `sigma` and `tau`), with the same floating-point operations in the same
//! order, hence the same rounding.
//!
//! Corrupted values never panic: a read past the end of the string sees a
//! 0 byte, as Redis's reads of the sds terminator do, and every index is
//! bounds-checked where Redis trusts its earlier checks. Where Redis itself
//! would read or write outside its buffer (indexes past 2^31), this code
//! stops with an error instead.

/// Header bytes before the registers.
pub const HDR: usize = 16;
/// Number of registers (`HLL_REGISTERS`, P = 14).
pub const REGISTERS: usize = 1 << 14;
/// Bits of hash used to count leading zeroes (`HLL_Q`).
const Q: u32 = 64 - 14;
/// Bytes of a dense HLL, header included.
pub const DENSE_SIZE: usize = HDR + (REGISTERS * 6).div_ceil(8);
pub const DENSE: u8 = 0;
pub const SPARSE: u8 = 1;
/// The largest value a sparse VAL opcode holds.
const SPARSE_VAL_MAX: u8 = 32;
const SPARSE_VAL_MAX_LEN: u8 = 4;
const SPARSE_ZERO_MAX_LEN: usize = 64;
/// `0.5 / ln(2)`, Redis's `HLL_ALPHA_INF`.
const ALPHA_INF: f64 = 0.721_347_520_444_481_7;

/// The error a corrupted sparse representation gives.
pub const INVALID: &str = "INVALIDOBJ Corrupted HLL object detected";
/// The error for a string that is not an HLL at all.
pub const NOT_HLL: &str = "WRONGTYPE Key is not a valid HyperLogLog string value.";

/// A sparse representation whose opcodes do not cover exactly the
/// registers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Corrupt;

// ---------------------------------------------------------------------------
// Hashing

/// MurmurHash2, 64-bit version, as Redis has it (little-endian words
/// whatever the machine, so the same hash on every architecture).
pub fn murmur64a(key: &[u8], seed: u64) -> u64 {
    const M: u64 = 0xc6a4_a793_5bd1_e995;
    const R: u32 = 47;
    // Redis passes the length as an `int`, multiplied as a 64-bit value.
    let mut h = seed ^ (key.len() as i32 as i64 as u64).wrapping_mul(M);
    let mut chunks = key.chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        let mut k = u64::from_le_bytes(w);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h ^= k;
        h = h.wrapping_mul(M);
    }
    let tail = chunks.remainder();
    if !tail.is_empty() {
        for (i, &b) in tail.iter().enumerate() {
            h ^= (b as u64) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> R;
    h = h.wrapping_mul(M);
    h ^= h >> R;
    h
}

/// Redis's `hllPatLen`: the register an element falls in, and the length
/// of the `000..1` pattern of the rest of its hash (1..=51).
pub fn pattern(ele: &[u8]) -> (usize, u8) {
    let hash = murmur64a(ele, 0xadc8_3b19);
    let index = (hash as usize) & (REGISTERS - 1);
    let rest = (hash >> 14) | (1u64 << Q);
    (index, rest.trailing_zeros() as u8 + 1)
}

// ---------------------------------------------------------------------------
// Header

/// Redis's `isHLLObjectOrReply` checks on a string: long enough for the
/// header, the magic, a known encoding, and a dense one of exact length.
pub fn is_hll(s: &[u8]) -> bool {
    s.len() >= HDR && &s[..4] == b"HYLL" && s[4] <= SPARSE && (s[4] != DENSE || s.len() == DENSE_SIZE)
}

/// The empty HLL Redis creates (`createHLLObject`): sparse, one XZERO
/// opcode covering every register, cached cardinality 0.
pub fn new_sparse() -> Vec<u8> {
    let mut s = Vec::with_capacity(HDR + 2);
    s.extend_from_slice(b"HYLL");
    s.push(SPARSE);
    s.resize(HDR, 0);
    push_xzero(&mut s, REGISTERS);
    s
}

/// The cached cardinality, if valid.
pub fn cached(s: &[u8]) -> Option<u64> {
    let mut w = [0u8; 8];
    w.copy_from_slice(&s[8..16]);
    (s[15] & 0x80 == 0).then(|| u64::from_le_bytes(w))
}

pub fn set_cached(s: &mut [u8], card: u64) {
    s[8..16].copy_from_slice(&card.to_le_bytes());
}

pub fn invalidate(s: &mut [u8]) {
    s[15] |= 0x80;
}

// ---------------------------------------------------------------------------
// Dense registers

/// Register `i` of the dense register bytes `r` (12288 bytes).
#[inline]
pub fn dense_get(r: &[u8], i: usize) -> u8 {
    let byte = i * 6 / 8;
    let fb = (i * 6) & 7;
    let b0 = r[byte] as u32;
    // The last register fits in its byte (fb = 2), so a missing next byte
    // reads as 0 like Redis's sds terminator.
    let b1 = r.get(byte + 1).copied().unwrap_or(0) as u32;
    (((b0 >> fb) | (b1 << (8 - fb))) & 63) as u8
}

#[inline]
pub fn dense_put(r: &mut [u8], i: usize, val: u8) {
    let byte = i * 6 / 8;
    let fb = (i * 6) & 7;
    let v = val as u32;
    r[byte] = ((r[byte] as u32 & !(63 << fb)) | (v << fb)) as u8;
    if fb > 2 {
        let fb8 = 8 - fb;
        r[byte + 1] = ((r[byte + 1] as u32 & !(63 >> fb8)) | (v >> fb8)) as u8;
    }
}

/// Redis's `hllDenseSet`: raises register `i` to `count`; whether it rose.
#[inline]
pub fn dense_set(r: &mut [u8], i: usize, count: u8) -> bool {
    if count > dense_get(r, i) {
        dense_put(r, i, count);
        true
    } else {
        false
    }
}

/// The 16 registers held by 12 dense bytes.
#[inline]
fn sixteen(c: &[u8]) -> [u8; 16] {
    let mut out = [0u8; 16];
    for (k, t) in c.chunks_exact(3).enumerate() {
        let w = t[0] as u32 | (t[1] as u32) << 8 | (t[2] as u32) << 16;
        out[4 * k] = (w & 63) as u8;
        out[4 * k + 1] = ((w >> 6) & 63) as u8;
        out[4 * k + 2] = ((w >> 12) & 63) as u8;
        out[4 * k + 3] = ((w >> 18) & 63) as u8;
    }
    out
}

/// Register histogram of dense register bytes (`hllDenseRegHisto`).
fn dense_histogram(r: &[u8], h: &mut [i64; 64]) {
    for c in r[..REGISTERS * 6 / 8].chunks_exact(12) {
        for v in sixteen(c) {
            h[v as usize] += 1;
        }
    }
}

// ---------------------------------------------------------------------------
// Sparse opcodes

/// Byte `i` of `s`; past the end, the byte after the string, `term`
/// (Redis reads the sds terminator there, normally 0).
#[inline]
fn at(s: &[u8], i: usize, term: u8) -> u8 {
    s.get(i).copied().unwrap_or(term)
}

/// One decoded opcode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Zero(usize),
    XZero(usize),
    Val(u8, usize),
}

impl Op {
    #[inline]
    fn read(s: &[u8], p: usize) -> Op {
        Op::read_t(s, p, 0)
    }

    /// The opcode at `p`, with `term` the byte after the string.
    #[inline]
    fn read_t(s: &[u8], p: usize, term: u8) -> Op {
        let b = s[p];
        if b & 0xc0 == 0 {
            Op::Zero((b & 0x3f) as usize + 1)
        } else if b & 0x80 == 0 {
            Op::XZero((((b & 0x3f) as usize) << 8 | at(s, p + 1, term) as usize) + 1)
        } else {
            Op::Val(((b >> 2) & 0x1f) + 1, (b & 3) as usize + 1)
        }
    }

    fn bytes(self) -> usize {
        if let Op::XZero(_) = self { 2 } else { 1 }
    }

    fn span(self) -> usize {
        match self {
            Op::Zero(n) | Op::XZero(n) | Op::Val(_, n) => n,
        }
    }
}

#[inline]
fn val_byte(val: u8, len: usize) -> u8 {
    ((val - 1) << 2 | (len as u8 - 1)) | 0x80
}

fn push_xzero(s: &mut Vec<u8>, len: usize) {
    let l = len - 1;
    s.push((l >> 8) as u8 | 0x40);
    s.push((l & 0xff) as u8);
}

/// ZERO or XZERO for a run of `len` zero registers, as Redis picks.
fn push_zeros(s: &mut Vec<u8>, len: usize) {
    if len > SPARSE_ZERO_MAX_LEN {
        push_xzero(s, len);
    } else {
        s.push((len - 1) as u8);
    }
}

/// Walks the sparse opcodes after the header, calling `f(first, op)`, for
/// Redis's converters (`hllSparseToDense`, `hllMerge`): [`Corrupt`] unless
/// the opcodes cover exactly the registers. A VAL run that would pass the
/// last register stops the walk as corrupt at once, whatever follows
/// (Redis 7.0.15 answers INVALIDOBJ for `XZERO:16384 VAL:3,1`).
fn walk(s: &[u8], term: u8, mut f: impl FnMut(usize, Op)) -> Result<(), Corrupt> {
    let mut idx = 0usize;
    let mut p = HDR;
    while p < s.len() {
        let op = Op::read_t(s, p, term);
        if let Op::Val(..) = op
            && idx + op.span() > REGISTERS
        {
            return Err(Corrupt);
        }
        f(idx, op);
        idx += op.span();
        p += op.bytes();
    }
    if idx == REGISTERS { Ok(()) } else { Err(Corrupt) }
}

/// Redis's `hllSparseToDense`: the dense string for a sparse one (header
/// copied, encoding changed), or [`Corrupt`].
pub fn sparse_to_dense(s: &[u8]) -> Result<Vec<u8>, Corrupt> {
    sparse_to_dense_t(s, 0)
}

/// [`sparse_to_dense`] with `term` the byte after the string.
fn sparse_to_dense_t(s: &[u8], term: u8) -> Result<Vec<u8>, Corrupt> {
    let mut d = vec![0u8; DENSE_SIZE];
    d[..HDR].copy_from_slice(&s[..HDR]);
    d[4] = DENSE;
    let r = &mut d[HDR..];
    walk(s, term, |first, op| {
        if let Op::Val(v, n) = op {
            (first..first + n).for_each(|i| dense_put(r, i, v));
        }
    })?;
    Ok(d)
}

/// Makes `s` dense if it is sparse. `Ok(true)` when it converted.
pub fn to_dense(s: &mut Vec<u8>) -> Result<bool, Corrupt> {
    if s[4] == DENSE {
        return Ok(false);
    }
    *s = sparse_to_dense(s)?;
    Ok(true)
}

/// Redis's `hllSparseSet`: raises register `index` of the sparse HLL `s`
/// to `count`, editing the opcodes in place exactly as Redis does, or
/// turning the HLL dense (a value above 32, or more than `max_bytes`).
/// `Ok(true)` if the register rose.
///
/// `term` is the byte after the string, which Redis reads as the second
/// byte of an XZERO opcode cut short by the end of a corrupted string, and
/// may overwrite when it splits such an opcode: 0 at the start of a
/// command, carried from one update to the next within it.
pub fn sparse_set(s: &mut Vec<u8>, index: usize, count: u8, max_bytes: usize, term: &mut u8) -> Result<bool, Corrupt> {
    if count > SPARSE_VAL_MAX {
        return promote(s, index, count, *term);
    }
    // Step 1: the opcode covering `index`.
    let end = s.len();
    let (mut p, mut first, mut span) = (HDR, 0usize, 0usize);
    let mut prev = None;
    let mut op = Op::Zero(0);
    while p < end {
        op = Op::read_t(s, p, *term);
        span = op.span();
        if index < first + span {
            break;
        }
        prev = Some(p);
        p += op.bytes();
        first += span;
    }
    if span == 0 || p >= end {
        return Err(Corrupt);
    }
    let runlen = span;
    let mut end = end;
    // Step 2: trivial updates in place, else the split sequence.
    let in_place = match op {
        Op::Val(old, _) if old >= count => return Ok(false),
        Op::Val(_, 1) | Op::Zero(1) => true,
        _ => false,
    };
    if in_place {
        s[p] = val_byte(count, 1);
    } else {
        let last = first + runlen - 1;
        let mut seq: Vec<u8> = Vec::with_capacity(5);
        match op {
            Op::Val(cur, _) => {
                if index != first {
                    seq.push(val_byte(cur, index - first));
                }
                seq.push(val_byte(count, 1));
                if index != last {
                    seq.push(val_byte(cur, last - index));
                }
            }
            _ => {
                if index != first {
                    push_zeros(&mut seq, index - first);
                }
                seq.push(val_byte(count, 1));
                if index != last {
                    push_zeros(&mut seq, last - index);
                }
            }
        }
        // Step 3: the sequence replaces the opcode.
        let oldlen = op.bytes();
        let newlen = (end + seq.len()).wrapping_sub(oldlen);
        if seq.len() > oldlen && newlen > max_bytes {
            return promote(s, index, count, *term);
        }
        // An XZERO cut short by the end of the string: Redis's copy puts
        // the sequence's last byte on the terminator, past the new length.
        // Otherwise the new length gets a 0 terminator.
        *term = if p + oldlen > end { seq[seq.len() - 1] } else { 0 };
        s.splice(p..(p + oldlen).min(end), seq);
        s.truncate(newlen);
        end = newlen;
    }
    // Step 4: merge adjacent VAL opcodes of equal value, scanning up to
    // five opcodes from the one before the change.
    let mut p = prev.unwrap_or(HDR);
    let mut scan = 5;
    while p < end && scan > 0 {
        scan -= 1;
        match Op::read_t(s, p, *term) {
            Op::XZero(_) => p += 2,
            Op::Zero(_) => p += 1,
            Op::Val(v1, l1) => {
                if p + 1 < end
                    && let Op::Val(v2, l2) = Op::read(s, p + 1)
                    && v1 == v2
                    && l1 + l2 <= SPARSE_VAL_MAX_LEN as usize
                {
                    s[p + 1] = val_byte(v1, l1 + l2);
                    s.remove(p);
                    *term = 0;
                    end -= 1;
                    continue;
                }
                p += 1;
            }
        }
    }
    invalidate(s);
    Ok(true)
}

/// The dense conversion in the middle of a sparse update: the register
/// was below `count`, so it rises.
fn promote(s: &mut Vec<u8>, index: usize, count: u8, term: u8) -> Result<bool, Corrupt> {
    *s = sparse_to_dense_t(s, term)?;
    dense_set(&mut s[HDR..], index, count);
    Ok(true)
}

/// Register histogram of a sparse HLL (`hllSparseRegHisto`); [`Corrupt`]
/// if the opcodes do not cover exactly the registers. Unlike the
/// converters, this walk does not stop at a VAL run past the end: it only
/// counts.
fn sparse_histogram(s: &[u8], h: &mut [i64; 64]) -> Result<(), Corrupt> {
    let mut idx = 0usize;
    let mut p = HDR;
    while p < s.len() {
        let op = Op::read(s, p);
        match op {
            Op::Zero(n) | Op::XZero(n) => h[0] += n as i64,
            Op::Val(v, n) => h[v as usize] += n as i64,
        }
        idx += op.span();
        p += op.bytes();
    }
    if idx == REGISTERS { Ok(()) } else { Err(Corrupt) }
}

// ---------------------------------------------------------------------------
// Adding, merging, counting

/// Redis's `hllAdd`: adds one element to the HLL `s` (already checked
/// with [`is_hll`]); `Ok(true)` if a register rose. `term`: see
/// [`sparse_set`].
pub fn add(s: &mut Vec<u8>, ele: &[u8], max_bytes: usize, term: &mut u8) -> Result<bool, Corrupt> {
    let (index, count) = pattern(ele);
    if s[4] == DENSE {
        Ok(dense_set(&mut s[HDR..], index, count))
    } else {
        sparse_set(s, index, count, max_bytes, term)
    }
}

/// Redis's `hllMerge`: `max[i] = max(max[i], register i)` over the HLL `s`
/// (already checked with [`is_hll`]).
pub fn merge(max: &mut [u8; REGISTERS], s: &[u8]) -> Result<(), Corrupt> {
    if s[4] == DENSE {
        for (c, m) in s[HDR..].chunks_exact(12).zip(max.chunks_exact_mut(16)) {
            for (m, v) in m.iter_mut().zip(sixteen(c)) {
                *m = (*m).max(v);
            }
        }
        return Ok(());
    }
    walk(s, 0, |first, op| {
        if let Op::Val(v, n) = op {
            max[first..first + n].iter_mut().for_each(|m| *m = (*m).max(v));
        }
    })
}

/// Redis's `hllSigma` (Ertl, arXiv:1702.01284).
fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let mut y = 1.0;
    let mut z = x;
    loop {
        x *= x;
        let prev = z;
        z += x * y;
        y += y;
        if prev == z {
            return z;
        }
    }
}

/// Redis's `hllTau` (Ertl, arXiv:1702.01284).
fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let mut y = 1.0;
    let mut z = 1.0 - x;
    loop {
        x = x.sqrt();
        let prev = z;
        y *= 0.5;
        // `pow(1 - x, 2)`, which the compiler makes one product.
        z -= (1.0 - x) * (1.0 - x) * y;
        if prev == z {
            return z / 3.0;
        }
    }
}

/// The estimate from a register histogram (the end of Redis's `hllCount`).
pub fn estimate(h: &[i64; 64]) -> u64 {
    let m = REGISTERS as f64;
    let mut z = m * tau((m - h[Q as usize + 1] as f64) / m);
    for j in (1..=Q as usize).rev() {
        z += h[j] as f64;
        z *= 0.5;
    }
    z += m * sigma(h[0] as f64 / m);
    llround(ALPHA_INF * m * m / z) as u64
}

/// C's `llround` on x86-64: half away from zero, and `i64::MIN` (the
/// "invalid" result) for what does not fit, infinity and NaN included.
fn llround(x: f64) -> i64 {
    let r = x.round();
    if (-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&r) { r as i64 } else { i64::MIN }
}

/// Redis's `hllCount` of the HLL `s` (already checked with [`is_hll`]).
pub fn count(s: &[u8]) -> Result<u64, Corrupt> {
    let mut h = [0i64; 64];
    if s[4] == DENSE {
        dense_histogram(&s[HDR..], &mut h);
    } else {
        sparse_histogram(s, &mut h)?;
    }
    Ok(estimate(&h))
}

/// The count of merged registers (one byte each), Redis's `HLL_RAW` path.
pub fn count_raw(max: &[u8; REGISTERS]) -> u64 {
    let mut h = [0i64; 64];
    for c in max.chunks_exact(8) {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        if u64::from_ne_bytes(w) == 0 {
            h[0] += 8;
        } else {
            c.iter().for_each(|&v| h[v as usize & 63] += 1);
        }
    }
    estimate(&h)
}

/// The registers of the HLL `s` as a dense string (for PFMERGE's
/// destination): `max` written into `s` register by register, the way
/// Redis's PFMERGE does, so the bytes follow Redis's.
pub fn write_registers(s: &mut Vec<u8>, max: &[u8; REGISTERS], max_bytes: usize) {
    let mut term = 0;
    for (j, &v) in max.iter().enumerate() {
        if v == 0 {
            continue;
        }
        if s[4] == DENSE {
            dense_set(&mut s[HDR..], j, v);
        } else {
            // Redis ignores a failure here; the destination was checked
            // when it was merged as a source.
            let _ = sparse_set(s, j, v, max_bytes, &mut term);
        }
    }
}

/// PFDEBUG DECODE's text of a sparse HLL: `z:<n>`, `Z:<n>`, `v:<value>,<n>`.
pub fn decode(s: &[u8]) -> String {
    let mut out = String::new();
    let mut p = HDR;
    while p < s.len() {
        let op = Op::read(s, p);
        let part = match op {
            Op::Zero(n) => format!("z:{n}"),
            Op::XZero(n) => format!("Z:{n}"),
            Op::Val(v, n) => format!("v:{v},{n}"),
        };
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&part);
        p += op.bytes();
    }
    out
}

/// Every register of the HLL `s` (PFDEBUG GETREG after the conversion).
pub fn registers(dense: &[u8]) -> impl Iterator<Item = u8> + '_ {
    (0..REGISTERS).map(move |i| dense_get(&dense[HDR..], i))
}

// ---------------------------------------------------------------------------
// PFSELFTEST

/// Redis's PFSELFTEST: the dense register accessors keep random values
/// without touching their neighbours, and 10 million additions keep the
/// sparse and dense estimates equal and within six standard errors.
/// `Err` carries Redis's `TESTFAILED ...` text.
pub fn selftest(rng: &mut super::rand::Rng, max_bytes: usize) -> Result<(), String> {
    let mut dense = vec![0u8; DENSE_SIZE];
    let mut bytes = vec![0u8; REGISTERS];
    for _ in 0..1000 {
        let r = &mut dense[HDR..];
        for (i, b) in bytes.iter_mut().enumerate() {
            let v = (rng.next_u64() & 63) as u8;
            *b = v;
            dense_put(r, i, v);
        }
        for (i, &b) in bytes.iter().enumerate() {
            let v = dense_get(r, i);
            if v != b {
                return Err(format!("TESTFAILED Register {i} should be {b} but is {v}"));
            }
        }
    }
    dense[HDR..].fill(0);
    dense[..4].copy_from_slice(b"HYLL");
    let mut sparse = new_sparse();
    let relerr = 1.04 / (REGISTERS as f64).sqrt();
    let mut checkpoint: u64 = 1;
    let seed = rng.next_u64();
    for j in 1..=10_000_000u64 {
        let ele = (j ^ seed).to_ne_bytes();
        let (index, rank) = pattern(&ele);
        dense_set(&mut dense[HDR..], index, rank);
        add(&mut sparse, &ele, max_bytes, &mut 0).map_err(|_| INVALID.to_string())?;
        if j != checkpoint {
            continue;
        }
        if (j as usize) < max_bytes / 2 && sparse[4] != SPARSE {
            return Err("TESTFAILED sparse encoding not used".into());
        }
        let card = count(&dense).map_err(|_| INVALID.to_string())?;
        if count(&sparse) != Ok(card) {
            return Err("TESTFAILED dense/sparse disagree".into());
        }
        let abserr = (checkpoint as i64 - card as i64).unsigned_abs();
        let maxerr = if j == 10 { 1 } else { (relerr * 6.0 * checkpoint as f64).ceil() as u64 };
        if abserr > maxerr {
            return Err(format!("TESTFAILED Too big error. card:{checkpoint} abserr:{abserr}"));
        }
        checkpoint *= 10;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn naive_get(r: &[u8], i: usize) -> u8 {
        (0..6).fold(0, |v, b| {
            let bit = i * 6 + b;
            v | (((r[bit / 8] >> (bit % 8)) & 1) << b)
        })
    }

    #[test]
    fn patterns_match_redis() {
        // Redis 7.0.15: PFADD h a b c, then PFDEBUG DECODE h answers
        // "Z:8436 v:1,1 Z:4274 v:2,1 Z:3068 v:1,1 Z:603".
        let mut got: Vec<(usize, u8)> = [&b"a"[..], b"b", b"c"].iter().map(|e| pattern(e)).collect();
        got.sort();
        assert_eq!(got, vec![(8436, 1), (12711, 2), (15780, 1)]);
        let mut s = new_sparse();
        for e in [&b"a"[..], b"b", b"c"] {
            assert_eq!(add(&mut s, e, 3000, &mut 0), Ok(true));
        }
        assert_eq!(decode(&s), "Z:8436 v:1,1 Z:4274 v:2,1 Z:3068 v:1,1 Z:603");
        assert_eq!(count(&s), Ok(3));
        assert_eq!(murmur64a(b"", 0), 0);
    }

    #[test]
    fn empty_hll_is_redis_bytes() {
        let s = new_sparse();
        assert_eq!(s, b"HYLL\x01\0\0\0\0\0\0\0\0\0\0\0\x7f\xff");
        assert!(is_hll(&s));
        assert_eq!(count(&s), Ok(0));
        assert_eq!(decode(&s), "Z:16384");
        let d = sparse_to_dense(&s).unwrap();
        assert_eq!(d.len(), DENSE_SIZE);
        assert_eq!(count(&d), Ok(0));
    }

    #[test]
    fn degenerate_histograms_round_like_c() {
        // Every register at 63 (dense only): z is 0, the estimate infinite,
        // and llround's invalid result is what Redis caches and replies.
        let mut h = [0i64; 64];
        h[63] = REGISTERS as i64;
        assert_eq!(estimate(&h), i64::MIN as u64);
        let mut h = [0i64; 64];
        h[0] = REGISTERS as i64;
        assert_eq!(estimate(&h), 0);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]

        #[test]
        fn dense_put_get_roundtrip(vals in prop::collection::vec(0u8..64, REGISTERS)) {
            let mut r = vec![0u8; REGISTERS * 6 / 8];
            for (i, &v) in vals.iter().enumerate() {
                dense_put(&mut r, i, v);
            }
            for (i, &v) in vals.iter().enumerate() {
                prop_assert_eq!(dense_get(&r, i), v);
                prop_assert_eq!(naive_get(&r, i), v);
            }
            let mut h = [0i64; 64];
            dense_histogram(&r, &mut h);
            for (v, &n) in h.iter().enumerate() {
                prop_assert_eq!(n, vals.iter().filter(|&&x| x as usize == v).count() as i64);
            }
        }

        /// Sparse and dense HLLs fed the same elements hold the same
        /// registers and the same estimate, whatever the sparse limit.
        #[test]
        fn sparse_and_dense_agree(n in 0usize..2500, seed: u64, max_bytes in prop::sample::select(vec![0usize, 40, 300, 3000, 20000])) {
            let mut sparse = new_sparse();
            let mut dense = sparse_to_dense(&sparse).unwrap();
            for i in 0..n {
                let ele = (i as u64 ^ seed).to_le_bytes();
                let a = add(&mut sparse, &ele, max_bytes, &mut 0).unwrap();
                let b = add(&mut dense, &ele, max_bytes, &mut 0).unwrap();
                prop_assert_eq!(a, b);
                if sparse[4] == SPARSE {
                    prop_assert!(sparse.len() <= max_bytes.max(HDR + 2));
                }
            }
            let again = sparse_to_dense(&sparse).unwrap_or_else(|_| sparse.clone());
            let regs: Vec<u8> = registers(&again).collect();
            let dregs: Vec<u8> = registers(&dense).collect();
            prop_assert_eq!(regs, dregs);
            prop_assert_eq!(count(&sparse), count(&dense));
        }

        /// Any bytes after a valid header: no panic, and a value that stays
        /// an HLL.
        #[test]
        fn corrupted_values_never_panic(
            body in prop::collection::vec(any::<u8>(), 0..200),
            dense: bool,
            eles in prop::collection::vec(any::<u32>(), 0..20),
        ) {
            let mut s = b"HYLL".to_vec();
            s.push(if dense { DENSE } else { SPARSE });
            s.extend_from_slice(&[0; 11]);
            s.extend_from_slice(&body);
            if dense {
                s.resize(DENSE_SIZE, 0x5a);
            }
            prop_assert!(is_hll(&s));
            let _ = count(&s);
            let _ = decode(&s);
            let mut max = [0u8; REGISTERS];
            let _ = merge(&mut max, &s);
            let _ = sparse_to_dense(&s);
            let mut term = 0;
            for e in eles {
                if add(&mut s, &e.to_le_bytes(), 3000, &mut term).is_err() {
                    break;
                }
                prop_assert!(is_hll(&s));
            }
            let mut t = s.clone();
            write_registers(&mut t, &max, 3000);
        }
    }
}
