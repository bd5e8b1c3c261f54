//! Bitmap commands: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD and
//! BITFIELD_RO — Redis 7.0's `bitops.c`, on string values.
//!
//! Bit `n` of a string is bit `7 - n % 8` of byte `n / 8`: offset 0 is the
//! most significant bit of the first byte. Bits past the end of a string read
//! as 0. Writes grow the string with zero bytes up to the highest bit written,
//! keeping the key's TTL; a missing key is created. Bit offsets are limited to
//! `proto-max-bulk-len` bytes (512 MB, so offsets below 2^32, by default).
//!
//! The order of checks follows Redis, because it decides which error a
//! command with several bad arguments gets: SETBIT parses before it looks the
//! key up; BITCOUNT and BITPOS look the key up before parsing the range, so a
//! missing key answers 0 (or BITPOS's missing-key answer) whatever the range.

use super::table::{Command, flag::*, row};
use super::{Args, CmdError, CmdResult, Ctx};
use crate::resp::parse::parse_i64;
use crate::server::notify as ev;
use crate::store::value::Str;
use crate::store::{Db, Expiry, Value};

pub static COMMANDS: &[Command] = &[
    row(
        "setbit",
        4,
        WRITE | DENYOOM,
        (1, 1, 1),
        "bitmap",
        "2.2.0",
        "Sets or clears the bit at offset in the string value stored at key",
        setbit,
    )
    .key_flags(&["RW access update"]),
    row(
        "getbit",
        3,
        READONLY | FAST,
        (1, 1, 1),
        "bitmap",
        "2.2.0",
        "Returns the bit value at offset in the string value stored at key",
        getbit,
    )
    .key_flags(&["RO access"]),
    row("bitcount", -2, READONLY, (1, 1, 1), "bitmap", "2.6.0", "Count set bits in a string", bitcount)
        .key_flags(&["RO access"]),
    row("bitpos", -3, READONLY, (1, 1, 1), "bitmap", "2.8.7", "Find first bit set or clear in a string", bitpos)
        .key_flags(&["RO access"]),
    row(
        "bitop",
        -4,
        WRITE | DENYOOM,
        (2, -1, 1),
        "bitmap",
        "2.6.0",
        "Perform bitwise operations between strings",
        bitop,
    )
    .key_flags(&["OW update", "RO access"]),
    row(
        "bitfield",
        -2,
        WRITE | DENYOOM,
        (1, 1, 1),
        "bitmap",
        "3.2.0",
        "Perform arbitrary bitfield integer operations on strings",
        bitfield,
    )
    .key_notes(&["This command allows both access and modification of the key"])
    .key_flags(&["RW access update variable_flags"]),
    row(
        "bitfield_ro",
        -2,
        READONLY | FAST,
        (1, 1, 1),
        "bitmap",
        "6.0.0",
        "Perform arbitrary bitfield integer operations on strings. Read-only variant of BITFIELD",
        bitfield_ro,
    )
    .key_flags(&["RO access"]),
];

const ERR_OFFSET: &str = "ERR bit offset is not an integer or out of range";
const ERR_BIT: &str = "ERR bit is not an integer or out of range";
const ERR_TYPE: &str =
    "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";

// ---------------------------------------------------------------------------
// Keyspace access

/// The string stored at `key`: `None` if missing, WRONGTYPE if not a string.
/// This and [`with_bits`] are the only places that know which value types
/// bitmap commands accept.
fn get_str<'a>(db: &'a mut Db, key: &[u8], now: u64) -> Result<Option<&'a [u8]>, CmdError> {
    super::str_of(db.get(key, now))
}

/// Redis's `lookupStringForBitCommand`: runs `f` on the string at `key`
/// grown (with zero bytes) to hold bit `maxbit`, creating the key if it is
/// missing, and tells `f` whether the string was created or grown. The TTL
/// of an existing key is kept. WRONGTYPE if not a string.
fn with_bits<R>(
    db: &mut Db,
    key: &[u8],
    maxbit: u64,
    now: u64,
    f: impl FnOnce(&mut [u8], bool) -> R,
) -> Result<R, CmdError> {
    let len = byte_len(maxbit)?;
    if let Some(e) = db.get_mut(key, now) {
        return match &mut e.value {
            Value::Str(s) => {
                let grown = len > s.len();
                grow_zeroed(s, len)?;
                s.mark_raw();
                Ok(f(s, grown))
            }
            _ => Err(CmdError::WrongType),
        };
    }
    let mut s = Str::new();
    grow_zeroed(&mut s, len)?;
    s.mark_raw();
    let r = f(&mut s, true);
    db.set(key, Value::Str(s), Expiry::None, now);
    Ok(r)
}

/// Bytes needed to hold bit `maxbit`, as a `usize`.
fn byte_len(maxbit: u64) -> Result<usize, CmdError> {
    usize::try_from(maxbit / 8 + 1).map_err(|_| out_of_memory(maxbit / 8 + 1))
}

