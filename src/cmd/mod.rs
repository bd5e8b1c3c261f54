//! Commands: the context a handler runs in, its arguments, its errors, and
//! one module per command family. `table` holds the one command table.

pub mod acl;
pub mod bitmap;
pub mod conn;
pub mod debug;
pub mod docs;
pub mod dump;
pub mod function;
pub mod geo;
pub mod hash;
pub mod hll;
pub mod info;
pub mod introspect;
pub mod keys;
pub mod latency;
pub mod list;
pub mod lolwut;
pub mod memory;
pub mod migrate;
pub mod module;
pub mod persist;
pub mod pubsub;
pub mod repl;
pub mod script;
pub mod server;
pub mod set;
pub mod sort;
pub mod stream;
pub mod string;
pub mod table;
pub mod tx;
pub mod zset;

use crate::resp::{Reply, Span, parse::parse_i64};
use crate::server::state::{Blocked, Client, Shared};
use crate::store::{Db, Entry, Value};
pub use acl::Renames;
use std::borrow::Cow;

/// Everything a command handler may touch.
pub struct Ctx<'a> {
    pub srv: &'a mut Shared,
    /// The connection key of the client running the command.
    pub key: usize,
    pub out: Reply<'a>,
    /// Unix time in ms when the command started (one clock per command).
    pub now: u64,
}

