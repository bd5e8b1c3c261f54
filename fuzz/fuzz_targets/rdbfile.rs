//! A whole RDB file through the loader a start-up, `DEBUG RELOAD` and an
//! AOF's RDB preamble use (`rdb::Loader`): header, opcodes (AUX, SELECTDB,
//! RESIZEDB, expiry, LRU/LFU, FUNCTION, module aux) and values, in any
//! order. The checksum is checked at EOF only, so the fuzzer reaches
//! everything before it. It must give the keys or an error, never a
//! panic; a load that succeeds leaves only values that DUMP and read back
//! to themselves.
#![no_main]

use ferrokv::persist::codec::{self, Limits};
use ferrokv::persist::rdb::Loader;
use ferrokv::store::Db;
use libfuzzer_sys::fuzz_target;
use std::time::Duration;

/// 2026-01-01 in ms: keys whose expiry is before it load as expired.
const NOW: u64 = 1_767_225_600_000;

fuzz_target!(|data: &[u8]| {
    let Ok(mut loader) = Loader::new(data.to_vec(), Limits::default()) else { return };
    let mut dbs: Vec<Db> = (0..16).map(|_| Db::new()).collect();
    if loader.step(&mut dbs, NOW, Duration::from_secs(3600)).is_err() || !loader.done {
        return;
    }
    let limits = Limits::default();
    for db in &dbs {
        for (_, e) in db.iter_raw() {
            let v = &e.value;
            let back = codec::undump(&codec::dump(v), &limits, true, true).expect("a loaded value's DUMP reads back");
            assert_eq!(&back, v);
        }
    }
});
