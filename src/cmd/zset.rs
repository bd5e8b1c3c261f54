//! Sorted set commands: ZADD, ZINCRBY, ZREM, ZCARD, ZSCORE, ZMSCORE,
//! ZRANK/ZREVRANK, ZCOUNT, ZLEXCOUNT, the ZRANGE family (ZRANGE, ZRANGESTORE,
//! ZREVRANGE, Z[REV]RANGEBYSCORE, Z[REV]RANGEBYLEX), the ZREMRANGEBY family,
//! ZPOPMIN/ZPOPMAX, ZMPOP, ZUNION/ZINTER/ZDIFF (and their STORE forms),
//! ZINTERCARD, ZRANDMEMBER and ZSCAN, as Redis 7.0 has them.
//!
//! Number parsing follows Redis exactly: scores, increments and weights
//! are read like `string2d` (C `strtod` over the whole argument, no leading
//! space, no NaN, no overflow/underflow to zero; hex floats and `inf`
//! accepted), score range bounds like `zslParseRange` (`strtod` that must
//! reach the end of the C string; a leading `(` makes the bound exclusive).

use super::keys::parse_cursor;
use super::table::{Command, flag::*, row};
use super::{Args, CmdError, CmdResult, Ctx, parse_int};
use crate::glob;
use crate::resp::reply::format_double;
use crate::resp::{Proto, Reply};
use crate::server::notify as ev;
use crate::server::state::Shared;
use crate::store::bytes::Bytes;
use crate::store::rand::Rng;
use crate::store::set::Set;
use crate::store::zset::{AddFlags, AddOutcome, Limits, ZSet, cmp_key};
use crate::store::{Db, Entry, Expiry, Value};
use hashbrown::HashMap;
use hashbrown::hash_map::Entry as MapEntry;
use std::cmp::Ordering;

const G: &str = "sorted-set";

pub static COMMANDS: &[Command] = &[
    row(
        "zadd",
        -4,
        WRITE | DENYOOM | FAST,
        (1, 1, 1),
        G,
        "1.2.0",
        "Add one or more members to a sorted set, or update its score if it already exists",
        zadd,
    ).key_flags(&["RW update"]),
    row(
        "zincrby",
        4,
        WRITE | DENYOOM | FAST,
        (1, 1, 1),
        G,
        "1.2.0",
        "Increment the score of a member in a sorted set",
        zincrby,
    ).key_flags(&["RW access update"]),
    row("zrem", -3, WRITE | FAST, (1, 1, 1), G, "1.2.0", "Remove one or more members from a sorted set", zrem)
        .key_flags(&["RW delete"]),
    row("zcard", 2, READONLY | FAST, (1, 1, 1), G, "1.2.0", "Get the number of members in a sorted set", zcard)
        .key_flags(&["RO"]),
    row(
        "zscore",
        3,
        READONLY | FAST,
        (1, 1, 1),
        G,
        "1.2.0",
        "Get the score associated with the given member in a sorted set",
        zscore,
    ).key_flags(&["RO access"]),
    row(
        "zmscore",
        -3,
        READONLY | FAST,
        (1, 1, 1),
        G,
        "6.2.0",
        "Get the score associated with the given members in a sorted set",
        zmscore,
    ).key_flags(&["RO access"]),
    row("zrank", 3, READONLY | FAST, (1, 1, 1), G, "2.0.0", "Determine the index of a member in a sorted set", zrank)
        .key_flags(&["RO access"]),
    row(
        "zrevrank",
        3,
        READONLY | FAST,
        (1, 1, 1),
        G,
        "2.0.0",
        "Determine the index of a member in a sorted set, with scores ordered from high to low",
        zrevrank,
    ).key_flags(&["RO access"]),
    row(
        "zcount",
        4,
        READONLY | FAST,
        (1, 1, 1),
        G,
        "2.0.0",
        "Count the members in a sorted set with scores within the given values",
        zcount,
    ).key_flags(&["RO access"]),
    row(
        "zlexcount",
        4,
        READONLY | FAST,
        (1, 1, 1),
        G,
        "2.8.9",
        "Count the number of members in a sorted set between a given lexicographical range",
        zlexcount,
    ).key_flags(&["RO access"]),
    row("zrange", -4, READONLY, (1, 1, 1), G, "1.2.0", "Return a range of members in a sorted set", zrange)
        .key_flags(&["RO access"]),
    row(
        "zrangestore",
        -5,
        WRITE | DENYOOM,
        (1, 2, 1),
        G,
        "6.2.0",
        "Store a range of members from sorted set into another key",
        zrangestore,
    ).key_flags(&["OW update", "RO access"]),
    row(
        "zrevrange",
        -4,
        READONLY,
        (1, 1, 1),
        G,
        "1.2.0",
        "Return a range of members in a sorted set, by index, with scores ordered from high to low",
        zrevrange,
    ).key_flags(&["RO access"]),
    row(
        "zrangebyscore",
        -4,
        READONLY,
        (1, 1, 1),
        G,
        "1.0.5",
        "Return a range of members in a sorted set, by score",
        zrangebyscore,
    ).key_flags(&["RO access"]),
    row(
        "zrevrangebyscore",
        -4,
        READONLY,
        (1, 1, 1),
        G,
        "2.2.0",
        "Return a range of members in a sorted set, by score, with scores ordered from high to low",
        zrevrangebyscore,
    ).key_flags(&["RO access"]),
    row(
        "zrangebylex",
        -4,
        READONLY,
        (1, 1, 1),
        G,
        "2.8.9",
        "Return a range of members in a sorted set, by lexicographical range",
        zrangebylex,
    ).key_flags(&["RO access"]),
    row(
        "zrevrangebylex",
        -4,
        READONLY,
        (1, 1, 1),
        G,
        "2.8.9",
        "Return a range of members in a sorted set, by lexicographical range, ordered from higher to lower strings.",
        zrevrangebylex,
    ).key_flags(&["RO access"]),
    row(
        "zremrangebyrank",
        4,
        WRITE,
        (1, 1, 1),
        G,
        "2.0.0",
        "Remove all members in a sorted set within the given indexes",
        zremrangebyrank,
    ).key_flags(&["RW delete"]),
    row(
        "zremrangebyscore",
        4,
        WRITE,
        (1, 1, 1),
        G,
        "1.2.0",
        "Remove all members in a sorted set within the given scores",
        zremrangebyscore,
    ).key_flags(&["RW delete"]),
    row(
        "zremrangebylex",
        4,
        WRITE,
        (1, 1, 1),
        G,
        "2.8.9",
        "Remove all members in a sorted set between the given lexicographical range",
        zremrangebylex,
    ).key_flags(&["RW delete"]),
    row(
        "zpopmin",
        -2,
        WRITE | FAST,
        (1, 1, 1),
        G,
        "5.0.0",
        "Remove and return members with the lowest scores in a sorted set",
        zpopmin,
    ).key_flags(&["RW access delete"]),
    row(
        "zpopmax",
        -2,
        WRITE | FAST,
        (1, 1, 1),
        G,
        "5.0.0",
        "Remove and return members with the highest scores in a sorted set",
        zpopmax,
    ).key_flags(&["RW access delete"]),
    row("zmpop", -4, WRITE, (0, 0, 0), G, "7.0.0", "Remove and return members with scores in a sorted set", zmpop)
        .key_flags(&["RW access delete"]),
    row(
        "bzpopmin",
        -3,
        WRITE | NOSCRIPT | FAST | BLOCKING,
        (1, -2, 1),
        G,
        "5.0.0",
        "Remove and return the member with the lowest score from one or more sorted sets, or block until one is available",
        bzpopmin,
    ).key_flags(&["RW access delete"]),
    row(
        "bzpopmax",
        -3,
        WRITE | NOSCRIPT | FAST | BLOCKING,
        (1, -2, 1),
        G,
        "5.0.0",
        "Remove and return the member with the highest score from one or more sorted sets, or block until one is available",
        bzpopmax,
    ).key_flags(&["RW access delete"]),
    row(
        "bzmpop",
        -5,
        WRITE | BLOCKING,
        (0, 0, 0),
        G,
        "7.0.0",
        "Remove and return members with scores in a sorted set or block until one is available",
        bzmpop,
    ).key_flags(&["RW access delete"]),
    row(
        "zunionstore",
        -4,
        WRITE | DENYOOM,
        (1, 1, 1),
        G,
        "2.0.0",
        "Add multiple sorted sets and store the resulting sorted set in a new key",
        zunionstore,
    ).key_flags(&["OW update", "RO access"]),
    row(
        "zinterstore",
        -4,
        WRITE | DENYOOM,
        (1, 1, 1),
        G,
        "2.0.0",
        "Intersect multiple sorted sets and store the resulting sorted set in a new key",
        zinterstore,
    ).key_flags(&["OW update", "RO access"]),
    row(
        "zdiffstore",
        -4,
        WRITE | DENYOOM,
        (1, 1, 1),
        G,
        "6.2.0",
        "Subtract multiple sorted sets and store the resulting sorted set in a new key",
        zdiffstore,
    ).key_flags(&["OW update", "RO access"]),
    row("zunion", -3, READONLY, (0, 0, 0), G, "6.2.0", "Add multiple sorted sets", zunion).key_flags(&["RO access"]),
    row("zinter", -3, READONLY, (0, 0, 0), G, "6.2.0", "Intersect multiple sorted sets", zinter)
        .key_flags(&["RO access"]),
    row("zdiff", -3, READONLY, (0, 0, 0), G, "6.2.0", "Subtract multiple sorted sets", zdiff).key_flags(&["RO access"]),
    row(
        "zintercard",
        -3,
        READONLY,
        (0, 0, 0),
        G,
        "7.0.0",
        "Intersect multiple sorted sets and return the cardinality of the result",
        zintercard,
    ).key_flags(&["RO access"]),
    row(
        "zrandmember",
        -2,
        READONLY,
        (1, 1, 1),
        G,
        "6.2.0",
        "Get one or multiple random elements from a sorted set",
        zrandmember,
    ).tips(&["nondeterministic_output"]).key_flags(&["RO access"]),
    row(
        "zscan",
        -3,
        READONLY,
        (1, 1, 1),
        G,
        "2.8.0",
        "Incrementally iterate sorted sets elements and associated scores",
        zscan,
    ).tips(&["nondeterministic_output"]).key_flags(&["RO access"]),
];

