//! Redis's geohash: the 52-bit interleaved encoding of a longitude/latitude
//! pair that GEOADD stores as a sorted-set score, its decoding, the
//! neighbouring cells, the nine cells that cover a search shape, and the
//! haversine distance — ported from Redis 7.0's `geohash.c` and
//! `geohash_helper.c` so every score, coordinate and distance is the same
//! double Redis computes (the same operations in the same order, the same
//! libm functions).
//!
//! A hash of `step` bits per axis holds the latitude cell in its even bits
//! and the longitude cell in its odd bits. Latitudes are limited to
//! ±85.05112878 (the Web Mercator range), as in Redis. Scores are hashes of
//! step 26 (52 bits), which a double holds exactly.

/// Longitudes Redis accepts.
pub const LONG_MIN: f64 = -180.0;
pub const LONG_MAX: f64 = 180.0;
/// Latitudes Redis accepts (EPSG:900913).
pub const LAT_MIN: f64 = -85.05112878;
pub const LAT_MAX: f64 = 85.05112878;
/// Bits per axis of a stored score.
pub const STEP_MAX: u8 = 26;
/// Redis's `EARTH_RADIUS_IN_METERS`.
pub const EARTH_RADIUS: f64 = 6372797.560856;
const MERCATOR_MAX: f64 = 20037726.37;
const D_R: f64 = std::f64::consts::PI / 180.0;

fn deg_rad(d: f64) -> f64 {
    d * D_R
}

fn rad_deg(r: f64) -> f64 {
    r / D_R
}

/// A hash and its precision (`GeoHashBits`); `bits == 0 && step == 0` is
/// the "zero" hash Redis uses for a cell left out of a search.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Hash {
    pub bits: u64,
    pub step: u8,
}

impl Hash {
    pub fn is_zero(&self) -> bool {
        self.bits == 0 && self.step == 0
    }

    /// The hash shifted to 52 bits (`geohashAlign52Bits`): the first score
    /// of the cell.
    pub fn align52(&self) -> u64 {
        self.bits << (52 - self.step as u32 * 2)
    }
}

/// A range of one axis.
#[derive(Debug, Clone, Copy, Default)]
pub struct Range {
    pub min: f64,
    pub max: f64,
}

/// The cell of a hash (`GeoHashArea`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Area {
    pub longitude: Range,
    pub latitude: Range,
}

/// Interleaves the low 32 bits of `x` (even bits) and `y` (odd bits).
fn interleave64(xlo: u32, ylo: u32) -> u64 {
    const B: [u64; 5] =
        [0x5555555555555555, 0x3333333333333333, 0x0F0F0F0F0F0F0F0F, 0x00FF00FF00FF00FF, 0x0000FFFF0000FFFF];
    const S: [u32; 5] = [1, 2, 4, 8, 16];
    let (mut x, mut y) = (xlo as u64, ylo as u64);
    for i in (0..5).rev() {
        x = (x | (x << S[i])) & B[i];
        y = (y | (y << S[i])) & B[i];
    }
    x | (y << 1)
}

/// The inverse of [`interleave64`]: even bits in the low half, odd bits in
/// the high half.
fn deinterleave64(interleaved: u64) -> u64 {
    const B: [u64; 6] = [
        0x5555555555555555,
        0x3333333333333333,
        0x0F0F0F0F0F0F0F0F,
        0x00FF00FF00FF00FF,
        0x0000FFFF0000FFFF,
        0x00000000FFFFFFFF,
    ];
    const S: [u32; 6] = [0, 1, 2, 4, 8, 16];
    let mut x = interleaved;
    let mut y = interleaved >> 1;
    for i in 0..6 {
        x = (x | (x >> S[i])) & B[i];
        y = (y | (y >> S[i])) & B[i];
    }
    x | (y << 32)
}

/// C's conversion of a double to `uint32_t` for the values `encode` makes
/// (in `0..=2^step`).
fn to_u32(d: f64) -> u32 {
    d as u32
}

