//! Client-side caching: `CLIENT TRACKING` and its invalidation messages
//! (Redis's `tracking.c`).
//!
//! A tracking client in the default mode has every key its read-only
//! commands name remembered in one table (key → client ids, for all
//! databases together, as in Redis); when such a key is modified, expires or
//! is evicted, each remembered client gets an `invalidate` message and the
//! key leaves the table. In BCAST mode nothing is remembered: every
//! modified key matching one of the client's prefixes is collected and sent
//! in one message per prefix before the loop sleeps. Messages go as RESP3
//! pushes, or, to a RESP2 connection that a client redirects to and that is
//! subscribed, as `message`s on `__redis__:invalidate`.
//!
//! Invalidations for the client whose command is running wait until after
//! its reply (`pending`); the loop writes the others into their connections
//! after each command (`sends`).

use super::state::{Client, Shared};
use crate::cmd::lossy;
use crate::resp::{Proto, Reply};
use crate::store::Key;
use hashbrown::DefaultHashBuilder;
use indexmap::IndexMap;
use smallvec::SmallVec;
use std::collections::BTreeMap;

/// A client's tracking mode (`CLIENT TRACKING ON …`).
#[derive(Debug, Default, Clone)]
pub struct ClientTracking {
    /// The id invalidations are redirected to; 0: none.
    pub redirect: u64,
    pub bcast: bool,
    pub optin: bool,
    pub optout: bool,
    pub noloop: bool,
    /// CLIENT CACHING YES|NO was given for the next command.
    pub caching: bool,
    /// The redirect client is gone.
    pub broken_redirect: bool,
    /// BCAST prefixes, sorted.
    pub prefixes: Vec<Key>,
}

/// One BCAST prefix: its clients and the keys modified since the last
/// broadcast, each with the id of the client that modified it last (0:
/// the server itself, by expiry or eviction).
#[derive(Debug, Default)]
struct Bcast {
    clients: Vec<(usize, u64)>,
    keys: BTreeMap<Key, u64>,
}

