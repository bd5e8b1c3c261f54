//! Access control: users, their rules, and the checks a command passes
//! before it runs (Redis 7.0's `acl.c`).
//!
//! A [`User`] has flags (`on`/`off`, `nopass`, payload sanitizing), SHA-256
//! password hashes and one or more [`Selector`]s: the root one (the rules
//! given outside parentheses) and those added with `(...)`. A selector
//! allows commands (a bitmap over the command registry's ids, plus one
//! reserved bit that only `+@all` sets: "future commands"), key patterns
//! with read/write permissions and channel patterns. A command is allowed
//! when any selector allows it.
//!
//! The users live in [`Acl`], by slot: a client names its user by slot
//! (slot 0 is always `default`). A deleted user's clients are closed, so a
//! slot a client names is always its user's. Categories come from the
//! command table (`Command::acl_categories`), never from a second list.
//!
//! Invariant for the hot path: a client whose `acl_free` flag is set (it
//! needs no authentication and its user may run every command on every key
//! and channel) skips every check here; the flag is recomputed for all
//! clients whenever a user, `requirepass` or a client's authentication
//! changes (`Shared::acl_refresh`).

pub mod file;

use crate::cmd::table::{Command, Registry, flag, registry};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, VecDeque};
use std::sync::OnceLock;

/// Redis's categories, in its order (`ACL CAT`, and the order in which
/// rules describing a user try them).
pub const CATEGORIES: [&str; 21] = [
    "keyspace",
    "read",
    "write",
    "set",
    "sortedset",
    "list",
    "hash",
    "string",
    "bitmap",
    "hyperloglog",
    "geo",
    "stream",
    "pubsub",
    "admin",
    "fast",
    "slow",
    "blocking",
    "dangerous",
    "connection",
    "transaction",
    "scripting",
];

/// The category bit of a name (`@` left out), case-insensitively.
fn category(name: &[u8]) -> Option<u32> {
    CATEGORIES.iter().position(|c| c.as_bytes().eq_ignore_ascii_case(name)).map(|i| 1 << i)
}

/// The category bits of every registry entry, made once from the table.
fn category_masks() -> &'static [u32] {
    static MASKS: OnceLock<Vec<u32>> = OnceLock::new();
    MASKS.get_or_init(|| {
        registry()
            .entries
            .iter()
            .map(|e| e.cmd.acl_categories().iter().filter_map(|c| category(c.trim_start_matches('@').as_bytes())).sum())
            .collect()
    })
}

/// Whether entry `id` of the registry is in the categories `mask`.
pub fn in_category(id: usize, mask: u32) -> bool {
    category_masks()[id] & mask != 0
}

/// Ids of the top-level commands, then (for each) its subcommands: Redis
/// walks its command table the same way.
fn tops(reg: &Registry) -> impl Iterator<Item = usize> + '_ {
    0..reg.top()
}

/// Read and write permissions of a key pattern (`%R~`, `%W~`, `~` both).
pub const READ: u8 = 1;
pub const WRITE: u8 = 2;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPattern {
    pub flags: u8,
    pub pattern: Vec<u8>,
}

impl KeyPattern {
    /// `~pat`, `%R~pat` or `%W~pat`.
    fn describe(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(match self.flags {
            READ => b"%R~",
            WRITE => b"%W~",
            _ => b"~",
        });
        out.extend_from_slice(&self.pattern);
    }
}

/// Why a rule was refused; each renders Redis's text
/// (`ACLSetUserStringError`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleError {
    /// EINVAL
    Syntax,
    /// ENOENT
    Unknown,
    /// EEXIST
    AfterAllKeys,
    /// EISDIR
    AfterAllChannels,
    /// ENODEV
    NoSuchPassword,
    /// EBADMSG
    BadHash,
    /// ECHILD
    SubcommandFirstArg,
}

impl RuleError {
    pub fn text(self) -> &'static str {
        match self {
            RuleError::Syntax => "Syntax error",
            RuleError::Unknown => "Unknown command or category name in ACL",
            RuleError::AfterAllKeys => {
                "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns"
            }
            RuleError::AfterAllChannels => {
                "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels"
            }
            RuleError::NoSuchPassword => "The password you are trying to remove from the user does not exist",
            RuleError::BadHash => {
                "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters"
            }
            RuleError::SubcommandFirstArg => "Allowing first-arg of a subcommand is not supported",
        }
    }
}

/// One selector: what commands, keys and channels it allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selector {
    pub root: bool,
    pub allkeys: bool,
    pub allchannels: bool,
    /// Set by `+@all` (and `allcommands`), cleared by any rule that takes a
    /// command away: while set, the bitmap is not consulted.
    pub allcommands: bool,
    /// One bit per registry id, plus the "future commands" bit.
    bits: Vec<u64>,
    /// Redis's `allowed_firstargs`: `+select|0` allows SELECT with that
    /// first argument only, for a command whose bit is off.
    firstargs: BTreeMap<usize, Vec<Vec<u8>>>,
    pub patterns: Vec<KeyPattern>,
    pub channels: Vec<Vec<u8>>,
}

/// The reserved bit, after every registry id.
fn future_bit() -> usize {
    registry().entries.len()
}