/// `geohashEncode` with the given ranges: `None` outside them or outside
/// the WGS84 limits.
pub fn encode(long_range: Range, lat_range: Range, longitude: f64, latitude: f64, step: u8) -> Option<Hash> {
    if step > 32 || step == 0 {
        return None;
    }
    if !(LONG_MIN..=LONG_MAX).contains(&longitude) || !(LAT_MIN..=LAT_MAX).contains(&latitude) {
        return None;
    }
    if latitude < lat_range.min || latitude > lat_range.max || longitude < long_range.min || longitude > long_range.max
    {
        return None;
    }
    let mut lat_offset = (latitude - lat_range.min) / (lat_range.max - lat_range.min);
    let mut long_offset = (longitude - long_range.min) / (long_range.max - long_range.min);
    lat_offset *= (1u64 << step) as f64;
    long_offset *= (1u64 << step) as f64;
    Some(Hash { bits: interleave64(to_u32(lat_offset), to_u32(long_offset)), step })
}

/// The ranges Redis encodes scores with.
pub fn wgs84_ranges() -> (Range, Range) {
    (Range { min: LONG_MIN, max: LONG_MAX }, Range { min: LAT_MIN, max: LAT_MAX })
}

/// `geohashEncodeWGS84`.
pub fn encode_wgs84(longitude: f64, latitude: f64, step: u8) -> Option<Hash> {
    let (lo, la) = wgs84_ranges();
    encode(lo, la, longitude, latitude, step)
}

/// The score GEOADD stores for a (valid) position.
pub fn score_of(longitude: f64, latitude: f64) -> u64 {
    encode_wgs84(longitude, latitude, STEP_MAX).map_or(0, |h| h.align52())
}

/// `geohashDecode`: the cell of `hash`.
pub fn decode(long_range: Range, lat_range: Range, hash: Hash) -> Option<Area> {
    if hash.is_zero() {
        return None;
    }
    let sep = deinterleave64(hash.bits);
    let lat_scale = lat_range.max - lat_range.min;
    let long_scale = long_range.max - long_range.min;
    let ilato = sep as u32;
    let ilono = (sep >> 32) as u32;
    let div = (1u64 << hash.step) as f64;
    Some(Area {
        latitude: Range {
            min: lat_range.min + (ilato as f64 / div) * lat_scale,
            max: lat_range.min + ((ilato.wrapping_add(1)) as f64 / div) * lat_scale,
        },
        longitude: Range {
            min: long_range.min + (ilono as f64 / div) * long_scale,
            max: long_range.min + ((ilono.wrapping_add(1)) as f64 / div) * long_scale,
        },
    })
}

/// The centre of a cell, clamped to the WGS84 limits
/// (`geohashDecodeAreaToLongLat`).
fn area_center(area: &Area) -> [f64; 2] {
    let lon = ((area.longitude.min + area.longitude.max) / 2.0).clamp(LONG_MIN, LONG_MAX);
    let lat = ((area.latitude.min + area.latitude.max) / 2.0).clamp(LAT_MIN, LAT_MAX);
    [lon, lat]
}

/// C's `(uint64_t)` conversion of a double as gcc compiles it on x86-64
/// (`cvttsd2si`, with 2^63 subtracted first for large values; out of range
/// gives `0x8000000000000000`).
fn c_double_to_u64(d: f64) -> u64 {
    const TWO63: f64 = 9223372036854775808.0;
    let cvt =
        |x: f64| -> u64 { if x.is_nan() || !(-TWO63..TWO63).contains(&x) { 1u64 << 63 } else { x as i64 as u64 } };
    if d >= TWO63 { cvt(d - TWO63) ^ (1u64 << 63) } else { cvt(d) }
}

/// The position a sorted-set score stands for (`decodeGeohash`): Redis
/// reads any score, even one no GEOADD made, this way.
pub fn decode_score(score: f64) -> [f64; 2] {
    let (lo, la) = wgs84_ranges();
    let hash = Hash { bits: c_double_to_u64(score), step: STEP_MAX };
    decode(lo, la, hash).map_or([0.0, 0.0], |a| area_center(&a))
}

