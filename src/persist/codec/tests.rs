//! The codec against bytes recorded from redis-server 7.0.15, pre-7.0
//! encodings built by hand, and hostile input.

use super::*;

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

fn lim() -> Limits {
    Limits::default()
}

/// `lcg_bytes` of the recording script: a 31-bit LCG, one byte per step,
/// mapped onto `alphabet` when given.
fn lcg_bytes(n: usize, seed: u64, alphabet: Option<&[u8]>) -> Vec<u8> {
    let mut x = seed;
    (0..n)
        .map(|_| {
            x = (x * 1103515245 + 12345) % (1 << 31);
            let v = ((x >> 16) & 0xff) as u8;
            alphabet.map_or(v, |a| a[v as usize % a.len()])
        })
        .collect()
}

fn string(s: &[u8]) -> Value {
    Value::Str(Bytes::from_slice(s))
}

fn list(items: &[&[u8]]) -> Value {
    let mut l = List::new();
    items.iter().for_each(|i| l.push(End::Right, i, Shape::default()));
    Value::List(l)
}

fn set(items: &[&[u8]]) -> Value {
    let mut s = Set::new();
    items.iter().for_each(|i| {
        s.add(Member::parse(i), 512);
    });
    Value::Set(Box::new(s))
}

fn zset(items: &[(f64, &[u8])]) -> Value {
    let mut z = ZSet::new();
    let l = zset::Limits { entries: 128, value: 64 };
    items.iter().for_each(|(s, m)| {
        z.insert(m, *s, l);
    });
    Value::ZSet(Box::new(z))
}

fn hash(items: &[(&[u8], &[u8])]) -> Value {
    let mut h = Hash::new();
    items.iter().for_each(|(f, v)| {
        h.insert(f, v, hash::Limits::default());
    });
    Value::Hash(Box::new(h))
}

/// Values and the DUMP redis-server 7.0.15 gave for them (built there with
/// SET, RPUSH, SADD, ZADD, HSET with the same arguments and default
/// config; the hex is the raw DUMP reply).
fn recorded() -> Vec<(&'static str, Value, &'static str)> {
    let y30 = [b'y'; 30];
    vec![
        ("str_short", string(b"hello"), "000568656c6c6f0a006372df766534200a"),
        ("str_int16", string(b"12345"), "00c139300a009d94ea2793fc08b9"),
        ("str_int8", string(b"-1"), "00c0ff0a000c937e2485089dc5"),
        ("str_int32", string(b"2147483647"), "00c2ffffff7f0a002c74e59ee02eada1"),
        ("str_11", string(b"12345678901"), "000b31323334353637383930310a00304e52d727176510"),
        ("str_i64", string(b"9223372036854775807"), "0013393232333337323033363835343737353830370a003a657e9481e85f22"),
        ("str_empty", string(b""), "00000a005d9b5c400f7fa2da"),
        ("str_lzf", string(&[b'x'; 40]), "00c30928017878e01b000178780a007a1d6ccea5401333"),
        (
            "str_lcg30",
            string(&lcg_bytes(30, 1, Some(b"abcdefgh"))),
            "001e6767626464646364656766686565626862686267676368686867686263610a007cc7a69dd4c87a10",
        ),
        ("str_neg0", string(b"-0"), "00022d300a00d5411fd9d6d050cc"),
        ("str_float", string(b"3.14"), "0004332e31340a008c75407d2acce82c"),
        (
            "list_small",
            list(&[b"a", b"b", b"c", b"1", b"2", b"-3", b"1000000", b"hello", b""]),
            "1201022525000000090081610281620281630201010201dffd02f240420f048568656c6c6f068001ff0a003c3475e478b25254",
        ),
        ("set_int", set(&[b"1", b"2", b"3"]), "0b0e02000000030000000100020003000a00a5025ce26d6e4d1b"),
        (
            "set_int64",
            set(&[b"5000000000", b"-1", b"7"]),
            "0b200800000003000000ffffffffffffffff070000000000000000f2052a010000000a00ae1959dae219d48d",
        ),
        (
            "zset_lp",
            zset(&[
                (1.0, b"a"),
                (2.5, b"b"),
                (f64::NEG_INFINITY, b"c"),
                (f64::INFINITY, b"d"),
                (1e20, b"e"),
                (-0.0, b"f"),
                (4e18, b"g"),
            ]),
            "114041410000000e00816302842d696e66058166020001816102010181620283322e3504816702f40000909dceda8237098165028531652b32300681640283696e6604ff0a0012b8d781895ad9c5",
        ),
        (
            "hash_lp",
            hash(&[(b"f1", b"v1"), (b"f2", b"v2"), (b"num", b"123"), (b"neg", b"-77"), (b"long", &y30)]),
            "10c334404c0b4c0000000a0082663103827620030166322007183203836e756d047b01836e656704dfb302846c6f6e67059e79e01400011fff0a00e84c0cd34e83eca3",
        ),
    ]
}

