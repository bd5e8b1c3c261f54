//! Writers and readers at once, from one single-threaded process: the
//! load redis-benchmark cannot make for issue #16's `appendfsync always`
//! target (the readers' GET p99 while writers' SETs wait for fsyncs).
//!
//! redis-benchmark runs one command per process, so readers and writers
//! need two processes; two closed-loop processes on one core take turns
//! in scheduler slices (the readers' p99 then measures the turns), and a
//! second one on the server's core competes with the server (what that
//! costs the readers shows without any fsync). This one drives every
//! connection from one `epoll` loop on its own core, so the server has
//! the other core to itself and the readers' latency is the server's.
//!
//! Each connection has one request in flight (`-P 1`), as redis-benchmark
//! `-c`: writers send `SET key:<12 digits> <value>`, readers `GET
//! key:<12 digits>`, keys drawn from `--keyspace` (redis-benchmark's `-r`).
//! `--reader-pause-us N`: each reader waits N µs after a reply before its
//! next GET (a lighter read load). The first `--warmup` seconds are not counted; then, for `--seconds`,
//! every reply is timed from its request's send. Prints one JSON line:
//! `{"set": {...}, "get": {...}}` with `n`, `rps`, `p50_ms`, `p99_ms`,
//! `p999_ms`, `max_ms`, `errors` per command.
//!
//! ```text
//! cargo build --release --example mixed_load
//! target/release/examples/mixed_load --port 6379 --writers 50 --readers 50 --seconds 5
//! ```

use std::io::{ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};

struct Options {
    host: String,
    port: u16,
    writers: usize,
    readers: usize,
    seconds: f64,
    warmup: f64,
    keyspace: u64,
    data: usize,
    reader_pause: Duration,
}

