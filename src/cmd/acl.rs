//! The ACL command and what the rest of the server asks of access control:
//! the check before a command runs ([`gate`]), authentication (AUTH,
//! HELLO ... AUTH, RESET), the ACL log, closing the clients of a deleted
//! user, and `rename-command` ([`Renames`]).
//!
//! Each client carries `acl_free`: set when no check here can refuse it.
//! [`Shared::acl_refresh`] recomputes it for every client after anything
//! that may change the answer (a user changed or deleted, ACL LOAD,
//! `requirepass`, a client authenticating), so the dispatcher reads one
//! flag for the common case (the `default` user with every permission).

use super::table::{Command, container, flag::*, registry, row};
use super::{Args, CmdError, CmdResult, Ctx, lossy};
use crate::acl::{self, Denied, LogEntry, RuleError, User};
use crate::server::state::Shared;
use hashbrown::HashMap;

pub static COMMANDS: &[Command] = &[Command {
    subcommands: ACL_SUBCOMMANDS,
    ..row("acl", -2, 0, (0, 0, 0), "server", "6.0.0", "A container for Access List Control commands ", container)
}];

const ADMIN_FLAGS: u32 = ADMIN | NOSCRIPT | LOADING | STALE;
const PLAIN_FLAGS: u32 = NOSCRIPT | LOADING | STALE;

static ACL_SUBCOMMANDS: &[Command] = &[
    row(
        "cat",
        -2,
        PLAIN_FLAGS,
        (0, 0, 0),
        "server",
        "6.0.0",
        "List the ACL categories or the commands inside a category",
        cat,
    ),
    row(
        "deluser",
        -3,
        ADMIN_FLAGS,
        (0, 0, 0),
        "server",
        "6.0.0",
        "Remove the specified ACL users and the associated rules",
        deluser,
    ),
    row(
        "dryrun",
        -4,
        ADMIN_FLAGS,
        (0, 0, 0),
        "server",
        "7.0.0",
        "Returns whether the user can execute the given command without executing the command.",
        dryrun,
    ),
    row(
        "genpass",
        -2,
        PLAIN_FLAGS,
        (0, 0, 0),
        "server",
        "6.0.0",
        "Generate a pseudorandom secure password to use for ACL users",
        genpass,
    ),
    row("getuser", 3, ADMIN_FLAGS, (0, 0, 0), "server", "6.0.0", "Get the rules for a specific ACL user", getuser),
    row(
        "help",
        2,
        LOADING | STALE,
        (0, 0, 0),
        "server",
        "6.0.0",
        "Show helpful text about the different subcommands",
        help,
    ),
    row(
        "list",
        2,
        ADMIN_FLAGS,
        (0, 0, 0),
        "server",
        "6.0.0",
        "List the current ACL rules in ACL config file format",
        list,
    ),
    row("load", 2, ADMIN_FLAGS, (0, 0, 0), "server", "6.0.0", "Reload the ACLs from the configured ACL file", load),
    row(
        "log",
        -2,
        ADMIN_FLAGS,
        (0, 0, 0),
        "server",
        "6.0.0",
        "List latest events denied because of ACLs in place",
        log,
    ),
    row(
        "save",
        2,
        ADMIN_FLAGS,
        (0, 0, 0),
        "server",
        "6.0.0",
        "Save the current ACL rules in the configured ACL file",
        save,
    ),
    row(
        "setuser",
        -3,
        ADMIN_FLAGS,
        (0, 0, 0),
        "server",
        "6.0.0",
        "Modify or create the rules for a specific ACL user",
        setuser,
    ),
    row(
        "users",
        2,
        ADMIN_FLAGS,
        (0, 0, 0),
        "server",
        "6.0.0",
        "List the username of all the configured ACL rules",
        users,
    ),
    row(
        "whoami",
        2,
        PLAIN_FLAGS,
        (0, 0, 0),
        "server",
        "6.0.0",
        "Return the name of the user associated to the current connection",
        whoami,
    ),
];

/// Redis's reply to a command before authentication.
pub const NOAUTH: &str = "NOAUTH Authentication required.";
/// Redis's reply to a failed AUTH or HELLO ... AUTH.
pub const WRONGPASS: &str = "WRONGPASS invalid username-password pair or user is disabled.";

