//! The value types of configuration options, as Redis 7.0's config.c
//! defines them: how each parses, checks its bounds and prints, with
//! Redis's error texts (`argument couldn't be parsed into an integer`,
//! `argument must be between 0 and 65535 inclusive`, …).

/// A string option's check: Redis's error text when the value is refused.
pub type Check = fn(&str) -> Result<(), &'static str>;

/// The type of an option, with its bounds and its default.
#[derive(Clone, Copy)]
pub enum Kind {
    Bool(bool),
    /// An integer within `min..=max`.
    Int {
        min: i128,
        max: i128,
        default: i64,
    },
    /// A byte count with redis.conf units (`1gb`, `64k`), or a plain number.
    Mem {
        min: i128,
        max: i128,
        default: u64,
    },
    /// A byte count, or a percentage (`10%`) kept as a negative number.
    MemPercent {
        min: i128,
        max: i128,
        default: i64,
    },
    /// An octal number (`unixsocketperm 700`).
    Octal {
        min: i128,
        max: i128,
        default: i64,
    },
    /// One of the names (case-insensitive); the first is printed as given.
    Enum {
        names: &'static [&'static str],
        default: &'static str,
    },
    /// Any string, checked by `check` if present.
    Str {
        default: &'static str,
        check: Option<Check>,
    },
    /// Parsed by the option's own setter; `default` is how CONFIG GET
    /// prints the default.
    Special(&'static str),
}

pub const INT_MAX: i128 = i32::MAX as i128;
pub const INT_MIN: i128 = i32::MIN as i128;
pub const UINT_MAX: i128 = u32::MAX as i128;
pub const LONG_MAX: i128 = i64::MAX as i128;
pub const ULLONG_MAX: i128 = u64::MAX as i128;

impl Kind {
    /// The default as CONFIG GET prints it.
    pub fn default_text(&self) -> String {
        match *self {
            Kind::Bool(b) => yes(b).into(),
            Kind::Int { default, .. } => default.to_string(),
            Kind::Mem { default, .. } => default.to_string(),
            Kind::MemPercent { default, .. } => percent_text(default),
            Kind::Octal { default, .. } => format!("{default:o}"),
            Kind::Enum { default, .. } => default.into(),
            Kind::Str { default, .. } => default.into(),
            Kind::Special(d) => d.into(),
        }
    }

    /// Checks `v` and returns it as CONFIG GET will print it.
    pub fn canonical(&self, v: &str) -> Result<String, String> {
        Ok(match *self {
            Kind::Bool(_) => yes(parse_bool(v)?).into(),
            Kind::Int { .. } | Kind::Octal { .. } => {
                let n = self.number(v)?;
                if matches!(self, Kind::Octal { .. }) { format!("{n:o}") } else { n.to_string() }
            }
            Kind::Mem { .. } => self.number(v)?.to_string(),
            Kind::MemPercent { .. } => percent_text(self.number(v)? as i64),
            Kind::Enum { names, .. } => self.enum_name(v, names)?.into(),
            Kind::Str { check, .. } => {
                if let Some(check) = check {
                    check(v)?;
                }
                v.into()
            }
            Kind::Special(_) => v.into(),
        })
    }

    /// A numeric value, parsed and bounds-checked as Redis's
    /// numericParseString and numericBoundaryCheck do.
    pub fn number(&self, v: &str) -> Result<i128, String> {
        let (min, max, n) = match *self {
            Kind::Int { min, max, .. } => (min, max, parse_ll(v).ok_or("argument couldn't be parsed into an integer")?),
            Kind::Octal { min, max, .. } => {
                let n = i64::from_str_radix(v, 8).map_err(|_| "argument couldn't be parsed as an octal number")?;
                if !(min..=max).contains(&(n as i128)) {
                    return Err(format!("argument must be between {min:o} and {max:o} inclusive"));
                }
                return Ok(n as i128);
            }
            Kind::Mem { min, max, .. } => {
                (min, max, as_stored(parse_memory(v).ok_or("argument must be a memory value")?, min))
            }
            Kind::MemPercent { min, max, .. } => {
                let n = match parse_memory(v) {
                    Some(n) => as_stored(n, min),
                    None => {
                        let p = v
                            .strip_suffix('%')
                            .filter(|_| v.len() > 1)
                            .and_then(parse_ll)
                            .filter(|p| *p >= 0)
                            .ok_or("argument must be a memory or percent value")?;
                        if -p < min {
                            return Err(format!("percentage argument must be less or equal to {}", -min));
                        }
                        return Ok(-p);
                    }
                };
                (min, max, n)
            }
            _ => return Err("argument couldn't be parsed into an integer".into()),
        };
        // Unsigned C types see a negative number as a huge one: the
        // message is the bounds either way.
        if n < min || n > max {
            return Err(format!("argument must be between {min} and {max} inclusive"));
        }
        Ok(n)
    }

    fn enum_name(&self, v: &str, names: &'static [&'static str]) -> Result<&'static str, String> {
        names.iter().find(|n| n.eq_ignore_ascii_case(v)).copied().ok_or_else(|| enum_error(names))
    }

    /// The name of an enum value, case-folded to the table's spelling.
    pub fn pick(&self, v: &str) -> Result<&'static str, String> {
        match *self {
            Kind::Enum { names, .. } => self.enum_name(v, names),
            _ => Err("not an enum".into()),
        }
    }
}

/// Redis's text for a value outside an enum's names.
pub fn enum_error(names: &[&str]) -> String {
    format!("argument(s) must be one of the following: {}", names.join(", "))
}