fn out_of_memory(bytes: impl std::fmt::Display) -> CmdError {
    CmdError::msg(format!("ERR out of memory allocating {bytes} bytes"))
}

/// Zero-extends `s` to at least `len` bytes, preallocating like Redis's
/// `sdsMakeRoomFor` (double below 1 MB, +1 MB above) so a bitmap grown bit by
/// bit is not copied every time. An allocation that fails (only possible when
/// `proto-max-bulk-len` was raised past the machine's memory) is an error
/// reply, where Redis would abort.
fn grow_zeroed(s: &mut Str, len: usize) -> Result<(), CmdError> {
    if len <= s.len() {
        return Ok(());
    }
    if len <= crate::store::bytes::INLINE && s.heap_size() == 0 {
        s.resize_zeroed(len);
        return Ok(());
    }
    let s = s.vec_mut();
    if len > s.capacity() {
        const MAX_PREALLOC: usize = 1024 * 1024;
        // A new string gets exactly its size, as `sdsnewlen` gives it.
        let greedy = if s.is_empty() {
            len
        } else if len < MAX_PREALLOC {
            len * 2
        } else {
            len.saturating_add(MAX_PREALLOC)
        };
        if s.try_reserve_exact(greedy - s.len()).is_err() {
            s.try_reserve_exact(len - s.len()).map_err(|_| out_of_memory(len))?;
        }
    }
    s.resize(len, 0);
    Ok(())
}

// ---------------------------------------------------------------------------
// Argument parsing

/// Redis's `getBitOffsetFromArgument`. With `hash_bits` (BITFIELD), `#n`
/// means `n * bits`; the product wraps like Redis's C arithmetic. The offset
/// must address a byte below `proto-max-bulk-len`.
fn bit_offset(arg: &[u8], hash_bits: Option<u32>, max_bulk_len: u64) -> Result<u64, CmdError> {
    let err = || CmdError::msg(ERR_OFFSET);
    let (digits, mul) = match (arg.first(), hash_bits) {
        (Some(b'#'), Some(bits)) => (&arg[1..], bits as i64),
        _ => (arg, 1),
    };
    let n = parse_i64(digits).ok_or_else(err)?.wrapping_mul(mul);
    if n < 0 || (n as u64 >> 3) >= max_bulk_len {
        return Err(err());
    }
    Ok(n as u64)
}

/// A BITFIELD type: `i1`..`i64` or `u1`..`u63` (lower case only, as in
/// Redis 7.0). Like Redis, the width is read up to the first NUL byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldType {
    pub signed: bool,
    pub bits: u32,
}

fn field_type(arg: &[u8]) -> Result<FieldType, CmdError> {
    let err = || CmdError::msg(ERR_TYPE);
    let signed = match arg.first() {
        Some(b'i') => true,
        Some(b'u') => false,
        _ => return Err(err()),
    };
    let width = arg[1..].split(|&b| b == 0).next().unwrap_or_default();
    let bits = parse_i64(width).ok_or_else(err)?;
    let max = if signed { 64 } else { 63 };
    if !(1..=max).contains(&bits) {
        return Err(err());
    }
    Ok(FieldType { signed, bits: bits as u32 })
}

fn is(arg: &[u8], word: &str) -> bool {
    arg.eq_ignore_ascii_case(word.as_bytes())
}

// ---------------------------------------------------------------------------
// Bit arithmetic (pure; unit-tested below)

/// Bit `offset` of `s`, 0 past the end.
pub fn get_bit(s: &[u8], offset: u64) -> bool {
    match usize::try_from(offset / 8).ok().and_then(|i| s.get(i)) {
        Some(b) => b & (0x80 >> (offset % 8)) != 0,
        None => false,
    }
}

/// Number of set bits in `s`.
pub fn popcount(s: &[u8]) -> u64 {
    let mut chunks = s.chunks_exact(8);
    let mut n: u64 = 0;
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        n += u64::from_ne_bytes(w).count_ones() as u64;
    }
    n + chunks.remainder().iter().map(|b| b.count_ones() as u64).sum::<u64>()
}

/// Mask of the bits of a byte at positions `from..=to` (0 = most significant).
fn byte_mask(from: u64, to: u64) -> u8 {
    (0xffu8 >> from) & (0xffu8 << (7 - to))
}

/// Set bits of `s` in the inclusive bit range `first..=last`
/// (`last < s.len() * 8`).
pub fn count_range(s: &[u8], first: u64, last: u64) -> u64 {
    let (fb, lb) = ((first / 8) as usize, (last / 8) as usize);
    if fb == lb {
        return (s[fb] & byte_mask(first % 8, last % 8)).count_ones() as u64;
    }
    let head = (s[fb] & byte_mask(first % 8, 7)).count_ones() as u64;
    let tail = (s[lb] & byte_mask(0, last % 8)).count_ones() as u64;
    head + popcount(&s[fb + 1..lb]) + tail
}