/// Whether `acl-pubsub-default` gives new users every channel.
fn pubsub_default(srv: &Shared) -> bool {
    srv.config.acl_pubsub_default == "allchannels"
}

impl Shared {
    /// Recomputes every client's `acl_free` (see the module doc).
    pub fn acl_refresh(&mut self) {
        let required = self.acl.auth_required();
        for c in self.clients.iter_mut().flatten() {
            // A client being closed (its user deleted) runs nothing more.
            c.acl_free = !c.close_after_reply && (c.authenticated || !required) && self.acl.user(c.user).unrestricted();
        }
    }

    /// Recomputes `acl_free` of client `key` alone (it authenticated).
    fn acl_refresh_client(&mut self, key: usize) {
        let required = self.acl.auth_required();
        let c = self.client(key);
        let free = (c.authenticated || !required) && self.acl.user(c.user).unrestricted();
        self.client_mut(key).acl_free = free;
    }

    /// A new client is the `default` user's, authenticated when that user
    /// needs no password (Redis's `clientSetDefaultAuth`).
    pub fn acl_default_auth(&mut self, key: usize) {
        let d = self.acl.default_user();
        let authenticated = d.nopass && d.enabled;
        let free = (authenticated || !self.acl.auth_required()) && d.unrestricted();
        let c = self.client_mut(key);
        c.user = 0;
        c.authenticated = authenticated;
        c.acl_free = free;
    }

    /// `requirepass` changed (or was set at start): the `default` user's
    /// passwords become it, or none with `nopass` for an empty one.
    pub fn apply_requirepass(&mut self) {
        let pass = self.config.requirepass.clone();
        let d = self.acl.default_mut();
        let _ = d.apply(b"resetpass", false);
        if pass.is_empty() {
            let _ = d.apply(b"nopass", false);
        } else {
            let mut op = b">".to_vec();
            op.extend_from_slice(pass.as_bytes());
            let _ = d.apply(&op, false);
        }
        self.acl_refresh();
    }

    /// Adds an entry to the ACL log for client `key`.
    pub fn acl_log(&mut self, key: usize, reason: Denied, object: &[u8], username: Option<&[u8]>, now: u64) {
        let c = self.client(key);
        let multi = c.multi.is_some() || self.in_exec;
        let username = username.map_or_else(|| self.acl.user(c.user).name.clone(), <[u8]>::to_vec);
        let client_info = super::conn::client_line(self, c, now, None).trim_end().to_string();
        let entry = LogEntry {
            count: 1,
            reason,
            context: if self.in_script {
                "lua"
            } else if multi {
                "multi"
            } else {
                "toplevel"
            },
            object: object.to_vec(),
            username,
            ctime: now,
            client_info,
        };
        let max = self.config.acllog_max_len as usize;
        self.acl.log(entry, max);
    }

    /// Closes the clients of user slot `slot` (deleted, or replaced by ACL
    /// LOAD), the running one once its reply is written; meanwhile they are
    /// `default` and not authenticated, as in Redis.
    fn acl_drop_clients(&mut self, slot: impl Fn(usize) -> bool) {
        let current = self.current;
        let mut close = Vec::new();
        for (k, c) in self.clients.iter_mut().enumerate() {
            let Some(c) = c else { continue };
            if !slot(c.user) {
                continue;
            }
            c.user = 0;
            c.authenticated = false;
            // No further command of theirs runs (Redis's CLOSE_ASAP); the
            // loop closes them.
            c.close_after_reply = true;
            if Some(k) != current {
                close.push((k, c.id));
            }
        }
        self.requests.close.extend(close);
    }

    /// AUTH's check: on success client `key` is `user`'s and
    /// authenticated; on failure the attempt is logged.
    pub fn authenticate(&mut self, key: usize, user: &[u8], pass: &[u8], argv0: &[u8], now: u64) -> bool {
        match self.acl.slot_of(user) {
            Some(slot) if self.acl.user(slot).accepts(pass) => {
                let c = self.client_mut(key);
                c.user = slot;
                c.authenticated = true;
                self.acl_refresh_client(key);
                true
            }
            _ => {
                self.acl_log(key, Denied::Auth, argv0, Some(user), now);
                false
            }
        }
    }
}