// ---------------------------------------------------------------------------
// Shared plumbing
// ---------------------------------------------------------------------------

/// The parts of the context a command works with, borrowed apart.
struct Parts<'a, 'b> {
    db: &'a mut Db,
    out: &'a mut Reply<'b>,
    now: u64,
    lim: Limits,
    /// The change counter (`Ctx::dirty`): sorted-set commands count their
    /// changes themselves, per member as Redis does.
    dirty: &'a mut u64,
}

fn parts<'a, 'b>(cx: &'a mut Ctx<'b>) -> Parts<'a, 'b> {
    let i = cx.srv.client(cx.key).db;
    cx.srv.changes.counted = true;
    let srv = &mut *cx.srv;
    let config = &srv.config;
    let lim = Limits { entries: config.zset_max_listpack_entries, value: config.zset_max_listpack_value };
    Parts { db: &mut srv.dbs[i], out: &mut cx.out, now: cx.now, lim, dirty: &mut srv.stats.dirty }
}

/// The sorted set at `key` for reading (a keyspace hit or miss), `None` if
/// missing, WRONGTYPE if the key holds something else.
fn zread<'d>(db: &'d mut Db, key: &[u8], now: u64) -> Result<Option<&'d ZSet>, CmdError> {
    match db.get(key, now) {
        None => Ok(None),
        Some(Entry { value: Value::ZSet(z), .. }) => Ok(Some(z)),
        Some(_) => Err(CmdError::WrongType),
    }
}

/// The sorted set at `key` for writing.
fn zwrite<'d>(db: &'d mut Db, key: &[u8], now: u64) -> Result<Option<&'d mut ZSet>, CmdError> {
    match db.get_mut(key, now) {
        None => Ok(None),
        Some(Entry { value: Value::ZSet(z), .. }) => Ok(Some(z)),
        Some(_) => Err(CmdError::WrongType),
    }
}

/// Stores a command's result set at `dst` (no TTL), or deletes `dst` when
/// the result is empty, as the *STORE commands do; replies its size.
fn store_result(p: Parts, dst: &[u8], items: Vec<(Bytes, f64)>, event: &'static str) {
    let n = items.len();
    if n == 0 {
        if p.db.remove(dst, p.now).is_some() {
            p.db.event(ev::GENERIC, "del", dst);
            *p.dirty += 1;
        }
    } else {
        p.db.set(dst, Value::ZSet(Box::new(ZSet::from_sorted(items, p.lim))), Expiry::None, p.now);
        p.db.event(ev::ZSET, event, dst);
        *p.dirty += 1;
    }
    p.out.int(n as i64);
}

/// Deletes `key` if its sorted set is empty, queuing `del`.
fn delete_if_empty(p: &mut Parts, key: &[u8]) {
    if matches!(zwrite(p.db, key, p.now), Ok(Some(z)) if z.is_empty()) {
        p.db.remove(key, p.now);
        p.db.event(ev::GENERIC, "del", key);
    }
}

fn is(arg: &[u8], word: &str) -> bool {
    arg.eq_ignore_ascii_case(word.as_bytes())
}

/// Writes members, with their scores if asked: a flat array in RESP2
/// (`m1 s1 m2 s2 …`), an array of `[member, score]` pairs in RESP3.
fn reply_elements<'z>(out: &mut Reply, items: impl ExactSizeIterator<Item = (&'z [u8], f64)>, withscores: bool) {
    let n = items.len();
    let nested = withscores && out.proto == Proto::Resp3;
    out.array(if withscores && !nested { n * 2 } else { n });
    for (m, s) in items {
        if nested {
            out.array(2);
        }
        out.bulk(m);
        if withscores {
            out.double(s);
        }
    }
}

fn not_float() -> CmdError {
    CmdError::msg("ERR value is not a valid float")
}

// ---------------------------------------------------------------------------
// Number and range parsing (Redis's exact rules)
// ---------------------------------------------------------------------------

/// C's `isspace` in the "C" locale.
fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// A float literal as C's `strtod` reads it.
struct Literal {
    value: f64,
    /// `inf`/`infinity` spelled out (an infinite value is no overflow).
    named_inf: bool,
    /// The mantissa has a non-zero digit (a zero value is an underflow).
    nonzero: bool,
}

