//! The one command table.
//!
//! Every command is one [`Command`] row exported by its family module
//! (`string::COMMANDS`, `keys::COMMANDS`, …). Dispatch, the arity check,
//! `COMMAND COUNT/INFO/DOCS/LIST` and `docs/commands.md` all read these rows;
//! nothing lists commands a second time. Container commands (`CONFIG`,
//! `COMMAND`) carry their subcommands as rows of their own.

use super::{
    Args, CmdResult, Ctx, acl, bitmap, conn, debug, dump, function, geo, hash, hll, info, introspect, keys, latency,
    list, lolwut, memory, migrate, module, persist, pubsub, repl, script, server, set, sort, stream, string, tx, zset,
};
use crate::persist::propagate::Form;
use hashbrown::HashTable;
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
    /// Runs only where a config option allows it (DEBUG and
    /// `enable-debug-command`); checked by the dispatcher. Redis 7.0's
    /// `COMMAND INFO` does not show it, so it is not in [`NAMES`].
    pub const PROTECTED: u32 = 1 << 17;
    /// Refused while a replica loads asynchronously (Redis's flag; shown by
    /// COMMAND INFO).
    pub const NO_ASYNC_LOADING: u32 = 1 << 18;
    /// May run in a cluster's ASKING state (RESTORE-ASKING); shown by
    /// COMMAND INFO.
    pub const ASKING: u32 = 1 << 19;
    /// A command whose keys may be none at all (EVAL, FCALL).
    pub const NO_MANDATORY_KEYS: u32 = 1 << 20;

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
        (ASKING, "asking"),
        (FAST, "fast"),
        (NO_AUTH, "no_auth"),
        (MAY_REPLICATE, "may_replicate"),
        (SENTINEL, "sentinel"),
        (NO_MANDATORY_KEYS, "no_mandatory_keys"),
        (NO_ASYNC_LOADING, "no_async_loading"),
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
    /// Redis's command group (`string`, `bitmap`, `generic`, `server`,
    /// `connection`, `hash`, `set`, `sorted-set`, `list`, `transactions`).
    pub group: &'static str,
    pub since: &'static str,
    pub summary: &'static str,
    pub handler: Handler,
    pub subcommands: &'static [Command],
    /// Flags of each key spec, as Redis's command json gives them
    /// (`"RW access delete"`): one for a command whose keys all play one
    /// part, two when the first key is written and the others read
    /// (RENAME, ZUNIONSTORE, BITOP …). The specs' positions follow from
    /// `keys` and [`Command::numkeys_at`] (see [`Command::key_specs`]).
    pub key_flags: &'static [&'static str],
    /// Notes of the key specs (Redis prints a spec's `notes` first), in
    /// the order of `key_flags`; usually none.
    pub key_notes: &'static [&'static str],
    /// Redis's command tips (`nondeterministic_output`,
    /// `request_policy:all_shards` …), as `COMMAND INFO` prints them.
    pub tips: &'static [&'static str],
    /// ACL categories Redis's command json names where they are not the
    /// ones of the command's group (`@keyspace @dangerous` for FLUSHALL);
    /// empty: the group's (see [`Command::acl_categories`]).
    pub acl: &'static [&'static str],
    /// Key specs after those derived from `keys` and `key_flags`: the
    /// keyword-found or `unknown` specs of GEORADIUS's STORE and SORT.
    pub extra_specs: &'static [KeySpec],
}

/// One key spec (Redis 7's `keySpec`), derived from a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeySpec {
    pub flags: &'static str,
    /// Redis's `notes` of the spec; empty for none.
    pub notes: &'static str,
    pub begin: Begin,
    pub find: FindKeys,
}

/// `begin_search` of a key spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Begin {
    /// The keys start at this argument.
    Index(i32),
    /// The keys start after `keyword`, searched from argument `startfrom`
    /// on (from the end when negative).
    Keyword { keyword: &'static str, startfrom: i32 },
    /// Only the command knows (SORT).
    Unknown,
}

