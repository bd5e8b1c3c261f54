//! Pub/Sub: SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE, SSUBSCRIBE,
//! SUNSUBSCRIBE, PUBLISH, SPUBLISH, PUBSUB.
//!
//! PUBLISH counts the receivers and leaves one copy of the message in the
//! outbox; right after the command the event loop writes it straight into
//! each subscriber's output buffer (no per-subscriber temporary copy).
//! Subscriptions live both in the client (for its replies and cleanup) and
//! in `Shared::pubsub` (channel → subscribers).

use super::table::{Command, container, flag::*, row};
use super::{Args, CmdError, CmdResult, Ctx};
use crate::glob;
use crate::resp::Reply;
use crate::server::state::{Outgoing, SubKind};

pub static COMMANDS: &[Command] = &[
    row(
        "subscribe",
        -2,
        PUBSUB | NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "pubsub",
        "2.0.0",
        "Listen for messages published to the given channels",
        subscribe,
    ),
    row(
        "unsubscribe",
        -1,
        PUBSUB | NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "pubsub",
        "2.0.0",
        "Stop listening for messages posted to the given channels",
        unsubscribe,
    ),
    row(
        "psubscribe",
        -2,
        PUBSUB | NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "pubsub",
        "2.0.0",
        "Listen for messages published to channels matching the given patterns",
        psubscribe,
    ),
    row(
        "punsubscribe",
        -1,
        PUBSUB | NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "pubsub",
        "2.0.0",
        "Stop listening for messages posted to channels matching the given patterns",
        punsubscribe,
    ),
    row(
        "ssubscribe",
        -2,
        PUBSUB | NOSCRIPT | LOADING | STALE,
        (1, -1, 1),
        "pubsub",
        "7.0.0",
        "Listen for messages published to the given shard channels",
        ssubscribe,
    )
    .key_flags(&["not_key"]),
    row(
        "sunsubscribe",
        -1,
        PUBSUB | NOSCRIPT | LOADING | STALE,
        (1, -1, 1),
        "pubsub",
        "7.0.0",
        "Stop listening for messages posted to the given shard channels",
        sunsubscribe,
    )
    .key_flags(&["not_key"]),
    row(
        "publish",
        3,
        PUBSUB | LOADING | STALE | FAST | MAY_REPLICATE | SENTINEL,
        (0, 0, 0),
        "pubsub",
        "2.0.0",
        "Post a message to a channel",
        publish,
    ),
    row(
        "spublish",
        3,
        PUBSUB | LOADING | STALE | FAST | MAY_REPLICATE,
        (1, 1, 1),
        "pubsub",
        "7.0.0",
        "Post a message to a shard channel",
        spublish,
    )
    .key_flags(&["not_key"]),
    Command {
        subcommands: PUBSUB_SUBCOMMANDS,
        ..row("pubsub", -2, 0, (0, 0, 0), "pubsub", "2.8.0", "A container for Pub/Sub commands", container)
    },
];

static PUBSUB_SUBCOMMANDS: &[Command] = &[
    row(
        "channels",
        -2,
        PUBSUB | LOADING | STALE,
        (0, 0, 0),
        "pubsub",
        "2.8.0",
        "List active channels",
        pubsub_channels,
    ),
    row(
        "numsub",
        -2,
        PUBSUB | LOADING | STALE,
        (0, 0, 0),
        "pubsub",
        "2.8.0",
        "Get the count of subscribers for channels",
        pubsub_numsub,
    ),
    row(
        "numpat",
        2,
        PUBSUB | LOADING | STALE,
        (0, 0, 0),
        "pubsub",
        "2.8.0",
        "Get the count of unique patterns pattern subscriptions",
        pubsub_numpat,
    ),
    row(
        "shardchannels",
        -2,
        PUBSUB | LOADING | STALE,
        (0, 0, 0),
        "pubsub",
        "7.0.0",
        "List active shard channels",
        pubsub_shardchannels,
    ),
    row(
        "shardnumsub",
        -2,
        PUBSUB | LOADING | STALE,
        (0, 0, 0),
        "pubsub",
        "7.0.0",
        "Get the count of subscribers for shard channels",
        pubsub_shardnumsub,
    ),
    row(
        "help",
        2,
        LOADING | STALE,
        (0, 0, 0),
        "pubsub",
        "6.2.0",
        "Show helpful text about the different subcommands",
        pubsub_help,
    ),
];

