//! Geo commands over sorted sets, as Redis 7.0's `geo.c` has them: GEOADD,
//! GEODIST, GEOHASH, GEOPOS, GEOSEARCH, GEOSEARCHSTORE, GEORADIUS,
//! GEORADIUSBYMEMBER and the `_RO` forms of the last two.
//!
//! A position is stored as the member's score: the 52-bit geohash of
//! `crate::geohash`. A search scans the score ranges of the nine cells
//! around the centre (`geohash::search_cells`), keeps the members inside
//! the shape with their distance, then sorts by distance if asked — in
//! Redis's order: cells in Redis's order, each in score order, a stable
//! sort (glibc's `qsort` is a merge sort) for ASC/DESC. Replies carry
//! Redis's digits: coordinates as `%.17Lf` with trailing zeros dropped
//! (`addReplyHumanLongDouble`), distances as `%.4f`.
//!
//! GEOADD is ZADD with computed scores (Redis calls `zaddCommand`): the
//! `zadd` event, ZADD's counts, and it is propagated as that ZADD.

use super::table::{Begin, Command, FindKeys, KeySpec, flag::*, row};
use super::zset::parse_score;
use super::{Args, CmdError, CmdResult, Ctx};
use crate::geohash::{self, Shape, ShapeKind};
use crate::resp::{Proto, Reply};
use crate::server::notify as ev;
use crate::store::bytes::Bytes;
use crate::store::zset::{AddFlags, AddOutcome, Limits, ZSet, cmp_key};
use crate::store::{Entry, Expiry, Value};

const G: &str = "geo";

pub static COMMANDS: &[Command] = &[
    row(
        "geoadd",
        -5,
        WRITE | DENYOOM,
        (1, 1, 1),
        G,
        "3.2.0",
        "Add one or more geospatial items in the geospatial index represented using a sorted set",
        geoadd,
    )
    .key_flags(&["RW update"]),
    row(
        "geodist",
        -4,
        READONLY,
        (1, 1, 1),
        G,
        "3.2.0",
        "Returns the distance between two members of a geospatial index",
        geodist,
    )
    .key_flags(&["RO access"]),
    row(
        "geohash",
        -2,
        READONLY,
        (1, 1, 1),
        G,
        "3.2.0",
        "Returns members of a geospatial index as standard geohash strings",
        geohash_cmd,
    )
    .key_flags(&["RO access"]),
    row(
        "geopos",
        -2,
        READONLY,
        (1, 1, 1),
        G,
        "3.2.0",
        "Returns longitude and latitude of members of a geospatial index",
        geopos,
    )
    .key_flags(&["RO access"]),
    row(
        "geosearch",
        -7,
        READONLY,
        (1, 1, 1),
        G,
        "6.2.0",
        "Query a sorted set representing a geospatial index to fetch members inside an area of a box or a circle.",
        geosearch,
    )
    .key_flags(&["RO access"]),
    row(
        "geosearchstore",
        -8,
        WRITE | DENYOOM,
        (1, 2, 1),
        G,
        "6.2.0",
        "Query a sorted set representing a geospatial index to fetch members inside an area of a box or a circle, \
         and store the result in another key.",
        geosearchstore,
    )
    .key_flags(&["OW update", "RO access"]),
    row(
        "georadius",
        -6,
        WRITE | DENYOOM,
        (1, 1, 1),
        G,
        "3.2.0",
        "Query a sorted set representing a geospatial index to fetch members matching a given maximum distance \
         from a point",
        georadius,
    )
    .key_flags(&["RO access"])
    .extra_specs(&[store_spec("STORE", 6), store_spec("STOREDIST", 6)]),
    row("georadius_ro", -6, READONLY, (1, 1, 1), G, "3.2.10", "A read-only variant for GEORADIUS", georadius_ro)
        .key_flags(&["RO access"]),
    row(
        "georadiusbymember",
        -5,
        WRITE | DENYOOM,
        (1, 1, 1),
        G,
        "3.2.0",
        "Query a sorted set representing a geospatial index to fetch members matching a given maximum distance \
         from a member",
        georadiusbymember,
    )
    .key_flags(&["RO access"])
    .extra_specs(&[store_spec("STORE", 5), store_spec("STOREDIST", 5)]),
    row(
        "georadiusbymember_ro",
        -5,
        READONLY,
        (1, 1, 1),
        G,
        "3.2.10",
        "A read-only variant for GEORADIUSBYMEMBER",
        georadiusbymember_ro,
    )
    .key_flags(&["RO access"]),
];