impl Ctx<'_> {
    /// The client's selected database.
    pub fn db(&mut self) -> &mut Db {
        let db = self.srv.client(self.key).db;
        &mut self.srv.dbs[db]
    }

    /// The client running the command.
    pub fn client(&mut self) -> &mut Client {
        self.srv.client_mut(self.key)
    }

    /// Index of the client's selected database.
    pub fn db_index(&self) -> usize {
        self.srv.client(self.key).db
    }

    /// Keyspace event `event` (of class `class`, see `server::notify`)
    /// happened to `key` of the client's database: every command that
    /// modifies a key says so here, which also serves WATCH and tracking.
    pub fn notify(&mut self, class: u32, event: &'static str, key: &[u8]) {
        if class != crate::server::notify::STREAM && !self.srv.blocking.is_empty() {
            // A stream a reader waits on may have been deleted or
            // replaced: the loop looks at it (see `stream::reads_group`).
            self.signal_ready(key);
        }
        self.key_event(class, event, key, true);
    }

    /// [`Ctx::notify`] of an event that does not count as modifying the
    /// key for WATCH and tracking (see `Shared::notify_unmodified`).
    pub fn notify_unmodified(&mut self, class: u32, event: &'static str, key: &[u8]) {
        self.key_event(class, event, key, false);
    }

    fn key_event(&mut self, class: u32, event: &'static str, key: &[u8], modified: bool) {
        self.srv.changes.events += 1;
        if self.srv.key_signals {
            let db = self.db_index();
            let from = self.srv.pubsub.outbox.len();
            if modified {
                self.srv.notify(class, event, key, db);
            } else {
                self.srv.notify_unmodified(class, event, key, db);
            }
            self.publish_inline(from);
        } else {
            // `Shared::notify` counts it otherwise (the propagation path).
            self.srv.prop.changes += 1;
        }
    }

    /// Publishes the keyspace events the databases queued so far in this
    /// command (the sorted-set, GEO and SORT handlers queue theirs while
    /// they hold the database), so that a handler whose Redis counterpart
    /// notifies before it replies writes the caller's own pushes first.
    pub fn events_now(&mut self) {
        if self.srv.key_signals {
            let from = self.srv.pubsub.outbox.len();
            self.srv.flush_db_events();
            self.publish_inline(from);
        }
    }

    /// Messages published since outbox index `from` (by PUBLISH, or as
    /// keyspace events of this command) that this client subscribes to
    /// itself are written into its reply stream now, where Redis writes
    /// them (before a reply still to come, after one already written), and
    /// delivery skips this client for them.
    pub fn publish_inline(&mut self, from: usize) {
        if self.srv.in_script_call || !self.srv.client(self.key).subscribed() {
            return;
        }
        let (key, id) = (self.key, self.srv.client(self.key).id);
        for i in from..self.srv.pubsub.outbox.len() {
            let msg = &self.srv.pubsub.outbox[i];
            let targets = self.srv.pubsub.targets(&msg.channel, msg.shard);
            let mut mine = targets.iter().filter(|t| (t.0, t.1) == (key, id)).peekable();
            if mine.peek().is_none() {
                continue;
            }
            let start = self.out.buf.len();
            mine.for_each(|(_, _, pattern)| pubsub::write_message(&mut self.out, msg, pattern.as_deref()));
            self.srv.pubsub.outbox[i].served = Some(key);
            self.keep_push(start);
        }
    }

    /// CLIENT REPLY OFF, or the command after CLIENT REPLY SKIP: what the
    /// command writes from here on is dropped when it ends (pushes aside,
    /// see [`Ctx::keep_push`]). Redis checks its flags at each write; a
    /// region from here to the end of the command, or to CLIENT REPLY ON
    /// inside the same EXEC, drops exactly what Redis drops.
    pub fn mute(&mut self) {
        if self.srv.mute_from.is_none() {
            self.srv.mute_from = Some(self.out.buf.len());
        }
    }

    /// CLIENT REPLY ON (or RESET): drops what was muted so far; what
    /// follows is written again.
    pub fn unmute(&mut self) {
        if let Some(from) = self.srv.mute_from.take() {
            self.out.buf.truncate(from);
        }
    }

    /// The frame written since `start` is a push (a pub/sub confirmation
    /// or message): in Redis these reach the client under CLIENT REPLY OFF
    /// or SKIP too. The muted output before it is dropped now and the push
    /// is kept in front of the muted region.
    pub fn keep_push(&mut self, start: usize) {
        if let Some(from) = self.srv.mute_from {
            self.out.buf.drain(from..start);
            self.srv.mute_from = Some(self.out.buf.len());
        }
    }

    /// Redis's `mustObeyClient`: the command is replayed from the AOF (the
    /// only source ferrokv has that must not be refused), so limits a
    /// client is held to (proto-max-bulk-len, a stream trim's LIMIT) do not
    /// apply: what was accepted once loads again under any config.
    pub fn must_obey(&self) -> bool {
        self.srv.aof.replaying
    }

    /// The biggest string a command may make: proto-max-bulk-len, or no
    /// limit for a command that must be obeyed.
    pub fn bulk_limit(&self) -> u64 {
        if self.must_obey() { u64::MAX } else { self.srv.config.proto_max_bulk_len }
    }

    /// The command changed `n` keys or elements, as Redis counts them in
    /// `server.dirty` (INFO's `rdb_changes_since_last_save`); called, even
    /// with 0, it replaces the default count (see `state::Changes`).
    pub fn dirty(&mut self, n: u64) {
        self.srv.stats.dirty += n;
        self.srv.changes.counted = true;
    }

    /// A write gave `key` data: clients blocked on it may now be served.
    pub fn signal_ready(&mut self, key: &[u8]) {
        let db = self.db_index();
        self.srv.blocking.signal(db, key);
    }

    /// Blocks the client on `keys` until one gets a value of type `wants`
    /// (`"list"`, `"zset"`) with data, or `timeout_ms` passes (`None`:
    /// forever); nothing is replied now. When the loop retries a blocked
    /// command that still finds nothing, this only records that it stays
    /// blocked.
    pub fn block(&mut self, keys: &[&[u8]], wants: &'static str, timeout_ms: Option<u64>, args: &Args) {
        if self.srv.in_exec {
            // Inside MULTI/EXEC a blocking command does not block: it
            // answers like a timeout at once.
            self.out.null_array();
            return;
        }
        if self.srv.blocking.retrying {
            self.srv.blocking.still_blocked = true;
            return;
        }
        let db = self.db_index();
        let keys: Vec<crate::store::Key> = keys.iter().map(|k| (*k).into()).collect();
        let id = self.srv.client(self.key).id;
        self.srv.blocking.add(db, &keys, self.key, id);
        let (data, spans) = args.to_owned_parts();
        let deadline = timeout_ms.map(|t| self.now.saturating_add(t));
        self.client().blocked = Some(Box::new(Blocked { db, keys, wants, deadline, data, spans }));
    }
}

/// The arguments of one command: slices of the read buffer, no copies.
/// Index 0 is the command name.
#[derive(Clone, Copy)]
pub struct Args<'a> {
    data: &'a [u8],
    spans: &'a [Span],
    /// Parsed by the parser's one-pass path (see [`Args::resp_frame`]).
    one_pass: bool,
}

