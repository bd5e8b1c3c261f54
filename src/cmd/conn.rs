//! Connection commands: PING, ECHO, SELECT, QUIT, RESET, HELLO, AUTH, CLIENT.

use super::table::{Command, flag::*, registry, row};
use super::{Args, CmdError, CmdResult, Ctx, lossy, parse_int};
use crate::resp::Proto;
use crate::server::state::{Client, Pause, Shared};
use crate::server::tracking::ClientTracking;

pub static COMMANDS: &[Command] = &[
    row("ping", -1, FAST | SENTINEL, (0, 0, 0), "connection", "1.0.0", "Ping the server", ping)
        .tips(&["request_policy:all_shards", "response_policy:all_succeeded"]),
    row("echo", 2, LOADING | STALE | FAST, (0, 0, 0), "connection", "1.0.0", "Echo the given string", echo),
    row(
        "select",
        2,
        LOADING | STALE | FAST,
        (0, 0, 0),
        "connection",
        "1.0.0",
        "Change the selected database for the current connection",
        select,
    ),
    row(
        "quit",
        -1,
        ALLOW_BUSY | NOSCRIPT | LOADING | STALE | FAST | NO_AUTH,
        (0, 0, 0),
        "connection",
        "1.0.0",
        "Close the connection",
        quit,
    ),
    row(
        "reset",
        1,
        NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY,
        (0, 0, 0),
        "connection",
        "6.2.0",
        "Reset the connection",
        reset,
    ),
    row(
        "hello",
        -1,
        NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | SENTINEL | ALLOW_BUSY,
        (0, 0, 0),
        "connection",
        "6.0.0",
        "Handshake with Redis",
        hello,
    ),
    row(
        "auth",
        -2,
        NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | SENTINEL | ALLOW_BUSY,
        (0, 0, 0),
        "connection",
        "1.0.0",
        "Authenticate to the server",
        auth,
    ),
    Command {
        subcommands: CLIENT_SUBCOMMANDS,
        ..row(
            "client",
            -2,
            0,
            (0, 0, 0),
            "connection",
            "2.4.0",
            "A container for client connection commands",
            super::table::container,
        )
    },
];

/// # Format
/// `PING [message]`
fn ping(cx: &mut Ctx, args: &Args) -> CmdResult {
    let c = cx.srv.client(cx.key);
    if c.proto == Proto::Resp2 && c.subscribed() && args.len() <= 2 {
        // Subscribed RESP2 clients get PING as a two-element array.
        cx.out.array(2);
        cx.out.bulk(b"pong");
        cx.out.bulk(if args.len() == 2 { args.get(1) } else { b"" });
        return Ok(());
    }
    match args.len() {
        1 => cx.out.simple("PONG"),
        2 => cx.out.bulk(args.get(1)),
        _ => return Err(CmdError::msg("ERR wrong number of arguments for 'ping' command")),
    }
    Ok(())
}

/// # Format
/// `ECHO message`
fn echo(cx: &mut Ctx, args: &Args) -> CmdResult {
    cx.out.bulk(args.get(1));
    Ok(())
}

/// # Format
/// `SELECT index`
fn select(cx: &mut Ctx, args: &Args) -> CmdResult {
    let db = args.int(1)?;
    if db < 0 || db as usize >= cx.srv.dbs.len() {
        return Err(CmdError::DbIndex);
    }
    cx.client().db = db as usize;
    cx.out.ok();
    Ok(())
}

/// # Format
/// `QUIT` — replies OK, then the connection closes once the reply is sent.
fn quit(cx: &mut Ctx, _args: &Args) -> CmdResult {
    cx.out.ok();
    cx.client().close_after_reply = true;
    Ok(())
}

