//! Replication, the primary's side (Redis 7.0's `replication.c` for a
//! master): a real `redis-server --replicaof` (or `redis-cli --replica`,
//! `redis-cli --rdb`) attaches with SYNC or PSYNC, gets a full copy as an
//! RDB and then the propagated stream of writes (`persist::propagate`, the
//! same stream the AOF consumes), acknowledges with `REPLCONF ACK`, and
//! after a broken link resumes with PSYNC from the backlog when the bytes
//! it misses are still there.
//!
//! The RDB of a full sync is written by the forkless snapshot: with
//! `repl-diskless-sync no` as a BGSAVE writes it (`dir/dbfilename`,
//! counted as a save), with `yes` (the default) to a temporary file that
//! goes once the replicas have it open, leaving dump.rdb and the save
//! counters alone as Redis's socket transfer does. It is then sent as
//! `$<length>\r\n<bytes>` a slice per loop turn, never ahead of what the
//! socket takes (Redis's diskless form, `$EOF:<mark>`, is not written; a
//! replica reads either). Filtered syncs (`rdb-filter-only`) make their
//! small RDB at once. SHUTDOWN waits for lagging replicas
//! (`shutdown-timeout`).
//!
//! The stream's bytes are kept here per replica (`Replica::out`) until its
//! RDB has gone; the loop moves them into the connection's output buffer
//! (see [`Server::repl_turn`]). `master_repl_offset` counts every byte of
//! the stream, PINGs to the replicas included, as Redis counts them.

use super::Server;
use super::repl_backlog::Backlog;
use super::state::Shared;
use std::fs::File;
use std::io::Read;

/// Bytes of the RDB put in a replica's output per refill (Redis's
/// PROTO_IOBUF_LEN is 16 KB per write event).
const RDB_CHUNK: usize = 256 * 1024;

/// The replication state of the primary.
pub struct Replication {
    /// `master_replid`: 40 hex characters, new each start, when the
    /// backlog is created anew, and on DEBUG CHANGE-REPL-ID.
    pub replid: String,
    /// `master_replid2` and `second_repl_offset`: a previous history this
    /// server can still continue (a primary keeps none of its own).
    pub replid2: String,
    pub second_offset: i64,
    /// `master_repl_offset`: bytes of the stream so far.
    pub offset: u64,
    pub backlog: Option<Backlog>,
    pub replicas: Vec<Replica>,
    /// Unix seconds since when no replica is attached (`repl-backlog-ttl`).
    pub alone_since: u64,
    /// INFO stats `sync_full`, `sync_partial_ok`, `sync_partial_err`.
    pub sync_full: u64,
    pub sync_partial_ok: u64,
    pub sync_partial_err: u64,
    /// Seconds the cron has counted (for `repl-ping-replica-period`).
    pub cron_secs: u64,
    /// Replicas to close: `(key, id)` (output over its limit, a failed
    /// sync, an RDB-only transfer done).
    pub closing: Vec<(usize, u64)>,
    /// Clients blocked in WAIT: `(key, id)`.
    pub waiting: Vec<(usize, u64)>,
    /// A shutdown waiting for the replicas to catch up.
    pub shutdown: Option<ShutdownWait>,
    /// `dir/dbfilename` was written for replicas with `rdb-del-sync-files`
    /// on (Redis's `RDBGeneratedByReplication`).
    pub rdb_for_sync: bool,
}

/// A shutdown that waits for lagging replicas (Redis's `shutdown_mstime`):
/// writes are paused meanwhile; it ends when every replica acknowledged
/// the whole stream or at `deadline_ms`, whichever comes first.
pub struct ShutdownWait {
    /// Unix ms.
    pub deadline_ms: u64,
    /// SHUTDOWN's (or the signal's) SAVE, NOSAVE and FORCE.
    pub flags: (bool, bool, bool),
    /// This shutdown paused the writes (no CLIENT PAUSE was in effect).
    pub paused: bool,
    /// The SHUTDOWN clients that wait with it: `(key, id)`.
    pub clients: Vec<(usize, u64)>,
}

/// What a client blocked in SHUTDOWN waits for (`Blocked::wants`).
pub const SHUTDOWN: &str = "shutdown";

impl Replication {
    pub fn new(replid: String) -> Replication {
        Replication {
            replid,
            replid2: "0".repeat(40),
            second_offset: -1,
            offset: 0,
            backlog: None,
            replicas: Vec::new(),
            alone_since: 0,
            sync_full: 0,
            sync_partial_ok: 0,
            sync_partial_err: 0,
            cron_secs: 0,
            closing: Vec::new(),
            waiting: Vec::new(),
            shutdown: None,
            rdb_for_sync: false,
        }
    }
}

/// Where a replica is in its synchronization (INFO's `state=`).
pub enum SyncState {
    /// Waits for a BGSAVE it can use to start.
    WaitBgsaveStart,
    /// The snapshot it will get is being written.
    WaitBgsaveEnd,
    /// Its RDB goes out: `sent` of `size` bytes.
    SendBulk {
        file: File,
        size: u64,
        sent: u64,
    },
    Online,
    /// An RDB-only replica (`redis-cli --rdb`) that got its file.
    RdbTransmitted,
}

