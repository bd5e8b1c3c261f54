//! HyperLogLog operations on arbitrary strings that pass Redis's HLL
//! header check (`HYLL`, a known encoding, a dense one of exact length):
//! counting, merging, converting, decoding and adding must return a value
//! or `Corrupt`, never panic, and an add must leave a string that is still
//! an HLL. The first input byte picks the sparse limit and the encoding.
#![no_main]

use ferrokv::store::hll;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&control, body)) = data.split_first() else { return };
    let max_bytes = [0, 20, 100, 3000][(control & 3) as usize];
    let mut s = b"HYLL".to_vec();
    let dense = control & 4 != 0;
    s.push(if dense { hll::DENSE } else { hll::SPARSE });
    s.extend_from_slice(&[0; 10]);
    s.push(control & 0x80);
    s.extend_from_slice(body);
    if dense {
        s.resize(hll::DENSE_SIZE, 0);
    }
    assert!(hll::is_hll(&s));
    let _ = hll::count(&s);
    let _ = hll::decode(&s);
    let _ = hll::sparse_to_dense(&s);
    let mut max = [0u8; hll::REGISTERS];
    let merged = hll::merge(&mut max, &s).is_ok();
    let mut term = 0;
    for ele in body.chunks(3).take(64) {
        if hll::add(&mut s, ele, max_bytes, &mut term).is_err() {
            break;
        }
        assert!(hll::is_hll(&s));
    }
    if merged {
        let mut dest = hll::new_sparse();
        hll::write_registers(&mut dest, &max, max_bytes);
        assert!(hll::is_hll(&dest));
        // The merged registers are the source's.
        let mut again = [0u8; hll::REGISTERS];
        hll::merge(&mut again, &dest).expect("a merge result is a valid HLL");
        assert_eq!(again[..], max[..]);
    }
});