impl Selector {
    /// An empty selector; `allchannels` from `acl-pubsub-default`.
    pub fn new(root: bool, allchannels: bool) -> Selector {
        Selector {
            root,
            allkeys: false,
            allchannels,
            allcommands: false,
            bits: vec![0; future_bit() / 64 + 1],
            firstargs: BTreeMap::new(),
            patterns: Vec::new(),
            channels: Vec::new(),
        }
    }

    pub fn bit(&self, id: usize) -> bool {
        self.bits.get(id / 64).is_some_and(|w| w & (1 << (id % 64)) != 0)
    }

    fn set_bit(&mut self, id: usize, on: bool) {
        if let Some(w) = self.bits.get_mut(id / 64) {
            if on {
                *w |= 1 << (id % 64);
            } else {
                *w &= !(1 << (id % 64));
                self.allcommands = false;
            }
        }
    }

    /// Redis's `ACLChangeSelectorPerm`: the command, and all of a
    /// container's subcommands.
    fn change_perm(&mut self, id: usize, on: bool) {
        self.set_bit(id, on);
        self.firstargs.remove(&id);
        for sub in registry().subs(id) {
            self.set_bit(sub, on);
        }
    }

    /// Every command in the categories `mask`, as Redis walks them.
    fn change_category(&mut self, mask: u32, on: bool) {
        let reg = registry();
        for top in tops(reg) {
            if in_category(top, mask) {
                self.change_perm(top, on);
            }
            for sub in reg.subs(top) {
                if in_category(sub, mask) {
                    self.change_perm(sub, on);
                }
            }
        }
    }

    fn all(&mut self, on: bool) {
        let word = if on { u64::MAX } else { 0 };
        self.bits.iter_mut().for_each(|w| *w = word);
        self.allcommands = on;
        self.firstargs.clear();
    }

    /// Applies one selector rule (Redis's `ACLSetSelector`).
    pub fn apply(&mut self, op: &[u8]) -> Result<(), RuleError> {
        let is = |w: &str| op.eq_ignore_ascii_case(w.as_bytes());
        if is("allkeys") || is("~*") {
            self.allkeys = true;
            self.patterns.clear();
        } else if is("resetkeys") {
            self.allkeys = false;
            self.patterns.clear();
        } else if is("allchannels") || is("&*") {
            self.allchannels = true;
            self.channels.clear();
        } else if is("resetchannels") {
            self.allchannels = false;
            self.channels.clear();
        } else if is("allcommands") || is("+@all") {
            self.all(true);
        } else if is("nocommands") || is("-@all") {
            self.all(false);
        } else if op[0] == b'~' || op[0] == b'%' {
            if self.allkeys {
                return Err(RuleError::AfterAllKeys);
            }
            let mut flags = 0;
            let mut offset = 1;
            if op[0] == b'%' {
                while offset < op.len() {
                    match op[offset].to_ascii_uppercase() {
                        b'R' if flags & READ == 0 => flags |= READ,
                        b'W' if flags & WRITE == 0 => flags |= WRITE,
                        b'~' => {
                            offset += 1;
                            break;
                        }
                        _ => return Err(RuleError::Syntax),
                    }
                    offset += 1;
                }
                if flags == 0 {
                    return Err(RuleError::Syntax);
                }
            } else {
                flags = READ | WRITE;
            }
            let pattern = &op[offset.min(op.len())..];
            if has_spaces(pattern) {
                return Err(RuleError::Syntax);
            }
            match self.patterns.iter_mut().find(|p| p.pattern == pattern) {
                Some(p) => p.flags |= flags,
                None => self.patterns.push(KeyPattern { flags, pattern: pattern.to_vec() }),
            }
            self.allkeys = false;
        } else if op[0] == b'&' {
            if self.allchannels {
                return Err(RuleError::AfterAllChannels);
            }
            let pattern = &op[1..];
            if has_spaces(pattern) {
                return Err(RuleError::Syntax);
            }
            if !self.channels.iter().any(|c| c == pattern) {
                self.channels.push(pattern.to_vec());
            }
            self.allchannels = false;
        } else if op.len() >= 2 && (op[0] == b'+' || op[0] == b'-') && op[1] == b'@' {
            let mask = category(&op[2..]).ok_or(RuleError::Unknown)?;
            self.change_category(mask, op[0] == b'+');
        } else if op[0] == b'+' {
            let name = &op[1..];
            match name.iter().rposition(|&b| b == b'|') {
                None => self.change_perm(lookup(name).ok_or(RuleError::Unknown)?, true),
                Some(bar) => {
                    let (base, sub) = (&name[..bar], &name[bar + 1..]);
                    let reg = registry();
                    let id = lookup(base).ok_or(RuleError::Unknown)?;
                    if id >= reg.top() {
                        return Err(RuleError::SubcommandFirstArg);
                    }
                    if sub.is_empty() {
                        return Err(RuleError::Syntax);
                    }
                    if !reg.entries[id].cmd.subcommands.is_empty() {
                        self.change_perm(lookup(name).ok_or(RuleError::Unknown)?, true);
                    } else {
                        log::warn!(
                            "Deprecation warning: Allowing a first arg of an otherwise blocked command is a misuse of ACL and may get disabled in the future (offender: +{})",
                            String::from_utf8_lossy(name)
                        );
                        let list = self.firstargs.entry(id).or_default();
                        if !list.iter().any(|a| a.eq_ignore_ascii_case(sub)) {
                            list.push(sub.to_vec());
                        }
                    }
                }
            }
        } else if op[0] == b'-' {
            self.change_perm(lookup(&op[1..]).ok_or(RuleError::Unknown)?, false);
        } else {
            return Err(RuleError::Syntax);
        }
        Ok(())
    }

