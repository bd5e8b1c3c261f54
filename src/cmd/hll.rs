//! HyperLogLog commands: PFADD, PFCOUNT, PFMERGE, PFDEBUG and PFSELFTEST —
//! Redis 7.0's `hyperloglog.c` on string values (the representation lives
//! in `store::hll`).
//!
//! What each command tells the rest of the server follows Redis exactly:
//! - PFADD that raised a register: a `pfadd` event (WATCH and tracking
//!   hear of it) and one dirty count per raised register; one that raised
//!   nothing changes nothing (no event, not propagated).
//! - PFMERGE: always a `pfadd` event (Redis's choice: a merge is a mass
//!   add) and one dirty count, even when the destination did not change.
//! - PFCOUNT of one key whose cached cardinality was stale: the cache is
//!   written back into the string, so the key counts as modified (WATCH
//!   and tracking), one dirty count, and the PFCOUNT itself is propagated
//!   to the AOF, all without a keyspace event. The dispatcher takes its
//!   propagation mark for PFCOUNT too for this reason.
//! - PFDEBUG GETREG / TODENSE converting a sparse HLL: one dirty count
//!   and propagation, no event and no WATCH/tracking signal.
//!
//! Every HLL touched by these commands is a `raw` string afterwards, as
//! Redis's `dbUnshareStringValue` makes it.

use super::table::{Command, flag::*, row};
use super::{Args, CmdError, CmdResult, Ctx};
use crate::server::notify as ev;
use crate::server::state::Cause;
use crate::store::hll::{self, Corrupt, DENSE, REGISTERS, SPARSE};
use crate::store::value::Str;
use crate::store::{Expiry, Value};

pub static COMMANDS: &[Command] = &[
    row(
        "pfadd",
        -2,
        WRITE | DENYOOM | FAST,
        (1, 1, 1),
        "hyperloglog",
        "2.8.9",
        "Adds the specified elements to the specified HyperLogLog.",
        pfadd,
    )
    .key_flags(&["RW insert"]),
    row(
        "pfcount",
        -2,
        READONLY | MAY_REPLICATE,
        (1, -1, 1),
        "hyperloglog",
        "2.8.9",
        "Return the approximated cardinality of the set(s) observed by the HyperLogLog at key(s).",
        pfcount,
    )
    .key_notes(&["RW because it may change the internal representation of the key, and propagate to replicas"])
    .key_flags(&["RW access"]),
    row(
        "pfmerge",
        -2,
        WRITE | DENYOOM,
        (1, -1, 1),
        "hyperloglog",
        "2.8.9",
        "Merge N different HyperLogLogs into a single one.",
        pfmerge,
    )
    .key_flags(&["RW access insert", "RO access"]),
    row(
        "pfdebug",
        3,
        WRITE | DENYOOM | ADMIN,
        (2, 2, 1),
        "hyperloglog",
        "2.8.9",
        "Internal commands for debugging HyperLogLog values",
        pfdebug,
    )
    .key_flags(&["RW access"]),
    row(
        "pfselftest",
        1,
        ADMIN,
        (0, 0, 0),
        "hyperloglog",
        "2.8.9",
        "An internal command for testing HyperLogLog values",
        pfselftest,
    ),
];

fn invalid(_: Corrupt) -> CmdError {
    CmdError::msg(hll::INVALID)
}

/// Redis's `isHLLObjectOrReply`: the HLL string in `value`, WRONGTYPE for
/// another type, the HLL-specific WRONGTYPE for a string that is no HLL.
fn as_hll(value: &Value) -> Result<&[u8], CmdError> {
    match value {
        Value::Str(s) if hll::is_hll(s) => Ok(s),
        Value::Str(_) => Err(CmdError::msg(hll::NOT_HLL)),
        _ => Err(CmdError::WrongType),
    }
}

/// [`as_hll`] for a value about to change: the bytes as a growable
/// vector, the string marked `raw` (Redis's `dbUnshareStringValue`).
fn as_hll_mut(value: &mut Value) -> Result<&mut Vec<u8>, CmdError> {
    as_hll(value)?;
    match value {
        Value::Str(s) => {
            s.mark_raw();
            Ok(s.vec_mut())
        }
        _ => Err(CmdError::WrongType),
    }
}