/// The key spec of GEORADIUS's STORE or STOREDIST destination: the
/// argument after `keyword`, searched from `startfrom` on.
const fn store_spec(keyword: &'static str, startfrom: i32) -> KeySpec {
    KeySpec {
        flags: "OW update",
        notes: "",
        begin: Begin::Keyword { keyword, startfrom },
        find: FindKeys::Range { lastkey: 0, step: 1, limit: 0 },
    }
}

fn is(arg: &[u8], word: &str) -> bool {
    arg.eq_ignore_ascii_case(word.as_bytes())
}

/// A double argument as `getDoubleFromObjectOrReply` reads it, with
/// `msg` (or Redis's default text) on failure.
fn double_arg(arg: &[u8], msg: Option<&'static str>) -> Result<f64, CmdError> {
    parse_score(arg).ok_or_else(|| CmdError::msg(msg.unwrap_or("ERR value is not a valid float")))
}

/// `extractLongLatOrReply`: a longitude and a latitude within Redis's limits.
fn lon_lat(lon: &[u8], lat: &[u8]) -> Result<[f64; 2], CmdError> {
    let x = double_arg(lon, None)?;
    let y = double_arg(lat, None)?;
    if !(geohash::LONG_MIN..=geohash::LONG_MAX).contains(&x) || !(geohash::LAT_MIN..=geohash::LAT_MAX).contains(&y) {
        return Err(CmdError::msg(format!("ERR invalid longitude,latitude pair {x:.6},{y:.6}")));
    }
    Ok([x, y])
}

/// `extractUnitOrReply`: meters per unit.
fn unit(arg: &[u8]) -> Result<f64, CmdError> {
    match arg.to_ascii_lowercase().as_slice() {
        b"m" => Ok(1.0),
        b"km" => Ok(1000.0),
        b"ft" => Ok(0.3048),
        b"mi" => Ok(1609.34),
        _ => Err(CmdError::msg("ERR unsupported unit provided. please use M, KM, FT, MI")),
    }
}

/// `extractDistanceOrReply`: a radius and its unit.
fn radius_arg(r: &[u8], u: &[u8]) -> Result<(f64, f64), CmdError> {
    let radius = double_arg(r, Some("ERR need numeric radius"))?;
    if radius < 0.0 {
        return Err(CmdError::msg("ERR radius cannot be negative"));
    }
    Ok((radius, unit(u)?))
}

/// `extractBoxOrReply`: width, height and their unit.
fn box_arg(w: &[u8], h: &[u8], u: &[u8]) -> Result<(f64, f64, f64), CmdError> {
    let width = double_arg(w, Some("ERR need numeric width"))?;
    let height = double_arg(h, Some("ERR need numeric height"))?;
    if height < 0.0 || width < 0.0 {
        return Err(CmdError::msg("ERR height or width cannot be negative"));
    }
    Ok((width, height, unit(u)?))
}

/// C's `%.Nf` of `d` (`digits` <= 17): the exact binary value rounded to
/// `digits` decimals, ties to even, as glibc prints it; computed with
/// integers for the values geo replies hold (below 2^53 in magnitude),
/// `format!` (exact too, but slower) otherwise.
fn fixed(d: f64, digits: u32) -> String {
    if !d.is_finite() || d.abs() >= 9007199254740992.0 {
        return format!("{d:.*}", digits as usize);
    }
    let bits = d.to_bits();
    let neg = bits >> 63 == 1;
    let exp = ((bits >> 52) & 0x7ff) as i32;
    let frac = bits & ((1u64 << 52) - 1);
    // d = m * 2^e exactly.
    let (m, e) = if exp == 0 { (frac, -1074) } else { (frac | (1u64 << 52), exp - 1075) };
    let scaled = m as u128 * 10u128.pow(digits);
    let units: u128 = if e >= 0 {
        scaled << e
    } else if -e >= 127 {
        0
    } else {
        let shift = (-e) as u32;
        let q = scaled >> shift;
        let r = scaled - (q << shift);
        let half = 1u128 << (shift - 1);
        if r > half || (r == half && q & 1 == 1) { q + 1 } else { q }
    };
    let pow = 10u128.pow(digits);
    let (int, fracpart) = (units / pow, units % pow);
    let mut out = String::with_capacity(40);
    if neg {
        out.push('-');
    }
    out.push_str(&int.to_string());
    if digits > 0 {
        out.push('.');
        let f = fracpart.to_string();
        for _ in f.len()..digits as usize {
            out.push('0');
        }
        out.push_str(&f);
    }
    out
}

