//! SORT and SORT_RO, as Redis 7.0's `sort.c` has them.
//!
//! The elements of a list, set or sorted set are sorted numerically (each
//! read with C's `strtod`; equal scores ordered by their bytes) or with
//! ALPHA by their bytes, optionally by the values of other keys (`BY
//! weight_*`, `BY h_*->field`); a BY pattern without `*` means "do not
//! sort" (`nosort`): lists and sorted sets keep their order, sets too
//! unless the result is stored or goes to a script (then ALPHA is forced,
//! as Redis does for a deterministic result). `LIMIT offset count` picks a window, `GET`
//! patterns (and `#`, the element itself) replace each element by looked-up
//! values, `STORE dst` writes the result as a list (the `sortstore` event)
//! or deletes `dst` when it is empty. SORT_RO refuses STORE.
//!
//! The sort is stable, like glibc's `qsort` (a merge sort) that Redis
//! calls; ties only remain for ALPHA with BY, whose order then follows the
//! source's iteration order.

use super::table::{Begin, Command, FindKeys, KeySpec, flag::*, registry, row};
use super::{Args, CmdError, CmdResult, Ctx};
use crate::ctext::c_str;
use crate::server::notify as ev;
use crate::store::list::{End, List, Shape};
use crate::store::set::Member;
use crate::store::{Db, Entry, Expiry, Value};
use std::cmp::Ordering;

const G: &str = "generic";
const ACL: &[&str] = &["@set", "@sortedset", "@list", "@dangerous"];

const BY_GET_SPEC: KeySpec = KeySpec {
    flags: "RO access",
    notes: "For the optional BY/GET keyword. It is marked 'unknown' because the key names derive from the content \
            of the key we sort",
    begin: Begin::Unknown,
    find: FindKeys::Unknown,
};

pub static COMMANDS: &[Command] = &[
    row(
        "sort",
        -2,
        WRITE | DENYOOM,
        (1, 1, 1),
        G,
        "1.0.0",
        "Sort the elements in a list, set or sorted set",
        sort,
    )
    .key_flags(&["RO access"])
    .extra_specs(&[
        BY_GET_SPEC,
        KeySpec {
            flags: "OW update",
            notes: "For the optional STORE keyword. It is marked 'unknown' because the keyword can appear anywhere in \
                    the argument array",
            begin: Begin::Unknown,
            find: FindKeys::Unknown,
        },
    ])
    .acl(ACL),
    row(
        "sort_ro",
        -2,
        READONLY,
        (1, 1, 1),
        G,
        "7.0.0",
        "Sort the elements in a list, set or sorted set. Read-only variant of SORT.",
        sort_ro,
    )
    .key_flags(&["RO access"])
    .extra_specs(&[BY_GET_SPEC])
    .acl(ACL),
];

/// The keys of a SORT call (Redis's `sortGetKeys`): the sorted key, then
/// the destination of the last STORE, skipping the arguments of LIMIT,
/// GET and BY.
pub fn key_positions<'a>(argc: usize, arg: impl Fn(usize) -> &'a [u8]) -> Vec<usize> {
    let mut keys = vec![1];
    let mut store = None;
    let mut i = 2;
    while i < argc {
        let a = arg(i);
        if a.eq_ignore_ascii_case(b"limit") {
            i += 2;
        } else if a.eq_ignore_ascii_case(b"get") || a.eq_ignore_ascii_case(b"by") {
            i += 1;
        } else if a.eq_ignore_ascii_case(b"store") && i + 1 < argc {
            store = Some(i + 1);
        }
        i += 1;
    }
    keys.extend(store);
    keys
}

/// Redis's `lookupKeyByPattern`: `#` is the element itself; otherwise the
/// first `*` of the pattern is replaced by the element and the string at
/// that key is the value, or with `->field` after the `*`, that field of
/// the hash at that key. `None` when there is no such value (or no `*`).
fn lookup_by_pattern(db: &mut Db, pattern: &[u8], elem: &[u8], now: u64) -> Option<Vec<u8>> {
    if pattern == b"#" {
        return Some(elem.to_vec());
    }
    let star = pattern.iter().position(|&b| b == b'*')?;
    let field =
        memchr::memmem::find(&pattern[star + 1..], b"->").map(|off| star + 1 + off).filter(|&f| f + 2 < pattern.len());
    let key_end = field.unwrap_or(pattern.len());
    let mut key = Vec::with_capacity(key_end + elem.len());
    key.extend_from_slice(&pattern[..star]);
    key.extend_from_slice(elem);
    key.extend_from_slice(&pattern[star + 1..key_end]);
    match (db.get(&key, now).map(|e| &e.value), field) {
        (Some(Value::Str(s)), None) => Some(s.to_vec()),
        (Some(Value::Hash(h)), Some(f)) => h.get(&pattern[f + 2..]).map(<[u8]>::to_vec),
        _ => None,
    }
}