    /// `(rules ...)`: a new selector from the rules inside the parentheses
    /// (split as Redis splits arguments, quotes included).
    fn from_opset(op: &[u8], allchannels: bool) -> Result<Selector, RuleError> {
        let mut s = Selector::new(false, allchannels);
        let mut data = Vec::new();
        let mut spans = Vec::new();
        crate::resp::parse::split_args(&op[1..op.len() - 1], &mut data, &mut spans).map_err(|_| RuleError::Syntax)?;
        for &(a, b) in &spans {
            if a < b {
                s.apply(&data[a..b])?;
            } else {
                return Err(RuleError::Syntax);
            }
        }
        Ok(s)
    }

    /// How many commands of category `mask` this bitmap has on and off.
    fn count_category(&self, mask: u32) -> (usize, usize) {
        let (mut on, mut off) = (0, 0);
        for id in 0..registry().entries.len() {
            if in_category(id, mask) {
                if self.bit(id) {
                    on += 1;
                } else {
                    off += 1;
                }
            }
        }
        (on, off)
    }

    /// The command rules, as Redis's `ACLDescribeSelectorCommandRules`
    /// writes them: `+@all` or `-@all`, then the categories that fit best,
    /// then single commands (Redis lists those in its hash table's order,
    /// which changes from one start to the next; here, the table's order).
    pub fn describe_commands(&self) -> Vec<u8> {
        let reg = registry();
        let mut rules = Vec::new();
        let additive = !self.bit(future_bit());
        let mut fake = Selector::new(false, false);
        fake.all(!additive);
        rules.extend_from_slice(if additive { b"-@all " } else { b"+@all " });
        let mut temp = Selector::new(false, false);
        temp.bits = self.bits.clone();
        let mut applied = [false; CATEGORIES.len()];
        loop {
            let mut best = None;
            let (mut mindiff, mut maxsame) = (usize::MAX, 0);
            for (j, _) in CATEGORIES.iter().enumerate() {
                if applied[j] {
                    continue;
                }
                let (on, off) = temp.count_category(1 << j);
                let (diff, same) = if additive { (off, on) } else { (on, off) };
                if same > diff && (diff < mindiff || (diff == mindiff && same > maxsame)) {
                    best = Some(j);
                    mindiff = diff;
                    maxsame = same;
                }
            }
            let Some(j) = best else { break };
            fake.change_category(1 << j, additive);
            temp.change_category(1 << j, !additive);
            rules.extend_from_slice(if additive { b"+@" } else { b"-@" });
            rules.extend_from_slice(CATEGORIES[j].as_bytes());
            rules.push(b' ');
            applied[j] = true;
        }
        for top in tops(reg) {
            self.describe_single(top, &mut fake, &mut rules);
            for sub in reg.subs(top) {
                self.describe_single(sub, &mut fake, &mut rules);
            }
        }
        rules.pop();
        debug_assert_eq!(fake.bits, self.bits, "the rules describe the bitmap: {}", String::from_utf8_lossy(&rules));
        rules
    }

    fn describe_single(&self, id: usize, fake: &mut Selector, rules: &mut Vec<u8>) {
        let reg = registry();
        let (user, mine) = (self.bit(id), fake.bit(id));
        if user != mine {
            rules.push(if user { b'+' } else { b'-' });
            rules.extend_from_slice(reg.entries[id].fullname.as_bytes());
            rules.push(b' ');
            fake.change_perm(id, user);
        }
        if !user && let Some(args) = self.firstargs.get(&id) {
            for a in args {
                rules.push(b'+');
                rules.extend_from_slice(reg.entries[id].fullname.as_bytes());
                rules.push(b'|');
                // The bytes as given, as Redis writes its sds (a lossy
                // text would merge distinct first args).
                rules.extend_from_slice(a);
                rules.push(b' ');
            }
        }
    }

    /// `~pat ... resetchannels &chan ... <command rules>` (ACL LIST's form).
    fn describe(&self) -> Vec<u8> {
        let mut out = Vec::new();
        if self.allkeys {
            out.extend_from_slice(b"~* ");
        } else {
            for p in &self.patterns {
                p.describe(&mut out);
                out.push(b' ');
            }
        }
        if self.allchannels {
            out.extend_from_slice(b"&* ");
        } else {
            out.extend_from_slice(b"resetchannels ");
            for c in &self.channels {
                out.push(b'&');
                out.extend_from_slice(c);
                out.push(b' ');
            }
        }
        out.extend_from_slice(&self.describe_commands());
        out
    }

    /// Every first argument allowed by a `+cmd|arg` rule.
    pub fn first_args(&self) -> impl Iterator<Item = &[u8]> {
        self.firstargs.values().flatten().map(Vec::as_slice)
    }

