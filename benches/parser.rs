//! RESP parsing and reply writing: a single SET, a pipeline of 100 GETs,
//! a 1 MB bulk arriving in 16 KB pieces, and writing typical replies.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ferrokv::resp::{Parser, Proto, Reply};
use std::hint::black_box;

const MAX: usize = 512 << 20;

fn parse_all(buf: &[u8]) -> usize {
    let mut p = Parser::new();
    let (mut spans, mut inline) = (Vec::new(), Vec::new());
    let mut n = 0;
    while let Ok(Some(_)) = p.next(buf, &mut spans, &mut inline, MAX) {
        n += spans.len();
    }
    n
}

fn parser(c: &mut Criterion) {
    let set = b"*3\r\n$3\r\nSET\r\n$16\r\nkey:000000012345\r\n$3\r\nxxx\r\n".to_vec();
    c.bench_function("parse SET", |b| b.iter(|| parse_all(black_box(&set))));

    let pipeline = b"*2\r\n$3\r\nGET\r\n$16\r\nkey:000000012345\r\n".repeat(100);
    let mut g = c.benchmark_group("pipeline");
    g.throughput(Throughput::Elements(100));
    g.bench_function("parse 100 GETs", |b| b.iter(|| parse_all(black_box(&pipeline))));
    g.finish();

    c.bench_function("parse inline PING", |b| b.iter(|| parse_all(black_box(b"PING\r\n"))));

    let mut big = b"*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$1048576\r\n".to_vec();
    big.extend(vec![b'x'; 1 << 20]);
    big.extend_from_slice(b"\r\n");
    c.bench_function("parse 1MB bulk in 16KB reads", |b| {
        b.iter(|| {
            let mut p = Parser::new();
            let (mut spans, mut inline) = (Vec::new(), Vec::new());
            let mut done = 0;
            for end in (16384..big.len() + 16384).step_by(16384) {
                let end = end.min(big.len());
                if let Ok(Some(_)) = p.next(&big[..end], &mut spans, &mut inline, MAX) {
                    done += 1;
                }
            }
            black_box(done)
        })
    });
}

fn replies(c: &mut Criterion) {
    let mut buf = Vec::with_capacity(1 << 16);
    c.bench_function("write 100 bulk replies", |b| {
        b.iter(|| {
            buf.clear();
            let mut r = Reply::new(&mut buf, Proto::Resp2);
            for _ in 0..100 {
                r.bulk(black_box(b"value:0000012345"));
            }
            black_box(buf.len())
        })
    });
    c.bench_function("write 100 integer replies", |b| {
        b.iter(|| {
            buf.clear();
            let mut r = Reply::new(&mut buf, Proto::Resp2);
            for i in 0..100 {
                r.int(black_box(i * 1_000_003));
            }
            black_box(buf.len())
        })
    });
}

criterion_group!(benches, parser, replies);
criterion_main!(benches);