/// A client that became a replica with SYNC or PSYNC.
pub struct Replica {
    pub key: usize,
    pub id: u64,
    pub state: SyncState,
    pub conf: ReplConf,
    /// Sent SYNC: an old replica (or `redis-cli --replica`) that sends no
    /// REPLCONF ACK, so it is never timed out for that.
    pub pre_psync: bool,
    /// `REPLCONF ACK`: the offset it has processed, and when (unix ms).
    pub ack_off: u64,
    pub ack_ms: u64,
    /// The offset its full sync starts from.
    pub initial_offset: u64,
    /// Bytes for the connection before the RDB (`+FULLRESYNC`, the
    /// newlines that keep the link alive while the snapshot is written).
    pub pre: Vec<u8>,
    /// The stream from `initial_offset` on, not yet in the connection's
    /// output (all of it until the RDB has gone).
    pub out: Vec<u8>,
}

impl Replica {
    pub fn state_name(&self) -> &'static str {
        match self.state {
            SyncState::WaitBgsaveStart | SyncState::WaitBgsaveEnd => "wait_bgsave",
            SyncState::SendBulk { .. } => "send_bulk",
            SyncState::Online => "online",
            SyncState::RdbTransmitted => "rdb_transmitted",
        }
    }

    /// Bytes it holds on the primary besides its connection's buffers.
    pub fn held(&self) -> usize {
        self.out.len() + self.pre.len()
    }
}

/// What `REPLCONF` set on a connection before it became a replica.
#[derive(Clone, Debug, Default)]
pub struct ReplConf {
    pub listening_port: i64,
    pub ip: Option<String>,
    pub capa_eof: bool,
    pub capa_psync2: bool,
    pub rdb_only: bool,
    /// `rdb-filter-only`: `Some(functions)` asks for an RDB with no keys
    /// (and the function libraries when `functions`).
    pub filter: Option<bool>,
}

impl Shared {
    /// A replica's name in log lines (Redis's `replicationGetSlaveName`):
    /// `ip:listening-port`.
    pub fn replica_name(&self, key: usize, conf: &ReplConf) -> String {
        let client = self.client(key);
        let ip = conf.ip.clone().or_else(|| client.addr.map(|a| a.ip().to_string()));
        match (ip, conf.listening_port) {
            (Some(ip), 0) => format!("{ip}:<unknown-replica-port>"),
            (Some(ip), port) if ip.contains(':') => format!("[{ip}]:{port}"),
            (Some(ip), port) => format!("{ip}:{port}"),
            (None, _) => format!("client id #{}", client.id),
        }
    }

    pub fn replica_index(&self, key: usize) -> Option<usize> {
        let id = self.clients.get(key)?.as_ref()?.id;
        self.repl.replicas.iter().position(|r| r.key == key && r.id == id)
    }

    /// Takes the stream the propagator produced since the last call into
    /// the backlog and every replica's buffer. Called before anything
    /// else takes the stream (the AOF writer, a new replica's snapshot
    /// start) and at the end of every loop turn.
    pub fn repl_absorb(&mut self) {
        if self.repl.backlog.is_none() {
            return;
        }
        let from = self.prop.repl_fed;
        if self.prop.out.len() > from {
            let out = std::mem::take(&mut self.prop.out);
            if self.prop.ts_spans.is_empty() {
                self.repl_feed(&out[from..]);
            } else {
                // The AOF's `#TS:` annotations are not part of the stream.
                let mut at = from;
                for (start, end) in std::mem::take(&mut self.prop.ts_spans) {
                    if start >= at {
                        self.repl_feed(&out[at..start]);
                        at = end;
                    }
                }
                self.repl_feed(&out[at..]);
            }
            self.prop.out = out;
            self.prop.repl_fed = self.prop.out.len();
        }
        if !self.aof_on() {
            self.prop.out.clear();
            self.prop.repl_fed = 0;
        }
    }

    /// Bytes joining the stream: the backlog, the offset, every replica
    /// (but an RDB-only one, which gets no stream).
    fn repl_feed(&mut self, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        let Some(backlog) = self.repl.backlog.as_mut() else { return };
        backlog.push(data);
        self.repl.offset += data.len() as u64;
        for r in &mut self.repl.replicas {
            if !r.conf.rdb_only && !matches!(r.state, SyncState::WaitBgsaveStart) {
                r.out.extend_from_slice(data);
            }
        }
    }

    /// A command written to the stream by the primary itself (PING,
    /// REPLCONF GETACK): after what the propagator holds.
    fn repl_feed_command(&mut self, argv: &[&[u8]]) {
        self.repl_absorb();
        let mut cmd = Vec::new();
        crate::persist::propagate::write_command(&mut cmd, argv);
        self.repl_feed(&cmd);
    }