static CLIENT_SUBCOMMANDS: &[Command] = &[
    row(
        "id",
        2,
        NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "connection",
        "5.0.0",
        "Returns the client ID for the current connection",
        client_id,
    ),
    row(
        "setname",
        3,
        NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "connection",
        "2.6.9",
        "Set the current connection name",
        client_setname,
    ),
    row(
        "setinfo",
        4,
        NOSCRIPT | LOADING | STALE | SENTINEL,
        (0, 0, 0),
        "connection",
        "7.2.0",
        "Sets information specific to the client or connection.",
        client_setinfo,
    ),
    row(
        "getname",
        2,
        NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "connection",
        "2.6.9",
        "Get the current connection name",
        client_getname,
    ),
    row(
        "list",
        -2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "connection",
        "2.4.0",
        "Get the list of client connections",
        client_list,
    )
    .tips(&["nondeterministic_output"]),
    row(
        "info",
        2,
        NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "connection",
        "6.2.0",
        "Returns information about the current client connection.",
        client_info,
    )
    .tips(&["nondeterministic_output"]),
    row(
        "kill",
        -3,
        ADMIN | NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "connection",
        "2.4.0",
        "Kill the connection of a client",
        client_kill,
    ),
    row(
        "unblock",
        -3,
        ADMIN | NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "connection",
        "5.0.0",
        "Unblock a client blocked in a blocking command from a different connection",
        client_unblock,
    ),
    row(
        "reply",
        3,
        NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "connection",
        "3.2.0",
        "Instruct the server whether to reply to commands",
        client_reply,
    ),
    row(
        "no-evict",
        3,
        ADMIN | NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "connection",
        "7.0.0",
        "Set client eviction mode for the current connection",
        client_no_evict,
    ),
    row(
        "no-touch",
        3,
        NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "connection",
        "7.2.0",
        "Controls whether commands sent by the client affect the LRU/LFU of accessed keys.",
        client_no_touch,
    ),
    row(
        "pause",
        -3,
        ADMIN | NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "connection",
        "2.9.50",
        "Stop processing commands from clients for some time",
        client_pause,
    ),
    row(
        "unpause",
        2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "connection",
        "6.2.0",
        "Resume processing of clients that were paused",
        client_unpause,
    ),
    row(
        "tracking",
        -3,
        NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "connection",
        "6.0.0",
        "Enable or disable server assisted client side caching support",
        client_tracking,
    ),
    row(
        "caching",
        3,
        NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "connection",
        "6.0.0",
        "Instruct the server about tracking or not keys in the next request",
        client_caching,
    ),
    row(
        "getredir",
        2,
        NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "connection",
        "6.0.0",
        "Get tracking notifications redirection client ID if any",
        client_getredir,
    ),
    row(
        "trackinginfo",
        2,
        NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "connection",
        "6.2.0",
        "Return information about server assisted client side caching for the current connection",
        client_trackinginfo,
    ),
    row(
        "help",
        2,
        LOADING | STALE,
        (0, 0, 0),
        "connection",
        "5.0.0",
        "Show helpful text about the different subcommands",
        client_help,
    ),
];

/// # Format
/// `CLIENT TRACKING <ON | OFF> [REDIRECT client-id] [PREFIX prefix [PREFIX prefix ...]] [BCAST] [OPTIN] [OPTOUT] [NOLOOP]`
fn client_tracking(cx: &mut Ctx, args: &Args) -> CmdResult {
    let mut mode = ClientTracking::default();
    let mut prefixes: Vec<&[u8]> = Vec::new();
    let mut i = 3;
    while i < args.len() {
        let opt = args.get(i).to_ascii_lowercase();
        let more = i + 1 < args.len();
        match opt.as_slice() {
            b"redirect" if more => {
                i += 1;
                if mode.redirect != 0 {
                    return Err(CmdError::msg("ERR A client can only redirect to a single other client"));
                }
                let id = args.int(i)?;
                if !cx.srv.by_id.contains_key(&(id as u64)) {
                    return Err(CmdError::msg("ERR The client ID you want redirect to does not exist"));
                }
                mode.redirect = id as u64;
            }
            b"bcast" => mode.bcast = true,
            b"optin" => mode.optin = true,
            b"optout" => mode.optout = true,
            b"noloop" => mode.noloop = true,
            b"prefix" if more => {
                i += 1;
                prefixes.push(args.get(i));
            }
            _ => return Err(CmdError::Syntax),
        }
        i += 1;
    }
    let on = args.get(2);
    if on.eq_ignore_ascii_case(b"on") {
        let current = cx.srv.client(cx.key).tracking.as_deref();
        crate::server::tracking::check_enable(current, &mode, &prefixes).map_err(CmdError::msg)?;
        cx.srv.enable_tracking(cx.key, mode, &prefixes);
    } else if on.eq_ignore_ascii_case(b"off") {
        cx.srv.disable_tracking(cx.key);
    } else {
        return Err(CmdError::Syntax);
    }
    cx.out.ok();
    Ok(())
}

/// # Format
/// `CLIENT CACHING YES|NO` — for the next command (or transaction) of an
/// OPTIN (YES) or OPTOUT (NO) tracking client.
fn client_caching(cx: &mut Ctx, args: &Args) -> CmdResult {
    let Some(t) = cx.client().tracking.as_deref_mut() else {
        return Err(CmdError::msg(
            "ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode \
             enabled",
        ));
    };
    let opt = args.get(2);
    if opt.eq_ignore_ascii_case(b"yes") {
        if !t.optin {
            return Err(CmdError::msg("ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode."));
        }
    } else if opt.eq_ignore_ascii_case(b"no") {
        if !t.optout {
            return Err(CmdError::msg("ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode."));
        }
    } else {
        return Err(CmdError::Syntax);
    }
    t.caching = true;
    cx.out.ok();
    Ok(())
}

