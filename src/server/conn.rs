//! One client connection: its socket, read and write buffers, parser state
//! and the client state commands see.
//!
//! Buffers are reused across requests. The read buffer is a zero-filled
//! `Vec` whose first `rlen` bytes hold unparsed input; it grows by doubling
//! (so a large bulk arriving in many reads costs linear time), not past the
//! end of a big argument, and is compacted after each batch of commands. The write buffer holds replies from `wpos` on that the socket
//! has not taken yet.
//!
//! Both buffers are resized by the clients cron with Redis 7.0's rules
//! (`clientsCronResizeQueryBuffer`, `clientsCronResizeOutputBuffer` in
//! server.c), see [`Conn::resize_query_buffer`] and
//! [`Conn::resize_reply_buffer`].

use super::listen::Stream;
use super::state::Stats;
use crate::cmd::Args;
use crate::resp::{Parser, ProtoError, Source, Span};
use std::io::{self, Write};

/// Initial and minimum free space for a read (Redis's `PROTO_IOBUF_LEN`).
pub const READ_CHUNK: usize = 16 * 1024;
/// An argument this long is read into a buffer sized for exactly it
/// (Redis's `PROTO_MBULK_BIG_ARG`).
const BIG_ARG: usize = 32 * 1024;
/// A query buffer larger than this shrinks back to its recent peak
/// (Redis's `PROTO_RESIZE_THRESHOLD`).
const RESIZE_THRESHOLD: usize = 32 * 1024;
/// Free space a query buffer must waste before the cron trims it.
const RESIZE_MIN_FREE: usize = 4 * 1024;
/// Redis's fixed reply buffer (`PROTO_REPLY_CHUNK_BYTES`): output up to this
/// size is what CLIENT LIST calls `obl`, the rest `omem` in `oll` blocks.
pub const REPLY_CHUNK: usize = 16 * 1024;
/// The smallest reply buffer the cron shrinks to (`PROTO_REPLY_MIN_BYTES`).
const REPLY_MIN: usize = 1024;
/// How long a reply buffer peak counts (Redis's
/// `reply_buffer_peak_reset_time` default).
const REPLY_PEAK_RESET_MS: u64 = 5000;
/// Reply buffers larger than this are released once sent: memory held by
/// idle clients counts against maxmemory (a 100 KB reply must not pin
/// 100 KB); Redis frees its reply blocks once written the same way.
const SHRINK_ABOVE: usize = 64 * 1024;

pub struct Conn {
    pub stream: Stream,
    pub rbuf: Vec<u8>,
    pub rlen: usize,
    pub parser: Parser,
    pub spans: Vec<Span>,
    pub inline: Vec<u8>,
    pub wbuf: Vec<u8>,
    pub wpos: usize,
    /// The client's id (its state lives in `Shared::clients`).
    pub id: u64,
    /// Monotonic ms of the last read (for the idle timeout).
    pub last_active: u64,
    pub idle_timer_armed: bool,
    /// WRITABLE interest is registered with the poller.
    pub want_write: bool,
    /// Queued for the end-of-wake-up write.
    pub write_queued: bool,
    /// `appendfsync always`: the output waits until the AOF stream is
    /// fsynced up to this byte (its commands propagated).
    pub aof_wait: u64,
    /// Monotonic ms since the output first exceeded the soft limit.
    pub soft_limit_since: Option<u64>,
    /// Too much unsent output: stop executing until the socket drains.
    pub paused: bool,
    /// Over its output-buffer limit (Redis's CLIENT_CLOSE_ASAP): closed at
    /// the next cron, and meanwhile nothing more is written to it or run
    /// for it, so that the reply that crossed the limit is never sent.
    pub doomed: bool,
    /// A replica's link: its output counts as replication output.
    pub replica: bool,
    /// Largest `rlen` since the cron last looked (Redis's `querybuf_peak`).
    pub qpeak: usize,
    /// Largest `wbuf.len()` since `wpeak_reset` (Redis's `buf_peak`), and
    /// when it was last reset (monotonic ms).
    pub wpeak: usize,
    pub wpeak_reset: u64,
    /// The last flush wrote something (CLIENT LIST's `idle` counts writes).
    pub wrote: bool,
}

/// A parsed command (see [`Conn::next_command`]): its arguments, where
/// their bytes are, and the connection's output buffer.
pub type Command<'a> = (Args<'a>, Source, &'a mut Vec<u8>);

/// Outcome of a read.
pub enum ReadResult {
    /// `n` bytes arrived; `drained` if the socket had no more at that moment.
    Data {
        n: usize,
        drained: bool,
    },
    WouldBlock,
    Eof,
}