/// `ld2string(.., LD_STR_HUMAN)` of a double: `%.17Lf`, trailing zeros
/// (and a trailing dot) dropped, `-0` as `0`.
pub fn human(d: f64) -> String {
    let mut s = fixed(d, 17);
    if s.contains('.') {
        while s.ends_with('0') {
            s.pop();
        }
        if s.ends_with('.') {
            s.pop();
        }
    }
    if s == "-0" {
        s = "0".into();
    }
    s
}

/// `addReplyHumanLongDouble`: a bulk string in RESP2, a double in RESP3.
fn reply_human(out: &mut Reply, d: f64) {
    let s = human(d);
    match out.proto {
        Proto::Resp2 => out.bulk(s.as_bytes()),
        Proto::Resp3 => {
            out.buf.push(b',');
            out.buf.extend_from_slice(s.as_bytes());
            out.buf.extend_from_slice(b"\r\n");
        }
    }
}

/// `addReplyDoubleDistance`: `%.4f` as a bulk string.
fn reply_distance(out: &mut Reply, d: f64) {
    out.bulk(fixed(d, 4).as_bytes());
}

/// The sorted set at `key` of the client's database (a keyspace hit or
/// miss), WRONGTYPE for another type.
fn zread<'d>(cx: &'d mut Ctx, key: &[u8]) -> Result<Option<&'d ZSet>, CmdError> {
    let now = cx.now;
    match cx.db().get(key, now) {
        None => Ok(None),
        Some(Entry { value: Value::ZSet(z), .. }) => Ok(Some(z)),
        Some(_) => Err(CmdError::WrongType),
    }
}

/// # Format
/// `GEOADD key [NX | XX] [CH] longitude latitude member [longitude latitude member ...]`
fn geoadd(cx: &mut Ctx, args: &Args) -> CmdResult {
    let (mut nx, mut xx, mut ch) = (false, false, false);
    let mut at = 2;
    while at < args.len() {
        match args.get(at) {
            a if is(a, "nx") => nx = true,
            a if is(a, "xx") => xx = true,
            a if is(a, "ch") => ch = true,
            _ => break,
        }
        at += 1;
    }
    let rest = args.len() - at;
    if !rest.is_multiple_of(3) || (xx && nx) || rest == 0 {
        return Err(CmdError::Syntax);
    }
    let mut scores = Vec::with_capacity(rest / 3);
    for i in (at..args.len()).step_by(3) {
        let [x, y] = lon_lat(args.get(i), args.get(i + 1))?;
        scores.push(geohash::score_of(x, y));
    }
    let key = args.get(1);
    let now = cx.now;
    let lim = limits(cx);
    let f = AddFlags { nx, xx, ..AddFlags::default() };
    let db = cx.db();
    match db.get_mut(key, now).map(|e| &e.value) {
        Some(Value::ZSet(_)) => {}
        Some(_) => return Err(CmdError::WrongType),
        None if xx => {
            cx.dirty(0);
            cx.out.int(0);
            return Ok(());
        }
        None => {
            db.set(key, Value::ZSet(Box::default()), Expiry::None, now);
        }
    }
    let Some(Entry { value: Value::ZSet(z), .. }) = db.get_mut(key, now) else { return Err(CmdError::WrongType) };
    let (mut added, mut updated) = (0i64, 0i64);
    for (j, &s) in scores.iter().enumerate() {
        let member = args.get(at + 3 * j + 2);
        match z.add(member, s as f64, f, lim) {
            Ok((AddOutcome::Added, _)) => added += 1,
            Ok((AddOutcome::Updated, _)) => updated += 1,
            _ => {}
        }
    }
    if added + updated > 0 {
        db.event(ev::ZSET, "zadd", key);
    }
    cx.dirty((added + updated) as u64);
    if cx.srv.prop.on {
        for s in &scores {
            cx.srv.prop.note(s.to_string().as_bytes());
        }
    }
    cx.out.int(if ch { added + updated } else { added });
    cx.signal_ready(key);
    Ok(())
}

