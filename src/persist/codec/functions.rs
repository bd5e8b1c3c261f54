//! Function libraries in RDB form (Redis 7.0): the `FUNCTION DUMP` payload
//! and the RDB `FUNCTION2` opcode (0xf5).
//!
//! A library is saved as its whole source code (shebang line included):
//! the opcode, then the code as an RDB string (`rdbSaveRawString`, so LZF
//! when `rdbcompression` and it saves 4 bytes). `FUNCTION DUMP` is every
//! library that way, then the RDB version (2 bytes LE) and a CRC-64 of all
//! before it (8 bytes LE), like a key's DUMP. Reading also accepts the 7.0
//! release candidates' `FUNCTION` opcode (0xf6: name, engine, optional
//! description, body), rebuilt into `#!<engine> name=<name>\n<body>` as
//! Redis does; in an RDB file that opcode is refused as Redis refuses it.
//!
//! This module only moves bytes: compiling a library (and its errors, such
//! as `Missing library metadata` or `Library 'x' already exists`) is the
//! scripting engine's. Reading never trusts a length: strings come through
//! [`Reader::read_string`], which checks what remains before allocating.

use super::{RDB_VERSION, Reader, crc64, write_string};
use crate::persist::rdb::{OP_FUNCTION_PRE_GA, OP_FUNCTION2};

/// FUNCTION RESTORE's reply for a payload whose footer is wrong.
pub const ERR_FOOTER: &str = "ERR DUMP payload version or checksum are wrong";
/// FUNCTION RESTORE's reply for an opcode that is not a library.
pub const ERR_NOT_FUNCTION: &str = "ERR given type is not a function";
/// FUNCTION RESTORE's reply when no opcode can be read.
pub const ERR_NO_TYPE: &str = "ERR can not read data type";

/// `rdbSaveFunctions` for one library: the opcode and its code.
pub fn write_library(out: &mut Vec<u8>, code: &[u8], compress: bool) {
    out.push(OP_FUNCTION2);
    write_string(out, code, compress);
}

/// `FUNCTION DUMP`'s payload for these libraries' codes (in the order
/// given: Redis writes its library dictionary's order), compressed as with
/// the default `rdbcompression yes`.
pub fn encode_dump(codes: &[&[u8]]) -> Vec<u8> {
    encode_dump_with(codes, true)
}