fn move_x(hash: &mut Hash, d: i8) {
    if d == 0 {
        return;
    }
    let mut x = hash.bits & 0xaaaaaaaaaaaaaaaa;
    let y = hash.bits & 0x5555555555555555;
    let zz = 0x5555555555555555u64 >> (64 - hash.step as u32 * 2);
    if d > 0 {
        x = x.wrapping_add(zz + 1);
    } else {
        x |= zz;
        x = x.wrapping_sub(zz + 1);
    }
    x &= 0xaaaaaaaaaaaaaaaau64 >> (64 - hash.step as u32 * 2);
    hash.bits = x | y;
}

fn move_y(hash: &mut Hash, d: i8) {
    if d == 0 {
        return;
    }
    let x = hash.bits & 0xaaaaaaaaaaaaaaaa;
    let mut y = hash.bits & 0x5555555555555555;
    let zz = 0xaaaaaaaaaaaaaaaau64 >> (64 - hash.step as u32 * 2);
    if d > 0 {
        y = y.wrapping_add(zz + 1);
    } else {
        y |= zz;
        y = y.wrapping_sub(zz + 1);
    }
    y &= 0x5555555555555555u64 >> (64 - hash.step as u32 * 2);
    hash.bits = x | y;
}

/// The eight neighbours of a cell.
#[derive(Debug, Clone, Copy, Default)]
pub struct Neighbors {
    pub north: Hash,
    pub east: Hash,
    pub west: Hash,
    pub south: Hash,
    pub north_east: Hash,
    pub south_east: Hash,
    pub north_west: Hash,
    pub south_west: Hash,
}

/// `geohashNeighbors`.
pub fn neighbors(hash: &Hash) -> Neighbors {
    let at = |dx: i8, dy: i8| {
        let mut h = *hash;
        move_x(&mut h, dx);
        move_y(&mut h, dy);
        h
    };
    Neighbors {
        east: at(1, 0),
        west: at(-1, 0),
        south: at(0, -1),
        north: at(0, 1),
        north_west: at(-1, 1),
        north_east: at(1, 1),
        south_east: at(1, -1),
        south_west: at(-1, -1),
    }
}

/// What a search covers (`GeoShape`): a circle of `radius` or a box of
/// `width` x `height`, in units of `conversion` meters, around `xy`.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    pub xy: [f64; 2],
    pub conversion: f64,
    pub kind: ShapeKind,
}

#[derive(Debug, Clone, Copy)]
pub enum ShapeKind {
    Circle { radius: f64 },
    Box { width: f64, height: f64 },
}

/// `geohashEstimateStepsByRadius`.
fn estimate_steps(mut range_meters: f64, lat: f64) -> u8 {
    if range_meters == 0.0 {
        return 26;
    }
    let mut step: i32 = 1;
    while range_meters < MERCATOR_MAX {
        range_meters *= 2.0;
        step += 1;
    }
    step -= 2;
    if !(-66.0..=66.0).contains(&lat) {
        step -= 1;
        if !(-80.0..=80.0).contains(&lat) {
            step -= 1;
        }
    }
    step.clamp(1, 26) as u8
}

/// `geohashBoundingBox`: `[min lon, min lat, max lon, max lat]`.
fn bounding_box(shape: &Shape) -> [f64; 4] {
    let [longitude, latitude] = shape.xy;
    let (height, width) = match shape.kind {
        ShapeKind::Circle { radius } => (shape.conversion * radius, shape.conversion * radius),
        ShapeKind::Box { width, height } => (shape.conversion * (height / 2.0), shape.conversion * (width / 2.0)),
    };
    let lat_delta = rad_deg(height / EARTH_RADIUS);
    let long_delta_top = rad_deg(width / EARTH_RADIUS / deg_rad(latitude + lat_delta).cos());
    let long_delta_bottom = rad_deg(width / EARTH_RADIUS / deg_rad(latitude - lat_delta).cos());
    let southern = latitude < 0.0;
    let delta = if southern { long_delta_bottom } else { long_delta_top };
    [longitude - delta, latitude - lat_delta, longitude + delta, latitude + lat_delta]
}