fn limits(cx: &Ctx) -> Limits {
    let c = &cx.srv.config;
    Limits { entries: c.zset_max_listpack_entries, value: c.zset_max_listpack_value }
}

/// # Format
/// `GEODIST key member1 member2 [M | KM | FT | MI]`
fn geodist(cx: &mut Ctx, args: &Args) -> CmdResult {
    let to_meter = match args.len() {
        5 => unit(args.get(4))?,
        n if n > 5 => return Err(CmdError::Syntax),
        _ => 1.0,
    };
    let Some(z) = zread(cx, args.get(1))? else {
        cx.out.null();
        return Ok(());
    };
    match (z.score(args.get(2)), z.score(args.get(3))) {
        (Some(a), Some(b)) => {
            let [x1, y1] = geohash::decode_score(a);
            let [x2, y2] = geohash::decode_score(b);
            let d = geohash::distance(x1, y1, x2, y2) / to_meter;
            reply_distance(&mut cx.out, d);
        }
        _ => cx.out.null(),
    }
    Ok(())
}

/// # Format
/// `GEOHASH key [member [member ...]]`
fn geohash_cmd(cx: &mut Ctx, args: &Args) -> CmdResult {
    let key = args.get(1);
    let now = cx.now;
    let i = cx.db_index();
    let z = match cx.srv.dbs[i].get(key, now) {
        None => None,
        Some(Entry { value: Value::ZSet(z), .. }) => Some(z),
        Some(_) => return Err(CmdError::WrongType),
    };
    let out = &mut cx.out;
    out.array(args.len() - 2);
    for m in args.from(2) {
        match z.and_then(|z| z.score(m)) {
            Some(s) => out.bulk(&geohash::standard_hash(s)),
            None => out.null(),
        }
    }
    Ok(())
}

/// # Format
/// `GEOPOS key [member [member ...]]`
fn geopos(cx: &mut Ctx, args: &Args) -> CmdResult {
    let key = args.get(1);
    let now = cx.now;
    let i = cx.db_index();
    let z = match cx.srv.dbs[i].get(key, now) {
        None => None,
        Some(Entry { value: Value::ZSet(z), .. }) => Some(z),
        Some(_) => return Err(CmdError::WrongType),
    };
    let out = &mut cx.out;
    out.array(args.len() - 2);
    for m in args.from(2) {
        match z.and_then(|z| z.score(m)) {
            Some(s) => {
                let [x, y] = geohash::decode_score(s);
                out.array(2);
                reply_human(out, x);
                reply_human(out, y);
            }
            None => out.null_array(),
        }
    }
    Ok(())
}

/// Which command runs the search (Redis's `georadiusGeneric` flags).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// GEORADIUS, GEORADIUS_RO: centre and radius at fixed positions.
    RadiusCoords {
        store: bool,
    },
    /// GEORADIUSBYMEMBER, GEORADIUSBYMEMBER_RO.
    RadiusMember {
        store: bool,
    },
    Search,
    SearchStore,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Sort {
    None,
    Asc,
    Desc,
}

/// One member found by a search (`geoPoint`), borrowing its name.
struct Point<'z> {
    member: &'z [u8],
    score: f64,
    dist: f64,
    lon: f64,
    lat: f64,
}