/// Parses `s` if the whole of it is one literal `strtod` accepts: decimal
/// (`1`, `-1.5e3`, `.5`, `1.`), hexadecimal (`0x1p3`, `0x.8`), `inf`,
/// `infinity`, `nan`, `nan(chars)`, each with an optional sign.
fn c_float(s: &[u8]) -> Option<Literal> {
    let (neg, body) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let sign = if neg { -1.0 } else { 1.0 };
    if body.eq_ignore_ascii_case(b"inf") || body.eq_ignore_ascii_case(b"infinity") {
        return Some(Literal { value: sign * f64::INFINITY, named_inf: true, nonzero: true });
    }
    if body.len() >= 3 && body[..3].eq_ignore_ascii_case(b"nan") {
        let rest = &body[3..];
        let chars_ok = rest.len() >= 2
            && rest[0] == b'('
            && rest[rest.len() - 1] == b')'
            && rest[1..rest.len() - 1].iter().all(|&c| c.is_ascii_alphanumeric() || c == b'_');
        return (rest.is_empty() || chars_ok).then_some(Literal { value: f64::NAN, named_inf: false, nonzero: true });
    }
    if body.len() > 2 && body[0] == b'0' && (body[1] | 0x20) == b'x' {
        let (v, nonzero) = hex_float(&body[2..])?;
        return Some(Literal { value: sign * v, named_inf: false, nonzero });
    }
    let digits = |from: usize| body[from..].iter().take_while(|b| b.is_ascii_digit()).count();
    let int = digits(0);
    let mut i = int;
    let mut frac = 0;
    if body.get(i) == Some(&b'.') {
        frac = digits(i + 1);
        i += 1 + frac;
    }
    if int + frac == 0 {
        return None;
    }
    let nonzero = body[..i].iter().any(|&b| (b'1'..=b'9').contains(&b));
    if matches!(body.get(i), Some(b'e' | b'E')) {
        let mut j = i + 1;
        if matches!(body.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        let n = digits(j);
        if n == 0 {
            return None;
        }
        i = j + n;
    }
    if i != body.len() {
        return None;
    }
    let value: f64 = std::str::from_utf8(s).ok()?.parse().ok()?;
    Some(Literal { value, named_inf: false, nonzero })
}

/// The value of a hex float mantissa and exponent (what follows `0x`).
fn hex_float(b: &[u8]) -> Option<(f64, bool)> {
    let (mut mant, mut exp, mut sticky, mut ndigits, mut nonzero, mut dot) = (0u128, 0i64, false, 0, false, false);
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'.' && !dot {
            dot = true;
        } else if let Some(v) = (c as char).to_digit(16) {
            ndigits += 1;
            nonzero |= v != 0;
            if mant < 1 << 120 {
                mant = mant * 16 + v as u128;
                if dot {
                    exp -= 4;
                }
            } else {
                sticky |= v != 0;
                if !dot {
                    exp += 4;
                }
            }
        } else {
            break;
        }
        i += 1;
    }
    if ndigits == 0 {
        return None;
    }
    if b.get(i).is_some_and(|&c| c | 0x20 == b'p') {
        let mut j = i + 1;
        let neg = b.get(j) == Some(&b'-');
        if matches!(b.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        let start = j;
        let mut e: i64 = 0;
        while j < b.len() && b[j].is_ascii_digit() {
            e = (e * 10 + (b[j] - b'0') as i64).min(1 << 20);
            j += 1;
        }
        if j == start {
            return None;
        }
        exp += if neg { -e } else { e };
        i = j;
    }
    if i != b.len() {
        return None;
    }
    if sticky {
        mant |= 1;
    }
    let mut v = mant as f64;
    while exp > 1000 && v.is_finite() {
        v *= 2f64.powi(1000);
        exp -= 1000;
    }
    while exp < -1000 && v != 0.0 {
        v *= 2f64.powi(-1000);
        exp += 1000;
    }
    let e = exp.clamp(-2000, 2000) as i32;
    Some((v * 2f64.powi(e), nonzero))
}

/// A score, increment or weight, read like Redis's `string2d`.
pub fn parse_score(s: &[u8]) -> Option<f64> {
    if s.is_empty() || is_c_space(s[0]) {
        return None;
    }
    let lit = c_float(s)?;
    let v = lit.value;
    let erange = (v.is_infinite() && !lit.named_inf) || (v == 0.0 && lit.nonzero);
    (!v.is_nan() && !erange).then_some(v)
}

/// `strtod(s, &end)` succeeding with `*end == '\0'`: the argument is read as
/// a C string (it ends at a NUL byte), an empty one is 0, leading space is
/// skipped, overflow is ±inf.
fn strtod_to_end(s: &[u8]) -> Option<f64> {
    let s = &s[..memchr::memchr(0, s).unwrap_or(s.len())];
    if s.is_empty() {
        return Some(0.0);
    }
    let start = s.iter().position(|&b| !is_c_space(b))?;
    Some(c_float(&s[start..])?.value)
}

/// A score interval (`zrangespec`).
#[derive(Debug, Clone, Copy)]
struct ScoreRange {
    min: f64,
    minex: bool,
    max: f64,
    maxex: bool,
}

impl ScoreRange {
    /// Parses `min` and `max` like `zslParseRange`.
    fn parse(min: &[u8], max: &[u8]) -> Result<ScoreRange, CmdError> {
        let item = |s: &[u8]| -> Option<(f64, bool)> {
            let (v, ex) = match s.first() {
                Some(b'(') => (strtod_to_end(&s[1..])?, true),
                _ => (strtod_to_end(s)?, false),
            };
            (!v.is_nan()).then_some((v, ex))
        };
        let err = || CmdError::msg("ERR min or max is not a float");
        let (min, minex) = item(min).ok_or_else(err)?;
        let (max, maxex) = item(max).ok_or_else(err)?;
        Ok(ScoreRange { min, minex, max, maxex })
    }

    fn gte_min(&self, v: f64) -> bool {
        if self.minex { v > self.min } else { v >= self.min }
    }

    fn lte_max(&self, v: f64) -> bool {
        if self.maxex { v < self.max } else { v <= self.max }
    }

    /// The ascending ranks `start..end` of the elements in range.
    fn ranks(&self, z: &ZSet) -> (usize, usize) {
        let start = z.prefix_len(|_, s| !self.gte_min(s));
        let end = z.prefix_len(|_, s| self.lte_max(s));
        (start, end.max(start))
    }
}

/// One end of a lexicographic interval.
#[derive(Debug, Clone, Copy)]
enum Lex<'a> {
    /// `-`: below every string.
    Min,
    /// `+`: above every string.
    Max,
    Val(&'a [u8]),
}

/// A lexicographic interval (`zlexrangespec`).
#[derive(Debug, Clone, Copy)]
struct LexRange<'a> {
    min: Lex<'a>,
    minex: bool,
    max: Lex<'a>,
    maxex: bool,
}

impl<'a> LexRange<'a> {
    /// Parses `min` and `max` like `zslParseLexRange`: `-`, `+`, `(x`, `[x`.
    fn parse(min: &'a [u8], max: &'a [u8]) -> Result<LexRange<'a>, CmdError> {
        let item = |s: &'a [u8]| -> Option<(Lex<'a>, bool)> {
            // `+` and `-` must be the whole C string.
            let alone = s.len() == 1 || s.get(1) == Some(&0);
            match s.first() {
                Some(b'+') if alone => Some((Lex::Max, true)),
                Some(b'-') if alone => Some((Lex::Min, true)),
                Some(b'(') => Some((Lex::Val(&s[1..]), true)),
                Some(b'[') => Some((Lex::Val(&s[1..]), false)),
                _ => None,
            }
        };
        let err = || CmdError::msg("ERR min or max not valid string range item");
        let (min, minex) = item(min).ok_or_else(err)?;
        let (max, maxex) = item(max).ok_or_else(err)?;
        Ok(LexRange { min, minex, max, maxex })
    }

    fn cmp(v: &[u8], bound: Lex) -> Ordering {
        match bound {
            Lex::Min => Ordering::Greater,
            Lex::Max => Ordering::Less,
            Lex::Val(b) => v.cmp(b),
        }
    }

    fn gte_min(&self, v: &[u8]) -> bool {
        let c = Self::cmp(v, self.min);
        if self.minex { c == Ordering::Greater } else { c != Ordering::Less }
    }

    fn lte_max(&self, v: &[u8]) -> bool {
        let c = Self::cmp(v, self.max);
        if self.maxex { c == Ordering::Less } else { c != Ordering::Greater }
    }

    /// Orders two bounds like Redis's `sdscmplex` (`-` below and `+` above
    /// everything, each equal to itself).
    fn cmp_bounds(a: Lex, b: Lex) -> Ordering {
        match (a, b) {
            (Lex::Min, Lex::Min) | (Lex::Max, Lex::Max) => Ordering::Equal,
            (Lex::Min, _) | (_, Lex::Max) => Ordering::Less,
            (Lex::Max, _) | (_, Lex::Min) => Ordering::Greater,
            (Lex::Val(x), Lex::Val(y)) => x.cmp(y),
        }
    }

    /// Redis's `zslIsInLexRange`: the bounds are not crossed, the greatest
    /// member is ≥ min and the least is ≤ max.
    fn may_hit(&self, z: &ZSet) -> bool {
        let c = Self::cmp_bounds(self.min, self.max);
        if c == Ordering::Greater || (c == Ordering::Equal && (self.minex || self.maxex)) {
            return false;
        }
        match (z.get_by_rank(0), z.len().checked_sub(1).and_then(|i| z.get_by_rank(i))) {
            (Some((first, _)), Some((last, _))) => self.gte_min(last) && self.lte_max(first),
            _ => false,
        }
    }

    /// The ascending ranks `start..end` a lex command visits, walking up (or
    /// down when `rev`) from the first (last) member in range, skipping
    /// `offset` members and taking at most `count` (negative: all) while
    /// they stay in range. Members are meant to share one score (Redis
    /// leaves other cases unspecified); a listpack is walked exactly as
    /// Redis walks it even then, the skiplist encoding by binary search.
    fn walk(&self, z: &ZSet, rev: bool, offset: i64, count: i64) -> (usize, usize) {
        if !self.may_hit(z) || offset < 0 {
            return (0, 0);
        }
        if !z.is_listpack() {
            let start = z.prefix_len(|m, _| !self.gte_min(m));
            let end = z.prefix_len(|m, _| self.lte_max(m)).max(start);
            return limit_window(start, end, offset, count, rev);
        }
        let members: Vec<&[u8]> = z.iter().map(|(m, _)| m).collect();
        let offset = offset as u64;
        let take = if count < 0 { u64::MAX } else { count as u64 };
        if !rev {
            let Some(first) = members.iter().position(|m| self.gte_min(m)) else { return (0, 0) };
            if !self.lte_max(members[first]) || offset >= (members.len() - first) as u64 {
                return (0, 0);
            }
            let start = first + offset as usize;
            let n = members[start..].iter().take_while(|m| self.lte_max(m)).count();
            (start, start + (n as u64).min(take) as usize)
        } else {
            let Some(last) = members.iter().rposition(|m| self.lte_max(m)) else { return (0, 0) };
            if !self.gte_min(members[last]) || offset > last as u64 {
                return (0, 0);
            }
            let top = last + 1 - offset as usize;
            let n = members[..top].iter().rev().take_while(|m| self.gte_min(m)).count();
            (top - (n as u64).min(take) as usize, top)
        }
    }
}