impl<'a> Args<'a> {
    pub fn new(data: &'a [u8], spans: &'a [Span]) -> Args<'a> {
        Args { data, spans, one_pass: false }
    }

    /// A client's request as the parser found it: `one_pass` is its
    /// `Source::Buffer::one_pass`.
    pub fn request(data: &'a [u8], spans: &'a [Span], one_pass: bool) -> Args<'a> {
        Args { data, spans, one_pass }
    }

    pub fn len(&self) -> usize {
        self.spans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Argument `i`; panics if out of range, which the arity check rules out.
    pub fn get(&self, i: usize) -> &'a [u8] {
        let (s, e) = self.spans[i];
        &self.data[s..e]
    }

    /// Arguments from `i` on.
    pub fn from(&self, i: usize) -> impl ExactSizeIterator<Item = &'a [u8]> + 'a {
        let data = self.data;
        self.spans[i.min(self.spans.len())..].iter().map(move |&(s, e)| &data[s..e])
    }

    /// The request's own bytes, when they are exactly the RESP multibulk
    /// encoding of its arguments that `persist::propagate::write_command`
    /// writes: nearly every request a client sends. A command propagated
    /// as called is then copied whole instead of encoded again. For a
    /// request from the parser's one-pass path (`Source::Buffer::one_pass`)
    /// only the bytes it did not read are left to check: the LF after each
    /// header line's CR (the parser found the CR: an argument starts two
    /// bytes after it) and the CR LF after each bulk (the next `$` follows
    /// them). This runs for every propagated command, so it is a few
    /// byte compares per argument, folded into one test.
    #[inline]
    pub fn resp_frame(&self) -> Option<&'a [u8]> {
        if !self.one_pass {
            return None;
        }
        let &(_, last) = self.spans.last()?;
        let frame = self.data.get(..last.checked_add(2)?)?;
        let byte = |i: usize| frame.get(i).copied().unwrap_or(0);
        // `*<n>\r\n`: `n` has 1 to 4 digits (the one-pass path takes at
        // most 1,024 arguments).
        let digits = match self.spans.len() {
            0..10 => 1,
            10..100 => 2,
            100..1000 => 3,
            _ => 4,
        };
        let mut diff = byte(2 + digits) ^ b'\n';
        for &(s, e) in self.spans {
            diff |= (byte(s.wrapping_sub(1)) ^ b'\n') | (byte(e) ^ b'\r') | (byte(e.wrapping_add(1)) ^ b'\n');
        }
        (diff == 0).then_some(frame)
    }

    /// A copy of the arguments (kept by a blocked client to run again).
    pub fn to_owned_parts(&self) -> (Vec<u8>, Vec<Span>) {
        let mut data = Vec::new();
        let mut spans = Vec::with_capacity(self.spans.len());
        for a in self.from(0) {
            spans.push((data.len(), data.len() + a.len()));
            data.extend_from_slice(a);
        }
        (data, spans)
    }

    /// Argument `i` as an integer (Redis's strict parsing).
    pub fn int(&self, i: usize) -> Result<i64, CmdError> {
        parse_int(self.get(i))
    }

    /// Redis's `getRangeLongFromObjectOrReply` with a message: argument `i`
    /// as an integer in `min..=max`, else the error `ERR <msg>` (for a
    /// non-integer too).
    pub fn int_in(&self, i: usize, min: i64, max: i64, msg: &'static str) -> Result<i64, CmdError> {
        parse_i64(self.get(i)).filter(|n| (min..=max).contains(n)).ok_or(CmdError::Msg(msg.into()))
    }
}

/// The arguments a blocked command runs again with when `key` got data:
/// the command narrowed to that key alone, since Redis serves a blocked
/// client from the key that became ready, whatever its other keys hold
/// (`BLPOP a b 0` becomes `BLPOP a 0`, `BLMPOP 0 2 a b LEFT` becomes
/// `BLMPOP 0 1 a LEFT`).
pub fn retry_parts(b: &Blocked, key: &[u8]) -> (Vec<u8>, Vec<Span>) {
    let args = Args::new(&b.data, &b.spans);
    let Some(cmd) = table::lookup(args.get(0)).filter(|_| b.keys.len() > 1) else {
        return (b.data.clone(), b.spans.clone());
    };
    let mut parts: Vec<&[u8]> = Vec::with_capacity(6);
    match cmd.numkeys_at() {
        // XREAD, XREADGROUP: the options, STREAMS, the key and its id.
        _ if cmd.group == "stream" => match stream::retry_parts(&args, key) {
            Some(p) => parts = p,
            None => return (b.data.clone(), b.spans.clone()),
        },
        // BLMPOP, BZMPOP: the arguments before numkeys, then the key, then
        // those after the keys.
        Some(at) => {
            parts.extend(args.from(0).take(at));
            parts.push(b"1");
            parts.push(key);
            parts.extend(args.from(at + 1 + b.keys.len()));
        }
        // BLPOP, BRPOP, BZPOPMIN, BZPOPMAX: keys, then the timeout.
        None => parts.extend([args.get(0), key, args.get(args.len() - 1)]),
    }
    let mut data = Vec::new();
    let mut spans = Vec::with_capacity(parts.len());
    for a in parts {
        spans.push((data.len(), data.len() + a.len()));
        data.extend_from_slice(a);
    }
    (data, spans)
}