#[test]
fn crc64_is_redis_s() {
    assert_eq!(crc64(0, b"123456789"), 0xe9c6d914c4b8d9ca);
    assert_eq!(crc64(0, b""), 0);
    let data = lcg_bytes(1000, 7, None);
    for cut in [0, 1, 7, 500, 999, 1000] {
        assert_eq!(crc64(crc64(0, &data[..cut]), &data[cut..]), crc64(0, &data), "{cut}");
    }
    // As the snapshot writer continues it: chunk by chunk, of every size
    // around the SIMD paths' widths, empty chunks included.
    let big = lcg_bytes(200_000, 11, None);
    let (mut crc, mut at, mut len) = (0, 0, 0);
    while at < big.len() {
        let end = (at + len).min(big.len());
        crc = crc64(crc, &big[at..end]);
        at = end;
        len = (len * 7 + 3) % 700;
    }
    assert_eq!(crc, crc64(0, &big));
}

#[test]
fn dumps_equal_redis_s_and_read_back() {
    for (name, value, want) in recorded() {
        let want = hex(want);
        assert_eq!(dump(&value), want, "{name}: ferrokv's DUMP differs from redis-server's");
        let back = undump(&want, &lim(), true, true).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(back, value, "{name}");
        assert_eq!(back.encoding(), value.encoding(), "{name}");
        assert_eq!(undump(&want, &lim(), false, true).unwrap(), value, "{name}");
    }
}

#[test]
fn lengths_round_trip_at_every_width() {
    for n in [0u64, 63, 64, 16383, 16384, u32::MAX as u64, u32::MAX as u64 + 1, u64::MAX] {
        let mut out = Vec::new();
        write_len(&mut out, n);
        let width = match n {
            0..=63 => 1,
            64..=16383 => 2,
            16384..=0xffff_ffff => 5,
            _ => 9,
        };
        assert_eq!(out.len(), width, "{n}");
        let mut r = Reader::new(&out);
        assert_eq!(r.read_len().unwrap(), n);
        assert!(r.at_end());
    }
    // 0x82..0xBF are not lengths; an encoded value is not one either.
    assert!(Reader::new(&[0x82]).read_len().is_err());
    assert!(Reader::new(&[0xC0, 1]).read_len().is_err());
    assert!(matches!(Reader::new(&[0x80, 0, 0]).read_len(), Err(Error::Truncated(_))));
}

#[test]
fn strings_take_redis_s_encodings() {
    let enc = |s: &[u8], compress: bool| {
        let mut out = Vec::new();
        write_string(&mut out, s, compress);
        out
    };
    assert_eq!(enc(b"127", true), [0xC0, 127]);
    assert_eq!(enc(b"-129", true), [0xC1, 0x7f, 0xff]);
    assert_eq!(enc(b"-2147483648", true), [0xC2, 0, 0, 0, 0x80]);
    assert_eq!(enc(b"2147483648", true)[0], 10, "over i32: text");
    assert_eq!(enc(b"007", true)[0], 3, "not canonical: text");
    assert_eq!(enc(&[b'a'; 40], false)[0], 40, "rdbcompression no");
    assert_eq!(enc(&[b'a'; 20], true)[0], 20, "20 bytes are never compressed");
    assert_eq!(enc(&[b'a'; 21], true)[0], 0xC3);
    let noise = lcg_bytes(200, 3, None);
    assert_eq!(enc(&noise, true)[..2], [0x40, 200], "incompressible: raw");
    for s in [&b"hello"[..], b"", b"12", b"-0", &[b'z'; 5000], &noise] {
        let bytes = enc(s, true);
        let mut r = Reader::new(&bytes);
        assert_eq!(&*r.read_string().unwrap(), s);
        assert!(r.at_end());
    }
}