    /// The backlog is made when the first replica attaches, with a new
    /// replication ID; propagation is on from then on.
    fn create_backlog(&mut self) {
        self.repl.replid = super::state::random_hex40(&mut self.rng);
        self.repl.replid2 = "0".repeat(40);
        self.repl.second_offset = -1;
        self.repl.backlog = Some(Backlog::new(self.config.repl_backlog_size as usize, self.repl.offset));
        log::info!(
            "Replication backlog created, my new replication IDs are '{}' and '{}'",
            self.repl.replid,
            self.repl.replid2
        );
        self.sync_propagation();
        self.prop.repl_fed = self.prop.out.len();
    }

    /// `repl-backlog-size` changed: the backlog keeps its newest bytes.
    pub fn resize_backlog(&mut self) {
        let size = (self.config.repl_backlog_size as usize).max(1);
        if let Some(b) = self.repl.backlog.as_mut()
            && b.size() != size
        {
            b.resize(size);
        }
    }

    /// SYNC and PSYNC (Redis's `syncCommand`): returns what to write to the
    /// client at once (`+CONTINUE` and the backlog, or `+FULLRESYNC`), or
    /// an error reply.
    pub fn repl_sync(&mut self, key: usize, psync: Option<(&[u8], i64)>, now_ms: u64) -> Result<Vec<u8>, String> {
        let conf = self.client(key).replconf.as_deref().cloned().unwrap_or_default();
        if conf.filter.is_some() && !conf.capa_eof {
            return Err("ERR Filtered replica requires EOF capability".into());
        }
        let name = self.replica_name(key, &conf);
        log::info!("Replica {name} asks for synchronization");
        let id = self.client(key).id;
        let mut replica = Replica {
            key,
            id,
            state: SyncState::WaitBgsaveStart,
            conf,
            pre_psync: psync.is_none(),
            ack_off: 0,
            ack_ms: now_ms,
            initial_offset: 0,
            pre: Vec::new(),
            out: Vec::new(),
        };
        if let Some((replid, offset)) = psync {
            if let Some(reply) = self.try_partial(&mut replica, &name, replid, offset) {
                self.repl.sync_partial_ok += 1;
                self.client_mut(key).replica = true;
                self.repl.replicas.push(replica);
                return Ok(reply);
            }
            if replid != b"?" {
                self.repl.sync_partial_err += 1;
            }
        }
        self.repl.sync_full += 1;
        self.client_mut(key).replica = true;
        if self.repl.backlog.is_none() {
            self.create_backlog();
        }
        if let Some(functions) = replica.conf.filter {
            return Ok(self.send_filtered(replica, &name, functions));
        }
        self.repl.replicas.push(replica);
        if self.persist.snapshot.is_some() {
            // A BGSAVE whose stream another waiting replica collects can
            // serve this one too (Redis's CASE 1); else the next one.
            let attach =
                self.repl.replicas.iter().position(|r| matches!(r.state, SyncState::WaitBgsaveEnd) && !r.conf.rdb_only);
            let me = self.repl.replicas.len() - 1;
            match attach.filter(|_| !self.persist.aof_snapshot) {
                Some(i) => {
                    let (initial, out) = (self.repl.replicas[i].initial_offset, self.repl.replicas[i].out.clone());
                    let r = &mut self.repl.replicas[me];
                    if !r.conf.rdb_only {
                        r.out = out;
                    }
                    self.setup_full_resync(me, initial);
                    log::info!("Waiting for end of BGSAVE for SYNC");
                }
                None if self.persist.aof_snapshot => log::info!(
                    "No BGSAVE in progress, but another BG operation is active. BGSAVE for replication delayed"
                ),
                None => {
                    log::info!("Can't attach the replica to the current BGSAVE. Waiting for next BGSAVE for SYNC")
                }
            }
        } else {
            self.start_bgsave_for_replication(now_ms);
        }
        let r = self.repl.replicas.last_mut().map(|r| std::mem::take(&mut r.pre)).unwrap_or_default();
        Ok(r)
    }

    /// A filtered full sync (`REPLCONF rdb-filter-only`: `redis-cli
    /// --replica` asks for no data, `--functions-rdb` for the function
    /// libraries only): the RDB is small and made at once, and the stream
    /// follows it from this moment (RDB-only: nothing follows).
    fn send_filtered(&mut self, mut r: Replica, name: &str, functions: bool) -> Vec<u8> {
        self.repl_absorb();
        self.prop.reselect();
        let offset = self.repl.offset;
        let mut reply = Vec::new();
        if !r.pre_psync {
            reply.extend_from_slice(format!("+FULLRESYNC {} {offset}\r\n", self.repl.replid).as_bytes());
        }
        let opts = self.snapshot_options();
        let mut rdb = Vec::new();
        crate::persist::rdb::write_header(&mut rdb, opts.used_mem, false);
        if functions {
            for code in &opts.libraries {
                crate::persist::codec::functions::write_library(&mut rdb, code, opts.compress);
            }
        }
        rdb.push(crate::persist::rdb::OP_EOF);
        let crc = if opts.checksum { crate::persist::codec::crc64(0, &rdb) } else { 0 };
        rdb.extend_from_slice(&crc.to_le_bytes());
        reply.extend_from_slice(format!("${}\r\n", rdb.len()).as_bytes());
        reply.extend_from_slice(&rdb);
        r.initial_offset = offset;
        if r.conf.rdb_only {
            r.state = SyncState::RdbTransmitted;
            log::info!("RDB transfer completed, rdb only replica ({name}) should be disconnected asap");
            self.client_mut(r.key).close_after_reply = true;
        } else {
            r.state = SyncState::Online;
            log::info!("Synchronization with replica {name} succeeded");
        }
        self.repl.replicas.push(r);
        reply
    }