/// The ACL checks of `processCommand` for registry entry `run`, for a
/// client whose `acl_free` is not set: authentication, then the user's
/// permissions (logged when refused). Inside EXEC, Redis's EXEC text.
pub fn gate(cx: &mut Ctx, run: usize, args: &Args) -> CmdResult {
    let reg = registry();
    let cmd = reg.entries[run].cmd;
    let c = cx.srv.client(cx.key);
    if c.close_after_reply && !c.authenticated {
        // Its user was deleted: a command it had waiting (a blocked one
        // served now) does not run as `default`.
        return Err(CmdError::msg(NOAUTH));
    }
    if !c.authenticated && cx.srv.acl.auth_required() && !cmd.has(NO_AUTH) {
        return Err(CmdError::msg(NOAUTH));
    }
    let user = cx.srv.acl.user(c.user);
    if user.unrestricted() {
        return Ok(());
    }
    let argv: Vec<&[u8]> = args.from(0).collect();
    let Err((why, pos)) = user.check(run, &argv) else { return Ok(()) };
    let object = match why {
        Denied::Command => reg.entries[run].fullname.as_bytes(),
        _ => argv[pos],
    };
    let now = cx.now;
    cx.srv.acl_log(cx.key, why, object, None, now);
    Err(CmdError::msg(acl::denied_text(why, &reg.entries[run].fullname, cx.srv.in_exec)))
}

/// An error reply as Redis's `addReplyErrorFormat` writes one: line breaks
/// become spaces.
fn error_line(text: String) -> CmdError {
    CmdError::msg(text.replace(['\r', '\n'], " "))
}

/// # Format
/// `ACL SETUSER username [rule [rule ...]]`
fn setuser(cx: &mut Ctx, args: &Args) -> CmdResult {
    let name = args.get(2);
    if acl::has_spaces(name) {
        return Err(CmdError::msg("ERR Usernames can't contain spaces or null characters"));
    }
    let rules: Vec<&[u8]> = args.from(3).collect();
    let ops = acl::merge_selectors(&rules).map_err(|i| {
        error_line(format!("ERR Unmatched parenthesis in acl selector starting at '{}'.", lossy(rules[i])))
    })?;
    let allchannels = pubsub_default(cx.srv);
    let existing = cx.srv.acl.slot_of(name);
    let mut user = match existing {
        Some(slot) => cx.srv.acl.user(slot).clone(),
        None => User::new(name, allchannels),
    };
    for op in &ops {
        user.apply(op, allchannels).map_err(|e: RuleError| {
            error_line(format!("ERR Error in ACL SETUSER modifier '{}': {}", lossy(op), e.text()))
        })?;
    }
    if let Some(slot) = existing {
        kill_pubsub_clients(cx, slot, &user);
    }
    cx.srv.acl.put(user);
    cx.srv.acl_refresh();
    cx.out.ok();
    Ok(())
}

/// Redis's `ACLKillPubsubClientsIfNeeded`: subscribers authenticated as
/// user `slot` lose their connection when the new rules `new` no longer
/// allow one of their channels or patterns.
fn kill_pubsub_clients(cx: &mut Ctx, slot: usize, new: &User) {
    let Err(upcoming) = acl::channels_kept(new, cx.srv.acl.user(slot)) else { return };
    let me = cx.key;
    let mut close = Vec::new();
    for (k, c) in cx.srv.clients.iter_mut().enumerate() {
        let Some(c) = c else { continue };
        if c.user != slot || !c.subscribed() {
            continue;
        }
        let bad_pattern = c.subs[1].iter().any(|p| !acl::channel_allowed(&upcoming, p, true));
        let bad_channel = c.subs[0].iter().chain(&c.subs[2]).any(|ch| !acl::channel_allowed(&upcoming, ch, false));
        if bad_pattern || bad_channel {
            c.close_after_reply = true;
            if k != me {
                close.push((k, c.id));
            }
        }
    }
    cx.srv.requests.close.extend(close);
}

/// # Format
/// `ACL DELUSER username [username ...]`
fn deluser(cx: &mut Ctx, args: &Args) -> CmdResult {
    if args.from(2).any(|n| n == b"default") {
        return Err(CmdError::msg("ERR The 'default' user cannot be removed"));
    }
    let mut deleted = 0;
    for name in args.from(2) {
        if let Some(slot) = cx.srv.acl.remove(name) {
            cx.srv.acl_drop_clients(|s| s == slot);
            deleted += 1;
        }
    }
    cx.srv.acl_refresh();
    cx.out.int(deleted);
    Ok(())
}