/// The members of `z` inside `shape` (`membersOfAllNeighbors`), at most
/// `limit` when non-zero (ANY).
fn points_in<'z>(z: &'z ZSet, shape: &Shape, limit: usize) -> Vec<Point<'z>> {
    let cells = geohash::search_cells(shape);
    let center = geohash::Center::new(shape.xy[0], shape.xy[1]);
    let radius_m = match shape.kind {
        ShapeKind::Circle { radius } => Some(radius * shape.conversion),
        ShapeKind::Box { .. } => None,
    };
    let mut found = Vec::new();
    let mut last: Option<usize> = None;
    for (i, cell) in cells.iter().enumerate() {
        if cell.is_zero() {
            continue;
        }
        if let Some(l) = last
            && l > 0
            && cells[l] == *cell
        {
            continue;
        }
        if limit > 0 && found.len() >= limit {
            break;
        }
        let min = cell.align52() as f64;
        let max = geohash::Hash { bits: cell.bits + 1, step: cell.step }.align52() as f64;
        let start = z.prefix_len(|_, s| s < min);
        let end = z.prefix_len(|_, s| s < max);
        for (member, score) in z.range(start, end, false) {
            let [lon, lat] = geohash::decode_score(score);
            let dist = match radius_m {
                // A circle: Redis's test, with the centre's terms computed
                // once and the points beyond its latitude band skipped.
                Some(r) if center.surely_beyond(lat, r) => None,
                Some(r) => Some(center.distance_to(lon, lat)).filter(|&d| d <= r),
                None => geohash::within(shape, lon, lat),
            };
            if let Some(dist) = dist {
                found.push(Point { member, score, dist, lon, lat });
            }
            if limit > 0 && found.len() >= limit {
                break;
            }
        }
        last = Some(i);
    }
    found
}