/// The redirect of a tracking client (0: none), -1 when tracking is off.
fn tracking_redirect(c: &Client) -> i64 {
    c.tracking.as_ref().map_or(-1, |t| t.redirect as i64)
}

/// # Format
/// `CLIENT GETREDIR`
fn client_getredir(cx: &mut Ctx, _args: &Args) -> CmdResult {
    let redirect = tracking_redirect(cx.client());
    cx.out.int(redirect);
    Ok(())
}

/// # Format
/// `CLIENT TRACKINGINFO` — flags, redirect and prefixes, as Redis's map.
fn client_trackinginfo(cx: &mut Ctx, _args: &Args) -> CmdResult {
    let c = cx.srv.client(cx.key);
    let mut flags: Vec<&[u8]> = Vec::new();
    let redirect = tracking_redirect(c);
    let mut prefixes: Vec<crate::store::Key> = Vec::new();
    match c.tracking.as_deref() {
        None => flags.push(b"off"),
        Some(t) => {
            flags.push(b"on");
            let named: [(bool, &[u8]); 7] = [
                (t.bcast, b"bcast"),
                (t.optin, b"optin"),
                (t.optin && t.caching, b"caching-yes"),
                (t.optout, b"optout"),
                (t.optout && t.caching, b"caching-no"),
                (t.noloop, b"noloop"),
                (t.broken_redirect, b"broken_redirect"),
            ];
            flags.extend(named.iter().filter(|(on, _)| *on).map(|(_, name)| *name));
            prefixes = t.prefixes.clone();
        }
    }
    let out = &mut cx.out;
    out.map(3);
    out.bulk(b"flags");
    out.set(flags.len());
    flags.iter().for_each(|f| out.bulk(f));
    out.bulk(b"redirect");
    out.int(redirect);
    out.bulk(b"prefixes");
    out.array(prefixes.len());
    prefixes.iter().for_each(|p| out.bulk(p));
    Ok(())
}

/// # Format
/// `CLIENT REPLY ON|OFF|SKIP` — OFF and SKIP answer nothing; SKIP drops
/// the next command's reply (unless OFF is on). ON also ends the SKIP of
/// the command it is (its `+OK` is sent), as in Redis. Pushes (pub/sub)
/// are sent whatever the mode.
fn client_reply(cx: &mut Ctx, args: &Args) -> CmdResult {
    let mode = args.get(2);
    if mode.eq_ignore_ascii_case(b"on") {
        let c = cx.client();
        c.reply_off = false;
        c.reply_skip = false;
        cx.unmute();
        cx.out.ok();
    } else if mode.eq_ignore_ascii_case(b"off") {
        cx.client().reply_off = true;
        cx.mute();
    } else if mode.eq_ignore_ascii_case(b"skip") {
        let c = cx.client();
        c.skip_next_reply = !c.reply_off;
    } else {
        return Err(CmdError::Syntax);
    }
    Ok(())
}

/// # Format
/// `CLIENT NO-EVICT ON|OFF` — flag `e` in CLIENT LIST: such a client's
/// memory counts towards maxmemory-clients but it is never the one closed.
fn client_no_evict(cx: &mut Ctx, args: &Args) -> CmdResult {
    let on = match args.get(2) {
        m if m.eq_ignore_ascii_case(b"on") => true,
        m if m.eq_ignore_ascii_case(b"off") => false,
        _ => return Err(CmdError::Syntax),
    };
    cx.client().no_evict = on;
    cx.out.ok();
    Ok(())
}