/// `find_keys` of a key spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FindKeys {
    /// `lastkey` counts from `index` (negative: from the end); `limit`
    /// (non-zero) takes 1/limit of the keys left (XREAD's keys and ids).
    Range { lastkey: i32, step: i32, limit: i32 },
    /// The argument at `index + keynumidx` counts the keys that start at
    /// `index + firstkey`.
    Keynum { keynumidx: i32, firstkey: i32, step: i32 },
    /// Only the command knows (SORT).
    Unknown,
}

/// Handler of a container command (CONFIG, OBJECT, …) called without a
/// subcommand; unreachable, since a container's arity demands one.
pub fn container(_cx: &mut Ctx, _args: &Args) -> CmdResult {
    Err(super::CmdError::Syntax)
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
    Command {
        name,
        arity,
        flags,
        keys,
        group,
        since,
        summary,
        handler,
        subcommands: &[],
        key_flags: &[],
        key_notes: &[],
        tips: &[],
        acl: &[],
        extra_specs: &[],
    }
}

impl Command {
    /// The row with the flags of its key specs (see [`Command::key_flags`]).
    pub const fn key_flags(mut self, flags: &'static [&'static str]) -> Command {
        self.key_flags = flags;
        self
    }

    /// The row with notes on its key specs (see [`Command::key_notes`]).
    pub const fn key_notes(mut self, notes: &'static [&'static str]) -> Command {
        self.key_notes = notes;
        self
    }

    /// The row with Redis's command tips (see [`Command::tips`]).
    pub const fn tips(mut self, tips: &'static [&'static str]) -> Command {
        self.tips = tips;
        self
    }

    /// The row with key specs of its own after the derived ones (see
    /// [`Command::extra_specs`]).
    pub const fn extra_specs(mut self, specs: &'static [KeySpec]) -> Command {
        self.extra_specs = specs;
        self
    }

    /// The row with ACL categories of its own (see [`Command::acl`]).
    pub const fn acl(mut self, categories: &'static [&'static str]) -> Command {
        self.acl = categories;
        self
    }

    pub fn has(&self, f: u32) -> bool {
        self.flags & f != 0
    }

    /// The key specs `COMMAND INFO` prints. A single spec covers the
    /// `(first, last, step)` range, or the keys `numkeys` counts; with two,
    /// the first key is one spec and the keys after it the other.
    pub fn key_specs(&self) -> Vec<KeySpec> {
        let mut specs = self.derived_key_specs();
        specs.extend_from_slice(self.extra_specs);
        specs
    }

    fn derived_key_specs(&self) -> Vec<KeySpec> {
        let (first, last, step) = self.keys;
        let after = |from: i32| if last < 0 { last } else { last - from };
        let keynum = |flags, notes, at: usize| KeySpec {
            flags,
            notes,
            begin: Begin::Index(at as i32),
            find: FindKeys::Keynum { keynumidx: 0, firstkey: 1, step: 1 },
        };
        if let (Some(at), [f]) = (self.streams_keyword_from(), self.key_flags) {
            // XREAD, XREADGROUP: the keys after STREAMS, half of what follows.
            let find = FindKeys::Range { lastkey: -1, step: 1, limit: 2 };
            return vec![KeySpec {
                flags: f,
                notes: "",
                begin: Begin::Keyword { keyword: "STREAMS", startfrom: at },
                find,
            }];
        }
        match (self.key_flags, self.numkeys_at()) {
            ([], _) => Vec::new(),
            ([f], None) => vec![KeySpec {
                flags: f,
                notes: self.key_notes.first().copied().unwrap_or(""),
                begin: Begin::Index(first),
                find: FindKeys::Range { lastkey: after(first), step, limit: 0 },
            }],
            ([f], Some(at)) => vec![keynum(f, self.key_notes.first().copied().unwrap_or(""), at)],
            ([a, b, ..], numkeys) => {
                let note = |i: usize| self.key_notes.get(i).copied().unwrap_or("");
                let dst = KeySpec {
                    flags: a,
                    notes: note(0),
                    begin: Begin::Index(first),
                    find: FindKeys::Range { lastkey: 0, step: 1, limit: 0 },
                };
                let rest = match numkeys {
                    Some(at) => keynum(b, note(1), at),
                    None => KeySpec {
                        flags: b,
                        notes: note(1),
                        begin: Begin::Index(first + 1),
                        find: FindKeys::Range { lastkey: after(first + 1), step, limit: 0 },
                    },
                };
                vec![dst, rest]
            }
        }
    }

    /// Whether the command has key arguments for `COMMAND GETKEYS` (Redis's
    /// `doesCommandHaveKeys`): a spec that is not `not_key` (SPUBLISH's
    /// channel is in a spec, but is no key).
    pub fn has_keys(&self) -> bool {
        self.key_flags.iter().any(|f| !f.split(' ').any(|w| w == "not_key"))
    }

    /// The flags of the key at argument `pos` (one of `key_positions`) in
    /// the call `argv` (name included). A spec marked `variable_flags`
    /// (SET, BITFIELD) has the flags of this call, as Redis's `setGetKeys`
    /// and `bitfieldGetKeys` give them.
    pub fn call_key_flags(&self, argv: &[&[u8]], pos: usize) -> &'static str {
        let is = |a: &[u8], w: &str| a.eq_ignore_ascii_case(w.as_bytes());
        match self.name {
            "set" if argv.iter().skip(3).any(|a| is(a, "get")) => "RW access update",
            "set" => "OW update",
            // The destination of SORT ... STORE, GEORADIUS ... STORE.
            "sort" | "georadius" | "georadiusbymember" if pos != 1 => "OW update",
            "bitfield" => {
                // Only GETs (and OVERFLOWs), each with its arguments.
                let mut i = 2;
                let mut read_only = true;
                while i < argv.len() {
                    let rest = argv.len() - i - 1;
                    match argv[i] {
                        a if is(a, "get") && rest >= 2 => i += 3,
                        a if is(a, "overflow") && rest >= 1 => i += 2,
                        _ => {
                            read_only = false;
                            break;
                        }
                    }
                }
                if read_only { "RO access" } else { "RW access update" }
            }
            _ => self.key_flags_at(pos),
        }
    }

    /// The flags of the spec the key at argument `pos` belongs to.
    pub fn key_flags_at(&self, pos: usize) -> &'static str {
        match self.key_flags {
            [a, b, ..] => {
                if pos as i32 == self.keys.0 {
                    a
                } else {
                    b
                }
            }
            [f] => f,
            [] => "",
        }
    }

    /// Whether `argc` arguments (name included) satisfy the arity.
    pub fn arity_ok(&self, argc: usize) -> bool {
        let argc = argc as i64;
        let arity = self.arity as i64;
        if arity >= 0 { argc == arity } else { argc >= -arity }
    }

    /// Positions of the keys in a call with `argc` arguments (name
    /// included), `arg(i)` giving argument `i` (Redis's
    /// `getKeysFromCommand`): the fixed `(first, last, step)` range, then,
    /// for commands whose keys move, the keys their `numkeys` counts, or
    /// MIGRATE's own extraction of its KEYS option.
    pub fn key_positions<'a>(&self, argc: usize, arg: impl Fn(usize) -> &'a [u8]) -> Vec<usize> {
        match self.name {
            "migrate" => return migrate::key_positions(argc, arg),
            "sort" => return sort::key_positions(argc, arg),
            "sort_ro" => return vec![1],
            "georadius" | "georadiusbymember" => return self.keyword_key_positions(argc, arg),
            _ => {}
        }
        if self.name == "xread" || self.name == "xreadgroup" {
            return stream::key_positions(argc, arg);
        }
        let mut keys = Vec::new();
        let (first, last, step) = self.keys;
        if first > 0 {
            let last = if last < 0 { argc as i32 + last } else { last };
            let mut i = first;
            while i <= last && (i as usize) < argc {
                keys.push(i as usize);
                i += step.max(1);
            }
        }
        let Some(at) = self.numkeys_at() else { return keys };
        // A `numkeys` that is not a count of the arguments after it (the
        // command will answer a syntax error) means no keys at all, as
        // Redis's key extraction says.
        match (at < argc).then(|| super::parse_int(arg(at)).ok()).flatten() {
            Some(n) if n > 0 && (n as u64) < (argc - at) as u64 => keys.extend(at + 1..at + 1 + n as usize),
            _ => keys.clear(),
        }
        keys
    }

    /// The keys of a command whose specs are an index and keywords
    /// (GEORADIUS's STORE and STOREDIST), as Redis's
    /// `getKeysUsingKeySpecs` finds them: spec by spec, each keyword
    /// searched forward from its `startfrom` up to the argument before the
    /// last, the key the argument after the first match.
    fn keyword_key_positions<'a>(&self, argc: usize, arg: impl Fn(usize) -> &'a [u8]) -> Vec<usize> {
        let mut keys = Vec::new();
        for spec in self.key_specs() {
            match spec.begin {
                Begin::Index(i) if (i as usize) < argc => keys.push(i as usize),
                Begin::Keyword { keyword, startfrom } if startfrom > 0 => {
                    let found = (startfrom as usize..argc.saturating_sub(1))
                        .find(|&i| arg(i).eq_ignore_ascii_case(keyword.as_bytes()));
                    keys.extend(found.map(|i| i + 1));
                }
                _ => {}
            }
        }
        keys
    }

    /// Whether the key positions depend on the arguments (COMMAND INFO's
    /// `movablekeys`).
    pub fn movable_keys(&self) -> bool {
        self.numkeys_at().is_some()
            || matches!(
                self.name,
                "migrate" | "sort" | "sort_ro" | "georadius" | "georadiusbymember" | "xread" | "xreadgroup"
            )
    }

    /// Where the search for `STREAMS` starts (XREAD, XREADGROUP).
    pub fn streams_keyword_from(&self) -> Option<i32> {
        match self.name {
            "xread" => Some(1),
            "xreadgroup" => Some(4),
            _ => None,
        }
    }

    /// Where the `numkeys` argument of a command with movable keys is.
    pub fn numkeys_at(&self) -> Option<usize> {
        match self.name {
            "lmpop" | "zmpop" | "sintercard" | "zintercard" | "zunion" | "zinter" | "zdiff" => Some(1),
            "eval" | "evalsha" | "eval_ro" | "evalsha_ro" | "fcall" | "fcall_ro" => Some(2),
            "blmpop" | "bzmpop" | "zunionstore" | "zinterstore" | "zdiffstore" => Some(2),
            _ => None,
        }
    }

    /// The subcommand named `name`, case-insensitively.
    pub fn subcommand(&self, name: &[u8]) -> Option<&'static Command> {
        self.subcommands.iter().find(|c| c.name.as_bytes().eq_ignore_ascii_case(name))
    }

    /// ACL categories as Redis assigns them, in Redis's category order: those
    /// its command json names (the group's, or [`Command::acl`]; a container
    /// names none), then those `setImplicitACLCategories` adds for flags.
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
        // Redis leaves @read out for scripting commands (EVAL_RO, FCALL_RO).
        add("@read", self.has(flag::READONLY) && self.group != "scripting");
        add("@admin", self.has(flag::ADMIN));
        // FUNCTION RESTORE shares RESTORE's name, not its category.
        add("@dangerous", self.has(flag::ADMIN) || (DANGEROUS.contains(&self.name) && self.group != "scripting"));
        add("@pubsub", self.has(flag::PUBSUB));
        add("@blocking", self.has(flag::BLOCKING));
        add("@fast", self.has(flag::FAST));
        add("@slow", !self.has(flag::FAST));
        if !self.acl.is_empty() {
            self.acl.iter().for_each(|c| add(c, true));
        } else if self.subcommands.is_empty() {
            let group = match self.group {
                "string" => "@string",
                "hash" => "@hash",
                "set" => "@set",
                "bitmap" => "@bitmap",
                "generic" => "@keyspace",
                "sorted-set" => "@sortedset",
                "connection" => "@connection",
                "list" => "@list",
                "transactions" => "@transaction",
                "hyperloglog" => "@hyperloglog",
                "stream" => "@stream",
                "geo" => "@geo",
                "scripting" => "@scripting",
                _ => "",
            };
            add(group, !group.is_empty());
        }
        cats.sort_by_key(|c| ORDER.iter().position(|o| o == c));
        cats.dedup();
        cats
    }
}