/// Commands a RESP2 client may send while subscribed.
pub const ALLOWED_WHEN_SUBSCRIBED: &[&str] =
    &["subscribe", "unsubscribe", "psubscribe", "punsubscribe", "ssubscribe", "sunsubscribe", "ping", "quit", "reset"];

const CONFIRM: [(&str, &str); 3] =
    [("subscribe", "unsubscribe"), ("psubscribe", "punsubscribe"), ("ssubscribe", "sunsubscribe")];

/// The count a (un)subscribe confirmation carries.
fn count(cx: &mut Ctx, kind: SubKind) -> i64 {
    let c = cx.client();
    (if kind == SubKind::Shard { c.subs[2].len() } else { c.sub_count() }) as i64
}

fn confirm(cx: &mut Ctx, kind: SubKind, on: bool, name: Option<&[u8]>) {
    let n = count(cx, kind);
    let (s, u) = CONFIRM[kind as usize];
    let start = cx.out.buf.len();
    cx.out.push(3);
    cx.out.bulk(if on { s } else { u }.as_bytes());
    match name {
        Some(name) => cx.out.bulk(name),
        None => cx.out.null(),
    }
    cx.out.int(n);
    cx.keep_push(start);
}

fn subscribe_generic(cx: &mut Ctx, args: &Args, kind: SubKind) -> CmdResult {
    for name in args.from(1) {
        cx.srv.subscription(cx.key, kind, name, true);
        confirm(cx, kind, true, Some(name));
    }
    Ok(())
}

fn unsubscribe_generic(cx: &mut Ctx, args: &Args, kind: SubKind) -> CmdResult {
    let names: Vec<Vec<u8>> = if args.len() > 1 {
        args.from(1).map(|n| n.to_vec()).collect()
    } else {
        cx.client().subs[kind as usize].iter().map(|k| k.to_vec()).collect()
    };
    if names.is_empty() {
        confirm(cx, kind, false, None);
    }
    for name in names {
        cx.srv.subscription(cx.key, kind, &name, false);
        confirm(cx, kind, false, Some(&name));
    }
    Ok(())
}

/// # Format
/// `SUBSCRIBE channel [channel ...]`
fn subscribe(cx: &mut Ctx, args: &Args) -> CmdResult {
    subscribe_generic(cx, args, SubKind::Channel)
}

/// # Format
/// `UNSUBSCRIBE [channel [channel ...]]`
fn unsubscribe(cx: &mut Ctx, args: &Args) -> CmdResult {
    unsubscribe_generic(cx, args, SubKind::Channel)
}

/// # Format
/// `PSUBSCRIBE pattern [pattern ...]`
fn psubscribe(cx: &mut Ctx, args: &Args) -> CmdResult {
    subscribe_generic(cx, args, SubKind::Pattern)
}

/// # Format
/// `PUNSUBSCRIBE [pattern [pattern ...]]`
fn punsubscribe(cx: &mut Ctx, args: &Args) -> CmdResult {
    unsubscribe_generic(cx, args, SubKind::Pattern)
}

/// # Format
/// `SSUBSCRIBE shardchannel [shardchannel ...]`
fn ssubscribe(cx: &mut Ctx, args: &Args) -> CmdResult {
    subscribe_generic(cx, args, SubKind::Shard)
}

/// # Format
/// `SUNSUBSCRIBE [shardchannel [shardchannel ...]]`
fn sunsubscribe(cx: &mut Ctx, args: &Args) -> CmdResult {
    unsubscribe_generic(cx, args, SubKind::Shard)
}

fn publish_generic(cx: &mut Ctx, args: &Args, shard: bool) -> CmdResult {
    let (channel, message) = (args.get(1), args.get(2));
    let n = cx.srv.pubsub.receivers(channel, shard);
    if n > 0 {
        let from = cx.srv.pubsub.outbox.len();
        cx.srv.pubsub.outbox.push(Outgoing { channel: channel.into(), message: message.to_vec(), shard, served: None });
        cx.publish_inline(from);
    }
    cx.out.int(n as i64);
    Ok(())
}

/// # Format
/// `PUBLISH channel message`
fn publish(cx: &mut Ctx, args: &Args) -> CmdResult {
    publish_generic(cx, args, false)
}