/// A longer string, the same LZF bytes as redis-server's (the whole DUMP
/// is in tests/data/dump, compared by tests/dump.rs; this pins the LZF).
#[test]
fn long_lzf_string_reads_and_writes() {
    let v = lcg_bytes(3000, 2, Some(b"abcdefgh"));
    let mut out = Vec::new();
    write_string(&mut out, &v, true);
    assert_eq!(out[0], 0xC3);
    assert!(out.len() < 2200, "compressed: {}", out.len());
    assert_eq!(&*Reader::new(&out).read_string().unwrap(), &v[..]);
}

/// Pre-7.0 payloads: every type Redis has written, built as Redis 6 (and
/// 2.4 for zipmaps) wrote them.
mod old_encodings {
    use super::*;

    fn payload(t: u8, body: &[u8], version: u16) -> Vec<u8> {
        let mut p = vec![t];
        p.extend_from_slice(body);
        p.extend_from_slice(&version.to_le_bytes());
        let crc = crc64(0, &p);
        p.extend_from_slice(&crc.to_le_bytes());
        p
    }

    fn blob(b: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        write_string(&mut out, b, false);
        out
    }

    /// A count then the strings; a hash's count is of pairs.
    fn strings(items: &[&[u8]]) -> Vec<u8> {
        counted(items.len(), items)
    }

    fn pairs(items: &[&[u8]]) -> Vec<u8> {
        counted(items.len() / 2, items)
    }

    fn counted(n: usize, items: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        write_len(&mut out, n as u64);
        items.iter().for_each(|i| write_string(&mut out, i, true));
        out
    }

    #[test]
    fn linked_list_and_ziplists() {
        let want = list(&[b"a", b"12", b"hello"]);
        let linked = payload(RDB_TYPE_LIST, &strings(&[b"a", b"12", b"hello"]), 6);
        assert_eq!(undump(&linked, &lim(), false, true).unwrap(), want);
        let zl = ziplist::write(&[Elem::Bytes(b"a"), Elem::Int(12), Elem::Bytes(b"hello")]);
        assert_eq!(undump(&payload(RDB_TYPE_LIST_ZIPLIST, &blob(&zl), 6), &lim(), false, true).unwrap(), want);
        // A quicklist of two ziplist nodes keeps the two nodes.
        let mut body = vec![2];
        body.extend(blob(&ziplist::write(&[Elem::Bytes(b"a")])));
        body.extend(blob(&ziplist::write(&[Elem::Int(12), Elem::Bytes(b"hello")])));
        let v = undump(&payload(RDB_TYPE_LIST_QUICKLIST, &body, 9), &lim(), false, true).unwrap();
        assert_eq!(v, want);
        let Value::List(l) = &v else { panic!() };
        let mut sizes = Vec::new();
        l.for_each_node(|n| sizes.push(n.len()));
        assert_eq!(sizes, [1, 2]);
        // An empty ziplist node is skipped; a list of only those is empty.
        let mut body = vec![2];
        body.extend(blob(&ziplist::write(&[])));
        body.extend(blob(&ziplist::write(&[Elem::Bytes(b"x")])));
        assert_eq!(undump(&payload(RDB_TYPE_LIST_QUICKLIST, &body, 9), &lim(), false, true).unwrap(), list(&[b"x"]));
        let mut body = vec![1];
        body.extend(blob(&ziplist::write(&[])));
        assert!(matches!(
            undump(&payload(RDB_TYPE_LIST_QUICKLIST, &body, 9), &lim(), false, true),
            Err(Error::Empty(_))
        ));
    }

