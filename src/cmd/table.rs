//! The one command table.
//!
//! Every command is one [`Command`] row exported by its family module
//! (`string::COMMANDS`, `keys::COMMANDS`, …). Dispatch, the arity check,
//! `COMMAND COUNT/INFO/DOCS/LIST` and `docs/commands.md` all read these rows;
//! nothing lists commands a second time. Container commands (`CONFIG`,
//! `COMMAND`) carry their subcommands as rows of their own.

use super::{Args, CmdResult, Ctx, bitmap, conn, keys, server, string};
use hashbrown::HashMap;
use std::sync::OnceLock;

pub type Handler = fn(&mut Ctx, &Args) -> CmdResult;

/// Command flags, with the names `COMMAND INFO` prints.
pub mod flag {
    pub const WRITE: u32 = 1 << 0;
    pub const READONLY: u32 = 1 << 1;
    pub const DENYOOM: u32 = 1 << 2;
    pub const ADMIN: u32 = 1 << 3;
    pub const PUBSUB: u32 = 1 << 4;
    pub const NOSCRIPT: u32 = 1 << 5;
    pub const BLOCKING: u32 = 1 << 6;
    pub const LOADING: u32 = 1 << 7;
    pub const STALE: u32 = 1 << 8;
    pub const SKIP_MONITOR: u32 = 1 << 9;
    pub const SKIP_SLOWLOG: u32 = 1 << 10;
    pub const FAST: u32 = 1 << 11;
    pub const NO_AUTH: u32 = 1 << 12;
    pub const MAY_REPLICATE: u32 = 1 << 13;
    pub const SENTINEL: u32 = 1 << 14;
    pub const NO_MULTI: u32 = 1 << 15;
    pub const ALLOW_BUSY: u32 = 1 << 16;

    pub const NAMES: &[(u32, &str)] = &[
        (WRITE, "write"),
        (READONLY, "readonly"),
        (DENYOOM, "denyoom"),
        (ADMIN, "admin"),
        (PUBSUB, "pubsub"),
        (NOSCRIPT, "noscript"),
        (BLOCKING, "blocking"),
        (LOADING, "loading"),
        (STALE, "stale"),
        (SKIP_MONITOR, "skip_monitor"),
        (SKIP_SLOWLOG, "skip_slowlog"),
        (FAST, "fast"),
        (NO_AUTH, "no_auth"),
        (MAY_REPLICATE, "may_replicate"),
        (SENTINEL, "sentinel"),
        (NO_MULTI, "no_multi"),
        (ALLOW_BUSY, "allow_busy"),
    ];
}

/// One command (or subcommand).
pub struct Command {
    /// Lower-case name; for a subcommand, the part after the container.
    pub name: &'static str,
    /// Redis's convention: `n` exactly n arguments (name included), `-n` at least n.
    pub arity: i32,
    pub flags: u32,
    /// Key positions: first, last (negative counts from the end), step.
    pub keys: (i32, i32, i32),
    /// Redis's command group (`string`, `bitmap`, `generic`, `server`, `connection`).
    pub group: &'static str,
    pub since: &'static str,
    pub summary: &'static str,
    pub handler: Handler,
    pub subcommands: &'static [Command],
}

/// A row of the table; `keys` is `(first, last, step)`.
#[allow(clippy::too_many_arguments)]
pub const fn row(
    name: &'static str,
    arity: i32,
    flags: u32,
    keys: (i32, i32, i32),
    group: &'static str,
    since: &'static str,
    summary: &'static str,
    handler: Handler,
) -> Command {
    Command { name, arity, flags, keys, group, since, summary, handler, subcommands: &[] }
}

impl Command {
    pub fn has(&self, f: u32) -> bool {
        self.flags & f != 0
    }

    /// Whether `argc` arguments (name included) satisfy the arity.
    pub fn arity_ok(&self, argc: usize) -> bool {
        let argc = argc as i64;
        let arity = self.arity as i64;
        if arity >= 0 { argc == arity } else { argc >= -arity }
    }