/// # Format
/// `CLIENT PAUSE timeout [WRITE | ALL]` — for `timeout` ms, the loop holds
/// back every command (ALL, the default) or those that write (WRITE) of
/// every client; active expiry and eviction wait too. A longer or stricter
/// pause in effect is kept.
fn client_pause(cx: &mut Ctx, args: &Args) -> CmdResult {
    if args.len() > 4 {
        return Err(super::subcommand_syntax_error(args));
    }
    let timeout = parse_int(args.get(2)).map_err(|_| CmdError::msg("ERR timeout is not an integer or out of range"))?;
    if timeout < 0 {
        return Err(CmdError::msg("ERR timeout is negative"));
    }
    let all = match args.len() {
        3 => true,
        _ if args.get(3).eq_ignore_ascii_case(b"all") => true,
        _ if args.get(3).eq_ignore_ascii_case(b"write") => false,
        _ => return Err(CmdError::msg("ERR CLIENT PAUSE mode must be WRITE or ALL")),
    };
    let until = cx.now.saturating_add(timeout as u64);
    let next = match cx.srv.pause.filter(|p| p.until > cx.now) {
        Some(p) => Pause { until: p.until.max(until), all: p.all || all },
        None => Pause { until, all },
    };
    cx.srv.pause = Some(next);
    cx.srv.requests.pause_changed = true;
    cx.out.ok();
    Ok(())
}

/// # Format
/// `CLIENT UNPAUSE`
fn client_unpause(cx: &mut Ctx, _args: &Args) -> CmdResult {
    cx.srv.pause = None;
    cx.srv.requests.pause_changed = true;
    cx.out.ok();
    Ok(())
}

/// # Format
/// `CLIENT UNBLOCK client-id [TIMEOUT | ERROR]`
fn client_unblock(cx: &mut Ctx, args: &Args) -> CmdResult {
    // The reason is checked before the id, as in Redis.
    let error = match args.len() {
        3 => false,
        4 if args.get(3).eq_ignore_ascii_case(b"timeout") => false,
        4 if args.get(3).eq_ignore_ascii_case(b"error") => true,
        4 => return Err(CmdError::msg("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")),
        _ => return Err(super::subcommand_syntax_error(args)),
    };
    let id = args.int(2)?;
    let target = cx
        .srv
        .clients
        .iter()
        .enumerate()
        .find_map(|(k, c)| c.as_ref().filter(|c| c.id as i64 == id && c.blocked.is_some()).map(|_| k));
    match target {
        Some(k) => {
            cx.srv.requests.unblock.push((k, id as u64, error));
            cx.out.int(1);
        }
        None => cx.out.int(0),
    }
    Ok(())
}

/// # Format
/// `CLIENT ID`
fn client_id(cx: &mut Ctx, _args: &Args) -> CmdResult {
    let id = cx.client().id;
    cx.out.int(id as i64);
    Ok(())
}

/// Client names are printable ASCII without spaces (CLIENT SETNAME, HELLO).
fn check_client_name(name: &[u8]) -> CmdResult {
    if name.iter().any(|&b| !(b'!'..=b'~').contains(&b)) {
        return Err(CmdError::msg("ERR Client names cannot contain spaces, newlines or special characters."));
    }
    Ok(())
}

/// # Format
/// `CLIENT SETNAME connection-name` — an empty name clears it.
fn client_setname(cx: &mut Ctx, args: &Args) -> CmdResult {
    let name = args.get(2);
    check_client_name(name)?;
    cx.client().name = (!name.is_empty()).then(|| name.to_vec());
    cx.out.ok();
    Ok(())
}

/// # Format
/// `CLIENT SETINFO <LIB-NAME libname | LIB-VER libver>` (Redis 7.2) — shown
/// as `lib-name=` / `lib-ver=` in CLIENT LIST; an empty value clears it.
fn client_setinfo(cx: &mut Ctx, args: &Args) -> CmdResult {
    let (attr, value) = (args.get(2), args.get(3));
    let lib_name = if attr.eq_ignore_ascii_case(b"lib-name") {
        true
    } else if attr.eq_ignore_ascii_case(b"lib-ver") {
        false
    } else {
        return Err(CmdError::msg(format!("ERR Unrecognized option '{}'", lossy(attr))));
    };
    // The check of CLIENT SETNAME: CLIENT LIST must stay splittable on spaces.
    if value.iter().any(|&b| !(b'!'..=b'~').contains(&b)) {
        return Err(CmdError::msg(format!(
            "ERR {} cannot contain spaces, newlines or special characters.",
            lossy(attr)
        )));
    }
    let value = (!value.is_empty()).then(|| value.to_vec());
    let c = cx.client();
    if lib_name {
        c.lib_name = value;
    } else {
        c.lib_ver = value;
    }
    cx.out.ok();
    Ok(())
}

/// # Format
/// `CLIENT NO-TOUCH ON|OFF` (Redis 7.2) — when on, the client's commands
/// other than TOUCH do not update the LRU/LFU data of the keys they read.
fn client_no_touch(cx: &mut Ctx, args: &Args) -> CmdResult {
    let on = match args.get(2) {
        m if m.eq_ignore_ascii_case(b"on") => true,
        m if m.eq_ignore_ascii_case(b"off") => false,
        _ => return Err(CmdError::Syntax),
    };
    cx.client().no_touch = on;
    cx.out.ok();
    Ok(())
}