    /// ACL GETUSER's `keys`: the patterns, space separated.
    pub fn describe_keys(&self) -> Vec<u8> {
        if self.allkeys {
            return b"~*".to_vec();
        }
        let mut out = Vec::new();
        for (i, p) in self.patterns.iter().enumerate() {
            if i > 0 {
                out.push(b' ');
            }
            p.describe(&mut out);
        }
        out
    }

    /// ACL GETUSER's `channels`.
    pub fn describe_channels(&self) -> Vec<u8> {
        if self.allchannels {
            return b"&*".to_vec();
        }
        let mut out = Vec::new();
        for (i, c) in self.channels.iter().enumerate() {
            if i > 0 {
                out.push(b' ');
            }
            out.push(b'&');
            out.extend_from_slice(c);
        }
        out
    }

    /// Redis's `ACLSelectorCheckCmd` for the call `argv` of registry entry
    /// `id`: `Err((reason, argument index))` when refused.
    fn check(&self, id: usize, argv: &[&[u8]], keys: &mut Option<Vec<(usize, u8)>>) -> Result<(), (Denied, usize)> {
        let reg = registry();
        let cmd = reg.entries[id].cmd;
        if !self.allcommands && !cmd.has(flag::NO_AUTH) && !self.bit(id) {
            let idx = if id >= reg.top() { 2 } else { 1 };
            let allowed = argv.len() >= 2
                && self
                    .firstargs
                    .get(&id)
                    .is_some_and(|list| argv.get(idx).is_some_and(|a| list.iter().any(|f| f.eq_ignore_ascii_case(a))));
            if !allowed {
                return Err((Denied::Command, 0));
            }
        }
        if !self.allkeys && cmd.has_keys() {
            let keys = keys.get_or_insert_with(|| key_refs(cmd, argv));
            for &(pos, need) in keys.iter() {
                let ok = self
                    .patterns
                    .iter()
                    .any(|p| p.flags & need == need && crate::glob::matches(&p.pattern, argv[pos], false));
                if !ok {
                    return Err((Denied::Key, pos));
                }
            }
        }
        if !self.allchannels {
            let (from, literal) = match cmd.name {
                "publish" | "spublish" => (Some(1..2), false),
                "subscribe" | "ssubscribe" => (Some(1..argv.len()), false),
                "psubscribe" => (Some(1..argv.len()), true),
                _ => (None, false),
            };
            if let Some(range) = from {
                for j in range {
                    if !channel_allowed(&self.channels, argv[j], literal) {
                        return Err((Denied::Channel, j));
                    }
                }
            }
        }
        Ok(())
    }
}

/// Whether `channel` matches one of `patterns` (or equals one, `literal`:
/// a PSUBSCRIBE pattern must be one of the user's patterns itself).
pub fn channel_allowed(patterns: &[Vec<u8>], channel: &[u8], literal: bool) -> bool {
    patterns.iter().any(|p| if literal { p == channel } else { crate::glob::matches(p, channel, false) })
}

/// The keys of a call and the permissions each needs: read for a key the
/// command accesses, write for one it inserts, deletes or updates.
fn key_refs(cmd: &Command, argv: &[&[u8]]) -> Vec<(usize, u8)> {
    cmd.key_positions(argv.len(), |i| argv[i])
        .into_iter()
        .map(|pos| {
            let mut need = 0;
            for w in cmd.call_key_flags(argv, pos).split(' ') {
                match w {
                    "access" => need |= READ,
                    "insert" | "delete" | "update" => need |= WRITE,
                    _ => {}
                }
            }
            (pos, need)
        })
        .collect()
}

/// Redis's `ACLLookupCommand`: `name` or `container|sub`, case-insensitively.
pub fn lookup(name: &[u8]) -> Option<usize> {
    let reg = registry();
    let mut parts = name.split(|&b| b == b'|');
    let base = reg.id(parts.next()?)?;
    match (parts.next(), parts.next()) {
        (None, _) => Some(base),
        (Some(sub), None) => reg.sub_id(base, sub),
        _ => None,
    }
}

/// Redis's `ACLStringHasSpaces`: whitespace or NUL.
pub fn has_spaces(s: &[u8]) -> bool {
    s.iter().any(|&b| b == 0 || b.is_ascii_whitespace() || b == 0x0b)
}

/// SHA-256 of a password, as 64 lowercase hex digits.
pub fn hash_password(pass: &[u8]) -> String {
    let digest = Sha256::digest(pass);
    let mut hex = String::with_capacity(64);
    for b in digest.iter() {
        hex.push(char::from_digit((b >> 4) as u32, 16).unwrap_or('0'));
        hex.push(char::from_digit((b & 15) as u32, 16).unwrap_or('0'));
    }
    hex
}

fn valid_hash(h: &[u8]) -> bool {
    h.len() == 64 && h.iter().all(|&c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
}

/// Compares two equal-length hex hashes without an early exit.
fn same_hash(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

/// Why a command was refused, in Redis's order of relevance (a later
/// reason wins when selectors disagree).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Denied {
    Command = 1,
    Key = 2,
    Auth = 3,
    Channel = 4,
}

impl Denied {
    /// ACL LOG's `reason`.
    pub fn name(self) -> &'static str {
        match self {
            Denied::Command => "command",
            Denied::Key => "key",
            Denied::Auth => "auth",
            Denied::Channel => "channel",
        }
    }
}