    #[test]
    fn plain_sets_hashes_and_zsets() {
        let p = payload(RDB_TYPE_SET, &strings(&[b"3", b"1", b"2"]), 6);
        let v = undump(&p, &lim(), false, true).unwrap();
        assert_eq!((v.encoding(), &v), ("intset", &set(&[b"1", b"2", b"3"])));
        let p = payload(RDB_TYPE_SET, &strings(&[b"3", b"x"]), 6);
        assert_eq!(undump(&p, &lim(), false, true).unwrap().encoding(), "hashtable");
        let p = payload(RDB_TYPE_SET, &strings(&[b"3", b"3"]), 6);
        assert!(matches!(undump(&p, &lim(), false, true), Err(Error::Corrupt(_))), "duplicate member");

        let p = payload(RDB_TYPE_HASH, &pairs(&[b"f", b"v", b"g", b"w"]), 6);
        let v = undump(&p, &lim(), false, true).unwrap();
        assert_eq!((v.encoding(), &v), ("listpack", &hash(&[(b"f", b"v"), (b"g", b"w")])));
        let long = [b'v'; 65];
        let p = payload(RDB_TYPE_HASH, &pairs(&[b"f", &long]), 6);
        assert_eq!(undump(&p, &lim(), false, true).unwrap().encoding(), "hashtable", "value over the limit");
        let p = payload(RDB_TYPE_HASH, &pairs(&[b"f", b"v", b"f", b"w"]), 6);
        assert!(undump(&p, &lim(), false, true).is_err(), "duplicate field");

        // RDB_TYPE_ZSET: scores as text, with the special lengths.
        let mut body = vec![3];
        for (m, score) in [(&b"a"[..], &b"\x031.5"[..]), (b"b", b"\xff"), (b"c", b"\xfe")] {
            write_string(&mut body, m, false);
            body.extend_from_slice(score);
        }
        let v = undump(&payload(RDB_TYPE_ZSET, &body, 6), &lim(), false, true).unwrap();
        assert_eq!(v, zset(&[(1.5, b"a"), (f64::NEG_INFINITY, b"b"), (f64::INFINITY, b"c")]));
        let mut nan = vec![1];
        write_string(&mut nan, b"a", false);
        nan.push(253);
        assert!(undump(&payload(RDB_TYPE_ZSET, &nan, 6), &lim(), false, true).is_err(), "NaN score");
        // ZSET_2 over the listpack limit is a skiplist.
        let mut body = Vec::new();
        write_len(&mut body, 129);
        for i in 0..129 {
            write_string(&mut body, format!("m{i}").as_bytes(), false);
            write_double_binary(&mut body, i as f64);
        }
        assert_eq!(undump(&payload(RDB_TYPE_ZSET_2, &body, 9), &lim(), false, true).unwrap().encoding(), "skiplist");
    }

    #[test]
    fn ziplist_hashes_and_zsets_and_zipmaps() {
        let zl = ziplist::write(&[Elem::Bytes(b"f"), Elem::Int(5), Elem::Bytes(b"g"), Elem::Bytes(b"w")]);
        let v = undump(&payload(RDB_TYPE_HASH_ZIPLIST, &blob(&zl), 6), &lim(), false, true).unwrap();
        assert_eq!((v.encoding(), &v), ("listpack", &hash(&[(b"f", b"5"), (b"g", b"w")])));
        let odd = ziplist::write(&[Elem::Bytes(b"f")]);
        assert!(undump(&payload(RDB_TYPE_HASH_ZIPLIST, &blob(&odd), 6), &lim(), false, true).is_err());
        let dup = ziplist::write(&[Elem::Bytes(b"f"), Elem::Int(1), Elem::Bytes(b"f"), Elem::Int(2)]);
        assert!(undump(&payload(RDB_TYPE_HASH_ZIPLIST, &blob(&dup), 6), &lim(), false, true).is_err());

        let zl = ziplist::write(&[Elem::Bytes(b"a"), Elem::Bytes(b"1.5"), Elem::Bytes(b"b"), Elem::Int(2)]);
        let v = undump(&payload(RDB_TYPE_ZSET_ZIPLIST, &blob(&zl), 6), &lim(), false, true).unwrap();
        assert_eq!((v.encoding(), &v), ("listpack", &zset(&[(1.5, b"a"), (2.0, b"b")])));
        // Out of order in the blob: sorted on load.
        let zl = ziplist::write(&[Elem::Bytes(b"b"), Elem::Int(2), Elem::Bytes(b"a"), Elem::Int(1)]);
        let v = undump(&payload(RDB_TYPE_ZSET_ZIPLIST, &blob(&zl), 6), &lim(), false, true).unwrap();
        assert_eq!(v, zset(&[(1.0, b"a"), (2.0, b"b")]));
        let bad = ziplist::write(&[Elem::Bytes(b"a"), Elem::Bytes(b"nope")]);
        assert!(undump(&payload(RDB_TYPE_ZSET_ZIPLIST, &blob(&bad), 6), &lim(), false, true).is_err());

        let zm = b"\x02\x03foo\x03\x00bar\x05hello\x05\x02world!!\xff";
        let v = undump(&payload(RDB_TYPE_HASH_ZIPMAP, &blob(zm), 2), &lim(), false, true).unwrap();
        assert_eq!(v, hash(&[(b"foo", b"bar"), (b"hello", b"world")]));
        let dup = b"\x02\x03foo\x03\x00bar\x03foo\x01\x00x\xff";
        assert!(undump(&payload(RDB_TYPE_HASH_ZIPMAP, &blob(dup), 2), &lim(), false, true).is_err());
    }

