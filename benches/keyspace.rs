//! Keyspace operations without a socket: SET/GET on a 100k-key database,
//! and one active-expiry step over a database where every key has expired.

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use ferrokv::store::{Db, Expiry, Value, rand::Rng, value::Str};
use std::hint::black_box;

fn filled(n: usize, expiry: Expiry) -> (Db, Vec<Vec<u8>>) {
    let mut db = Db::new();
    let keys: Vec<Vec<u8>> = (0..n).map(|i| format!("key:{i:010}").into_bytes()).collect();
    for k in &keys {
        db.set(k, Value::Str(Str::from_slice(b"0123456789abcdef")), expiry, 0);
    }
    (db, keys)
}

fn keyspace(c: &mut Criterion) {
    let (mut db, keys) = filled(100_000, Expiry::None);
    let mut i = 0;
    c.bench_function("get hit (100k keys)", |b| {
        b.iter(|| {
            i = (i + 7919) % keys.len();
            black_box(db.get(&keys[i], 1).is_some())
        })
    });
    c.bench_function("set overwrite (100k keys)", |b| {
        b.iter(|| {
            i = (i + 7919) % keys.len();
            db.set(&keys[i], Value::Str(Str::from_slice(b"fedcba9876543210")), Expiry::None, 1);
        })
    });
    c.bench_function("get miss", |b| b.iter(|| black_box(db.get(b"no-such-key", 1).is_some())));

    let mut rng = Rng::new(7);
    c.bench_function("expire step: 20 samples, all expired", |b| {
        b.iter_batched(
            || filled(1_000, Expiry::At(10)).0,
            |mut db| black_box(db.expire_sample(100, 20, &mut rng)),
            BatchSize::LargeInput,
        )
    });
}

criterion_group!(benches, keyspace);
criterion_main!(benches);
