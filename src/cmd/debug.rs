//! DEBUG, as operators and test tooling use it (Redis 7.0's `debug.c`):
//! the dataset digest (DIGEST, DIGEST-VALUE), POPULATE, PROTOCOL, OBJECT,
//! LISTPACK, SLEEP, and the switches test suites flip (SET-ACTIVE-EXPIRE,
//! QUICKLIST-PACKED-THRESHOLD, REPLYBUFFER, SET-DISABLE-DENY-SCRIPTS,
//! CHANGE-REPL-ID).
//!
//! DEBUG runs only where `enable-debug-command` allows it (`yes`, or
//! `local` for a loopback client); the dispatcher checks that before
//! anything else, as Redis's `processCommand` does (see [`allowed`]).
//!
//! Subcommands are matched as Redis matches them: by name and argument
//! count together, anything else being `unknown subcommand or wrong number
//! of arguments`. Numeric arguments are read the way Redis reads each one
//! (`atoi`, `strtod`, `memtoull`, `getPositiveLongFromObjectOrReply`), so
//! the same input gives the same outcome.
//!
//! The digest is Redis's exactly (SHA1 through the small `sha1_smol`
//! crate), so the same data gives the same 40 hex digits on ferrokv and on
//! redis-server, whatever the encodings: see [`value_digest`].

use super::table::{Command, flag::*, row};
use super::{Args, CmdError, CmdResult, Ctx, lossy, server::help};
use crate::ctext::{atoi, c_str, is_c_space};
use crate::resp::Proto;
use crate::server::state::{Cause, Shared};
use crate::store::stream::{Stream, StreamId};
use crate::store::{Db, Entry, Value, bytes::Bytes, set::canonical_int};
use std::fmt::Write as _;

pub static COMMANDS: &[Command] = &[row(
    "debug",
    -2,
    ADMIN | NOSCRIPT | LOADING | STALE | PROTECTED,
    (0, 0, 0),
    "server",
    "1.0.0",
    "A container for debugging commands",
    debug,
)];

/// Redis's refusal of a protected command (`rejectCommandFormat`).
pub const NOT_ALLOWED: &str = "ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.";

/// Whether client `key` may run DEBUG: `enable-debug-command` is `yes`,
/// or `local` and the client is on loopback or the Unix socket (Redis's
/// `allowProtectedAction`).
pub fn allowed(srv: &Shared, key: usize) -> bool {
    match srv.config.enable_debug_command.as_str() {
        "yes" => true,
        "local" => srv.client(key).is_local(),
        _ => false,
    }
}

/// DEBUG HELP's lines: Redis 7.0.15's text, for the subcommands ferrokv has.
const HELP: &[&str] = &[
    "CHANGE-REPL-ID",
    "    Change the replication IDs of the instance.",
    "    Dangerous: should be used only for testing the replication subsystem.",
    "CONFIG-REWRITE-FORCE-ALL",
    "    Like CONFIG REWRITE but writes all configuration options, including",
    "    keywords not listed in original configuration file or default values.",
    "DIGEST",
    "    Output a hex signature representing the current DB content.",
    "DIGEST-VALUE <key> [<key> ...]",
    "    Output a hex signature of the values of all the specified keys.",
    "ERROR <string>",
    "    Return a Redis protocol error with <string> as message. Useful for clients",
    "    unit tests to simulate Redis errors.",
    "LOG <message>",
    "    Write <message> to the server log.",
    "LOADAOF",
    "    Flush the AOF buffers on disk and reload the AOF in memory.",
    "OBJECT <key>",
    "    Show low level info about `key` and associated value.",
    "RELOAD [option ...]",
    "    Save the RDB on disk and reload it back to memory. Valid <option> values:",
    "    * MERGE: Merge the content of the RDB file with the existing memory.",
    "    * NOFLUSH: Do not empty the current database before loading.",
    "    * NOSAVE: the database will be loaded from an existing RDB file.",
    "    Examples:",
    "    * DEBUG RELOAD: verify that the server is able to persist, flush and reload",
    "      the database.",
    "    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an",
    "      existing RDB file.",
    "    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB",
    "      file to the database.",
    "POPULATE <count> [<prefix>] [<size>]",
    "    Create <count> string keys named key:<num>. If <prefix> is specified then",
    "    it is used instead of the 'key' prefix. These are not propagated to",
    "    replicas. Cluster slots are not respected so keys not belonging to the",
    "    current node can be created in cluster mode.",
    "PROTOCOL <type>",
    "    Reply with a test value of the specified type. <type> can be: string,",
    "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
    "    true, false.",
    "SEGFAULT",
    "    Crash the server with sigsegv.",
    "SET-ACTIVE-EXPIRE <0|1>",
    "    Setting it to 0 disables expiring keys in background when they are not",
    "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
    "    default.",
    "QUICKLIST-PACKED-THRESHOLD <size>",
    "    Sets the threshold for elements to be inserted as plain vs packed nodes",
    "    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to default.",
    "SET-SKIP-CHECKSUM-VALIDATION <0|1>",
    "    Enables or disables checksum checks for RDB files and RESTORE's payload.",
    "SLEEP <seconds>",
    "    Stop the server for <seconds>. Decimals allowed.",
    "STRINGMATCH-TEST",
    "    Run a fuzz tester against the stringmatchlen() function.",
    "LISTPACK <key>",
    "    Show low level info about the listpack encoding of <key>.",
    "PAUSE-CRON <0|1>",
    "    Stop periodic cron job processing.",
    "REPLYBUFFER PEAK-RESET-TIME <NEVER||RESET|time>",
    "    Sets the time (in milliseconds) to wait between client reply buffer peak resets.",
    "    In case NEVER is provided the last observed peak will never be reset",
    "    In case RESET is provided the peak reset time will be restored to the default value",
    "REPLYBUFFER RESIZING <0|1>",
    "    Enable or disable the reply buffer resize cron job",
];

