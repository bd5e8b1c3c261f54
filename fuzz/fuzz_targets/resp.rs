//! The incremental RESP request parser: the input (after one control byte)
//! is parsed whole, then again fed in pieces — one byte at a time, and cut
//! at pseudo-random points with the consumed bytes dropped after each batch
//! as the server's read buffer does (`Conn::compact`). Every way must give
//! the same commands (same argument bytes) and the same protocol error, and
//! none may panic. The control byte picks `proto-max-bulk-len` (Redis's
//! 512 MB, or a few bytes so the bulk-length check fires) and seeds the
//! cuts. Inputs stay under the 64 KB header/inline limit, past which Redis's
//! "too big" errors depend on how the bytes arrived.
#![no_main]

use ferrokv::resp::parse::INLINE_MAX;
use ferrokv::resp::{Parser, ProtoError, Source};
use libfuzzer_sys::fuzz_target;

/// The commands parsed, and the error that stopped the parse, if any.
type Outcome = (Vec<Vec<Vec<u8>>>, Option<ProtoError>);

/// Feeds `input` in pieces of the lengths `cuts` yields (the rest at the
/// end), parsing after each piece every command complete so far.
fn parse(input: &[u8], cuts: impl Iterator<Item = usize>, max_bulk: usize, compact: bool) -> Outcome {
    let mut parser = Parser::new();
    let (mut spans, mut inline) = (Vec::new(), Vec::new());
    let mut buf: Vec<u8> = Vec::new();
    let mut fed = 0;
    let mut out = Vec::new();
    let mut cuts = cuts.peekable();
    while fed < input.len() {
        let n = cuts.next().unwrap_or(input.len()).clamp(1, input.len() - fed);
        buf.extend_from_slice(&input[fed..fed + n]);
        fed += n;
        loop {
            match parser.next(&buf, &mut spans, &mut inline, max_bulk) {
                Ok(None) => break,
                Ok(Some(src)) => {
                    let data = match src {
                        Source::Buffer { base, .. } => &buf[base..],
                        Source::Inline => &inline[..],
                    };
                    assert!(!spans.is_empty(), "a command has a name");
                    out.push(spans.iter().map(|&(s, e)| data[s..e].to_vec()).collect());
                }
                Err(e) => return (out, Some(e)),
            }
        }
        if compact {
            let done = parser.consumed();
            buf.drain(..done);
            parser.rebase(done);
        }
    }
    (out, None)
}

fuzz_target!(|data: &[u8]| {
    let Some((&control, input)) = data.split_first() else { return };
    if input.len() >= INLINE_MAX {
        return;
    }
    let max_bulk = if control & 1 == 0 { 512 << 20 } else { (control >> 1) as usize % 16 };
    let whole = parse(input, std::iter::empty(), max_bulk, false);
    let bytewise = parse(input, std::iter::repeat(1), max_bulk, false);
    assert_eq!(whole, bytewise, "one byte at a time");
    // Cut lengths from a small generator seeded by the control byte.
    let mut seed = u64::from(control) * 0x9E37_79B9_7F4A_7C15 + input.len() as u64;
    let cuts = std::iter::from_fn(move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        Some(1 + (seed % 24) as usize)
    });
    let pieces = parse(input, cuts, max_bulk, true);
    assert_eq!(whole, pieces, "random cuts with compaction");
});
