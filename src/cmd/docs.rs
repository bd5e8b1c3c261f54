//! What `COMMAND DOCS` answers beyond the command table's rows (summary,
//! since and group are the rows'): Redis 7.0's complexity, doc flags,
//! deprecation, history and argument tree of every command, which
//! redis-cli turns into its `HELP` text and its typing hints.
//!
//! The text is `docs.txt`, written from redis-server 7.0's own
//! `COMMAND DOCS` by `scripts/gen_command_docs.py` (its header says the
//! format), read once on first use. A unit test checks that every row of
//! the table has its entry and names the entries without a row.

use hashbrown::HashMap;
use std::sync::OnceLock;

use crate::resp::Reply;

static TEXT: &str = include_str!("docs.txt");

/// One command's or subcommand's documentation; an empty list is a field
/// Redis leaves out.
#[derive(Debug, Default)]
pub struct Docs {
    pub complexity: Option<&'static str>,
    pub doc_flags: Vec<&'static str>,
    pub deprecated_since: Option<&'static str>,
    pub replaced_by: Option<&'static str>,
    pub history: Vec<(&'static str, &'static str)>,
    pub args: Vec<Arg>,
}

/// One argument (Redis's `redisCommandArg`).
#[derive(Debug)]
pub struct Arg {
    pub name: &'static str,
    /// `string`, `key`, `pure-token`, `oneof`, `block` …
    pub kind: &'static str,
    pub key_spec_index: Option<i64>,
    pub token: Option<&'static str>,
    pub summary: Option<&'static str>,
    pub since: Option<&'static str>,
    pub deprecated_since: Option<&'static str>,
    pub flags: Vec<&'static str>,
    /// A `oneof`'s or `block`'s arguments.
    pub args: Vec<Arg>,
}

/// The entry of `name` (Redis's full name: `client|list`, lower case).
pub fn lookup(name: &str) -> Option<&'static Docs> {
    all().get(name)
}

/// Every entry, by full name.
pub fn all() -> &'static HashMap<&'static str, Docs> {
    static ALL: OnceLock<HashMap<&'static str, Docs>> = OnceLock::new();
    ALL.get_or_init(|| parse(TEXT).expect("src/cmd/docs.txt is well formed (a unit test reads it)"))
}