/// An ACL user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub name: Vec<u8>,
    pub enabled: bool,
    pub nopass: bool,
    /// `sanitize-payload` (`Some(true)`), `skip-sanitize-payload`
    /// (`Some(false)`) or neither.
    pub sanitize: Option<bool>,
    /// SHA-256 hex digests.
    pub passwords: Vec<String>,
    /// The root selector first.
    pub selectors: Vec<Selector>,
}

impl User {
    /// A new user: off, no password, no permissions (Redis's
    /// `ACLCreateUser`).
    pub fn new(name: &[u8], allchannels: bool) -> User {
        User {
            name: name.to_vec(),
            enabled: false,
            nopass: false,
            sanitize: None,
            passwords: Vec::new(),
            selectors: vec![Selector::new(true, allchannels)],
        }
    }

    /// The `default` user as Redis creates it.
    pub fn default_user() -> User {
        let mut u = User::new(b"default", false);
        for op in ["+@all", "~*", "&*", "on", "nopass"] {
            let _ = u.apply(op.as_bytes(), false);
        }
        u
    }

    pub fn root(&self) -> &Selector {
        &self.selectors[0]
    }

    /// Applies one rule (Redis's `ACLSetUser`); `allchannels` is
    /// `acl-pubsub-default`, for the selectors it creates.
    pub fn apply(&mut self, op: &[u8], allchannels: bool) -> Result<(), RuleError> {
        if op.is_empty() {
            return Ok(());
        }
        let is = |w: &str| op.eq_ignore_ascii_case(w.as_bytes());
        if is("on") {
            self.enabled = true;
        } else if is("off") {
            self.enabled = false;
        } else if is("skip-sanitize-payload") {
            self.sanitize = Some(false);
        } else if is("sanitize-payload") {
            self.sanitize = Some(true);
        } else if is("nopass") {
            self.nopass = true;
            self.passwords.clear();
        } else if is("resetpass") {
            self.nopass = false;
            self.passwords.clear();
        } else if op[0] == b'>' || op[0] == b'#' {
            let hash = if op[0] == b'>' {
                hash_password(&op[1..])
            } else if valid_hash(&op[1..]) {
                String::from_utf8_lossy(&op[1..]).into_owned()
            } else {
                return Err(RuleError::BadHash);
            };
            if !self.passwords.contains(&hash) {
                self.passwords.push(hash);
            }
            self.nopass = false;
        } else if op[0] == b'<' || op[0] == b'!' {
            let hash = if op[0] == b'<' {
                hash_password(&op[1..])
            } else if valid_hash(&op[1..]) {
                String::from_utf8_lossy(&op[1..]).into_owned()
            } else {
                return Err(RuleError::BadHash);
            };
            let at = self.passwords.iter().position(|p| *p == hash).ok_or(RuleError::NoSuchPassword)?;
            self.passwords.remove(at);
        } else if op[0] == b'(' && op[op.len() - 1] == b')' {
            let s = Selector::from_opset(op, allchannels)?;
            self.selectors.push(s);
        } else if is("clearselectors") {
            self.selectors.truncate(1);
        } else if is("reset") {
            for op in ["resetpass", "resetkeys", "resetchannels"] {
                self.apply(op.as_bytes(), allchannels)?;
            }
            if allchannels {
                self.apply(b"allchannels", allchannels)?;
            }
            for op in ["off", "sanitize-payload", "clearselectors", "-@all"] {
                self.apply(op.as_bytes(), allchannels)?;
            }
        } else {
            self.selectors[0].apply(op)?;
        }
        Ok(())
    }

    /// Whether `pass` authenticates this user (Redis's
    /// `ACLCheckUserCredentials`, the user being known).
    pub fn accepts(&self, pass: &[u8]) -> bool {
        if !self.enabled {
            return false;
        }
        if self.nopass {
            return true;
        }
        let hash = hash_password(pass);
        self.passwords.iter().fold(false, |ok, p| ok | same_hash(p, &hash))
    }

    /// Whether every check passes for this user whatever the command (a
    /// root selector with every command, key and channel).
    pub fn unrestricted(&self) -> bool {
        let r = self.root();
        r.allcommands && r.allkeys && r.allchannels
    }

    /// The rules after the user's name in ACL LIST and the ACL file.
    pub fn describe(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let flags = [
            (self.enabled, "on"),
            (!self.enabled, "off"),
            (self.nopass, "nopass"),
            (self.sanitize == Some(false), "skip-sanitize-payload"),
            (self.sanitize == Some(true), "sanitize-payload"),
        ];
        for (on, name) in flags {
            if on {
                out.extend_from_slice(name.as_bytes());
                out.push(b' ');
            }
        }
        for p in &self.passwords {
            out.push(b'#');
            out.extend_from_slice(p.as_bytes());
            out.push(b' ');
        }
        for s in &self.selectors {
            if s.root {
                out.extend_from_slice(&s.describe());
            } else {
                out.extend_from_slice(b" (");
                out.extend_from_slice(&s.describe());
                out.push(b')');
            }
        }
        out
    }