/// # Format
/// `SPUBLISH shardchannel message`
fn spublish(cx: &mut Ctx, args: &Args) -> CmdResult {
    publish_generic(cx, args, true)
}

fn channels_generic(cx: &mut Ctx, args: &Args, kind: SubKind) -> CmdResult {
    if args.len() > 3 {
        return Err(super::subcommand_syntax_error(args));
    }
    let pattern = (args.len() == 3).then(|| args.get(2));
    let names: Vec<Vec<u8>> = cx
        .srv
        .pubsub
        .map(kind)
        .keys()
        .filter(|k| pattern.is_none_or(|p| glob::matches(p, k, false)))
        .map(|k| k.to_vec())
        .collect();
    cx.out.array(names.len());
    names.iter().for_each(|n| cx.out.bulk(n));
    Ok(())
}

/// A flat array of channel, count pairs: Redis 7.0 sends an array, not a
/// map, in RESP3 too.
fn numsub_generic(cx: &mut Ctx, args: &Args, kind: SubKind) -> CmdResult {
    cx.out.array(2 * (args.len() - 2));
    for name in args.from(2) {
        let n = cx.srv.pubsub.map(kind).get(name).map_or(0, |v| v.len());
        cx.out.bulk(name);
        cx.out.int(n as i64);
    }
    Ok(())
}

/// # Format
/// `PUBSUB CHANNELS [pattern]`
fn pubsub_channels(cx: &mut Ctx, args: &Args) -> CmdResult {
    channels_generic(cx, args, SubKind::Channel)
}

/// # Format
/// `PUBSUB NUMSUB [channel [channel ...]]`
fn pubsub_numsub(cx: &mut Ctx, args: &Args) -> CmdResult {
    numsub_generic(cx, args, SubKind::Channel)
}

/// # Format
/// `PUBSUB NUMPAT`
fn pubsub_numpat(cx: &mut Ctx, _args: &Args) -> CmdResult {
    let n = cx.srv.pubsub.patterns.len();
    cx.out.int(n as i64);
    Ok(())
}

/// # Format
/// `PUBSUB SHARDCHANNELS [pattern]`
fn pubsub_shardchannels(cx: &mut Ctx, args: &Args) -> CmdResult {
    channels_generic(cx, args, SubKind::Shard)
}

/// # Format
/// `PUBSUB SHARDNUMSUB [shardchannel [shardchannel ...]]`
fn pubsub_shardnumsub(cx: &mut Ctx, args: &Args) -> CmdResult {
    numsub_generic(cx, args, SubKind::Shard)
}

/// # Format
/// `PUBSUB HELP`
fn pubsub_help(cx: &mut Ctx, _args: &Args) -> CmdResult {
    super::server::help(
        &mut cx.out,
        "PUBSUB",
        &[
            "CHANNELS [<pattern>]",
            "    Return the currently active channels matching a <pattern> (default: '*').",
            "NUMPAT",
            "    Return number of subscriptions to patterns.",
            "NUMSUB [<channel> ...]",
            "    Return the number of subscribers for the specified channels, excluding",
            "    pattern subscriptions(default: no channels).",
            "SHARDCHANNELS [<pattern>]",
            "    Return the currently active shard level channels matching a <pattern> (default: '*').",
            "SHARDNUMSUB [<shardchannel> ...]",
            "    Return the number of subscribers for the specified shard level channel(s)",
        ],
    );
    Ok(())
}

/// The error a RESP2 client gets for other commands while subscribed.
pub fn not_allowed(fullname: &str) -> CmdError {
    CmdError::msg(format!(
        "ERR Can't execute '{fullname}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"
    ))
}

/// A published message as a subscriber receives it: `message` (`smessage`
/// for a shard channel, `pmessage` with the pattern it matched), the
/// channel, the payload.
pub fn write_message(out: &mut Reply, msg: &Outgoing, pattern: Option<&[u8]>) {
    match (pattern, msg.shard) {
        (Some(p), _) => {
            out.push(4);
            out.bulk(b"pmessage");
            out.bulk(p);
        }
        (None, true) => {
            out.push(3);
            out.bulk(b"smessage");
        }
        (None, false) => {
            out.push(3);
            out.bulk(b"message");
        }
    }
    out.bulk(&msg.channel);
    out.bulk(&msg.message);
}