/// Reads the text of `docs.txt`.
fn parse(text: &'static str) -> Result<HashMap<&'static str, Docs>, String> {
    let mut all = HashMap::new();
    let mut current: Option<(&'static str, Docs)> = None;
    for (n, line) in text.lines().enumerate() {
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let bad = || format!("docs.txt line {}: {line}", n + 1);
        let (key, value) = line.split_once(' ').ok_or_else(bad)?;
        if key == "cmd" {
            if let Some((name, docs)) = current.take() {
                all.insert(name, docs);
            }
            current = Some((value, Docs::default()));
            continue;
        }
        let (_, docs) = current.as_mut().ok_or_else(bad)?;
        match key {
            "complexity" => docs.complexity = Some(value),
            "doc_flags" => docs.doc_flags = value.split(' ').collect(),
            "deprecated_since" => docs.deprecated_since = Some(value),
            "replaced_by" => docs.replaced_by = Some(value),
            "history" => docs.history.push(value.split_once('\t').ok_or_else(bad)?),
            "arg" => {
                let f: Vec<&'static str> = value.split('\t').collect();
                let [depth, name, kind, ksi, token, summary, since, deprecated, flags] = f[..] else {
                    return Err(bad());
                };
                let opt = |s: &'static str| match s {
                    "" => None,
                    "\"\"" => Some(""),
                    s => Some(s),
                };
                let arg = Arg {
                    name,
                    kind,
                    key_spec_index: if ksi.is_empty() { None } else { Some(ksi.parse().map_err(|_| bad())?) },
                    token: opt(token),
                    summary: opt(summary),
                    since: opt(since),
                    deprecated_since: opt(deprecated),
                    flags: flags.split(' ').filter(|s| !s.is_empty()).collect(),
                    args: Vec::new(),
                };
                let depth: usize = depth.parse().map_err(|_| bad())?;
                let mut list = &mut docs.args;
                for _ in 0..depth {
                    list = &mut list.last_mut().ok_or_else(bad)?.args;
                }
                list.push(arg);
            }
            _ => return Err(bad()),
        }
    }
    if let Some((name, docs)) = current {
        all.insert(name, docs);
    }
    Ok(all)
}

impl Docs {
    /// How many fields [`Docs::write`] writes.
    pub fn fields(&self) -> usize {
        self.complexity.is_some() as usize
            + !self.doc_flags.is_empty() as usize
            + self.deprecated_since.is_some() as usize
            + self.replaced_by.is_some() as usize
            + !self.history.is_empty() as usize
            + !self.args.is_empty() as usize
    }

    /// The fields after `group`, as Redis's `addReplyCommandDocs` writes
    /// them (keys and values of the command's map).
    pub fn write(&self, out: &mut Reply) {
        string_field(out, "complexity", self.complexity);
        set_field(out, "doc_flags", &self.doc_flags);
        string_field(out, "deprecated_since", self.deprecated_since);
        string_field(out, "replaced_by", self.replaced_by);
        if !self.history.is_empty() {
            out.bulk(b"history");
            out.set(self.history.len());
            for (since, changes) in &self.history {
                out.array(2);
                out.bulk(since.as_bytes());
                out.bulk(changes.as_bytes());
            }
        }
        if !self.args.is_empty() {
            out.bulk(b"arguments");
            write_args(out, &self.args);
        }
    }
}

/// `key` and its string value, when there is one.
fn string_field(out: &mut Reply, key: &str, value: Option<&str>) {
    if let Some(v) = value {
        out.bulk(key.as_bytes());
        out.bulk(v.as_bytes());
    }
}

/// `key` and its flags as a set of simple strings, when there are any.
fn set_field(out: &mut Reply, key: &str, flags: &[&str]) {
    if !flags.is_empty() {
        out.bulk(key.as_bytes());
        out.set(flags.len());
        flags.iter().for_each(|f| out.simple(f));
    }
}

/// Redis's `addReplyCommandArgList`.
fn write_args(out: &mut Reply, args: &[Arg]) {
    out.array(args.len());
    for a in args {
        let nested = matches!(a.kind, "oneof" | "block");
        let strings =
            [("token", a.token), ("summary", a.summary), ("since", a.since), ("deprecated_since", a.deprecated_since)];
        let len = 2
            + a.key_spec_index.is_some() as usize
            + strings.iter().filter(|(_, v)| v.is_some()).count()
            + !a.flags.is_empty() as usize
            + nested as usize;
        out.map(len);
        out.bulk(b"name");
        out.bulk(a.name.as_bytes());
        out.bulk(b"type");
        out.bulk(a.kind.as_bytes());
        if let Some(i) = a.key_spec_index {
            out.bulk(b"key_spec_index");
            out.int(i);
        }
        for (key, value) in strings {
            string_field(out, key, value);
        }
        set_field(out, "flags", &a.flags);
        if nested {
            out.bulk(b"arguments");
            write_args(out, &a.args);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::table;

    /// Every row has its entry; the entries without a row are the
    /// commands ferrokv does not have (replication, SCRIPT DEBUG).
    #[test]
    fn every_row_has_its_docs() {
        let all = parse(TEXT).unwrap();
        let mut names = Vec::new();
        for c in table::all() {
            names.push(c.name.to_owned());
            names.extend(c.subcommands.iter().map(|s| format!("{}|{}", c.name, s.name)));
        }
        let missing: Vec<_> = names.iter().filter(|n| !all.contains_key(n.as_str())).collect();
        assert!(missing.is_empty(), "rows without docs: {missing:?}");
        let mut extra: Vec<_> = all.keys().filter(|k| !names.iter().any(|n| n == *k)).copied().collect();
        extra.sort_unstable();
        assert_eq!(extra, ["failover", "replicaof", "script|debug", "slaveof"]);
    }

    #[test]
    fn arguments_nest_and_empty_fields_read_as_redis_has_them() {
        let all = parse(TEXT).unwrap();
        let set = &all["set"];
        assert_eq!(set.complexity, Some("O(1)"));
        assert_eq!(set.args[0].name, "key");
        assert_eq!(set.args[0].key_spec_index, Some(0));
        let cond = set.args.iter().find(|a| a.name == "condition").unwrap();
        assert_eq!((cond.kind, cond.flags.as_slice()), ("oneof", ["optional"].as_slice()));
        assert_eq!(cond.args.iter().map(|a| a.token.unwrap()).collect::<Vec<_>>(), ["NX", "XX"]);
        // MIGRATE's key-or-empty-string: the empty token is there, empty.
        let migrate = &all["migrate"];
        let empty = migrate.args.iter().flat_map(|a| &a.args).find(|a| a.name == "empty_string").unwrap();
        assert_eq!(empty.token, Some(""));
        assert_eq!(all["slaveof"].doc_flags, ["deprecated"]);
        assert!(parse("arg 0\tx\tstring\t\t\t\t\t\t\n").is_err(), "an arg before any cmd");
        assert!(parse("cmd x\nbogus 1\n").is_err());
    }
}