    /// Redis's `ACLCheckAllUserCommandPerm`: whether the call `argv` of
    /// registry entry `id` is allowed; else the most relevant reason and
    /// the argument it is about.
    pub fn check(&self, id: usize, argv: &[&[u8]]) -> Result<(), (Denied, usize)> {
        let mut relevant = (Denied::Command, 0);
        let mut keys = None;
        for s in &self.selectors {
            match s.check(id, argv, &mut keys) {
                Ok(()) => return Ok(()),
                Err((why, idx)) => {
                    if why > relevant.0 || (why == relevant.0 && idx > relevant.1) {
                        relevant = (why, idx);
                    }
                }
            }
        }
        Err(relevant)
    }

    /// Redis's `ACLUserCheckCmdWithUnrestrictedKeyAccess`: whether some
    /// selector both allows the call `argv` of registry entry `id` and
    /// reaches every key with permissions `need` (`allkeys`, or the
    /// pattern `*` with those permissions): what SORT's BY and GET, which
    /// read keys made from a pattern, require.
    pub fn unrestricted_key_access(&self, id: usize, argv: &[&[u8]], need: u8) -> bool {
        let mut keys = None;
        self.selectors.iter().any(|s| {
            s.check(id, argv, &mut keys).is_ok()
                && (s.allkeys || s.patterns.iter().any(|p| p.flags & need == need && p.pattern == b"*"))
        })
    }

    /// Whether some selector lets this user use `channel` (`literal`: as a
    /// pattern, PSUBSCRIBE's way).
    pub fn channel_ok(&self, channel: &[u8], literal: bool) -> bool {
        self.selectors.iter().any(|s| s.allchannels || channel_allowed(&s.channels, channel, literal))
    }
}

/// Selector rules given across several arguments, `(` in one and `)` in a
/// later one, joined with spaces (Redis's `ACLMergeSelectorArguments`).
/// `Err(i)`: the selector opened at argument `i` is never closed.
pub fn merge_selectors(args: &[&[u8]]) -> Result<Vec<Vec<u8>>, usize> {
    let mut out = Vec::new();
    let mut open: Option<(usize, Vec<u8>)> = None;
    for (j, &op) in args.iter().enumerate() {
        if let Some((_, sel)) = open.as_mut() {
            sel.push(b' ');
            sel.extend_from_slice(op);
            if op.last() == Some(&b')') {
                out.push(open.take().map(|(_, s)| s).unwrap_or_default());
            }
            continue;
        }
        if op.first() == Some(&b'(') && op.last() != Some(&b')') {
            open = Some((j, op.to_vec()));
            continue;
        }
        out.push(op.to_vec());
    }
    match open {
        Some((j, _)) => Err(j),
        None => Ok(out),
    }
}

/// One ACL LOG entry.
#[derive(Debug, Clone)]
pub struct LogEntry {
    pub count: u64,
    pub reason: Denied,
    /// `toplevel` or `multi`.
    pub context: &'static str,
    pub object: Vec<u8>,
    pub username: Vec<u8>,
    /// Unix ms of the last update.
    pub ctime: u64,
    pub client_info: String,
}

/// The users and the ACL log.
#[derive(Debug)]
pub struct Acl {
    /// Users by slot; slot 0 is `default`.
    slots: Vec<Option<User>>,
    by_name: BTreeMap<Vec<u8>, usize>,
    /// Newest first.
    pub log: VecDeque<LogEntry>,
}

impl Default for Acl {
    fn default() -> Acl {
        let mut by_name = BTreeMap::new();
        by_name.insert(b"default".to_vec(), 0);
        Acl { slots: vec![Some(User::default_user())], by_name, log: VecDeque::new() }
    }
}

/// Entries this close in time (ms) and alike are counted as one.
const LOG_GROUPING_MS: u64 = 60_000;

impl Acl {
    pub fn user(&self, slot: usize) -> &User {
        // Slot 0 always exists; a client's slot names a live user.
        self.slots.get(slot).and_then(|u| u.as_ref()).unwrap_or_else(|| self.default_user())
    }

    pub fn default_user(&self) -> &User {
        self.slots[0].as_ref().expect("the default user exists")
    }

    pub fn default_mut(&mut self) -> &mut User {
        self.slots[0].as_mut().expect("the default user exists")
    }

    pub fn slot_of(&self, name: &[u8]) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    pub fn get(&self, name: &[u8]) -> Option<&User> {
        self.slot_of(name).map(|s| self.user(s))
    }

