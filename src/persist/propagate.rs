//! The propagation path: what each executed write command changed, in the
//! form Redis propagates it (Redis 7.0's `call()` / `alsoPropagate` /
//! `propagatePendingCommands`), as one RESP stream. The append-only file
//! consumes the stream after each batch of commands; replication will
//! consume the same stream.
//!
//! How a command gets here: the dispatcher takes a [`Mark`] before a write
//! command runs and calls [`Propagator::after_call`] after it. A command
//! propagates only when it changed something — the keyspace-modification
//! counter moved (every modification notifies a keyspace event, which bumps
//! it), or it is a keyless write (FLUSHALL, FLUSHDB, SWAPDB) that succeeded:
//! Redis's `server.dirty` test, per command. What it propagates is the
//! command as called, unless its [`Form`] (decided once per command-table
//! row, when the registry is built, not by name at each call) has Redis's
//! rewritten form for it: relative expiries become
//! absolute (`SET ... PXAT`, `PEXPIREAT`), a TTL in the past becomes DEL,
//! blocking pops become their plain forms, SPOP becomes SREM, INCRBYFLOAT
//! becomes `SET ... KEEPTTL`. The few facts a rewrite needs and cannot read
//! from the arguments or the keyspace afterwards (SPOP's members, the key
//! and count a multi-key pop served) the handler reports with
//! [`Propagator::note`].
//!
//! The commands of one top-level call (an EXEC's commands, SPOP's SREMs)
//! are collected and written together, wrapped in MULTI/EXEC when there
//! are more than one, as Redis 7.0 does. Keys deleted by expiry (lazily or
//! by the active cycle) and by eviction are written at once as DEL (UNLINK
//! with `lazyfree-lazy-expire` / `lazyfree-lazy-eviction`), before the
//! command that met them. A SELECT goes first whenever the database
//! changes.

use crate::cmd::Args;

/// The propagated stream and the state of the call in progress.
#[derive(Default)]
pub struct Propagator {
    /// Someone consumes the stream (the AOF is on); off, nothing is kept.
    pub on: bool,
    /// `aof-timestamp-enabled`: a `#TS:<unix seconds>` line before the
    /// first command of each new second.
    pub timestamps: bool,
    last_ts: u64,
    /// The database the stream last selected (`None`: select first).
    selected: Option<usize>,
    /// Commands of the running top-level call, with their database.
    ops: Vec<(usize, Vec<Vec<u8>>)>,
    /// Facts the running handler reported (see the module doc).
    notes: Vec<Vec<u8>>,
    /// Keyspace modifications so far (see [`Mark`]).
    pub changes: u64,
    /// The stream: RESP commands not yet taken by the consumer.
    pub out: Vec<u8>,
    /// How much of `out` replication has taken (the AOF takes it whole
    /// later; see `server::replication`).
    pub repl_fed: usize,
    /// Where `#TS:` annotations sit in `out` (only with `timestamps`):
    /// the AOF's, left out of the replication stream.
    pub ts_spans: Vec<(usize, usize)>,
}

/// The modification counters before a command ran.
#[derive(Clone, Copy)]
pub struct Mark(pub u64);

/// The keyspace after the command, as the few rewrites that read it see
/// it (implemented by the command's database).
pub trait After {
    /// The string value of a key (INCRBYFLOAT).
    fn string(&self, key: &[u8]) -> Option<Vec<u8>>;
    /// The value of a hash field (HINCRBYFLOAT).
    fn field(&self, key: &[u8], field: &[u8]) -> Option<Vec<u8>>;
    /// Whether a key exists (SPOP with a count).
    fn exists(&self, key: &[u8]) -> bool;
}

/// What a rewrite may need besides the arguments.
pub struct Facts<'a> {
    /// Unix ms of the command (relative expiries are made absolute with it).
    pub now: u64,
    pub lazy_expire: bool,
    pub lazy_server_del: bool,
    /// The command's database after it ran.
    pub after: &'a dyn After,
}

