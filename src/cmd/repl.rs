//! Replication commands of the primary (see `server::replication`): SYNC
//! and PSYNC, which turn the client into a replica, REPLCONF, which a
//! replica sends before them (and its acknowledgements after), ROLE and
//! WAIT.

use super::table::{Command, flag::*, row};
use super::{Args, CmdError, CmdResult, Ctx, parse_int};
use crate::server::replication::SyncState;

pub static COMMANDS: &[Command] = &[
    row(
        "sync",
        1,
        ADMIN | NOSCRIPT | NO_ASYNC_LOADING | NO_MULTI,
        (0, 0, 0),
        "server",
        "1.0.0",
        "Internal command used for replication",
        sync,
    )
    .acl(&["@admin", "@slow", "@dangerous"]),
    row(
        "psync",
        -3,
        ADMIN | NOSCRIPT | NO_ASYNC_LOADING | NO_MULTI,
        (0, 0, 0),
        "server",
        "2.8.0",
        "Internal command used for replication",
        sync,
    )
    .acl(&["@admin", "@slow", "@dangerous"]),
    row(
        "replconf",
        -1,
        ADMIN | NOSCRIPT | LOADING | STALE | ALLOW_BUSY,
        (0, 0, 0),
        "server",
        "3.0.0",
        "An internal command for configuring the replication stream",
        replconf,
    )
    .acl(&["@admin", "@slow", "@dangerous"]),
    row(
        "role",
        1,
        NOSCRIPT | LOADING | STALE | FAST,
        (0, 0, 0),
        "server",
        "2.8.12",
        "Return the role of the instance in the context of replication",
        role,
    )
    .acl(&["@admin", "@dangerous"]),
    row(
        "wait",
        3,
        NOSCRIPT,
        (0, 0, 0),
        "generic",
        "3.0.0",
        "Wait for the synchronous replication of all the write commands sent in the context of the current connection",
        wait,
    )
    .tips(&["request_policy:all_shards", "response_policy:agg_min"])
    .acl(&["@connection"]),
];

/// # Format
/// `SYNC` | `PSYNC replicationid offset` — the client becomes a replica:
/// with PSYNC, `+CONTINUE` and the stream from `offset` when the backlog
/// still holds it, else `+FULLRESYNC <replid> <offset>`; then (SYNC: at
/// once) the RDB as `$<length>\r\n<bytes>` once its snapshot is written,
/// and the stream of writes after it. A replica that sent `REPLCONF
/// rdb-only 1` (`redis-cli --rdb`) gets the RDB only, and is closed.
fn sync(cx: &mut Ctx, args: &Args) -> CmdResult {
    if cx.srv.client(cx.key).replica {
        // Redis ignores SYNC from a replica.
        return Ok(());
    }
    if !cx.out.buf.is_empty() {
        // Replies of earlier commands not written yet (the buffer holds
        // only unsent output): the stream must start on a clean buffer.
        return Err(CmdError::msg("ERR SYNC and PSYNC are invalid with pending output"));
    }
    let psync = if args.get(0).eq_ignore_ascii_case(b"psync") {
        let Ok(offset) = parse_int(args.get(2)) else {
            let name =
                cx.srv.replica_name(cx.key, &cx.srv.client(cx.key).replconf.as_deref().cloned().unwrap_or_default());
            log::warn!("Replica {name} asks for synchronization but with a wrong offset");
            return Err(CmdError::msg("ERR value is not an integer or out of range"));
        };
        Some((args.get(1), offset))
    } else {
        None
    };
    let now = cx.now;
    match cx.srv.repl_sync(cx.key, psync, now) {
        Ok(bytes) => {
            cx.out.buf.extend_from_slice(&bytes);
            Ok(())
        }
        Err(e) => Err(CmdError::msg(e)),
    }
}