/// `DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]`: save (unless NOSAVE), empty
/// the dataset (unless NOFLUSH), load the file back (MERGE: keys already
/// there are replaced instead of refused).
fn reload(cx: &mut Ctx, args: &Args) -> CmdResult {
    let (mut merge, mut flush, mut save) = (false, true, true);
    for opt in args.from(2) {
        match opt.to_ascii_lowercase().as_slice() {
            b"merge" => merge = true,
            b"noflush" => flush = false,
            b"nosave" => save = false,
            _ => return Err(CmdError::msg("ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.")),
        }
    }
    let now = cx.now;
    // An AOF rewrite in progress gets its base from the dataset before.
    cx.srv.finish_aof_rewrite_now(now);
    if save {
        cx.srv.kill_bgsave();
        cx.srv.save_now(now).map_err(|_| CmdError::msg("ERR"))?;
    }
    if flush {
        for db in 0..cx.srv.dbs.len() {
            cx.srv.touch_db(db, None, now);
            cx.srv.dbs[db].clear();
        }
        // Redis's emptyData: the functions go too (the file has them).
        crate::script::with_made_engine(|e| e.edit_libraries(Vec::clear));
    }
    if let Err(e) = cx.srv.load_now(merge, now) {
        log::warn!("{e}");
        return Err(CmdError::msg("ERR Error trying to load the RDB dump"));
    }
    log::warn!("DB reloaded by DEBUG RELOAD");
    cx.out.ok();
    Ok(())
}

/// `DEBUG LOADAOF`: the AOF's pending writes go to disk, the dataset is
/// emptied and the AOF's files loaded again. As in Redis 7.0, a failure
/// (no AOF at all, a corrupt file) ends the server.
fn loadaof(cx: &mut Ctx) -> CmdResult {
    // Not over a load in progress (DEBUG may run while loading).
    if cx.srv.loading() {
        return Err(CmdError::msg("LOADING Redis is loading the dataset in memory"));
    }
    let now = cx.now;
    match cx.srv.debug_loadaof(now) {
        Ok(()) => {
            cx.srv.stats.dirty = 0;
            log::warn!("Append Only File loaded by DEBUG LOADAOF");
            cx.out.ok();
        }
        Err(e) => {
            log::warn!("{e}");
            cx.srv.requests.fatal = Some(e);
        }
    }
    Ok(())
}