    #[test]
    fn listpack_sets_as_redis_7_2_writes_them() {
        let mut lp = listpack::Writer::new();
        for m in [&b"3"[..], b"1", b"2"] {
            lp.push_str(m);
        }
        let v = undump(&payload(RDB_TYPE_SET_LISTPACK, &blob(&lp.finish()), 10), &lim(), true, true).unwrap();
        assert_eq!((v.encoding(), &v), ("intset", &set(&[b"1", b"2", b"3"])));
        let mut lp = listpack::Writer::new();
        for m in [&b"a"[..], b"b", b"a"] {
            lp.push_str(m);
        }
        assert!(undump(&payload(RDB_TYPE_SET_LISTPACK, &blob(&lp.finish()), 10), &lim(), false, true).is_err());
    }

    #[test]
    fn limits_choose_the_encoding() {
        let small = Limits {
            hash: hash::Limits { entries: 1, value: 64 },
            zset: zset::Limits { entries: 1, value: 64 },
            set_max_intset_entries: 1,
            list_shape: Shape::new(1, 0),
        };
        for (name, v, hexed) in recorded() {
            let back = undump(&hex(hexed), &small, true, true).unwrap();
            assert_eq!(back, v, "{name}");
            let want = match v.type_name() {
                "hash" if v.encoding() == "listpack" => "hashtable",
                "set" => "hashtable",
                "zset" if v.encoding() == "listpack" => "skiplist",
                _ => v.encoding(),
            };
            assert_eq!(back.encoding(), want, "{name}");
        }
        // A loaded listpack hash keeps a long value (Redis converts such a
        // hash by count only), a plain one converts on it.
        let long = [b'v'; 100];
        let h = hash(&[(b"f", &long)]);
        assert_eq!(h.encoding(), "hashtable");
        let mut lp = listpack::Writer::new();
        lp.push_str(b"f");
        lp.push_str(&long);
        let v = undump(&payload(RDB_TYPE_HASH_LISTPACK, &blob(&lp.finish()), 10), &lim(), true, true).unwrap();
        assert_eq!((v.encoding(), &v), ("listpack", &h));
    }
}

#[test]
fn lists_keep_their_nodes_through_dump() {
    let mut l = List::new();
    l.push_node(&[Elem::Bytes(b"a"), Elem::Int(1)]);
    l.push_node(&[Elem::Bytes(b"b")]);
    let v = Value::List(l);
    let back = undump(&dump(&v), &lim(), true, true).unwrap();
    let Value::List(back) = &back else { panic!() };
    let mut sizes = Vec::new();
    back.for_each_node(|n| sizes.push(n.len()));
    assert_eq!(sizes, [2, 1]);
    // A plain node (Redis's for an element of 1 GiB or more) reads as one
    // element of its own.
    let mut body = vec![RDB_TYPE_LIST_QUICKLIST_2, 2, 1];
    write_string(&mut body, b"plain element", false);
    body.push(2);
    let mut lp = listpack::Writer::new();
    lp.push_str(b"x");
    write_string(&mut body, &lp.finish(), false);
    body.extend_from_slice(&RDB_VERSION.to_le_bytes());
    let crc = crc64(0, &body);
    body.extend_from_slice(&crc.to_le_bytes());
    assert_eq!(undump(&body, &lim(), true, true).unwrap(), list(&[b"plain element", b"x"]));
    // A plain node holding integer text is the integer, as any element.
    let mut body = vec![RDB_TYPE_LIST_QUICKLIST_2, 1, 1];
    write_len(&mut body, 2);
    body.extend_from_slice(b"33");
    let v = read_object(&mut Reader::new(&body[1..]), body[0], &lim(), true).unwrap();
    assert_eq!(v, list(&[b"33"]));
    assert_eq!(undump(&dump(&v), &lim(), true, true).unwrap(), v);
}

