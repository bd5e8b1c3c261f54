//! Serving the other clients while a script is busy (Redis's
//! `processEventsWhileBlocked`, networking.c).
//!
//! A command that may run a script (EVAL*, FCALL*, EXEC) runs through
//! [`Server::run_scripted`]: the running connection's buffers are moved
//! out of it for the command's length, so nothing borrows the connection
//! slab, and an [`Io`] borrowing the loop's poller, the slab and the client
//! id counter — never `Shared`, which the script's command context holds —
//! is reachable from a thread-local for exactly that length. Once the
//! script is past `busy-reply-threshold`, the Lua hook (`script::busy`)
//! reaches the script's context and calls [`serve`] with it: one look at
//! the poller without waiting (up to four while there is work, as Redis),
//! accepting new connections, reading, parsing and answering the other
//! clients through the one dispatcher, which answers `-BUSY` to all but the
//! `allow_busy` commands. The running client is not read (Redis's
//! `protectClient`); readiness events the loop would have handled (its
//! socket, the waker, signals, listeners with more to accept) are handed
//! back to the loop when the command ends. Readiness the loop took in the
//! same poll as the running command's is not reported again: the first
//! call looks at every listener and connection once.

use super::conn::ReadResult;
use super::listen::{LISTENER_BASE, TLS_LISTENER_BASE, UNIX_LISTENER};
use super::state::Shared;
use super::{MAX_READS_PER_TURN, Parts, SIGNALS, Server, WAKER, mirror, protocol_error, run_command};
use crate::cmd::{Args, Ctx};
use crate::resp::Source;
use mio::{Events, Interest, Poll, Token};
use slab::Slab;
use std::cell::Cell;
use std::io;
use std::marker::PhantomData;
use std::time::Duration;

/// Looks at the poller at most this many times per call while each look
/// finds work (Redis's `processEventsWhileBlocked` iterations).
const ITERATIONS: usize = 4;

/// The loop's parts the busy server uses, borrowed from the [`Server`]
/// apart from `Shared` (which reaches [`serve`] through the script's
/// context).
pub(super) struct Io<'a> {
    poll: &'a mut Poll,
    conns: &'a mut Slab<super::Conn>,
    next_client_id: &'a mut u64,
    started_ns: u64,
    /// The connection running the script (never read or closed here).
    running: usize,
    events: Option<Events>,
    /// Connections with input left after their reads in one call.
    again: Vec<usize>,
    /// Listeners with connections left to accept.
    accept_again: Vec<Token>,
    /// Events the loop handles once the command is over.
    running_ready: bool,
    woke: bool,
    signaled: bool,
    /// SHUTDOWN NOSAVE ran: the script was stopped and the server exits.
    shutdown: bool,
}

thread_local! {
    /// The running command's [`Io`], while [`Server::run_scripted`] runs it.
    static IO: Cell<*mut Io<'static>> = const { Cell::new(std::ptr::null_mut()) };
}

/// Makes `io` reachable from [`serve`] while the guard lives (the guard
/// holds `io`'s exclusive borrow, so nothing else touches it meanwhile).
struct IoGuard<'g> {
    prev: *mut Io<'static>,
    _io: PhantomData<&'g mut ()>,
}

impl<'g> IoGuard<'g> {
    fn install<'a>(io: &'g mut Io<'a>) -> IoGuard<'g> {
        let p = (io as *mut Io<'a>).cast::<Io<'static>>();
        IoGuard { prev: IO.replace(p), _io: PhantomData }
    }
}

impl Drop for IoGuard<'_> {
    fn drop(&mut self) {
        IO.set(self.prev);
    }
}

/// Whether the command named by `args` may run a script: EVAL, EVALSHA,
/// EVAL_RO, EVALSHA_RO, FCALL, FCALL_RO and EXEC (queued scripts). Cheap
/// for every other command (a length and a first-byte test).
#[inline]
pub(super) fn may_run_script(args: &Args) -> bool {
    if args.is_empty() {
        return false;
    }
    let name = args.get(0);
    if !(4..=10).contains(&name.len()) || !matches!(name[0] | 0x20, b'e' | b'f') {
        return false;
    }
    const NAMES: [&[u8]; 7] = [b"eval", b"evalsha", b"eval_ro", b"evalsha_ro", b"fcall", b"fcall_ro", b"exec"];
    NAMES.iter().any(|n| n.eq_ignore_ascii_case(name))
}