/// [`encode_dump`] with `rdbcompression` given.
pub fn encode_dump_with(codes: &[&[u8]], compress: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(codes.iter().map(|c| c.len() + 6).sum::<usize>() + 10);
    for code in codes {
        write_library(&mut out, code, compress);
    }
    out.extend_from_slice(&RDB_VERSION.to_le_bytes());
    let crc = crc64(0, &out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// `FUNCTION RESTORE`'s reading of a payload (`verifyDumpPayload`, then
/// `rdbFunctionLoad` while more than the 10 footer bytes remain): the
/// libraries' codes in payload order, or the error reply Redis gives
/// (`ERR DUMP payload version or checksum are wrong`, `ERR given type is
/// not a function`, `ERR Failed loading library payload`, ...). As in
/// Redis, a string may run into the footer bytes (they are part of what is
/// read); the engine then rejects such code.
pub fn decode_dump(payload: &[u8]) -> Result<Vec<Vec<u8>>, &'static str> {
    if payload.len() < 10 {
        return Err(ERR_FOOTER);
    }
    let footer = &payload[payload.len() - 10..];
    let version = u16::from_le_bytes([footer[0], footer[1]]);
    let want =
        u64::from_le_bytes([footer[2], footer[3], footer[4], footer[5], footer[6], footer[7], footer[8], footer[9]]);
    if version > RDB_VERSION || crc64(0, &payload[..payload.len() - 8]) != want {
        return Err(ERR_FOOTER);
    }
    let mut r = Reader::new(payload);
    let mut codes = Vec::new();
    while payload.len() - r.pos > 10 {
        let opcode = r.read_u8().map_err(|_| ERR_NO_TYPE)?;
        if opcode != OP_FUNCTION2 && opcode != OP_FUNCTION_PRE_GA {
            return Err(ERR_NOT_FUNCTION);
        }
        codes.push(read_library(&mut r, opcode)?);
    }
    Ok(codes)
}

/// `rdbFunctionLoad` after its opcode (`FUNCTION2`, or the release
/// candidates' `FUNCTION`, rebuilt with a shebang): the library's code, or
/// what failed, as the text Redis puts after `ERR ` (FUNCTION RESTORE) or
/// `Failed loading library, ` (an RDB file).
pub fn read_library(r: &mut Reader, opcode: u8) -> Result<Vec<u8>, &'static str> {
    if opcode != OP_FUNCTION_PRE_GA {
        return r.read_string().map(|c| c.into_owned()).map_err(|_| "ERR Failed loading library payload");
    }
    let name = r.read_string().map_err(|_| "ERR Failed loading library name")?;
    let engine = r.read_string().map_err(|_| "ERR Failed loading engine name")?;
    let has_desc = r.read_len().map_err(|_| "ERR Failed loading library description indicator")?;
    if has_desc != 0 {
        r.read_string().map_err(|_| "ERR Failed loading library description")?;
    }
    let blob = r.read_string().map_err(|_| "ERR Failed loading library blob")?;
    let mut code = Vec::with_capacity(engine.len() + name.len() + blob.len() + 9);
    code.extend_from_slice(b"#!");
    code.extend_from_slice(&engine);
    code.extend_from_slice(b" name=");
    code.extend_from_slice(&name);
    code.push(b'\n');
    code.extend_from_slice(&blob);
    Ok(code)
}

