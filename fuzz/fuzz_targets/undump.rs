//! RESTORE's decoding with deep checks on arbitrary bodies: the input
//! (after one control byte) is sealed with an RDB version and its CRC-64,
//! so the fuzzer explores the value parsers rather than the checksum.
//! Whatever it finds must be an error or a value; a value must dump and
//! read back to itself.
#![no_main]

use ferrokv::persist::codec::{self, Limits, crc64};
use ferrokv::store::list::Shape;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&control, body)) = data.split_first() else { return };
    // Low bit: deep checks or not; next bit: tiny limits (every value
    // converts to its big encoding) or Redis's defaults.
    let deep = control & 1 == 0;
    let mut limits = Limits::default();
    if control & 2 != 0 {
        limits.hash.entries = 1;
        limits.hash.value = 2;
        limits.zset.entries = 1;
        limits.zset.value = 2;
        limits.set_max_intset_entries = 1;
        limits.list_shape = Shape::new(1, 1);
    }
    let mut payload = body.to_vec();
    payload.extend_from_slice(&codec::RDB_VERSION.to_le_bytes());
    let crc = crc64(0, &payload);
    payload.extend_from_slice(&crc.to_le_bytes());
    if let Ok(v) = codec::undump(&payload, &limits, deep, true) {
        let again = codec::dump(&v);
        let back = codec::undump(&again, &limits, true, true).expect("a value's own DUMP reads back");
        assert_eq!(back, v);
    }
});
