//! Replies where ferrokv once differed from Redis: commands found by the
//! differential fuzzer (`scripts/fuzz_vs_redis.py`), recorded against Redis
//! 7.0.15 with `scripts/resp_transcript.py` and replayed here through the
//! real client: argument checks in Redis's order, EXEC's abort on a refused
//! EXEC, LPOS/LMPOP option parsing, empty SCAN cursors, and more.

mod common;
use common::server;
use common::transcript::replay;

#[test]
fn replies_match_redis_7_0() {
    let checked = replay(&server(), include_str!("data/compat_transcript.txt"));
    assert_eq!(checked, 232, "every recorded command is replayed");
}