/// The cells to scan for a shape: the centre cell, then north, south, east,
/// west, north-east, north-west, south-east, south-west (zero hashes for
/// the ones left out), as `geohashCalculateAreasByShapeWGS84` computes them.
pub fn search_cells(shape: &Shape) -> [Hash; 9] {
    let [min_lon, min_lat, max_lon, max_lat] = bounding_box(shape);
    let [longitude, latitude] = shape.xy;
    let radius_meters = match shape.kind {
        ShapeKind::Circle { radius } => radius,
        ShapeKind::Box { width, height } => ((width / 2.0) * (width / 2.0) + (height / 2.0) * (height / 2.0)).sqrt(),
    } * shape.conversion;
    let mut steps = estimate_steps(radius_meters, latitude);
    let (lo, la) = wgs84_ranges();
    let cell = |steps: u8| {
        let hash = encode(lo, la, longitude, latitude, steps).unwrap_or_default();
        let n = neighbors(&hash);
        let area = decode(lo, la, hash).unwrap_or_default();
        (hash, n, area)
    };
    let (mut hash, mut n, mut area) = cell(steps);
    let dec = |h: Hash| decode(lo, la, h).unwrap_or_default();
    let decrease = dec(n.north).latitude.max < max_lat
        || dec(n.south).latitude.min > min_lat
        || dec(n.east).longitude.max < max_lon
        || dec(n.west).longitude.min > min_lon;
    if steps > 1 && decrease {
        steps -= 1;
        (hash, n, area) = cell(steps);
    }
    if steps >= 2 {
        let zero = Hash::default();
        if area.latitude.min < min_lat {
            (n.south, n.south_west, n.south_east) = (zero, zero, zero);
        }
        if area.latitude.max > max_lat {
            (n.north, n.north_east, n.north_west) = (zero, zero, zero);
        }
        if area.longitude.min < min_lon {
            (n.west, n.south_west, n.north_west) = (zero, zero, zero);
        }
        if area.longitude.max > max_lon {
            (n.east, n.south_east, n.north_east) = (zero, zero, zero);
        }
    }
    [hash, n.north, n.south, n.east, n.west, n.north_east, n.north_west, n.south_east, n.south_west]
}

/// The distance in meters between two latitudes on one meridian
/// (`geohashGetLatDistance`).
pub fn lat_distance(lat1d: f64, lat2d: f64) -> f64 {
    EARTH_RADIUS * (deg_rad(lat2d) - deg_rad(lat1d)).abs()
}

/// The haversine distance in meters (`geohashGetDistance`); on one
/// meridian (the sine of half the longitude difference is 0) the simpler
/// latitude distance, as Redis 7.0.15 computes it.
pub fn distance(lon1d: f64, lat1d: f64, lon2d: f64, lat2d: f64) -> f64 {
    let lon1r = deg_rad(lon1d);
    let lon2r = deg_rad(lon2d);
    let v = ((lon2r - lon1r) / 2.0).sin();
    if v == 0.0 {
        return lat_distance(lat1d, lat2d);
    }
    let lat1r = deg_rad(lat1d);
    let lat2r = deg_rad(lat2d);
    let u = ((lat2r - lat1r) / 2.0).sin();
    let a = u * u + lat1r.cos() * lat2r.cos() * v * v;
    2.0 * EARTH_RADIUS * a.sqrt().asin()
}

/// A search centre with the terms of [`distance`] that depend on it alone
/// computed once (the same values, so the same distances).
#[derive(Debug, Clone, Copy)]
pub struct Center {
    lat_d: f64,
    lon_r: f64,
    lat_r: f64,
    cos_lat: f64,
}

impl Center {
    pub fn new(lon_d: f64, lat_d: f64) -> Center {
        let lat_r = deg_rad(lat_d);
        Center { lat_d, lon_r: deg_rad(lon_d), lat_r, cos_lat: lat_r.cos() }
    }