/// What an invalidation says: these keys, or everything (a flush).
enum Payload<'a> {
    Key(&'a [u8]),
    /// Already encoded (a BCAST key array, or a null for a flush).
    Raw(&'a [u8]),
}

/// An invalidation waiting for the running command's reply.
#[derive(Debug)]
enum Pending {
    Key(Key),
    Flush,
}

/// The server's tracking state.
#[derive(Debug, Default)]
pub struct Tracking {
    /// Key → ids of the clients that may cache it. An `IndexMap` so that a
    /// random key can be dropped in O(1) when the table is over its limit.
    table: IndexMap<Key, SmallVec<[u64; 2]>, DefaultHashBuilder>,
    /// Client ids over all keys of the table (INFO tracking_total_items).
    items: usize,
    prefixes: BTreeMap<Key, Bcast>,
    /// How many registered prefixes have each length: a modified key is
    /// looked up once per length present (its first `len` bytes), not
    /// compared with every prefix (Redis 7.0 walks them all: with 10,000
    /// prefixes its SET throughput falls to ~2,300/s).
    prefix_lens: BTreeMap<usize, usize>,
    /// Prefixes whose `keys` went from empty to not since the last broadcast.
    dirty_prefixes: Vec<Key>,
    /// Clients with tracking on (INFO tracking_clients).
    pub clients: usize,
    pending: Vec<Pending>,
    /// Encoded messages for the loop to write: (connection key, client id,
    /// start, end) of `buf`.
    pub sends: Vec<(usize, u64, usize, usize)>,
    pub buf: Vec<u8>,
    /// Consecutive commands that found the table over its limit (Redis's
    /// `timeout_counter`: each raises the effort of the next).
    over_limit_runs: usize,
}

impl Tracking {
    /// Whether modified keys must be reported here at all.
    pub fn active(&self) -> bool {
        self.clients > 0 || !self.table.is_empty()
    }

    pub fn total_keys(&self) -> usize {
        self.table.len()
    }

    pub fn total_items(&self) -> usize {
        self.items
    }

    pub fn total_prefixes(&self) -> usize {
        self.prefixes.len()
    }

    /// Moves the messages queued for client `key` (`id`) into `out`, its
    /// output buffer (the table limit's, before its command's reply).
    pub fn take_sends_to(&mut self, key: usize, id: u64, out: &mut Vec<u8>) {
        let buf = &self.buf;
        self.sends.retain(|&(k, i, start, end)| {
            let mine = (k, i) == (key, id);
            if mine {
                out.extend_from_slice(&buf[start..end]);
            }
            !mine
        });
    }
}

/// Why `CLIENT TRACKING ON` is refused, checked against the client's
/// current mode; the texts are Redis's.
pub fn check_enable(current: Option<&ClientTracking>, new: &ClientTracking, prefixes: &[&[u8]]) -> Result<(), String> {
    if !new.bcast && !prefixes.is_empty() {
        return Err("ERR PREFIX option requires BCAST mode to be enabled".into());
    }
    if current.is_some_and(|c| c.bcast != new.bcast) {
        return Err("ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then \
                    re-enabling it with a different mode."
            .into());
    }
    if new.bcast && (new.optin || new.optout) {
        return Err("ERR OPTIN and OPTOUT are not compatible with BCAST".into());
    }
    if new.optin && new.optout {
        return Err("ERR You can't specify both OPTIN mode and OPTOUT mode".into());
    }
    if current.is_some_and(|c| (new.optin && c.optout) || (new.optout && c.optin)) {
        return Err("ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then \
                    re-enabling it with a different mode."
            .into());
    }
    if new.bcast {
        // Sorted, any two overlapping prefixes leave an overlapping pair of
        // neighbours (whatever sorts between a prefix and a longer string
        // starting with it starts with it too): O(n log n) when all is well.
        // Only a refusal runs the quadratic scan, to name the pair Redis names.
        let mut all: Vec<&[u8]> = current
            .into_iter()
            .flat_map(|c| c.prefixes.iter().map(|p| &p[..]))
            .chain(prefixes.iter().copied())
            .collect();
        all.sort_unstable();
        if all.windows(2).all(|w| !w[1].starts_with(w[0])) {
            return Ok(());
        }
        let overlap = |a: &[u8], b: &[u8]| a.starts_with(b) || b.starts_with(a);
        for (i, p) in prefixes.iter().enumerate() {
            if let Some(old) = current.into_iter().flat_map(|c| &c.prefixes).find(|old| overlap(old, p)) {
                return Err(format!(
                    "ERR Prefix '{}' overlaps with an existing prefix '{}'. Prefixes for a single client must not \
                     overlap.",
                    lossy(p),
                    lossy(old)
                ));
            }
            if let Some(other) = prefixes[i + 1..].iter().find(|q| overlap(p, q)) {
                return Err(format!(
                    "ERR Prefix '{}' overlaps with another provided prefix '{}'. Prefixes for a single client must \
                     not overlap.",
                    lossy(p),
                    lossy(other)
                ));
            }
        }
    }
    Ok(())
}

impl Shared {
    /// `CLIENT TRACKING ON` for client `key` (options already checked): the
    /// mode flags and redirect are replaced, BCAST prefixes are added to
    /// those it has (no prefix: the empty one, matching every key).
    pub fn enable_tracking(&mut self, key: usize, mode: ClientTracking, prefixes: &[&[u8]]) {
        let client = self.client_mut(key);
        let id = client.id;
        let was_on = client.tracking.is_some();
        let old_prefixes = client.tracking.take().map(|t| t.prefixes).unwrap_or_default();
        let mut t = ClientTracking { prefixes: old_prefixes, caching: false, broken_redirect: false, ..mode };
        if t.bcast {
            let new: Vec<&[u8]> = if prefixes.is_empty() { vec![b""] } else { prefixes.to_vec() };
            for p in new {
                if !self.tracking.prefixes.contains_key(p) {
                    *self.tracking.prefix_lens.entry(p.len()).or_default() += 1;
                }
                let bs = self.tracking.prefixes.entry(p.into()).or_default();
                if !bs.clients.contains(&(key, id)) {
                    bs.clients.push((key, id));
                }
                t.prefixes.push(p.into());
            }
            t.prefixes.sort_unstable();
            t.prefixes.dedup();
        }
        self.client_mut(key).tracking = Some(Box::new(t));
        if !was_on {
            self.tracking.clients += 1;
            self.sync_notify();
        }
    }

    /// `CLIENT TRACKING OFF`, RESET, or the connection closing. The client's
    /// ids stay in the table and are skipped later, as in Redis.
    pub fn disable_tracking(&mut self, key: usize) {
        let Some(Some(client)) = self.clients.get_mut(key) else { return };
        let id = client.id;
        let Some(t) = client.tracking.take() else { return };
        for p in &t.prefixes {
            if let Some(bs) = self.tracking.prefixes.get_mut(p) {
                bs.clients.retain(|&c| c != (key, id));
                if bs.clients.is_empty() {
                    self.tracking.prefixes.remove(p);
                    if let Some(n) = self.tracking.prefix_lens.get_mut(&p.len()) {
                        *n -= 1;
                        if *n == 0 {
                            self.tracking.prefix_lens.remove(&p.len());
                        }
                    }
                }
            }
        }
        self.tracking.clients -= 1;
        if self.tracking.clients == 0 {
            // Nobody is left to broadcast to (the loop stops calling it).
            self.tracking.dirty_prefixes.clear();
        }
        self.sync_notify();
    }

    /// After a read-only command of client `key`: remembers the keys it
    /// read, unless OPTIN/OPTOUT and CLIENT CACHING say otherwise.
    pub fn remember_keys<'k>(&mut self, key: usize, keys: impl Iterator<Item = &'k [u8]>) {
        let client = self.client(key);
        let id = client.id;
        let Some(t) = client.tracking.as_deref() else { return };
        if t.bcast || (t.optin && !t.caching) || (t.optout && t.caching) {
            return;
        }
        let tr = &mut self.tracking;
        for k in keys {
            let ids = match tr.table.get_mut(k) {
                Some(ids) => ids,
                None => tr.table.entry(k.into()).or_default(),
            };
            if !ids.contains(&id) {
                ids.push(id);
                tr.items += 1;
            }
        }
    }

    /// A key was modified (`by`: the id of the client that did it, `None`
    /// for expiry and eviction): invalidates it for the clients that may
    /// cache it, and queues it for matching BCAST prefixes.
    pub fn invalidate_key(&mut self, key: &[u8], by: Option<u64>) {
        if !self.tracking.prefixes.is_empty() {
            // A script's write is its Lua client's for broadcasting (Redis
            // 7.0.15): a BCAST NOLOOP caller hears of it.
            let by = if self.in_script { None } else { by };
            let Tracking { prefixes, prefix_lens, dirty_prefixes, .. } = &mut self.tracking;
            for &len in prefix_lens.range(..=key.len()).map(|(len, _)| len) {
                let p = &key[..len];
                if let Some(bs) = prefixes.get_mut(p) {
                    if bs.keys.is_empty() {
                        dirty_prefixes.push(p.into());
                    }
                    bs.keys.insert(key.into(), by.unwrap_or(0));
                }
            }
        }
        self.drop_tracked_key(key, by, true);
    }

    /// Takes `key` out of the table and tells each client remembered for
    /// it. A NOLOOP client is not told of its own change (`by` its id).
    /// `after_reply`: the running client hears after its reply if its
    /// command is executing (it changed the key); else at once (the table
    /// limit, or an eviction, before a command runs, as Redis's
    /// `trackingInvalidateKey` does for a client not executing a command).
    fn drop_tracked_key(&mut self, key: &[u8], by: Option<u64>, after_reply: bool) {
        let Some(ids) = self.tracking.table.swap_remove(key) else { return };
        self.tracking.items -= ids.len();
        for id in ids {
            let Some(&target) = self.by_id.get(&id) else { continue };
            let Some(t) = self.client(target).tracking.as_deref() else { continue };
            if t.bcast || (t.noloop && by == Some(id)) {
                continue;
            }
            if after_reply && self.executing && Some(target) == self.current {
                self.tracking.pending.push(Pending::Key(key.into()));
            } else {
                self.send_tracking(target, Payload::Key(key));
            }
        }
    }

    /// FLUSHDB / FLUSHALL: every tracking client is told that all its keys
    /// are invalid (a null), and the table is emptied.
    pub fn invalidate_all(&mut self) {
        if self.tracking.clients > 0 {
            let tracking: Vec<usize> = (0..self.clients.len())
                .filter(|&k| self.clients[k].as_ref().is_some_and(|c| c.tracking.is_some()))
                .collect();
            for k in tracking {
                if Some(k) == self.current {
                    self.tracking.pending.push(Pending::Flush);
                } else {
                    self.send_tracking(k, Payload::Raw(null_for(self.client(k))));
                }
            }
        }
        self.tracking.table = IndexMap::default();
        self.tracking.items = 0;
    }

    /// After the running command's reply: its own invalidations.
    pub fn flush_pending_invalidations(&mut self) {
        if self.tracking.pending.is_empty() {
            return;
        }
        let Some(me) = self.current else { return };
        for p in std::mem::take(&mut self.tracking.pending) {
            if self.clients.get(me).is_none_or(|c| c.as_ref().is_none_or(|c| c.tracking.is_none())) {
                break;
            }
            match p {
                Pending::Key(k) => self.send_tracking(me, Payload::Key(&k)),
                Pending::Flush => self.send_tracking(me, Payload::Raw(null_for(self.client(me)))),
            }
        }
    }

    /// Before the loop sleeps: one message per BCAST prefix with the keys
    /// modified under it, to each of its clients (NOLOOP clients without
    /// the keys they modified themselves).
    pub fn broadcast_invalidations(&mut self) {
        if self.tracking.dirty_prefixes.is_empty() {
            return;
        }
        let mut dirty = std::mem::take(&mut self.tracking.dirty_prefixes);
        // In prefix order, as Redis walks its prefix table.
        dirty.sort_unstable();
        for p in dirty {
            let Some(bs) = self.tracking.prefixes.get_mut(&p) else { continue };
            let keys = std::mem::take(&mut bs.keys);
            let clients = bs.clients.clone();
            let all = key_array(&keys, None);
            for (k, id) in clients {
                let noloop = self.client(k).tracking.as_deref().is_some_and(|t| t.noloop);
                if noloop {
                    if let Some(own) = key_array(&keys, Some(id)) {
                        self.send_tracking(k, Payload::Raw(&own));
                    }
                } else if let Some(all) = &all {
                    self.send_tracking(k, Payload::Raw(all));
                }
            }
        }
    }

    /// Keeps the table within `tracking-table-max-keys`, before a command
    /// and from the cron (so a lowered limit takes effect on an idle
    /// server): drops random keys, invalidating them for their clients,
    /// with an effort that grows while the table stays over (Redis's
    /// `trackingLimitUsedSlots`). As in Redis, the client about to run a
    /// command hears at once, before that command's reply, unless it is in
    /// NOLOOP mode: Redis counts it as the one changing the key then.
    pub fn limit_tracking_table(&mut self) {
        let max = self.config.tracking_table_max_keys as usize;
        if max == 0 || self.tracking.table.len() <= max {
            self.tracking.over_limit_runs = 0;
            return;
        }
        let effort = 100 * (self.tracking.over_limit_runs + 1);
        let current = self.current.map(|c| self.client(c).id);
        for _ in 0..effort {
            let len = self.tracking.table.len();
            if len <= max {
                self.tracking.over_limit_runs = 0;
                return;
            }
            let i = self.rng.below(len);
            let Some(k) = self.tracking.table.get_index(i).map(|(k, _)| k.clone()) else { break };
            self.drop_tracked_key(&k, current, false);
        }
        self.tracking.over_limit_runs += 1;
    }

    /// Writes one invalidation for tracking client `key` (Redis's
    /// `sendTrackingMessage`): to its redirect client if it has one (or,
    /// when that client is gone, a `tracking-redir-broken` push to itself
    /// in RESP3), as a push in RESP3 or a Pub/Sub message to a subscribed
    /// RESP2 redirect client; a RESP2 client without redirect gets nothing.
    fn send_tracking(&mut self, key: usize, payload: Payload) {
        let Some(t) = self.client(key).tracking.as_deref() else { return };
        let redirect = t.redirect;
        let mut target = key;
        if redirect != 0 {
            match self.by_id.get(&redirect) {
                Some(&k) => target = k,
                None => {
                    let client = self.client_mut(key);
                    if let Some(t) = client.tracking.as_deref_mut() {
                        t.broken_redirect = true;
                    }
                    if client.proto == Proto::Resp3 {
                        let (id, start) = (client.id, self.tracking.buf.len());
                        let mut out = Reply::new(&mut self.tracking.buf, Proto::Resp3);
                        out.push(2);
                        out.bulk(b"tracking-redir-broken");
                        out.int(redirect as i64);
                        self.tracking.sends.push((key, id, start, self.tracking.buf.len()));
                    }
                    return;
                }
            }
        }
        let to = self.client(target);
        let (proto, id, subscribed) = (to.proto, to.id, to.subscribed());
        let start = self.tracking.buf.len();
        let mut out = Reply::new(&mut self.tracking.buf, proto);
        if proto == Proto::Resp3 {
            out.push(2);
            out.bulk(b"invalidate");
        } else if redirect != 0 && subscribed {
            out.array(3);
            out.bulk(b"message");
            out.bulk(b"__redis__:invalidate");
        } else {
            return;
        }
        match payload {
            Payload::Key(k) => {
                out.array(1);
                out.bulk(k);
            }
            Payload::Raw(r) => self.tracking.buf.extend_from_slice(r),
        }
        self.tracking.sends.push((target, id, start, self.tracking.buf.len()));
    }
}