    /// PSYNC `replid offset`: the stream from `offset` if the backlog
    /// still holds it (Redis's `masterTryPartialResynchronization`).
    fn try_partial(&mut self, r: &mut Replica, name: &str, replid: &[u8], offset: i64) -> Option<Vec<u8>> {
        let replid = String::from_utf8_lossy(replid).into_owned();
        let ours = replid.eq_ignore_ascii_case(&self.repl.replid);
        let second = replid.eq_ignore_ascii_case(&self.repl.replid2) && offset <= self.repl.second_offset;
        if !ours && !second {
            if replid != "?" {
                if !replid.eq_ignore_ascii_case(&self.repl.replid2) {
                    log::info!(
                        "Partial resynchronization not accepted: Replication ID mismatch (Replica asked for '{replid}', my replication IDs are '{}' and '{}')",
                        self.repl.replid,
                        self.repl.replid2
                    );
                } else {
                    log::info!(
                        "Partial resynchronization not accepted: Requested offset for second ID was {offset}, but I can reply up to {}",
                        self.repl.second_offset
                    );
                }
            } else {
                log::info!("Full resync requested by replica {name}");
            }
            return None;
        }
        self.repl_absorb();
        let held = self
            .repl
            .backlog
            .as_ref()
            .filter(|b| offset >= 0 && offset as u64 >= b.first && offset as u64 <= b.first + b.histlen as u64);
        let Some(backlog) = held else {
            log::info!(
                "Unable to partial resync with replica {name} for lack of backlog (Replica request was: {offset})."
            );
            if offset > self.repl.offset as i64 {
                log::warn!(
                    "Warning: replica {name} tried to PSYNC with an offset that is greater than the master replication offset."
                );
            }
            return None;
        };
        let data = backlog.since(offset as u64);
        let mut reply = if r.conf.capa_psync2 {
            format!("+CONTINUE {}\r\n", self.repl.replid).into_bytes()
        } else {
            b"+CONTINUE\r\n".to_vec()
        };
        log::info!(
            "Partial resynchronization request from {name} accepted. Sending {} bytes of backlog starting from offset {offset}.",
            data.len()
        );
        reply.extend_from_slice(&data);
        r.state = SyncState::Online;
        r.ack_off = offset.max(1) as u64 - 1;
        Some(reply)
    }

    /// Replica `i` gets the snapshot that starts (or started) at stream
    /// offset `offset` (Redis's `replicationSetupSlaveForFullResync`).
    fn setup_full_resync(&mut self, i: usize, offset: u64) {
        let replid = self.repl.replid.clone();
        let r = &mut self.repl.replicas[i];
        r.state = SyncState::WaitBgsaveEnd;
        r.initial_offset = offset;
        if !r.pre_psync {
            r.pre.extend_from_slice(format!("+FULLRESYNC {replid} {offset}\r\n").as_bytes());
        }
    }

    /// Starts a BGSAVE for the replicas waiting for one (Redis's
    /// `startBgsaveForReplication`, disk target).
    fn start_bgsave_for_replication(&mut self, now_ms: u64) {
        // `repl-diskless-sync yes` (Redis's default): the RDB is no BGSAVE,
        // it leaves dump.rdb and the save counters alone; ferrokv writes it
        // to a temporary file (Redis to the socket) and removes it once the
        // replicas have it open. `no`: a BGSAVE to dump.rdb, as Redis.
        let diskless = self.config.repl_diskless_sync;
        log::info!("Starting BGSAVE for SYNC with target: {}", if diskless { "replicas sockets" } else { "disk" });
        // What the stream holds so far predates the snapshot; what follows
        // starts with a SELECT (Redis's `slaveseldb = -1`).
        self.repl_absorb();
        self.prop.reselect();
        let offset = self.repl.offset;
        let mut opts = self.snapshot_options();
        if diskless {
            opts.filename = format!("temp-repl-{}.rdb", std::process::id());
            self.persist.repl_target = Some(opts.dir.join(&opts.filename));
        } else {
            self.repl.rdb_for_sync |= self.config.rdb_del_sync_files;
        }
        let dirty = self.stats.dirty;
        let snap = crate::persist::snapshot::Snapshot::start(&mut self.dbs, opts, now_ms, dirty);
        self.persist.snapshot = Some(Box::new(snap));
        self.persist.last_try_ms = now_ms;
        if diskless {
            log::info!("Background RDB transfer started by pid {}", std::process::id());
        } else {
            log::info!("Background saving started by pid {}", std::process::id());
        }
        for i in 0..self.repl.replicas.len() {
            let r = &self.repl.replicas[i];
            if matches!(r.state, SyncState::WaitBgsaveStart) {
                self.setup_full_resync(i, offset);
            }
        }
    }