/// # Format
/// `REPLCONF option value [option value ...]` — what a replica tells its
/// primary: `listening-port`, `ip-address`, `capa eof|psync2`, `rdb-only
/// 0|1`, `rdb-filter-only`; `ack <offset>` (no reply) once it is a
/// replica; `getack` (no reply: ferrokv is never a replica). `OK`.
fn replconf(cx: &mut Ctx, args: &Args) -> CmdResult {
    if args.len().is_multiple_of(2) {
        return Err(CmdError::Syntax);
    }
    let mut conf = cx.srv.client(cx.key).replconf.as_deref().cloned().unwrap_or_default();
    // As Redis, the options before a failing one keep their effect.
    let mut outcome = Ok(true);
    for pair in (1..args.len()).step_by(2) {
        let (option, value) = (args.get(pair).to_ascii_lowercase(), args.get(pair + 1));
        match option.as_slice() {
            b"listening-port" => match parse_int(value) {
                Ok(port) => conf.listening_port = port,
                Err(_) => outcome = Err(CmdError::msg("ERR value is not an integer or out of range")),
            },
            b"ip-address" => {
                if value.len() >= 256 {
                    outcome = Err(CmdError::msg(format!(
                        "ERR REPLCONF ip-address provided by replica instance is too long: {} bytes",
                        value.len()
                    )));
                } else {
                    conf.ip = Some(String::from_utf8_lossy(value).into_owned());
                }
            }
            b"capa" => {
                if value.eq_ignore_ascii_case(b"eof") {
                    conf.capa_eof = true;
                } else if value.eq_ignore_ascii_case(b"psync2") {
                    conf.capa_psync2 = true;
                }
            }
            b"ack" => {
                if cx.srv.client(cx.key).replica
                    && let Ok(offset) = parse_int(value)
                {
                    let now = cx.now;
                    cx.srv.repl_ack(cx.key, offset.max(0) as u64, now);
                }
                // No reply, and nothing after it is read.
                outcome = Ok(false);
            }
            b"getack" => outcome = Ok(false),
            b"rdb-only" => match parse_int(value) {
                Ok(n @ 0..=1) => conf.rdb_only = n == 1,
                // Redis's getRangeLongFromObjectOrReply, its words as they are.
                Ok(_) => outcome = Err(CmdError::msg("ERR value is out of range, value must between 0 and 1")),
                Err(_) => outcome = Err(CmdError::msg("ERR value is not an integer or out of range")),
            },
            b"rdb-filter-only" => {
                let (mut words, mut spans) = (Vec::new(), Vec::new());
                outcome = if crate::resp::parse::split_args(value, &mut words, &mut spans).is_err() {
                    Err(CmdError::msg("ERR Missing rdb-filter-only values"))
                } else if let Some(&(s, e)) =
                    spans.iter().find(|&&(s, e)| !words[s..e].eq_ignore_ascii_case(b"functions"))
                {
                    Err(CmdError::msg(format!(
                        "ERR Unsupported rdb-filter-only option: {}",
                        String::from_utf8_lossy(&words[s..e])
                    )))
                } else {
                    conf.filter = Some(!spans.is_empty());
                    Ok(true)
                };
            }
            _ => {
                outcome = Err(CmdError::msg(format!(
                    "ERR Unrecognized REPLCONF option: {}",
                    String::from_utf8_lossy(args.get(pair))
                )));
            }
        }
        if outcome != Ok(true) {
            break;
        }
    }
    cx.client().replconf = Some(Box::new(conf));
    if outcome? {
        cx.out.ok();
    }
    Ok(())
}

/// # Format
/// `ROLE` — `master`, the replication offset and the replicas online,
/// each as its address, listening port and acknowledged offset.
fn role(cx: &mut Ctx, _args: &Args) -> CmdResult {
    let srv = &*cx.srv;
    let online: Vec<(String, i64, u64)> = srv
        .repl
        .replicas
        .iter()
        .filter(|r| matches!(r.state, SyncState::Online))
        .map(|r| {
            let ip = r.conf.ip.clone().or_else(|| srv.client(r.key).addr.map(|a| a.ip().to_string()));
            (ip.unwrap_or_default(), r.conf.listening_port, r.ack_off)
        })
        .collect();
    let offset = srv.repl.offset;
    cx.out.array(3);
    cx.out.bulk(b"master");
    cx.out.int(offset as i64);
    cx.out.array(online.len());
    for (ip, port, ack) in online {
        cx.out.array(3);
        cx.out.bulk(ip.as_bytes());
        cx.out.bulk(port.to_string().as_bytes());
        cx.out.bulk(ack.to_string().as_bytes());
    }
    Ok(())
}

/// # Format
/// `WAIT numreplicas timeout` — the number of replicas that acknowledged
/// the stream up to this connection's last write: at once when that many did (or
/// `numreplicas` is 0 or less, or inside MULTI); otherwise the replicas
/// are asked for an acknowledgement and the client blocks until enough
/// have answered or `timeout` milliseconds passed (0: no limit), and gets
/// the count then.
fn wait(cx: &mut Ctx, args: &Args) -> CmdResult {
    let replicas = parse_int(args.get(1)).map_err(|_| CmdError::msg("ERR value is not an integer or out of range"))?;
    let timeout = parse_int(args.get(2)).map_err(|_| CmdError::msg("ERR timeout is not an integer or out of range"))?;
    if timeout < 0 {
        return Err(CmdError::msg("ERR timeout is negative"));
    }
    let acked = cx.srv.replicas_acked(cx.srv.client(cx.key).wait_offset);
    if acked as i64 >= replicas || cx.srv.in_exec {
        cx.out.int(acked as i64);
        return Ok(());
    }
    cx.block(&[], WAIT, (timeout > 0).then_some(timeout as u64), args);
    if !cx.srv.blocking.retrying {
        let srv = &mut *cx.srv;
        // Those no longer waiting go (the list is served only while the
        // backlog exists).
        let waiting = std::mem::take(&mut srv.repl.waiting);
        srv.repl.waiting = waiting
            .into_iter()
            .filter(|&(k, id)| {
                srv.clients
                    .get(k)
                    .and_then(|c| c.as_ref())
                    .is_some_and(|c| c.id == id && c.blocked.as_ref().is_some_and(|b| b.wants == WAIT))
            })
            .collect();
        let id = srv.client(cx.key).id;
        srv.repl.waiting.push((cx.key, id));
        srv.repl_getack();
    }
    Ok(())
}

/// What a blocked WAIT waits for (`Blocked::wants`).
pub const WAIT: &str = "wait";

/// The reply of a blocked WAIT now: the replicas that acknowledged its
/// offset, and whether that is enough to stop waiting.
pub fn wait_reply(
    srv: &crate::server::state::Shared,
    key: usize,
    blocked: &crate::server::state::Blocked,
) -> (usize, bool) {
    let acked = srv.replicas_acked(srv.client(key).wait_offset);
    let args = Args::new(&blocked.data, &blocked.spans);
    let wanted = parse_int(args.get(1)).unwrap_or(0);
    (acked, acked as i64 >= wanted)
}