/// Commands without the `admin` flag that Redis 7.0 still files under
/// `@dangerous` (INFO too, left out here: the name would also match the
/// INFO subcommands of CLIENT and COMMAND, which are not).
const DANGEROUS: &[&str] = &[
    "flushall",
    "flushdb",
    "keys",
    "lastsave",
    "migrate",
    "restore",
    "restore-asking",
    "role",
    "sort",
    "sort_ro",
    "swapdb",
];

/// Every family's rows, in one place.
static FAMILIES: &[&[Command]] = &[
    conn::COMMANDS,
    string::COMMANDS,
    bitmap::COMMANDS,
    keys::COMMANDS,
    dump::COMMANDS,
    migrate::COMMANDS,
    server::COMMANDS,
    debug::COMMANDS,
    info::COMMANDS,
    introspect::COMMANDS,
    latency::COMMANDS,
    memory::COMMANDS,
    persist::COMMANDS,
    list::COMMANDS,
    tx::COMMANDS,
    hash::COMMANDS,
    set::COMMANDS,
    pubsub::COMMANDS,
    zset::COMMANDS,
    acl::COMMANDS,
    hll::COMMANDS,
    stream::COMMANDS,
    geo::COMMANDS,
    sort::COMMANDS,
    lolwut::COMMANDS,
    module::COMMANDS,
    repl::COMMANDS,
    script::COMMANDS,
    function::COMMANDS,
];