    /// A BGSAVE ended (Redis's `updateSlavesWaitingBgsave`): the replicas
    /// waiting for it get the file, or are dropped if it failed; those
    /// that could not use it get the next one, started now when `restart`
    /// (not for an aborted BGSAVE: its caller may save next, SAVE-like;
    /// the cron starts it within a second).
    pub fn repl_bgsave_done(&mut self, ok: bool, restart: bool, now_ms: u64) {
        let path = self.data_dir().join(&self.config.dbfilename);
        self.repl_send_file(ok, &path, restart, now_ms);
    }

    /// A full sync's temporary RDB (`repl-diskless-sync yes`) is written:
    /// the replicas waiting for it open it, and its name goes (the open
    /// files keep it until sent).
    pub fn repl_transfer_done(&mut self, ok: bool, path: std::path::PathBuf, now_ms: u64) {
        if ok {
            log::info!("Background RDB transfer terminated with success");
        } else {
            log::warn!("Background transfer error");
        }
        self.repl_send_file(ok, &path, true, now_ms);
        let _ = std::fs::remove_file(&path);
    }

    /// The replicas waiting for the RDB at `path` get it (or are dropped
    /// when it failed); see [`Shared::repl_bgsave_done`].
    fn repl_send_file(&mut self, ok: bool, path: &std::path::Path, restart: bool, now_ms: u64) {
        if self.repl.replicas.is_empty() {
            return;
        }
        for i in 0..self.repl.replicas.len() {
            if !matches!(self.repl.replicas[i].state, SyncState::WaitBgsaveEnd) {
                continue;
            }
            let opened = if ok {
                File::open(path).and_then(|f| Ok((f.metadata()?.len(), f)))
            } else {
                Err(std::io::ErrorKind::Other.into())
            };
            let r = &mut self.repl.replicas[i];
            match opened {
                Ok((size, file)) => {
                    r.pre.extend_from_slice(format!("${size}\r\n").as_bytes());
                    r.state = SyncState::SendBulk { file, size, sent: 0 };
                }
                Err(e) => {
                    if ok {
                        log::warn!("SYNC failed. Can't open/stat DB after BGSAVE: {}", crate::config::strerror(&e));
                    } else {
                        log::warn!("SYNC failed. BGSAVE child returned an error");
                    }
                    self.repl.closing.push((r.key, r.id));
                }
            }
        }
        if restart
            && self.persist.snapshot.is_none()
            && self.repl.replicas.iter().any(|r| matches!(r.state, SyncState::WaitBgsaveStart))
        {
            self.start_bgsave_for_replication(now_ms);
        }
    }

    /// REPLCONF ACK `offset` from replica `key`.
    pub fn repl_ack(&mut self, key: usize, offset: u64, now_ms: u64) {
        if let Some(i) = self.replica_index(key) {
            let r = &mut self.repl.replicas[i];
            r.ack_off = r.ack_off.max(offset);
            r.ack_ms = now_ms;
        }
    }

    /// Replicas online whose last acknowledgement is at most
    /// `min-replicas-max-lag` seconds old (Redis's `repl_good_slaves_count`).
    pub fn good_replicas(&self, now_ms: u64) -> usize {
        let lag = u64::from(self.config.min_replicas_max_lag);
        self.repl
            .replicas
            .iter()
            .filter(|r| matches!(r.state, SyncState::Online) && (now_ms.saturating_sub(r.ack_ms) / 1000) <= lag)
            .count()
    }

    /// Whether writes are refused for want of good replicas (NOREPLICAS).
    pub fn too_few_replicas(&self, now_ms: u64) -> bool {
        let c = &self.config;
        c.min_replicas_to_write > 0
            && c.min_replicas_max_lag > 0
            && self.good_replicas(now_ms) < c.min_replicas_to_write as usize
    }

    /// Online replicas that acknowledged offset `offset` (WAIT).
    pub fn replicas_acked(&self, offset: u64) -> usize {
        self.repl.replicas.iter().filter(|r| matches!(r.state, SyncState::Online) && r.ack_off >= offset).count()
    }

    /// The offset the stream reaches once what the propagator holds is
    /// taken (its AOF `#TS:` lines left out).
    pub fn repl_end_offset(&self) -> u64 {
        let from = self.prop.repl_fed.min(self.prop.out.len());
        let ts: usize = self.prop.ts_spans.iter().filter(|&&(start, _)| start >= from).map(|(s, e)| e - s).sum();
        self.repl.offset + (self.prop.out.len() - from - ts) as u64
    }

    /// Client `key`'s command propagated something: WAIT waits for the
    /// replicas to acknowledge the stream up to here (Redis's `c->woff`).
    /// Called after every write while the AOF or replication is on: a
    /// branch when there is no backlog.
    #[inline]
    pub fn note_write_offset(&mut self, key: usize) {
        if self.repl.backlog.is_some() {
            let end = self.repl_end_offset();
            self.client_mut(key).wait_offset = end;
        }
    }

    /// WAIT: asks the replicas for an acknowledgement now.
    pub fn repl_getack(&mut self) {
        if self.repl.replicas.iter().any(|r| matches!(r.state, SyncState::Online)) {
            self.repl_feed_command(&[b"REPLCONF", b"GETACK", b"*"]);
        }
    }