/// The RDB file loader's handling of a function opcode (`rdbLoadRio`):
/// `FUNCTION2` gives the library's code for the engine to create;
/// the pre-release `FUNCTION` opcode is refused (`Pre-release function
/// format not supported.`, reported as a corrupt file); a library that
/// cannot be read fails the load with `Failed loading library, <why>`.
pub fn read_rdb_opcode(r: &mut Reader, opcode: u8) -> Result<Vec<u8>, String> {
    if opcode == OP_FUNCTION_PRE_GA {
        return Err("Pre-release function format not supported.".into());
    }
    read_library(r, opcode).map_err(|e| format!("Failed loading library, {}", e.trim_start_matches("ERR ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex")).collect()
    }

    const LIB2: &[u8] = b"#!lua name=lib2\nredis.register_function{function_name='f2', callback=function() return 2 end, flags={'no-writes'}, description='desc'}";
    const MYLIB: &[u8] = b"#!lua name=mylib\nredis.register_function('f1', function(keys, args) return 1 end)";

    /// redis-server 7.0.15's FUNCTION DUMP after loading MYLIB then LIB2
    /// (it listed LIB2 first).
    const REDIS_DUMP: &str = "f5c3407b40861f23216c7561206e616d653d6c6962320a72656469732e72656769737465725f6607756e6374696f6e7bc008005f602a0e276632272c2063616c6c6261636b3dc01c1f28292072657475726e203220656e642c20666c6167733d7b276e6f2d777269740c6573277d2c20646573637269704056013d27400c01277df5405123216c7561206e616d653d6d796c69620a72656469732e72656769737465725f66756e6374696f6e28276631272c2066756e6374696f6e286b6579732c2061726773292072657475726e203120656e64290a00c00a29a4822f6e86";

    /// redis-server 7.0.15's RDB file (SAVE) with the same two libraries
    /// and one key `k` = `v`.
    const REDIS_RDB: &str = "524544495330303130fa0972656469732d76657206372e302e3135fa0a72656469732d62697473c040fa056374696d65c21088116bfa08757365642d6d656dc2a84d1300fa08616f662d62617365c000f5c3407b40861f23216c7561206e616d653d6c6962320a72656469732e72656769737465725f6607756e6374696f6e7bc008005f602a0e276632272c2063616c6c6261636b3dc01c1f28292072657475726e203220656e642c20666c6167733d7b276e6f2d777269740c6573277d2c20646573637269704056013d27400c01277df5405123216c7561206e616d653d6d796c69620a72656469732e72656769737465725f66756e6374696f6e28276631272c2066756e6374696f6e286b6579732c2061726773292072657475726e203120656e6429fe00fb010000016b0176ff38bef5c81f373feb";

    /// A payload of these bytes with a correct footer for RDB `version`.
    fn payload(body: &[u8], version: u16) -> Vec<u8> {
        let mut p = body.to_vec();
        p.extend_from_slice(&version.to_le_bytes());
        let crc = crc64(0, &p);
        p.extend_from_slice(&crc.to_le_bytes());
        p
    }

    #[test]
    fn dump_equals_redis_byte_for_byte() {
        assert_eq!(encode_dump(&[LIB2, MYLIB]), hex(REDIS_DUMP));
        assert_eq!(decode_dump(&hex(REDIS_DUMP)), Ok(vec![LIB2.to_vec(), MYLIB.to_vec()]));
    }

    #[test]
    fn round_trips_with_and_without_compression() {
        let big = [b"#!lua name=big\n".as_slice(), &b"-- padding\n".repeat(500)].concat();
        for compress in [true, false] {
            let codes: [&[u8]; 3] = [MYLIB, &big, b"#!lua name=x\n"];
            let p = encode_dump_with(&codes, compress);
            assert_eq!(decode_dump(&p), Ok(codes.iter().map(|c| c.to_vec()).collect::<Vec<_>>()));
        }
        assert!(encode_dump(&[&big]).len() < encode_dump_with(&[&big], false).len());
        assert_eq!(decode_dump(&encode_dump(&[])), Ok(vec![]));
    }

    #[test]
    fn rdb_file_libraries_as_redis_wrote_them() {
        let rdb = hex(REDIS_RDB);
        let mut r = Reader::new(&rdb);
        let mut codes = Vec::new();
        r.pos = rdb.iter().position(|&b| b == OP_FUNCTION2).expect("opcode");
        while r.data[r.pos] == OP_FUNCTION2 {
            let op = r.read_u8().expect("opcode");
            codes.push(read_rdb_opcode(&mut r, op).expect("library"));
        }
        assert_eq!(codes, vec![LIB2.to_vec(), MYLIB.to_vec()]);
        assert_eq!(r.data[r.pos], crate::persist::rdb::OP_SELECTDB);
        // What the saver writes for them is what redis-server wrote.
        let mut out = Vec::new();
        write_library(&mut out, LIB2, true);
        write_library(&mut out, MYLIB, true);
        let at = rdb.iter().position(|&b| b == OP_FUNCTION2).expect("opcode");
        assert_eq!(out, rdb[at..at + out.len()]);
    }

    /// FUNCTION RESTORE's replies from redis-server 7.0.15 for these
    /// payloads (the library-level ones come from the engine).
    #[test]
    fn restore_errors_as_redis() {
        let code = b"#!lua name=x1\nredis.register_function('x1f', function() return 1 end)";
        let mut lib = vec![OP_FUNCTION2, 0x40, code.len() as u8];
        lib.extend_from_slice(code);
        assert_eq!(decode_dump(b"abc"), Err(ERR_FOOTER));
        assert_eq!(decode_dump(&[0; 9]), Err(ERR_FOOTER));
        assert_eq!(decode_dump(&payload(b"", 11)), Err(ERR_FOOTER));
        let mut bad = payload(b"", 10);
        bad[9] ^= 1;
        assert_eq!(decode_dump(&bad), Err(ERR_FOOTER));
        assert_eq!(decode_dump(&payload(b"", 10)), Ok(vec![]));
        assert_eq!(decode_dump(&payload(&lib, 9)), Ok(vec![code.to_vec()]));
        assert_eq!(decode_dump(&payload(b"\x00\x01k\x01v", 10)), Err(ERR_NOT_FUNCTION));
        assert_eq!(decode_dump(&payload(b"\xf5\x40", 10)), Err("ERR Failed loading library payload"));
        assert_eq!(decode_dump(&payload(b"\xf5", 10)), Err("ERR Failed loading library payload"));
        assert_eq!(decode_dump(&payload(b"\xf5\xc3\x05\x10\x00ab", 10)), Err("ERR Failed loading library payload"));
        // A string running into the footer is read (Redis then fails with
        // "Missing library metadata" compiling it).
        let p = payload(b"\xf5\x05ab", 10);
        assert_eq!(decode_dump(&p), Ok(vec![p[2..7].to_vec()]));
        // An integer-encoded string is its text.
        assert_eq!(decode_dump(&payload(b"\xf5\xc0\x05", 10)), Ok(vec![b"5".to_vec()]));
        let mut two = lib.clone();
        two.extend_from_slice(&lib);
        assert_eq!(decode_dump(&payload(&two, 10)), Ok(vec![code.to_vec(), code.to_vec()]));
        let mut trailing = lib.clone();
        trailing.extend_from_slice(&[0; 5]);
        assert_eq!(decode_dump(&payload(&trailing, 10)), Err(ERR_NOT_FUNCTION));
        // A 4 GB length in the header costs nothing.
        assert_eq!(decode_dump(&payload(b"\xf5\x80\xff\xff\xff\xff", 10)), Err("ERR Failed loading library payload"));
    }

    /// The 7.0 release candidates' format, as redis-server 7.0.15 restores
    /// it (FUNCTION LIST WITHCODE showed the rebuilt code).
    #[test]
    fn pre_release_format() {
        let s = |b: &[u8]| [&[b.len() as u8][..], b].concat();
        let body = [
            &b"\xf6"[..],
            &s(b"oldlib"),
            &s(b"LUA"),
            b"\x01",
            &s(b"a desc"),
            &s(b"redis.register_function('o1', function() return 1 end)"),
        ]
        .concat();
        assert_eq!(
            decode_dump(&payload(&body, 10)),
            Ok(vec![b"#!LUA name=oldlib\nredis.register_function('o1', function() return 1 end)".to_vec()])
        );
        let body = [
            &b"\xf6"[..],
            &s(b"oldlib2"),
            &s(b"lua"),
            b"\x00",
            &s(b"redis.register_function('o2', function() return 1 end)"),
        ]
        .concat();
        assert_eq!(
            decode_dump(&payload(&body, 10)),
            Ok(vec![b"#!lua name=oldlib2\nredis.register_function('o2', function() return 1 end)".to_vec()])
        );
        let cut = |rest: &[u8]| decode_dump(&payload(&[&b"\xf6"[..], rest].concat(), 10));
        assert_eq!(cut(b""), Err("ERR Failed loading library name"));
        assert_eq!(cut(&s(b"oldlib3")), Err("ERR Failed loading engine name"));
        assert_eq!(cut(&[s(b"oldlib3"), s(b"lua")].concat()), Err("ERR Failed loading library blob"));
        assert_eq!(
            cut(&[s(b"oldlib3"), s(b"lua"), b"\x01".to_vec()].concat()),
            Err("ERR Failed loading library description")
        );
        assert_eq!(cut(&[s(b"oldlib3"), s(b"lua"), b"\x00".to_vec()].concat()), Err("ERR Failed loading library blob"));
        // In an RDB file it is refused.
        let mut r = Reader::new(&body[1..]);
        assert_eq!(
            read_rdb_opcode(&mut r, OP_FUNCTION_PRE_GA),
            Err("Pre-release function format not supported.".into())
        );
        let mut r = Reader::new(b"\x40");
        assert_eq!(
            read_rdb_opcode(&mut r, OP_FUNCTION2),
            Err("Failed loading library, Failed loading library payload".into())
        );
    }
}
