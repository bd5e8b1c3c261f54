//! Keyspace operations without a socket: SET/GET on a 100k-key database,
//! one active-expiry step over a database where every key has expired, and
//! a pipelined batch of 16 GETs on 1,000,000 keys (more than the caches
//! hold) with and without the executor's prefetch (`server::prefetch`).

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

/// 16 GETs of random keys out of 1,000,000 (keys of 20 bytes, stored out
/// of line, as redis-benchmark's `counter:__rand_int__`), one after
/// another, as a `-P 16` batch runs; then the same after one prefetch of
/// the batch. The difference is what the prefetch's `unsafe` buys.
fn prefetch(c: &mut Criterion) {
    let mut db = Db::new();
    let keys: Vec<Vec<u8>> = (0..1_000_000).map(|i| format!("counter:{i:012}").into_bytes()).collect();
    for k in &keys {
        db.set(k, Value::Str(Str::from_slice(b"1")), Expiry::None, 0);
    }
    let mut rng = Rng::new(11);
    let mut batch = || -> Vec<&[u8]> { (0..16).map(|_| &keys[rng.below(keys.len())][..]).collect() };
    c.bench_function("16 gets of 1M keys", |b| {
        b.iter_batched(
            &mut batch,
            |batch| batch.iter().filter(|k| db.get(k, 1).is_some()).count(),
            BatchSize::SmallInput,
        )
    });
    c.bench_function("16 gets of 1M keys, prefetched", |b| {
        b.iter_batched(
            &mut batch,
            |batch| {
                db.prefetch(&batch);
                batch.iter().filter(|k| db.get(k, 1).is_some()).count()
            },
            BatchSize::SmallInput,
        )
    });
}

criterion_group!(benches, keyspace, prefetch);
criterion_main!(benches);