/// The first bit equal to `bit` in the inclusive bit range `first..=last`
/// (`last < s.len() * 8`), if any.
pub fn find_bit(s: &[u8], bit: bool, first: u64, last: u64) -> Option<u64> {
    let (fb, lb) = ((first / 8) as usize, (last / 8) as usize);
    // Bytes made to look for set bits: clear bits are the ones searched when
    // `bit` is 0, so invert.
    let look = |i: usize| if bit { s[i] } else { !s[i] };
    let hit = |i: usize, m: u8| {
        let b = look(i) & m;
        (b != 0).then(|| i as u64 * 8 + b.leading_zeros() as u64)
    };
    if fb == lb {
        return hit(fb, byte_mask(first % 8, last % 8));
    }
    if let Some(p) = hit(fb, byte_mask(first % 8, 7)) {
        return Some(p);
    }
    // Whole bytes, a word at a time: skip words with nothing to find.
    let skip = if bit { 0u64 } else { u64::MAX };
    let mut i = fb + 1;
    while i + 8 <= lb {
        let mut w = [0u8; 8];
        w.copy_from_slice(&s[i..i + 8]);
        if u64::from_ne_bytes(w) != skip {
            break;
        }
        i += 8;
    }
    while i < lb {
        if let Some(p) = hit(i, 0xff) {
            return Some(p);
        }
        i += 1;
    }
    hit(lb, byte_mask(0, last % 8))
}

/// Redis's range arithmetic for BITCOUNT and BITPOS: negative indexes count
/// from `total`, then both are clamped into `0..total`. `None` when the range
/// is empty.
fn clamp_range(mut start: i64, mut end: i64, total: i64) -> Option<(u64, u64)> {
    if start < 0 {
        start += total;
    }
    if end < 0 {
        end += total;
    }
    let start = start.max(0);
    let end = end.max(0).min(total - 1);
    (start <= end).then_some((start as u64, end as u64))
}

/// The `bits`-wide field at bit `offset` of `s` as an unsigned number
/// (bits past the end read as 0). `bits` is 1..=64.
pub fn get_field(s: &[u8], offset: u64, bits: u32) -> u64 {
    let (byte, shift) = window_pos(offset, bits);
    let mut w = [0u8; 16];
    let avail = s.len().saturating_sub(byte).min(9);
    if avail > 0 {
        w[..avail].copy_from_slice(&s[byte..byte + avail]);
    }
    ((u128::from_be_bytes(w) >> shift) & field_mask(bits)) as u64
}

/// Stores the low `bits` bits of `value` at bit `offset` of `s`, which must
/// be long enough to hold them.
pub fn set_field(s: &mut [u8], offset: u64, bits: u32, value: u64) {
    let (byte, shift) = window_pos(offset, bits);
    let n = s.len().saturating_sub(byte).min(9);
    let mut w = [0u8; 16];
    w[..n].copy_from_slice(&s[byte..byte + n]);
    let mut x = u128::from_be_bytes(w);
    let mask = field_mask(bits) << shift;
    x = (x & !mask) | (((value as u128) << shift) & mask);
    s[byte..byte + n].copy_from_slice(&x.to_be_bytes()[..n]);
}

/// The first byte of the 9-byte window holding a field, and how far the
/// field's lowest bit sits from the end of a 16-byte big-endian word.
fn window_pos(offset: u64, bits: u32) -> (usize, u32) {
    let byte = (offset / 8) as usize;
    (byte, 128 - (offset % 8) as u32 - bits)
}

fn field_mask(bits: u32) -> u128 {
    (1u128 << bits) - 1
}

/// Sign-extends a `bits`-wide field.
pub fn to_signed(v: u64, bits: u32) -> i64 {
    let shift = 64 - bits;
    ((v << shift) as i64) >> shift
}

/// BITFIELD's OVERFLOW behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overflow {
    Wrap,
    Sat,
    Fail,
}