/// All top-level commands.
pub fn all() -> impl Iterator<Item = &'static Command> {
    FAMILIES.iter().flat_map(|f| f.iter())
}

/// Every command and subcommand with a dense id, so per-command counters
/// (INFO commandstats) are a vector index, not a map lookup.
pub struct Registry {
    pub entries: Vec<Registered>,
    /// Ids of the top-level commands, hashed by [`name_hash`].
    by_name: HashTable<usize>,
    /// Top-level commands have ids `0..top`; subcommands come after.
    top: usize,
}

/// A hash of a command name that ignores ASCII case without lowering a copy:
/// names equal but for case differ only in bit 0x20 of their letters, which
/// is set in every byte before mixing (other bytes may collide with each other
/// that way; the lookup compares the names anyway). Names are a few bytes,
/// where this costs a fraction of a general-purpose hasher.
fn name_hash(name: &[u8]) -> u64 {
    let mut h = name.len() as u64;
    for &b in name {
        h = (h.rotate_left(5) ^ (b | 0x20) as u64).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
    // The table takes its buckets from the low bits, which a product mixes least.
    h ^ (h >> 29)
}

pub struct Registered {
    pub cmd: &'static Command,
    /// `get`, or `config|get` for a subcommand.
    pub fullname: String,
    /// Id of this command's first subcommand (containers only).
    sub_base: usize,
    /// How it propagates (decided here once, not by name at each call).
    pub form: Form,
}

/// Whether `name` is `lower` (a lowercase name) in any case; cheaper than
/// `eq_ignore_ascii_case`, which lowers both sides.
fn eq_lowercase(lower: &[u8], name: &[u8]) -> bool {
    if lower.len() != name.len() {
        return false;
    }
    for i in 0..lower.len() {
        let (l, b) = (lower[i], name[i]);
        if l != b && (l != b | 0x20 || !l.is_ascii_lowercase()) {
            return false;
        }
    }
    true
}

/// Longest command name; longer input cannot match and is not hashed.
const MAX_NAME: usize = 32;

/// The registry, built once from the table.
pub fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let mut entries: Vec<Registered> = all()
            .map(|c| Registered { cmd: c, fullname: c.name.to_string(), sub_base: 0, form: Form::of(c.name) })
            .collect();
        for top in 0..entries.len() {
            let parent = entries[top].cmd;
            entries[top].sub_base = entries.len();
            for s in parent.subcommands {
                let fullname = format!("{}|{}", parent.name, s.name);
                let form = Form::of(&fullname);
                entries.push(Registered { cmd: s, fullname, sub_base: 0, form });
            }
        }
        let top = all().count();
        let mut by_name = HashTable::with_capacity(top);
        for (i, c) in all().enumerate() {
            by_name.insert_unique(name_hash(c.name.as_bytes()), i, |&i| name_hash(entries[i].cmd.name.as_bytes()));
        }
        Registry { entries, by_name, top }
    })
}

