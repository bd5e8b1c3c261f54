//! The replication backlog: the last `repl-backlog-size` bytes of the
//! replication stream, numbered by stream offset as Redis numbers them, so
//! that a replica whose link broke can continue (PSYNC) from the byte it
//! lacks (see `server::replication`).

/// The last `repl-backlog-size` bytes of the stream, for PSYNC: a ring
/// that grows as bytes come until it holds `size` (so memory counts what
/// the stream wrote, as Redis's backlog grows by blocks).
pub struct Backlog {
    buf: Vec<u8>,
    size: usize,
    /// Where the next byte goes in `buf` (its end while it grows).
    pos: usize,
    /// Bytes held (at most `size`).
    pub histlen: usize,
    /// The stream offset of the first byte held, 1-based as Redis's
    /// `repl_backlog_first_byte_offset`.
    pub first: u64,
}

impl Backlog {
    pub fn new(size: usize, offset: u64) -> Backlog {
        Backlog { buf: Vec::new(), size: size.max(1), pos: 0, histlen: 0, first: offset + 1 }
    }

    pub fn size(&self) -> usize {
        self.size
    }

    /// Bytes allocated for it (INFO's `mem_replication_backlog`).
    pub fn memory(&self) -> usize {
        self.buf.capacity()
    }

    pub fn push(&mut self, mut data: &[u8]) {
        let size = self.size;
        if data.len() >= size {
            let skip = data.len() - size;
            self.first += (self.histlen + skip) as u64;
            self.buf.clear();
            self.buf.extend_from_slice(&data[skip..]);
            self.buf.shrink_to_fit();
            self.pos = 0;
            self.histlen = size;
            return;
        }
        if self.buf.len() < size {
            // Growing: the bytes go at its end (`pos`), no wrap yet.
            let grow = (size - self.buf.len()).min(data.len());
            // Doubling, but never past `size`.
            let want = (self.buf.len() + grow).max(self.buf.capacity() * 2).min(size);
            if want > self.buf.capacity() {
                self.buf.reserve_exact(want - self.buf.len());
            }
            self.buf.extend_from_slice(&data[..grow]);
            self.pos = self.buf.len() % size;
            self.histlen += grow;
            data = &data[grow..];
            if data.is_empty() {
                return;
            }
        }
        let first_part = data.len().min(size - self.pos);
        self.buf[self.pos..self.pos + first_part].copy_from_slice(&data[..first_part]);
        self.buf[..data.len() - first_part].copy_from_slice(&data[first_part..]);
        self.pos = (self.pos + data.len()) % size;
        let dropped = (self.histlen + data.len()).saturating_sub(size);
        self.histlen = (self.histlen + data.len()).min(size);
        self.first += dropped as u64;
    }

    /// The bytes from stream offset `from` (1-based) to the end.
    pub fn since(&self, from: u64) -> Vec<u8> {
        let skip = (from - self.first) as usize;
        let size = self.size;
        let start = (self.pos + size - self.histlen + skip) % size;
        let len = self.histlen - skip;
        let mut out = Vec::with_capacity(len);
        let first_part = len.min(size - start);
        out.extend_from_slice(&self.buf[start..start + first_part]);
        out.extend_from_slice(&self.buf[..len - first_part]);
        out
    }

    /// Resized to `size` bytes, keeping the newest it can.
    pub fn resize(&mut self, size: usize) {
        let end = self.first + self.histlen as u64;
        let kept = self.since(self.first + self.histlen.saturating_sub(size) as u64);
        *self = Backlog::new(size, end - kept.len() as u64 - 1);
        self.push(&kept);
    }
}

#[cfg(test)]
mod tests {
    use super::Backlog;

    /// The backlog holds the newest `size` bytes of the stream, numbered
    /// from 1 as Redis numbers them, through pushes of every length and
    /// resizes, as a plain vector of the whole stream says.
    #[test]
    fn backlog_keeps_the_newest_bytes_of_the_stream() {
        let mut stream: Vec<u8> = Vec::new();
        let mut b = Backlog::new(16, 0);
        let mut next = 0u8;
        for (round, len) in [0usize, 1, 5, 16, 3, 17, 40, 2, 15, 16, 1, 9].into_iter().cycle().take(60).enumerate() {
            let data: Vec<u8> = (0..len)
                .map(|_| {
                    next = next.wrapping_add(1);
                    next
                })
                .collect();
            b.push(&data);
            stream.extend_from_slice(&data);
            if round % 7 == 6 {
                b.resize([5, 16, 33][round % 3]);
            }
            let held = b.histlen;
            assert!(held <= b.size() && b.memory() <= b.size(), "round {round}");
            assert!(held <= stream.len());
            if round % 7 != 6 && len >= b.size() {
                assert_eq!(held, b.size(), "round {round}");
            }
            assert_eq!(b.first + held as u64, stream.len() as u64 + 1, "round {round}");
            for from in b.first..=b.first + held as u64 {
                assert_eq!(b.since(from), stream[(from - 1) as usize..], "round {round}, from {from}");
            }
        }
    }
}