#[test]
fn footer_checks() {
    let good = dump(&string(b"hello"));
    assert!(undump(&good, &lim(), true, true).is_ok());
    assert!(matches!(undump(&good[..9], &lim(), true, true), Err(Error::Footer(_))));
    let mut newer = good.clone();
    let n = newer.len();
    newer[n - 10] = 11;
    assert!(matches!(undump(&newer, &lim(), true, true), Err(Error::Footer(_))));
    let mut flipped = good.clone();
    flipped[2] ^= 1;
    assert!(matches!(undump(&flipped, &lim(), true, true), Err(Error::Footer(_))));
    // Older RDB versions are read; bytes after the value are ignored, as
    // redis-server 7.0.15 ignores them.
    for (version, extra) in [(6u16, &b""[..]), (10, b"XYZ")] {
        let mut p = vec![0, 3, b'a', b'b', b'c'];
        p.extend_from_slice(extra);
        p.extend_from_slice(&version.to_le_bytes());
        let crc = crc64(0, &p);
        p.extend_from_slice(&crc.to_le_bytes());
        assert_eq!(undump(&p, &lim(), true, true).unwrap(), string(b"abc"));
    }
}

#[test]
fn truncated_streams_are_refused() {
    // An empty stream (no nodes, no groups) is a valid value; cut short, or
    // with a node that is not a stream listpack, it is refused.
    let mut empty = vec![0u8];
    empty.extend_from_slice(&[0; 8]);
    empty.push(0);
    for t in [15u8, 19, 21] {
        let body: &[u8] = if t == 15 { &[0, 0, 0, 0, 0] } else { &empty };
        assert!(read_object(&mut Reader::new(body), t, &lim(), true).is_ok(), "{t}");
        assert!(matches!(read_object(&mut Reader::new(&[0, 0, 0, 0]), t, &lim(), true), Err(Error::Truncated(_))));
        let mut bad = vec![1, 16];
        bad.extend_from_slice(&[0; 16]);
        bad.extend_from_slice(&[7, 7, 0, 0, 0, 0, 0, 0xFF]);
        assert!(matches!(read_object(&mut Reader::new(&bad), t, &lim(), true), Err(Error::Corrupt(_))), "{t}");
    }
}

#[test]
fn unsupported_and_unknown_types_are_named() {
    for (t, name) in [(7, "module"), (6, "module"), (24, "field expiration")] {
        match read_object(&mut Reader::new(&[0, 0, 0, 0]), t, &lim(), true) {
            Err(Error::Unsupported(m)) => assert!(m.contains(name), "{t}: {m}"),
            other => panic!("{t}: {other:?}"),
        }
    }
    for t in [8u8, 30, 200, 255] {
        assert!(matches!(read_object(&mut Reader::new(&[0]), t, &lim(), true), Err(Error::Corrupt(_))), "{t}");
    }
}

#[test]
fn empty_values_are_an_error_of_their_own() {
    for t in [RDB_TYPE_LIST, RDB_TYPE_SET, RDB_TYPE_ZSET, RDB_TYPE_ZSET_2, RDB_TYPE_HASH, RDB_TYPE_LIST_QUICKLIST_2] {
        assert!(matches!(read_object(&mut Reader::new(&[0]), t, &lim(), true), Err(Error::Empty(_))), "{t}");
    }
    let empty_lp = listpack::Writer::new().finish();
    for t in [RDB_TYPE_HASH_LISTPACK, RDB_TYPE_ZSET_LISTPACK, RDB_TYPE_SET_LISTPACK] {
        let mut body = Vec::new();
        write_string(&mut body, &empty_lp, false);
        assert!(matches!(read_object(&mut Reader::new(&body), t, &lim(), true), Err(Error::Empty(_))), "{t}");
    }
}