pub fn percent_text(n: i64) -> String {
    if n < 0 { format!("{}%", -n) } else { n.to_string() }
}

pub fn yes(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

pub fn parse_bool(v: &str) -> Result<bool, String> {
    if v.eq_ignore_ascii_case("yes") {
        Ok(true)
    } else if v.eq_ignore_ascii_case("no") {
        Ok(false)
    } else {
        Err("argument must be 'yes' or 'no'".into())
    }
}

/// Redis's string2ll: an optional minus sign and digits, no spaces, no
/// plus sign, no leading zeros.
pub fn parse_ll(v: &str) -> Option<i128> {
    let digits = v.strip_prefix('-').unwrap_or(v);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || (digits.len() > 1 && digits.starts_with('0'))
    {
        return None;
    }
    v.parse::<i64>().ok().map(i128::from)
}

/// A memory value as Redis keeps it before its bounds check: in a `long
/// long`, compared as signed where the option's type is (a negative lower
/// bound: `maxmemory-clients`, where an overflowing value reads as -1, so
/// 1%), else as unsigned.
fn as_stored(n: u64, min: i128) -> i128 {
    if min < 0 { n as i64 as i128 } else { n as i128 }
}

/// Parses a redis.conf memory value: `1k` = 1000, `1kb` = 1024, likewise
/// `m`/`mb`/`g`/`gb`, case-insensitive; a bare number is bytes.
pub fn parse_memory(v: &str) -> Option<u64> {
    // Redis's memtoull, to the letter: digits, then nothing or a unit
    // (case-insensitive); no sign, no spaces. strtoull's ways are kept:
    // no digits read as 0 (`""`, `"kb"`), too many as its largest value
    // (then refused by the option's bounds), the unit's product wrapping.
    if v.starts_with('-') {
        return None;
    }
    let digits = v.bytes().take_while(u8::is_ascii_digit).count();
    let mul: u64 = match v[digits..].to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" => 1000,
        "kb" => 1024,
        "m" => 1000 * 1000,
        "mb" => 1024 * 1024,
        "g" => 1000 * 1000 * 1000,
        "gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    if digits >= 128 {
        return None;
    }
    let n = if digits == 0 { 0 } else { v[..digits].parse::<u64>().unwrap_or(u64::MAX) };
    Some(n.wrapping_mul(mul))
}

/// Redis's check for `dbfilename`, `appendfilename`, `appenddirname`: a
/// name without a directory part.
pub fn is_base_name(v: &str) -> bool {
    !v.contains('/')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_units() {
        assert_eq!(parse_memory("1gb"), Some(1 << 30));
        assert_eq!(parse_memory("100MB"), Some(100 << 20));
        assert_eq!(parse_memory("64k"), Some(64_000));
        assert_eq!(parse_memory("12"), Some(12));
        assert_eq!(parse_memory("1.5gb"), None);
        assert_eq!(parse_memory("-1"), None);
        // As Redis's memtoull: no digits read as 0, no spaces or signs,
        // an overflow as the largest value (the bounds refuse it).
        assert_eq!(parse_memory("gb"), Some(0));
        assert_eq!(parse_memory(""), Some(0));
        assert_eq!(parse_memory("00012"), Some(12));
        for bad in [" 1", "1 ", "+5", "0x10", "1kib"] {
            assert_eq!(parse_memory(bad), None, "{bad}");
        }
        assert_eq!(parse_memory("99999999999999999999999"), Some(u64::MAX));
        assert_eq!(parse_memory(&"1".repeat(128)), None, "128 digits");
    }

    #[test]
    fn numbers_and_their_errors() {
        let int = Kind::Int { min: 0, max: 65535, default: 6379 };
        assert_eq!(int.canonical("7000").unwrap(), "7000");
        assert_eq!(int.canonical("+7").unwrap_err(), "argument couldn't be parsed into an integer");
        assert_eq!(int.canonical("070").unwrap_err(), "argument couldn't be parsed into an integer");
        assert_eq!(int.canonical("70000").unwrap_err(), "argument must be between 0 and 65535 inclusive");
        let mem = Kind::Mem { min: 0, max: ULLONG_MAX, default: 0 };
        assert_eq!(mem.canonical("1kb").unwrap(), "1024");
        assert_eq!(mem.canonical("-1").unwrap_err(), "argument must be a memory value");
        let pct = Kind::MemPercent { min: -100, max: LONG_MAX, default: 0 };
        assert_eq!(pct.canonical("10%").unwrap(), "10%");
        assert_eq!(pct.canonical("200%").unwrap_err(), "percentage argument must be less or equal to 100");
        assert_eq!(pct.canonical("x").unwrap_err(), "argument must be a memory or percent value");
        let oct = Kind::Octal { min: 0, max: 0o777, default: 0 };
        assert_eq!(oct.canonical("700").unwrap(), "700");
        assert_eq!(oct.canonical("9").unwrap_err(), "argument couldn't be parsed as an octal number");
        assert_eq!(oct.canonical("7777").unwrap_err(), "argument must be between 0 and 777 inclusive");
        let e = Kind::Enum { names: &["no", "yes"], default: "no" };
        assert_eq!(e.canonical("YES").unwrap(), "yes");
        assert_eq!(e.canonical("x").unwrap_err(), "argument(s) must be one of the following: no, yes");
        assert_eq!(Kind::Bool(true).canonical("x").unwrap_err(), "argument must be 'yes' or 'no'");
    }
}