/// `numkeys key [key ...] <side> [COUNT count]` from `args[at..]`, the
/// arguments of LMPOP/ZMPOP and (after the timeout) BLMPOP/BZMPOP, checked
/// in Redis's order and with its texts. Returns the keys, whether the side
/// named was `sides[1]` (RIGHT, MAX), and the count (1 if not given).
pub fn parse_mpop<'a>(args: &Args<'a>, at: usize, sides: [&str; 2]) -> Result<(Vec<&'a [u8]>, bool, usize), CmdError> {
    let numkeys = args.int_in(at, 1, i64::MAX, "ERR numkeys should be greater than 0")?;
    let side_at = (numkeys as u64).saturating_add(at as u64 + 1);
    if side_at >= args.len() as u64 {
        return Err(CmdError::Syntax);
    }
    let side_at = side_at as usize;
    let side = match args.get(side_at) {
        w if w.eq_ignore_ascii_case(sides[0].as_bytes()) => false,
        w if w.eq_ignore_ascii_case(sides[1].as_bytes()) => true,
        _ => return Err(CmdError::Syntax),
    };
    let mut count = None;
    let mut i = side_at + 1;
    while i < args.len() {
        if count.is_none() && i + 1 < args.len() && args.get(i).eq_ignore_ascii_case(b"count") {
            count = Some(args.int_in(i + 1, 1, i64::MAX, "ERR count should be greater than 0")? as usize);
            i += 2;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    let keys = (at + 1..side_at).map(|i| args.get(i)).collect();
    Ok((keys, side, count.unwrap_or(1)))
}

/// Parses an integer argument like Redis's `getLongLongFromObject`.
pub fn parse_int(s: &[u8]) -> Result<i64, CmdError> {
    parse_i64(s).ok_or(CmdError::NotInteger)
}

/// An error reply. Each variant renders Redis's exact text in one place.
#[derive(Debug, Clone, PartialEq)]
pub enum CmdError {
    WrongType,
    Syntax,
    NotInteger,
    Overflow,
    /// `invalid expire time in '<cmd>' command`.
    InvalidExpire(&'static str),
    DbIndex,
    /// Any other message; the full text after `-`.
    Msg(Cow<'static, str>),
}

impl CmdError {
    pub fn msg(text: impl Into<Cow<'static, str>>) -> CmdError {
        CmdError::Msg(text.into())
    }

    pub fn text(&self) -> Cow<'static, str> {
        match self {
            CmdError::WrongType => "WRONGTYPE Operation against a key holding the wrong kind of value".into(),
            CmdError::Syntax => "ERR syntax error".into(),
            CmdError::NotInteger => "ERR value is not an integer or out of range".into(),
            CmdError::Overflow => "ERR increment or decrement would overflow".into(),
            CmdError::InvalidExpire(cmd) => format!("ERR invalid expire time in '{cmd}' command").into(),
            CmdError::DbIndex => "ERR DB index is out of range".into(),
            CmdError::Msg(m) => m.clone(),
        }
    }
}

pub type CmdResult = Result<(), CmdError>;

/// Lossy text of an argument, for error messages.
/// The string in `entry`: `None` for no entry, WRONGTYPE for another type
/// (how every string and bitmap command reads its key).
pub fn str_of(entry: Option<&Entry>) -> Result<Option<&[u8]>, CmdError> {
    match entry.map(|e| &e.value) {
        None => Ok(None),
        Some(Value::Str(s)) => Ok(Some(s)),
        Some(_) => Err(CmdError::WrongType),
    }
}

/// Redis's `addReplySubcommandSyntaxError`: the subcommand as the client
/// typed it (a C string: cut at a NUL, and at 128 bytes), the container
/// named in upper case.
pub fn subcommand_syntax_error(args: &Args) -> CmdError {
    let sub = crate::ctext::c_str(args.get(1));
    CmdError::msg(format!(
        "ERR unknown subcommand or wrong number of arguments for '{}'. Try {} HELP.",
        lossy(&sub[..sub.len().min(128)]),
        lossy(args.get(0)).to_ascii_uppercase()
    ))
}

pub fn lossy(b: &[u8]) -> Cow<'_, str> {
    String::from_utf8_lossy(b)
}

/// Redis's text for an unknown command: the name and the first arguments,
/// each cut so the list stays under 128 bytes.
fn unknown_command(args: &Args) -> String {
    let name = lossy(&args.get(0)[..args.get(0).len().min(128)]).into_owned();
    let mut list = String::new();
    for arg in args.from(1) {
        if list.len() >= 128 {
            break;
        }
        let room = 128 - list.len();
        list.push_str(&format!("'{}' ", lossy(&arg[..arg.len().min(room)])));
    }
    format!("ERR unknown command '{name}', with args beginning with: {list}")
}

/// Commands that run at once even inside MULTI.
const MULTI_EXEMPT: &[&str] = &["exec", "discard", "multi", "watch", "quit", "reset"];

/// Looks the command up, checks its arity and runs it — or queues it
/// inside MULTI — writing its reply or its error, and counts it in the
/// per-command statistics. The only place errors are rendered.
pub fn dispatch(cx: &mut Ctx, args: &Args) {
    let reg = table::registry();
    let id = match &cx.srv.renames {
        None => reg.id_hinted(args.get(0), cx.srv.client(cx.key).last_cmd),
        Some(r) => r.id(args.get(0)),
    };
    // The id of what runs: the subcommand for a container given one.
    let run_id = match id {
        Some(top) if !reg.entries[top].cmd.subcommands.is_empty() && args.len() >= 2 => reg.sub_id(top, args.get(1)),
        other => other,
    };
    let now = cx.now;
    let client = cx.client();
    client.last_cmd_ms = now;
    client.last_cmd = run_id;
    let in_multi = client.multi.is_some();
    let acl_free = client.acl_free;
    // The checks before a command runs or is queued, in the order of
    // Redis's processCommand: unknown, arity, not allowed in a transaction,
    // out of memory, not allowed while subscribed (RESP2).
    let checked = match (id, run_id) {
        (None, _) => Err(CmdError::msg(unknown_command(args))),
        (Some(top), None) => Err(CmdError::msg(format!(
            "ERR unknown subcommand '{}'. Try {} HELP.",
            lossy(&args.get(1)[..args.get(1).len().min(128)]),
            reg.entries[top].cmd.name.to_ascii_uppercase()
        ))),
        (Some(_), Some(run)) if !reg.entries[run].cmd.arity_ok(args.len()) => {
            Err(CmdError::msg(format!("ERR wrong number of arguments for '{}' command", reg.entries[run].fullname)))
        }
        // A protected command the configuration does not allow is refused
        // right after the arity check, as in Redis (inside MULTI too).
        (Some(top), Some(run))
            if reg.entries[run].cmd.has(table::flag::PROTECTED)
                && module::protected_refusal(cx.srv, cx.key, reg.entries[top].cmd.name).is_some() =>
        {
            Err(module::protected_refusal(cx.srv, cx.key, reg.entries[top].cmd.name).unwrap_or(CmdError::Syntax))
        }
        (Some(_), Some(run)) if in_multi && reg.entries[run].cmd.has(table::flag::NO_MULTI) => {
            Err(CmdError::msg("ERR Command not allowed inside a transaction"))
        }
        (Some(_), Some(run)) => Ok(run),
    };
    let queue = in_multi && id.is_some_and(|top| !MULTI_EXEMPT.contains(&reg.entries[top].cmd.name));
    let checked = checked.and_then(|run| {
        // Commands replayed from the AOF run as Redis's loader runs them:
        // without the checks below (OOM, MISCONF, LOADING, ...).
        if cx.srv.aof.replaying {
            return Ok(run);
        }
        // Authentication and ACL permissions (Redis checks them right
        // after NO_MULTI); a client no check can refuse skips them.
        if !acl_free {
            acl::gate(cx, run, args)?;
        }
        if cx.srv.config.maxmemory != 0 && !cx.srv.in_exec {
            oom_check(cx, run, args, in_multi)?;
        }
        if cx.srv.tracking.clients > 0 && !cx.srv.in_exec {
            // Where Redis's processCommand calls trackingLimitUsedSlots:
            // what this client hears of it comes before its reply.
            cx.srv.limit_tracking_table();
            let id = cx.srv.client(cx.key).id;
            cx.srv.tracking.take_sends_to(cx.key, id, cx.out.buf);
        }
        // After a failed save (stop-writes-on-bgsave-error), writes and
        // PING get MISCONF, as in Redis.
        let cmd = reg.entries[run].cmd;
        // A script that declared it writes counts as a write (only looked
        // up when a check below needs it).
        let writes = || cmd.has(table::flag::WRITE) || script::declared(cmd.name, args).is_some_and(|d| d.0);
        if cx.srv.writes_refused() && (cmd.name == "ping" || writes()) {
            return Err(CmdError::msg(crate::server::persistence::MISCONF));
        }
        // Writes to the AOF fail (disk full, EIO): writes are refused
        // until the writer thread succeeds again, as in Redis.
        if let Some(e) = cx.srv.aof_write_error()
            && (cmd.name == "ping" || writes())
        {
            return Err(CmdError::msg(format!("MISCONF Errors writing to the AOF file: {e}")));
        }
        // Redis's min-replicas check, in MULTI at queue time.
        if cx.srv.config.min_replicas_to_write > 0 && writes() && cx.srv.too_few_replicas(cx.now) {
            return Err(CmdError::msg("NOREPLICAS Not enough good replicas to write."));
        }
        if cx.srv.loading() && !cmd.has(table::flag::LOADING) {
            return Err(CmdError::msg("LOADING Redis is loading the dataset in memory"));
        }
        let c = cx.srv.client(cx.key);
        // Inside EXEC the queued commands run whatever they subscribed to.
        if c.proto == crate::resp::Proto::Resp2
            && c.subscribed()
            && !cx.srv.in_exec
            && !pubsub::ALLOWED_WHEN_SUBSCRIBED.contains(&reg.entries[id.unwrap_or(run)].cmd.name)
        {
            return Err(pubsub::not_allowed(&reg.entries[run].fullname));
        }
        // A script past busy-reply-threshold: only `allow_busy` commands.
        if let Some(busy) = crate::script::busy::rejecting()
            && !cmd.has(table::flag::ALLOW_BUSY)
        {
            return Err(CmdError::msg(busy));
        }
        Ok(run)
    });
    if checked.is_err()
        && let Some(run) = run_id
    {
        // Redis's rejected_calls: a known command refused before running.
        cx.srv.stats.command(run).rejected += 1;
    }
    if queue && checked.is_ok() {
        let queued = args.to_owned_parts();
        let c = cx.client();
        if let Some(q) = c.multi.as_mut() {
            c.multi_bytes += queued.0.capacity() + queued.1.capacity() * std::mem::size_of::<crate::resp::Span>();
            q.push(queued);
        }
        cx.out.simple("QUEUED");
        return;
    }
    // Rejected before running (unknown, arity, not allowed in MULTI): such
    // an error inside MULTI makes EXEC abort.
    let rejected = checked.is_err();
    let result = checked.and_then(|run| {
        let cmd = reg.entries[run].cmd;
        // One clock read per command: a command starts when the previous
        // one ended (the loop resets the mark before each batch).
        let start = cx.srv.cmd_clock;
        if cx.srv.persist.snapshot.is_some() && cmd.has(table::flag::WRITE) {
            let db = cx.db_index();
            let now = cx.now;
            cx.srv.snapshot_before_command(db, cmd, args, now);
        }
        let no_touch = cx.srv.client(cx.key).no_touch && cmd.name != "touch";
        // CLIENT NO-TOUCH, for this command (EXEC's commands set their own).
        let outer_touch = cx.srv.dbs.first().is_some_and(|d| d.no_touch);
        if no_touch != outer_touch {
            cx.srv.dbs.iter_mut().for_each(|d| d.no_touch = no_touch);
        }
        // The propagation path's mark (see `persist::propagate`).
        // PFCOUNT is read-only yet writes its cached cardinality back and
        // is then propagated, as in Redis.
        let mark = if cmd.has(table::flag::WRITE) || cmd.name == "pfcount" { cx.srv.prop_mark() } else { None };
        // EXEC runs commands through here: each counts its own changes.
        let outer = std::mem::take(&mut cx.srv.changes);
        let was_executing = std::mem::replace(&mut cx.srv.executing, true);
        let result = (cmd.handler)(cx, args);
        cx.srv.executing = was_executing;
        let changes = std::mem::replace(&mut cx.srv.changes, outer);
        if !changes.counted && changes.events > 0 && cmd.has(table::flag::WRITE) {
            cx.srv.stats.dirty += 1;
        }
        if cx.srv.prop.on {
            let db = cx.db_index();
            cx.srv.after_call(db, reg.entries[run].form, args, mark, result.is_ok(), cx.now);
        }
        if no_touch != outer_touch {
            cx.srv.dbs.iter_mut().for_each(|d| d.no_touch = outer_touch);
        }
        let end = crate::clock::mono_ns();
        cx.srv.cmd_clock = end;
        let nanos = end.saturating_sub(start);
        let micros = nanos / 1000;
        // As Redis 7.0.15 counts a blocking command: one call (and one
        // command processed) when it blocks, its latency and slowlog entry
        // left for when it is served; served (the loop runs it again) it
        // adds its time, a failure, the latency and the slowlog entry but
        // no second call and no MONITOR line; a retry that stays blocked
        // counts nothing. Rejected or queued commands are not counted.
        let retry = cx.srv.blocking.retrying;
        let blocked = if retry { cx.srv.blocking.still_blocked } else { cx.srv.client(cx.key).blocked.is_some() };
        if !(retry && blocked) {
            let tracking = cx.srv.config.latency_tracking;
            if !retry {
                cx.srv.stats.commands_processed += 1;
            }
            let stat = cx.srv.stats.command(run);
            stat.calls += u64::from(!retry);
            stat.usec += micros;
            if result.is_err() {
                stat.failed += 1;
            }
            if tracking && !blocked {
                stat.hist.get_or_insert_default().record(nanos);
            }
            if cx.srv.config.latency_monitor_threshold > 0 && !retry {
                let event = if cmd.has(table::flag::FAST) { "fast-command" } else { "command" };
                cx.srv.latency_event(event, micros);
            }
            introspect::after_call(cx, cmd, args, micros, !retry, !blocked);
        }
        if cmd.has(table::flag::READONLY) && cx.srv.tracking.clients > 0 {
            // A key the read found expired is invalidated first (it was
            // deleted), then remembered as read, as in Redis: else the
            // client would not hear of the key's next write.
            if cx.srv.key_signals {
                cx.srv.flush_db_events();
            }
            remember_keys(cx, cmd, args);
        }
        result
    });
    if cx.srv.key_signals {
        cx.srv.flush_db_events();
    }
    if cx.srv.tracking.clients > 0 && !cx.srv.in_exec {
        // CLIENT CACHING lasts for one command: the next one that is not
        // CLIENT, or the whole of a transaction.
        let keeps = id.is_some_and(|top| reg.entries[top].cmd.name == "client");
        let c = cx.client();
        if !keeps
            && c.multi.is_none()
            && let Some(t) = c.tracking.as_deref_mut()
        {
            t.caching = false;
        }
    }
    if let Err(e) = result {
        if in_multi && rejected {
            cx.client().multi_error = true;
        }
        let mut text = e.text();
        if rejected && id.is_some_and(|top| reg.entries[top].cmd.name == "exec") {
            // Redis's execCommandAbort: an EXEC refused before it runs
            // (arity, OOM, ...) discards the transaction, in MULTI or not.
            tx::abort(cx);
            let why = text.strip_prefix("ERR ").unwrap_or(&text);
            text = format!("EXECABORT Transaction discarded because of: {why}").into();
        }
        cx.srv.stats.error_reply(&text);
        if cx.srv.aof.replaying {
            cx.srv.log_replay_error(&text, run_id);
        }
        cx.out.error(&text);
    }
}

/// Whether a command may change the dataset or be propagated, as CLIENT
/// PAUSE WRITE judges it (Redis's `is_may_replicate_command`): a write, or
/// flagged `may_replicate`; a script with a shebang or a function as its
/// flags declare (`scriptFlagsToCmdFlags` drops `may_replicate`).
pub fn may_replicate(args: &Args) -> bool {
    let reg = table::registry();
    let Some(cmd) = reg.run_id(args).map(|i| reg.entries[i].cmd) else { return false };
    match script::declared(cmd.name, args) {
        Some((write, _)) => write,
        None => cmd.has(table::flag::WRITE) || cmd.has(table::flag::MAY_REPLICATE),
    }
}

/// Redis's reply to a write while memory is over `maxmemory`.
pub const OOM_ERROR: &str = "OOM command not allowed when used memory > 'maxmemory'.";

/// Runs an eviction pass before command `run` (every command, as Redis
/// does); if memory stays over the limit, refuses `denyoom` commands, and
/// anything but EXEC/DISCARD/QUIT/RESET inside MULTI (queuing costs memory).
/// An EXEC whose queue holds a `denyoom` command discards the transaction.
fn oom_check(cx: &mut Ctx, run: usize, args: &Args, in_multi: bool) -> CmdResult {
    if cx.srv.perform_evictions(cx.now) != crate::server::evict::Evicted::Fail {
        return Ok(());
    }
    let reg = table::registry();
    let name = reg.entries[run].cmd.name;
    // A script that did not declare `allow-oom` or `no-writes` is refused
    // too (see `script::declared`).
    let denyoom = |cmd: &table::Command, args: &Args| {
        cmd.has(table::flag::DENYOOM) || script::declared(cmd.name, args).is_some_and(|d| d.1)
    };
    if name == "exec" {
        let queue_denyoom = cx.client().multi.as_ref().is_some_and(|q| {
            q.iter().any(|(data, spans)| {
                let args = Args::new(data, spans);
                reg.id(args.get(0)).is_some_and(|i| denyoom(reg.entries[i].cmd, &args))
            })
        });
        // Refused, EXEC discards the transaction (see dispatch).
        return if queue_denyoom { Err(CmdError::msg(OOM_ERROR)) } else { Ok(()) };
    }
    let exempt = ["exec", "discard", "quit", "reset"].contains(&name);
    if denyoom(reg.entries[run].cmd, args) || (in_multi && !exempt) {
        return Err(CmdError::msg(OOM_ERROR));
    }
    Ok(())
}

/// Client-side caching: the keys a read-only command of a tracking client
/// names are remembered (by EXEC's client for commands inside it). Inside
/// a script, the script's caller's keys instead; the read-only script
/// commands themselves remember nothing (Redis 7.0.15).
fn remember_keys(cx: &mut Ctx, cmd: &table::Command, args: &Args) {
    if cmd.has(table::flag::PUBSUB) || cx.srv.client(cx.key).tracking.is_none() {
        return;
    }
    if cx.srv.in_script {
        script::remember_caller_keys(cx);
        return;
    }
    if matches!(cmd.name, "eval_ro" | "evalsha_ro" | "fcall_ro") {
        return;
    }
    let positions = cmd.key_positions(args.len(), |i| args.get(i));
    cx.srv.remember_keys(cx.key, positions.into_iter().map(|i| args.get(i)));
}

#[cfg(test)]
mod tests {
    use super::Args;
    use crate::persist::propagate::write_command;
    use crate::resp::parse::{Parser, Source};
    use proptest::prelude::*;

    /// The request frame of the first command parsed from `buf` (arriving
    /// whole), as the loop builds its `Args`.
    fn frame(buf: &[u8]) -> Option<Vec<u8>> {
        let (mut spans, mut inline) = (Vec::new(), Vec::new());
        let src = Parser::new().next(buf, &mut spans, &mut inline, 512 << 20).unwrap().unwrap();
        let args = match src {
            Source::Buffer { base, one_pass } => Args::request(&buf[base..], &spans, one_pass),
            Source::Inline => Args::request(&inline, &spans, false),
        };
        args.resp_frame().map(<[u8]>::to_vec)
    }

    fn encode(argv: &[Vec<u8>]) -> Vec<u8> {
        let mut out = Vec::new();
        write_command(&mut out, argv);
        out
    }

    proptest! {
        #[test]
        fn frame_is_the_encoding(
            argv in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..24), 1..120),
            tail in prop::collection::vec(any::<u8>(), 0..8),
        ) {
            let enc = encode(&argv);
            let mut buf = enc.clone();
            buf.extend_from_slice(&tail);
            prop_assert_eq!(frame(&buf), Some(enc));
        }

        #[test]
        fn frame_refuses_unread_bytes_that_are_not_crlf(
            argv in prop::collection::vec(prop::collection::vec(b'a'..=b'z', 0..12), 1..12),
            which in any::<prop::sample::Index>(),
            byte in any::<u8>(),
        ) {
            // The bytes the parser does not read: the one after each
            // header's CR, the two after each bulk.
            let enc = encode(&argv);
            let mut unread = vec![enc.iter().position(|&c| c == b'\r').unwrap() + 1];
            let mut at = unread[0] + 1;
            for a in &argv {
                let cr = at + enc[at..].iter().position(|&c| c == b'\r').unwrap();
                unread.push(cr + 1);
                at = cr + 2 + a.len();
                unread.extend([at, at + 1]);
                at += 2;
            }
            let i = unread[which.index(unread.len())];
            prop_assume!(byte != enc[i]);
            let mut buf = enc.clone();
            buf[i] = byte;
            prop_assert_eq!(frame(&buf), None);
        }
    }

    #[test]
    fn no_frame_for_inline_requests_or_copies() {
        assert_eq!(frame(b"SET k v\r\n"), None);
        let enc = encode(&[b"SET".to_vec(), b"k".to_vec(), b"v".to_vec()]);
        let (mut spans, mut inline) = (Vec::new(), Vec::new());
        Parser::new().next(&enc, &mut spans, &mut inline, 1 << 20).unwrap();
        let (data, spans) = Args::new(&enc, &spans).to_owned_parts();
        assert_eq!(Args::new(&data, &spans).resp_frame(), None);
    }
}