impl Server {
    /// Runs client `key`'s command parsed as `src`, one that may run a
    /// script, so that the busy hook can serve the other clients: its
    /// buffers leave the connection for the command's length.
    #[inline(never)]
    pub(super) fn run_scripted(&mut self, key: usize, src: Source, now: u64) {
        let conn = &mut self.conns[key];
        let rbuf = std::mem::take(&mut conn.rbuf);
        let inline = std::mem::take(&mut conn.inline);
        let spans = std::mem::take(&mut conn.spans);
        let mut wbuf = std::mem::take(&mut conn.wbuf);
        let reply_from = wbuf.len();
        let propagated_from = self.shared.prop.out.len();
        let args = match src {
            Source::Buffer { base, one_pass } => Args::request(&rbuf[base..conn.rlen], &spans, one_pass),
            Source::Inline => Args::request(&inline, &spans, false),
        };
        let mut io = Io {
            poll: &mut self.poll,
            conns: &mut self.conns,
            next_client_id: &mut self.next_client_id,
            started_ns: self.started_ns,
            running: key,
            events: None,
            again: Vec::new(),
            accept_again: Vec::new(),
            running_ready: false,
            woke: false,
            signaled: false,
            shutdown: false,
        };
        {
            let _reachable = IoGuard::install(&mut io);
            run_command(&mut self.shared, key, &mut wbuf, &args, now);
        }
        let Io { again, accept_again, running_ready, woke, signaled, shutdown, .. } = io;
        let conn = &mut self.conns[key];
        conn.rbuf = rbuf;
        conn.inline = inline;
        conn.spans = spans;
        conn.wbuf = wbuf;
        if shutdown {
            // Redis exits inside SHUTDOWN: the script's caller gets no
            // reply, and what the stopped script wrote is not propagated.
            conn.wbuf.truncate(reply_from);
            self.shared.prop.out.truncate(propagated_from);
            self.shared.client_mut(key).close_after_reply = true;
        }
        self.pending.extend(again);
        if running_ready {
            self.pending.push_back(key);
        }
        self.accept_again.extend(accept_again);
        if woke {
            self.release_aof_held();
        }
        if signaled {
            self.on_signal();
        }
    }
}

/// Serves the other clients once (called from the busy hook with the
/// running script's context); nothing when the running command has no
/// [`Io`] (a script run outside a client's read, e.g. after CLIENT PAUSE).
pub fn serve(cx: &mut Ctx) {
    let p = IO.replace(std::ptr::null_mut());
    if p.is_null() {
        return;
    }
    // SAFETY: `p` was installed by `run_scripted` and points at its live
    // `Io` (the guard clears it before the `Io` goes); the guard holds the
    // `Io`'s exclusive borrow, and taking the pointer out of the slot while
    // in use makes this the only reference. The `Io` borrows none of
    // `Shared`, which comes from the script's context.
    let io = unsafe { &mut *p };
    io.serve(cx.srv);
    IO.set(p);
}