/// A new HLL string value (Redis creates it `raw`).
fn new_value(bytes: Vec<u8>) -> Value {
    let mut s = Str::from_vec(bytes);
    s.mark_raw();
    Value::Str(s)
}

/// The command changed a key's bytes without a keyspace event (PFCOUNT's
/// cache): it is propagated, and with `signal` WATCH and tracking hear of
/// it (Redis's `signalModifiedKey` alone).
fn changed_silently(cx: &mut Ctx, key: &[u8], signal: bool) {
    cx.srv.prop.changes += 1;
    cx.dirty(1);
    if signal && cx.srv.key_signals {
        let db = cx.db_index();
        cx.srv.flush_db_events();
        cx.srv.signal_modified(db, key, Cause::Write);
    }
}

/// # Format
/// `PFADD key [element [element ...]]`
///
/// Replies 1 if a register rose (or the key was created), else 0.
fn pfadd(cx: &mut Ctx, args: &Args) -> CmdResult {
    let key = args.get(1);
    let (now, max_bytes, dbi) = (cx.now, cx.srv.config.hll_sparse_max_bytes, cx.db_index());
    let db = &mut cx.srv.dbs[dbi];
    let mut updated = 0u64;
    let mut failed = None;
    match db.get_mut(key, now) {
        Some(e) => {
            let s = as_hll_mut(&mut e.value)?;
            let mut term = 0;
            for ele in args.from(2) {
                match hll::add(s, ele, max_bytes, &mut term) {
                    Ok(raised) => updated += raised as u64,
                    Err(c) => {
                        failed = Some(c);
                        break;
                    }
                }
            }
            if updated > 0 && failed.is_none() {
                hll::invalidate(s);
            }
        }
        None => {
            let mut s = hll::new_sparse();
            updated = 1;
            for ele in args.from(2) {
                // A new HLL is valid: an addition cannot fail.
                updated += hll::add(&mut s, ele, max_bytes, &mut 0).unwrap_or(false) as u64;
            }
            hll::invalidate(&mut s);
            db.set(key, new_value(s), Expiry::None, now);
        }
    }
    // Additions before a corrupted part stay, unannounced, as in Redis.
    failed.map_or(Ok(()), |c| Err(invalid(c)))?;
    if updated > 0 {
        cx.notify(ev::STRING, "pfadd", key);
    }
    cx.dirty(updated);
    cx.out.int((updated > 0) as i64);
    Ok(())
}

/// # Format
/// `PFCOUNT key [key ...]`
///
/// One key: its cardinality, from the cache when valid (else computed and
/// cached). Several keys: the cardinality of their union (not cached).
/// Missing keys count as empty HLLs.
fn pfcount(cx: &mut Ctx, args: &Args) -> CmdResult {
    let (now, dbi) = (cx.now, cx.db_index());
    if args.len() > 2 {
        let db = &mut cx.srv.dbs[dbi];
        let mut max = [0u8; REGISTERS];
        for key in args.from(1) {
            if let Some(e) = db.get(key, now) {
                hll::merge(&mut max, as_hll(&e.value)?).map_err(invalid)?;
            }
        }
        cx.out.int(hll::count_raw(&max) as i64);
        return Ok(());
    }
    let key = args.get(1);
    let db = &mut cx.srv.dbs[dbi];
    if db.get(key, now).is_none() {
        cx.out.int(0);
        return Ok(());
    }
    let Some(e) = db.raw_entry_mut(key) else { return Ok(()) };
    as_hll(&e.value)?;
    if let Some(card) = hll::cached(as_hll_mut(&mut e.value)?) {
        cx.out.int(card as i64);
        return Ok(());
    }
    let card = hll::count(as_hll(&e.value)?).map_err(invalid)?;
    // The string changes: a snapshot in progress keeps the value before.
    if let Some(snap) = cx.srv.persist.snapshot.as_mut() {
        snap.before_write(&mut cx.srv.dbs, dbi, key, now);
    }
    if let Some(e) = cx.srv.dbs[dbi].raw_entry_mut(key) {
        hll::set_cached(as_hll_mut(&mut e.value)?, card);
    }
    changed_silently(cx, key, true);
    cx.out.int(card as i64);
    Ok(())
}