    /// The subcommand named `name`, case-insensitively.
    pub fn subcommand(&self, name: &[u8]) -> Option<&'static Command> {
        self.subcommands.iter().find(|c| c.name.as_bytes().eq_ignore_ascii_case(name))
    }

    /// ACL categories, derived from flags and group as Redis assigns them,
    /// in Redis's category order.
    pub fn acl_categories(&self) -> Vec<&'static str> {
        const ORDER: &[&str] = &[
            "@keyspace",
            "@read",
            "@write",
            "@set",
            "@sortedset",
            "@list",
            "@hash",
            "@string",
            "@bitmap",
            "@hyperloglog",
            "@geo",
            "@stream",
            "@pubsub",
            "@admin",
            "@fast",
            "@slow",
            "@blocking",
            "@dangerous",
            "@connection",
            "@transaction",
            "@scripting",
        ];
        let mut cats = Vec::new();
        let mut add = |c: &'static str, on: bool| {
            if on {
                cats.push(c);
            }
        };
        add("@write", self.has(flag::WRITE));
        add("@read", self.has(flag::READONLY));
        add("@admin", self.has(flag::ADMIN));
        add("@dangerous", self.has(flag::ADMIN));
        add("@pubsub", self.has(flag::PUBSUB));
        add("@blocking", self.has(flag::BLOCKING));
        add("@fast", self.has(flag::FAST));
        add("@slow", !self.has(flag::FAST));
        add("@string", self.group == "string");
        add("@bitmap", self.group == "bitmap");
        add("@keyspace", self.group == "generic");
        add("@connection", self.group == "connection");
        cats.sort_by_key(|c| ORDER.iter().position(|o| o == c));
        cats
    }
}

/// Every family's rows, in one place.
static FAMILIES: &[&[Command]] =
    &[conn::COMMANDS, string::COMMANDS, bitmap::COMMANDS, keys::COMMANDS, server::COMMANDS];

/// All top-level commands.
pub fn all() -> impl Iterator<Item = &'static Command> {
    FAMILIES.iter().flat_map(|f| f.iter())
}

/// Longest command name; longer input cannot match and needs no lowering.
const MAX_NAME: usize = 32;

fn index() -> &'static HashMap<&'static [u8], &'static Command> {
    static INDEX: OnceLock<HashMap<&'static [u8], &'static Command>> = OnceLock::new();
    INDEX.get_or_init(|| all().map(|c| (c.name.as_bytes(), c)).collect())
}

/// Finds a command by name, case-insensitively, without allocating.
pub fn lookup(name: &[u8]) -> Option<&'static Command> {
    if name.len() > MAX_NAME {
        return None;
    }
    let mut lower = [0u8; MAX_NAME];
    let lower = &mut lower[..name.len()];
    lower.copy_from_slice(name);
    lower.make_ascii_lowercase();
    index().get(&*lower).copied()
}

/// `docs/commands.md`, generated from the table (`ferrokv --commands-md`).
pub fn markdown() -> String {
    let mut out = String::from(
        "# Supported commands\n\n\
         Generated from the command table (`cargo run -- --commands-md > docs/commands.md`);\n\
         a test fails when this file and the table disagree.\n\n\
         Every command listed behaves as in Redis 7.0: same replies, same error texts.\n\n\
         | Command | Group | Arity | Flags | Since | Summary |\n\
         |---|---|---|---|---|---|\n",
    );
    let mut rows: Vec<(String, &Command)> = Vec::new();
    for c in all() {
        rows.push((c.name.to_ascii_uppercase(), c));
        for s in c.subcommands {
            rows.push((format!("{} {}", c.name, s.name).to_ascii_uppercase(), s));
        }
    }
    rows.sort_by(|a, b| (a.1.group, &a.0).cmp(&(b.1.group, &b.0)));
    for (name, c) in rows {
        let flags: Vec<&str> = flag::NAMES.iter().filter(|(f, _)| c.has(*f)).map(|(_, n)| *n).collect();
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            name,
            c.group,
            c.arity,
            flags.join(", "),
            c.since,
            c.summary
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_lowercase_and_short() {
        let mut seen = std::collections::HashSet::new();
        for c in all() {
            assert!(seen.insert(c.name), "duplicate {}", c.name);
            assert_eq!(c.name, c.name.to_ascii_lowercase());
            assert!(c.name.len() <= MAX_NAME);
            assert!(c.arity != 0);
        }
    }

    #[test]
    fn lookup_ignores_case() {
        assert_eq!(lookup(b"GeT").map(|c| c.name), Some("get"));
        assert!(lookup(b"nope").is_none());
        assert!(lookup(&[b'a'; 100]).is_none());
    }
}