fn parse_args() -> Result<Options, String> {
    let mut o = Options {
        host: "127.0.0.1".into(),
        port: 6379,
        writers: 50,
        readers: 50,
        seconds: 5.0,
        warmup: 1.0,
        keyspace: 100_000,
        data: 3,
        reader_pause: Duration::ZERO,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let v = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let bad = || format!("bad value for {flag}: {v}");
        match flag.as_str() {
            "--host" => o.host = v.clone(),
            "--port" => o.port = v.parse().map_err(|_| bad())?,
            "--writers" => o.writers = v.parse().map_err(|_| bad())?,
            "--readers" => o.readers = v.parse().map_err(|_| bad())?,
            "--seconds" => o.seconds = v.parse().map_err(|_| bad())?,
            "--warmup" => o.warmup = v.parse().map_err(|_| bad())?,
            "--keyspace" => o.keyspace = v.parse().map_err(|_| bad())?,
            "--data" => o.data = v.parse().map_err(|_| bad())?,
            "--reader-pause-us" => o.reader_pause = Duration::from_micros(v.parse().map_err(|_| bad())?),
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    if o.keyspace == 0 || o.writers + o.readers == 0 {
        return Err("--keyspace and --writers + --readers must be positive".into());
    }
    Ok(o)
}

/// One connection: its kind, the request in flight and what has arrived.
struct Conn {
    stream: TcpStream,
    writer: bool,
    out: Vec<u8>,
    sent: usize,
    input: Vec<u8>,
    sent_at: Instant,
    rng: u64,
}

/// What one command's replies measured.
#[derive(Default)]
struct Tally {
    micros: Vec<u32>,
    errors: u64,
}

impl Conn {
    fn next_key(&mut self, keyspace: u64) -> u64 {
        // xorshift64: cheap, and each connection its own sequence.
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        self.rng % keyspace
    }

    /// Builds and starts sending the next request.
    fn send_next(&mut self, o: &Options, value: &[u8]) -> std::io::Result<()> {
        let key = format!("key:{:012}", self.next_key(o.keyspace));
        self.out.clear();
        if self.writer {
            self.out.extend_from_slice(
                format!("*3\r\n$3\r\nSET\r\n${}\r\n{key}\r\n${}\r\n", key.len(), value.len()).as_bytes(),
            );
            self.out.extend_from_slice(value);
            self.out.extend_from_slice(b"\r\n");
        } else {
            self.out.extend_from_slice(format!("*2\r\n$3\r\nGET\r\n${}\r\n{key}\r\n", key.len()).as_bytes());
        }
        self.sent = 0;
        self.sent_at = Instant::now();
        self.flush()
    }

    /// Writes what is left of the request; `Ok` also when the socket is
    /// full (the rest goes when it is writable).
    fn flush(&mut self) -> std::io::Result<()> {
        while self.sent < self.out.len() {
            match self.stream.write(&self.out[self.sent..]) {
                Ok(0) => return Err(ErrorKind::WriteZero.into()),
                Ok(n) => self.sent += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

/// The length of the first whole reply in `b` and whether it is an error;
/// `None` while it is incomplete. Only the replies SET and GET give.
fn reply_len(b: &[u8]) -> Result<Option<(usize, bool)>, String> {
    let Some(eol) = b.windows(2).position(|w| w == b"\r\n") else { return Ok(None) };
    match b.first() {
        Some(b'+') | Some(b':') => Ok(Some((eol + 2, false))),
        Some(b'-') => Ok(Some((eol + 2, true))),
        Some(b'$') => {
            let n: i64 = std::str::from_utf8(&b[1..eol]).ok().and_then(|s| s.parse().ok()).ok_or("bad bulk length")?;
            if n < 0 {
                return Ok(Some((eol + 2, false)));
            }
            let end = usize::try_from(n).ok().and_then(|n| (eol + 4).checked_add(n)).ok_or("bulk length too large")?;
            Ok((b.len() >= end).then_some((end, false)))
        }
        _ => Err(format!("unexpected reply {:?}", String::from_utf8_lossy(&b[..eol]))),
    }
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i] as f64 / 1000.0
}

fn report(t: &mut Tally, seconds: f64) -> String {
    t.micros.sort_unstable();
    let m = &t.micros;
    format!(
        "{{\"n\": {}, \"rps\": {:.1}, \"p50_ms\": {:.3}, \"p99_ms\": {:.3}, \"p999_ms\": {:.3}, \"max_ms\": {:.3}, \"errors\": {}}}",
        m.len(),
        m.len() as f64 / seconds,
        percentile(m, 0.50),
        percentile(m, 0.99),
        percentile(m, 0.999),
        m.last().copied().unwrap_or(0) as f64 / 1000.0,
        t.errors
    )
}

fn run(o: &Options) -> Result<String, String> {
    let addr: SocketAddr = format!("{}:{}", o.host, o.port).parse().map_err(|e| format!("bad address: {e}"))?;
    let mut poll = Poll::new().map_err(|e| e.to_string())?;
    let value = vec![b'x'; o.data];
    let mut conns = Vec::new();
    for i in 0..o.writers + o.readers {
        let s = std::net::TcpStream::connect(addr).map_err(|e| format!("cannot connect to {addr}: {e}"))?;
        s.set_nodelay(true).map_err(|e| e.to_string())?;
        s.set_nonblocking(true).map_err(|e| e.to_string())?;
        let mut stream = TcpStream::from_std(s);
        poll.registry()
            .register(&mut stream, Token(i), Interest::READABLE | Interest::WRITABLE)
            .map_err(|e| e.to_string())?;
        let rng = 0x9E37_79B9_7F4A_7C15u64.wrapping_mul(i as u64 + 1) | 1;
        conns.push(Conn {
            stream,
            writer: i < o.writers,
            out: Vec::new(),
            sent: 0,
            input: Vec::new(),
            sent_at: Instant::now(),
            rng,
        });
    }
    let start = Instant::now();
    let from = start + Duration::from_secs_f64(o.warmup);
    let until = from + Duration::from_secs_f64(o.seconds);
    let (mut sets, mut gets) = (Tally::default(), Tally::default());
    for c in &mut conns {
        c.send_next(o, &value).map_err(|e| e.to_string())?;
    }
    let mut events = Events::with_capacity(1024);
    let mut buf = vec![0u8; 64 << 10];
    // Readers waiting out --reader-pause-us, in the order they are due.
    let mut paused: std::collections::VecDeque<(Instant, usize)> = std::collections::VecDeque::new();
    while Instant::now() < until {
        let now = Instant::now();
        while let Some(&(due, i)) = paused.front() {
            if due > now {
                break;
            }
            paused.pop_front();
            conns[i].send_next(o, &value).map_err(|e| e.to_string())?;
        }
        let wait = paused.front().map_or(Duration::from_millis(100), |&(due, _)| due.saturating_duration_since(now));
        match poll.poll(&mut events, Some(wait)) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.to_string()),
        }
        for ev in events.iter() {
            let c = &mut conns[ev.token().0];
            if ev.is_writable() {
                c.flush().map_err(|e| e.to_string())?;
            }
            if !ev.is_readable() {
                continue;
            }
            loop {
                match c.stream.read(&mut buf) {
                    Ok(0) => return Err("the server closed a connection".into()),
                    Ok(n) => c.input.extend_from_slice(&buf[..n]),
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    Err(e) => return Err(e.to_string()),
                }
            }
            while let Some((len, error)) = reply_len(&c.input)? {
                let now = Instant::now();
                c.input.drain(..len);
                if c.sent_at >= from && now <= until {
                    let t = if c.writer { &mut sets } else { &mut gets };
                    t.micros.push(now.duration_since(c.sent_at).as_micros().min(u32::MAX as u128) as u32);
                    t.errors += error as u64;
                }
                if c.writer || o.reader_pause.is_zero() {
                    c.send_next(o, &value).map_err(|e| e.to_string())?;
                } else {
                    paused.push_back((now + o.reader_pause, ev.token().0));
                    break;
                }
            }
        }
    }
    Ok(format!("{{\"set\": {}, \"get\": {}}}", report(&mut sets, o.seconds), report(&mut gets, o.seconds)))
}

fn main() {
    let code = match parse_args().and_then(|o| run(&o)) {
        Ok(line) => {
            println!("{line}");
            0
        }
        Err(e) => {
            eprintln!("mixed_load: {e}");
            1
        }
    };
    std::process::exit(code);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_are_cut_where_they_end() {
        assert_eq!(reply_len(b"+OK\r\n+OK"), Ok(Some((5, false))));
        assert_eq!(reply_len(b"-ERR x\r\n"), Ok(Some((8, true))));
        assert_eq!(reply_len(b"$3\r\nxxx\r\n$"), Ok(Some((9, false))));
        assert_eq!(reply_len(b"$3\r\nxx"), Ok(None));
        assert_eq!(reply_len(b"$-1\r\n"), Ok(Some((5, false))));
        assert_eq!(reply_len(b"+O"), Ok(None));
        assert!(reply_len(b"*1\r\n").is_err());
        assert_eq!(reply_len(b"$9223372036854775807\r\n"), Ok(None));
    }

    #[test]
    fn percentiles_pick_the_rank() {
        let v: Vec<u32> = (1..=100).map(|x| x * 1000).collect();
        assert_eq!(percentile(&v, 0.50), 50.0);
        assert_eq!(percentile(&v, 0.99), 99.0);
        assert_eq!(percentile(&[], 0.99), 0.0);
    }
}