    /// A replica's connection closed.
    pub fn repl_forget(&mut self, key: usize, id: u64, now_ms: u64) {
        let Some(i) = self.repl.replicas.iter().position(|r| r.key == key && r.id == id) else { return };
        let r = self.repl.replicas.remove(i);
        if !matches!(r.state, SyncState::RdbTransmitted) {
            log::info!("Connection with replica {} lost.", self.replica_name(key, &r.conf));
        }
        if self.repl.replicas.is_empty() {
            self.repl.alone_since = now_ms / 1000;
        }
    }

    /// Once a second (Redis's `replicationCron`, the primary's part): a
    /// PING every `repl-ping-replica-period` seconds, a newline to the
    /// replicas waiting for their snapshot, replicas silent for longer
    /// than `repl-timeout` dropped, the backlog freed after
    /// `repl-backlog-ttl` seconds without replicas, and a waiting replica's
    /// BGSAVE started once another background save ended.
    pub fn replication_cron(&mut self, now_ms: u64) {
        if self.repl.backlog.is_none() {
            return;
        }
        self.repl.cron_secs += 1;
        let period = self.config.repl_ping_replica_period.max(1) as u64;
        // No PING while a shutdown waits for the replicas to catch up.
        if self.repl.cron_secs.is_multiple_of(period) && !self.repl.replicas.is_empty() && self.repl.shutdown.is_none()
        {
            self.repl_feed_command(&[b"PING"]);
        }
        let timeout_ms = (self.config.repl_timeout as u64).saturating_mul(1000);
        for i in 0..self.repl.replicas.len() {
            let r = &mut self.repl.replicas[i];
            match r.state {
                SyncState::WaitBgsaveStart | SyncState::WaitBgsaveEnd => r.pre.push(b'\n'),
                SyncState::Online if !r.pre_psync && now_ms.saturating_sub(r.ack_ms) > timeout_ms => {
                    let (key, id) = (r.key, r.id);
                    let name = self.replica_name(key, &self.repl.replicas[i].conf.clone());
                    log::warn!("Disconnecting timedout replica (streaming sync): {name}");
                    self.repl.closing.push((key, id));
                }
                _ => {}
            }
        }
        let ttl = self.config.repl_backlog_ttl;
        if self.repl.replicas.is_empty() && ttl > 0 && now_ms / 1000 - self.repl.alone_since.min(now_ms / 1000) > ttl {
            // Redis changes the ID too: a replica that comes back cannot
            // continue a history whose bytes are gone.
            self.repl.replid = super::state::random_hex40(&mut self.rng);
            self.repl.replid2 = "0".repeat(40);
            self.repl.second_offset = -1;
            self.repl.backlog = None;
            self.sync_propagation();
            log::info!("Replication backlog freed after {ttl} seconds without connected replicas.");
        }
        if self.persist.snapshot.is_none()
            && self.repl.replicas.iter().any(|r| matches!(r.state, SyncState::WaitBgsaveStart))
        {
            self.start_bgsave_for_replication(now_ms);
        }
        self.remove_rdb_used_to_sync();
    }

    /// `rdb-del-sync-files`: once no replica waits for or reads the RDB a
    /// full sync wrote, it is removed if nothing persists (no save points,
    /// no AOF), as Redis's `removeRDBUsedToSyncReplicas` does.
    fn remove_rdb_used_to_sync(&mut self) {
        if !self.config.rdb_del_sync_files {
            self.repl.rdb_for_sync = false;
            return;
        }
        let persisting = !self.config.save.is_empty() || self.config.appendonly;
        let busy = self.persist.snapshot.is_some()
            || self.repl.replicas.iter().any(|r| {
                matches!(r.state, SyncState::WaitBgsaveStart | SyncState::WaitBgsaveEnd | SyncState::SendBulk { .. })
            });
        if !self.repl.rdb_for_sync || persisting || busy {
            return;
        }
        let path = self.data_dir().join(&self.config.dbfilename);
        if path.symlink_metadata().is_ok() {
            self.repl.rdb_for_sync = false;
            log::info!("Removing the RDB file used to feed replicas in a persistence-less instance");
            // A replica still reading it keeps its open file.
            let _ = std::fs::remove_file(&path);
        }
    }

    /// The stream and RDB bytes replicas have yet to take: held here and
    /// in their connections' output (as last mirrored).
    pub fn replica_buffers(&self) -> usize {
        self.repl.replicas.iter().map(|r| r.held() + self.client(r.key).omem).sum()
    }

    /// INFO memory's `mem_clients_slaves`: the replicas' connections.
    pub fn replica_clients_mem(&self) -> usize {
        self.repl.replicas.iter().map(|r| self.client(r.key).mem + r.held()).sum()
    }

    /// Replicas that have not acknowledged the whole stream (an RDB-only
    /// one gets no stream: it never lags).
    pub fn lagging_replicas(&self) -> usize {
        self.repl.replicas.iter().filter(|r| !r.conf.rdb_only && r.ack_off != self.repl.offset).count()
    }