/// Adds `incr` to a field holding `value` (SET passes the new value as
/// `value` and 0 as `incr`), with Redis's overflow checks: the field's new
/// bits (the low `bits` bits of the result), or `None` when it overflows
/// under FAIL.
///
/// This is `check{Signed,Unsigned}BitfieldOverflow` condition for condition,
/// quirks included, because they decide what SAT stores:
/// - unsigned: the value is taken as a `u64`, so SET u8 -1 overflows
///   upwards and SAT stores 255;
/// - signed: `max - value` is computed in 64 bits and may wrap, so SET of a
///   value far below the minimum (below `max - i64::MAX`, e.g. SET i8
///   -9223372036854775800) counts as an overflow upwards and SAT stores the
///   maximum, not the minimum.
pub fn apply(ty: FieldType, value: u64, incr: i64, ow: Overflow) -> Option<u64> {
    let bits = ty.bits;
    // Whether it overflows upwards or downwards, and the limits SAT stores.
    let (up, down, max, min) = if ty.signed {
        let value = value as i64;
        let max: i64 = if bits == 64 { i64::MAX } else { (1 << (bits - 1)) - 1 };
        let min = -max - 1;
        let maxincr = (max as u64).wrapping_sub(value as u64) as i64;
        let minincr = min.wrapping_sub(value);
        let up = value > max || (bits != 64 && incr > maxincr) || (value >= 0 && incr > 0 && incr > maxincr);
        let down = value < min || (bits != 64 && incr < minincr) || (value < 0 && incr < 0 && incr < minincr);
        (up, down, max as u64, min as u64)
    } else {
        let max = field_mask(bits) as u64;
        let maxincr = max.wrapping_sub(value) as i64;
        let minincr = (value as i64).wrapping_neg();
        let up = value > max || (incr > 0 && incr > maxincr);
        let down = incr < 0 && incr < minincr;
        (up, down, max, 0)
    };
    let new = match ow {
        _ if !up && !down => value.wrapping_add(incr as u64),
        Overflow::Wrap => value.wrapping_add(incr as u64),
        Overflow::Fail => return None,
        Overflow::Sat if up => max,
        Overflow::Sat => min,
    };
    Some(new & field_mask(bits) as u64)
}

// ---------------------------------------------------------------------------
// Commands

/// # Format
/// `SETBIT key offset value`
///
/// Replies with the bit's previous value.
fn setbit(cx: &mut Ctx, args: &Args) -> CmdResult {
    let offset = bit_offset(args.get(2), None, cx.bulk_limit())?;
    let on = match parse_i64(args.get(3)) {
        Some(0) => false,
        Some(1) => true,
        _ => return Err(CmdError::msg(ERR_BIT)),
    };
    let now = cx.now;
    let dbi = cx.db_index();
    let (old, modified) = with_bits(&mut cx.srv.dbs[dbi], args.get(1), offset, now, |s, grown| {
        let old = get_bit(s, offset);
        let byte = &mut s[(offset / 8) as usize];
        let m = 0x80u8 >> (offset % 8);
        if on {
            *byte |= m
        } else {
            *byte &= !m
        }
        (old, grown || old != on)
    })?;
    // As Redis: a bit set to the value it had changes nothing (no event);
    // the event comes before the reply.
    if modified {
        cx.notify(ev::STRING, "setbit", args.get(1));
    }
    cx.out.int(old as i64);
    Ok(())
}

/// # Format
/// `GETBIT key offset`
fn getbit(cx: &mut Ctx, args: &Args) -> CmdResult {
    let offset = bit_offset(args.get(2), None, cx.bulk_limit())?;
    let now = cx.now;
    let bit = get_str(cx.db(), args.get(1), now)?.is_some_and(|s| get_bit(s, offset));
    cx.out.int(bit as i64);
    Ok(())
}

/// Parses `BYTE | BIT`: true for BIT.
fn unit_is_bit(arg: &[u8]) -> Result<bool, CmdError> {
    if is(arg, "bit") {
        Ok(true)
    } else if is(arg, "byte") {
        Ok(false)
    } else {
        Err(CmdError::Syntax)
    }
}

/// # Format
/// `BITCOUNT key [start end [BYTE | BIT]]`
///
/// A missing key counts 0 before the range is even parsed, as in Redis 7.0.
fn bitcount(cx: &mut Ctx, args: &Args) -> CmdResult {
    let now = cx.now;
    let dbi = cx.db_index();
    let Ctx { srv, out, .. } = cx;
    let Some(s) = get_str(&mut srv.dbs[dbi], args.get(1), now)? else {
        out.int(0);
        return Ok(());
    };
    let total_bytes = s.len() as i64;
    let range = match args.len() {
        2 => (total_bytes > 0).then(|| (0, total_bytes as u64 * 8 - 1)),
        4 | 5 => {
            let start = args.int(2)?;
            let end = args.int(3)?;
            // Redis 7.0 answers 0 here before it looks at BYTE | BIT.
            if start < 0 && end < 0 && start > end {
                out.int(0);
                return Ok(());
            }
            let bit = args.len() == 5 && unit_is_bit(args.get(4))?;
            let total = if bit { total_bytes * 8 } else { total_bytes };
            if bit {
                clamp_range(start, end, total)
            } else {
                clamp_range(start, end, total).map(|(a, b)| (a * 8, b * 8 + 7))
            }
        }
        _ => return Err(CmdError::Syntax),
    };
    out.int(range.map_or(0, |(first, last)| count_range(s, first, last)) as i64);
    Ok(())
}