/// # Format
/// `CLIENT GETNAME`
fn client_getname(cx: &mut Ctx, _args: &Args) -> CmdResult {
    match cx.client().name.clone() {
        Some(n) => cx.out.bulk(&n),
        None => cx.out.null(),
    }
    Ok(())
}

/// The client classes CLIENT LIST / CLIENT KILL filter on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ClientKind {
    Normal,
    PubSub,
    /// Master or replica: ferrokv has no replication, so nobody.
    Replication,
}

impl ClientKind {
    fn of(c: &Client) -> ClientKind {
        if c.replica {
            ClientKind::Replication
        } else if c.subscribed() {
            ClientKind::PubSub
        } else {
            ClientKind::Normal
        }
    }
}

fn client_kind(t: &[u8]) -> Result<ClientKind, CmdError> {
    match t.to_ascii_lowercase().as_slice() {
        b"normal" => Ok(ClientKind::Normal),
        b"pubsub" => Ok(ClientKind::PubSub),
        b"master" | b"replica" | b"slave" => Ok(ClientKind::Replication),
        _ => Err(CmdError::msg(format!("ERR Unknown client type '{}'", lossy(t)))),
    }
}

/// The running command, for its own client's CLIENT LIST line: its
/// arguments and how much output the client has in its buffer by now.
pub(crate) struct Running<'a> {
    args: &'a Args<'a>,
    wbuf_len: usize,
}

/// One `CLIENT LIST` line: Redis 7.0's fields in its order, then Redis
/// 7.2's `lib-name` and `lib-ver`.
///
/// Redis's accounting where it is not about allocations: `qbuf` is the
/// input read and not yet trimmed (the running client's includes its
/// current batch of commands), `argv-mem` the length of the arguments a
/// command holds (the running one, a blocked or paused one, or one that has
/// partly arrived), `multi-mem` the queued arguments plus a pointer per
/// argument. Where Redis reports allocator sizes ferrokv reports its own,
/// computed from its buffers: `qbuf-free` is the free part of the read
/// buffer (whose header bytes of an incomplete command stay in it, where
/// Redis moves a big argument to the start of its own); `rbs`/`rbp` the
/// part of the output buffer that stands for Redis's 16 KB reply buffer and
/// its recent peak, `obl` the unsent output in it and `oll`/`omem` the rest
/// in 16 KB blocks; `tot-mem` the connection's real memory (its struct and
/// buffers, the client state, queued and blocked commands, subscriptions);
/// arguments are slices of the read buffer, counted there, not again as in
/// Redis. ferrokv's buffers start empty and an idle client's are freed
/// (see `server::conn`), so `rbs` is 0 where Redis shows 16384 or 1024.
/// Client `key`'s CLIENT INFO line without its newline, for log lines
/// (`Evicting client: ...`).
pub fn client_info_text(srv: &Shared, key: usize, now: u64) -> String {
    let mut line = client_line(srv, srv.client(key), now, None);
    line.pop();
    line
}

