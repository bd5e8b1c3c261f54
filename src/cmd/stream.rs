//! Stream commands (Redis 7.0's `t_stream.c`): XADD, XRANGE, XREVRANGE,
//! XLEN, XDEL, XTRIM, XSETID, XREAD, XREADGROUP, XGROUP, XACK, XPENDING,
//! XCLAIM, XAUTOCLAIM, XINFO.
//!
//! Arguments are checked in Redis's order with its texts. Blocking reads
//! go through [`Ctx::block`]: a `$` id is replaced by the stream's last id
//! before the command is kept, so the retry the loop runs when the key
//! gets data (narrowed to that key, see [`retry_parts`]) asks for what came
//! after. Commands that Redis propagates in another form (XADD with `*`,
//! approximate trims, XREADGROUP, XCLAIM, XAUTOCLAIM) report the exact
//! commands with [`propagate`].

use super::table::{Command, flag::*, row};
use super::{Args, CmdError, CmdResult, Ctx, lossy};
use crate::resp::Reply;
use crate::server::notify as ev;
use crate::store::Value;
use crate::store::bytes::Bytes;
use crate::store::list::Elem;
use crate::store::stream::{AddError, EntryPos, Group, INVALID_ENTRIES_READ, Limits, Nack, Stream, StreamId, Trim};
use crate::store::{Db, Expiry};

pub static COMMANDS: &[Command] = &[
    row(
        "xadd",
        -5,
        WRITE | DENYOOM | FAST,
        (1, 1, 1),
        "stream",
        "5.0.0",
        "Appends a new entry to a stream",
        xadd,
    )
    .tips(&["nondeterministic_output"])
    .key_flags(&["RW update"])
    .key_notes(&["UPDATE instead of INSERT because of the optional trimming feature"]),
    row("xrange", -4, READONLY, (1, 1, 1), "stream", "5.0.0", "Return a range of elements in a stream, with IDs matching the specified IDs interval", xrange)
        .key_flags(&["RO access"]),
    row(
        "xrevrange",
        -4,
        READONLY,
        (1, 1, 1),
        "stream",
        "5.0.0",
        "Return a range of elements in a stream, with IDs matching the specified IDs interval, in reverse order (from greater to smaller IDs) compared to XRANGE",
        xrevrange,
    )
    .key_flags(&["RO access"]),
    row("xlen", 2, READONLY | FAST, (1, 1, 1), "stream", "5.0.0", "Return the number of entries in a stream", xlen)
        .key_flags(&["RO"]),
    row(
        "xdel",
        -3,
        WRITE | FAST,
        (1, 1, 1),
        "stream",
        "5.0.0",
        "Removes the specified entries from the stream. Returns the number of items actually deleted, that may be different from the number of IDs passed in case certain IDs do not exist.",
        xdel,
    )
    .key_flags(&["RW delete"]),
    row(
        "xtrim",
        -4,
        WRITE,
        (1, 1, 1),
        "stream",
        "5.0.0",
        "Trims the stream to (approximately if '~' is passed) a certain size",
        xtrim,
    )
    .tips(&["nondeterministic_output"])
    .key_flags(&["RW delete"]),
    row(
        "xsetid",
        -3,
        WRITE | DENYOOM | FAST,
        (1, 1, 1),
        "stream",
        "5.0.0",
        "An internal command for replicating stream values",
        xsetid,
    )
    .key_flags(&["RW update"]),
    row(
        "xread",
        -4,
        READONLY | BLOCKING,
        (0, 0, 0),
        "stream",
        "5.0.0",
        "Return never seen elements in multiple streams, with IDs greater than the ones reported by the caller for each stream. Can block.",
        xread,
    )
    .key_flags(&["RO access"]),
    row(
        "xreadgroup",
        -7,
        WRITE | BLOCKING,
        (0, 0, 0),
        "stream",
        "5.0.0",
        "Return new entries from a stream using a consumer group, or access the history of the pending entries for a given consumer. Can block.",
        xreadgroup,
    )
    .key_flags(&["RO access"]),
    row(
        "xack",
        -4,
        WRITE | FAST,
        (1, 1, 1),
        "stream",
        "5.0.0",
        "Marks a pending message as correctly processed, effectively removing it from the pending entries list of the consumer group. Return value of the command is the number of messages successfully acknowledged, that is, the IDs we were actually able to resolve in the PEL.",
        xack,
    )
    .key_flags(&["RW update"]),
    row(
        "xpending",
        -3,
        READONLY,
        (1, 1, 1),
        "stream",
        "5.0.0",
        "Return information and entries from a stream consumer group pending entries list, that are messages fetched but never acknowledged.",
        xpending,
    )
    .tips(&["nondeterministic_output"])
    .key_flags(&["RO access"]),
    row(
        "xclaim",
        -6,
        WRITE | FAST,
        (1, 1, 1),
        "stream",
        "5.0.0",
        "Changes (or acquires) ownership of a message in a consumer group, as if the message was delivered to the specified consumer.",
        xclaim,
    )
    .tips(&["nondeterministic_output"])
    .key_flags(&["RW update"]),
    row(
        "xautoclaim",
        -6,
        WRITE | FAST,
        (1, 1, 1),
        "stream",
        "6.2.0",
        "Changes (or acquires) ownership of messages in a consumer group, as if the messages were delivered to the specified consumer.",
        xautoclaim,
    )
    .tips(&["nondeterministic_output"])
    .key_flags(&["RW delete"]),
    Command {
        subcommands: XGROUP_SUBCOMMANDS,
        ..row("xgroup", -2, 0, (0, 0, 0), "stream", "5.0.0", "A container for consumer groups commands", super::table::container)
    },
    Command {
        subcommands: XINFO_SUBCOMMANDS,
        ..row("xinfo", -2, 0, (0, 0, 0), "stream", "5.0.0", "A container for stream introspection commands", super::table::container)
    },
];

static XGROUP_SUBCOMMANDS: &[Command] = &[
    row(
        "createconsumer",
        5,
        WRITE | DENYOOM,
        (2, 2, 1),
        "stream",
        "6.2.0",
        "Create a consumer in a consumer group.",
        xgroup_createconsumer,
    )
    .key_flags(&["RW insert"]),
    row(
        "delconsumer",
        5,
        WRITE,
        (2, 2, 1),
        "stream",
        "5.0.0",
        "Delete a consumer from a consumer group.",
        xgroup_delconsumer,
    )
    .key_flags(&["RW delete"]),
    row(
        "help",
        2,
        LOADING | STALE,
        (0, 0, 0),
        "stream",
        "5.0.0",
        "Show helpful text about the different subcommands",
        xgroup_help,
    ),
    row("destroy", 4, WRITE, (2, 2, 1), "stream", "5.0.0", "Destroy a consumer group.", xgroup_destroy)
        .key_flags(&["RW delete"]),
    row("create", -5, WRITE | DENYOOM, (2, 2, 1), "stream", "5.0.0", "Create a consumer group.", xgroup_create)
        .key_flags(&["RW insert"]),
    row(
        "setid",
        -5,
        WRITE,
        (2, 2, 1),
        "stream",
        "5.0.0",
        "Set a consumer group to an arbitrary last delivered ID value.",
        xgroup_setid,
    )
    .key_flags(&["RW update"]),
];

static XINFO_SUBCOMMANDS: &[Command] = &[
    row("stream", -3, READONLY, (2, 2, 1), "stream", "5.0.0", "Get information about a stream", xinfo_stream)
        .key_flags(&["RO access"]),
    row(
        "help",
        2,
        LOADING | STALE,
        (0, 0, 0),
        "stream",
        "5.0.0",
        "Show helpful text about the different subcommands",
        xinfo_help,
    ),
    row("groups", 3, READONLY, (2, 2, 1), "stream", "5.0.0", "List the consumer groups of a stream", xinfo_groups)
        .key_flags(&["RO access"]),
    row(
        "consumers",
        4,
        READONLY,
        (2, 2, 1),
        "stream",
        "5.0.0",
        "List the consumers in a consumer group",
        xinfo_consumers,
    )
    .tips(&["nondeterministic_output"])
    .key_flags(&["RO access"]),
];

// ---------------------------------------------------------------------------
// Helpers

const INVALID_ID: &str = "ERR Invalid stream ID specified as stream command argument";

fn invalid_id() -> CmdError {
    CmdError::msg(INVALID_ID)
}

/// C's `strtoull` in base 10 over the whole of `s` (leading white space
/// and a sign allowed, at least one digit, no overflow).
fn strtoull(s: &[u8]) -> Option<u64> {
    let mut i = 0;
    while i < s.len() && matches!(s[i], b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
        i += 1;
    }
    let neg = match s.get(i) {
        Some(b'+') => {
            i += 1;
            false
        }
        Some(b'-') => {
            i += 1;
            true
        }
        _ => false,
    };
    let digits = &s[i..];
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut v: u64 = 0;
    for d in digits {
        v = v.checked_mul(10)?.checked_add((d - b'0') as u64)?;
    }
    Some(if neg { v.wrapping_neg() } else { v })
}