impl Io<'_> {
    fn mono_ms(&self) -> u64 {
        crate::clock::mono_ns().saturating_sub(self.started_ns) / 1_000_000
    }

    fn parts<'s>(&'s mut self, shared: &'s mut Shared) -> Parts<'s> {
        Parts { poll: &*self.poll, conns: self.conns, shared, next_client_id: self.next_client_id, timers: None }
    }

    fn serve(&mut self, shared: &mut Shared) {
        // The running command's state, the other clients' commands run
        // outside it.
        let saved = (shared.current, shared.in_exec, shared.in_script, shared.mute_from.take(), shared.cmd_clock);
        let prop_on = shared.prop.on;
        shared.in_exec = false;
        shared.in_script = false;
        // Only `allow_busy` commands run: none propagates.
        shared.prop.on = false;
        let mut events = match self.events.take() {
            Some(events) => events,
            None => {
                // The first call: readiness the loop took in the same poll
                // as the running command's, not handled yet, is not
                // reported again (edge-triggered): every listener and
                // connection gets a look once.
                if let Some(l) = shared.listeners.as_ref() {
                    self.accept_again.extend((0..l.tcp.len()).map(|i| Token(LISTENER_BASE + i)));
                    self.accept_again.extend((0..l.tls.len()).map(|i| Token(TLS_LISTENER_BASE + i)));
                    if l.unix.is_some() {
                        self.accept_again.push(UNIX_LISTENER);
                    }
                }
                let running = self.running;
                self.again.extend(self.conns.iter().map(|(k, _)| k).filter(|&k| k != running));
                Events::with_capacity(256)
            }
        };
        for _ in 0..ITERATIONS {
            let mut work = 0;
            for key in std::mem::take(&mut self.again) {
                work += 1;
                self.serve_conn(shared, key, true, false, false);
            }
            for t in std::mem::take(&mut self.accept_again) {
                work += 1;
                self.accept(shared, t);
            }
            if let Err(e) = self.poll.poll(&mut events, Some(Duration::ZERO)) {
                if e.kind() != io::ErrorKind::Interrupted {
                    log::warn!("Polling while a script is busy: {e}");
                }
                break;
            }
            for ev in events.iter() {
                work += 1;
                match ev.token() {
                    WAKER => self.woke = true,
                    SIGNALS => self.signaled = true,
                    t @ (UNIX_LISTENER | Token(LISTENER_BASE..)) => self.accept(shared, t),
                    Token(key) if key == self.running => self.running_ready = true,
                    Token(key) => {
                        let readable = ev.is_readable() || ev.is_read_closed() || ev.is_error();
                        self.serve_conn(shared, key, readable, ev.is_writable(), ev.is_read_closed());
                    }
                }
            }
            if work == 0 || shared.requests.shutdown {
                break;
            }
        }
        self.events = Some(events);
        (shared.current, shared.in_exec, shared.in_script, shared.mute_from, shared.cmd_clock) = saved;
        shared.prop.on = prop_on;
        if shared.requests.shutdown && !self.shutdown {
            self.shutdown = true;
            crate::script::busy::stop_for_shutdown();
        }
    }

    fn accept(&mut self, shared: &mut Shared, t: Token) {
        let now = self.mono_ms();
        if !self.parts(shared).accept_on(t, now) {
            self.accept_again.push(t);
        }
    }

    fn close(&mut self, shared: &mut Shared, key: usize) {
        if key != self.running {
            self.parts(shared).close(key);
        }
    }

    /// One connection's turn, as the loop's `on_conn_event`: write, read
    /// and run what arrived, write the replies.
    fn serve_conn(&mut self, shared: &mut Shared, key: usize, readable: bool, writable: bool, read_closed: bool) {
        let Some(conn) = self.conns.get_mut(key) else { return };
        if writable && conn.flush(&mut shared.stats).is_err() {
            return self.close(shared, key);
        }
        if readable && self.read_and_run(shared, key, read_closed).is_err() {
            return self.close(shared, key);
        }
        let conn = &mut self.conns[key];
        if conn.flush(&mut shared.stats).is_err() {
            return self.close(shared, key);
        }
        let pending = conn.has_output();
        if shared.client(key).close_after_reply && !pending {
            return self.close(shared, key);
        }
        if pending != conn.want_write {
            let interest = if pending { Interest::READABLE | Interest::WRITABLE } else { Interest::READABLE };
            if self.poll.registry().reregister(&mut conn.stream, Token(key), interest).is_err() {
                return self.close(shared, key);
            }
            conn.want_write = pending;
        }
        mirror(conn, shared, key);
    }

    /// Reads until the socket is drained (at most `MAX_READS_PER_TURN`
    /// reads; the rest next call) and runs every complete command.
    fn read_and_run(&mut self, shared: &mut Shared, key: usize, read_closed: bool) -> Result<(), ()> {
        self.run_buffered(shared, key)?;
        let now = self.mono_ms();
        let limit = shared.config.client_query_buffer_limit as usize;
        let mut reads = 0;
        loop {
            let conn = &mut self.conns[key];
            if conn.paused || shared.client(key).close_after_reply {
                return Ok(());
            }
            if reads == MAX_READS_PER_TURN {
                self.again.push(key);
                return Ok(());
            }
            shared.stats.reads_processed += 1;
            match conn.read() {
                Ok(ReadResult::Data { n, drained }) => {
                    reads += 1;
                    shared.stats.net_input_bytes += n as u64;
                    conn.last_active = now;
                    if conn.rlen > limit {
                        log::warn!("Closing client that reached max query buffer length");
                        return Err(());
                    }
                    self.run_buffered(shared, key)?;
                    if drained && !read_closed {
                        return Ok(());
                    }
                }
                Ok(ReadResult::WouldBlock) => return Ok(()),
                Ok(ReadResult::Eof) | Err(_) => return Err(()),
            }
        }
    }

    /// Parses and runs the complete commands in the read buffer, as the
    /// loop's `execute` (the dispatcher answers `-BUSY` where Redis does).
    fn run_buffered(&mut self, shared: &mut Shared, key: usize) -> Result<(), ()> {
        let max_bulk = shared.config.proto_max_bulk_len as usize;
        let now = crate::clock::unix_ms();
        shared.cmd_clock = crate::clock::mono_ns();
        shared.client_mut(key).last_interaction = now;
        loop {
            let client = shared.client(key);
            let conn = &mut self.conns[key];
            if conn.paused || client.close_after_reply || client.blocked.is_some() || client.postponed.is_some() {
                break;
            }
            match conn.next_command(max_bulk) {
                Ok(None) => break,
                Ok(Some((args, _, wbuf))) => run_command(shared, key, wbuf, &args, now),
                Err(e) => protocol_error(shared, key, &mut conn.wbuf, e),
            }
        }
        let conn = &mut self.conns[key];
        conn.compact();
        conn.note_output();
        Ok(())
    }
}
