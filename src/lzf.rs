//! LZF compression in liblzf's format (Marc Lehmann's liblzf, which Redis
//! vendors as `lzf_c.c`/`lzf_d.c`): what Redis uses for quicklist nodes
//! under `list-compress-depth` and for strings in RDB files.
//!
//! The compressed stream is a sequence of two kinds of items:
//!
//! - a literal run, `000LLLLL` then `L + 1` bytes copied as they are
//!   (1 to 32 bytes);
//! - a back reference, `LLLooooo` (`LLL` from 1 to 7), then one more length
//!   byte `E` when `LLL` is 7, then `oooooooo`: copy `LLL + 2` (or
//!   `7 + E + 2`) bytes starting `((ooooo << 8) | oooooooo) + 1` bytes back
//!   in the output, byte by byte (so a reference may overlap what it
//!   writes, which encodes runs). Lengths run from 3 to 264 bytes and
//!   offsets from 1 to 8192.
//!
//! [`compress`] is a greedy matcher over a hash of the next three bytes, as
//! liblzf's is; its output is not byte-identical to liblzf's (the hash
//! differs) but any liblzf decoder reads it, and [`decompress`] reads any
//! liblzf stream. Invariants: `decompress` never writes past the buffer it
//! is given and never panics, whatever the input; `compress` never returns
//! more than the limit it is given.
//!
//! Written here rather than taken from crates.io: the `lzf` crate is
//! marked deprecated by its author, and `lzf-sys` is raw unsafe bindings
//! that build the C library; the format is two hundred lines of safe Rust.

/// Longest literal run one control byte announces.
const MAX_LIT: usize = 1 << 5;
/// Farthest a back reference reaches (its offset is 13 bits, minus one).
const MAX_OFF: usize = 1 << 13;
/// Longest back reference: 7 + 255 from the length fields, plus 2.
const MAX_REF: usize = (1 << 8) + (1 << 3);
/// The hash table has 2^13 slots (32 KB, on the stack: compressing
/// allocates nothing but its output).
const HLOG: u32 = 13;

/// Compresses `input`, or returns `None` when the result would be longer
/// than `max_out` bytes (liblzf's `lzf_compress` returning 0: the caller
/// keeps the data uncompressed). An empty input gives `None` too, as in
/// liblzf.
pub fn compress(input: &[u8], max_out: usize) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    compress_into(input, max_out, &mut out).then_some(out)
}

/// [`compress`] appending to `out`: true if the stream, at most `max_out`
/// bytes, was appended; false (with `out` as it was) if it would be longer
/// or `input` is empty.
pub fn compress_into(input: &[u8], max_out: usize, out: &mut Vec<u8>) -> bool {
    let base = out.len();
    if input.is_empty() || max_out == 0 {
        return false;
    }
    // No stream is longer than all literals.
    let max_out = max_out.min(input.len() + input.len().div_ceil(MAX_LIT));
    out.resize(base + max_out, 0);
    match stream(input, &mut out[base..]) {
        Some(n) => {
            out.truncate(base + n);
            true
        }
        None => {
            out.truncate(base);
            false
        }
    }
}

/// The three bytes at `p` as a number (the hash key; `p + 2 < len`).
fn load3(input: &[u8], p: usize) -> u32 {
    u32::from_le_bytes([input[p], input[p + 1], input[p + 2], 0])
}

/// How many bytes from `a` and `b` on are equal (`a < b`), up to `most`
/// bytes from `b`; compares eight at a time.
fn match_len(input: &[u8], a: usize, b: usize, most: usize) -> usize {
    let mut n = 0;
    while n + 8 <= most {
        let x = u64::from_le_bytes(input[a + n..a + n + 8].try_into().unwrap_or([0; 8]));
        let y = u64::from_le_bytes(input[b + n..b + n + 8].try_into().unwrap_or([0; 8]));
        if x != y {
            return n + ((x ^ y).trailing_zeros() / 8) as usize;
        }
        n += 8;
    }
    while n < most && input[a + n] == input[b + n] {
        n += 1;
    }
    n
}