/// Redis's `string2ull`: a strict non-negative integer, else `strtoull`.
fn string2ull(s: &[u8]) -> Option<u64> {
    match crate::resp::parse::parse_i64(s) {
        Some(n) if n < 0 => None,
        Some(n) => Some(n as u64),
        None => strtoull(s),
    }
}

/// `streamGenericParseIDOrReply`: `-`, `+` (unless `strict`), `ms`
/// (seq `missing_seq`), `ms-seq`, and `ms-*` when `star_ok`. Returns the
/// id and whether its seq was given.
fn parse_id_full(arg: &[u8], missing_seq: u64, strict: bool, star_ok: bool) -> Result<(StreamId, bool), CmdError> {
    if arg.len() > 127 {
        return Err(invalid_id());
    }
    // Redis reads the argument as a C string.
    let arg = &arg[..memchr::memchr(0, arg).unwrap_or(arg.len())];
    match arg {
        b"-" | b"+" if strict => return Err(invalid_id()),
        b"-" => return Ok((StreamId::MIN, true)),
        b"+" => return Ok((StreamId::MAX, true)),
        _ => {}
    }
    let (ms, seq) = match memchr::memchr(b'-', arg) {
        Some(d) => (&arg[..d], Some(&arg[d + 1..])),
        None => (arg, None),
    };
    let ms = string2ull(ms).ok_or_else(invalid_id)?;
    match seq {
        Some(b"*") if star_ok => Ok((StreamId::new(ms, 0), false)),
        Some(s) => Ok((StreamId::new(ms, string2ull(s).ok_or_else(invalid_id)?), true)),
        None => Ok((StreamId::new(ms, missing_seq), true)),
    }
}

/// `streamParseIDOrReply`.
fn parse_id(arg: &[u8], missing_seq: u64) -> Result<StreamId, CmdError> {
    parse_id_full(arg, missing_seq, false, false).map(|(id, _)| id)
}

/// `streamParseStrictIDOrReply` (no `-` / `+`).
fn parse_strict_id(arg: &[u8], missing_seq: u64) -> Result<StreamId, CmdError> {
    parse_id_full(arg, missing_seq, true, false).map(|(id, _)| id)
}

/// A range bound: `(id` is exclusive (moved to the next id, or the
/// previous one for an end), else as [`parse_id`].
fn parse_bound(arg: &[u8], end: bool) -> Result<StreamId, CmdError> {
    let missing = if end { u64::MAX } else { 0 };
    if arg.len() > 1 && arg[0] == b'(' {
        let id = parse_strict_id(&arg[1..], missing)?;
        let moved = if end { id.decr() } else { id.incr() };
        return moved.ok_or_else(|| {
            CmdError::msg(if end {
                "ERR invalid end ID for the interval"
            } else {
                "ERR invalid start ID for the interval"
            })
        });
    }
    parse_id(arg, missing)
}

/// Writes `ms-seq` as a bulk string.
fn bulk_id(out: &mut Reply, id: StreamId) {
    let mut buf = [0u8; 41];
    let (mut a, mut b) = (itoa::Buffer::new(), itoa::Buffer::new());
    let ms = a.format(id.ms).as_bytes();
    let seq = b.format(id.seq).as_bytes();
    buf[..ms.len()].copy_from_slice(ms);
    buf[ms.len()] = b'-';
    buf[ms.len() + 1..ms.len() + 1 + seq.len()].copy_from_slice(seq);
    out.bulk(&buf[..ms.len() + 1 + seq.len()]);
}

fn elem_bulk(out: &mut Reply, e: Elem, buf: &mut itoa::Buffer) {
    out.bulk(e.bytes(buf));
}

/// One entry: `[id, [field, value, ...]]`.
fn write_entry(out: &mut Reply, lp: &[u8], e: &EntryPos) {
    out.array(2);
    bulk_id(out, e.id);
    out.array(e.numfields * 2);
    let mut buf = itoa::Buffer::new();
    Stream::fields(lp, e, |f, v| {
        elem_bulk(out, f, &mut buf);
        elem_bulk(out, v, &mut buf);
    });
}

/// Writes the entries `start..=end` (at most `count`, 0: all) as an
/// array; returns how many. The array length is patched in afterwards,
/// as Redis's deferred length does.
fn write_range(out: &mut Reply, s: &Stream, start: StreamId, end: StreamId, count: usize, rev: bool) -> usize {
    let mut entries = Vec::new();
    s.range(start, end, rev, |_, e| {
        entries.push(*e);
        count == 0 || entries.len() < count
    });
    out.array(entries.len());
    for e in &entries {
        if let Some(lp) = node_of(s, e.id) {
            write_entry(out, lp, e);
        }
    }
    entries.len()
}

/// The node holding entry `id`.
fn node_of(s: &Stream, id: StreamId) -> Option<&[u8]> {
    s.nodes.range(..=id).next_back().map(|(_, lp)| lp.as_slice())
}

/// Writes entry `id` if it exists; false if not.
fn write_one(out: &mut Reply, s: &Stream, id: StreamId) -> bool {
    let mut found = None;
    s.range(id, id, false, |_, e| {
        found = Some(*e);
        false
    });
    match (found, node_of(s, id)) {
        (Some(e), Some(lp)) => {
            write_entry(out, lp, &e);
            true
        }
        _ => false,
    }
}

fn limits(cx: &Ctx) -> Limits {
    Limits { max_bytes: cx.srv.config.stream_node_max_bytes, max_entries: cx.srv.config.stream_node_max_entries }
}

/// The stream at `key` for reading (counts a hit or miss).
fn read_stream<'a>(db: &'a mut Db, key: &[u8], now: u64) -> Result<Option<&'a Stream>, CmdError> {
    match db.get(key, now).map(|e| &e.value) {
        None => Ok(None),
        Some(Value::Stream(s)) => Ok(Some(s)),
        Some(_) => Err(CmdError::WrongType),
    }
}

/// The stream at `key` for writing.
fn write_stream<'a>(db: &'a mut Db, key: &[u8], now: u64) -> Result<Option<&'a mut Stream>, CmdError> {
    match db.get_mut(key, now).map(|e| &mut e.value) {
        None => Ok(None),
        Some(Value::Stream(s)) => Ok(Some(s)),
        Some(_) => Err(CmdError::WrongType),
    }
}

/// Reports a command Redis propagates in place of (or besides) the one
/// that ran (see `persist::propagate`), and marks the call as a change.
fn propagate(cx: &mut Ctx, argv: &[&[u8]]) {
    if cx.srv.prop.on {
        let mut enc = Vec::new();
        crate::persist::propagate::write_command(&mut enc, argv);
        cx.srv.prop.note(&enc);
    }
    cx.srv.prop.changes += 1;
}

/// `XCLAIM key group consumer 0 id TIME t RETRYCOUNT n FORCE JUSTID LASTID last`,
/// Redis's `streamPropagateXCLAIM`.
fn propagate_xclaim(cx: &mut Ctx, key: &[u8], group: &[u8], last_id: StreamId, id: &str, nack: &Nack) {
    let (t, n, idt, last) = (nack.delivery_time.to_string(), nack.delivery_count.to_string(), id, last_id.to_string());
    let argv: [&[u8]; 14] = [
        b"XCLAIM",
        key,
        group,
        &nack.consumer,
        b"0",
        idt.as_bytes(),
        b"TIME",
        t.as_bytes(),
        b"RETRYCOUNT",
        n.as_bytes(),
        b"FORCE",
        b"JUSTID",
        b"LASTID",
        last.as_bytes(),
    ];
    propagate(cx, &argv);
}

/// `XGROUP SETID key group last ENTRIESREAD n` (`streamPropagateGroupID`).
fn propagate_group_id(cx: &mut Ctx, key: &[u8], group: &[u8], last_id: StreamId, entries_read: i64) {
    let (last, read) = (last_id.to_string(), entries_read.to_string());
    propagate(cx, &[b"XGROUP", b"SETID", key, group, last.as_bytes(), b"ENTRIESREAD", read.as_bytes()]);
}

// ---------------------------------------------------------------------------
// XADD / XTRIM

/// Parsed `streamAddTrimArgs`.
struct AddTrim {
    id: Option<(StreamId, bool)>,
    no_mkstream: bool,
    trim: Option<Trim>,
    /// Index of the MAXLEN/MINID value (for the propagated rewrite).
    trim_at: usize,
    approx: bool,
    limit: i64,
    /// Index of the id (XADD).
    id_at: usize,
}