/// The `commands`, `keys` and `channels` fields of a selector.
fn selector_fields(cx: &mut Ctx, s: &acl::Selector) {
    cx.out.bulk(b"commands");
    cx.out.bulk(&s.describe_commands());
    cx.out.bulk(b"keys");
    cx.out.bulk(&s.describe_keys());
    cx.out.bulk(b"channels");
    cx.out.bulk(&s.describe_channels());
}

/// # Format
/// `ACL GETUSER username` — nil for an unknown user (Redis 7.0).
fn getuser(cx: &mut Ctx, args: &Args) -> CmdResult {
    let Some(user) = cx.srv.acl.get(args.get(2)).cloned() else {
        cx.out.null();
        return Ok(());
    };
    cx.out.map(6);
    cx.out.bulk(b"flags");
    let mut flags = vec![if user.enabled { "on" } else { "off" }];
    if user.nopass {
        flags.push("nopass");
    }
    match user.sanitize {
        Some(false) => flags.push("skip-sanitize-payload"),
        Some(true) => flags.push("sanitize-payload"),
        None => {}
    }
    cx.out.set(flags.len());
    flags.iter().for_each(|f| cx.out.bulk(f.as_bytes()));
    cx.out.bulk(b"passwords");
    cx.out.array(user.passwords.len());
    user.passwords.iter().for_each(|p| cx.out.bulk(p.as_bytes()));
    selector_fields(cx, user.root());
    cx.out.bulk(b"selectors");
    cx.out.array(user.selectors.len() - 1);
    for s in &user.selectors[1..] {
        cx.out.map(3);
        selector_fields(cx, s);
    }
    Ok(())
}

/// # Format
/// `ACL LIST` — each user in the ACL file's format.
fn list(cx: &mut Ctx, _args: &Args) -> CmdResult {
    let lines: Vec<Vec<u8>> =
        cx.srv.acl.users().map(|u| [b"user ".as_slice(), &u.name, b" ", &u.describe()].concat()).collect();
    cx.out.array(lines.len());
    lines.iter().for_each(|l| cx.out.bulk(l));
    Ok(())
}

/// # Format
/// `ACL USERS`
fn users(cx: &mut Ctx, _args: &Args) -> CmdResult {
    let names: Vec<Vec<u8>> = cx.srv.acl.users().map(|u| u.name.clone()).collect();
    cx.out.array(names.len());
    names.iter().for_each(|n| cx.out.bulk(n));
    Ok(())
}

/// # Format
/// `ACL WHOAMI`
fn whoami(cx: &mut Ctx, _args: &Args) -> CmdResult {
    let slot = cx.srv.client(cx.key).user;
    let name = cx.srv.acl.user(slot).name.clone();
    cx.out.bulk(&name);
    Ok(())
}

/// The `aclfile` option, or Redis's error when there is none.
fn aclfile(cx: &Ctx) -> Result<String, CmdError> {
    let path = cx.srv.config.aclfile.clone();
    if path.is_empty() {
        return Err(CmdError::msg(
            "ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.",
        ));
    }
    Ok(path)
}

