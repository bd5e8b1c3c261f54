//! Keyspace notifications (`notify-keyspace-events`): the event classes,
//! their redis.conf letters, and publishing `__keyspace@<db>__:<key>` /
//! `__keyevent@<db>__:<event>` messages through Pub/Sub.
//!
//! Commands call [`Shared::notify`] (or, holding a database borrowed,
//! `Db::event`) with Redis's event names. Events the keyspace itself
//! produces (a key expiring on access or in the expiry cycle, a key
//! created, a read that missed) are queued by the database too; queued
//! events are published in order before the next direct one and at the end
//! of the command.

use super::state::{Cause, Outgoing, Shared};
use crate::store::Key;

pub const KEYSPACE: u32 = 1 << 0;
pub const KEYEVENT: u32 = 1 << 1;
pub const GENERIC: u32 = 1 << 2;
pub const STRING: u32 = 1 << 3;
pub const LIST: u32 = 1 << 4;
pub const SET: u32 = 1 << 5;
pub const HASH: u32 = 1 << 6;
pub const ZSET: u32 = 1 << 7;
pub const EXPIRED: u32 = 1 << 8;
pub const EVICTED: u32 = 1 << 9;
pub const STREAM: u32 = 1 << 10;
pub const KEY_MISS: u32 = 1 << 11;
pub const MODULE: u32 = 1 << 12;
pub const NEW: u32 = 1 << 13;
/// `A`: every class but key-miss and new.
pub const ALL: u32 = GENERIC | STRING | LIST | SET | HASH | ZSET | EXPIRED | EVICTED | STREAM | MODULE;

/// The letters of the classes `A` stands for, in Redis's order.
const CLASSES: [(char, u32); 11] = [
    ('g', GENERIC),
    ('$', STRING),
    ('l', LIST),
    ('s', SET),
    ('h', HASH),
    ('z', ZSET),
    ('x', EXPIRED),
    ('e', EVICTED),
    ('t', STREAM),
    ('d', MODULE),
    ('n', NEW),
];

/// Parses a `notify-keyspace-events` value (Redis's
/// `keyspaceEventsStringToFlags`).
pub fn parse(s: &str) -> Result<u32, String> {
    let mut flags = 0;
    for c in s.chars() {
        flags |= match c {
            'A' => ALL,
            'K' => KEYSPACE,
            'E' => KEYEVENT,
            'm' => KEY_MISS,
            c => CLASSES
                .iter()
                .find(|(l, _)| *l == c)
                .map(|(_, f)| *f)
                .ok_or_else(|| "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.".to_string())?,
        };
    }
    Ok(flags)
}

/// The canonical text of `flags` (Redis's `keyspaceEventsFlagsToString`).
pub fn format(flags: u32) -> String {
    let mut s = String::new();
    if flags & ALL == ALL {
        // As in Redis, `n` is not shown next to `A` (it stays set).
        s.push('A');
    } else {
        s.extend(CLASSES.iter().filter(|(_, f)| flags & f != 0).map(|(l, _)| *l));
    }
    for (l, f) in [('K', KEYSPACE), ('E', KEYEVENT), ('m', KEY_MISS)] {
        if flags & f != 0 {
            s.push(l);
        }
    }
    s
}

impl Shared {
    /// Event `event` of class `class` happened to `key` in database `db`:
    /// unless it is `new` or `keymiss`, the key was modified (WATCH and
    /// tracking are told), and the event is published if the configuration
    /// asks for it. Events the databases queued (expired, new, keymiss) go
    /// first.
    pub fn notify(&mut self, class: u32, event: &'static str, key: &[u8], db: usize) {
        if class & (EXPIRED | EVICTED | NEW | KEY_MISS) == 0 {
            // A command modified a key: the propagation path's signal.
            self.prop.changes += 1;
        }
        if !self.key_signals {
            return;
        }
        self.flush_db_events();
        self.key_event(class, event, key, db);
    }

    /// Handles the events the databases queued.
    pub fn flush_db_events(&mut self) {
        for db in 0..self.dbs.len() {
            if self.dbs[db].events.is_empty() {
                continue;
            }
            for (class, event, key) in std::mem::take(&mut self.dbs[db].events) {
                self.key_event(class, event, &key, db);
            }
        }
    }

    /// [`Shared::notify`] of an event Redis publishes without calling
    /// `signalModifiedKey`: consumer-group changes and XSETID (measured on
    /// redis-server 7.0.15: no tracking invalidation, so no WATCH abort
    /// either). The change still propagates.
    pub fn notify_unmodified(&mut self, class: u32, event: &'static str, key: &[u8], db: usize) {
        self.prop.changes += 1;
        if !self.key_signals {
            return;
        }
        self.flush_db_events();
        let flags = self.config.notify_keyspace_events;
        if flags != 0 {
            self.publish_event(flags, class, event, key, db);
        }
    }

    fn key_event(&mut self, class: u32, event: &'static str, key: &[u8], db: usize) {
        if class & ALL != 0 {
            let cause = match class {
                EXPIRED => Cause::Expired,
                EVICTED => Cause::Evicted,
                _ => Cause::Write,
            };
            self.signal_modified(db, key, cause);
        }
        let flags = self.config.notify_keyspace_events;
        if flags != 0 {
            self.publish_event(flags, class, event, key, db);
        }
    }

    fn publish_event(&mut self, flags: u32, class: u32, event: &str, key: &[u8], db: usize) {
        if flags & class == 0 {
            return;
        }
        if flags & KEYSPACE != 0 {
            let mut channel = format!("__keyspace@{db}__:").into_bytes();
            channel.extend_from_slice(key);
            let channel = Key::from_vec(channel);
            self.pubsub.outbox.push(Outgoing {
                channel,
                message: event.as_bytes().to_vec(),
                shard: false,
                served: None,
            });
        }
        if flags & KEYEVENT != 0 {
            let channel = format!("__keyevent@{db}__:{event}");
            let channel = Key::from_slice(channel.as_bytes());
            self.pubsub.outbox.push(Outgoing { channel, message: key.to_vec(), shard: false, served: None });
        }
    }

    /// Decides which events the databases queue and whether commands
    /// report modified keys at all: the configured events, and every
    /// modification while a client WATCHes or tracking is on (at start,
    /// after CONFIG SET, and when those start or end).
    pub fn sync_notify(&mut self) {
        let flags = self.config.notify_keyspace_events;
        let mut queued = if flags & (KEYSPACE | KEYEVENT) == 0 { 0 } else { flags };
        if !self.watches.is_empty() || self.tracking.active() {
            queued |= ALL;
        }
        self.key_signals = queued != 0;
        for db in &mut self.dbs {
            db.notify = queued;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_round_trip_like_redis() {
        assert_eq!(format(parse("KEA").unwrap()), "AKE");
        assert_eq!(format(parse("Kgxmn$lE").unwrap()), "g$lxnKEm");
        assert_eq!(format(parse("Ag").unwrap()), "A");
        assert_eq!(format(parse("AKEn").unwrap()), "AKE");
        assert_ne!(parse("AKEn").unwrap() & NEW, 0);
        assert_eq!(format(parse("").unwrap()), "");
        assert_eq!(parse("Kq").unwrap_err(), "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.");
    }
}