impl Conn {
    pub fn new(stream: Stream, id: u64, now: u64) -> Conn {
        Conn {
            stream,
            rbuf: Vec::new(),
            rlen: 0,
            parser: Parser::new(),
            spans: Vec::new(),
            inline: Vec::new(),
            wbuf: Vec::new(),
            wpos: 0,
            id,
            last_active: now,
            idle_timer_armed: false,
            want_write: false,
            paused: false,
            write_queued: false,
            aof_wait: 0,
            soft_limit_since: None,
            doomed: false,
            replica: false,
            qpeak: 0,
            wpeak: 0,
            wpeak_reset: now,
            wrote: false,
        }
    }

    /// Memory this connection holds: the struct and its buffers.
    pub fn memory(&self) -> usize {
        std::mem::size_of::<Conn>()
            + self.rbuf.capacity()
            + self.wbuf.capacity()
            + self.spans.capacity() * std::mem::size_of::<Span>()
            + self.inline.capacity()
    }

    /// Arguments of a command that has partly arrived: their number and
    /// total length (Redis's `argc` and `argv_len_sum` for it).
    pub fn partial_args(&self) -> (usize, usize) {
        if !self.parser.in_progress() {
            return (0, 0);
        }
        (self.spans.len(), self.spans.iter().map(|(s, e)| e - s).sum())
    }

    /// CLIENT LIST's `qbuf`: the bytes read and not yet used; while a big
    /// argument arrives, only its own (Redis gives such an argument a
    /// query buffer of its own, the bytes before it already consumed).
    pub fn qbuf_len(&self) -> usize {
        match (self.parser.pending_bulk(), self.parser.pending_bulk_end()) {
            (Some(len), Some(end)) if len >= BIG_ARG => self.rlen.saturating_sub(end - len - 2),
            _ => self.rlen,
        }
    }

    /// Notes the reply buffer's fill for its peak (after output was added).
    pub fn note_output(&mut self) {
        self.wpeak = self.wpeak.max(self.wbuf.len());
    }

    /// Whether `pending` bytes of output are over `limits` (hard, soft,
    /// soft seconds) as Redis's `checkClientOutputBufferLimits` judges
    /// them: over the hard limit, or over the soft one for more whole
    /// seconds (Redis's `unixtime`) than its own. `now_ms` is monotonic;
    /// when the soft limit was first passed is kept here.
    pub fn over_output_limit(&mut self, pending: u64, (hard, soft, secs): (u64, u64, u64), now_ms: u64) -> bool {
        let soft_expired = if soft > 0 && pending > soft {
            let since = *self.soft_limit_since.get_or_insert(now_ms);
            (now_ms / 1000).saturating_sub(since / 1000) > secs
        } else {
            self.soft_limit_since = None;
            false
        };
        (hard > 0 && pending > hard) || soft_expired
    }

    /// Bytes of output not yet written to the socket (or, for TLS, to the
    /// TLS layer).
    pub fn pending_output(&self) -> usize {
        self.wbuf.len() - self.wpos
    }

    /// Output waits: replies not yet written, or (TLS) encrypted records
    /// or handshake messages the socket has not taken yet.
    #[inline]
    pub fn has_output(&self) -> bool {
        self.wpos < self.wbuf.len() || self.stream.tls_pending()
    }

    /// Reads once into the free part of the read buffer, growing it first
    /// by doubling (for a big argument, 32 KB or more, not past its end).
    pub fn read(&mut self) -> io::Result<ReadResult> {
        if self.rbuf.len() - self.rlen < READ_CHUNK / 2 {
            let mut new_len = (self.rbuf.len() * 2).max(READ_CHUNK);
            if let Some(end) = self.parser.pending_bulk_end().filter(|_| self.parser.pending_bulk() >= Some(BIG_ARG)) {
                // Not past a big argument's end: Redis sizes its query
                // buffer for exactly the argument then. Still by doubling,
                // so memory follows the bytes that actually arrived.
                new_len = new_len.min(end.max(self.rlen + READ_CHUNK / 2));
                self.rbuf.reserve_exact(new_len.saturating_sub(self.rbuf.len()));
            }
            self.rbuf.resize(new_len, 0);
        }
        loop {
            return match self.stream.read_some(&mut self.rbuf[self.rlen..]) {
                Ok((0, _)) => Ok(ReadResult::Eof),
                Ok((n, drained)) => {
                    self.rlen += n;
                    self.qpeak = self.qpeak.max(self.rlen);
                    Ok(ReadResult::Data { n, drained })
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(ReadResult::WouldBlock),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => Err(e),
            };
        }
    }

    /// The next complete command in the read buffer, with where its bytes
    /// are and the output buffer its reply goes to; `Ok(None)` when more
    /// bytes are needed. The loop's executor and the busy-script loop
    /// (`busy`) both take their commands from here.
    #[inline]
    pub fn next_command(&mut self, max_bulk: usize) -> Result<Option<Command<'_>>, ProtoError> {
        let Some(src) = self.parser.next(&self.rbuf[..self.rlen], &mut self.spans, &mut self.inline, max_bulk)? else {
            return Ok(None);
        };
        let (data, one_pass) = match src {
            Source::Buffer { base, one_pass } => (&self.rbuf[base..self.rlen], one_pass),
            Source::Inline => (&self.inline[..], false),
        };
        Ok(Some((Args::request(data, &self.spans, one_pass), src, &mut self.wbuf)))
    }