/// Appends literal `b` at `*op` (`None` if `out` is full); a full run's
/// control byte, reserved before its bytes at `*op - *lit - 1`, is filled
/// in and the next one reserved.
fn literal(out: &mut [u8], op: &mut usize, lit: &mut usize, b: u8) -> Option<()> {
    *out.get_mut(*op)? = b;
    *op += 1;
    *lit += 1;
    if *lit == MAX_LIT {
        out[*op - MAX_LIT - 1] = (MAX_LIT - 1) as u8;
        *lit = 0;
        *op += 1;
    }
    Some(())
}

/// The greedy matcher, liblzf's loop: writes the stream into `out` and
/// returns its length, or `None` if it does not fit. As liblzf's default
/// (`VERY_FAST`), only the last two positions inside a match are added to
/// the hash table.
fn stream(input: &[u8], out: &mut [u8]) -> Option<usize> {
    let (len, end) = (input.len(), out.len());
    // Positions plus one (wrapping past 4 GB: a stale slot only costs a
    // comparison); 0 is an empty slot.
    let mut table = [0u32; 1 << HLOG];
    let slot = |v: u32| (v.wrapping_mul(2_654_435_761) >> (32 - HLOG)) as usize;
    // `op` is where the next byte goes; the current literal run's control
    // byte is reserved at `op - lit - 1`.
    let (mut ip, mut op, mut lit) = (0, 1, 0);
    while ip + 2 < len {
        let v = load3(input, ip);
        let h = slot(v);
        let cand = table[h] as usize;
        table[h] = (ip as u32).wrapping_add(1);
        if cand == 0 || ip.wrapping_sub(cand) >= MAX_OFF || load3(input, cand - 1) != v {
            literal(out, &mut op, &mut lit, input[ip])?;
            ip += 1;
            continue;
        }
        let r = cand - 1;
        let n = 3 + match_len(input, r + 3, ip + 3, (len - ip).min(MAX_REF) - 3);
        let (off, l) = (ip - r - 1, n - 2);
        // End the literal run, or take back its unused control byte.
        if lit > 0 {
            out[op - lit - 1] = (lit - 1) as u8;
        } else {
            op -= 1;
        }
        if op + if l < 7 { 2 } else { 3 } > end {
            return None;
        }
        if l < 7 {
            out[op] = ((l << 5) | (off >> 8)) as u8;
        } else {
            out[op] = ((7 << 5) | (off >> 8)) as u8;
            op += 1;
            out[op] = (l - 7) as u8;
        }
        out[op + 1] = off as u8;
        op += 3; // past the offset byte and the next run's control byte
        lit = 0;
        ip += n;
        for p in ip - 2..ip {
            if p + 2 < len {
                table[slot(load3(input, p))] = (p as u32).wrapping_add(1);
            }
        }
    }
    while ip < len {
        literal(out, &mut op, &mut lit, input[ip])?;
        ip += 1;
    }
    if lit > 0 {
        out[op - lit - 1] = (lit - 1) as u8;
    } else {
        op -= 1;
    }
    Some(op)
}