impl Shared {
    /// At start: `rename-command`, `requirepass`, then the users of the
    /// config file's `user` lines or of the ACL file (not both), with
    /// Redis's messages when they cannot be loaded.
    pub fn acl_boot(&mut self) -> Result<(), String> {
        if !self.config.renames.is_empty() {
            self.renames = Some(Box::new(Renames::build(&self.config.renames)?));
        }
        if !self.config.requirepass.is_empty() {
            self.apply_requirepass();
        }
        if !self.config.aclfile.is_empty() && !self.config.users.is_empty() {
            return Err("Configuring Redis with users defined in redis.conf and at the same setting an ACL file path is invalid. This setup is very likely to lead to configuration errors and security holes, please define either an ACL file or declare users directly in your redis.conf, but not both.".into());
        }
        let allchannels = pubsub_default(self);
        let lines = self.config.users.clone();
        let mut seen: Vec<&[u8]> = Vec::new();
        for line in &lines {
            let name = line[0].as_bytes();
            if acl::has_spaces(name) {
                return Err("Spaces not allowed in ACL usernames".into());
            }
            if seen.contains(&name) {
                return Err(format!(
                    "Error in user declaration '{}': Duplicate user found. A user can only be defined once in config files",
                    line[0]
                ));
            }
            seen.push(name);
            let words: Vec<&[u8]> = line[1..].iter().map(|w| w.as_bytes()).collect();
            let ops = acl::merge_selectors(&words)
                .map_err(|i| format!("Unmatched parenthesis in acl selector starting at '{}'.", line[i + 1]))?;
            let mut user = User::new(name, allchannels);
            if name == b"default" {
                user = self.acl.default_user().clone();
                let _ = user.apply(b"reset", allchannels);
            }
            for op in &ops {
                user.apply(op, allchannels).map_err(|e| {
                    format!("Error loading ACL rule '{}' for the user named '{}': {}", lossy(op), line[0], e.text())
                })?;
            }
            if !user.enabled {
                log::info!(
                    "The user '{}' is disabled (there is no 'on' modifier in the user description). Make sure this is not a configuration error.",
                    line[0]
                );
            }
            self.acl.put(user);
        }
        if !self.config.aclfile.is_empty() {
            let users = acl::file::load(&self.config.aclfile, allchannels)
                .map_err(|e| format!("Aborting Redis startup because of ACL errors: {e}"))?;
            self.acl_replace_users(users);
        }
        self.acl_refresh();
        Ok(())
    }

    /// Replaces every user with those of `users` (ACL LOAD, start): the
    /// clients of the users that were there before, but `default`, are
    /// closed, as Redis frees them all.
    pub fn acl_replace_users(&mut self, users: Vec<User>) {
        self.acl.replace_all(users);
        self.acl_drop_clients(|s| s != 0);
        self.acl_refresh();
    }
}

/// # Format
/// `ACL LOAD`
fn load(cx: &mut Ctx, _args: &Args) -> CmdResult {
    let path = aclfile(cx)?;
    let users = acl::file::load(&path, pubsub_default(cx.srv)).map_err(|e| error_line(format!("ERR {e}")))?;
    cx.srv.acl_replace_users(users);
    cx.out.ok();
    Ok(())
}

/// # Format
/// `ACL SAVE`
fn save(cx: &mut Ctx, _args: &Args) -> CmdResult {
    let path = aclfile(cx)?;
    acl::file::save(&cx.srv.acl, &path).map_err(|_| {
        CmdError::msg(
            "ERR There was an error trying to save the ACLs. Please check the server logs for more information",
        )
    })?;
    cx.out.ok();
    Ok(())
}

/// # Format
/// `ACL CAT [category]`
fn cat(cx: &mut Ctx, args: &Args) -> CmdResult {
    match args.len() {
        2 => {
            cx.out.array(acl::CATEGORIES.len());
            acl::CATEGORIES.iter().for_each(|c| cx.out.bulk(c.as_bytes()));
        }
        3 => {
            let name = args.get(2);
            let Some(i) = acl::CATEGORIES.iter().position(|c| c.as_bytes().eq_ignore_ascii_case(name)) else {
                let name = &name[..name.len().min(128)];
                return Err(error_line(format!("ERR Unknown category '{}'", lossy(name))));
            };
            let reg = registry();
            let mut names = Vec::new();
            for top in 0..reg.top() {
                for id in std::iter::once(top).chain(reg.subs(top)) {
                    if acl::in_category(id, 1 << i) {
                        names.push(reg.entries[id].fullname.as_str());
                    }
                }
            }
            cx.out.array(names.len());
            names.iter().for_each(|n| cx.out.bulk(n.as_bytes()));
        }
        _ => {
            return Err(super::subcommand_syntax_error(args));
        }
    }
    Ok(())
}