    /// The start of a shutdown (Redis's `prepareForShutdown` before its
    /// `finishShutdown`): unless `now` (SHUTDOWN NOW) or `shutdown-timeout`
    /// is 0, with replicas behind, the replicas are asked for an
    /// acknowledgement, writes pause, and the shutdown waits (true); the
    /// cron ends it ([`Server::shutdown_wait_turn`]).
    pub fn shutdown_wait_start(&mut self, flags: (bool, bool, bool), now: bool, now_ms: u64) -> bool {
        if now || self.config.shutdown_timeout == 0 {
            return false;
        }
        self.repl_absorb();
        if self.lagging_replicas() == 0 {
            return false;
        }
        let timeout_ms = self.config.shutdown_timeout.saturating_mul(1000);
        let paused = !self.paused(now_ms);
        if paused {
            self.repl_feed_command(&[b"REPLCONF", b"GETACK", b"*"]);
            self.pause = Some(super::state::Pause { until: now_ms.saturating_add(timeout_ms + 1000), all: false });
            self.requests.pause_changed = true;
        }
        log::info!("Waiting for replicas before shutting down.");
        self.repl.shutdown =
            Some(ShutdownWait { deadline_ms: now_ms.saturating_add(timeout_ms), flags, paused, clients: Vec::new() });
        true
    }

    /// INFO server's `shutdown_in_milliseconds` line, while one waits.
    pub fn shutdown_info(&self, now_ms: u64) -> String {
        self.repl
            .shutdown
            .as_ref()
            .map(|w| format!("shutdown_in_milliseconds:{}\r\n", w.deadline_ms as i64 - now_ms as i64))
            .unwrap_or_default()
    }

    /// INFO replication.
    pub fn replication_info(&self, now_ms: u64) -> String {
        use std::fmt::Write;
        let mut s = format!("# Replication\r\nrole:master\r\nconnected_slaves:{}\r\n", self.repl.replicas.len());
        for (n, r) in self.repl.replicas.iter().enumerate() {
            let client = self.client(r.key);
            let ip = r.conf.ip.clone().or_else(|| client.addr.map(|a| a.ip().to_string())).unwrap_or_default();
            let lag = now_ms.saturating_sub(r.ack_ms) / 1000;
            let _ = write!(
                s,
                "slave{n}:ip={ip},port={},state={},offset={},lag={lag}\r\n",
                r.conf.listening_port,
                r.state_name(),
                r.ack_off
            );
        }
        let b = self.repl.backlog.as_ref();
        let _ = write!(
            s,
            "master_failover_state:no-failover\r\nmaster_replid:{}\r\nmaster_replid2:{}\r\n\
             master_repl_offset:{}\r\nsecond_repl_offset:{}\r\nrepl_backlog_active:{}\r\n\
             repl_backlog_size:{}\r\nrepl_backlog_first_byte_offset:{}\r\nrepl_backlog_histlen:{}\r\n",
            self.repl.replid,
            self.repl.replid2,
            self.repl.offset,
            self.repl.second_offset,
            b.is_some() as u8,
            self.config.repl_backlog_size,
            b.map_or(0, |b| b.first),
            b.map_or(0, |b| b.histlen),
        );
        s
    }
}

impl Server {
    /// The loop's part, at the end of every turn while replicas are
    /// attached: the stream and the RDB slices go into their connections'
    /// output, replicas to close are closed.
    pub(super) fn repl_turn(&mut self) {
        self.shared.repl_absorb();
        let now = super::unix_ms();
        for i in 0..self.shared.repl.replicas.len() {
            let (key, id) = (self.shared.repl.replicas[i].key, self.shared.repl.replicas[i].id);
            let Some(conn) = self.conns.get_mut(key).filter(|c| c.id == id) else { continue };
            let r = &mut self.shared.repl.replicas[i];
            if !conn.replica {
                conn.replica = true;
                if self.shared.config.repl_disable_tcp_nodelay {
                    // Redis's connDisableTcpNoDelay at SYNC: fewer, larger
                    // packets on the link, at some latency.
                    let _ = conn.stream.set_nodelay(false);
                }
            }
            let before = conn.pending_output();
            if !r.pre.is_empty() {
                conn.wbuf.extend_from_slice(&r.pre);
                r.pre.clear();
            }
            if let SyncState::SendBulk { file, size, sent } = &mut r.state {
                while conn.pending_output() < RDB_CHUNK && *sent < *size {
                    let n = RDB_CHUNK.min((*size - *sent) as usize);
                    let at = conn.wbuf.len();
                    conn.wbuf.resize(at + n, 0);
                    if file.read_exact(&mut conn.wbuf[at..]).is_err() {
                        conn.wbuf.truncate(at);
                        log::warn!("Read error sending DB to replica: short read");
                        self.shared.repl.closing.push((key, id));
                        break;
                    }
                    *sent += n as u64;
                    if conn.flush(&mut self.shared.stats).is_err() {
                        break;
                    }
                }
                if *sent == *size {
                    let name = self.shared.replica_name(key, &self.shared.repl.replicas[i].conf.clone());
                    let r = &mut self.shared.repl.replicas[i];
                    if r.conf.rdb_only {
                        r.state = SyncState::RdbTransmitted;
                        log::info!("RDB transfer completed, rdb only replica ({name}) should be disconnected asap");
                        self.shared.client_mut(key).close_after_reply = true;
                    } else {
                        r.state = SyncState::Online;
                        r.ack_ms = now;
                        log::info!("Synchronization with replica {name} succeeded");
                    }
                }
            }
            let r = &mut self.shared.repl.replicas[i];
            if matches!(r.state, SyncState::Online) && !r.out.is_empty() {
                if conn.wbuf.is_empty() {
                    std::mem::swap(&mut conn.wbuf, &mut r.out);
                } else {
                    conn.wbuf.extend_from_slice(&r.out);
                    r.out.clear();
                }
            }
            if conn.pending_output() != before || self.shared.client(key).close_after_reply {
                self.resume_write(key);
            }
            self.check_replica_limit(i);
        }
        for (key, id) in std::mem::take(&mut self.shared.repl.closing) {
            if self.conns.get(key).is_some_and(|c| c.id == id) {
                self.close(key);
            }
        }
        if !self.shared.repl.waiting.is_empty() {
            self.serve_waits();
        }
    }