/// How a command propagates: as called, or which of Redis's rewrites
/// applies. Decided once per command-table row from its name
/// ([`Form::of`], kept in `cmd::table::Registered`), so a call only
/// compares this enum.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Form {
    /// As called: nearly every command.
    AsCalled,
    /// A keyless write (FLUSHALL, FLUSHDB, SWAPDB): as called, and
    /// propagated whenever it succeeds, changed keys or not.
    Keyless,
    Set,
    SetEx,
    PSetEx,
    GetEx,
    Expire,
    PExpire,
    ExpireAt,
    PExpireAt,
    GetDel,
    GeoAdd,
    IncrByFloat,
    HIncrByFloat,
    SPop,
    /// BLPOP, BRPOP, BZPOPMIN, BZPOPMAX: the plain pop named.
    BlockingPop(&'static str),
    /// LMPOP, BLMPOP (`list`), ZMPOP, BZMPOP; `blocking`: the numkeys
    /// argument comes after a timeout.
    MPop {
        list: bool,
        blocking: bool,
    },
    /// Stream commands: the exact commands their notes hold.
    Stream,
    BRPopLPush,
    BLMove,
    Restore,
}

impl Form {
    /// The form of the command (or `container|sub`) named `name`, lower case.
    pub fn of(name: &str) -> Form {
        match name {
            "flushall" | "flushdb" | "swapdb" => Form::Keyless,
            "set" => Form::Set,
            "setex" => Form::SetEx,
            "psetex" => Form::PSetEx,
            "getex" => Form::GetEx,
            "expire" => Form::Expire,
            "pexpire" => Form::PExpire,
            "expireat" => Form::ExpireAt,
            "pexpireat" => Form::PExpireAt,
            "getdel" => Form::GetDel,
            "geoadd" => Form::GeoAdd,
            "incrbyfloat" => Form::IncrByFloat,
            "hincrbyfloat" => Form::HIncrByFloat,
            "spop" => Form::SPop,
            "blpop" => Form::BlockingPop("LPOP"),
            "brpop" => Form::BlockingPop("RPOP"),
            "bzpopmin" => Form::BlockingPop("ZPOPMIN"),
            "bzpopmax" => Form::BlockingPop("ZPOPMAX"),
            "lmpop" => Form::MPop { list: true, blocking: false },
            "blmpop" => Form::MPop { list: true, blocking: true },
            "zmpop" => Form::MPop { list: false, blocking: false },
            "bzmpop" => Form::MPop { list: false, blocking: true },
            "xadd" | "xtrim" | "xreadgroup" | "xclaim" | "xautoclaim" => Form::Stream,
            "brpoplpush" => Form::BRPopLPush,
            "blmove" => Form::BLMove,
            "restore" => Form::Restore,
            _ => Form::AsCalled,
        }
    }

    /// Propagated as called (no rewrite to look for).
    fn as_called(self) -> bool {
        matches!(self, Form::AsCalled | Form::Keyless)
    }
}

impl Propagator {
    /// A handler reports a fact its rewrite needs (no-op when off).
    pub fn note(&mut self, fact: &[u8]) {
        if self.on {
            self.notes.push(fact.to_vec());
        }
    }

    /// Whether the call in progress holds commands ([`Propagator::end_call`]
    /// has something to write).
    #[inline]
    pub fn in_call(&self) -> bool {
        !self.ops.is_empty()
    }

    /// Starts (or stops) recording; the next command selects its database.
    pub fn set_on(&mut self, on: bool) {
        self.on = on;
        self.selected = None;
        self.ops.clear();
        self.notes.clear();
    }

    /// Forgets the selected database, so the next command selects again
    /// (a new AOF file starts).
    pub fn reselect(&mut self) {
        self.selected = None;
    }

    /// Whether the command that ran since `mark` changed anything.
    pub fn changed_since(&self, mark: Mark, db_changes: u64) -> bool {
        self.changes + db_changes != mark.0
    }

    /// A write command of form `form` ran in database `db`: its
    /// propagated form(s) join the call's commands. `changed`: it modified
    /// something. `alone`: the call ends with this command
    /// ([`Propagator::end_call`] follows at once, no other command joined
    /// it): a command propagated as called is then written straight from
    /// its request's bytes into the stream, nothing in between.
    #[inline]
    pub fn add_call(&mut self, db: usize, form: Form, args: &Args, changed: bool, facts: &Facts, alone: bool) {
        if !changed {
            self.notes.clear();
            return;
        }
        // SET rewrites only with an expiry option and its value (5
        // arguments at least): the common SET is decided here.
        let plain = form.as_called() || (form == Form::Set && args.len() < 5);
        let cmds = if plain { None } else { rewritten(form, args, &self.notes, facts) };
        self.notes.clear();
        match cmds {
            None if alone && self.ops.is_empty() => {
                self.select(db, facts.now);
                match args.resp_frame() {
                    Some(frame) => self.out.extend_from_slice(frame),
                    None => write_command_iter(&mut self.out, args.len(), args.from(0)),
                }
            }
            None => self.ops.push((db, as_called(args))),
            Some(cmds) => self.ops.extend(cmds.into_iter().map(|argv| (db, argv))),
        }
    }