/// liblzf 3.6's own `lzf_compress` as Redis 7.0 builds it (`HLOG` 16,
/// `VERY_FAST`, no `ULTRA_FAST`), step for step, so that what ferrokv writes in RDB
/// strings and DUMP payloads is byte-identical to what redis-server
/// writes. Returns `None` where `lzf_compress` returns 0: an empty input,
/// or an output that might not fit `out_len` (liblzf checks room
/// conservatively, so it may give up on an output that would just have
/// fitted; Redis passes `len - 4`, wanting four bytes saved).
///
/// The hash table starts empty. liblzf leaves it uninitialised on the
/// stack, so a slot this call has not written yet may hold an offset from
/// an earlier call; that only changes the output when the stale offset is
/// below the current position and its three bytes happen to match, which
/// (for one thing) a previous call on the same data never leaves behind.
/// redis-server's DUMP of a value is the same from call to call, and this
/// one's.
/// The table (256 KiB of slots) is kept per thread and reused, each call
/// tagging its slots with a new generation instead of clearing them.
pub fn compress_exact(input: &[u8], out_len: usize) -> Option<Vec<u8>> {
    const HLOG: u32 = 16;
    const HSIZE: usize = 1 << HLOG;
    thread_local! {
        /// Slots: the generation in the high 32 bits, the position below.
        static TABLE: std::cell::RefCell<(Vec<u64>, u32)> = const { std::cell::RefCell::new((Vec::new(), 0)) };
    }
    let in_len = input.len();
    if in_len == 0 || out_len == 0 {
        return None;
    }
    TABLE.with_borrow_mut(|(table, generation)| {
        if table.is_empty() || *generation == u32::MAX {
            *table = vec![0; HSIZE];
            *generation = 0;
        }
        *generation += 1;
        let tag = (*generation as u64) << 32;
        let idx = |h: u32| ((h >> (24 - HLOG)).wrapping_sub(h.wrapping_mul(5)) as usize) & (HSIZE - 1);
        let frst = |p: usize| ((input[p] as u32) << 8) | input[p + 1] as u32;
        let next = |v: u32, p: usize| (v << 8) | input[p + 2] as u32;
        // Room for liblzf's writes one past `out_len` (Redis allocates
        // `out_len + 1`); the result is cut to `op`.
        let mut out = vec![0u8; out_len + 2];
        let mut lit: usize = 0;
        let mut op: usize = 1; // start run
        let mut ip: usize = 0;
        if in_len >= 3 {
            let mut hval = frst(0);
            while ip < in_len - 2 {
                hval = next(hval, ip);
                let slot = idx(hval);
                let old = table[slot];
                table[slot] = tag | ip as u64;
                let reference = (old & !0xffff_ffff == tag).then_some((old & 0xffff_ffff) as usize);
                let matched = reference
                    .filter(|&r| r < ip && ip - r - 1 < MAX_OFF && r > 0 && input[r..r + 3] == input[ip..ip + 3]);
                if let Some(r) = matched {
                    let off = ip - r - 1;
                    let mut len = 2;
                    let maxlen = (in_len - ip - len).min(MAX_REF);
                    out[op - lit - 1] = (lit as u8).wrapping_sub(1); // stop run
                    op -= (lit == 0) as usize; // undo run if length is zero
                    if op + 3 + 1 >= out_len {
                        return None;
                    }
                    // liblzf compares 16 bytes unrolled, without the bound,
                    // when more than 16 may match, then one at a time.
                    let mut done = false;
                    if maxlen > 16 {
                        for _ in 0..16 {
                            len += 1;
                            if input[r + len] != input[ip + len] {
                                done = true;
                                break;
                            }
                        }
                    }
                    if !done {
                        loop {
                            len += 1;
                            if !(len < maxlen && input[r + len] == input[ip + len]) {
                                break;
                            }
                        }
                    }
                    len -= 2; // len is now #octets - 1
                    ip += 1;
                    if len < 7 {
                        out[op] = ((off >> 8) + (len << 5)) as u8;
                        op += 1;
                    } else {
                        out[op] = ((off >> 8) + (7 << 5)) as u8;
                        out[op + 1] = (len - 7) as u8;
                        op += 2;
                    }
                    out[op] = off as u8;
                    op += 1;
                    lit = 0;
                    op += 1; // start run
                    ip += len + 1;
                    if ip >= in_len - 2 {
                        break;
                    }
                    // VERY_FAST: hash the two positions before the new one.
                    ip -= 2;
                    hval = frst(ip);
                    hval = next(hval, ip);
                    table[idx(hval)] = tag | ip as u64;
                    ip += 1;
                    hval = next(hval, ip);
                    table[idx(hval)] = tag | ip as u64;
                    ip += 1;
                } else {
                    // One more literal byte.
                    if op >= out_len {
                        return None;
                    }
                    lit += 1;
                    out[op] = input[ip];
                    op += 1;
                    ip += 1;
                    if lit == MAX_LIT {
                        out[op - lit - 1] = (lit - 1) as u8; // stop run
                        lit = 0;
                        op += 1; // start run
                    }
                }
            }
        }
        if op + 3 > out_len {
            // At most 3 bytes can be missing here.
            return None;
        }
        while ip < in_len {
            lit += 1;
            out[op] = input[ip];
            op += 1;
            ip += 1;
            if lit == MAX_LIT {
                out[op - lit - 1] = (lit - 1) as u8;
                lit = 0;
                op += 1;
            }
        }
        out[op - lit - 1] = (lit as u8).wrapping_sub(1); // end run
        op -= (lit == 0) as usize;
        out.truncate(op);
        Some(out)
    })
}