    /// Drops the bytes of fully parsed commands from the read buffer (its
    /// size is left to [`Conn::resize_query_buffer`]).
    pub fn compact(&mut self) {
        let done = self.parser.consumed();
        if done == 0 {
            return;
        }
        self.rbuf.copy_within(done..self.rlen, 0);
        self.rlen -= done;
        self.parser.rebase(done);
    }

    /// Redis 7.0's `clientsCronResizeQueryBuffer`: a query buffer wasting
    /// more than 4 KB is trimmed to its content when the client has been
    /// idle (`idle`: more than 2 s), or, if it is over 32 KB and more than
    /// twice its recent peak, to that peak (never below the argument being
    /// read). The peak then restarts from the current content. An empty
    /// buffer trimmed this way is freed, with the parser's scratch space.
    pub fn resize_query_buffer(&mut self, idle: bool) {
        let size = self.rbuf.len();
        let bulk_end = self.parser.pending_bulk_end().unwrap_or(0);
        if size - self.rlen > RESIZE_MIN_FREE {
            let keep = if idle {
                Some(self.rlen)
            } else if size > RESIZE_THRESHOLD && size / 2 > self.qpeak {
                Some(self.rlen.max(self.qpeak).max(bulk_end))
            } else {
                None
            };
            if let Some(keep) = keep {
                self.rbuf.truncate(keep);
                self.rbuf.shrink_to_fit();
            }
        }
        if self.rlen == 0 && self.rbuf.is_empty() {
            self.spans = Vec::new();
            self.inline = Vec::new();
        }
        self.qpeak = self.rlen.max(bulk_end);
    }

    /// Redis 7.0's `clientsCronResizeOutputBuffer`: a reply buffer whose
    /// peak stayed under half its size shrinks to the peak (at least 1 KB);
    /// the peak restarts every 5 s. Redis also grows a full buffer up to
    /// 16 KB ahead of time, where this `Vec` grows on demand. And where
    /// Redis keeps at least 1 KB, an idle connection (`idle`) with nothing
    /// to send gives its reply buffer back entirely. Returns whether the
    /// buffer shrank (INFO's `reply_buffer_shrinks`).
    pub fn resize_reply_buffer(&mut self, now: u64, idle: bool) -> bool {
        let size = self.wbuf.capacity();
        let mut shrank = false;
        if idle && self.pending_output() == 0 {
            shrank = size > 0;
            self.wbuf = Vec::new();
            self.wpos = 0;
        } else if size / 2 >= REPLY_MIN && self.wpeak < size / 2 {
            shrank = true;
            if self.wpos > 0 {
                self.wbuf.drain(..self.wpos);
                self.wpos = 0;
            }
            self.wbuf.shrink_to(REPLY_MIN.max(self.wpeak + 1).max(self.wbuf.len()));
        }
        if now.saturating_sub(self.wpeak_reset) >= REPLY_PEAK_RESET_MS {
            self.wpeak = self.wbuf.len();
            self.wpeak_reset = now;
        }
        shrank
    }

    /// Writes pending output until done or the socket is full, counting
    /// the attempt and the bytes written in `stats`.
    pub fn flush(&mut self, stats: &mut Stats) -> io::Result<()> {
        if self.doomed {
            return Ok(());
        }
        stats.writes_processed += (self.wpos < self.wbuf.len()) as u64;
        while self.wpos < self.wbuf.len() {
            match self.stream.write(&self.wbuf[self.wpos..]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    self.wpos += n;
                    self.wrote = true;
                    if self.replica {
                        stats.net_repl_output_bytes += n as u64;
                    } else {
                        stats.net_output_bytes += n as u64;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        if self.wpos == self.wbuf.len() {
            // TLS: records (or handshake messages) rustls still holds.
            match self.stream.send_pending() {
                Err(e) if e.kind() != io::ErrorKind::WouldBlock => return Err(e),
                _ => {}
            }
            self.wbuf.clear();
            self.wpos = 0;
            if self.wbuf.capacity() > SHRINK_ABOVE {
                self.wbuf = Vec::new();
            }
        } else if self.wpos > SHRINK_ABOVE && self.wpos * 2 > self.wbuf.len() {
            self.wbuf.drain(..self.wpos);
            self.wpos = 0;
        }
        Ok(())
    }
}