    /// The top-level call ended: its commands go to the stream, in
    /// MULTI/EXEC when more than one.
    pub fn end_call(&mut self, now_ms: u64) {
        if self.ops.is_empty() {
            return;
        }
        let ops = std::mem::take(&mut self.ops);
        let wrap = ops.len() > 1;
        if wrap {
            // MULTI goes to the database of the first command.
            self.emit(ops[0].0, &[b"MULTI".to_vec()], now_ms);
        }
        for (db, argv) in &ops {
            self.emit(*db, argv, now_ms);
        }
        if wrap {
            let db = self.selected.unwrap_or(0);
            self.emit(db, &[b"EXEC".to_vec()], now_ms);
        }
    }

    /// A key of `db` was deleted by expiry or eviction: DEL (or UNLINK),
    /// written at once.
    pub fn deletion(&mut self, db: usize, key: &[u8], lazy: bool, now_ms: u64) {
        if !self.on {
            return;
        }
        let name: &[u8] = if lazy { b"UNLINK" } else { b"DEL" };
        self.emit(db, &[name.to_vec(), key.to_vec()], now_ms);
    }

    /// A key of `db` was found expired and deleted by the command that is
    /// running: its DEL (or UNLINK) joins the call's commands, before the
    /// command's own, so that a call that also writes goes out in
    /// MULTI/EXEC with it, as Redis 7.0 propagates it.
    pub fn deletion_in_call(&mut self, db: usize, key: &[u8], lazy: bool) {
        if !self.on {
            return;
        }
        let name: &[u8] = if lazy { b"UNLINK" } else { b"DEL" };
        self.ops.push((db, vec![name.to_vec(), key.to_vec()]));
    }

    /// Writes one command (after a SELECT if the database changed).
    fn emit(&mut self, db: usize, argv: &[Vec<u8>], now_ms: u64) {
        self.select(db, now_ms);
        write_command(&mut self.out, argv);
    }

    /// What goes before a command: the timestamp annotation of a new
    /// second, and SELECT if the database changed.
    #[inline]
    fn select(&mut self, db: usize, now_ms: u64) {
        if self.timestamps || self.selected != Some(db) {
            self.select_slow(db, now_ms);
        }
    }

    #[cold]
    fn select_slow(&mut self, db: usize, now_ms: u64) {
        if self.timestamps && now_ms / 1000 > self.last_ts {
            self.last_ts = now_ms / 1000;
            let start = self.out.len();
            self.out.extend_from_slice(format!("#TS:{}\r\n", self.last_ts).as_bytes());
            self.ts_spans.push((start, self.out.len()));
        }
        if self.selected != Some(db) {
            let mut n = itoa::Buffer::new();
            write_command(&mut self.out, &[&b"SELECT"[..], n.format(db).as_bytes()]);
            self.selected = Some(db);
        }
    }
}

/// `*<n>\r\n$<len>\r\n<arg>\r\n...`: a command in RESP, as Redis writes it
/// to the AOF (`catAppendOnlyGenericCommand`).
pub fn write_command<A: AsRef<[u8]>>(out: &mut Vec<u8>, argv: &[A]) {
    write_command_iter(out, argv.len(), argv.iter().map(|a| a.as_ref()));
}