/// # Format
/// `BITPOS key bit [start [end [BYTE | BIT]]]`
///
/// A missing key is all zeros: 0 for bit 0, -1 for bit 1. Looking for a 0
/// without an explicit end finds the first bit past the string when the range
/// is all ones; with an explicit end that is -1.
fn bitpos(cx: &mut Ctx, args: &Args) -> CmdResult {
    let bit = match args.int(2)? {
        0 => false,
        1 => true,
        _ => return Err(CmdError::msg("ERR The bit argument must be 1 or 0.")),
    };
    let now = cx.now;
    let dbi = cx.db_index();
    let Ctx { srv, out, .. } = cx;
    let Some(s) = get_str(&mut srv.dbs[dbi], args.get(1), now)? else {
        out.int(if bit { -1 } else { 0 });
        return Ok(());
    };
    let total_bytes = s.len() as i64;
    let (range, end_given) = match args.len() {
        3 => (clamp_range(0, -1, total_bytes).map(|(a, b)| (a * 8, b * 8 + 7)), false),
        4..=6 => {
            let start = args.int(3)?;
            let unit_bit = args.len() == 6 && unit_is_bit(args.get(5))?;
            let end = if args.len() >= 5 { args.int(4)? } else { -1 };
            let range = if unit_bit {
                clamp_range(start, end, total_bytes * 8)
            } else {
                clamp_range(start, end, total_bytes).map(|(a, b)| (a * 8, b * 8 + 7))
            };
            (range, args.len() >= 5)
        }
        _ => return Err(CmdError::Syntax),
    };
    let pos = match range {
        None => -1,
        Some((first, last)) => match find_bit(s, bit, first, last) {
            Some(p) => p as i64,
            // No clear bit: without an end the string is taken as padded
            // with zeros, so the answer is the first bit after the range.
            None if !bit && !end_given => last as i64 + 1,
            None => -1,
        },
    };
    out.int(pos);
    Ok(())
}

#[derive(Clone, Copy)]
enum BitOp {
    And,
    Or,
    Xor,
    Not,
}

/// # Format
/// `BITOP <AND | OR | XOR | NOT> destkey key [key ...]`
///
/// Missing keys are empty strings; shorter strings are padded with zeros.
/// Replies with the length of the result, which is stored at `destkey`
/// without TTL (or deletes `destkey` when empty).
fn bitop(cx: &mut Ctx, args: &Args) -> CmdResult {
    let name = args.get(1);
    let op = if is(name, "and") {
        BitOp::And
    } else if is(name, "or") {
        BitOp::Or
    } else if is(name, "xor") {
        BitOp::Xor
    } else if is(name, "not") {
        BitOp::Not
    } else {
        return Err(CmdError::Syntax);
    };
    if matches!(op, BitOp::Not) && args.len() != 4 {
        return Err(CmdError::msg("ERR BITOP NOT must be called with a single source key."));
    }
    let now = cx.now;
    let db = cx.db();
    // First pass: types and the result's length, before computing anything.
    let mut maxlen = 0;
    for key in args.from(3) {
        maxlen = maxlen.max(get_str(db, key, now)?.map_or(0, <[u8]>::len));
    }
    if maxlen == 0 {
        if db.remove(args.get(2), now).is_some() {
            cx.notify(ev::GENERIC, "del", args.get(2));
        }
        cx.out.int(0);
        return Ok(());
    }
    // Second pass: fold the sources into one buffer, one source at a time.
    let mut res = Vec::new();
    res.try_reserve_exact(maxlen).map_err(|_| out_of_memory(maxlen))?;
    for (j, key) in args.from(3).enumerate() {
        let src = get_str(db, key, now)?.unwrap_or_default();
        if j == 0 {
            res.extend_from_slice(src);
            res.resize(maxlen, 0);
            if let BitOp::Not = op {
                res.iter_mut().for_each(|b| *b = !*b);
            }
            continue;
        }
        let (head, tail) = res.split_at_mut(src.len());
        match op {
            BitOp::And => {
                head.iter_mut().zip(src).for_each(|(r, s)| *r &= s);
                tail.fill(0);
            }
            BitOp::Or => head.iter_mut().zip(src).for_each(|(r, s)| *r |= s),
            BitOp::Xor => head.iter_mut().zip(src).for_each(|(r, s)| *r ^= s),
            BitOp::Not => {}
        }
    }
    let mut res = Str::from_vec(res);
    res.mark_raw();
    db.set(args.get(2), Value::Str(res), Expiry::None, now);
    cx.notify(ev::STRING, "set", args.get(2));
    cx.out.int(maxlen as i64);
    Ok(())
}

#[derive(Debug, Clone, Copy)]
enum FieldOp {
    Get,
    Set(i64),
    IncrBy(i64),
}

/// One parsed BITFIELD operation.
#[derive(Debug, Clone, Copy)]
struct Op {
    op: FieldOp,
    ty: FieldType,
    offset: u64,
    overflow: Overflow,
}