/// Redis's rank sanitizing for `start`/`stop` (negative counts from the
/// end): the ascending ranks `start..end`, or `None` when empty.
fn rank_window(len: usize, start: i64, stop: i64) -> Option<(usize, usize)> {
    let n = len as i64;
    let mut start = if start < 0 { n + start } else { start };
    let mut stop = if stop < 0 { n + stop } else { stop };
    if start < 0 {
        start = 0;
    }
    if start > stop || start >= n {
        return None;
    }
    if stop >= n {
        stop = n - 1;
    }
    Some((start as usize, stop as usize + 1))
}

/// Applies `LIMIT offset count` to the in-range ranks `start..end`, walking
/// up (or down when `rev`): a negative offset selects nothing, a negative
/// count means all.
fn limit_window(start: usize, end: usize, offset: i64, count: i64, rev: bool) -> (usize, usize) {
    let n = end - start;
    if offset < 0 || offset as u64 >= n as u64 {
        return (start, start);
    }
    let off = offset as usize;
    let avail = n - off;
    let take = if count < 0 { avail } else { avail.min(count as u64 as usize) };
    if rev { (end - off - take, end - off) } else { (start + off, start + off + take) }
}

// ---------------------------------------------------------------------------
// ZADD, ZINCRBY, ZREM, ZCARD, ZSCORE, ZMSCORE, ZRANK, ZCOUNT, ZLEXCOUNT
// ---------------------------------------------------------------------------

/// The body of ZADD and ZINCRBY (Redis's `zaddGenericCommand`; ZINCRBY is
/// ZADD with INCR, and its options are parsed the same way).
fn zadd_generic(cx: &mut Ctx, args: &Args, incr: bool) -> CmdResult {
    let mut f = AddFlags { incr, ..AddFlags::default() };
    let mut ch = false;
    let mut i = 2;
    while i < args.len() {
        let o = args.get(i);
        if is(o, "nx") {
            f.nx = true;
        } else if is(o, "xx") {
            f.xx = true;
        } else if is(o, "ch") {
            ch = true;
        } else if is(o, "incr") {
            f.incr = true;
        } else if is(o, "gt") {
            f.gt = true;
        } else if is(o, "lt") {
            f.lt = true;
        } else {
            break;
        }
        i += 1;
    }
    let rest = args.len() - i;
    if rest == 0 || !rest.is_multiple_of(2) {
        return Err(CmdError::Syntax);
    }
    let n = rest / 2;
    if f.nx && f.xx {
        return Err(CmdError::msg("ERR XX and NX options at the same time are not compatible"));
    }
    if (f.nx && (f.gt || f.lt)) || (f.gt && f.lt) {
        return Err(CmdError::msg("ERR GT, LT, and/or NX options at the same time are not compatible"));
    }
    if f.incr && n > 1 {
        return Err(CmdError::msg("ERR INCR option supports a single increment-element pair"));
    }
    let scores =
        (0..n).map(|j| parse_score(args.get(i + 2 * j)).ok_or_else(not_float)).collect::<Result<Vec<_>, _>>()?;
    let key = args.get(1);
    let p = parts(cx);
    if zwrite(p.db, key, p.now)?.is_none() {
        if f.xx {
            if f.incr {
                p.out.null();
            } else {
                p.out.int(0);
            }
            return Ok(());
        }
        p.db.set(key, Value::ZSet(Box::default()), Expiry::None, p.now);
    }
    let Some(z) = zwrite(p.db, key, p.now)? else { return Err(CmdError::WrongType) };
    let (mut added, mut updated, mut processed, mut score) = (0, 0, 0, 0.0);
    for (j, &s) in scores.iter().enumerate() {
        let member = args.get(i + 2 * j + 1);
        let (outcome, new) =
            z.add(member, s, f, p.lim).map_err(|_| CmdError::msg("ERR resulting score is not a number (NaN)"))?;
        match outcome {
            AddOutcome::Added => added += 1,
            AddOutcome::Updated => updated += 1,
            AddOutcome::Unchanged | AddOutcome::Nop => {}
        }
        if outcome != AddOutcome::Nop {
            processed += 1;
            score = new;
        }
    }
    if added + updated > 0 {
        p.db.event(ev::ZSET, if f.incr { "zincr" } else { "zadd" }, key);
    }
    *p.dirty += (added + updated) as u64;
    if f.incr {
        if processed > 0 {
            p.out.double(score);
        } else {
            p.out.null();
        }
    } else {
        p.out.int(if ch { added + updated } else { added });
    }
    Ok(())
}

/// # Format
/// `ZADD key [NX | XX] [GT | LT] [CH] [INCR] score member [score member ...]`
fn zadd(cx: &mut Ctx, args: &Args) -> CmdResult {
    zadd_generic(cx, args, false)?;
    cx.signal_ready(args.get(1));
    Ok(())
}

/// # Format
/// `ZINCRBY key increment member`
fn zincrby(cx: &mut Ctx, args: &Args) -> CmdResult {
    zadd_generic(cx, args, true)?;
    cx.signal_ready(args.get(1));
    Ok(())
}

/// # Format
/// `ZREM key member [member ...]`
fn zrem(cx: &mut Ctx, args: &Args) -> CmdResult {
    let key = args.get(1);
    let mut p = parts(cx);
    let Some(z) = zwrite(p.db, key, p.now)? else {
        p.out.int(0);
        return Ok(());
    };
    let mut deleted = 0;
    for m in args.from(2) {
        if z.remove(m).is_some() {
            deleted += 1;
        }
        if z.is_empty() {
            break;
        }
    }
    if deleted > 0 {
        p.db.event(ev::ZSET, "zrem", key);
    }
    delete_if_empty(&mut p, key);
    *p.dirty += deleted as u64;
    // Redis notifies before it replies.
    cx.events_now();
    cx.out.int(deleted);
    Ok(())
}

/// # Format
/// `ZCARD key`
fn zcard(cx: &mut Ctx, args: &Args) -> CmdResult {
    let p = parts(cx);
    let n = zread(p.db, args.get(1), p.now)?.map_or(0, ZSet::len);
    p.out.int(n as i64);
    Ok(())
}

/// # Format
/// `ZSCORE key member`
fn zscore(cx: &mut Ctx, args: &Args) -> CmdResult {
    let p = parts(cx);
    match zread(p.db, args.get(1), p.now)?.and_then(|z| z.score(args.get(2))) {
        Some(s) => p.out.double(s),
        None => p.out.null(),
    }
    Ok(())
}

/// # Format
/// `ZMSCORE key member [member ...]`
fn zmscore(cx: &mut Ctx, args: &Args) -> CmdResult {
    let p = parts(cx);
    let z = zread(p.db, args.get(1), p.now)?;
    p.out.array(args.len() - 2);
    for m in args.from(2) {
        match z.and_then(|z| z.score(m)) {
            Some(s) => p.out.double(s),
            None => p.out.null(),
        }
    }
    Ok(())
}

fn zrank_generic(cx: &mut Ctx, args: &Args, rev: bool) -> CmdResult {
    let p = parts(cx);
    let Some(z) = zread(p.db, args.get(1), p.now)? else {
        p.out.null();
        return Ok(());
    };
    match z.rank(args.get(2)) {
        Some(r) => p.out.int((if rev { z.len() - 1 - r } else { r }) as i64),
        None => p.out.null(),
    }
    Ok(())
}

/// # Format
/// `ZRANK key member` (7.0 has no WITHSCORE)
fn zrank(cx: &mut Ctx, args: &Args) -> CmdResult {
    zrank_generic(cx, args, false)
}

/// # Format
/// `ZREVRANK key member`
fn zrevrank(cx: &mut Ctx, args: &Args) -> CmdResult {
    zrank_generic(cx, args, true)
}

/// # Format
/// `ZCOUNT key min max`
fn zcount(cx: &mut Ctx, args: &Args) -> CmdResult {
    let range = ScoreRange::parse(args.get(2), args.get(3))?;
    let p = parts(cx);
    let n = zread(p.db, args.get(1), p.now)?.map_or(0, |z| {
        let (s, e) = range.ranks(z);
        e - s
    });
    p.out.int(n as i64);
    Ok(())
}