    /// Users in name order (ACL LIST, ACL USERS, ACL SAVE).
    pub fn users(&self) -> impl Iterator<Item = &User> {
        self.by_name.values().map(|&s| self.user(s))
    }

    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }

    /// Puts `user` in place of the user of its name, or adds it; returns
    /// its slot.
    pub fn put(&mut self, user: User) -> usize {
        if let Some(&slot) = self.by_name.get(&user.name) {
            self.slots[slot] = Some(user);
            return slot;
        }
        let slot = match self.slots.iter().position(|s| s.is_none()) {
            Some(free) => free,
            None => {
                self.slots.push(None);
                self.slots.len() - 1
            }
        };
        self.by_name.insert(user.name.clone(), slot);
        self.slots[slot] = Some(user);
        slot
    }

    /// Removes a user (never `default`); returns its slot.
    pub fn remove(&mut self, name: &[u8]) -> Option<usize> {
        if name == b"default" {
            return None;
        }
        let slot = self.by_name.remove(name)?;
        self.slots[slot] = None;
        Some(slot)
    }

    /// Replaces every user (ACL LOAD); `default` keeps slot 0.
    pub fn replace_all(&mut self, users: Vec<User>) {
        let default = self.slots[0].take();
        self.slots = vec![default];
        self.by_name.clear();
        self.by_name.insert(b"default".to_vec(), 0);
        let mut have_default = false;
        for u in users {
            if u.name == b"default" {
                have_default = true;
                self.slots[0] = Some(u);
            } else {
                self.put(u);
            }
        }
        if !have_default {
            self.slots[0] = Some(User::default_user());
        }
    }

    /// Whether a client that has not authenticated must (Redis's
    /// `authRequired` without the client's flag).
    pub fn auth_required(&self) -> bool {
        let d = self.default_user();
        !d.nopass || !d.enabled
    }

    /// Adds an entry to the ACL log, or counts it on a recent alike one
    /// (Redis's `addACLLogEntry`), keeping at most `max_len` entries.
    pub fn log(&mut self, mut e: LogEntry, max_len: usize) {
        let alike = |a: &LogEntry| {
            a.reason == e.reason
                && a.context == e.context
                && a.ctime.abs_diff(e.ctime) <= LOG_GROUPING_MS
                && a.object == e.object
                && a.username == e.username
        };
        if let Some(i) = self.log.iter().take(10).position(alike) {
            if let Some(mut old) = self.log.remove(i) {
                old.count += 1;
                old.ctime = e.ctime;
                old.client_info = std::mem::take(&mut e.client_info);
                self.log.push_front(old);
            }
            return;
        }
        self.log.push_front(e);
        self.log.truncate(max_len);
    }
}

/// Whether the rules of `new` keep every channel `old` allowed (then its
/// subscribers need no check; Redis's first two tests in
/// `ACLKillPubsubClientsIfNeeded`). `Err(patterns)`: the channel patterns
/// of `new`, to check each subscriber against.
pub fn channels_kept(new: &User, old: &User) -> Result<(), Vec<Vec<u8>>> {
    if new.selectors.iter().any(|s| s.allchannels) {
        return Ok(());
    }
    let upcoming: Vec<Vec<u8>> = new.selectors.iter().flat_map(|s| s.channels.iter().cloned()).collect();
    // An old selector with every channel is lost now that no new one has
    // them (Redis's ACLKillPubsubClientsIfNeeded), whatever its list.
    let kept = old.selectors.iter().all(|s| !s.allchannels && s.channels.iter().all(|c| upcoming.contains(c)));
    if kept { Ok(()) } else { Err(upcoming) }
}