/// `streamParseAddOrTrimArgsOrReply`.
fn parse_add_trim(cx: &Ctx, args: &Args, xadd: bool) -> Result<AddTrim, CmdError> {
    let mut a = AddTrim { id: None, no_mkstream: false, trim: None, trim_at: 0, approx: false, limit: 0, id_at: 0 };
    let mut limit_given = false;
    let n = args.len();
    let mut i = 2;
    while i < n {
        let more = n - 1 - i;
        let opt = args.get(i);
        if xadd && opt == b"*" {
            break;
        } else if (opt.eq_ignore_ascii_case(b"maxlen") || opt.eq_ignore_ascii_case(b"minid")) && more > 0 {
            if a.trim.is_some() {
                return Err(CmdError::msg(
                    "ERR syntax error, MAXLEN and MINID options at the same time are not compatible",
                ));
            }
            let maxlen = opt.eq_ignore_ascii_case(b"maxlen");
            a.approx = false;
            let next = args.get(i + 1);
            if more >= 2 && next == b"~" {
                a.approx = true;
                i += 1;
            } else if more >= 2 && next == b"=" {
                i += 1;
            }
            if maxlen {
                let v = args.int(i + 1)?;
                if v < 0 {
                    return Err(CmdError::msg("ERR The MAXLEN argument must be >= 0."));
                }
                a.trim = Some(Trim::MaxLen(v as u64));
            } else {
                a.trim = Some(Trim::MinId(parse_strict_id(args.get(i + 1), 0)?));
            }
            i += 1;
            a.trim_at = i;
        } else if opt.eq_ignore_ascii_case(b"limit") && more > 0 {
            a.limit = args.int(i + 1)?;
            if a.limit < 0 {
                return Err(CmdError::msg("ERR The LIMIT argument must be >= 0."));
            }
            limit_given = true;
            i += 1;
        } else if xadd && opt.eq_ignore_ascii_case(b"nomkstream") {
            a.no_mkstream = true;
        } else if xadd {
            a.id = Some(parse_id_full(opt, 0, true, true)?);
            break;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 1;
    }
    a.id_at = i;
    if a.limit != 0 && a.trim.is_none() {
        return Err(CmdError::msg("ERR syntax error, LIMIT cannot be used without specifying a trimming strategy"));
    }
    if !xadd && a.trim.is_none() {
        return Err(CmdError::msg("ERR syntax error, XTRIM must be called with a trimming strategy"));
    }
    if cx.must_obey() {
        // The trim argument was rewritten to what was trimmed (see
        // `rewritten_trim`): no node limit when it is replayed.
        a.limit = 0;
    } else if limit_given {
        if !a.approx {
            return Err(CmdError::msg("ERR syntax error, LIMIT cannot be used without the special ~ option"));
        }
    } else if a.approx {
        let per = cx.srv.config.stream_node_max_entries as i64;
        a.limit = per.saturating_mul(100);
        if a.limit <= 0 {
            a.limit = 10000;
        }
        a.limit = a.limit.min(1_000_000);
    } else {
        a.limit = 0;
    }
    Ok(a)
}

/// The arguments as called with the approximate trim made exact (`=` and
/// the resulting length, or the first id), as Redis rewrites them for
/// propagation.
fn rewritten_trim(args: &Args, a: &AddTrim, s: &Stream) -> Vec<Vec<u8>> {
    let mut argv: Vec<Vec<u8>> = args.from(0).map(|x| x.to_vec()).collect();
    if a.approx {
        argv[a.trim_at - 1] = b"=".to_vec();
        argv[a.trim_at] = match a.trim {
            Some(Trim::MaxLen(_)) => s.length.to_string().into_bytes(),
            _ => s.edge_id(true, false).unwrap_or(StreamId::MAX).to_string().into_bytes(),
        };
    }
    argv
}

/// # Format
/// `XADD key [NOMKSTREAM] [MAXLEN | MINID [= | ~] threshold [LIMIT count]] * | id field value [field value ...]`
fn xadd(cx: &mut Ctx, args: &Args) -> CmdResult {
    let a = parse_add_trim(cx, args, true)?;
    let field_at = a.id_at + 1;
    let nfield = args.len().saturating_sub(field_at);
    if nfield < 2 || nfield % 2 == 1 {
        return Err(CmdError::msg("ERR wrong number of arguments for 'xadd' command"));
    }
    if let Some((id, true)) = a.id
        && id.is_zero()
    {
        return Err(CmdError::msg("ERR The ID specified in XADD must be greater than 0-0"));
    }
    let key = args.get(1);
    let (now, lim) = (cx.now, limits(cx));
    let db = cx.db();
    if write_stream(db, key, now)?.is_none() {
        if a.no_mkstream {
            cx.out.null();
            return Ok(());
        }
        db.set(key, Value::Stream(Box::default()), Expiry::None, now);
    }
    let Some(s) = write_stream(cx.db(), key, now)? else { return Ok(()) };
    if s.last_id == StreamId::MAX {
        return Err(CmdError::msg("ERR The stream has exhausted the last possible ID, unable to add more items"));
    }
    let pairs: Vec<&[u8]> = args.from(field_at).collect();
    let id = match s.append(&pairs, a.id.map(|x| x.0), a.id.is_some_and(|x| x.1), now, lim) {
        Ok(id) => id,
        Err(AddError::NotGreater) => {
            return Err(CmdError::msg(
                "ERR The ID specified in XADD is equal or smaller than the target stream top item",
            ));
        }
        Err(AddError::TooLarge) => return Err(CmdError::msg("ERR Elements are too large to be stored")),
    };
    let trimmed = a.trim.is_some_and(|t| s.trim(t, a.approx, a.limit) > 0);
    let mut argv = rewritten_trim(args, &a, s);
    argv[a.id_at] = id.to_string().into_bytes();
    bulk_id(&mut cx.out, id);
    cx.notify(ev::STREAM, "xadd", key);
    cx.dirty(1);
    if trimmed {
        cx.notify(ev::STREAM, "xtrim", key);
    }
    let argv: Vec<&[u8]> = argv.iter().map(|x| x.as_slice()).collect();
    propagate(cx, &argv);
    cx.signal_ready(key);
    Ok(())
}

/// # Format
/// `XTRIM key MAXLEN | MINID [= | ~] threshold [LIMIT count]`
fn xtrim(cx: &mut Ctx, args: &Args) -> CmdResult {
    let a = parse_add_trim(cx, args, false)?;
    let key = args.get(1);
    let now = cx.now;
    let Some(s) = write_stream(cx.db(), key, now)? else {
        cx.out.int(0);
        return Ok(());
    };
    let Some(t) = a.trim else { return Err(CmdError::Syntax) };
    let deleted = s.trim(t, a.approx, a.limit);
    let argv = rewritten_trim(args, &a, s);
    if deleted > 0 {
        cx.notify(ev::STREAM, "xtrim", key);
        let argv: Vec<&[u8]> = argv.iter().map(|x| x.as_slice()).collect();
        propagate(cx, &argv);
    }
    cx.dirty(deleted as u64);
    cx.out.int(deleted);
    Ok(())
}

// ---------------------------------------------------------------------------
// XRANGE / XREVRANGE / XLEN / XDEL / XSETID

fn range_cmd(cx: &mut Ctx, args: &Args, rev: bool) -> CmdResult {
    let (start_arg, end_arg) = if rev { (args.get(3), args.get(2)) } else { (args.get(2), args.get(3)) };
    let start = parse_bound(start_arg, false)?;
    let end = parse_bound(end_arg, true)?;
    let mut count: i64 = -1;
    let mut j = 4;
    while j < args.len() {
        if args.get(j).eq_ignore_ascii_case(b"count") && j + 1 < args.len() {
            count = args.int(j + 1)?.max(0);
            j += 2;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    let now = cx.now;
    let db = cx.db_index();
    let Ctx { srv, out, .. } = cx;
    let Some(s) = read_stream(&mut srv.dbs[db], args.get(1), now)? else {
        out.array(0);
        return Ok(());
    };
    if count == 0 {
        out.null_array();
    } else {
        write_range(out, s, start, end, count.max(0) as usize, rev);
    }
    Ok(())
}

/// # Format
/// `XRANGE key start end [COUNT count]`
fn xrange(cx: &mut Ctx, args: &Args) -> CmdResult {
    range_cmd(cx, args, false)
}

/// # Format
/// `XREVRANGE key end start [COUNT count]`
fn xrevrange(cx: &mut Ctx, args: &Args) -> CmdResult {
    range_cmd(cx, args, true)
}

/// # Format
/// `XLEN key`
fn xlen(cx: &mut Ctx, args: &Args) -> CmdResult {
    let now = cx.now;
    let n = read_stream(cx.db(), args.get(1), now)?.map_or(0, |s| s.length);
    cx.out.int(n as i64);
    Ok(())
}

/// # Format
/// `XDEL key id [id ...]`
fn xdel(cx: &mut Ctx, args: &Args) -> CmdResult {
    let key = args.get(1);
    let now = cx.now;
    if write_stream(cx.db(), key, now)?.is_none() {
        cx.out.int(0);
        return Ok(());
    }
    let ids = args.from(2).map(|a| parse_strict_id(a, 0)).collect::<Result<Vec<_>, _>>()?;
    let Some(s) = write_stream(cx.db(), key, now)? else { return Ok(()) };
    let deleted = s.xdel(&ids);
    if deleted > 0 {
        cx.notify(ev::STREAM, "xdel", key);
    }
    cx.dirty(deleted as u64);
    cx.out.int(deleted as i64);
    Ok(())
}

/// # Format
/// `XSETID key last-id [ENTRIESADDED entries-added] [MAXDELETEDID max-deleted-id]`
fn xsetid(cx: &mut Ctx, args: &Args) -> CmdResult {
    let id = parse_strict_id(args.get(2), 0)?;
    let mut entries_added: i64 = -1;
    let mut max_xdel = StreamId::MIN;
    let mut i = 3;
    while i < args.len() {
        let more = args.len() - 1 - i;
        let opt = args.get(i);
        if opt.eq_ignore_ascii_case(b"entriesadded") && more > 0 {
            entries_added = args.int(i + 1)?;
            if entries_added < 0 {
                return Err(CmdError::msg("ERR entries_added must be positive"));
            }
        } else if opt.eq_ignore_ascii_case(b"maxdeletedid") && more > 0 {
            max_xdel = parse_strict_id(args.get(i + 1), 0)?;
            if id < max_xdel {
                return Err(CmdError::msg(
                    "ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id",
                ));
            }
        } else {
            return Err(CmdError::Syntax);
        }
        i += 2;
    }
    let key = args.get(1);
    let now = cx.now;
    let Some(s) = write_stream(cx.db(), key, now)? else { return Err(CmdError::msg("ERR no such key")) };
    if s.length > 0 {
        if s.last_valid_id().is_some_and(|max| id < max) {
            return Err(CmdError::msg("ERR The ID specified in XSETID is smaller than the target stream top item"));
        }
        if entries_added != -1 && s.length > entries_added as u64 {
            return Err(CmdError::msg(
                "ERR The entries_added specified in XSETID is smaller than the target stream length",
            ));
        }
    }
    s.last_id = id;
    if entries_added != -1 {
        s.entries_added = entries_added as u64;
    }
    if !max_xdel.is_zero() {
        s.max_deleted = max_xdel;
    }
    cx.out.ok();
    cx.dirty(1);
    cx.notify_unmodified(ev::STREAM, "xsetid", key);
    Ok(())
}

// ---------------------------------------------------------------------------
// XREAD / XREADGROUP

/// `XREAD_BLOCKED_DEFAULT_COUNT`: what a blocked XREAD without COUNT gets
/// at most when served.
const BLOCKED_DEFAULT_COUNT: usize = 1000;

/// The ids a read asks for, per stream.
#[derive(Clone, Copy, PartialEq)]
enum ReadId {
    After(StreamId),
    /// `>`: entries never delivered to the group.
    New,
}

/// Where the keys of XREAD/XREADGROUP are: the arguments after `STREAMS`,
/// half of what follows it (COMMAND GETKEYS, the snapshot, tracking).
pub fn key_positions<'a>(argc: usize, arg: impl Fn(usize) -> &'a [u8]) -> Vec<usize> {
    let mut i = 1;
    while i < argc {
        let a = arg(i);
        if a.eq_ignore_ascii_case(b"streams") {
            let n = (argc - i - 1) / 2;
            if !(argc - i - 1).is_multiple_of(2) {
                return Vec::new();
            }
            return (i + 1..i + 1 + n).collect();
        }
        if a.eq_ignore_ascii_case(b"block") || a.eq_ignore_ascii_case(b"count") {
            i += 1;
        } else if a.eq_ignore_ascii_case(b"group") {
            i += 2;
        }
        i += 1;
    }
    Vec::new()
}

/// The arguments a blocked XREAD/XREADGROUP runs again with when `key`
/// got data: the options, `STREAMS`, that key and its id.
pub fn retry_parts<'a>(args: &Args<'a>, key: &[u8]) -> Option<Vec<&'a [u8]>> {
    let keys = key_positions(args.len(), |i| args.get(i));
    let first = *keys.first()?;
    let n = keys.len();
    let k = keys.iter().position(|&i| args.get(i) == key)?;
    let mut parts: Vec<&[u8]> = args.from(0).take(first).collect();
    parts.push(args.get(first + k));
    parts.push(args.get(first + n + k));
    Some(parts)
}