/// # Format
/// `ZLEXCOUNT key min max`
fn zlexcount(cx: &mut Ctx, args: &Args) -> CmdResult {
    let range = LexRange::parse(args.get(2), args.get(3))?;
    let p = parts(cx);
    let n = zread(p.db, args.get(1), p.now)?.map_or(0, |z| {
        let (s, e) = range.walk(z, false, 0, -1);
        e - s
    });
    p.out.int(n as i64);
    Ok(())
}

// ---------------------------------------------------------------------------
// The ZRANGE family
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum By {
    Auto,
    Rank,
    Score,
    Lex,
}

/// The body of ZRANGE, ZRANGESTORE, ZREVRANGE, Z[REV]RANGEBYSCORE and
/// Z[REV]RANGEBYLEX (Redis's `zrangeGenericCommand`). `src` is the index of
/// the source key; `dst` is the destination of ZRANGESTORE; `by` and `rev`
/// are fixed by the older commands and `Auto`/`None` for ZRANGE(STORE).
fn zrange_generic(
    cx: &mut Ctx,
    args: &Args,
    src: usize,
    dst: Option<&[u8]>,
    mut by: By,
    mut rev: Option<bool>,
) -> CmdResult {
    let store = dst.is_some();
    let (mut withscores, mut offset, mut limit) = (false, 0i64, -1i64);
    let mut j = src + 3;
    while j < args.len() {
        let o = args.get(j);
        let left = args.len() - j - 1;
        if !store && is(o, "withscores") {
            withscores = true;
        } else if is(o, "limit") && left >= 2 {
            offset = args.int(j + 1)?;
            limit = args.int(j + 2)?;
            j += 2;
        } else if rev.is_none() && is(o, "rev") {
            rev = Some(true);
        } else if by == By::Auto && is(o, "bylex") {
            by = By::Lex;
        } else if by == By::Auto && is(o, "byscore") {
            by = By::Score;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    let rev = rev.unwrap_or(false);
    if by == By::Auto {
        by = By::Rank;
    }
    if limit != -1 && by == By::Rank {
        return Err(CmdError::msg(
            "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        ));
    }
    if withscores && by == By::Lex {
        return Err(CmdError::msg("ERR syntax error, WITHSCORES not supported in combination with BYLEX"));
    }
    let (mut lo, mut hi) = (args.get(src + 1), args.get(src + 2));
    if rev && by != By::Rank {
        std::mem::swap(&mut lo, &mut hi);
    }
    enum Spec<'a> {
        Rank(i64, i64),
        Score(ScoreRange),
        Lex(LexRange<'a>),
    }
    let spec = match by {
        By::Score => Spec::Score(ScoreRange::parse(lo, hi)?),
        By::Lex => Spec::Lex(LexRange::parse(lo, hi)?),
        _ => Spec::Rank(parse_int(lo)?, parse_int(hi)?),
    };
    let p = parts(cx);
    let Some(z) = zread(p.db, args.get(src), p.now)? else {
        match dst {
            Some(dst) => store_result(p, dst, Vec::new(), "zrangestore"),
            None => p.out.array(0),
        }
        return Ok(());
    };
    let (start, end) = match spec {
        Spec::Rank(a, b) => match rank_window(z.len(), a, b) {
            // Positions counted from the top when reversed.
            Some((s, e)) if rev => (z.len() - e, z.len() - s),
            Some(w) => w,
            None => (0, 0),
        },
        Spec::Score(r) => {
            let (s, e) = r.ranks(z);
            limit_window(s, e, offset, limit, rev)
        }
        Spec::Lex(r) => r.walk(z, rev, offset, limit),
    };
    match dst {
        Some(dst) => {
            let items = z.range(start, end, false).map(|(m, s)| (Bytes::from_slice(m), s)).collect();
            store_result(p, dst, items, "zrangestore");
        }
        None => reply_elements(p.out, z.range(start, end, rev), withscores),
    }
    Ok(())
}

/// # Format
/// `ZRANGE key start stop [BYSCORE | BYLEX] [REV] [LIMIT offset count] [WITHSCORES]`
fn zrange(cx: &mut Ctx, args: &Args) -> CmdResult {
    zrange_generic(cx, args, 1, None, By::Auto, None)
}

/// # Format
/// `ZRANGESTORE dst src min max [BYSCORE | BYLEX] [REV] [LIMIT offset count]`
fn zrangestore(cx: &mut Ctx, args: &Args) -> CmdResult {
    zrange_generic(cx, args, 2, Some(args.get(1)), By::Auto, None)?;
    cx.signal_ready(args.get(1));
    Ok(())
}

/// # Format
/// `ZREVRANGE key start stop [WITHSCORES]`
fn zrevrange(cx: &mut Ctx, args: &Args) -> CmdResult {
    zrange_generic(cx, args, 1, None, By::Rank, Some(true))
}

/// # Format
/// `ZRANGEBYSCORE key min max [WITHSCORES] [LIMIT offset count]`
fn zrangebyscore(cx: &mut Ctx, args: &Args) -> CmdResult {
    zrange_generic(cx, args, 1, None, By::Score, Some(false))
}

/// # Format
/// `ZREVRANGEBYSCORE key max min [WITHSCORES] [LIMIT offset count]`
fn zrevrangebyscore(cx: &mut Ctx, args: &Args) -> CmdResult {
    zrange_generic(cx, args, 1, None, By::Score, Some(true))
}

/// # Format
/// `ZRANGEBYLEX key min max [LIMIT offset count]`
fn zrangebylex(cx: &mut Ctx, args: &Args) -> CmdResult {
    zrange_generic(cx, args, 1, None, By::Lex, Some(false))
}

/// # Format
/// `ZREVRANGEBYLEX key max min [LIMIT offset count]`
fn zrevrangebylex(cx: &mut Ctx, args: &Args) -> CmdResult {
    zrange_generic(cx, args, 1, None, By::Lex, Some(true))
}

// ---------------------------------------------------------------------------
// ZREMRANGEBYRANK / BYSCORE / BYLEX
// ---------------------------------------------------------------------------

fn zremrange_generic(cx: &mut Ctx, args: &Args, by: By) -> CmdResult {
    let (a, b) = (args.get(2), args.get(3));
    enum Spec<'a> {
        Rank(i64, i64),
        Score(ScoreRange),
        Lex(LexRange<'a>),
    }
    let spec = match by {
        By::Score => Spec::Score(ScoreRange::parse(a, b)?),
        By::Lex => Spec::Lex(LexRange::parse(a, b)?),
        _ => Spec::Rank(parse_int(a)?, parse_int(b)?),
    };
    let key = args.get(1);
    let mut p = parts(cx);
    let Some(z) = zwrite(p.db, key, p.now)? else {
        p.out.int(0);
        return Ok(());
    };
    let (start, end) = match spec {
        Spec::Rank(s, e) => rank_window(z.len(), s, e).unwrap_or((0, 0)),
        Spec::Score(r) => r.ranks(z),
        Spec::Lex(r) => r.walk(z, false, 0, -1),
    };
    let n = z.remove_range(start, end);
    if n > 0 {
        let event = match by {
            By::Score => "zremrangebyscore",
            By::Lex => "zremrangebylex",
            _ => "zremrangebyrank",
        };
        p.db.event(ev::ZSET, event, key);
    }
    delete_if_empty(&mut p, key);
    *p.dirty += n as u64;
    // Redis notifies before it replies.
    cx.events_now();
    cx.out.int(n as i64);
    Ok(())
}

/// # Format
/// `ZREMRANGEBYRANK key start stop`
fn zremrangebyrank(cx: &mut Ctx, args: &Args) -> CmdResult {
    zremrange_generic(cx, args, By::Rank)
}

/// # Format
/// `ZREMRANGEBYSCORE key min max`
fn zremrangebyscore(cx: &mut Ctx, args: &Args) -> CmdResult {
    zremrange_generic(cx, args, By::Score)
}

/// # Format
/// `ZREMRANGEBYLEX key min max`
fn zremrangebylex(cx: &mut Ctx, args: &Args) -> CmdResult {
    zremrange_generic(cx, args, By::Lex)
}

// ---------------------------------------------------------------------------
// ZPOPMIN, ZPOPMAX, ZMPOP
// ---------------------------------------------------------------------------

/// Pops up to `count` elements from the zset at `key` (known to exist),
/// writing each as `member score` (or a `[member, score]` pair when
/// `nested`), and deletes the key once empty. Returns how many were popped.
fn pop_into(p: &mut Parts, key: &[u8], count: u64, max: bool, nested: bool, header: bool) -> usize {
    let Ok(Some(z)) = zwrite(p.db, key, p.now) else { return 0 };
    let take = (z.len() as u64).min(count) as usize;
    if header {
        p.out.array(if nested { take } else { take * 2 });
    }
    for _ in 0..take {
        let (m, s) = z.pop(max).unwrap_or_default();
        if nested {
            p.out.array(2);
        }
        p.out.bulk(&m);
        p.out.double(s);
    }
    if take > 0 {
        p.db.event(ev::ZSET, if max { "zpopmax" } else { "zpopmin" }, key);
    }
    delete_if_empty(p, key);
    *p.dirty += take as u64;
    take
}

fn zpop_generic(cx: &mut Ctx, args: &Args, max: bool) -> CmdResult {
    if args.len() > 3 {
        return Err(CmdError::Syntax);
    }
    let count = match args.len() {
        3 => Some(
            parse_int(args.get(2))
                .ok()
                .filter(|&n| n >= 0)
                .ok_or_else(|| CmdError::msg("ERR value is out of range, must be positive"))?,
        ),
        _ => None,
    };
    let key = args.get(1);
    let mut p = parts(cx);
    if zwrite(p.db, key, p.now)?.is_none() || count == Some(0) {
        p.out.array(0);
        return Ok(());
    }
    let nested = p.out.proto == Proto::Resp3 && count.is_some();
    pop_into(&mut p, key, count.unwrap_or(1) as u64, max, nested, true);
    Ok(())
}

/// # Format
/// `ZPOPMIN key [count]`
fn zpopmin(cx: &mut Ctx, args: &Args) -> CmdResult {
    zpop_generic(cx, args, false)
}

/// # Format
/// `ZPOPMAX key [count]`
fn zpopmax(cx: &mut Ctx, args: &Args) -> CmdResult {
    zpop_generic(cx, args, true)
}

/// # Format
/// `ZMPOP numkeys key [key ...] MIN | MAX [COUNT count]`
fn zmpop(cx: &mut Ctx, args: &Args) -> CmdResult {
    let (keys, max, count) = super::parse_mpop(args, 1, ["min", "max"])?;
    if !zmpop_keys(cx, &keys, max, count)? {
        cx.out.null_array();
    }
    Ok(())
}

/// ZMPOP's body: pops from the first non-empty key and replies, or returns
/// false without replying when every key is empty.
fn zmpop_keys(cx: &mut Ctx, keys: &[&[u8]], max: bool, count: usize) -> Result<bool, CmdError> {
    let mut p = parts(cx);
    for key in keys {
        if zwrite(p.db, key, p.now)?.is_some() {
            p.out.array(2);
            p.out.bulk(key);
            let n = pop_into(&mut p, key, count as u64, max, true, true);
            // For the propagated form: ZPOPMIN/ZPOPMAX key count.
            cx.srv.prop.note(key);
            cx.srv.prop.note(n.to_string().as_bytes());
            return Ok(true);
        }
    }
    Ok(false)
}

// ---------------------------------------------------------------------------
// ZUNION, ZINTER, ZDIFF, their STORE forms, ZINTERCARD
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SetOp {
    Union,
    Inter,
    Diff,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Aggregate {
    Sum,
    Min,
    Max,
}

/// Folds `v` into `target` (Redis's `zunionInterAggregate`): a sum that is
/// NaN (`inf + -inf`) counts as 0; MIN and MAX keep `target` against NaN.
fn aggregate(target: &mut f64, v: f64, agg: Aggregate) {
    match agg {
        Aggregate::Sum => {
            *target += v;
            if target.is_nan() {
                *target = 0.0;
            }
        }
        Aggregate::Min => {
            if v < *target {
                *target = v;
            }
        }
        Aggregate::Max => {
            if v > *target {
                *target = v;
            }
        }
    }
}

/// One input of a set operation: a sorted set, a plain set (its members
/// count with score 1), or a missing key (empty).
enum Src<'a> {
    Missing,
    Z(&'a ZSet),
    /// A plain set, with its members as text (integers of an intset are
    /// written out once, up front, so they can be borrowed like the rest).
    S(&'a Set, &'a [Vec<u8>]),
}

impl<'a> Src<'a> {
    fn len(&self) -> usize {
        match self {
            Src::Missing => 0,
            Src::Z(z) => z.len(),
            Src::S(s, _) => s.len(),
        }
    }

    fn score(&self, m: &[u8]) -> Option<f64> {
        match self {
            Src::Z(z) => z.score(m),
            Src::S(s, _) => s.contains_bytes(m).then_some(1.0),
            Src::Missing => None,
        }
    }

    fn iter(&self) -> Box<dyn Iterator<Item = (&'a [u8], f64)> + 'a> {
        match *self {
            Src::Z(z) => Box::new(z.iter()),
            Src::S(_, members) => Box::new(members.iter().map(|m| (&m[..], 1.0))),
            Src::Missing => Box::new(std::iter::empty()),
        }
    }
}

/// The body of ZUNION, ZINTER, ZDIFF, ZUNIONSTORE, ZINTERSTORE, ZDIFFSTORE
/// and ZINTERCARD (Redis's `zunionInterDiffGenericCommand`).
fn zsetop(cx: &mut Ctx, args: &Args, name: &'static str, store: bool, op: SetOp, card: bool) -> CmdResult {
    let ki = if store { 2 } else { 1 };
    let setnum = parse_int(args.get(ki))?;
    if setnum < 1 {
        return Err(CmdError::msg(format!("ERR at least 1 input key is needed for '{name}' command")));
    }
    if setnum > (args.len() - ki - 1) as i64 {
        return Err(CmdError::Syntax);
    }
    let setnum = setnum as usize;
    let keys: Vec<&[u8]> = (ki + 1..ki + 1 + setnum).map(|i| args.get(i)).collect();
    let p = parts(cx);
    // Lookups first (expiry, hit/miss counts, types), then the options.
    for k in &keys {
        if let Some(e) = p.db.get(k, p.now)
            && !matches!(e.value, Value::ZSet(_) | Value::Set(_))
        {
            return Err(CmdError::WrongType);
        }
    }
    let mut weights = vec![1.0; setnum];
    let (mut agg, mut withscores, mut limit) = (Aggregate::Sum, false, 0i64);
    let mut j = ki + 1 + setnum;
    while j < args.len() {
        let remaining = args.len() - j;
        let o = args.get(j);
        if op != SetOp::Diff && !card && remaining > setnum && is(o, "weights") {
            for (n, w) in weights.iter_mut().enumerate() {
                *w =
                    parse_score(args.get(j + 1 + n)).ok_or_else(|| CmdError::msg("ERR weight value is not a float"))?;
            }
            j += 1 + setnum;
        } else if op != SetOp::Diff && !card && remaining >= 2 && is(o, "aggregate") {
            agg = match args.get(j + 1) {
                a if is(a, "sum") => Aggregate::Sum,
                a if is(a, "min") => Aggregate::Min,
                a if is(a, "max") => Aggregate::Max,
                _ => return Err(CmdError::Syntax),
            };
            j += 2;
        } else if !store && !card && is(o, "withscores") {
            withscores = true;
            j += 1;
        } else if card && remaining >= 2 && is(o, "limit") {
            limit = parse_int(args.get(j + 1))
                .ok()
                .filter(|&l| l >= 0)
                .ok_or_else(|| CmdError::msg("ERR LIMIT can't be negative"))?;
            j += 2;
        } else {
            return Err(CmdError::Syntax);
        }
    }

    let db: &Db = p.db;
    // Members of plain-set inputs as text, kept alive for the whole command.
    let set_members: Vec<Vec<Vec<u8>>> = keys
        .iter()
        .map(|k| match db.get_ref(k, p.now).map(|e| &e.value) {
            Some(Value::Set(s)) => s.iter().map(|m| m.to_vec()).collect(),
            _ => Vec::new(),
        })
        .collect();
    let mut srcs: Vec<(Src, f64)> = keys
        .iter()
        .zip(weights)
        .zip(&set_members)
        .map(|((k, w), members)| {
            let src = match db.get_ref(k, p.now).map(|e| &e.value) {
                Some(Value::ZSet(z)) => Src::Z(z),
                Some(Value::Set(s)) => Src::S(s, members),
                _ => Src::Missing,
            };
            (src, w)
        })
        .collect();
    if op != SetOp::Diff {
        // Smallest first (a stable sort, as glibc's qsort is in practice).
        srcs.sort_by_key(|(s, _)| s.len());
    }
    let mut result: Vec<(&[u8], f64)> = Vec::new();
    let mut cardinality = 0i64;
    match op {
        SetOp::Inter => {
            let (first, w0) = &srcs[0];
            for (m, s) in first.iter() {
                let mut score = w0 * s;
                if score.is_nan() {
                    score = 0.0;
                }
                let mut everywhere = true;
                for (src, w) in &srcs[1..] {
                    match src.score(m) {
                        Some(v) => aggregate(&mut score, v * w, agg),
                        None => {
                            everywhere = false;
                            break;
                        }
                    }
                }
                if !everywhere {
                    continue;
                }
                if card {
                    cardinality += 1;
                    if limit > 0 && cardinality >= limit {
                        break;
                    }
                } else {
                    result.push((m, score));
                }
            }
        }
        SetOp::Union => {
            let largest = srcs.last().map_or(0, |(s, _)| s.len());
            let mut acc: HashMap<&[u8], f64> = HashMap::with_capacity(largest);
            for (src, w) in &srcs {
                for (m, s) in src.iter() {
                    let mut score = w * s;
                    if score.is_nan() {
                        score = 0.0;
                    }
                    match acc.entry(m) {
                        MapEntry::Vacant(v) => {
                            v.insert(score);
                        }
                        MapEntry::Occupied(mut o) => aggregate(o.get_mut(), score, agg),
                    }
                }
            }
            result = acc.into_iter().collect();
        }
        SetOp::Diff => {
            for (m, s) in srcs[0].0.iter() {
                if !srcs[1..].iter().any(|(src, _)| src.score(m).is_some()) {
                    result.push((m, s));
                }
            }
        }
    }
    result.sort_by(|a, b| cmp_key(a.1, a.0, b.1, b.0));
    if card {
        p.out.int(cardinality);
    } else if store {
        let items: Vec<(Bytes, f64)> = result.iter().map(|&(m, s)| (Bytes::from_slice(m), s)).collect();
        drop(srcs);
        store_result(p, args.get(1), items, name);
    } else {
        reply_elements(p.out, result.iter().copied(), withscores);
    }
    Ok(())
}

/// # Format
/// `ZUNIONSTORE destination numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM | MIN | MAX]`
fn zunionstore(cx: &mut Ctx, args: &Args) -> CmdResult {
    zsetop(cx, args, "zunionstore", true, SetOp::Union, false)?;
    cx.signal_ready(args.get(1));
    Ok(())
}

/// # Format
/// `ZINTERSTORE destination numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM | MIN | MAX]`
fn zinterstore(cx: &mut Ctx, args: &Args) -> CmdResult {
    zsetop(cx, args, "zinterstore", true, SetOp::Inter, false)?;
    cx.signal_ready(args.get(1));
    Ok(())
}

/// # Format
/// `ZDIFFSTORE destination numkeys key [key ...]`
fn zdiffstore(cx: &mut Ctx, args: &Args) -> CmdResult {
    zsetop(cx, args, "zdiffstore", true, SetOp::Diff, false)?;
    cx.signal_ready(args.get(1));
    Ok(())
}

/// # Format
/// `ZUNION numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM | MIN | MAX] [WITHSCORES]`
fn zunion(cx: &mut Ctx, args: &Args) -> CmdResult {
    zsetop(cx, args, "zunion", false, SetOp::Union, false)
}

/// # Format
/// `ZINTER numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM | MIN | MAX] [WITHSCORES]`
fn zinter(cx: &mut Ctx, args: &Args) -> CmdResult {
    zsetop(cx, args, "zinter", false, SetOp::Inter, false)
}

/// # Format
/// `ZDIFF numkeys key [key ...] [WITHSCORES]`
fn zdiff(cx: &mut Ctx, args: &Args) -> CmdResult {
    zsetop(cx, args, "zdiff", false, SetOp::Diff, false)
}

/// # Format
/// `ZINTERCARD numkeys key [key ...] [LIMIT limit]`
fn zintercard(cx: &mut Ctx, args: &Args) -> CmdResult {
    zsetop(cx, args, "zintercard", false, SetOp::Inter, true)
}

// ---------------------------------------------------------------------------
// ZRANDMEMBER, ZSCAN
// ---------------------------------------------------------------------------

/// The most elements ZRANDMEMBER with a negative count returns. Redis has
/// no bound (it writes until memory runs out); ferrokv refuses larger
/// counts with `ERR value is out of range` rather than exhaust memory.
pub const MAX_RANDOM_REPLY: u64 = 1 << 24;

/// `k` distinct ranks below `n` (`k < n`), in random order.
fn sample_distinct(rng: &mut Rng, n: usize, k: usize) -> Vec<usize> {
    if k * 3 > n {
        // Dense: a partial Fisher–Yates shuffle of all ranks.
        let mut all: Vec<usize> = (0..n).collect();
        for i in 0..k {
            let j = i + rng.below(n - i);
            all.swap(i, j);
        }
        all.truncate(k);
        return all;
    }
    // Sparse: Floyd's algorithm, then a shuffle.
    let mut chosen = hashbrown::HashSet::with_capacity(k);
    let mut out = Vec::with_capacity(k);
    for j in (n - k)..n {
        let t = rng.below(j + 1);
        let pick = if chosen.insert(t) { t } else { j };
        chosen.insert(pick);
        out.push(pick);
    }
    for i in (1..out.len()).rev() {
        let j = rng.below(i + 1);
        out.swap(i, j);
    }
    out
}

/// # Format
/// `ZRANDMEMBER key [count [WITHSCORES]]`
fn zrandmember(cx: &mut Ctx, args: &Args) -> CmdResult {
    let mut count = None;
    let mut withscores = false;
    if args.len() >= 3 {
        let l = parse_int(args.get(2))?;
        if l == i64::MIN {
            return Err(CmdError::msg(
                "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
            ));
        }
        if args.len() > 4 || (args.len() == 4 && !is(args.get(3), "withscores")) {
            return Err(CmdError::Syntax);
        }
        withscores = args.len() == 4;
        if withscores && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&l) {
            return Err(CmdError::msg("ERR value is out of range"));
        }
        count = Some(l);
    }
    let i = cx.srv.client(cx.key).db;
    let Shared { dbs, rng, .. } = &mut *cx.srv;
    let out = &mut cx.out;
    let z = zread(&mut dbs[i], args.get(1), cx.now)?;
    let Some(l) = count else {
        match z.and_then(|z| z.random(rng)) {
            Some((m, _)) => out.bulk(m),
            None => out.null(),
        }
        return Ok(());
    };
    let Some(z) = z else {
        out.array(0);
        return Ok(());
    };
    if l == 0 {
        out.array(0);
        return Ok(());
    }
    let nested = withscores && out.proto == Proto::Resp3;
    let header = |out: &mut Reply, n: usize| out.array(if withscores && !nested { n * 2 } else { n });
    let emit = |out: &mut Reply, (m, s): (&[u8], f64)| {
        if nested {
            out.array(2);
        }
        out.bulk(m);
        if withscores {
            out.double(s);
        }
    };
    let size = z.len();
    if l < 0 || l == 1 {
        // Repeats allowed (or just one): independent draws.
        let n = l.unsigned_abs();
        if n > MAX_RANDOM_REPLY {
            return Err(CmdError::msg("ERR value is out of range"));
        }
        header(out, n as usize);
        z.random_many(rng, n, |m, s| emit(out, (m, s)));
        return Ok(());
    }
    let n = l as u64;
    if n >= size as u64 {
        // The whole set, walked from the top as Redis does.
        header(out, size);
        for item in z.range(0, size, true) {
            emit(out, item);
        }
        return Ok(());
    }
    let n = n as usize;
    let mut picks = sample_distinct(rng, size, n);
    if z.is_listpack() && n * 3 <= size {
        // Redis samples a listpack in its order here.
        picks.sort_unstable();
    }
    header(out, n);
    z.for_ranks(&picks, |m, s| emit(out, (m, s)));
    Ok(())
}

/// A score as ZSCAN prints it from a listpack: the listpack stores an
/// integral score within ±2^62 as an integer, anything else as `%.17g`.
fn listpack_score_text(s: f64) -> String {
    const LIM: f64 = 4611686018427387904.0;
    if s.is_finite() && s.fract() == 0.0 && (-LIM..=LIM).contains(&s) {
        itoa::Buffer::new().format(s as i64).to_string()
    } else {
        format_double(s)
    }
}

/// # Format
/// `ZSCAN key cursor [MATCH pattern] [COUNT count]`
fn zscan(cx: &mut Ctx, args: &Args) -> CmdResult {
    let cursor = parse_cursor(args.get(2))?;
    let p = parts(cx);
    let Some(z) = zread(p.db, args.get(1), p.now)? else {
        p.out.array(2);
        p.out.bulk(b"0");
        p.out.array(0);
        return Ok(());
    };
    let (mut pattern, mut count) = (None, 10usize);
    let mut i = 3;
    while i < args.len() {
        let left = args.len() - i;
        let o = args.get(i);
        if is(o, "count") && left >= 2 {
            let n = parse_int(args.get(i + 1))?;
            if n < 1 {
                return Err(CmdError::Syntax);
            }
            count = n as usize;
        } else if is(o, "match") && left >= 2 {
            pattern = Some(args.get(i + 1)).filter(|p| *p != b"*");
        } else {
            return Err(CmdError::Syntax);
        }
        i += 2;
    }
    let listpack = z.is_listpack();
    let mut found: Vec<(&[u8], String)> = Vec::new();
    let next = z.scan(cursor, count, |m, s| {
        if pattern.is_none_or(|p| glob::matches(p, m, false)) {
            found.push((m, if listpack { listpack_score_text(s) } else { format_double(s) }));
        }
    });
    p.out.array(2);
    p.out.bulk(itoa::Buffer::new().format(next).as_bytes());
    p.out.array(found.len() * 2);
    for (m, s) in &found {
        p.out.bulk(m);
        p.out.bulk(s.as_bytes());
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// BZPOPMIN, BZPOPMAX, BZMPOP: the blocking forms (see `list.rs` for how
// blocking works; ZADD, ZINCRBY and the STORE commands signal waiters).
// ---------------------------------------------------------------------------

/// BZPOPMIN/BZPOPMAX: `[key, member, score]` from the first non-empty key,
/// or block on all of them.
fn bzpop(cx: &mut Ctx, args: &Args, max: bool) -> CmdResult {
    let timeout = super::list::parse_timeout(args.get(args.len() - 1), cx.now)?;
    let keys: Vec<&[u8]> = (1..args.len() - 1).map(|i| args.get(i)).collect();
    let mut p = parts(cx);
    for key in &keys {
        if zwrite(p.db, key, p.now)?.is_some() {
            p.out.array(3);
            p.out.bulk(key);
            pop_into(&mut p, key, 1, max, false, false);
            // For the propagated form: ZPOPMIN/ZPOPMAX key.
            cx.srv.prop.note(key);
            return Ok(());
        }
    }
    cx.block(&keys, "zset", timeout, args);
    Ok(())
}

/// # Format
/// `BZPOPMIN key [key ...] timeout`
fn bzpopmin(cx: &mut Ctx, args: &Args) -> CmdResult {
    bzpop(cx, args, false)
}

/// # Format
/// `BZPOPMAX key [key ...] timeout`
fn bzpopmax(cx: &mut Ctx, args: &Args) -> CmdResult {
    bzpop(cx, args, true)
}

/// # Format
/// `BZMPOP timeout numkeys key [key ...] MIN | MAX [COUNT count]` — ZMPOP
/// after the timeout, blocking when every key is empty.
fn bzmpop(cx: &mut Ctx, args: &Args) -> CmdResult {
    // The timeout comes first but is checked last, as in Redis.
    let (keys, max, count) = super::parse_mpop(args, 2, ["min", "max"])?;
    let timeout = super::list::parse_timeout(args.get(1), cx.now)?;
    if !zmpop_keys(cx, &keys, max, count)? {
        cx.block(&keys, "zset", timeout, args);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_parse_like_string2d() {
        let ok: &[(&str, f64)] = &[
            ("1", 1.0),
            ("-1.5", -1.5),
            ("+5", 5.0),
            ("1.", 1.0),
            (".5", 0.5),
            ("-.5e-1", -0.05),
            ("1E3", 1000.0),
            ("0x10", 16.0),
            ("0x1p3", 8.0),
            ("0X.8P1", 1.0),
            ("-0x1.8", -1.5),
            ("inf", f64::INFINITY),
            ("+inf", f64::INFINITY),
            ("-Infinity", f64::NEG_INFINITY),
            ("INF", f64::INFINITY),
            ("1e-310", 1e-310),
            ("0e-999", 0.0),
            ("-0", -0.0),
        ];
        for &(s, want) in ok {
            assert_eq!(parse_score(s.as_bytes()), Some(want), "{s}");
        }
        for s in ["", " 1", "1 ", "1e", "1e+", "--1", "nan", "-nan", "nan(1)", "x", "0x", "1e400", "1e-400", "1\0", "."]
        {
            assert_eq!(parse_score(s.as_bytes()), None, "{s:?}");
        }
    }

    #[test]
    fn range_bounds_parse_like_strtod_to_the_end() {
        assert_eq!(strtod_to_end(b""), Some(0.0));
        assert_eq!(strtod_to_end(b" 1"), Some(1.0));
        assert_eq!(strtod_to_end(b"\t\n-2"), Some(-2.0));
        assert_eq!(strtod_to_end(b"1e400"), Some(f64::INFINITY));
        assert_eq!(strtod_to_end(b"3\0junk"), Some(3.0));
        assert_eq!(strtod_to_end(b"  "), None);
        assert_eq!(strtod_to_end(b"1 "), None);
        assert!(strtod_to_end(b"nan").is_some_and(f64::is_nan));
        let r = ScoreRange::parse(b"(1", b"+inf").unwrap();
        assert!(r.minex && !r.maxex && r.min == 1.0 && r.max == f64::INFINITY);
        assert!(ScoreRange::parse(b"(", b"1").is_ok_and(|r| r.min == 0.0 && r.minex));
        for bad in [&b"nan"[..], b"(nan", b"((1", b"a", b"1 "] {
            assert!(ScoreRange::parse(bad, b"1").is_err(), "{bad:?}");
        }
    }

    #[test]
    fn lex_bounds() {
        assert!(LexRange::parse(b"-", b"+").is_ok());
        assert!(LexRange::parse(b"[", b"(").is_ok());
        for bad in [&b""[..], b"a", b"+a", b"-a", b"\0"] {
            assert!(LexRange::parse(bad, b"+").is_err(), "{bad:?}");
        }
        let r = LexRange::parse(b"(b", b"[d").unwrap();
        assert!(!r.gte_min(b"b") && r.gte_min(b"ba") && r.lte_max(b"d") && !r.lte_max(b"da"));
    }

    #[test]
    fn windows() {
        assert_eq!(rank_window(5, 0, -1), Some((0, 5)));
        assert_eq!(rank_window(5, -100, 100), Some((0, 5)));
        assert_eq!(rank_window(5, 3, 1), None);
        assert_eq!(rank_window(5, 5, 10), None);
        assert_eq!(rank_window(5, i64::MIN, i64::MAX), Some((0, 5)));
        assert_eq!(rank_window(5, i64::MAX, i64::MIN), None);
        assert_eq!(limit_window(2, 8, 1, 2, false), (3, 5));
        assert_eq!(limit_window(2, 8, 1, 2, true), (5, 7));
        assert_eq!(limit_window(2, 8, 1, -1, true), (2, 7));
        assert_eq!(limit_window(2, 8, -1, 5, false), (2, 2));
        assert_eq!(limit_window(2, 8, 6, 5, false), (2, 2));
        assert_eq!(limit_window(2, 8, 0, i64::MAX, false), (2, 8));
    }

    #[test]
    fn withscores_is_flat_in_resp2_and_pairs_in_resp3() {
        let items = [(&b"a"[..], 1.5), (&b"b"[..], f64::INFINITY)];
        let write = |proto, ws| {
            let mut buf = Vec::new();
            reply_elements(&mut Reply::new(&mut buf, proto), items.iter().copied(), ws);
            String::from_utf8(buf).unwrap()
        };
        assert_eq!(write(Proto::Resp2, true), "*4\r\n$1\r\na\r\n$3\r\n1.5\r\n$1\r\nb\r\n$3\r\ninf\r\n");
        assert_eq!(write(Proto::Resp3, true), "*2\r\n*2\r\n$1\r\na\r\n,1.5\r\n*2\r\n$1\r\nb\r\n,inf\r\n");
        assert_eq!(write(Proto::Resp3, false), "*2\r\n$1\r\na\r\n$1\r\nb\r\n");
    }

    #[test]
    fn listpack_scan_scores() {
        assert_eq!(listpack_score_text(1e17), "100000000000000000");
        assert_eq!(listpack_score_text(4611686018427387904.0), "4611686018427387904");
        assert_eq!(listpack_score_text(5e18), "5e+18");
        assert_eq!(listpack_score_text(1.5), "1.5");
        assert_eq!(listpack_score_text(f64::INFINITY), "inf");
    }
}