/// # Format
/// `PFMERGE destkey [sourcekey [sourcekey ...]]`
///
/// The destination (created if missing, a source too when it exists) gets
/// the maximum of every register of the sources. Replies OK.
fn pfmerge(cx: &mut Ctx, args: &Args) -> CmdResult {
    let (now, max_bytes, dbi) = (cx.now, cx.srv.config.hll_sparse_max_bytes, cx.db_index());
    let db = &mut cx.srv.dbs[dbi];
    let mut max = [0u8; REGISTERS];
    let mut dense = false;
    for key in args.from(1) {
        if let Some(e) = db.get(key, now) {
            let s = as_hll(&e.value)?;
            dense |= s[4] == DENSE;
            hll::merge(&mut max, s).map_err(invalid)?;
        }
    }
    let dest = args.get(1);
    match db.get_mut(dest, now) {
        Some(e) => {
            let s = as_hll_mut(&mut e.value)?;
            if dense {
                hll::to_dense(s).map_err(invalid)?;
            }
            hll::write_registers(s, &max, max_bytes);
            hll::invalidate(s);
        }
        None => {
            let mut s = hll::new_sparse();
            if dense {
                hll::to_dense(&mut s).map_err(invalid)?;
            }
            hll::write_registers(&mut s, &max, max_bytes);
            hll::invalidate(&mut s);
            db.set(dest, new_value(s), Expiry::None, now);
        }
    }
    cx.notify(ev::STRING, "pfadd", dest);
    cx.dirty(1);
    cx.out.ok();
    Ok(())
}

/// # Format
/// `PFDEBUG <GETREG | DECODE | ENCODING | TODENSE> key`
///
/// GETREG: every register (a sparse HLL is made dense first). DECODE: the
/// sparse opcodes as text. ENCODING: `dense` or `sparse`. TODENSE: makes
/// the HLL dense; 1 if it converted, else 0.
fn pfdebug(cx: &mut Ctx, args: &Args) -> CmdResult {
    let (sub, key) = (args.get(1), args.get(2));
    let (now, dbi) = (cx.now, cx.db_index());
    let Some(e) = cx.srv.dbs[dbi].get_mut(key, now) else {
        return Err(CmdError::msg("ERR The specified key does not exist"));
    };
    let s = as_hll_mut(&mut e.value)?;
    let is = |w: &str| sub.eq_ignore_ascii_case(w.as_bytes());
    let converted = if is("getreg") || is("todense") { hll::to_dense(s).map_err(invalid)? } else { false };
    if is("getreg") {
        cx.out.array(REGISTERS);
        for v in hll::registers(s) {
            cx.out.int(v as i64);
        }
    } else if is("decode") {
        if s[4] != SPARSE {
            return Err(CmdError::msg("ERR HLL encoding is not sparse"));
        }
        let text = hll::decode(s);
        cx.out.bulk(text.as_bytes());
    } else if is("encoding") {
        cx.out.simple(if s[4] == DENSE { "dense" } else { "sparse" });
    } else if is("todense") {
        cx.out.int(converted as i64);
    } else {
        return Err(CmdError::msg(format!("ERR Unknown PFDEBUG subcommand '{}'", super::lossy(sub))));
    }
    if converted {
        changed_silently(cx, key, false);
    }
    Ok(())
}

/// # Format
/// `PFSELFTEST`
///
/// Checks the register accessors and the estimator (10 million additions,
/// sparse and dense); replies OK or a `TESTFAILED` error.
fn pfselftest(cx: &mut Ctx, _args: &Args) -> CmdResult {
    let max_bytes = cx.srv.config.hll_sparse_max_bytes;
    hll::selftest(&mut cx.srv.rng, max_bytes).map_err(CmdError::msg)?;
    cx.out.ok();
    Ok(())
}