/// The null of a flush, in the tracking client's own protocol (as Redis
/// does, even when the message goes to a redirect client).
fn null_for(c: &Client) -> &'static [u8] {
    if c.proto == Proto::Resp3 { b"_\r\n" } else { b"$-1\r\n" }
}

/// The BCAST array of `keys`, leaving out those `skip` modified last;
/// `None` if nothing is left.
fn key_array(keys: &BTreeMap<Key, u64>, skip: Option<u64>) -> Option<Vec<u8>> {
    let chosen: Vec<&Key> = keys.iter().filter(|(_, by)| skip.is_none_or(|s| s != **by)).map(|(k, _)| k).collect();
    if chosen.is_empty() {
        return None;
    }
    let mut buf = Vec::with_capacity(chosen.len() * 16);
    let mut out = Reply::new(&mut buf, Proto::Resp2);
    out.array(chosen.len());
    for k in chosen {
        out.bulk(k);
    }
    Some(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(bcast: bool, optin: bool, optout: bool) -> ClientTracking {
        ClientTracking { bcast, optin, optout, ..Default::default() }
    }

    #[test]
    fn enable_checks_follow_redis() {
        let e = |cur: Option<&ClientTracking>, new: ClientTracking, p: &[&[u8]]| check_enable(cur, &new, p).err();
        assert!(e(None, mode(false, false, false), &[b"a"]).unwrap().contains("PREFIX option requires BCAST"));
        assert!(
            e(Some(&mode(true, false, false)), mode(false, false, false), &[]).unwrap().contains("BCAST mode on/off")
        );
        assert!(e(None, mode(true, true, false), &[]).unwrap().contains("not compatible with BCAST"));
        assert!(e(None, mode(false, true, true), &[]).unwrap().contains("both OPTIN mode and OPTOUT"));
        assert!(
            e(Some(&mode(false, true, false)), mode(false, false, true), &[]).unwrap().contains("OPTIN/OPTOUT mode")
        );
        let with_user = ClientTracking { prefixes: vec![Key::from_slice(b"user:")], ..mode(true, false, false) };
        assert_eq!(
            e(Some(&with_user), mode(true, false, false), &[b"us"]).unwrap(),
            "ERR Prefix 'us' overlaps with an existing prefix 'user:'. Prefixes for a single client must not overlap."
        );
        assert_eq!(
            e(None, mode(true, false, false), &[b"zz", b"zzz"]).unwrap(),
            "ERR Prefix 'zz' overlaps with another provided prefix 'zzz'. Prefixes for a single client must not \
             overlap."
        );
        assert!(e(None, mode(true, false, false), &[b"a", b"b"]).is_none());
        assert!(e(Some(&mode(false, true, false)), mode(false, true, false), &[]).is_none());
    }

    #[test]
    fn bcast_arrays_skip_the_noloop_clients_own_keys() {
        let mut keys = BTreeMap::new();
        keys.insert(Key::from_slice(b"b"), 7);
        keys.insert(Key::from_slice(b"a"), 0);
        assert_eq!(key_array(&keys, None).unwrap(), b"*2\r\n$1\r\na\r\n$1\r\nb\r\n");
        assert_eq!(key_array(&keys, Some(7)).unwrap(), b"*1\r\n$1\r\na\r\n");
        keys.remove(&b"a"[..]);
        assert_eq!(key_array(&keys, Some(7)), None);
    }
}