/// Whether blocked command `b` is an XREADGROUP waiting on streams (it
/// gets an error when one of them is deleted or replaced).
pub fn reads_group(b: &crate::server::state::Blocked) -> bool {
    b.wants == "stream" && b.spans.first().is_some_and(|&(s, e)| b.data[s..e].eq_ignore_ascii_case(b"xreadgroup"))
}

/// # Format
/// `XREAD [COUNT count] [BLOCK milliseconds] STREAMS key [key ...] id [id ...]`
fn xread(cx: &mut Ctx, args: &Args) -> CmdResult {
    read_generic(cx, args, false)
}

/// # Format
/// `XREADGROUP GROUP group consumer [COUNT count] [BLOCK milliseconds] [NOACK] STREAMS key [key ...] id [id ...]`
fn xreadgroup(cx: &mut Ctx, args: &Args) -> CmdResult {
    read_generic(cx, args, true)
}

/// `xreadCommand`.
fn read_generic(cx: &mut Ctx, args: &Args, group_cmd: bool) -> CmdResult {
    let mut timeout: Option<i64> = None;
    let mut count: usize = 0;
    let mut streams_at = 0;
    let mut nstreams = 0;
    let mut noack = false;
    let mut group: Option<(&[u8], &[u8])> = None;
    let n = args.len();
    let mut i = 1;
    while i < n {
        let more = n - i - 1;
        let o = args.get(i);
        if o.eq_ignore_ascii_case(b"block") && more > 0 {
            if cx.srv.in_script {
                // The name as the script wrote it (Redis prints argv[0]).
                let name = String::from_utf8_lossy(args.get(0));
                return Err(CmdError::msg(format!("ERR {name} command is not allowed with BLOCK option from scripts")));
            }
            i += 1;
            let t = crate::resp::parse::parse_i64(args.get(i))
                .ok_or_else(|| CmdError::msg("ERR timeout is not an integer or out of range"))?;
            if t < 0 {
                return Err(CmdError::msg("ERR timeout is negative"));
            }
            timeout = Some(t);
        } else if o.eq_ignore_ascii_case(b"count") && more > 0 {
            i += 1;
            count = args.int(i)?.max(0) as usize;
        } else if o.eq_ignore_ascii_case(b"streams") && more > 0 {
            streams_at = i + 1;
            let rest = n - streams_at;
            if !rest.is_multiple_of(2) {
                // Redis 7.0 names XREAD and `$` for XREADGROUP too.
                return Err(CmdError::msg(
                    "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.",
                ));
            }
            nstreams = rest / 2;
            break;
        } else if o.eq_ignore_ascii_case(b"group") && more >= 2 {
            if !group_cmd {
                return Err(CmdError::msg(
                    "ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.",
                ));
            }
            group = Some((args.get(i + 1), args.get(i + 2)));
            i += 2;
        } else if o.eq_ignore_ascii_case(b"noack") {
            if !group_cmd {
                return Err(CmdError::msg(
                    "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.",
                ));
            }
            noack = true;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 1;
    }
    if streams_at == 0 {
        return Err(CmdError::Syntax);
    }
    if group_cmd && group.is_none() {
        return Err(CmdError::msg("ERR Missing GROUP option for XREADGROUP"));
    }
    let retrying = cx.srv.blocking.retrying;
    let now = cx.now;
    // Resolve the ids (and check keys and groups), in argument order.
    let mut ids = Vec::with_capacity(nstreams);
    for k in 0..nstreams {
        let key = args.get(streams_at + k);
        let id_arg = args.get(streams_at + nstreams + k);
        let db = cx.db();
        let s = match db.get(key, now).map(|e| &e.value) {
            None => None,
            Some(Value::Stream(s)) => Some(&**s),
            Some(_) => return Err(CmdError::WrongType),
        };
        if let Some((g, _)) = group
            && s.is_none_or(|s| !s.groups.contains_key(g))
        {
            if retrying {
                return Err(CmdError::msg("NOGROUP the consumer group this client was blocked on no longer exists"));
            }
            return Err(CmdError::msg(format!(
                "NOGROUP No such key '{}' or consumer group '{}' in XREADGROUP with GROUP option",
                lossy(key),
                lossy(g)
            )));
        }
        let id = match id_arg {
            b"$" => {
                if group_cmd {
                    return Err(CmdError::msg(
                        "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.",
                    ));
                }
                ReadId::After(s.map_or(StreamId::MIN, |s| s.last_id))
            }
            b">" => {
                if !group_cmd {
                    return Err(CmdError::msg(
                        "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.",
                    ));
                }
                ReadId::New
            }
            a => match parse_strict_id(a, 0)? {
                // Redis stores `>` as this very id, so XREADGROUP takes
                // the id spelled out as `>` (new entries, no history).
                StreamId::MAX if group_cmd => ReadId::New,
                id => ReadId::After(id),
            },
        };
        ids.push(id);
    }
    if retrying && count == 0 {
        count = BLOCKED_DEFAULT_COUNT;
    }
    // Serve what can be served now.
    let resp3 = cx.out.proto == crate::resp::Proto::Resp3;
    let mut served = 0;
    let mut header_at = None;
    for (k, &rid) in ids.iter().enumerate() {
        let key = args.get(streams_at + k);
        let served_here = match group {
            None => serve_plain(cx, key, rid, count, &mut served, &mut header_at),
            Some((g, c)) => serve_group(cx, key, g, c, rid, count, noack, &mut served, &mut header_at)?,
        };
        let _ = served_here;
    }
    if served > 0 {
        if let Some(at) = header_at {
            patch_len(cx.out.buf, at, served, resp3);
        }
        return Ok(());
    }
    if let Some(t) = timeout {
        // `$` becomes the id it stood for, so the retry reads what came after.
        let mut parts: Vec<Vec<u8>> = args.from(0).map(|a| a.to_vec()).collect();
        for (k, rid) in ids.iter().enumerate() {
            if let ReadId::After(id) = rid
                && args.get(streams_at + nstreams + k) == b"$"
            {
                parts[streams_at + nstreams + k] = id.to_string().into_bytes();
            }
        }
        let mut data = Vec::new();
        let mut spans = Vec::with_capacity(parts.len());
        for p in &parts {
            spans.push((data.len(), data.len() + p.len()));
            data.extend_from_slice(p);
        }
        let keys: Vec<&[u8]> = (0..nstreams).map(|k| args.get(streams_at + k)).collect();
        let deadline = (t > 0).then_some(t as u64).filter(|&t| t.checked_add(now).is_some());
        cx.block(&keys, "stream", deadline, &Args::new(&data, &spans));
        return Ok(());
    }
    cx.out.null_array();
    Ok(())
}

/// The outer reply's header: an array (RESP2) or map (RESP3) whose length
/// is patched once known. Written at the first stream served.
fn open_outer(out: &mut Reply, header_at: &mut Option<usize>) {
    if header_at.is_none() {
        *header_at = Some(out.buf.len());
        // Room for the largest header; patched (and shrunk) afterwards.
        out.buf.extend_from_slice(b"*0000000000\r\n");
    }
}

/// Rewrites the placeholder at `at` as `*n` (or `%n` in RESP3).
fn patch_len(buf: &mut Vec<u8>, at: usize, n: usize, resp3: bool) {
    let header = format!("{}{n}\r\n", if resp3 { '%' } else { '*' });
    buf.splice(at..at + 13, header.into_bytes());
}

/// XREAD of one stream: entries after `rid`.
fn serve_plain(
    cx: &mut Ctx,
    key: &[u8],
    rid: ReadId,
    count: usize,
    served: &mut usize,
    header_at: &mut Option<usize>,
) -> bool {
    let ReadId::After(gt) = rid else { return false };
    let now = cx.now;
    let db = cx.db_index();
    let Ctx { srv, out, .. } = cx;
    let Some(Value::Stream(s)) = srv.dbs[db].get_ref(key, now).map(|e| &e.value) else { return false };
    if s.length == 0 || s.last_valid_id().is_none_or(|max| max <= gt) {
        return false;
    }
    let Some(start) = gt.incr() else { return false };
    open_outer(out, header_at);
    *served += 1;
    if out.proto == crate::resp::Proto::Resp2 {
        out.array(2);
    }
    out.bulk(key);
    write_range(out, s, start, StreamId::MAX, count, false);
    true
}

/// XREADGROUP of one stream.
#[allow(clippy::too_many_arguments)]
fn serve_group(
    cx: &mut Ctx,
    key: &[u8],
    gname: &[u8],
    cname: &[u8],
    rid: ReadId,
    count: usize,
    noack: bool,
    served: &mut usize,
    header_at: &mut Option<usize>,
) -> Result<bool, CmdError> {
    let now = cx.now;
    let Some(s) = write_stream(cx.db(), key, now)? else { return Ok(false) };
    let max = if s.length > 0 { s.last_valid_id() } else { None };
    let Some(g) = s.groups.get_mut(gname) else { return Ok(false) };
    let (serve, history, gt) = match rid {
        ReadId::After(id) => (true, true, id),
        ReadId::New => (max.is_some_and(|m| m > g.last_id), false, g.last_id),
    };
    // Redis 7.0 looks the consumer up (creating it) only to serve it.
    if !serve {
        return Ok(false);
    }
    let created = g.create_consumer(cname, now as i64);
    if let Some(c) = g.consumers.get_mut(cname) {
        c.seen_time = now as i64;
    }
    if created {
        cx.dirty(1);
        cx.notify_unmodified(ev::STREAM, "xgroup-createconsumer", key);
        if noack {
            propagate(cx, &[b"XGROUP", b"CREATECONSUMER", key, gname, cname]);
        }
    }
    if !serve {
        return Ok(false);
    }
    let Some(start) = gt.incr() else { return Ok(false) };
    // Redis 7.0 counts one change per stream an XREADGROUP serves.
    cx.dirty(1);
    let resp2 = cx.out.proto == crate::resp::Proto::Resp2;
    open_outer(&mut cx.out, header_at);
    *served += 1;
    if resp2 {
        cx.out.array(2);
    }
    cx.out.bulk(key);
    if history {
        // The consumer's own pending entries from `start`.
        let db = cx.db_index();
        let Ctx { srv, out, .. } = cx;
        let Some(Value::Stream(s)) = srv.dbs[db].get_mut(key, now).map(|e| &mut e.value) else { return Ok(true) };
        let Some(g) = s.groups.get_mut(gname) else { return Ok(true) };
        let ids: Vec<StreamId> = g
            .consumers
            .get(cname)
            .map(|c| c.pel.range(start..).take(if count == 0 { usize::MAX } else { count }).copied().collect())
            .unwrap_or_default();
        out.array(ids.len());
        for id in ids {
            if write_one(out, s, id) {
                if let Some(nack) = s.groups.get_mut(gname).and_then(|g| g.pel.get_mut(&id)) {
                    nack.delivery_time = now as i64;
                    nack.delivery_count += 1;
                }
            } else {
                out.array(2);
                bulk_id(out, id);
                out.null_array();
            }
        }
        return Ok(true);
    }
    // New entries: deliver, advance the group, fill the PELs.
    let db = cx.db_index();
    let mut claims: Vec<(StreamId, Nack, StreamId)> = Vec::new();
    let mut moved = false;
    let last;
    {
        let Ctx { srv, out, .. } = &mut *cx;
        let Some(Value::Stream(s)) = srv.dbs[db].get_mut(key, now).map(|e| &mut e.value) else { return Ok(true) };
        let mut entries: Vec<StreamId> = Vec::new();
        s.range(start, StreamId::MAX, false, |_, e| {
            entries.push(e.id);
            count == 0 || entries.len() < count
        });
        let mut g = s.groups.remove(gname).unwrap_or_default();
        out.array(entries.len());
        for &id in &entries {
            if id > g.last_id {
                s.advance_group(&mut g, id);
                moved = true;
            }
            write_one(out, s, id);
            if !noack {
                let nack = Nack { delivery_time: now as i64, delivery_count: 1, consumer: Bytes::from(cname) };
                if let Some(old) = g.pel.insert(id, nack.clone())
                    && old.consumer[..] != *cname
                    && let Some(oc) = g.consumers.get_mut(&old.consumer)
                {
                    oc.pel.remove(&id);
                }
                if let Some(c) = g.consumers.get_mut(cname) {
                    c.pel.insert(id);
                }
                claims.push((id, nack, g.last_id));
            }
        }
        last = (g.last_id, g.entries_read);
        s.groups.insert(Bytes::from(gname), g);
    }
    // Propagated as XCLAIMs (each with the group's last id at its
    // delivery), then the group's new last id.
    for (id, nack, at) in &claims {
        propagate_xclaim(cx, key, gname, *at, &id.to_string(), nack);
    }
    // Redis 7.0 propagates the group's new last id only for NOACK reads
    // (the XCLAIMs' LASTID carries it otherwise).
    let setid = moved && noack;
    if setid {
        propagate_group_id(cx, key, gname, last.0, last.1);
    }
    Ok(true)
}

// ---------------------------------------------------------------------------
// XGROUP

/// The stream and group for an XGROUP subcommand, with Redis's errors
/// for a missing key or group (`need_group`).
fn group_target<'a>(
    db: &'a mut Db,
    key: &[u8],
    group: &[u8],
    now: u64,
    need_group: bool,
) -> Result<&'a mut Stream, CmdError> {
    let Some(s) = write_stream(db, key, now)? else {
        return Err(CmdError::msg(
            "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.",
        ));
    };
    if need_group && !s.groups.contains_key(group) {
        return Err(CmdError::msg(format!(
            "NOGROUP No such consumer group '{}' for key name '{}'",
            lossy(group),
            lossy(key)
        )));
    }
    Ok(s)
}