/// The refusal texts of a command (`processCommand`) and of a queued
/// command at EXEC.
pub fn denied_text(why: Denied, fullname: &str, at_exec: bool) -> String {
    if at_exec {
        let reason = match why {
            Denied::Command => "no permission to execute the command or subcommand",
            Denied::Key => "no permission to touch the specified keys",
            _ => "no permission to access one of the channels used as arguments",
        };
        return format!(
            "NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: {reason}"
        );
    }
    match why {
        Denied::Command => format!("NOPERM this user has no permissions to run the '{fullname}' command"),
        Denied::Key => "NOPERM this user has no permissions to access one of the keys used as arguments".into(),
        _ => "NOPERM this user has no permissions to access one of the channels used as arguments".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(rules: &[&str]) -> User {
        let mut u = User::new(b"u", false);
        for r in rules {
            u.apply(r.as_bytes(), false).unwrap();
        }
        u
    }

    #[test]
    fn passwords_are_sha256() {
        assert_eq!(hash_password(b"pw"), "30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4");
        let u = user(&["on", ">pw"]);
        assert!(u.accepts(b"pw") && !u.accepts(b"px"));
    }

    #[test]
    fn describe_as_redis() {
        // Recorded from redis-server 7.0.15.
        let u = user(&["-@all", "+get", "on", ">pw", "~k*", "%R~r*", "&ch*"]);
        assert_eq!(
            String::from_utf8_lossy(&u.describe()),
            "on #30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4 ~k* %R~r* resetchannels &ch* -@all +get"
        );
        assert_eq!(
            user(&["+@all", "-@dangerous", "-flushall", "+debug"]).root().describe_commands(),
            b"+@all -@dangerous +debug"
        );
        // Redis lists single commands in its hash table's order, which
        // changes from one start to the next; ferrokv in the table's.
        assert_eq!(
            user(&["-@all", "+config|get", "+select|0"]).root().describe_commands(),
            b"-@all +select|0 +config|get"
        );
        assert_eq!(User::default_user().describe(), b"on nopass ~* &* +@all");
    }

    #[test]
    fn first_args_are_described_as_their_bytes() {
        // Two first args that differ only in bytes that are not UTF-8 stay
        // two (found by the acl fuzz target: a lossy text merged them).
        let mut u = User::new(b"u", false);
        for r in [&b"-@all"[..], b"+select|a\xc9", b"+select|a\xf6"] {
            u.apply(r, false).unwrap();
        }
        assert_eq!(u.root().describe_commands(), b"-@all +select|a\xc9 +select|a\xf6");
    }

    #[test]
    fn rule_errors() {
        let mut u = User::new(b"u", false);
        assert_eq!(u.apply(b"foo", false), Err(RuleError::Syntax));
        assert_eq!(u.apply(b"+nope", false), Err(RuleError::Unknown));
        assert_eq!(u.apply(b"+config|get|x", false), Err(RuleError::SubcommandFirstArg));
        assert_eq!(u.apply(b"+select|", false), Err(RuleError::Syntax));
        assert_eq!(u.apply(b"-select|0", false), Err(RuleError::Unknown));
        assert_eq!(u.apply(b"%~k", false), Err(RuleError::Syntax));
        assert_eq!(u.apply(b"%RR~k", false), Err(RuleError::Syntax));
        assert_eq!(u.apply(b"(on)", false), Err(RuleError::Syntax));
        assert_eq!(u.apply(b"<x", false), Err(RuleError::NoSuchPassword));
        assert_eq!(u.apply(b"#abc", false), Err(RuleError::BadHash));
        u.apply(b"~*", false).unwrap();
        assert_eq!(u.apply(b"~x", false), Err(RuleError::AfterAllKeys));
        u.apply(b"&*", false).unwrap();
        assert_eq!(u.apply(b"&x", false), Err(RuleError::AfterAllChannels));
    }

    #[test]
    fn checks_pick_the_most_relevant_refusal() {
        let get = registry().id(b"get").unwrap();
        let u = user(&["+get", "~a", "(+set ~b)"]);
        assert_eq!(u.check(get, &[b"get", b"a"]), Ok(()));
        assert_eq!(u.check(get, &[b"get", b"b"]), Err((Denied::Key, 1)));
        let set = registry().id(b"set").unwrap();
        assert_eq!(u.check(set, &[b"set", b"b", b"v"]), Ok(()));
        assert_eq!(u.check(set, &[b"set", b"a", b"v"]), Err((Denied::Key, 1)));
        let ro = user(&["+@all", "%R~r*"]);
        assert_eq!(ro.check(get, &[b"get", b"r1"]), Ok(()));
        assert_eq!(ro.check(set, &[b"set", b"r1", b"v"]), Err((Denied::Key, 1)));
    }

    #[test]
    fn selectors_spread_over_arguments_are_joined() {
        let args: Vec<&[u8]> = vec![b"on", b"(+get", b"~x)", b"(+set)"];
        assert_eq!(merge_selectors(&args).unwrap(), vec![b"on".to_vec(), b"(+get ~x)".to_vec(), b"(+set)".to_vec()]);
        assert_eq!(merge_selectors(&[b"+get", b"(+set", b"~x"]), Err(1));
    }

    /// Rules drawn from every kind (and arbitrary bytes); the generated
    /// ACL LIST line, read back as rules, gives the same user: what ACL
    /// SAVE writes is what ACL LOAD reads.
    mod roundtrip {
        use super::*;
        use proptest::prelude::*;

        fn rule() -> impl Strategy<Value = Vec<u8>> {
            const WORDS: &[&str] = &[
                "on",
                "off",
                "nopass",
                "resetpass",
                ">pw",
                ">other",
                "<pw",
                "~k*",
                "%R~r*",
                "%W~w*",
                "allkeys",
                "resetkeys",
                "&ch*",
                "allchannels",
                "resetchannels",
                "+@all",
                "-@all",
                "+@read",
                "-@write",
                "+@dangerous",
                "-@slow",
                "+@connection",
                "+get",
                "-get",
                "+client",
                "-client|kill",
                "+config|get",
                "+select|0",
                "+select|1",
                "-select",
                "(+set ~s*)",
                "(-@all +@hash %R~h)",
                "clearselectors",
                "reset",
                "sanitize-payload",
                "skip-sanitize-payload",
                "allcommands",
                "nocommands",
            ];
            prop_oneof![
                4 => proptest::sample::select(WORDS).prop_map(|w| w.as_bytes().to_vec()),
                1 => proptest::collection::vec(any::<u8>(), 0..8),
            ]
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(1000))]
            #[test]
            fn the_description_reads_back_as_the_same_user(rules in proptest::collection::vec(rule(), 0..12)) {
                let mut u = User::new(b"u", false);
                for r in &rules {
                    let _ = u.apply(r, false);
                }
                let line = u.describe();
                // Split as ACL LOAD splits a line: on spaces.
                let words: Vec<&[u8]> = line.split(|&b| b == b' ').filter(|w| !w.is_empty()).collect();
                let mut again = User::new(b"u", false);
                for op in merge_selectors(&words).unwrap() {
                    again.apply(&op, false).unwrap();
                }
                prop_assert_eq!(again.describe(), line);
                prop_assert_eq!(again.selectors.len(), u.selectors.len());
                for (a, b) in again.selectors.iter().zip(&u.selectors) {
                    prop_assert_eq!(&a.bits, &b.bits);
                    prop_assert_eq!(&a.patterns, &b.patterns);
                    prop_assert_eq!(&a.channels, &b.channels);
                    prop_assert_eq!((a.allkeys, a.allchannels), (b.allkeys, b.allchannels));
                }
            }
        }
    }
}