impl Registry {
    /// Id of a top-level command, case-insensitively, without allocating.
    pub fn id(&self, name: &[u8]) -> Option<usize> {
        if name.len() > MAX_NAME {
            return None;
        }
        let entries = &self.entries;
        self.by_name.find(name_hash(name), |&i| eq_lowercase(entries[i].cmd.name.as_bytes(), name)).copied()
    }

    /// [`Registry::id`], trying `hint` (the id of the client's previous
    /// command) first: a pipeline usually repeats one command, and comparing
    /// one name costs a fraction of the hash lookup.
    pub fn id_hinted(&self, name: &[u8], hint: Option<usize>) -> Option<usize> {
        match hint {
            Some(h) if h < self.top && eq_lowercase(self.entries[h].cmd.name.as_bytes(), name) => Some(h),
            _ => self.id(name),
        }
    }

    /// How many top-level commands there are: their ids are `0..top()`,
    /// subcommands come after.
    pub fn top(&self) -> usize {
        self.top
    }

    /// Ids of the subcommands of command `id` (none for a subcommand or a
    /// command without any).
    pub fn subs(&self, id: usize) -> std::ops::Range<usize> {
        let e = &self.entries[id];
        if id < self.top { e.sub_base..e.sub_base + e.cmd.subcommands.len() } else { 0..0 }
    }