/// # Format
/// `DEBUG subcommand [argument ...]`:
/// `DIGEST`, `DIGEST-VALUE key [key ...]`, `POPULATE count [prefix] [size]`,
/// `PROTOCOL type`, `OBJECT key`, `LISTPACK key`, `SLEEP seconds`,
/// `SET-ACTIVE-EXPIRE 0|1`, `QUICKLIST-PACKED-THRESHOLD size`,
/// `REPLYBUFFER PEAK-RESET-TIME never|reset|ms`, `REPLYBUFFER RESIZING 0|1`,
/// `SET-DISABLE-DENY-SCRIPTS 0|1`, `CHANGE-REPL-ID`, `STRINGMATCH-TEST`,
/// `LOG message`, `ERROR string`, `RELOAD [option ...]`, `LOADAOF`, `HELP`.
fn debug(cx: &mut Ctx, args: &Args) -> CmdResult {
    let sub = c_str(args.get(1)).to_ascii_lowercase();
    let argc = args.len();
    match (sub.as_slice(), argc) {
        (b"help", 2) => help(&mut cx.out, "DEBUG", HELP),
        (b"log", 3) => {
            log::warn!("DEBUG LOG: {}", lossy(c_str(args.get(2))));
            cx.out.ok();
        }
        (b"error", 3) => {
            // The argument is the whole error line, code included, written
            // as a plain reply: Redis counts it neither as an error nor as a
            // failed call.
            cx.out.error(&lossy(args.get(2)));
        }
        (b"object", 3) => object(cx, args.get(2))?,
        (b"reload", _) => reload(cx, args)?,
        (b"loadaof", _) => loadaof(cx)?,
        (b"listpack", 3) => listpack(cx, args.get(2))?,
        (b"populate", 3..=5) => populate(cx, args)?,
        (b"digest", 2) => {
            let d = dataset_digest(&cx.srv.dbs);
            cx.out.simple(&hex(&d));
        }
        (b"digest-value", _) => {
            let db = &cx.srv.dbs[cx.srv.client(cx.key).db];
            let digests: Vec<[u8; 20]> = args.from(2).map(|k| db.get_raw(k).map_or([0; 20], value_digest)).collect();
            cx.out.array(digests.len());
            digests.iter().for_each(|d| cx.out.simple(&hex(d)));
        }
        (b"protocol", 3) => protocol(cx, args.get(2))?,
        (b"sleep", 3) => {
            // `strtod` of the argument, in whole microseconds, as Redis;
            // capped at an hour so a slip cannot hang the server for good.
            let micros = (strtod_prefix(args.get(2)) * 1e6) as i64;
            if micros > 0 {
                std::thread::sleep(std::time::Duration::from_micros(micros.min(3_600_000_000) as u64));
            }
            cx.out.ok();
        }
        (b"segfault", 2) => {
            // Redis's DEBUG SEGFAULT: the crash report and the signal's
            // end (see `process::install_crash_signals`).
            // SAFETY: raise sends this process a signal; nothing else.
            unsafe { libc::raise(libc::SIGSEGV) };
            cx.out.ok();
        }
        (b"config-rewrite-force-all", 2) => {
            super::server::rewrite_config_file(cx, true).map_err(|e| {
                CmdError::msg(format!("ERR CONFIG-REWRITE-FORCE-ALL failed: {}", crate::config::strerror(&e)))
            })?;
            cx.out.ok();
        }
        (b"pause-cron", 3) => {
            cx.srv.debug.pause_cron = atoi(args.get(2)) != 0;
            cx.out.ok();
        }
        (b"set-active-expire", 3) => {
            cx.srv.active_expire = atoi(args.get(2)) != 0;
            cx.out.ok();
        }
        (b"quicklist-packed-threshold", 3) => {
            // Redis's `quicklistisSetPackedThreshold`: at most 4 GB - 1 MB,
            // 0 restores the default.
            match memtoull(args.get(2)).filter(|&n| n <= (1 << 32) - (1 << 20)) {
                Some(n) => cx.srv.debug.quicklist_packed_threshold = if n == 0 { 1 << 30 } else { n },
                None => {
                    return Err(CmdError::msg(
                        "ERR argument must be a memory value bigger than 1 and smaller than 4gb",
                    ));
                }
            }
            cx.out.ok();
        }
        (b"set-skip-checksum-validation", 3) => {
            cx.srv.debug.skip_checksum_validation = atoi(args.get(2)) != 0;
            cx.out.ok();
        }
        (b"set-disable-deny-scripts", 3) => {
            cx.srv.debug.disable_deny_scripts = atoi(args.get(2)) != 0;
            cx.out.ok();
        }
        (b"change-repl-id", 2) => {
            log::info!("Changing replication IDs after receiving DEBUG change-repl-id");
            cx.srv.repl.replid = crate::server::state::random_hex40(&mut cx.srv.rng);
            cx.out.ok();
        }
        (b"stringmatch-test", 2) => {
            // A tenth of Redis's ten million rounds: the loop stops for a
            // fraction of a second, not for seconds.
            stringmatch_fuzz(&mut cx.srv.rng, 1_000_000);
            cx.out.simple("Apparently Redis did not crash: test passed");
        }
        (b"replybuffer", 4) => {
            let (what, value) = (c_str(args.get(2)), c_str(args.get(3)));
            if what.eq_ignore_ascii_case(b"peak-reset-time") {
                cx.srv.debug.reply_buffer_peak_reset_time = if value.eq_ignore_ascii_case(b"never") {
                    -1
                } else if value.eq_ignore_ascii_case(b"reset") {
                    crate::server::state::DebugSettings::default().reply_buffer_peak_reset_time
                } else {
                    args.int(3)?
                };
            } else if what.eq_ignore_ascii_case(b"resizing") {
                cx.srv.debug.reply_buffer_resizing = atoi(value) != 0;
            } else {
                return Err(super::subcommand_syntax_error(args));
            }
            cx.out.ok();
        }
        _ => return Err(super::subcommand_syntax_error(args)),
    }
    Ok(())
}

/// `DEBUG OBJECT key`: Redis's line about the value. The key is looked up
/// as stored (an expired key not yet deleted is shown, as Redis's
/// `dictFind` shows it). `serializedlength` is ferrokv's estimate (the
/// value's bytes, there being no RDB encoder yet); a list adds its node
/// count, average node length, node size limit, compression (none) and
/// the total bytes of its nodes as ferrokv stores them.
fn object(cx: &mut Ctx, key: &[u8]) -> CmdResult {
    let now = cx.now;
    let fill = crate::store::list::Fill::new(cx.srv.config.list_max_listpack_size).get();
    let db = cx.srv.client(cx.key).db;
    let Some(e) = cx.srv.dbs[db].get_raw(key) else {
        return Err(CmdError::msg("ERR no such key"));
    };
    let idle = e.idle_seconds(now);
    let mut line = format!(
        "Value at:{:p} refcount:{} encoding:{} serializedlength:{} lru:{} lru_seconds_idle:{idle}",
        &e.value,
        e.value.refcount(),
        e.value.encoding(),
        e.value.serialized_len(),
        (now / 1000).saturating_sub(idle) & 0xFF_FFFF,
    );
    if let Value::List(l) = &e.value {
        let (nodes, bytes) = l.node_sizes().fold((0usize, 0usize), |(n, b), s| (n + 1, b + s));
        let avg = l.len() as f64 / nodes.max(1) as f64;
        let _ = write!(
            line,
            " ql_nodes:{nodes} ql_avg_node:{avg:.2} ql_listpack_max:{fill} ql_compressed:0 ql_uncompressed_size:{bytes}"
        );
    }
    cx.out.simple(&line);
    Ok(())
}