/// [`write_command`] of `n` arguments given by an iterator.
pub fn write_command_iter<'a>(out: &mut Vec<u8>, n: usize, argv: impl Iterator<Item = &'a [u8]>) {
    let mut num = itoa::Buffer::new();
    out.push(b'*');
    out.extend_from_slice(num.format(n).as_bytes());
    out.extend_from_slice(b"\r\n");
    for a in argv {
        out.push(b'$');
        out.extend_from_slice(num.format(a.len()).as_bytes());
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

/// The arguments of one command written by [`write_command`].
pub fn decode_command(b: &[u8]) -> Option<Vec<Vec<u8>>> {
    fn line(b: &[u8], at: &mut usize, lead: u8) -> Option<usize> {
        if b.get(*at) != Some(&lead) {
            return None;
        }
        let end = *at + memchr::memmem::find(&b[*at..], b"\r\n")?;
        let n = std::str::from_utf8(&b[*at + 1..end]).ok()?.parse().ok()?;
        *at = end + 2;
        Some(n)
    }
    let mut at = 0;
    let n = line(b, &mut at, b'*')?;
    let mut argv = Vec::with_capacity(n);
    for _ in 0..n {
        let len = line(b, &mut at, b'$')?;
        argv.push(b.get(at..at + len)?.to_vec());
        at += len + 2;
    }
    Some(argv)
}

fn as_called(args: &Args) -> Vec<Vec<u8>> {
    args.from(0).map(|a| a.to_vec()).collect()
}

fn word(s: &str) -> Vec<u8> {
    s.as_bytes().to_vec()
}

fn num(n: i64) -> Vec<u8> {
    n.to_string().into_bytes()
}

fn int(b: &[u8]) -> Option<i64> {
    crate::resp::parse::parse_i64(b)
}

fn del(key: &[u8], lazy: bool) -> Vec<Vec<u8>> {
    vec![word(if lazy { "UNLINK" } else { "DEL" }), key.to_vec()]
}

/// Redis's propagated form(s) of a command of form `form` that ran with
/// `args` and changed something: the rewrites of `t_string.c`,
/// `expire.c`, `t_set.c`, `t_list.c`, `t_zset.c`, `t_hash.c` and
/// `cluster.c` (RESTORE); any other command as called.
pub fn rewrite(form: Form, args: &Args, notes: &[Vec<u8>], f: &Facts) -> Vec<Vec<Vec<u8>>> {
    rewritten(form, args, notes, f).unwrap_or_else(|| vec![as_called(args)])
}

/// [`rewrite`], or None when the command propagates as called.
fn rewritten(form: Form, args: &Args, notes: &[Vec<u8>], f: &Facts) -> Option<Vec<Vec<Vec<u8>>>> {
    let now = f.now as i64;
    let n = args.len();
    let key = || args.get(1).to_vec();
    let one = |v: Vec<Vec<u8>>| Some(vec![v]);
    match form {
        Form::AsCalled | Form::Keyless => None,
        // SET with EX/PX/EXAT: `SET key value PXAT <ms>` (its other flags
        // dropped); with PXAT or no expiry, as called.
        Form::Set => {
            let mut i = 3;
            while i < n {
                let opt = args.get(i).to_ascii_lowercase();
                if i + 1 < n && ["ex", "px", "exat"].contains(&std::str::from_utf8(&opt).unwrap_or("")) {
                    let Some(v) = int(args.get(i + 1)) else { break };
                    let at = match opt.as_slice() {
                        b"ex" => now.saturating_add(v.saturating_mul(1000)),
                        b"px" => now.saturating_add(v),
                        _ => v.saturating_mul(1000),
                    };
                    return one(vec![word("SET"), key(), args.get(2).to_vec(), word("PXAT"), num(at)]);
                }
                i += 1;
            }
            None
        }
        Form::SetEx | Form::PSetEx => {
            let v = int(args.get(2))?;
            let ms = if form == Form::SetEx { v.saturating_mul(1000) } else { v };
            one(vec![word("SET"), key(), args.get(3).to_vec(), word("PXAT"), num(now.saturating_add(ms))])
        }
        Form::GetEx => {
            if n < 3 {
                return None;
            }
            let opt = args.get(2).to_ascii_lowercase();
            if opt == b"persist" {
                return one(vec![word("PERSIST"), key()]);
            }
            let v = (n > 3).then(|| int(args.get(3))).flatten()?;
            let at = match opt.as_slice() {
                b"ex" => now.saturating_add(v.saturating_mul(1000)),
                b"px" => now.saturating_add(v),
                b"exat" => v.saturating_mul(1000),
                _ => v,
            };
            if at <= now { one(del(args.get(1), f.lazy_expire)) } else { one(vec![word("PEXPIREAT"), key(), num(at)]) }
        }
        Form::Expire | Form::PExpire | Form::ExpireAt | Form::PExpireAt => {
            let v = int(args.get(2))?;
            let at = match form {
                Form::Expire => now.saturating_add(v.saturating_mul(1000)),
                Form::PExpire => now.saturating_add(v),
                Form::ExpireAt => v.saturating_mul(1000),
                _ => v,
            };
            if at <= now {
                return one(del(args.get(1), f.lazy_expire));
            }
            if form == Form::PExpireAt {
                return None;
            }
            let mut argv = vec![word("PEXPIREAT"), key(), num(at)];
            argv.extend(args.from(3).map(|a| a.to_vec()));
            one(argv)
        }
        Form::GetDel => one(vec![word("DEL"), key()]),
        // GEOADD runs as the ZADD it builds (`zadd key [options] score
        // member ...`, the scores from the handler's notes).
        Form::GeoAdd => {
            let opts =
                args.from(2).take_while(|a| [&b"nx"[..], b"xx", b"ch"].iter().any(|o| a.eq_ignore_ascii_case(o)));
            let mut argv = vec![word("zadd"), key()];
            argv.extend(opts.map(<[u8]>::to_vec));
            let at = argv.len();
            for (i, score) in notes.iter().enumerate() {
                argv.push(score.clone());
                argv.push(args.get(at + 3 * i + 2).to_vec());
            }
            one(argv)
        }
        Form::IncrByFloat => match f.after.string(args.get(1)) {
            Some(v) => one(vec![word("SET"), key(), v, word("KEEPTTL")]),
            None => None,
        },
        Form::HIncrByFloat => match f.after.field(args.get(1), args.get(2)) {
            Some(v) => one(vec![word("HSET"), key(), args.get(2).to_vec(), v]),
            None => None,
        },
        // SPOP: SREM of the member; with a count, SREM per member, or DEL
        // when the whole set went.
        Form::SPop => {
            if n == 2 {
                return Some(notes.iter().map(|m| vec![word("SREM"), key(), m.clone()]).collect());
            }
            if !f.after.exists(args.get(1)) {
                return one(del(args.get(1), f.lazy_server_del));
            }
            Some(notes.iter().map(|m| vec![word("SREM"), key(), m.clone()]).collect())
        }
        // Blocking pops as their plain forms; the key served (and the
        // count popped) come from the handler's notes.
        Form::BlockingPop(plain) => Some(notes.first().map(|k| vec![vec![word(plain), k.clone()]]).unwrap_or_default()),
        Form::MPop { list, blocking } => {
            let at = if blocking { 2 } else { 1 };
            let side = int(args.get(at)).and_then(|k| usize::try_from(k).ok()).map(|k| at + 1 + k);
            let side = side.filter(|&s| s < n).map(|s| args.get(s).to_ascii_lowercase()).unwrap_or_default();
            let plain = match (list, side.as_slice()) {
                (true, b"left") => "LPOP",
                (true, _) => "RPOP",
                (false, b"min") => "ZPOPMIN",
                (false, _) => "ZPOPMAX",
            };
            match notes {
                [k, count, ..] => one(vec![word(plain), k.clone(), count.clone()]),
                _ => Some(Vec::new()),
            }
        }
        // Stream commands report the exact commands Redis propagates (XADD
        // with its id, exact trims, XCLAIM / XGROUP forms of reads and
        // claims), each one RESP-encoded note.
        Form::Stream => Some(notes.iter().filter_map(|n| decode_command(n)).collect()),
        Form::BRPopLPush => one(vec![word("RPOPLPUSH"), key(), args.get(2).to_vec()]),
        Form::BLMove => {
            one(vec![word("LMOVE"), key(), args.get(2).to_vec(), args.get(3).to_vec(), args.get(4).to_vec()])
        }
        // RESTORE with a relative TTL: the TTL as an absolute time, ABSTTL.
        Form::Restore => {
            let mut argv = as_called(args);
            let abs = args.from(4).any(|a| a.eq_ignore_ascii_case(b"absttl"));
            if let Some(ttl) = int(args.get(2)).filter(|&t| t > 0 && !abs) {
                argv[2] = num(now.saturating_add(ttl));
                argv.push(word("ABSTTL"));
            }
            one(argv)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A keyspace after the command: every string is `.0`, every hash
    /// field `.1`, every key exists.
    struct Stub(Option<&'static [u8]>, Option<&'static [u8]>);

    impl After for Stub {
        fn string(&self, _: &[u8]) -> Option<Vec<u8>> {
            self.0.map(<[u8]>::to_vec)
        }
        fn field(&self, _: &[u8], _: &[u8]) -> Option<Vec<u8>> {
            self.1.map(<[u8]>::to_vec)
        }
        fn exists(&self, _: &[u8]) -> bool {
            true
        }
    }

    fn run(argv: &[&str], notes: &[&str], now: u64) -> String {
        let mut data = Vec::new();
        let mut spans = Vec::new();
        for a in argv {
            spans.push((data.len(), data.len() + a.len()));
            data.extend_from_slice(a.as_bytes());
        }
        let args = Args::new(&data, &spans);
        let notes: Vec<Vec<u8>> = notes.iter().map(|n| n.as_bytes().to_vec()).collect();
        let facts = Facts { now, lazy_expire: false, lazy_server_del: false, after: &Stub(Some(b"2.5"), Some(b"3")) };
        let name = argv[0].to_ascii_lowercase();
        rewrite(Form::of(&name), &args, &notes, &facts)
            .iter()
            .map(|c| c.iter().map(|a| String::from_utf8_lossy(a).into_owned()).collect::<Vec<_>>().join(" "))
            .collect::<Vec<_>>()
            .join("; ")
    }

    #[test]
    fn rewrites_like_redis() {
        assert_eq!(run(&["set", "a", "1"], &[], 1000), "set a 1");
        assert_eq!(run(&["set", "a", "1", "ex", "100", "nx", "get"], &[], 1000), "SET a 1 PXAT 101000");
        assert_eq!(run(&["set", "a", "1", "PXAT", "5"], &[], 1000), "set a 1 PXAT 5");
        assert_eq!(run(&["setex", "a", "10", "v"], &[], 1000), "SET a v PXAT 11000");
        assert_eq!(run(&["psetex", "a", "10", "v"], &[], 1000), "SET a v PXAT 1010");
        assert_eq!(run(&["expire", "a", "10", "nx"], &[], 1000), "PEXPIREAT a 11000 nx");
        assert_eq!(run(&["expire", "a", "-1"], &[], 1000), "DEL a");
        assert_eq!(run(&["pexpireat", "a", "5000"], &[], 1000), "pexpireat a 5000");
        assert_eq!(run(&["getex", "a", "persist"], &[], 1000), "PERSIST a");
        assert_eq!(run(&["getex", "a", "px", "5"], &[], 1000), "PEXPIREAT a 1005");
        assert_eq!(run(&["incrbyfloat", "a", "1.5"], &[], 1000), "SET a 2.5 KEEPTTL");
        assert_eq!(run(&["hincrbyfloat", "h", "f", "1"], &[], 1000), "HSET h f 3");
        assert_eq!(run(&["spop", "s"], &["m"], 1000), "SREM s m");
        assert_eq!(run(&["spop", "s", "2"], &["m", "n"], 1000), "SREM s m; SREM s n");
        assert_eq!(run(&["blpop", "a", "b", "0"], &["b"], 1000), "LPOP b");
        assert_eq!(run(&["blmpop", "0", "2", "a", "b", "RIGHT", "count", "5"], &["b", "3"], 1000), "RPOP b 3");
        assert_eq!(run(&["zmpop", "1", "z", "min"], &["z", "1"], 1000), "ZPOPMIN z 1");
        assert_eq!(run(&["blmove", "a", "b", "left", "right", "0"], &[], 1000), "LMOVE a b left right");
        assert_eq!(run(&["getdel", "a"], &[], 1000), "DEL a");
    }

    /// Every name [`Form::of`] knows is a command of the table (a typo
    /// would leave that command propagated as called).
    #[test]
    fn forms_name_real_commands() {
        let reg = crate::cmd::table::registry();
        let rewritten: Vec<&str> =
            reg.entries.iter().filter(|e| e.form != Form::AsCalled).map(|e| e.fullname.as_str()).collect();
        assert_eq!(rewritten.len(), 32, "{rewritten:?}");
        assert_eq!(reg.entries.iter().find(|e| e.fullname == "blpop").map(|e| e.form), Some(Form::BlockingPop("LPOP")));
    }

    #[test]
    fn calls_wrap_and_select() {
        let mut p = Propagator::default();
        p.set_on(true);
        let facts = Facts { now: 0, lazy_expire: false, lazy_server_del: false, after: &Stub(None, None) };
        let data = b"spops2".to_vec();
        let spans = [(0, 4), (4, 5), (5, 6)];
        p.note(b"x");
        p.note(b"y");
        p.add_call(3, Form::SPop, &Args::new(&data, &spans), true, &facts, true);
        p.end_call(0);
        let text = String::from_utf8(p.out.clone()).unwrap();
        assert_eq!(
            text,
            "*2\r\n$6\r\nSELECT\r\n$1\r\n3\r\n*1\r\n$5\r\nMULTI\r\n*3\r\n$4\r\nSREM\r\n$1\r\ns\r\n$1\r\nx\r\n*3\r\n$4\r\nSREM\r\n$1\r\ns\r\n$1\r\ny\r\n*1\r\n$4\r\nEXEC\r\n"
        );
    }
}