    /// Id of what `args` run: the subcommand for a container given one.
    pub fn run_id(&self, args: &super::Args) -> Option<usize> {
        let top = self.id(args.get(0))?;
        if !self.entries[top].cmd.subcommands.is_empty() && args.len() >= 2 {
            return self.sub_id(top, args.get(1));
        }
        Some(top)
    }

    /// Id of `name` or `container|sub` (Redis's `lookupCommandBySds`).
    pub fn id_by_fullname(&self, name: &[u8]) -> Option<usize> {
        match name.iter().position(|&b| b == b'|') {
            None => self.id(name),
            Some(bar) => self.id(&name[..bar]).and_then(|p| self.sub_id(p, &name[bar + 1..])),
        }
    }

    /// Id of subcommand `name` of the container with id `parent`.
    pub fn sub_id(&self, parent: usize, name: &[u8]) -> Option<usize> {
        let p = &self.entries[parent];
        p.cmd.subcommands.iter().position(|s| s.name.as_bytes().eq_ignore_ascii_case(name)).map(|i| p.sub_base + i)
    }
}

/// Finds a command by name, case-insensitively, without allocating.
pub fn lookup(name: &[u8]) -> Option<&'static Command> {
    let r = registry();
    r.id(name).map(|i| r.entries[i].cmd)
}

/// Redis 7.0.15's command groups and how many top-level commands each has
/// (counted from its `COMMAND DOCS`), for the status table.
const REDIS_GROUPS: &[(&str, usize)] = &[
    ("string", 22),
    ("bitmap", 7),
    ("generic", 28),
    ("list", 22),
    ("hash", 16),
    ("set", 17),
    ("sorted-set", 35),
    ("pubsub", 9),
    ("transactions", 5),
    ("connection", 8),
    ("server", 29),
    ("hyperloglog", 5),
    ("geo", 10),
    ("stream", 15),
    ("scripting", 8),
    ("cluster", 4),
];