/// `[MKSTREAM] [ENTRIESREAD n]` after CREATE/SETID's id.
fn parse_group_opts(args: &Args, create: bool) -> Result<(bool, i64), CmdError> {
    let (mut mkstream, mut entries_read) = (false, INVALID_ENTRIES_READ);
    let mut i = 5;
    while i < args.len() {
        if create && args.get(i).eq_ignore_ascii_case(b"mkstream") {
            mkstream = true;
            i += 1;
        } else if args.get(i).eq_ignore_ascii_case(b"entriesread") && i + 1 < args.len() {
            entries_read = args.int(i + 1)?;
            if entries_read < 0 && entries_read != INVALID_ENTRIES_READ {
                return Err(CmdError::msg("ERR value for ENTRIESREAD must be positive or -1"));
            }
            i += 2;
        } else {
            return Err(super::subcommand_syntax_error(args));
        }
    }
    Ok((mkstream, entries_read))
}

/// # Format
/// `XGROUP CREATE key group id | $ [MKSTREAM] [ENTRIESREAD entries-read]`
fn xgroup_create(cx: &mut Ctx, args: &Args) -> CmdResult {
    let (mkstream, entries_read) = parse_group_opts(args, true)?;
    let (key, gname) = (args.get(2), args.get(3));
    let now = cx.now;
    let exists = write_stream(cx.db(), key, now)?.is_some();
    if !exists && !mkstream {
        group_target(cx.db(), key, gname, now, false)?;
    }
    if args.len() > 8 {
        return Err(super::subcommand_syntax_error(args));
    }
    let id = match args.get(4) {
        b"$" => write_stream(cx.db(), key, now)?.map_or(StreamId::MIN, |s| s.last_id),
        a => parse_strict_id(a, 0)?,
    };
    if !exists {
        cx.db().set(key, Value::Stream(Box::default()), Expiry::None, now);
        // Redis's signalModifiedKey for the new key (no keyspace event).
        cx.srv.prop.changes += 1;
        let db = cx.db_index();
        cx.srv.signal_modified(db, key, crate::server::state::Cause::Write);
    }
    let Some(s) = write_stream(cx.db(), key, now)? else { return Ok(()) };
    if s.groups.contains_key(gname) {
        return Err(CmdError::msg("BUSYGROUP Consumer Group name already exists"));
    }
    s.groups.insert(Bytes::from(gname), Group::new(id, entries_read));
    cx.out.ok();
    cx.dirty(1);
    cx.notify_unmodified(ev::STREAM, "xgroup-create", key);
    Ok(())
}