/// GEORADIUS and friends (`georadiusGeneric`): parses in Redis's order
/// (the key's type first, then the centre and radius of the GEORADIUS
/// forms, then the options left to right), searches, and replies or
/// stores.
fn search(cx: &mut Ctx, args: &Args, kind: Kind) -> CmdResult {
    let src_at = if kind == Kind::SearchStore { 2 } else { 1 };
    let src = args.get(src_at);
    let now = cx.now;
    let di = cx.db_index();
    let lim = limits(cx);
    let db = &mut cx.srv.dbs[di];
    let z = match db.get(src, now) {
        None => None,
        Some(Entry { value: Value::ZSet(z), .. }) => Some(z),
        Some(_) => return Err(CmdError::WrongType),
    };
    let mut xy = [0.0; 2];
    let mut shape_kind = None;
    let mut conversion = 0.0;
    let base = match kind {
        Kind::RadiusCoords { .. } => {
            xy = lon_lat(args.get(2), args.get(3))?;
            let (r, c) = radius_arg(args.get(4), args.get(5))?;
            (shape_kind, conversion) = (Some(ShapeKind::Circle { radius: r }), c);
            6
        }
        Kind::RadiusMember { .. } => {
            if let Some(z) = z {
                xy = member_pos(z, args.get(2))?;
                let (r, c) = radius_arg(args.get(3), args.get(4))?;
                (shape_kind, conversion) = (Some(ShapeKind::Circle { radius: r }), c);
            }
            5
        }
        Kind::Search => 2,
        Kind::SearchStore => 3,
    };
    let can_store = matches!(kind, Kind::RadiusCoords { store: true } | Kind::RadiusMember { store: true });
    let searching = matches!(kind, Kind::Search | Kind::SearchStore);
    let mut store: Option<&[u8]> = if kind == Kind::SearchStore { Some(args.get(1)) } else { None };
    let mut storedist = false;
    let (mut withdist, mut withhash, mut withcoord, mut any) = (false, false, false, false);
    let (mut frommember, mut fromloc, mut byradius, mut bybox) = (false, false, false, false);
    let mut sort = Sort::None;
    let mut count: i64 = 0;
    let remaining = args.len() - base;
    let mut i = 0;
    while i < remaining {
        let a = args.get(base + i);
        let arg = |k: usize| args.get(base + i + k);
        if is(a, "withdist") {
            withdist = true;
        } else if is(a, "withhash") {
            withhash = true;
        } else if is(a, "withcoord") {
            withcoord = true;
        } else if is(a, "any") {
            any = true;
        } else if is(a, "asc") {
            sort = Sort::Asc;
        } else if is(a, "desc") {
            sort = Sort::Desc;
        } else if is(a, "count") && i + 1 < remaining {
            count = args.int(base + i + 1)?;
            if count <= 0 {
                return Err(CmdError::msg("ERR COUNT must be > 0"));
            }
            i += 1;
        } else if (is(a, "store") || is(a, "storedist")) && i + 1 < remaining && can_store {
            store = Some(arg(1));
            storedist = is(a, "storedist");
            i += 1;
        } else if is(a, "storedist") && kind == Kind::SearchStore {
            storedist = true;
        } else if is(a, "frommember") && i + 1 < remaining && searching && !fromloc {
            if let Some(z) = z {
                xy = member_pos(z, arg(1))?;
            }
            frommember = true;
            i += 1;
        } else if is(a, "fromlonlat") && i + 2 < remaining && searching && !frommember {
            xy = lon_lat(arg(1), arg(2))?;
            fromloc = true;
            i += 2;
        } else if is(a, "byradius") && i + 2 < remaining && searching && !bybox {
            let (r, c) = radius_arg(arg(1), arg(2))?;
            (shape_kind, conversion) = (Some(ShapeKind::Circle { radius: r }), c);
            byradius = true;
            i += 2;
        } else if is(a, "bybox") && i + 3 < remaining && searching && !byradius {
            let (w, h, c) = box_arg(arg(1), arg(2), arg(3))?;
            (shape_kind, conversion) = (Some(ShapeKind::Box { width: w, height: h }), c);
            bybox = true;
            i += 3;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 1;
    }
    if store.is_some() && (withdist || withhash || withcoord) {
        let what = if kind == Kind::SearchStore { "GEOSEARCHSTORE" } else { "STORE option in GEORADIUS" };
        return Err(CmdError::msg(format!(
            "ERR {what} is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
        )));
    }
    let name = String::from_utf8_lossy(args.get(0));
    if searching && !(frommember || fromloc) {
        return Err(CmdError::msg(format!("ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for {name}")));
    }
    if searching && !(byradius || bybox) {
        return Err(CmdError::msg(format!("ERR exactly one of BYRADIUS and BYBOX can be specified for {name}")));
    }
    if any && count == 0 {
        return Err(CmdError::msg("ERR the ANY argument requires COUNT argument"));
    }
    let (Some(z), Some(shape_kind)) = (z, shape_kind) else {
        // No source key.
        match store {
            Some(dst) => {
                let db = &mut cx.srv.dbs[di];
                let deleted = db.remove(dst, now).is_some();
                if deleted {
                    db.event(ev::GENERIC, "del", dst);
                }
                cx.dirty(u64::from(deleted));
                // Redis notifies before it replies.
                cx.events_now();
                cx.out.int(0);
            }
            None => cx.out.array(0),
        }
        return Ok(());
    };
    if count != 0 && sort == Sort::None && !any {
        sort = Sort::Asc;
    }
    let shape = Shape { xy, conversion, kind: shape_kind };
    let limit = if any { count as usize } else { 0 };
    let mut found = points_in(z, &shape, limit);
    let returned = if count == 0 { found.len() } else { found.len().min(count as usize) };
    if sort != Sort::None {
        // Redis: `qsort` (glibc's merge sort: stable) for the whole
        // result, its own `pqsort` (unstable) when COUNT cuts it.
        let desc = sort == Sort::Desc;
        let mut by_dist = |a: &Point, b: &Point| {
            let o = a.dist.partial_cmp(&b.dist).unwrap_or(std::cmp::Ordering::Equal);
            if desc { o.reverse() } else { o }
        };
        if returned == found.len() {
            found.sort_by(by_dist);
        } else if returned > 0 {
            crate::pqsort::pqsort(&mut found, &mut by_dist, 0, returned - 1);
        }
    }
    found.truncate(returned);
    let Some(dst) = store else {
        let out = &mut cx.out;
        let options = usize::from(withdist) + usize::from(withhash) + usize::from(withcoord);
        out.array(found.len());
        for p in &found {
            if options > 0 {
                out.array(options + 1);
            }
            out.bulk(p.member);
            if withdist {
                reply_distance(out, p.dist / conversion);
            }
            if withhash {
                out.int(p.score as i64);
            }
            if withcoord {
                out.array(2);
                reply_human(out, p.lon);
                reply_human(out, p.lat);
            }
        }
        return Ok(());
    };
    let mut items: Vec<(Bytes, f64)> =
        found.iter().map(|p| (Bytes::from(p.member), if storedist { p.dist / conversion } else { p.score })).collect();
    items.sort_by(|a, b| cmp_key(a.1, &a.0, b.1, &b.0));
    let n = items.len();
    let db = &mut cx.srv.dbs[di];
    if n > 0 {
        db.set(dst, Value::ZSet(Box::new(ZSet::from_sorted(items, lim))), Expiry::None, now);
        let event = if searching { "geosearchstore" } else { "georadiusstore" };
        db.event(ev::ZSET, event, dst);
        cx.dirty(n as u64);
    } else {
        let deleted = db.remove(dst, now).is_some();
        if deleted {
            db.event(ev::GENERIC, "del", dst);
        }
        cx.dirty(u64::from(deleted));
    }
    // Redis notifies before it replies.
    cx.events_now();
    cx.out.int(n as i64);
    Ok(())
}

/// The position of `member` (`longLatFromMember`).
fn member_pos(z: &ZSet, member: &[u8]) -> Result<[f64; 2], CmdError> {
    z.score(member)
        .map(geohash::decode_score)
        .ok_or_else(|| CmdError::msg("ERR could not decode requested zset member"))
}

/// # Format
/// `GEORADIUS key longitude latitude radius M | KM | FT | MI [WITHCOORD] [WITHDIST] [WITHHASH]
///  [COUNT count [ANY]] [ASC | DESC] [STORE key] [STOREDIST key]`
fn georadius(cx: &mut Ctx, args: &Args) -> CmdResult {
    search(cx, args, Kind::RadiusCoords { store: true })
}

/// # Format
/// `GEORADIUS_RO key longitude latitude radius M | KM | FT | MI [WITHCOORD] [WITHDIST] [WITHHASH]
///  [COUNT count [ANY]] [ASC | DESC]`
fn georadius_ro(cx: &mut Ctx, args: &Args) -> CmdResult {
    search(cx, args, Kind::RadiusCoords { store: false })
}

/// # Format
/// `GEORADIUSBYMEMBER key member radius M | KM | FT | MI [WITHCOORD] [WITHDIST] [WITHHASH]
///  [COUNT count [ANY]] [ASC | DESC] [STORE key] [STOREDIST key]`
fn georadiusbymember(cx: &mut Ctx, args: &Args) -> CmdResult {
    search(cx, args, Kind::RadiusMember { store: true })
}

/// # Format
/// `GEORADIUSBYMEMBER_RO key member radius M | KM | FT | MI [WITHCOORD] [WITHDIST] [WITHHASH]
///  [COUNT count [ANY]] [ASC | DESC]`
fn georadiusbymember_ro(cx: &mut Ctx, args: &Args) -> CmdResult {
    search(cx, args, Kind::RadiusMember { store: false })
}

/// # Format
/// `GEOSEARCH key FROMMEMBER member | FROMLONLAT longitude latitude
///  BYRADIUS radius M | KM | FT | MI | BYBOX width height M | KM | FT | MI
///  [ASC | DESC] [COUNT count [ANY]] [WITHCOORD] [WITHDIST] [WITHHASH]`
fn geosearch(cx: &mut Ctx, args: &Args) -> CmdResult {
    search(cx, args, Kind::Search)
}

/// # Format
/// `GEOSEARCHSTORE destination source FROMMEMBER member | FROMLONLAT longitude latitude
///  BYRADIUS radius M | KM | FT | MI | BYBOX width height M | KM | FT | MI
///  [ASC | DESC] [COUNT count [ANY]] [STOREDIST]`
fn geosearchstore(cx: &mut Ctx, args: &Args) -> CmdResult {
    search(cx, args, Kind::SearchStore)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_point_text_is_c_s() {
        for d in [
            0.0,
            -0.0,
            1.0,
            0.5,
            0.00005,
            0.00015,
            0.00025,
            2.5e-5,
            166274.15156960033,
            13.361389338970184,
            38.115_556_395_496_3,
            -179.99999731779099,
            85.05112878,
            1e-300,
            5e-324,
            123456789.12345678,
            9007199254740991.0,
            1e20,
            f64::INFINITY,
            0.1,
            0.3,
            1.00005,
            4.669_201_609_102_99,
        ] {
            assert_eq!(fixed(d, 4), format!("{d:.4}"), "{d}");
            assert_eq!(fixed(d, 17), format!("{d:.17}"), "{d}");
        }
        // Exact ties go to the even digit, as glibc prints them.
        assert_eq!(fixed(0.03125, 4), "0.0312");
        assert_eq!(fixed(0.09375, 4), "0.0938");
        assert_eq!(fixed(1.03125, 4), "1.0312");
        assert_eq!(human(-0.0), "0");
        assert_eq!(human(13.361389338970184), "13.36138933897018433");
        assert_eq!(human(180.0), "180");
    }
}