// ---------------------------------------------------------------------------
// DIGEST and DIGEST-VALUE (Redis's computeDatasetDigest / xorObjectDigest)
// ---------------------------------------------------------------------------

fn sha1(data: &[u8]) -> [u8; 20] {
    sha1_smol::Sha1::from(data).digest().bytes()
}

/// Redis's `xorDigest`: `digest ^= SHA1(data)`. Order does not matter,
/// so it "adds" unordered elements (set members, hash pairs, keys).
fn xor_digest(digest: &mut [u8; 20], data: &[u8]) {
    let h = sha1(data);
    digest.iter_mut().zip(h).for_each(|(d, h)| *d ^= h);
}

/// Redis's `mixDigest`: `digest = SHA1(digest ^ SHA1(data))`, which
/// depends on order (list elements, a key then its value).
fn mix_digest(digest: &mut [u8; 20], data: &[u8]) {
    xor_digest(digest, data);
    *digest = sha1(digest);
}

/// Redis's object type numbers (`OBJ_STRING` ...), mixed into a value's
/// digest.
fn type_code(v: &Value) -> u32 {
    match v {
        Value::Str(_) => 0,
        Value::List(_) => 1,
        Value::Set(_) => 2,
        Value::ZSet(_) => 3,
        Value::Hash(_) => 4,
        Value::Stream(_) => 6,
    }
}

/// Redis's `xorObjectDigest`: continues `d` (not reset) with the value of
/// entry `e`:
///
/// - the type number, big-endian, mixed in;
/// - a string: its bytes mixed in (an integer as its decimal text);
/// - a list: each element mixed in, head to tail;
/// - a set: each member xored in;
/// - a sorted set: per member, the digest of the member then its score
///   printed with C's `%.17g`, that digest xored in (through its SHA1);
/// - a hash: per pair, the digest of the field then the value, xored in;
/// - a stream: per entry, `ms.seq` then each field and value mixed in;
/// - then `!!expire!!` xored in when the key has a TTL.
///
/// Every element is read as its text, so the encodings do not matter.
fn object_digest(d: &mut [u8; 20], e: &Entry) {
    let v = &e.value;
    mix_digest(d, &type_code(v).to_be_bytes());
    match v {
        Value::Str(s) => mix_digest(d, s),
        Value::List(l) => {
            let mut buf = itoa::Buffer::new();
            l.for_range(0, -1, |el| mix_digest(d, el.bytes(&mut buf)));
        }
        Value::Set(s) => s.iter().for_each(|m| m.with_bytes(|b| xor_digest(d, b))),
        Value::ZSet(z) => {
            for (member, score) in z.iter() {
                let mut ele = [0u8; 20];
                mix_digest(&mut ele, member);
                mix_digest(&mut ele, crate::resp::reply::format_double(score).as_bytes());
                xor_digest(d, &ele);
            }
        }
        Value::Hash(h) => {
            for (field, value) in h.iter() {
                let mut ele = [0u8; 20];
                mix_digest(&mut ele, field);
                mix_digest(&mut ele, value);
                xor_digest(d, &ele);
            }
        }
        Value::Stream(st) => {
            // Per entry: `ms.seq`, then each field and value mixed in.
            let (mut fb, mut vb) = (itoa::Buffer::new(), itoa::Buffer::new());
            st.range(StreamId::MIN, StreamId::MAX, false, |lp, e| {
                mix_digest(d, format!("{}.{}", e.id.ms, e.id.seq).as_bytes());
                Stream::fields(lp, e, |f, v| {
                    mix_digest(d, f.bytes(&mut fb));
                    mix_digest(d, v.bytes(&mut vb));
                });
                true
            });
        }
    }
    if e.has_ttl() {
        xor_digest(d, b"!!expire!!");
    }
}

/// The digest DEBUG DIGEST-VALUE prints for one value: [`object_digest`]
/// from zero (the key is not part of it).
pub fn value_digest(e: &Entry) -> [u8; 20] {
    let mut d = [0u8; 20];
    object_digest(&mut d, e);
    d
}

/// The digest of the whole dataset (DEBUG DIGEST, Redis's
/// `computeDatasetDigest`): for each non-empty database in order, its
/// number (big-endian u32) is mixed into the result, then each key's
/// digest (the key mixed into zero, continued by [`object_digest`]) is
/// xored in. Keys not yet deleted after their TTL count, as in Redis. An
/// empty dataset gives 20 zero bytes.
pub fn dataset_digest(dbs: &[Db]) -> [u8; 20] {
    let mut out = [0u8; 20];
    for (j, db) in dbs.iter().enumerate() {
        if db.is_empty() {
            continue;
        }
        mix_digest(&mut out, &(j as u32).to_be_bytes());
        for (key, e) in db.iter_raw() {
            let mut d = [0u8; 20];
            mix_digest(&mut d, key);
            object_digest(&mut d, e);
            xor_digest(&mut out, &d);
        }
    }
    out
}