#[test]
fn hostile_counts_and_lengths_allocate_nothing_big() {
    // Counts far beyond the input: refused before any allocation.
    for t in [RDB_TYPE_LIST, RDB_TYPE_SET, RDB_TYPE_ZSET_2, RDB_TYPE_HASH, RDB_TYPE_LIST_QUICKLIST_2] {
        let body = [0x81, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
        assert!(read_object(&mut Reader::new(&body), t, &lim(), true).is_err(), "{t}");
    }
    // A string longer than the input, an LZF string claiming 4 GiB.
    assert!(Reader::new(&[0x80, 0xff, 0xff, 0xff, 0xff, b'a']).read_string().is_err());
    assert!(Reader::new(&[0xC3, 0x02, 0x80, 0xff, 0xff, 0xff, 0xff, 0x00, b'a']).read_string().is_err());
    assert!(Reader::new(&[0xC3, 0x02, 0x05, 0x00, b'a']).read_string().is_err(), "wrong decompressed size");
    assert!(Reader::new(&[0xC4]).read_string().is_err(), "unknown string encoding");
}

/// Every truncation and many single-byte changes of every recorded
/// payload (checksum fixed up so the body is what gets parsed): an error
/// or a value, never a panic, with and without deep checks.
#[test]
fn mutated_payloads_never_panic() {
    for (_, _, hexed) in recorded() {
        let p = hex(hexed);
        let body = &p[..p.len() - 10];
        let reseal = |b: &[u8]| {
            let mut out = b.to_vec();
            out.extend_from_slice(&RDB_VERSION.to_le_bytes());
            let crc = crc64(0, &out);
            out.extend_from_slice(&crc.to_le_bytes());
            out
        };
        for cut in 0..body.len() {
            let _ = undump(&reseal(&body[..cut]), &lim(), true, true);
            let _ = undump(&reseal(&body[..cut]), &lim(), false, true);
        }
        for i in 0..body.len() {
            for b in [0u8, 1, 0x3f, 0x40, 0x7f, 0x80, 0xbf, 0xc0, 0xc3, 0xf0, 0xfe, 0xff] {
                let mut m = body.to_vec();
                m[i] = b;
                let _ = undump(&reseal(&m), &lim(), true, true);
                let _ = undump(&reseal(&m), &lim(), false, true);
            }
        }
    }
}

#[test]
fn a_value_written_in_parts_is_the_whole_object() {
    let members: Vec<Vec<u8>> = (0..5000).map(|i| format!("member:{i}").into_bytes()).collect();
    let refs: Vec<&[u8]> = members.iter().map(|m| &m[..]).collect();
    let pairs: Vec<(&[u8], &[u8])> = refs.iter().map(|m| (*m, &m[3..])).collect();
    let scored: Vec<(f64, &[u8])> = refs.iter().enumerate().map(|(i, m)| ((i % 97) as f64 * 0.5, *m)).collect();
    let values = [list(&refs), set(&refs), zset(&scored), hash(&pairs)];
    for v in &values {
        let parts = parts(v).expect("a counted value");
        assert!(parts > 3, "{parts}");
        let mut whole = Vec::new();
        write_object(&mut whole, v, true);
        for slice in [1, 2, 7, 1000, parts, parts + 5] {
            let mut sliced = Vec::new();
            write_len(&mut sliced, parts as u64);
            let mut done = 0;
            while done < parts {
                write_parts(&mut sliced, v, done, slice, true);
                done += slice;
            }
            assert!(sliced == whole, "{} in slices of {slice}", v.type_name());
        }
    }
    // Written as one blob: no parts.
    assert_eq!(parts(&string(b"abc")), None);
    assert_eq!(parts(&set(&[b"1", b"2"])), None);
    assert_eq!(parts(&zset(&[(1.0, b"a")])), None);
    assert_eq!(parts(&hash(&[(b"f", b"v")])), None);
}