pub(crate) fn client_line(srv: &Shared, c: &Client, now: u64, running: Option<Running>) -> String {
    use crate::server::conn::REPLY_CHUNK;
    let text = |v: &Option<Vec<u8>>| String::from_utf8_lossy(v.as_deref().unwrap_or_default()).into_owned();
    let cmd = c.last_cmd.map_or("NULL", |id| registry().entries[id].fullname.as_str());
    let mut flags = String::new();
    if srv.monitors.iter().any(|&(_, id)| id == c.id) {
        flags.push('O');
    } else if c.replica {
        flags.push('S');
    }
    if c.subscribed() {
        flags.push('P');
    }
    if c.multi.is_some() {
        flags.push('x');
    }
    if c.blocked.is_some() || c.postponed.is_some() {
        flags.push('b');
    }
    if let Some(t) = c.tracking.as_deref() {
        flags.push('t');
        if t.broken_redirect {
            flags.push('R');
        }
        if t.bcast {
            flags.push('B');
        }
    }
    if c.dirty_cas {
        flags.push('d');
    }
    if c.close_after_reply {
        flags.push('c');
    }
    if c.unix.is_some() {
        flags.push('U');
    }
    if c.no_evict {
        flags.push('e');
    }
    if c.no_touch {
        flags.push('T');
    }
    if flags.is_empty() {
        flags.push('N');
    }
    // The length of the arguments the client holds.
    let argv_mem = match (&running, &c.blocked, &c.postponed) {
        (Some(r), _, _) => r.args.from(0).map(<[u8]>::len).sum(),
        (None, Some(b), _) => b.data.len(),
        (None, None, Some((data, _))) => data.len(),
        (None, None, None) => c.partial_args.1,
    };
    let (multi, multi_mem) = match &c.multi {
        Some(q) => (
            q.len() as i64,
            q.iter().map(|(data, spans)| data.len() + spans.len() * std::mem::size_of::<usize>()).sum(),
        ),
        None => (-1, 0),
    };
    // Output: the running client's buffer has grown by its batch's replies.
    let buffered = running.as_ref().map_or(c.omem + c.wsent, |r| r.wbuf_len);
    let pending = buffered.saturating_sub(c.wsent);
    let rbs = c.rbs.max(buffered).min(REPLY_CHUNK);
    let rbp = c.rbp.max(buffered).min(rbs);
    let obl = pending.min(REPLY_CHUNK);
    let omem = pending - obl;
    let oll = omem.div_ceil(REPLY_CHUNK);
    // What maxmemory-clients counts for the client.
    let tot_mem = c.conn_mem + c.held_mem();
    let secs = |ms: u64| ms / 1000;
    let events = if c.write_wait { "rw" } else { "r" };
    format!(
        "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={flags} db={} sub={} psub={} ssub={} \
         multi={multi} qbuf={} qbuf-free={} argv-mem={argv_mem} multi-mem={multi_mem} rbs={rbs} rbp={rbp} \
         obl={obl} oll={oll} omem={omem} tot-mem={tot_mem} events={events} cmd={cmd} user={} redir={} resp={} \
         lib-name={} lib-ver={}\n",
        c.id,
        c.addr_text(),
        c.laddr_text(),
        c.fd,
        text(&c.name),
        secs(now).saturating_sub(secs(c.created_ms)),
        secs(now).saturating_sub(secs(c.last_interaction)),
        c.db,
        c.subs[0].len(),
        c.subs[1].len(),
        c.subs[2].len(),
        c.qbuf,
        c.qbuf_cap.saturating_sub(c.qbuf),
        String::from_utf8_lossy(&srv.acl.user(c.user).name),
        tracking_redirect(c),
        if c.proto == Proto::Resp3 { 3 } else { 2 },
        text(&c.lib_name),
        text(&c.lib_ver),
    )
}

/// # Format
/// `CLIENT LIST [TYPE NORMAL | MASTER | REPLICA | PUBSUB] [ID client-id [client-id ...]]`
fn client_list(cx: &mut Ctx, args: &Args) -> CmdResult {
    let mut ids: Option<Vec<u64>> = None;
    let mut kind = None;
    let mut i = 2;
    while i < args.len() {
        let opt = args.get(i);
        if opt.eq_ignore_ascii_case(b"type") && i + 1 < args.len() {
            let t = args.get(i + 1);
            kind = Some(client_kind(t)?);
            i += 2;
        } else if opt.eq_ignore_ascii_case(b"id") && i + 1 < args.len() {
            let mut list = Vec::new();
            for a in args.from(i + 1) {
                match parse_int(a) {
                    // Any integer is accepted; only live ids match.
                    Ok(n) => list.push(n as u64),
                    _ => return Err(CmdError::msg("ERR Invalid client ID")),
                }
            }
            ids = Some(list);
            i = args.len();
        } else {
            return Err(CmdError::Syntax);
        }
    }
    let now = cx.now;
    let mut text = String::new();
    for (k, c) in cx.srv.clients.iter().enumerate() {
        let Some(c) = c else { continue };
        if ids.as_ref().is_none_or(|ids| ids.contains(&c.id)) && kind.is_none_or(|k| k == ClientKind::of(c)) {
            let running = (k == cx.key).then_some(Running { args, wbuf_len: cx.out.buf.len() });
            text.push_str(&client_line(cx.srv, c, now, running));
        }
    }
    cx.out.verbatim(text.as_bytes());
    Ok(())
}

/// # Format
/// `CLIENT INFO`
fn client_info(cx: &mut Ctx, args: &Args) -> CmdResult {
    let now = cx.now;
    let running = Running { args, wbuf_len: cx.out.buf.len() };
    let line = client_line(cx.srv, cx.srv.client(cx.key), now, Some(running));
    cx.out.verbatim(line.as_bytes());
    Ok(())
}