/// # Format
/// `BITFIELD key [GET encoding offset | [OVERFLOW <WRAP | SAT | FAIL>]
///  <SET encoding offset value | INCRBY encoding offset increment>
///  [GET encoding offset | [OVERFLOW <WRAP | SAT | FAIL>]
///  <SET encoding offset value | INCRBY encoding offset increment> ...]]`
///
/// Replies with one entry per GET/SET/INCRBY: the field (GET), its old value
/// (SET), its new value (INCRBY), or null when OVERFLOW FAIL refused a write.
fn bitfield(cx: &mut Ctx, args: &Args) -> CmdResult {
    bitfield_generic(cx, args, false)
}

/// # Format
/// `BITFIELD_RO key [GET encoding offset [GET encoding offset ...]]`
fn bitfield_ro(cx: &mut Ctx, args: &Args) -> CmdResult {
    bitfield_generic(cx, args, true)
}

fn bitfield_generic(cx: &mut Ctx, args: &Args, read_only: bool) -> CmdResult {
    let max_bulk_len = cx.bulk_limit();
    let mut ops = Vec::new();
    let mut overflow = Overflow::Wrap;
    let mut highest_write: Option<u64> = None;
    let mut j = 2;
    while j < args.len() {
        let remaining = args.len() - j - 1;
        let sub = args.get(j);
        // `None` for GET, else how to build the write from its value.
        let write: Option<fn(i64) -> FieldOp> = if is(sub, "get") && remaining >= 2 {
            None
        } else if is(sub, "set") && remaining >= 3 {
            Some(FieldOp::Set)
        } else if is(sub, "incrby") && remaining >= 3 {
            Some(FieldOp::IncrBy)
        } else if is(sub, "overflow") && remaining >= 1 {
            let kind = args.get(j + 1);
            overflow = if is(kind, "wrap") {
                Overflow::Wrap
            } else if is(kind, "sat") {
                Overflow::Sat
            } else if is(kind, "fail") {
                Overflow::Fail
            } else {
                return Err(CmdError::msg("ERR Invalid OVERFLOW type specified"));
            };
            j += 2;
            continue;
        } else {
            return Err(CmdError::Syntax);
        };
        let ty = field_type(args.get(j + 1))?;
        let offset = bit_offset(args.get(j + 2), Some(ty.bits), max_bulk_len)?;
        let op = match write {
            None => FieldOp::Get,
            Some(make) => {
                let last = offset + ty.bits as u64 - 1;
                highest_write = Some(highest_write.map_or(last, |h| h.max(last)));
                make(args.int(j + 3)?)
            }
        };
        ops.push(Op { op, ty, offset, overflow });
        j += if write.is_none() { 3 } else { 4 };
    }

    let now = cx.now;
    let dbi = cx.db_index();
    let Ctx { srv, out, .. } = cx;
    let db = &mut srv.dbs[dbi];
    let Some(highest) = highest_write else {
        // Only GETs: read without creating the key.
        let s = get_str(db, args.get(1), now)?.unwrap_or_default();
        out.array(ops.len());
        for op in &ops {
            let v = get_field(s, op.offset, op.ty.bits);
            out.int(if op.ty.signed { to_signed(v, op.ty.bits) } else { v as i64 });
        }
        return Ok(());
    };
    if read_only {
        return Err(CmdError::msg("ERR BITFIELD_RO only supports the GET subcommand"));
    }
    let changes = with_bits(db, args.get(1), highest, now, |s, grown| {
        // Redis counts each write that moves its field's bits, or every
        // write when the string was created or grown; a failed INCRBY
        // (OVERFLOW FAIL) writes nothing.
        let mut changes = 0;
        out.array(ops.len());
        for op in &ops {
            let (bits, signed) = (op.ty.bits, op.ty.signed);
            let old = get_field(s, op.offset, bits);
            let as_reply = |v: u64| if signed { to_signed(v, bits) } else { v as i64 };
            let (value, incr) = match op.op {
                FieldOp::Get => {
                    out.int(as_reply(old));
                    continue;
                }
                FieldOp::Set(v) => (v as u64, 0),
                FieldOp::IncrBy(by) => (if signed { to_signed(old, bits) as u64 } else { old }, by),
            };
            match apply(op.ty, value, incr, op.overflow) {
                None => out.null(),
                Some(new) => {
                    set_field(s, op.offset, bits, new);
                    // Only a write that changes the bits counts (WATCH,
                    // notifications, tracking), as in Redis.
                    let mask = u64::MAX >> (64 - bits);
                    changes += usize::from(grown || new & mask != old);
                    out.int(if matches!(op.op, FieldOp::Set(_)) { as_reply(old) } else { as_reply(new) });
                }
            }
        }
        changes
    })?;
    if changes > 0 {
        cx.notify(ev::STRING, "setbit", args.get(1));
    }
    cx.dirty(changes as u64);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Bit `i` of `s`, one bit at a time: the model the fast code must match.
    fn naive_bit(s: &[u8], i: u64) -> bool {
        (i / 8) < s.len() as u64 && (s[(i / 8) as usize] >> (7 - i % 8)) & 1 == 1
    }

    fn naive_get(s: &[u8], offset: u64, bits: u32) -> u64 {
        (0..bits as u64).fold(0, |v, i| (v << 1) | naive_bit(s, offset + i) as u64)
    }

    const U8: FieldType = FieldType { signed: false, bits: 8 };
    const I8: FieldType = FieldType { signed: true, bits: 8 };
    const I64: FieldType = FieldType { signed: true, bits: 64 };

    #[test]
    fn offsets() {
        let max = 512 * 1024 * 1024;
        assert_eq!(bit_offset(b"0", None, max), Ok(0));
        assert_eq!(bit_offset(b"4294967295", None, max), Ok(4294967295));
        for bad in [&b"4294967296"[..], b"-1", b"#1", b"01", b"", b"1.0", b" 1"] {
            assert!(bit_offset(bad, None, max).is_err(), "{bad:?}");
        }
        assert_eq!(bit_offset(b"#3", Some(8), max), Ok(24));
        assert_eq!(bit_offset(b"#536870911", Some(8), max), Ok(4294967288));
        assert!(bit_offset(b"#536870912", Some(8), max).is_err());
        assert!(bit_offset(b"#", Some(8), max).is_err());
        // The product wraps as in Redis: 2^58 * 64 = 2^64 → 0.
        assert_eq!(bit_offset(b"#288230376151711744", Some(64), max), Ok(0));
        assert!(bit_offset(b"#144115188075855872", Some(64), max).is_err());
        assert!(bit_offset(b"8388608", None, 1024 * 1024).is_err());
    }

    #[test]
    fn types() {
        assert_eq!(field_type(b"i64"), Ok(I64));
        assert_eq!(field_type(b"u63"), Ok(FieldType { signed: false, bits: 63 }));
        assert_eq!(field_type(b"i8\0junk"), Ok(I8));
        for bad in [&b"u64"[..], b"i65", b"i0", b"u0", b"I8", b"U8", b"x8", b"i08", b"i+8", b"i", b"", b"i-1"] {
            assert!(field_type(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn fields_at_boundaries() {
        let s = b"A"; // 0100_0001
        assert_eq!(get_field(s, 0, 16), 0x4100);
        assert_eq!(get_field(s, 4, 4), 1);
        assert_eq!(get_field(s, 6, 3), 2);
        assert_eq!(to_signed(get_field(s, 1, 64), 64), -9079256848778919936);
        assert_eq!(get_field(s, 0, 63), 2341871806232657920);
        assert_eq!(get_field(b"", 1000, 64), 0);
        let mut s = [0u8; 9];
        set_field(&mut s, 7, 64, u64::MAX);
        assert_eq!(s, [1, 255, 255, 255, 255, 255, 255, 255, 254]);
        // A short buffer is fine as long as it holds the field.
        let mut s = [0u8; 2];
        set_field(&mut s, 4, 8, 0xab);
        assert_eq!(s, [0x0a, 0xb0]);
    }

    #[test]
    fn overflow_rules_match_redis() {
        use Overflow::*;
        let u = |v: i64| v as u64;
        assert_eq!(apply(U8, 250, 10, Wrap), Some(4));
        assert_eq!(apply(U8, 250, 10, Sat), Some(255));
        assert_eq!(apply(U8, 250, 10, Fail), None);
        assert_eq!(apply(U8, 5, -1000, Sat), Some(0));
        assert_eq!(apply(U8, u(-1), 0, Sat), Some(255)); // SET u8 -1
        assert_eq!(apply(U8, u(-1), 0, Wrap), Some(255));
        assert_eq!(apply(U8, u(-1), 0, Fail), None);
        assert_eq!(apply(I8, u(-128), -1, Wrap), Some(127));
        assert_eq!(apply(I8, u(-128), -1, Sat), Some(0x80));
        assert_eq!(apply(I8, 200, 0, Sat), Some(127));
        assert_eq!(apply(I8, 200, 0, Wrap).map(|v| to_signed(v, 8)), Some(-56));
        assert_eq!(apply(I8, u(-3), 1, Fail).map(|v| to_signed(v, 8)), Some(-2));
        // Redis's 64-bit `max - value` wraps for values far below the
        // minimum: SAT then stores the maximum (checked against Redis 7.0.15).
        assert_eq!(apply(I8, u(-9223372036854775800), 0, Sat), Some(127));
        assert_eq!(apply(I8, u(-9223372036854775681), 0, Sat), Some(127));
        assert_eq!(apply(I8, u(-9223372036854775680), 0, Sat), Some(0x80));
        let i62 = FieldType { signed: true, bits: 62 };
        assert_eq!(apply(i62, u(-7476297344765222010), 0, Sat), Some((1 << 61) - 1));
        assert_eq!(apply(I64, u(i64::MAX), 1, Sat), Some(u(i64::MAX)));
        assert_eq!(apply(I64, u(i64::MAX), 1, Wrap), Some(u(i64::MIN)));
        assert_eq!(apply(I64, u(i64::MIN), i64::MIN, Sat), Some(u(i64::MIN)));
        assert_eq!(apply(I64, u(i64::MIN), i64::MIN, Wrap), Some(0));
        assert_eq!(apply(I64, u(i64::MIN), -1, Fail), None);
    }

    #[test]
    fn find_bit_edges() {
        let s = [0xff, 0xf0, 0x00];
        assert_eq!(find_bit(&s, false, 0, 23), Some(12));
        assert_eq!(find_bit(&s, false, 0, 11), None);
        assert_eq!(find_bit(&s, true, 12, 23), None);
        assert_eq!(find_bit(&s, true, 3, 5), Some(3));
        assert_eq!(find_bit(&[0xff; 40], false, 0, 319), None);
        let mut long = [0u8; 40];
        long[37] = 1;
        assert_eq!(find_bit(&long, true, 3, 319), Some(37 * 8 + 7));
    }

    #[test]
    fn ranges() {
        assert_eq!(clamp_range(0, -1, 6), Some((0, 5)));
        assert_eq!(clamp_range(-100, 100, 6), Some((0, 5)));
        assert_eq!(clamp_range(3, 1, 6), None);
        assert_eq!(clamp_range(-100, -200, 6), Some((0, 0)));
        assert_eq!(clamp_range(0, -1, 0), None);
        assert_eq!(clamp_range(i64::MIN, i64::MAX, 48), Some((0, 47)));
    }

    proptest! {
        #[test]
        fn bitfield_set_get_roundtrip(
            s in prop::collection::vec(any::<u8>(), 0..24),
            offset in 0u64..200,
            bits in 1u32..=64,
            value in any::<u64>(),
        ) {
            let mut s = s;
            let need = ((offset + bits as u64 - 1) / 8 + 1) as usize;
            if s.len() < need { s.resize(need, 0); }
            let before = s.clone();
            set_field(&mut s, offset, bits, value);
            let mask = if bits == 64 { u64::MAX } else { (1 << bits) - 1 };
            prop_assert_eq!(get_field(&s, offset, bits), value & mask);
            prop_assert_eq!(naive_get(&s, offset, bits), value & mask);
            // No bit outside the field changed.
            for i in 0..s.len() as u64 * 8 {
                if i < offset || i >= offset + bits as u64 {
                    prop_assert_eq!(naive_bit(&s, i), naive_bit(&before, i));
                }
            }
        }

        #[test]
        fn get_field_matches_bit_by_bit(s in prop::collection::vec(any::<u8>(), 0..24), offset in 0u64..220, bits in 1u32..=64) {
            prop_assert_eq!(get_field(&s, offset, bits), naive_get(&s, offset, bits));
        }

        #[test]
        fn count_and_find_match_naive(s in prop::collection::vec(any::<u8>(), 1..64), a in 0u64..512, b in 0u64..512, bit: bool) {
            let total = s.len() as u64 * 8;
            let (first, last) = (a.min(b) % total, a.max(b) % total);
            let (first, last) = (first.min(last), first.max(last));
            let naive_count = (first..=last).filter(|&i| naive_bit(&s, i)).count() as u64;
            prop_assert_eq!(count_range(&s, first, last), naive_count);
            prop_assert_eq!(popcount(&s), (0..total).filter(|&i| naive_bit(&s, i)).count() as u64);
            let naive_find = (first..=last).find(|&i| naive_bit(&s, i) == bit);
            prop_assert_eq!(find_bit(&s, bit, first, last), naive_find);
        }

        #[test]
        fn overflow_matches_exact_arithmetic(signed: bool, bits in 1u32..=64, value in any::<i64>(), incr in any::<i64>()) {
            let bits = if signed { bits } else { bits.min(63) };
            let ty = FieldType { signed, bits };
            let (min, max) = if signed {
                (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1)
            } else {
                (0, (1i128 << bits) - 1)
            };
            // A field value as stored, then read back.
            let mask = if bits == 64 { u64::MAX } else { (1 << bits) - 1 };
            let field = value as u64 & mask;
            let v = if signed { to_signed(field, bits) as i128 } else { field as i128 };
            let exact = v + incr as i128;
            let arg = if signed { v as i64 as u64 } else { field };
            let fits = (min..=max).contains(&exact);
            prop_assert_eq!(apply(ty, arg, incr, Overflow::Fail).is_some(), fits);
            let sat = apply(ty, arg, incr, Overflow::Sat).map(|x| if signed { to_signed(x, bits) as i128 } else { x as i128 });
            prop_assert_eq!(sat, Some(exact.clamp(min, max)));
            let wrap = apply(ty, arg, incr, Overflow::Wrap);
            prop_assert_eq!(wrap, Some((exact as u64) & mask));
        }
    }
}