    /// `distance(center, (lon2d, lat2d))`, bit for bit.
    pub fn distance_to(&self, lon2d: f64, lat2d: f64) -> f64 {
        let v = ((deg_rad(lon2d) - self.lon_r) / 2.0).sin();
        if v == 0.0 {
            return lat_distance(self.lat_d, lat2d);
        }
        let lat2r = deg_rad(lat2d);
        let u = ((lat2r - self.lat_r) / 2.0).sin();
        let a = u * u + self.cos_lat * lat2r.cos() * v * v;
        2.0 * EARTH_RADIUS * a.sqrt().asin()
    }

    /// Whether a point at latitude `lat2d` is certainly farther than
    /// `meters`: the great-circle distance is never less than the distance
    /// along the meridian, and the margin dwarfs rounding errors, so a
    /// point this rejects is one [`Center::distance_to`] would find
    /// outside too.
    pub fn surely_beyond(&self, lat2d: f64, meters: f64) -> bool {
        EARTH_RADIUS * (deg_rad(lat2d) - self.lat_r).abs() > meters * (1.0 + 1e-9) + 1e-6
    }
}

/// The distance from the shape's centre to `(x, y)` if the point is inside
/// the shape (`geoAppendIfWithinShape`'s test): within the radius, or
/// within half the height by latitude and half the width along the
/// point's parallel (`geohashGetDistanceIfInRectangle`).
pub fn within(shape: &Shape, x: f64, y: f64) -> Option<f64> {
    let [x1, y1] = shape.xy;
    match shape.kind {
        ShapeKind::Circle { radius } => {
            let d = distance(x1, y1, x, y);
            (d <= radius * shape.conversion).then_some(d)
        }
        ShapeKind::Box { width, height } => {
            let (width_m, height_m) = (width * shape.conversion, height * shape.conversion);
            if lat_distance(y, y1) > height_m / 2.0 {
                return None;
            }
            if distance(x, y, x1, y) > width_m / 2.0 {
                return None;
            }
            Some(distance(x1, y1, x, y))
        }
    }
}

/// The 11-character standard geohash GEOHASH replies for a score: the
/// position re-encoded over ±90 latitude, the last character always `0`.
pub fn standard_hash(score: f64) -> [u8; 11] {
    const ALPHABET: &[u8; 32] = b"0123456789bcdefghjkmnpqrstuvwxyz";
    let [x, y] = decode_score(score);
    let lo = Range { min: -180.0, max: 180.0 };
    let la = Range { min: -90.0, max: 90.0 };
    let bits = encode(lo, la, x, y, 26).map_or(0, |h| h.bits);
    let mut out = [b'0'; 11];
    for (i, c) in out.iter_mut().enumerate().take(10) {
        *c = ALPHABET[((bits >> (52 - (i + 1) * 5)) & 0x1f) as usize];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn palermo_encodes_and_decodes_as_in_redis() {
        // GEOADD Sicily 13.361389 38.115556 Palermo, as redis-server stores it.
        assert_eq!(score_of(13.361389, 38.115556), 3479099956230698);
        let [x, y] = decode_score(3479099956230698.0);
        assert_eq!(format!("{x:.17}"), "13.36138933897018433");
        assert_eq!(format!("{y:.17}"), "38.11555639549629859");
        assert_eq!(&standard_hash(3479099956230698.0), b"sqc8b49rny0");
    }

    #[test]
    fn interleave_round_trips() {
        for (a, b) in [(0u32, 0u32), (1, 2), (0x3ffffff, 0x1234567), (u32::MAX, 7)] {
            let sep = deinterleave64(interleave64(a, b));
            assert_eq!((sep as u32, (sep >> 32) as u32), (a, b));
        }
    }

    #[test]
    fn scores_no_geoadd_made_still_decode() {
        assert_eq!(c_double_to_u64(-1.0), u64::MAX);
        assert_eq!(c_double_to_u64(f64::INFINITY), 0);
        assert_eq!(c_double_to_u64(1e19), 10000000000000000000);
        let [x, y] = decode_score(-1.0);
        assert!((LONG_MIN..=LONG_MAX).contains(&x) && (LAT_MIN..=LAT_MAX).contains(&y));
    }
}