/// `docs/commands.md`, generated from the table (`ferrokv --commands-md`).
pub fn markdown() -> String {
    let mut out = String::from(
        "# Supported commands\n\n\
         Generated from the command table (`cargo run -- --commands-md > docs/commands.md`);\n\
         a test fails when this file and the table disagree.\n\n\
         Every command listed behaves as in Redis 7.0: same replies, same error texts.\n\n\
         ## Status by command family\n\n\
         | Family (Redis group) | Redis 7.0 commands | ferrokv has | Status |\n\
         |---|---|---|---|\n",
    );
    for (group, redis_count) in REDIS_GROUPS {
        let ours = all().filter(|c| c.group == *group).count();
        let status = match ours {
            0 => "none yet",
            n if n >= *redis_count => "every command",
            _ => "some commands",
        };
        out.push_str(&format!("| {group} | {redis_count} | {ours} | {status} |\n"));
    }
    out.push_str(
        "\nCounts are top-level commands: a container such as CLIENT or CONFIG counts once\n\
         even when only some of its subcommands exist; the list below names each one.\n\n\
         ## Every command\n\n\
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
        let mut flags: Vec<&str> = flag::NAMES.iter().filter(|(f, _)| c.has(*f)).map(|(_, n)| *n).collect();
        if c.movable_keys() {
            flags.push("movablekeys");
        }
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
    fn every_command_with_keys_has_its_key_specs() {
        for c in all().flat_map(|c| std::iter::once(c).chain(c.subcommands)) {
            let has_keys = c.keys.0 > 0 || c.numkeys_at().is_some() || c.streams_keyword_from().is_some();
            assert_eq!(has_keys, !c.key_flags.is_empty(), "{}", c.name);
            assert!(c.key_flags.len() <= 2 && c.key_notes.len() <= c.key_flags.len(), "{}", c.name);
            assert_eq!(c.key_specs().len(), c.key_flags.len() + c.extra_specs.len(), "{}", c.name);
        }
        let zunionstore = lookup(b"zunionstore").unwrap();
        assert!(zunionstore.movable_keys());
        assert_eq!(
            zunionstore.key_specs()[1],
            KeySpec {
                flags: "RO access",
                notes: "",
                begin: Begin::Index(2),
                find: FindKeys::Keynum { keynumidx: 0, firstkey: 1, step: 1 }
            }
        );
        assert_eq!(lookup(b"bitop").unwrap().key_specs()[1].find, FindKeys::Range { lastkey: -1, step: 1, limit: 0 });
    }

    #[test]
    fn lookup_ignores_case() {
        assert_eq!(lookup(b"GeT").map(|c| c.name), Some("get"));
        assert!(lookup(b"nope").is_none());
        assert!(lookup(&[b'a'; 100]).is_none());
        assert!(lookup(b"get\0").is_none());
        assert!(lookup(b"ge").is_none());
    }

    #[test]
    fn a_hint_is_used_only_when_it_names_the_command() {
        let r = registry();
        let get = r.id(b"get").unwrap();
        let set = r.id(b"set").unwrap();
        assert_eq!(r.id_hinted(b"GET", Some(get)), Some(get));
        assert_eq!(r.id_hinted(b"set", Some(get)), Some(set));
        assert_eq!(r.id_hinted(b"nope", Some(get)), None);
        // CONFIG GET's subcommand row is named "get" too: never a top-level answer.
        let config = r.id(b"config").unwrap();
        let config_get = r.sub_id(config, b"get").unwrap();
        assert_eq!(r.id_hinted(b"get", Some(config_get)), Some(get));
        assert_eq!(r.id_hinted(b"get", Some(usize::MAX)), Some(get));
    }

    #[test]
    fn no_multi_is_flagged_as_in_redis() {
        // Every command and subcommand Redis 7.0.15's COMMAND flags
        // no_multi; the dispatcher refuses these inside MULTI.
        const REDIS: &[&str] = &["psync", "save", "shutdown", "sync"];
        for e in &registry().entries {
            let want = REDIS.contains(&e.fullname.as_str());
            assert_eq!(e.cmd.has(flag::NO_MULTI), want, "{}", e.fullname);
        }
    }

    #[test]
    fn every_command_is_found_in_any_case() {
        let r = registry();
        for (i, c) in all().enumerate() {
            assert_eq!(r.id(c.name.as_bytes()), Some(i));
            assert_eq!(r.id(c.name.to_ascii_uppercase().as_bytes()), Some(i));
        }
    }
}