/// # Format
/// `ACL GENPASS [bits]` — `bits` (default 256) random bits in hex.
fn genpass(cx: &mut Ctx, args: &Args) -> CmdResult {
    let bits = match args.len() {
        2 => 256,
        3 => args.int(2)?,
        _ => {
            return Err(super::subcommand_syntax_error(args));
        }
    };
    if !(1..=4096).contains(&bits) {
        return Err(CmdError::msg(
            "ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096",
        ));
    }
    let chars = (bits as usize).div_ceil(4);
    let mut random = vec![0u8; chars.div_ceil(2)];
    let ok = std::fs::File::open("/dev/urandom").and_then(|mut f| std::io::Read::read_exact(&mut f, &mut random));
    if ok.is_err() {
        // No system randomness: the server's generator, still unpredictable
        // enough for a password suggestion (seeded from the clock).
        random.iter_mut().for_each(|b| *b = cx.srv.rng.below(256) as u8);
    }
    let hex: String = random.iter().map(|b| format!("{b:02x}")).collect();
    cx.out.bulk(&hex.as_bytes()[..chars]);
    Ok(())
}

/// # Format
/// `ACL LOG [count | RESET]`
fn log(cx: &mut Ctx, args: &Args) -> CmdResult {
    let mut count = 10i64;
    match args.len() {
        2 => {}
        3 if args.get(2).eq_ignore_ascii_case(b"reset") => {
            cx.srv.acl.log.clear();
            cx.out.ok();
            return Ok(());
        }
        3 => count = args.int(2)?.max(0),
        _ => {
            return Err(super::subcommand_syntax_error(args));
        }
    }
    let n = (count as usize).min(cx.srv.acl.log.len());
    let now = cx.now;
    let entries: Vec<LogEntry> = cx.srv.acl.log.iter().take(n).cloned().collect();
    cx.out.array(n);
    for e in entries {
        let out = &mut cx.out;
        out.map(7);
        out.bulk(b"count");
        out.int(e.count as i64);
        out.bulk(b"reason");
        out.bulk(e.reason.name().as_bytes());
        out.bulk(b"context");
        out.bulk(e.context.as_bytes());
        out.bulk(b"object");
        out.bulk(&e.object);
        out.bulk(b"username");
        out.bulk(&e.username);
        out.bulk(b"age-seconds");
        out.double(now.saturating_sub(e.ctime) as f64 / 1000.0);
        out.bulk(b"client-info");
        out.bulk(e.client_info.as_bytes());
    }
    Ok(())
}

/// # Format
/// `ACL DRYRUN username command [arg ...]` — OK, or why the user may not.
fn dryrun(cx: &mut Ctx, args: &Args) -> CmdResult {
    let Some(slot) = cx.srv.acl.slot_of(args.get(2)) else {
        return Err(error_line(format!("ERR User '{}' not found", lossy(args.get(2)))));
    };
    let reg = registry();
    let not_found = || error_line(format!("ERR Command '{}' not found", lossy(args.get(3))));
    let top = reg.id(args.get(3)).ok_or_else(not_found)?;
    let id = if !reg.entries[top].cmd.subcommands.is_empty() && args.len() >= 5 {
        reg.sub_id(top, args.get(4)).ok_or_else(not_found)?
    } else {
        top
    };
    let argv: Vec<&[u8]> = args.from(3).collect();
    if !reg.entries[id].cmd.arity_ok(argv.len()) {
        return Err(CmdError::msg(format!("ERR wrong number of arguments for '{}' command", reg.entries[id].fullname)));
    }
    match cx.srv.acl.user(slot).check(id, &argv) {
        Ok(()) => cx.out.ok(),
        Err((why, pos)) => {
            let text = match why {
                Denied::Command => {
                    format!("This user has no permissions to run the '{}' command", reg.entries[id].fullname)
                }
                Denied::Key => format!("This user has no permissions to access the '{}' key", lossy(argv[pos])),
                _ => format!("This user has no permissions to access the '{}' channel", lossy(argv[pos])),
            };
            cx.out.bulk(text.as_bytes());
        }
    }
    Ok(())
}

/// # Format
/// `ACL HELP`
fn help(cx: &mut Ctx, _args: &Args) -> CmdResult {
    super::server::help(
        &mut cx.out,
        "ACL",
        &[
            "CAT [<category>]",
            "    List all commands that belong to <category>, or all command categories",
            "    when no category is specified.",
            "DELUSER <username> [<username> ...]",
            "    Delete a list of users.",
            "DRYRUN <username> <command> [<arg> ...]",
            "    Returns whether the user can execute the given command without executing the command.",
            "GETUSER <username>",
            "    Get the user's details.",
            "GENPASS [<bits>]",
            "    Generate a secure 256-bit user password. The optional `bits` argument can",
            "    be used to specify a different size.",
            "LIST",
            "    Show users details in config file format.",
            "LOAD",
            "    Reload users from the ACL file.",
            "LOG [<count> | RESET]",
            "    Show the ACL log entries.",
            "SAVE",
            "    Save the current config to the ACL file.",
            "SETUSER <username> <attribute> [<attribute> ...]",
            "    Create or modify a user with the specified attributes.",
            "USERS",
            "    List all the registered usernames.",
            "WHOAMI",
            "    Return the current connection username.",
        ],
    );
    Ok(())
}

