//! One client connection: its socket, read and write buffers, parser state
//! and the client state commands see.
//!
//! Buffers are reused across requests. The read buffer is a zero-filled
//! `Vec` whose first `rlen` bytes hold unparsed input; it grows by doubling
//! (so a large bulk arriving in many reads costs linear time) and is
//! compacted after each batch of commands. The write buffer holds replies
//! from `wpos` on that the socket has not taken yet.

use super::listen::Stream;
use crate::resp::{Parser, Span};
use std::io::{self, Read, Write};

/// Initial and minimum free space for a read.
pub const READ_CHUNK: usize = 16 * 1024;
/// Buffers larger than this are released once empty: memory held by idle
/// clients counts against maxmemory (a 100 KB reply must not pin 100 KB).
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
    /// Monotonic ms since the output first exceeded the soft limit.
    pub soft_limit_since: Option<u64>,
    /// Too much unsent output: stop executing until the socket drains.
    pub paused: bool,
}

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
            soft_limit_since: None,
        }
    }

    /// Bytes of output not yet written to the socket.
    pub fn pending_output(&self) -> usize {
        self.wbuf.len() - self.wpos
    }

    /// Reads once into the free part of the read buffer, growing it first.
    pub fn read(&mut self) -> io::Result<ReadResult> {
        if self.rbuf.len() - self.rlen < READ_CHUNK / 2 {
            let new_len = (self.rbuf.len() * 2).max(READ_CHUNK);
            self.rbuf.resize(new_len, 0);
        }
        let space = self.rbuf.len() - self.rlen;
        loop {
            return match self.stream.read(&mut self.rbuf[self.rlen..]) {
                Ok(0) => Ok(ReadResult::Eof),
                Ok(n) => {
                    self.rlen += n;
                    Ok(ReadResult::Data { n, drained: n < space })
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(ReadResult::WouldBlock),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => Err(e),
            };
        }
    }

    /// Drops the bytes of fully parsed commands from the read buffer.
    pub fn compact(&mut self) {
        let done = self.parser.consumed();
        if done == 0 {
            return;
        }
        self.rbuf.copy_within(done..self.rlen, 0);
        self.rlen -= done;
        self.parser.rebase(done);
        if self.rlen == 0 && self.rbuf.len() > SHRINK_ABOVE {
            self.rbuf = Vec::new();
        }
    }

    /// Releases the buffers of a connection with nothing pending (an idle
    /// client then costs its socket and a few words, as in Redis, which
    /// shrinks idle clients' query buffers); true if anything was freed.
    pub fn release_buffers(&mut self) -> bool {
        if self.rlen != 0 || self.pending_output() != 0 || self.rbuf.capacity() + self.wbuf.capacity() == 0 {
            return false;
        }
        self.rbuf = Vec::new();
        self.wbuf = Vec::new();
        self.wpos = 0;
        self.spans = Vec::new();
        self.inline = Vec::new();
        true
    }

    /// Writes pending output until done or the socket is full, adding the
    /// bytes written to `counter`.
    pub fn flush(&mut self, counter: &mut u64) -> io::Result<()> {
        while self.wpos < self.wbuf.len() {
            match self.stream.write(&self.wbuf[self.wpos..]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    self.wpos += n;
                    *counter += n as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        if self.wpos == self.wbuf.len() {
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