/// Decompresses `input` into `out` and returns how many bytes it wrote, or
/// `None` if `input` is not a valid stream or its output does not fit in
/// `out` (liblzf's `lzf_decompress` returning 0 with `EINVAL` or `E2BIG`).
/// An empty input decompresses to nothing.
pub fn decompress(input: &[u8], out: &mut [u8]) -> Option<usize> {
    let (mut ip, mut op) = (0, 0);
    while ip < input.len() {
        let ctrl = input[ip] as usize;
        ip += 1;
        if ctrl < MAX_LIT {
            let n = ctrl + 1;
            let src = input.get(ip..ip + n)?;
            out.get_mut(op..op + n)?.copy_from_slice(src);
            ip += n;
            op += n;
        } else {
            let mut n = ctrl >> 5;
            if n == 7 {
                n += *input.get(ip)? as usize;
                ip += 1;
            }
            let back = ((ctrl & 0x1f) << 8 | *input.get(ip)? as usize) + 1;
            ip += 1;
            n += 2;
            let from = op.checked_sub(back)?;
            let dst = out.get_mut(from..op + n)?;
            if back >= n {
                dst.copy_within(..n, back);
            } else {
                // Overlapping: each byte may be one this reference wrote.
                for k in 0..n {
                    dst[back + k] = dst[k];
                }
            }
            op += n;
        }
    }
    Some(op)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }

    fn round_trip(data: &[u8]) -> Option<usize> {
        let packed = compress(data, data.len() + data.len() / 32 + 2)?;
        let mut out = vec![0; data.len()];
        assert_eq!(decompress(&packed, &mut out), Some(data.len()));
        assert_eq!(out, data);
        Some(packed.len())
    }

    /// Streams written by Redis 7.0.15's liblzf: the LZF-encoded strings of
    /// `DUMP` replies for the values below.
    #[test]
    fn reads_what_redis_wrote() {
        let words = b"the quick brown fox jumps over the lazy dog ".repeat(12);
        let runs: Vec<u8> = [vec![b'a'; 300], vec![b'b'; 7], b"abcabcabc".repeat(30)].concat();
        let vals: Vec<u8> = (0..60).flat_map(|i| format!("value:{i:06}").into_bytes()).collect();
        let cases = [
            (
                &words[..],
                "1f74686520717569636b2062726f776e20666f78206a756d7073206f7665722074201e076c617a7920646f67600ce0ff2be1cd07016720",
            ),
            (&runs[..], "016161e0ff00e019000062800002616263e0ff022107"),
            (
                &vals[..],
                "0676616c75653a3060000076e0010b0031e0020b0032e0020b0033e0020b0034e0020b0035e0020b0036e0020b0037e0020b0038e0020b0039e0010b0031e002770031e002770031e002770031e002770031e002770031e002770031e002770031e002770031e002770031e002770032e002770032e002770032e002770032e002770032e002770032e002770032e002770032e002770032e002770032e002770033e002770033e002770033e002770033e002770033e002770033e002770033e002770033e002770033e002770033e002770034e002770034e002770034e002770034e002770034e002770034e002770034e002770034e002770034e002770034e002770035e002770035e002770035e002770035e002770035e002770035e002770035e002770035e002770035e00277013539",
            ),
        ];
        for (want, stream) in cases {
            let stream = hex(stream);
            let mut out = vec![0; want.len()];
            assert_eq!(decompress(&stream, &mut out), Some(want.len()));
            assert_eq!(out, want);
            // One byte short of room: refused, not truncated.
            assert_eq!(decompress(&stream, &mut out[..want.len() - 1]), None);
            // Ours compresses them about as well.
            let ours = round_trip(want).unwrap();
            assert!(ours <= stream.len() + stream.len() / 8, "{ours} vs liblzf's {}", stream.len());
        }
    }

    #[test]
    fn round_trips_and_edges() {
        assert_eq!(compress(b"", 100), None);
        assert_eq!(decompress(b"", &mut []), Some(0));
        for data in [&b"a"[..], b"ab", b"abc", b"aaaa", &[0; 70_000], &b"xy".repeat(5000)] {
            round_trip(data).unwrap();
        }
        // Long runs use the longest references.
        assert!(round_trip(&[7; 10_000]).unwrap() < 10_000 / 264 * 3 + 10);
        // Matches near the 8 KB window's edge.
        let mut far: Vec<u8> = (0..9000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
        far.extend_from_within(..100);
        far.extend_from_within(800..900);
        round_trip(&far).unwrap();
        // Incompressible data does not fit a limit below its size.
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let noise: Vec<u8> = (0..1000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 32) as u8
            })
            .collect();
        assert_eq!(compress(&noise, 990), None);
        let words = b"value:000001 value:000002 ".repeat(20);
        let packed = compress(&words, words.len()).unwrap();
        assert_eq!(compress(&words, packed.len()), Some(packed.clone()));
        assert_eq!(compress(&words, packed.len() - 1), None);
    }

    #[test]
    fn compress_into_appends_or_leaves_the_buffer_alone() {
        let words = b"value:000001 value:000002 ".repeat(20);
        let alone = compress(&words, words.len()).unwrap();
        let mut out = b"head".to_vec();
        assert!(compress_into(&words, alone.len(), &mut out));
        assert_eq!(&out[..4], b"head");
        assert_eq!(out[4..], alone[..]);
        assert!(!compress_into(&words, alone.len() - 1, &mut out));
        assert!(!compress_into(b"", 10, &mut out));
        assert_eq!(out.len(), 4 + alone.len());
    }

    #[test]
    fn rejects_malformed_streams() {
        let mut out = [0u8; 64];
        // A literal run longer than the input holds.
        assert_eq!(decompress(&[5, b'a'], &mut out), None);
        // A reference before the start of the output.
        assert_eq!(decompress(&[0, b'a', 0x20, 1], &mut out), None);
        // A reference missing its offset byte, or its length byte.
        assert_eq!(decompress(&[0, b'a', 0x20], &mut out), None);
        assert_eq!(decompress(&[0, b'a', 0xE0], &mut out), None);
        // A valid run-length reference, then one that overflows `out`.
        assert_eq!(decompress(&[0, b'a', 0x20, 0], &mut out), Some(4));
        assert_eq!(&out[..4], b"aaaa");
        assert_eq!(decompress(&[0, b'a', 0xE0, 200, 0], &mut out), None);
    }

    fn compressible() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            prop::collection::vec(any::<u8>(), 0..600),
            prop::collection::vec(0u8..4, 0..3000),
            (prop::collection::vec(any::<u8>(), 1..40), 1usize..400).prop_map(|(word, times)| word.repeat(times)),
            prop::collection::vec(0u32..1_000_000, 0..400)
                .prop_map(|v| v.iter().flat_map(|n| format!("value:{n:06}").into_bytes()).collect()),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]
        #[test]
        fn compress_then_decompress_gives_the_input(data in compressible(), slack in 0usize..64) {
            let limit = data.len() + slack;
            if let Some(packed) = compress(&data, limit) {
                prop_assert!(packed.len() <= limit);
                let mut out = vec![0; data.len()];
                prop_assert_eq!(decompress(&packed, &mut out), Some(data.len()));
                prop_assert_eq!(out, data);
            } else {
                // Only when literals alone need more than the limit, or the data is empty.
                prop_assert!(data.is_empty() || data.len() + data.len().div_ceil(MAX_LIT) > limit);
            }
        }

        #[test]
        fn compress_exact_round_trips_within_its_limit(data in compressible(), slack in -8i64..64) {
            let limit = (data.len() as i64 + slack).max(0) as usize;
            if let Some(packed) = compress_exact(&data, limit) {
                prop_assert!(packed.len() <= limit);
                let mut out = vec![0; data.len()];
                prop_assert_eq!(decompress(&packed, &mut out), Some(data.len()));
                prop_assert_eq!(out, data);
            } else {
                prop_assert!(data.is_empty() || limit < data.len() + data.len().div_ceil(MAX_LIT) + 4);
            }
        }

        /// Decompression of arbitrary bytes never panics and never writes
        /// more than the room it is given.
        #[test]
        fn decompress_takes_any_input(input in prop::collection::vec(any::<u8>(), 0..200), room in 0usize..2000) {
            let mut out = vec![0xA5u8; room + 16];
            if let Some(n) = decompress(&input, &mut out[..room]) {
                prop_assert!(n <= room);
            }
            prop_assert!(out[room..].iter().all(|&b| b == 0xA5));
        }
    }
}