/// Argument positions MONITOR and SLOWLOG show as `(redacted)`, as
/// Redis's `redactClientCommandArgument` hides them: AUTH's credentials,
/// HELLO's AUTH pair, every rule of ACL SETUSER.
pub fn redacted(name: &str, args: &Args) -> Vec<usize> {
    match name {
        "auth" if args.len() <= 3 => (1..args.len()).collect(),
        "hello" => {
            let mut hidden = Vec::new();
            let mut j = 2;
            while j < args.len() {
                let more = args.len() - 1 - j;
                if args.get(j).eq_ignore_ascii_case(b"auth") && more >= 2 {
                    hidden.extend([j + 1, j + 2]);
                    j += 3;
                } else if args.get(j).eq_ignore_ascii_case(b"setname") && more >= 1 {
                    j += 2;
                } else {
                    break;
                }
            }
            hidden
        }
        "setuser" => (2..args.len()).collect(),
        _ => Vec::new(),
    }
}

/// CONFIG REWRITE's `user` lines (Redis's `rewriteConfigUserOption`):
/// with no ACL file, every user in name order, in place of the file's
/// `user` lines as far as they go, the others at the end; with one, the
/// file's `user` lines are dropped.
pub fn rewrite_users(srv: &Shared, text: &str) -> String {
    let mut users: std::collections::VecDeque<String> = if srv.config.aclfile.is_empty() {
        srv.acl.users().map(|u| format!("user {} {}", lossy(&u.name), lossy(&u.describe()))).collect()
    } else {
        Default::default()
    };
    let mut out: Vec<String> = Vec::new();
    for line in text.lines() {
        if line.split_whitespace().next().is_some_and(|w| w.eq_ignore_ascii_case("user")) {
            out.extend(users.pop_front());
        } else {
            out.push(line.to_string());
        }
    }
    if !users.is_empty() && !out.iter().any(|l| l == "# Generated by CONFIG REWRITE") {
        out.push("# Generated by CONFIG REWRITE".into());
    }
    out.extend(users);
    out.join("\n") + "\n"
}

/// `rename-command` of the config file: commands under new names, or
/// under none (an empty new name). Only a config with renames has one, so
/// the dispatcher pays for it only then.
#[derive(Debug, Default)]
pub struct Renames {
    /// New name (lower case) → registry id.
    by_name: HashMap<Vec<u8>, usize>,
    /// Top-level commands whose own name no longer works.
    hidden: Vec<bool>,
}

impl Renames {
    /// Applies `rename-command old new` directives in order, with Redis's
    /// errors for an unknown command or a taken name.
    pub fn build(pairs: &[(String, String)]) -> Result<Renames, String> {
        let reg = registry();
        let mut r = Renames { by_name: HashMap::new(), hidden: vec![false; reg.top()] };
        for (old, new) in pairs {
            let old = old.to_ascii_lowercase().into_bytes();
            let id = match r.by_name.remove(&old) {
                Some(id) => id,
                None => match reg.id(&old).filter(|&i| !r.hidden[i]) {
                    Some(id) => {
                        r.hidden[id] = true;
                        id
                    }
                    None => return Err("No such command in rename-command".into()),
                },
            };
            if !new.is_empty() {
                let new = new.to_ascii_lowercase().into_bytes();
                if r.id(&new).is_some() {
                    return Err("Target command name already exists".into());
                }
                r.by_name.insert(new, id);
            }
        }
        Ok(r)
    }

    /// The registry id `name` runs, case-insensitively.
    pub fn id(&self, name: &[u8]) -> Option<usize> {
        if let Some(&id) = self.by_name.get(&name.to_ascii_lowercase()) {
            return Some(id);
        }
        registry().id(name).filter(|&i| !self.hidden[i])
    }
}