/// # Format
/// `CLIENT KILL ip:port` (old form) or
/// `CLIENT KILL [ID id] [TYPE type] [ADDR ip:port] [LADDR ip:port] [USER name] [SKIPME yes|no] ...`
fn client_kill(cx: &mut Ctx, args: &Args) -> CmdResult {
    let old_form = args.len() == 3;
    let (mut id, mut addr, mut laddr, mut skipme) = (None, None, None, true);
    let mut kind = None;
    let mut user = None;
    if old_form {
        addr = Some(args.get(2));
        skipme = false;
    } else {
        if !args.len().is_multiple_of(2) {
            return Err(CmdError::Syntax);
        }
        for i in (2..args.len()).step_by(2) {
            let (opt, v) = (args.get(i).to_ascii_lowercase(), args.get(i + 1));
            match opt.as_slice() {
                b"id" => match parse_int(v) {
                    Ok(n) if n > 0 => id = Some(n as u64),
                    _ => return Err(CmdError::msg("ERR client-id should be greater than 0")),
                },
                b"type" => kind = Some(client_kind(v)?),
                b"addr" => addr = Some(v),
                b"laddr" => laddr = Some(v),
                b"user" => match cx.srv.acl.slot_of(v) {
                    Some(slot) => user = Some(slot),
                    None => return Err(CmdError::msg(format!("ERR No such user '{}'", lossy(v)))),
                },
                b"skipme" => match v.to_ascii_lowercase().as_slice() {
                    b"yes" => skipme = true,
                    b"no" => skipme = false,
                    _ => return Err(CmdError::Syntax),
                },
                _ => return Err(CmdError::Syntax),
            }
        }
    }
    let me = cx.key;
    let victims: Vec<(usize, u64)> = cx
        .srv
        .clients
        .iter()
        .enumerate()
        .filter_map(|(k, c)| c.as_ref().map(|c| (k, c)))
        .filter(|(k, c)| {
            kind.is_none_or(|k| k == ClientKind::of(c))
                && id.is_none_or(|id| c.id == id)
                && addr.is_none_or(|a| c.addr_text().as_bytes() == a)
                && laddr.is_none_or(|a| c.laddr_text().as_bytes() == a)
                && user.is_none_or(|u| c.user == u)
                && !(skipme && *k == me)
        })
        .map(|(k, c)| (k, c.id))
        .collect();
    for &(k, id) in &victims {
        if k == me {
            cx.client().close_after_reply = true;
        } else {
            cx.srv.requests.close.push((k, id));
        }
    }
    if old_form {
        if victims.is_empty() {
            return Err(CmdError::msg("ERR No such client"));
        }
        cx.out.ok();
    } else {
        cx.out.int(victims.len() as i64);
    }
    Ok(())
}

/// # Format
/// `CLIENT HELP`
fn client_help(cx: &mut Ctx, _args: &Args) -> CmdResult {
    super::server::help(
        &mut cx.out,
        "CLIENT",
        &[
            "CACHING (YES|NO)",
            "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
            "GETREDIR",
            "    Return the client ID we are redirecting to when tracking is enabled.",
            "GETNAME",
            "    Return the name of the current connection.",
            "ID",
            "    Return the ID of the current connection.",
            "INFO",
            "    Return information about the current client connection.",
            "KILL <ip:port>",
            "    Kill connection made from <ip:port>.",
            "KILL <option> <value> [<option> <value> [...]]",
            "    Kill connections. Options are:",
            "    * ADDR (<ip:port>|<unixsocket>:0)",
            "      Kill connections made from the specified address",
            "    * LADDR (<ip:port>|<unixsocket>:0)",
            "      Kill connections made to specified local address",
            "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
            "      Kill connections by type.",
            "    * USER <username>",
            "      Kill connections authenticated by <username>.",
            "    * SKIPME (YES|NO)",
            "      Skip killing current connection (default: yes).",
            "LIST [options ...]",
            "    Return information about client connections. Options:",
            "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
            "      Return clients of specified type.",
            "UNPAUSE",
            "    Stop the current client pause, resuming traffic.",
            "PAUSE <timeout> [WRITE|ALL]",
            "    Suspend all, or just write, clients for <timeout> milliseconds.",
            "REPLY (ON|OFF|SKIP)",
            "    Control the replies sent to the current connection.",
            "SETNAME <name>",
            "    Assign the name <name> to the current connection.",
            "SETINFO <option> <value>",
            "    Set client meta attr. Options are:",
            "    * LIB-NAME: the client lib name.",
            "    * LIB-VER: the client lib version.",
            "UNBLOCK <clientid> [TIMEOUT|ERROR]",
            "    Unblock the specified blocked client.",
            "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
            "         [OPTIN] [OPTOUT] [NOLOOP]",
            "    Control server assisted client side caching.",
            "TRACKINGINFO",
            "    Report tracking status for the current connection.",
            "NO-EVICT (ON|OFF)",
            "    Protect current client connection from eviction.",
            "NO-TOUCH (ON|OFF)",
            "    Will not touch LRU/LFU stats when this mode is on.",
        ],
    );
    Ok(())
}