/// A sort weight read like `strtod(s, &end)` with `*end == '\0'` (what
/// `sortCommand` accepts): the text up to a NUL byte, leading space
/// skipped, the empty string as 0; overflow, underflow and NaN refused.
fn weight(s: &[u8]) -> Option<f64> {
    let s = &s[..memchr::memchr(0, s).unwrap_or(s.len())];
    if s.is_empty() {
        return Some(0.0);
    }
    let start = s.iter().position(|&b| !matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r'))?;
    super::zset::parse_score(&s[start..])
}

/// One element to sort and what it is sorted by.
struct Item {
    elem: Vec<u8>,
    score: f64,
    /// ALPHA with BY: the looked-up value (`None` sorts first).
    cmp: Option<Vec<u8>>,
}

/// # Format
/// `SORT key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]] [ASC | DESC] [ALPHA]
///  [STORE destination]`
fn sort(cx: &mut Ctx, args: &Args) -> CmdResult {
    sort_generic(cx, args, false)
}

/// # Format
/// `SORT_RO key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]] [ASC | DESC] [ALPHA]`
fn sort_ro(cx: &mut Ctx, args: &Args) -> CmdResult {
    sort_generic(cx, args, true)
}

fn is(a: &[u8], w: &str) -> bool {
    a.eq_ignore_ascii_case(w.as_bytes())
}

/// Whether the client's user may read every key (BY and GET read keys
/// made from a pattern, which no key permission short of that covers).
fn full_key_access(cx: &mut Ctx, args: &Args) -> bool {
    let client = cx.srv.client(cx.key);
    if client.acl_free {
        return true;
    }
    let user = cx.srv.acl.user(client.user);
    let argv: Vec<&[u8]> = args.from(0).collect();
    let reg = registry();
    reg.id(args.get(0)).is_some_and(|id| user.unrestricted_key_access(id, &argv, crate::acl::READ))
}

fn sort_generic(cx: &mut Ctx, args: &Args, readonly: bool) -> CmdResult {
    let (mut desc, mut alpha, mut dontsort) = (false, false, false);
    let (mut limit_start, mut limit_count): (i64, i64) = (0, -1);
    let mut sortby: Option<&[u8]> = None;
    let mut store: Option<&[u8]> = None;
    let mut gets: Vec<&[u8]> = Vec::new();
    let mut j = 2;
    while j < args.len() {
        let left = args.len() - j - 1;
        let a = args.get(j);
        if is(a, "asc") {
            desc = false;
        } else if is(a, "desc") {
            desc = true;
        } else if is(a, "alpha") {
            alpha = true;
        } else if is(a, "limit") && left >= 2 {
            limit_start = args.int(j + 1)?;
            limit_count = args.int(j + 2)?;
            j += 2;
        } else if !readonly && is(a, "store") && left >= 1 {
            store = Some(args.get(j + 1));
            j += 1;
        } else if is(a, "by") && left >= 1 {
            let p = args.get(j + 1);
            sortby = Some(p);
            dontsort = !c_str(p).contains(&b'*');
            if !dontsort && !full_key_access(cx, args) {
                return Err(CmdError::msg("ERR BY option of SORT denied due to insufficient ACL permissions."));
            }
            j += 1;
        } else if is(a, "get") && left >= 1 {
            if !full_key_access(cx, args) {
                return Err(CmdError::msg("ERR GET option of SORT denied due to insufficient ACL permissions."));
            }
            gets.push(args.get(j + 1));
            j += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    let now = cx.now;
    let key = args.get(1);
    let di = cx.db_index();
    let shape = Shape::new(cx.srv.config.list_max_listpack_size, cx.srv.config.list_compress_depth);
    let db = &mut cx.srv.dbs[di];
    // Redis converts a sorted set it sorts to the skiplist encoding.
    if matches!(db.peek(key, now).map(|e| &e.value), Some(Value::ZSet(z)) if z.is_listpack())
        && let Some(Entry { value: Value::ZSet(z), .. }) = db.get_mut(key, now)
    {
        z.convert_to_skiplist();
    }
    // The elements, in the source's order, and whether it keeps an order
    // of its own (list, sorted set).
    let (mut elems, ordered): (Vec<Vec<u8>>, bool) = match db.get(key, now).map(|e| &e.value) {
        None => (Vec::new(), true),
        Some(Value::List(l)) => (l.to_vec().into_iter().map(Vec::from).collect(), true),
        Some(Value::Set(s)) => (
            s.iter()
                .map(|m| match m {
                    Member::Int(i) => i.to_string().into_bytes(),
                    Member::Str(s) => s.to_vec(),
                })
                .collect(),
            false,
        ),
        Some(Value::ZSet(z)) => (z.iter().map(|(m, _)| m.to_vec()).collect(), true),
        Some(_) => return Err(CmdError::WrongType),
    };
    if dontsort && !ordered && (store.is_some() || cx.srv.in_script_call) {
        // A set stored or handed to a script unsorted: ALPHA, for a
        // deterministic result (the same on replicas and in the AOF).
        dontsort = false;
        alpha = true;
        sortby = None;
    }
    let len = elems.len() as i64;
    let mut start = limit_start.max(0).min(len);
    let limit_count = limit_count.max(-1).min(len);
    let mut end = if limit_count < 0 { len } else { start + limit_count - 1 };
    if start >= len {
        start = len - 1;
        end = len - 2;
    }
    if end >= len {
        end = len - 1;
    }
    let window: Vec<Vec<u8>> = if dontsort {
        if ordered && desc {
            elems.reverse();
        }
        if end >= start { elems.drain(start as usize..=end as usize).collect() } else { Vec::new() }
    } else {
        let mut conversion_error = false;
        let mut items: Vec<Item> = elems.into_iter().map(|elem| Item { elem, score: 0.0, cmp: None }).collect();
        for it in &mut items {
            let by = match sortby {
                Some(p) => match lookup_by_pattern(db, p, &it.elem, now) {
                    Some(v) => Some(v),
                    None => continue,
                },
                None => None,
            };
            if alpha {
                it.cmp = by;
            } else {
                match weight(by.as_deref().unwrap_or(&it.elem)) {
                    Some(s) => it.score = s,
                    None => conversion_error = true,
                }
            }
        }
        if conversion_error {
            return Err(CmdError::msg("ERR One or more scores can't be converted into double"));
        }
        let stored = store.is_some();
        let compare = |a: &Item, b: &Item| -> Ordering {
            let cmp = if !alpha {
                a.score.partial_cmp(&b.score).unwrap_or(Ordering::Equal).then_with(|| a.elem.cmp(&b.elem))
            } else if sortby.is_some() {
                match (&a.cmp, &b.cmp) {
                    (None, None) => Ordering::Equal,
                    (None, Some(_)) => Ordering::Less,
                    (Some(_), None) => Ordering::Greater,
                    (Some(x), Some(y)) if stored => x.cmp(y),
                    (Some(x), Some(y)) => c_str(x).cmp(c_str(y)),
                }
            } else if stored {
                a.elem.cmp(&b.elem)
            } else {
                c_str(&a.elem).cmp(c_str(&b.elem))
            };
            if desc { cmp.reverse() } else { cmp }
        };
        items.sort_by(compare);
        if end >= start { items.drain(start as usize..=end as usize).map(|it| it.elem).collect() } else { Vec::new() }
    };
    let Some(dst) = store else {
        let out = &mut cx.out;
        out.array(if gets.is_empty() { window.len() } else { window.len() * gets.len() });
        for elem in &window {
            if gets.is_empty() {
                out.bulk(elem);
            }
            for g in &gets {
                match lookup_by_pattern(db, g, elem, now) {
                    Some(v) => out.bulk(&v),
                    None => out.null(),
                }
            }
        }
        return Ok(());
    };
    let mut list = List::new();
    for elem in &window {
        if gets.is_empty() {
            list.push(End::Right, elem, shape);
        }
        for g in &gets {
            let v = lookup_by_pattern(db, g, elem, now).unwrap_or_default();
            list.push(End::Right, &v, shape);
        }
    }
    let n = list.len();
    if n > 0 {
        db.set(dst, Value::List(list), Expiry::None, now);
        db.event(ev::LIST, "sortstore", dst);
        cx.dirty(n as u64);
        cx.signal_ready(dst);
    } else {
        let deleted = db.remove(dst, now).is_some();
        if deleted {
            db.event(ev::GENERIC, "del", dst);
        }
        cx.dirty(u64::from(deleted));
    }
    // Redis notifies before it replies.
    cx.events_now();
    cx.out.int(n as i64);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_read_like_strtod_to_the_end() {
        assert_eq!(weight(b""), Some(0.0));
        assert_eq!(weight(b"  1.5"), Some(1.5));
        assert_eq!(weight(b"2\0junk"), Some(2.0));
        assert_eq!(weight(b"   "), None);
        assert_eq!(weight(b"1x"), None);
        assert_eq!(weight(b"nan"), None);
        assert_eq!(weight(b"1e999"), None);
    }

    #[test]
    fn store_keys_are_found_as_redis_finds_them() {
        let argv: Vec<&[u8]> = vec![b"sort", b"k", b"by", b"store", b"store", b"a", b"limit", b"store", b"x"];
        assert_eq!(key_positions(argv.len(), |i| argv[i]), vec![1, 5]);
        let argv: Vec<&[u8]> = vec![b"sort", b"k", b"get", b"store", b"store"];
        assert_eq!(key_positions(argv.len(), |i| argv[i]), vec![1]);
    }
}