/// # Format
/// `XGROUP SETID key group id | $ [ENTRIESREAD entries-read]`
fn xgroup_setid(cx: &mut Ctx, args: &Args) -> CmdResult {
    let (_, entries_read) = parse_group_opts(args, false)?;
    let (key, gname) = (args.get(2), args.get(3));
    let now = cx.now;
    group_target(cx.db(), key, gname, now, true)?;
    if args.len() != 5 && args.len() != 7 {
        return Err(super::subcommand_syntax_error(args));
    }
    let s = group_target(cx.db(), key, gname, now, true)?;
    let id = match args.get(4) {
        b"$" => s.last_id,
        a => parse_id(a, 0)?,
    };
    if let Some(g) = s.groups.get_mut(gname) {
        g.last_id = id;
        g.entries_read = entries_read;
    }
    cx.out.ok();
    cx.dirty(1);
    cx.notify_unmodified(ev::STREAM, "xgroup-setid", key);
    Ok(())
}

/// # Format
/// `XGROUP DESTROY key group`
fn xgroup_destroy(cx: &mut Ctx, args: &Args) -> CmdResult {
    let (key, gname) = (args.get(2), args.get(3));
    let now = cx.now;
    let s = group_target(cx.db(), key, gname, now, false)?;
    if s.groups.remove(gname).is_some() {
        cx.out.int(1);
        cx.dirty(1);
        cx.notify_unmodified(ev::STREAM, "xgroup-destroy", key);
        // Readers blocked on the group get their NOGROUP error.
        cx.signal_ready(key);
    } else {
        cx.out.int(0);
    }
    Ok(())
}

/// # Format
/// `XGROUP CREATECONSUMER key group consumer`
fn xgroup_createconsumer(cx: &mut Ctx, args: &Args) -> CmdResult {
    let (key, gname) = (args.get(2), args.get(3));
    let now = cx.now;
    let s = group_target(cx.db(), key, gname, now, true)?;
    let created = s.groups.get_mut(gname).is_some_and(|g| g.create_consumer(args.get(4), now as i64));
    cx.out.int(created as i64);
    if created {
        cx.dirty(1);
        cx.notify_unmodified(ev::STREAM, "xgroup-createconsumer", key);
    }
    Ok(())
}

/// # Format
/// `XGROUP DELCONSUMER key group consumer`
fn xgroup_delconsumer(cx: &mut Ctx, args: &Args) -> CmdResult {
    let (key, gname) = (args.get(2), args.get(3));
    let now = cx.now;
    let s = group_target(cx.db(), key, gname, now, true)?;
    let pending = s.groups.get_mut(gname).and_then(|g| g.delete_consumer(args.get(4)));
    cx.out.int(pending.unwrap_or(0) as i64);
    if pending.is_some() {
        cx.dirty(1);
        cx.notify_unmodified(ev::STREAM, "xgroup-delconsumer", key);
    }
    Ok(())
}

/// # Format
/// `XGROUP HELP`
fn xgroup_help(cx: &mut Ctx, _args: &Args) -> CmdResult {
    super::server::help(
        &mut cx.out,
        "XGROUP",
        &[
            "CREATE <key> <groupname> <id|$> [option]",
            "    Create a new consumer group. Options are:",
            "    * MKSTREAM",
            "      Create the empty stream if it does not exist.",
            "    * ENTRIESREAD entries_read",
            "      Set the group's entries_read counter (internal use).",
            "CREATECONSUMER <key> <groupname> <consumer>",
            "    Create a new consumer in the specified group.",
            "DELCONSUMER <key> <groupname> <consumer>",
            "    Remove the specified consumer.",
            "DESTROY <key> <groupname>",
            "    Remove the specified group.",
            "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
            "    Set the current group ID and entries_read counter.",
        ],
    );
    Ok(())
}

// ---------------------------------------------------------------------------
// XACK / XPENDING / XCLAIM / XAUTOCLAIM

/// # Format
/// `XACK key group id [id ...]`
fn xack(cx: &mut Ctx, args: &Args) -> CmdResult {
    let (key, gname) = (args.get(1), args.get(2));
    let now = cx.now;
    let has_group = match read_stream(cx.db(), key, now)? {
        Some(s) => s.groups.contains_key(gname),
        None => false,
    };
    if !has_group {
        cx.out.int(0);
        return Ok(());
    }
    let ids = args.from(3).map(|a| parse_strict_id(a, 0)).collect::<Result<Vec<_>, _>>()?;
    let Some(s) = write_stream(cx.db(), key, now)? else { return Ok(()) };
    let Some(g) = s.groups.get_mut(gname) else { return Ok(()) };
    let acked = ids.iter().filter(|&&id| g.ack(id)).count();
    cx.out.int(acked as i64);
    if acked > 0 {
        cx.srv.prop.changes += 1;
    }
    cx.dirty(acked as u64);
    Ok(())
}

fn nogroup(key: &[u8], group: &[u8]) -> CmdError {
    CmdError::msg(format!("NOGROUP No such key '{}' or consumer group '{}'", lossy(key), lossy(group)))
}

/// # Format
/// `XPENDING key group [[IDLE min-idle-time] start end count [consumer]]`
fn xpending(cx: &mut Ctx, args: &Args) -> CmdResult {
    let n = args.len();
    if n != 3 && !(6..=9).contains(&n) {
        return Err(CmdError::Syntax);
    }
    let (mut start, mut end, mut count, mut minidle) = (StreamId::MIN, StreamId::MAX, 0i64, 0i64);
    let mut consumer = None;
    if n >= 6 {
        let mut at = 3;
        if args.get(3).eq_ignore_ascii_case(b"idle") {
            minidle = args.int(4)?;
            if n < 8 {
                return Err(CmdError::Syntax);
            }
            at += 2;
        }
        count = args.int(at + 2)?.max(0);
        start = parse_bound(args.get(at), false)?;
        end = parse_bound(args.get(at + 1), true)?;
        if at + 3 < n {
            consumer = Some(args.get(at + 3));
        }
    }
    let (key, gname) = (args.get(1), args.get(2));
    let now = cx.now;
    let db = cx.db_index();
    let Ctx { srv, out, .. } = cx;
    let s = read_stream(&mut srv.dbs[db], key, now)?;
    let Some(g) = s.and_then(|s| s.groups.get(gname)) else { return Err(nogroup(key, gname)) };
    if n == 3 {
        out.array(4);
        out.int(g.pel.len() as i64);
        match (g.pel.keys().next(), g.pel.keys().next_back()) {
            (Some(&first), Some(&last)) => {
                bulk_id(out, first);
                bulk_id(out, last);
                let with: Vec<(&Bytes, usize)> =
                    g.consumers.iter().filter(|(_, c)| !c.pel.is_empty()).map(|(n, c)| (n, c.pel.len())).collect();
                out.array(with.len());
                for (name, k) in with {
                    out.array(2);
                    out.bulk(name);
                    out.bulk(k.to_string().as_bytes());
                }
            }
            _ => {
                out.null();
                out.null();
                out.null_array();
            }
        }
        return Ok(());
    }
    let ids: Box<dyn Iterator<Item = StreamId>> = match consumer {
        Some(c) => match g.consumers.get(c) {
            Some(c) => Box::new(c.pel.range(start..).copied()),
            None => {
                out.array(0);
                return Ok(());
            }
        },
        None => Box::new(g.pel.range(start..).map(|(k, _)| *k)),
    };
    let mut rows = Vec::new();
    for id in ids {
        if count == 0 || id > end {
            break;
        }
        let Some(nack) = g.pel.get(&id) else { continue };
        if minidle != 0 && (now as i64 - nack.delivery_time) < minidle {
            continue;
        }
        rows.push((id, nack));
        count -= 1;
    }
    out.array(rows.len());
    for (id, nack) in rows {
        out.array(4);
        bulk_id(out, id);
        out.bulk(&nack.consumer);
        out.int((now as i64 - nack.delivery_time).max(0));
        out.int(nack.delivery_count as i64);
    }
    Ok(())
}