/// # Format
/// `RESET` — back to a fresh connection's state.
fn reset(cx: &mut Ctx, _args: &Args) -> CmdResult {
    cx.srv.unwatch(cx.key);
    cx.srv.unsubscribe_all(cx.key);
    cx.srv.disable_tracking(cx.key);
    let me = (cx.key, cx.client().id);
    cx.srv.monitors.retain(|&m| m != me);
    let c = cx.client();
    c.multi = None;
    c.multi_error = false;
    c.db = 0;
    c.name = None;
    c.proto = Proto::Resp2;
    // CLIENT REPLY OFF ends (RESET's own reply is sent) and a pending SKIP
    // is forgotten; a SKIP of RESET itself stays, as in Redis.
    c.reply_off = false;
    c.skip_next_reply = false;
    // Redis 7.2 ends NO-TOUCH too; the library name and version stay.
    c.no_touch = false;
    // Back to the default user, authenticated only if it has no password.
    cx.srv.acl_default_auth(cx.key);
    let c = cx.client();
    if !c.reply_skip {
        cx.unmute();
    }
    cx.out.proto = Proto::Resp2;
    cx.out.simple("RESET");
    Ok(())
}

/// # Format
/// `AUTH [username] password`
fn auth(cx: &mut Ctx, args: &Args) -> CmdResult {
    let (user, pass): (&[u8], &[u8]) = match args.len() {
        2 if cx.srv.acl.default_user().nopass => {
            return Err(CmdError::msg(
                "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?",
            ));
        }
        2 => (b"default", args.get(1)),
        3 => (args.get(1), args.get(2)),
        _ => return Err(CmdError::Syntax),
    };
    let now = cx.now;
    if !cx.srv.authenticate(cx.key, user, pass, args.get(0), now) {
        return Err(CmdError::msg(super::acl::WRONGPASS));
    }
    cx.out.ok();
    Ok(())
}

/// # Format
/// `HELLO [protover [AUTH username password] [SETNAME clientname]]`
fn hello(cx: &mut Ctx, args: &Args) -> CmdResult {
    let mut proto = cx.client().proto;
    if args.len() >= 2 {
        proto = match parse_int(args.get(1)) {
            Ok(2) => Proto::Resp2,
            Ok(3) => Proto::Resp3,
            Ok(_) => return Err(CmdError::msg("NOPROTO unsupported protocol version")),
            Err(_) => return Err(CmdError::msg("ERR Protocol version is not an integer or out of range")),
        };
    }
    // Options take effect one by one as they are read, as in Redis 7.0:
    // an error stops the rest but leaves what came before (a name set, an
    // authentication done), and the protocol switches only at the end.
    let now = cx.now;
    let mut i = 2;
    while i < args.len() {
        let opt = args.get(i);
        if opt.eq_ignore_ascii_case(b"auth") && i + 2 < args.len() {
            if !cx.srv.authenticate(cx.key, args.get(i + 1), args.get(i + 2), args.get(0), now) {
                return Err(CmdError::msg(super::acl::WRONGPASS));
            }
            i += 3;
        } else if opt.eq_ignore_ascii_case(b"setname") && i + 1 < args.len() {
            let n = args.get(i + 1);
            check_client_name(n)?;
            cx.client().name = (!n.is_empty()).then(|| n.to_vec());
            i += 2;
        } else {
            return Err(CmdError::msg(format!("ERR Syntax error in HELLO option '{}'", lossy(opt))));
        }
    }
    if !cx.client().authenticated {
        return Err(CmdError::msg(
            "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time",
        ));
    }
    let c = cx.client();
    c.proto = proto;
    let id = c.id;
    cx.out.proto = proto;
    let out = &mut cx.out;
    out.map(7);
    out.bulk(b"server");
    out.bulk(b"redis");
    out.bulk(b"version");
    out.bulk(crate::REDIS_VERSION.as_bytes());
    out.bulk(b"proto");
    out.int(if proto == Proto::Resp3 { 3 } else { 2 });
    out.bulk(b"id");
    out.int(id as i64);
    out.bulk(b"mode");
    out.bulk(b"standalone");
    out.bulk(b"role");
    out.bulk(b"master");
    out.bulk(b"modules");
    out.array(0);
    Ok(())
}