/// Lower-case hex, two digits a byte.
fn hex(d: &[u8]) -> String {
    d.iter().fold(String::with_capacity(2 * d.len()), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}
// ---------------------------------------------------------------------------
// POPULATE
// ---------------------------------------------------------------------------

/// `DEBUG POPULATE count [prefix] [size]`: string keys `<prefix>:<j>` (the
/// prefix `key` by default) for `j` in `0..count`, in the selected
/// database, each holding `value:<j>` — cut or padded with zero bytes to
/// `size` when a size is given — skipping keys that exist. As in Redis the
/// key name is built in a 128-byte C buffer (cut at 127 bytes, the prefix
/// read up to a NUL), each new key counts as modified (WATCH, tracking)
/// and raises `new`, and nothing else is notified. Unlike Redis, which
/// would try to allocate it, a size above `proto-max-bulk-len` is refused
/// with the text of the string commands.
fn populate(cx: &mut Ctx, args: &Args) -> CmdResult {
    const MUST_BE_POSITIVE: &str = "ERR value is out of range, must be positive";
    let count = args.int_in(2, 0, i64::MAX, MUST_BE_POSITIVE)? as u64;
    let size = if args.len() == 5 { args.int_in(4, 0, i64::MAX, MUST_BE_POSITIVE)? as u64 } else { 0 };
    if size > cx.srv.config.proto_max_bulk_len {
        return Err(CmdError::msg("ERR string exceeds maximum allowed size (proto-max-bulk-len)"));
    }
    let prefix: &[u8] = if args.len() == 3 { b"key" } else { c_str(args.get(3)) };
    let (now, db) = (cx.now, cx.db_index());
    let mut num = itoa::Buffer::new();
    let mut key = Vec::with_capacity(128);
    for j in 0..count {
        key.clear();
        key.extend_from_slice(prefix);
        key.push(b':');
        key.extend_from_slice(num.format(j).as_bytes());
        key.truncate(127);
        if cx.srv.dbs[db].contains(&key, now) {
            continue;
        }
        let mut value = Vec::with_capacity(if size == 0 { 16 } else { size as usize });
        value.extend_from_slice(b"value:");
        value.extend_from_slice(num.format(j).as_bytes());
        if size > 0 {
            value.resize(size as usize, 0);
        }
        cx.srv.dbs[db].set(&key, Value::Str(Bytes::from_vec(value)), crate::store::Expiry::None, now);
        cx.srv.signal_modified(db, &key, Cause::Write);
    }
    cx.out.ok();
    Ok(())
}

// ---------------------------------------------------------------------------
// PROTOCOL
// ---------------------------------------------------------------------------

/// `DEBUG PROTOCOL type`: one test value of each reply type, written as
/// Redis writes it in the client's protocol (a RESP2 client gets the RESP2
/// form: doubles and big numbers as bulk strings, booleans as 1 and 0, no
/// attribute, and an error for a push).
fn protocol(cx: &mut Ctx, name: &[u8]) -> CmdResult {
    let name = c_str(name).to_ascii_lowercase();
    let out = &mut cx.out;
    match name.as_slice() {
        b"string" => out.bulk(b"Hello World"),
        b"integer" => out.int(12345),
        // Redis's test value, not an approximation of pi.
        #[allow(clippy::approx_constant)]
        b"double" => out.double(3.141),
        b"bignum" => out.bignum(b"1234567999999999999999999999999999999"),
        b"null" => out.null(),
        b"array" | b"set" => {
            if name == b"array" {
                out.array(3);
            } else {
                out.set(3);
            }
            (0..3).for_each(|j| out.int(j));
        }
        b"map" => {
            out.map(3);
            for j in 0..3 {
                out.int(j);
                out.boolean(j == 1);
            }
        }
        b"attrib" => {
            if out.proto == Proto::Resp3 {
                out.attribute(1);
                out.bulk(b"key-popularity");
                out.array(2);
                out.bulk(b"key:123");
                out.int(90);
            }
            // An attribute is no reply: a real one follows it.
            out.bulk(b"Some real reply following the attribute");
        }
        b"push" => {
            if out.proto == Proto::Resp2 {
                return Err(CmdError::msg("ERR RESP2 is not supported by this command"));
            }
            out.push(2);
            out.bulk(b"server-cpu-usage");
            out.int(42);
            // A push is no reply either: a real one follows it.
            out.bulk(b"Some real reply following the push reply");
        }
        b"true" => out.boolean(true),
        b"false" => out.boolean(false),
        b"verbatim" => out.verbatim(b"This is a verbatim\nstring"),
        _ => {
            return Err(CmdError::msg(
                "ERR Wrong protocol type name. Please use one of the following: string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false",
            ));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// LISTPACK
// ---------------------------------------------------------------------------

/// `DEBUG LISTPACK key`: for a listpack-encoded value (a small hash or
/// sorted set), prints on standard output the listpack Redis holds for
/// the same elements — entry by entry, with Redis's `lpRepr` layout and
/// byte encodings — and replies what Redis replies. ferrokv's own compact
/// buffers are laid out differently, so the dump shows the elements in
/// Redis's encoding, built for the occasion (the addresses are those of
/// that copy).
fn listpack(cx: &mut Ctx, key: &[u8]) -> CmdResult {
    let now = cx.now;
    let Some(e) = cx.db().peek(key, now) else {
        return Err(CmdError::msg("ERR no such key"));
    };
    let elements: Vec<Vec<u8>> = match &e.value {
        Value::Hash(h) if h.encoding() == "listpack" => h.iter().flat_map(|(f, v)| [f.to_vec(), v.to_vec()]).collect(),
        Value::ZSet(z) if z.is_listpack() => z.iter().flat_map(|(m, s)| [m.to_vec(), listpack_score(s)]).collect(),
        _ => return Err(CmdError::msg("ERR Not a listpack encoded object.")),
    };
    let text = lp_repr(&elements);
    let _ = std::io::Write::write_all(&mut std::io::stdout().lock(), text.as_bytes());
    cx.out.simple("Listpack structure printed on stdout");
    Ok(())
}

/// A score as a listpack stores it: an integral score (within 2^52) as
/// its integer text, zero as `0`, anything else with `%.17g` (Redis 7.0's
/// `d2string`, through which `zzlInsertAt` writes scores).
fn listpack_score(score: f64) -> Vec<u8> {
    if score == 0.0 {
        return b"0".to_vec();
    }
    if score > -4503599627370495.0 && score < 4503599627370496.0 && score == (score as i64) as f64 {
        return itoa::Buffer::new().format(score as i64).as_bytes().to_vec();
    }
    crate::resp::reply::format_double(score).into_bytes()
}

/// One listpack entry as Redis encodes it (`lpEncodeGetType` and friends):
/// the header with the payload, and the header's own length.
fn lp_encode(s: &[u8]) -> (Vec<u8>, usize) {
    if let Some(v) = canonical_int(s) {
        let enc = match v {
            0..=127 => vec![v as u8],
            -4096..=4095 => {
                let u = (if v < 0 { (1 << 13) + v } else { v }) as u16;
                vec![0xC0 | (u >> 8) as u8, u as u8]
            }
            -32768..=32767 => [&[0xF1][..], &(v as i16).to_le_bytes()].concat(),
            -8388608..=8388607 => [&[0xF2][..], &(v as i32).to_le_bytes()[..3]].concat(),
            -2147483648..=2147483647 => [&[0xF3][..], &(v as i32).to_le_bytes()].concat(),
            _ => [&[0xF4][..], &v.to_le_bytes()].concat(),
        };
        return (enc, 1);
    }
    let len = s.len();
    let (mut enc, hdr) = if len < 64 {
        (vec![0x80 | len as u8], 1)
    } else if len < 4096 {
        (vec![0xE0 | (len >> 8) as u8, len as u8], 2)
    } else {
        ([&[0xF0][..], &(len as u32).to_le_bytes()].concat(), 5)
    };
    enc.extend_from_slice(s);
    (enc, hdr)
}

/// Redis's `lpEncodeBacklen`: an entry's length written to be read
/// backwards, 7 bits a byte.
fn lp_backlen(l: usize) -> Vec<u8> {
    let l = l as u64;
    let cont = |shift: u32| ((l >> shift) & 127) as u8 | 128;
    match l {
        0..=127 => vec![l as u8],
        128..16383 => vec![(l >> 7) as u8, cont(0)],
        16383..2097151 => vec![(l >> 14) as u8, cont(7), cont(0)],
        2097151..268435455 => vec![(l >> 21) as u8, cont(14), cont(7), cont(0)],
        _ => vec![(l >> 28) as u8, cont(21), cont(14), cont(7), cont(0)],
    }
}

/// The listpack of `elements` in Redis's layout (total bytes, element
/// count, entries, `0xFF`), printed like Redis's `lpRepr`.
fn lp_repr(elements: &[Vec<u8>]) -> String {
    let mut lp = vec![0u8; 6];
    // (offset, header length, encoded length, backlen length)
    let mut entries = Vec::with_capacity(elements.len());
    for s in elements {
        let (enc, hdr) = lp_encode(s);
        let back = lp_backlen(enc.len());
        entries.push((lp.len(), hdr, enc.len(), back.len()));
        lp.extend_from_slice(&enc);
        lp.extend_from_slice(&back);
    }
    lp.push(0xFF);
    let total = lp.len();
    lp[..4].copy_from_slice(&(total as u32).to_le_bytes());
    lp[4..6].copy_from_slice(&(elements.len().min(65535) as u16).to_le_bytes());
    let mut out = format!("{{total bytes {total}}} {{num entries {}}}\n", elements.len());
    for (index, (&(off, hdr, enc, back), s)) in entries.iter().zip(elements).enumerate() {
        let _ = write!(
            out,
            "{{\n\taddr: 0x{:08x},\n\tindex: {index:2},\n\toffset: {off:1},\n\thdr+entrylen+backlen: {:2},\n\thdrlen: {hdr:3},\n\tbacklen: {back:2},\n\tpayload: {:1}\n\tbytes: ",
            lp.as_ptr() as usize + off,
            enc + back,
            enc - hdr,
        );
        lp[off..off + enc + back].iter().for_each(|b| {
            let _ = write!(out, "{b:02x}|");
        });
        out.push_str("\n\t[str]");
        if s.len() > 40 {
            out.push_str(&lossy(&s[..40]));
            out.push_str("...");
        } else {
            out.push_str(&lossy(s));
        }
        out.push_str("\n}\n");
    }
    out.push_str("{end}\n\n");
    out
}

// ---------------------------------------------------------------------------
// STRINGMATCH-TEST
// ---------------------------------------------------------------------------

/// Redis's `stringmatchlen_fuzz_test`: `cycles` random patterns and
/// strings (up to 31 bytes each, bytes below 128) through the glob matcher,
/// which must come back every time; prints the match count on standard
/// output as Redis does and returns it.
fn stringmatch_fuzz(rng: &mut crate::store::rand::Rng, cycles: u32) -> u64 {
    let (mut s, mut p) = ([0u8; 32], [0u8; 32]);
    let mut total = 0u64;
    let fill = |buf: &mut [u8], rng: &mut crate::store::rand::Rng| {
        for chunk in buf.chunks_mut(8) {
            let r = rng.next_u64().to_le_bytes();
            chunk.iter_mut().zip(r).for_each(|(b, r)| *b = r & 0x7F);
        }
    };
    for _ in 0..cycles {
        let (slen, plen) = (rng.below(32), rng.below(32));
        fill(&mut s[..slen], rng);
        fill(&mut p[..plen], rng);
        total += u64::from(crate::glob::matches(&p[..plen], &s[..slen], false));
    }
    let _ = std::io::Write::write_all(&mut std::io::stdout().lock(), format!("Total matches: {total}\n").as_bytes());
    total
}

// ---------------------------------------------------------------------------
// Arguments read as C reads them
// ---------------------------------------------------------------------------

/// C's `strtod(s, NULL)` for decimal input: the longest prefix (after
/// leading space) that reads as a number — `[sign] digits [. digits]
/// [e [sign] digits]`, or `inf`/`infinity`/`nan` — else 0. Hexadecimal
/// floats read as their leading `0`.
fn strtod_prefix(s: &[u8]) -> f64 {
    let s = c_str(s);
    let s = &s[s.iter().position(|&b| !is_c_space(b)).unwrap_or(s.len())..];
    let sign_len = usize::from(matches!(s.first(), Some(b'-' | b'+')));
    let body = &s[sign_len..];
    let sign = if s.first() == Some(&b'-') { -1.0 } else { 1.0 };
    let starts = |w: &[u8]| body.len() >= w.len() && body[..w.len()].eq_ignore_ascii_case(w);
    if starts(b"inf") {
        return sign * f64::INFINITY;
    }
    if starts(b"nan") {
        return f64::NAN;
    }
    let digits = |from: usize| body.get(from..).map_or(0, |r| r.iter().take_while(|b| b.is_ascii_digit()).count());
    let int = digits(0);
    let mut end = int;
    let mut frac = 0;
    if body.get(end) == Some(&b'.') {
        frac = digits(end + 1);
        end += 1 + frac;
    }
    if int + frac == 0 {
        return 0.0;
    }
    if matches!(body.get(end), Some(b'e' | b'E')) {
        let sign_at = end + 1;
        let exp_from = sign_at + usize::from(matches!(body.get(sign_at), Some(b'-' | b'+')));
        let n = digits(exp_from);
        if n > 0 {
            end = exp_from + n;
        }
    }
    let text = String::from_utf8_lossy(&s[..sign_len + end]);
    text.parse().unwrap_or(0.0)
}

/// Redis's `memtoull`: digits then an optional unit (`b`, `k` = 1000,
/// `kb` = 1024, `m`, `mb`, `g`, `gb`, any case); `None` for anything else
/// or an overflow. No digits read as 0, as `strtoull` gives.
fn memtoull(s: &[u8]) -> Option<u64> {
    let s = c_str(s);
    if s.first() == Some(&b'-') {
        return None;
    }
    let ndigits = s.iter().take_while(|b| b.is_ascii_digit()).count();
    let unit = s[ndigits..].to_ascii_lowercase();
    let mul: u64 = match unit.as_slice() {
        b"" | b"b" => 1,
        b"k" => 1000,
        b"kb" => 1024,
        b"m" => 1000 * 1000,
        b"mb" => 1024 * 1024,
        b"g" => 1000 * 1000 * 1000,
        b"gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    if ndigits >= 128 {
        return None;
    }
    // strtoull saturates on overflow (and Redis does not look at ERANGE).
    let val = s[..ndigits].iter().fold(0u64, |n, &b| n.saturating_mul(10).saturating_add((b - b'0') as u64));
    val.checked_mul(mul)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strtod_reads_the_longest_prefix() {
        for (s, n) in [
            (&b"0.5"[..], 0.5),
            (b"0.5abc", 0.5),
            (b" 2", 2.0),
            (b"-1.5e1x", -15.0),
            (b"1e", 1.0),
            (b"1e+", 1.0),
            (b".5", 0.5),
            (b"5.", 5.0),
            (b"abc", 0.0),
            (b"-", 0.0),
            (b".", 0.0),
            (b"", 0.0),
        ] {
            assert_eq!(strtod_prefix(s), n, "{}", lossy(s));
        }
        assert_eq!(strtod_prefix(b"-Infinity"), f64::NEG_INFINITY);
        assert!(strtod_prefix(b"nan").is_nan());
    }

    #[test]
    fn memtoull_takes_redis_units() {
        for (s, n) in [
            (&b""[..], Some(0)),
            (b"k", Some(0)),
            (b"12", Some(12)),
            (b"1k", Some(1000)),
            (b"1KB", Some(1024)),
            (b"2mb", Some(2 << 20)),
            (b"3g", Some(3_000_000_000)),
            (b"00012", Some(12)),
            (b"1b", Some(1)),
            (b"-1", None),
            (b"+5", None),
            (b" 5", None),
            (b"5 ", None),
            (b"1.5k", None),
            (b"1kib", None),
            (b"99999999999999999999", Some(u64::MAX)),
            (b"99999999999999999999k", None),
        ] {
            assert_eq!(memtoull(s), n, "{}", lossy(s));
        }
    }

    #[test]
    fn listpack_entries_encode_like_redis() {
        // Bytes as Redis 7.0.15's DEBUG LISTPACK printed them.
        let entry = |s: &[u8]| {
            let (mut e, _) = lp_encode(s);
            e.extend(lp_backlen(e.len()));
            e
        };
        assert_eq!(entry(b"a"), [0x81, 0x61, 0x02]);
        assert_eq!(entry(b"12"), [0x0c, 0x01]);
        assert_eq!(entry(b"-3"), [0xdf, 0xfd, 0x02]);
        assert_eq!(entry(b"1.5"), [0x83, 0x31, 0x2e, 0x35, 0x04]);
        assert_eq!(entry(b"100000"), [0xf2, 0xa0, 0x86, 0x01, 0x04]);
        assert_eq!(entry(b"-5"), [0xdf, 0xfb, 0x02]);
        assert_eq!(entry(b"1000"), [0xc3, 0xe8, 0x02]);
        assert_eq!(entry(b"-0")[..2], [0x82, b'-']);
        assert_eq!(lp_backlen(127), [127]);
        assert_eq!(lp_backlen(128), [1, 128]);
        assert_eq!(lp_backlen(16383), [0, 255, 255]);
        let long = vec![b'x'; 200];
        assert_eq!(entry(&long)[..2], [0xE0, 200]);
        assert_eq!(entry(&long)[202..], [0x01, 0xCA]);
    }

    #[test]
    fn listpack_scores_print_like_d2string() {
        assert_eq!(listpack_score(2.0), b"2");
        assert_eq!(listpack_score(-0.0), b"0");
        assert_eq!(listpack_score(1.5), b"1.5");
        assert_eq!(listpack_score(1.1), b"1.1000000000000001");
        assert_eq!(listpack_score(4503599627370496.0), b"4503599627370496");
        assert_eq!(listpack_score(f64::INFINITY), b"inf");
    }

    #[test]
    fn lp_repr_layout() {
        let text = lp_repr(&[b"a".to_vec(), b"12".to_vec()]);
        assert!(text.starts_with("{total bytes 12} {num entries 2}\n{\n\taddr: 0x"), "{text}");
        assert!(
            text.contains(
                ",\n\tindex:  0,\n\toffset: 6,\n\thdr+entrylen+backlen:  3,\n\thdrlen:   1,\n\tbacklen:  1,\n\tpayload: 1\n\tbytes: 81|61|02|\n\t[str]a\n}\n"
            ),
            "{text}"
        );
        assert!(text.contains("\tindex:  1,\n\toffset: 9,\n"), "{text}");
        assert!(text.ends_with("\tbytes: 0c|01|\n\t[str]12\n}\n{end}\n\n"), "{text}");
        let long = lp_repr(&[vec![b'y'; 50]]);
        assert!(long.contains(&format!("[str]{}...\n", "y".repeat(40))), "{long}");
    }

    #[test]
    fn digest_steps_are_redis_mix_and_xor() {
        // SHA1("") is da39a3ee...; xor into zero gives it back, mix hashes
        // that once more.
        let mut d = [0u8; 20];
        xor_digest(&mut d, b"");
        assert_eq!(hex(&d), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        let mut m = [0u8; 20];
        mix_digest(&mut m, b"");
        assert_eq!(m, sha1(&d));
        assert_eq!(hex(&dataset_digest(&[Db::new()])), "0".repeat(40));
    }

    #[test]
    fn stringmatch_fuzz_runs() {
        let mut rng = crate::store::rand::Rng::default();
        let total = stringmatch_fuzz(&mut rng, 20_000);
        // Empty patterns against empty strings alone match now and then.
        assert!(total > 0 && total < 20_000, "{total}");
    }
}