/// # Format
/// `XCLAIM key group consumer min-idle-time id [id ...] [IDLE ms] [TIME unix-time-milliseconds] [RETRYCOUNT count] [FORCE] [JUSTID] [LASTID lastid]`
fn xclaim(cx: &mut Ctx, args: &Args) -> CmdResult {
    let (key, gname, cname) = (args.get(1), args.get(2), args.get(3));
    let now = cx.now as i64;
    let has_group = match read_stream(cx.db(), key, now as u64)? {
        Some(s) => s.groups.contains_key(gname),
        None => false,
    };
    if !has_group {
        return Err(nogroup(key, gname));
    }
    let minidle = crate::resp::parse::parse_i64(args.get(4))
        .ok_or_else(|| CmdError::msg("ERR Invalid min-idle-time argument for XCLAIM"))?
        .max(0);
    let mut ids = Vec::new();
    let mut j = 5;
    while j < args.len() {
        match parse_strict_id(args.get(j), 0) {
            Ok(id) => ids.push((id, args.get(j))),
            Err(_) => break,
        }
        j += 1;
    }
    let (mut force, mut justid) = (false, false);
    let (mut retrycount, mut deliverytime): (i64, i64) = (-1, -1);
    let mut last_id = StreamId::MIN;
    let int_opt = |v: &[u8], what: &str| {
        crate::resp::parse::parse_i64(v)
            .ok_or_else(|| CmdError::msg(format!("ERR Invalid {what} option argument for XCLAIM")))
    };
    while j < args.len() {
        let more = args.len() - 1 - j;
        let opt = args.get(j);
        if opt.eq_ignore_ascii_case(b"force") {
            force = true;
        } else if opt.eq_ignore_ascii_case(b"justid") {
            justid = true;
        } else if opt.eq_ignore_ascii_case(b"idle") && more > 0 {
            j += 1;
            deliverytime = now - int_opt(args.get(j), "IDLE")?;
        } else if opt.eq_ignore_ascii_case(b"time") && more > 0 {
            j += 1;
            deliverytime = int_opt(args.get(j), "TIME")?;
        } else if opt.eq_ignore_ascii_case(b"retrycount") && more > 0 {
            j += 1;
            retrycount = int_opt(args.get(j), "RETRYCOUNT")?;
        } else if opt.eq_ignore_ascii_case(b"lastid") && more > 0 {
            j += 1;
            last_id = parse_strict_id(args.get(j), 0)?;
        } else {
            return Err(CmdError::msg(format!("ERR Unrecognized XCLAIM option '{}'", lossy(opt))));
        }
        j += 1;
    }
    let Some(s) = write_stream(cx.db(), key, now as u64)? else { return Ok(()) };
    let Some(mut g) = s.groups.remove(gname) else { return Ok(()) };
    let mut propagate_last_id = false;
    if last_id > g.last_id {
        g.last_id = last_id;
        propagate_last_id = true;
    }
    if deliverytime != -1 {
        if deliverytime < 0 || deliverytime > now {
            deliverytime = now;
        }
    } else {
        deliverytime = now;
    }
    // Redis 7.0 looks the consumer up (creating it) at the first claim.
    let mut created = false;
    let mut looked_up = false;
    // Work out the claims first, reply and propagate after.
    enum Step<'a> {
        Gone(Nack, &'a [u8]),
        Claimed(StreamId, Nack, &'a [u8]),
    }
    let mut steps = Vec::new();
    for &(id, arg) in &ids {
        if !s.contains(id) {
            if let Some(nack) = g.pel.get(&id).cloned() {
                g.ack(id);
                steps.push(Step::Gone(nack, arg));
            }
            continue;
        }
        if force && !g.pel.contains_key(&id) {
            g.pel.insert(id, Nack { delivery_time: now, delivery_count: 0, consumer: Bytes::default() });
            // A forced NACK starts with no consumer (count set below).
            if let Some(n) = g.pel.get_mut(&id) {
                n.delivery_count = 1;
            }
        }
        let Some(nack) = g.pel.get(&id) else { continue };
        let unowned = nack.consumer.is_empty();
        if !unowned && minidle != 0 && now - nack.delivery_time < minidle {
            continue;
        }
        if !looked_up {
            looked_up = true;
            created = g.create_consumer(cname, now);
            if let Some(c) = g.consumers.get_mut(cname) {
                c.seen_time = now;
            }
        }
        g.assign(id, cname);
        if let Some(nack) = g.pel.get_mut(&id) {
            nack.delivery_time = deliverytime;
            if retrycount >= 0 {
                nack.delivery_count = retrycount as u64;
            } else if !justid {
                nack.delivery_count += 1;
            }
            steps.push(Step::Claimed(id, nack.clone(), arg));
        }
    }
    let (last, read) = (g.last_id, g.entries_read);
    s.groups.insert(Bytes::from(gname), g);
    if created {
        cx.dirty(1);
        cx.notify_unmodified(ev::STREAM, "xgroup-createconsumer", key);
    }
    let claimed = steps.iter().filter(|s| matches!(s, Step::Claimed(..))).count();
    let db = cx.db_index();
    let Ctx { srv, out, .. } = &mut *cx;
    if let Some(Value::Stream(s)) = srv.dbs[db].get_raw(key).map(|e| &e.value) {
        out.array(claimed);
        for st in &steps {
            if let Step::Claimed(id, _, _) = st {
                if justid {
                    bulk_id(out, *id);
                } else {
                    write_one(out, s, *id);
                }
            }
        }
    }
    for st in &steps {
        let (Step::Gone(nack, arg) | Step::Claimed(_, nack, arg)) = st;
        propagate_xclaim(cx, key, gname, last, &lossy(arg), nack);
        propagate_last_id = false;
        cx.dirty(1);
    }
    if propagate_last_id {
        propagate_group_id(cx, key, gname, last, read);
        cx.dirty(1);
    }
    if !created && steps.is_empty() && !propagate_last_id {
        cx.dirty(0);
    }
    Ok(())
}

/// # Format
/// `XAUTOCLAIM key group consumer min-idle-time start [COUNT count] [JUSTID]`
fn xautoclaim(cx: &mut Ctx, args: &Args) -> CmdResult {
    let (key, gname, cname) = (args.get(1), args.get(2), args.get(3));
    let now = cx.now as i64;
    let minidle = crate::resp::parse::parse_i64(args.get(4))
        .ok_or_else(|| CmdError::msg("ERR Invalid min-idle-time argument for XAUTOCLAIM"))?
        .max(0);
    let start = parse_bound(args.get(5), false)?;
    let mut count: i64 = 100;
    let mut justid = false;
    let mut j = 6;
    while j < args.len() {
        let more = args.len() - 1 - j;
        let opt = args.get(j);
        if opt.eq_ignore_ascii_case(b"count") && more > 0 {
            count = args.int_in(j + 1, 1, i64::MAX / 16, "ERR COUNT must be > 0")?;
            j += 1;
        } else if opt.eq_ignore_ascii_case(b"justid") {
            justid = true;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    let has_group = match read_stream(cx.db(), key, now as u64)? {
        Some(s) => s.groups.contains_key(gname),
        None => false,
    };
    if !has_group {
        return Err(nogroup(key, gname));
    }
    let Some(s) = write_stream(cx.db(), key, now as u64)? else { return Ok(()) };
    let Some(mut g) = s.groups.remove(gname) else { return Ok(()) };
    let (mut created, mut looked_up) = (false, false);
    let mut attempts = count.saturating_mul(10);
    let mut deleted = Vec::new();
    let mut claimed: Vec<(StreamId, Nack)> = Vec::new();
    let mut gone: Vec<(StreamId, Nack)> = Vec::new();
    let mut cursor = start;
    let mut next: Option<StreamId> = None;
    loop {
        let Some((&id, nack)) = g.pel.range(cursor..).next() else {
            next = None;
            break;
        };
        if attempts == 0 || count == 0 {
            next = Some(id);
            break;
        }
        attempts -= 1;
        cursor = match id.incr() {
            Some(c) => c,
            None => StreamId::MAX,
        };
        let last = id == StreamId::MAX;
        if !s.contains(id) {
            let nack = nack.clone();
            g.ack(id);
            gone.push((id, nack));
            deleted.push(id);
            count -= 1;
            if last {
                break;
            }
            continue;
        }
        if minidle != 0 && now - nack.delivery_time < minidle {
            if last {
                break;
            }
            continue;
        }
        if !looked_up {
            looked_up = true;
            created = g.create_consumer(cname, now);
            if let Some(c) = g.consumers.get_mut(cname) {
                c.seen_time = now;
            }
        }
        g.assign(id, cname);
        if let Some(nack) = g.pel.get_mut(&id) {
            nack.delivery_time = now;
            if !justid {
                nack.delivery_count += 1;
            }
            claimed.push((id, nack.clone()));
        }
        count -= 1;
        if last {
            break;
        }
    }
    let last = g.last_id;
    s.groups.insert(Bytes::from(gname), g);
    if created {
        cx.dirty(1);
        cx.notify_unmodified(ev::STREAM, "xgroup-createconsumer", key);
    }
    let db = cx.db_index();
    let Ctx { srv, out, .. } = &mut *cx;
    if let Some(Value::Stream(s)) = srv.dbs[db].get_raw(key).map(|e| &e.value) {
        out.array(3);
        bulk_id(out, next.unwrap_or(StreamId::MIN));
        out.array(claimed.len());
        for (id, _) in &claimed {
            if justid {
                bulk_id(out, *id);
            } else {
                write_one(out, s, *id);
            }
        }
        out.array(deleted.len());
        for id in &deleted {
            bulk_id(out, *id);
        }
    }
    // Redis propagates in PEL order: deleted and claimed entries as met.
    let mut all: Vec<&(StreamId, Nack)> = gone.iter().chain(claimed.iter()).collect();
    all.sort_by_key(|(id, _)| *id);
    for (id, nack) in all {
        propagate_xclaim(cx, key, gname, last, &id.to_string(), nack);
        cx.dirty(1);
    }
    if !created && claimed.is_empty() && gone.is_empty() {
        cx.dirty(0);
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// XINFO

/// The stream for XINFO: `ERR no such key` if missing.
fn info_stream<'a>(db: &'a mut Db, key: &[u8], now: u64) -> Result<&'a Stream, CmdError> {
    read_stream(db, key, now)?.ok_or_else(|| CmdError::msg("ERR no such key"))
}

fn entries_read(out: &mut Reply, g: &Group) {
    if g.entries_read != INVALID_ENTRIES_READ {
        out.int(g.entries_read);
    } else {
        out.null();
    }
}

fn lag(out: &mut Reply, s: &Stream, g: &Group) {
    match s.lag(g) {
        Some(l) => out.int(l),
        None => out.null(),
    }
}

/// # Format
/// `XINFO CONSUMERS key group`
fn xinfo_consumers(cx: &mut Ctx, args: &Args) -> CmdResult {
    let (key, gname) = (args.get(2), args.get(3));
    let now = cx.now;
    let db = cx.db_index();
    let Ctx { srv, out, .. } = cx;
    let s = info_stream(&mut srv.dbs[db], key, now)?;
    let Some(g) = s.groups.get(gname) else {
        return Err(CmdError::msg(format!(
            "NOGROUP No such consumer group '{}' for key name '{}'",
            lossy(gname),
            lossy(key)
        )));
    };
    out.array(g.consumers.len());
    for (name, c) in &g.consumers {
        out.map(3);
        out.bulk(b"name");
        out.bulk(name);
        out.bulk(b"pending");
        out.int(c.pel.len() as i64);
        out.bulk(b"idle");
        out.int((now as i64 - c.seen_time).max(0));
    }
    Ok(())
}

/// # Format
/// `XINFO GROUPS key`
fn xinfo_groups(cx: &mut Ctx, args: &Args) -> CmdResult {
    let now = cx.now;
    let db = cx.db_index();
    let Ctx { srv, out, .. } = cx;
    let s = info_stream(&mut srv.dbs[db], args.get(2), now)?;
    out.array(s.groups.len());
    for (name, g) in &s.groups {
        out.map(6);
        out.bulk(b"name");
        out.bulk(name);
        out.bulk(b"consumers");
        out.int(g.consumers.len() as i64);
        out.bulk(b"pending");
        out.int(g.pel.len() as i64);
        out.bulk(b"last-delivered-id");
        bulk_id(out, g.last_id);
        out.bulk(b"entries-read");
        entries_read(out, g);
        out.bulk(b"lag");
        lag(out, s, g);
    }
    Ok(())
}

/// # Format
/// `XINFO STREAM key [FULL [COUNT count]]`
fn xinfo_stream(cx: &mut Ctx, args: &Args) -> CmdResult {
    let key = args.get(2);
    let now = cx.now;
    let db = cx.db_index();
    let Ctx { srv, out, .. } = cx;
    let s = info_stream(&mut srv.dbs[db], key, now)?;
    let optc = args.len() - 3;
    let (full, count) = match optc {
        0 => (false, 10),
        1 | 3 => {
            if !args.get(3).eq_ignore_ascii_case(b"full") {
                return Err(super::subcommand_syntax_error(args));
            }
            let mut count = 10;
            if optc == 3 {
                if !args.get(4).eq_ignore_ascii_case(b"count") {
                    return Err(super::subcommand_syntax_error(args));
                }
                count = args.int(5)?;
                if count < 0 {
                    count = 10;
                }
            }
            (true, count)
        }
        _ => return Err(super::subcommand_syntax_error(args)),
    };
    out.map(if full { 9 } else { 10 });
    out.bulk(b"length");
    out.int(s.length as i64);
    out.bulk(b"radix-tree-keys");
    out.int(s.node_count() as i64);
    out.bulk(b"radix-tree-nodes");
    out.int(s.rax_nodes() as i64);
    out.bulk(b"last-generated-id");
    bulk_id(out, s.last_id);
    out.bulk(b"max-deleted-entry-id");
    bulk_id(out, s.max_deleted);
    out.bulk(b"entries-added");
    out.int(s.entries_added as i64);
    out.bulk(b"recorded-first-entry-id");
    bulk_id(out, s.first_id);
    if !full {
        out.bulk(b"groups");
        out.int(s.groups.len() as i64);
        out.bulk(b"first-entry");
        if !write_one_edge(out, s, false) {
            out.null();
        }
        out.bulk(b"last-entry");
        if !write_one_edge(out, s, true) {
            out.null();
        }
        return Ok(());
    }
    let count = count as usize;
    out.bulk(b"entries");
    write_range(out, s, StreamId::MIN, StreamId::MAX, count, false);
    out.bulk(b"groups");
    out.array(s.groups.len());
    for (name, g) in &s.groups {
        out.map(7);
        out.bulk(b"name");
        out.bulk(name);
        out.bulk(b"last-delivered-id");
        bulk_id(out, g.last_id);
        out.bulk(b"entries-read");
        entries_read(out, g);
        out.bulk(b"lag");
        lag(out, s, g);
        out.bulk(b"pel-count");
        out.int(g.pel.len() as i64);
        out.bulk(b"pending");
        let pel: Vec<(&StreamId, &Nack)> = g.pel.iter().take(if count == 0 { usize::MAX } else { count }).collect();
        out.array(pel.len());
        for (id, nack) in pel {
            out.array(4);
            bulk_id(out, *id);
            out.bulk(&nack.consumer);
            out.int(nack.delivery_time);
            out.int(nack.delivery_count as i64);
        }
        out.bulk(b"consumers");
        out.array(g.consumers.len());
        for (cname, c) in &g.consumers {
            out.map(4);
            out.bulk(b"name");
            out.bulk(cname);
            out.bulk(b"seen-time");
            out.int(c.seen_time);
            out.bulk(b"pel-count");
            out.int(c.pel.len() as i64);
            out.bulk(b"pending");
            let ids: Vec<&StreamId> = c.pel.iter().take(if count == 0 { usize::MAX } else { count }).collect();
            out.array(ids.len());
            for id in ids {
                out.array(3);
                bulk_id(out, *id);
                let nack = g.pel.get(id);
                out.int(nack.map_or(0, |n| n.delivery_time));
                out.int(nack.map_or(0, |n| n.delivery_count as i64));
            }
        }
    }
    Ok(())
}

/// The first (or last) live entry, written raw; false if none.
fn write_one_edge(out: &mut Reply, s: &Stream, last: bool) -> bool {
    match s.edge_id(!last, true) {
        Some(id) => write_one(out, s, id),
        None => false,
    }
}

/// # Format
/// `XINFO HELP`
fn xinfo_help(cx: &mut Ctx, _args: &Args) -> CmdResult {
    super::server::help(
        &mut cx.out,
        "XINFO",
        &[
            "CONSUMERS <key> <groupname>",
            "    Show consumers of <groupname>.",
            "GROUPS <key>",
            "    Show the stream consumer groups.",
            "STREAM <key> [FULL [COUNT <count>]",
            "    Show information about the stream.",
        ],
    );
    Ok(())
}