    /// Clients blocked in WAIT whose replicas have acknowledged enough get
    /// their count (Redis's `processClientsWaitingReplicas`).
    fn serve_waits(&mut self) {
        for (key, id) in std::mem::take(&mut self.shared.repl.waiting) {
            if self.conns.get(key).is_none_or(|c| c.id != id) {
                continue;
            }
            let enough = match &self.shared.client(key).blocked {
                Some(b) if b.wants == crate::cmd::repl::WAIT => crate::cmd::repl::wait_reply(&self.shared, key, b).1,
                _ => continue,
            };
            if enough {
                self.unblock(key, id, super::Unblock::Timeout);
            } else {
                self.shared.repl.waiting.push((key, id));
            }
        }
    }

    /// The cron's look at a shutdown waiting for replicas: once they all
    /// acknowledged the stream, or its time is up, it finishes (Redis's
    /// `finishShutdown`: the lagging replicas logged, then the final save);
    /// if that fails, the waiting SHUTDOWN clients get an error and writes
    /// go on.
    pub(super) fn shutdown_wait_turn(&mut self, now_ms: u64) {
        let Some(deadline) = self.shared.repl.shutdown.as_ref().map(|w| w.deadline_ms) else { return };
        self.shared.repl_absorb();
        if now_ms < deadline && self.shared.lagging_replicas() > 0 {
            return;
        }
        let Some(wait) = self.shared.repl.shutdown.take() else { return };
        let shared = &self.shared;
        for r in shared.repl.replicas.iter().filter(|r| !r.conf.rdb_only && r.ack_off != shared.repl.offset) {
            let lag = if matches!(r.state, SyncState::Online) { now_ms.saturating_sub(r.ack_ms) / 1000 } else { 0 };
            log::warn!(
                "Lagging replica {} reported offset {} behind master, lag={lag}, state={}.",
                shared.replica_name(r.key, &r.conf),
                shared.repl.offset.saturating_sub(r.ack_off),
                r.state_name()
            );
        }
        let n = shared.repl.replicas.len();
        if n > 0 {
            log::info!("{} of {n} replicas are in sync when shutting down.", n - shared.lagging_replicas());
        }
        let (save, nosave, force) = wait.flags;
        if self.shared.prepare_for_shutdown(save, nosave, force, now_ms) {
            self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
            return;
        }
        self.cancel_shutdown_wait(wait, now_ms);
    }

    /// A waiting shutdown ends without exiting (it failed, or SHUTDOWN
    /// ABORT): its SHUTDOWN clients get Redis's error, the writes it paused
    /// go on.
    pub(super) fn cancel_shutdown_wait(&mut self, wait: ShutdownWait, now_ms: u64) {
        for (key, id) in wait.clients {
            self.unblock(key, id, super::Unblock::ShutdownFailed);
        }
        super::SHUTDOWN_PENDING.store(false, std::sync::atomic::Ordering::SeqCst);
        if wait.paused {
            self.shared.pause = None;
            self.shared.set_expiry_paused(false);
            self.end_pause(now_ms);
        }
    }

    /// `client-output-buffer-limit replica ...` over the stream the
    /// replica has not taken (in its connection and held here).
    fn check_replica_limit(&mut self, i: usize) {
        let now = self.mono_ms();
        let limits = self.shared.config.output_limits[2];
        let r = &self.shared.repl.replicas[i];
        let Some(conn) = self.conns.get_mut(r.key).filter(|c| c.id == r.id) else { return };
        let pending = (conn.pending_output() + r.held()) as u64;
        if conn.over_output_limit(pending, limits, now) {
            let line = crate::cmd::conn::client_info_text(&self.shared, r.key, super::unix_ms());
            log::warn!("Client {line} scheduled to be closed ASAP for overcoming of output buffer limits.");
            self.shared.repl.closing.push((r.key, r.id));
        }
    }
}
