//! ACL rule strings, as ACL SETUSER and the ACL file take them: the input
//! is split on spaces into arguments, selectors in parentheses are merged
//! (`merge_selectors`) and each rule is applied to a new user. Nothing may
//! panic, and a user that took every rule must survive its own
//! description (what ACL LIST and ACL SAVE write): the description read
//! back describes the same user and allows exactly the same calls.
//!
//! The first input byte is `acl-pubsub-default` (bit 0) and picks the
//! commands tried against both users.
#![no_main]

use ferrokv::acl::{User, merge_selectors};
use ferrokv::cmd::table;
use libfuzzer_sys::fuzz_target;

/// A user with `rules` applied, or `None` when one is refused.
fn user(rules: &[&[u8]], allchannels: bool) -> Option<User> {
    let mut u = User::new(b"fuzz", allchannels);
    for op in merge_selectors(rules).ok()? {
        u.apply(&op, allchannels).ok()?;
    }
    Some(u)
}

/// A user whose description does not read back, in Redis as here: a key
/// or channel pattern with a parenthesis or a quote (a selector's `~"'"`
/// is listed as `(~' resetchannels -@all)`, an unclosed quote when read
/// back). `ACL SETUSER x "(~))"` gives
/// the pattern `)`, which redis-server 7.0.15 lists as `(~) resetchannels
/// -@all)`, a selector `(~)` and a stray `-@all)` to ACL LOAD.
///
/// Likewise a first argument that a quoted selector rule gave a space, a
/// quote or a parenthesis: redis-server 7.0.15 lists `ACL SETUSER x
/// "(+select|'a b' ~k)"` as `(~k resetchannels -@all +select|a b)`
/// (tests/acl.rs).
///
/// Also as in Redis: a key pattern `*` with read and write access given as
/// `%RW~*` (a pattern, not `allkeys`) is listed as `~*`, which reads back
/// as `allkeys`, and a pattern after it is then refused: redis-server
/// 7.0.15 lists `ACL SETUSER x "(%RW~* ~foo)"` as `(~* ~foo resetchannels
/// -@all)` and refuses that selector (tests/acl.rs).
fn ambiguous(u: &User) -> bool {
    let odd = |p: &[u8]| p.iter().any(|b| b"()\"'".contains(b));
    u.selectors.iter().any(|s| {
        s.patterns.iter().any(|k| odd(&k.pattern))
            || s.channels.iter().any(|c| odd(c))
            || (s.patterns.len() > 1 && s.patterns.iter().any(|k| k.pattern == b"*"))
            || s.first_args().any(|a| odd(a) || a.iter().any(|b| b" \t\n\r\0".contains(b)))
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&control, text)) = data.split_first() else { return };
    let allchannels = control & 1 != 0;
    let rules: Vec<&[u8]> = text.split(|&b| b == b' ').filter(|w| !w.is_empty()).collect();
    let Some(first) = user(&rules, allchannels) else { return };
    if ambiguous(&first) {
        return;
    }
    let text = first.describe();
    let again: Vec<&[u8]> = text.split(|&b| b == b' ').filter(|w| !w.is_empty()).collect();
    let Some(second) = user(&again, allchannels) else {
        panic!("the description {:?} is refused", String::from_utf8_lossy(&text));
    };
    assert_eq!(
        String::from_utf8_lossy(&second.describe()),
        String::from_utf8_lossy(&text),
        "the description describes another user"
    );
    // The same calls are allowed: every command and subcommand with the
    // rules' own words as its arguments (keys, channels, first-args).
    let reg = table::registry();
    let words: Vec<&[u8]> = rules.iter().map(|w| w.trim_ascii_start()).collect();
    let step = 1 + usize::from(control >> 1) % 7;
    for id in (usize::from(control) % step..reg.entries.len()).step_by(step) {
        let e = &reg.entries[id];
        let mut argv: Vec<&[u8]> = e.fullname.split('|').map(str::as_bytes).collect();
        argv.extend(words.iter().take(4).map(|w| w.trim_start_matches(['~', '&', '%', 'R', 'W', '+', '-'])));
        if !e.cmd.arity_ok(argv.len()) {
            continue;
        }
        assert_eq!(first.check(id, &argv), second.check(id, &argv), "{} {:?}", e.fullname, argv);
    }
    for w in &words {
        assert_eq!(first.channel_ok(w, false), second.channel_ok(w, false));
        assert_eq!(first.channel_ok(w, true), second.channel_ok(w, true));
    }
});

trait Trim {
    fn trim_start_matches(&self, set: [char; 7]) -> &[u8];
}

impl Trim for &[u8] {
    fn trim_start_matches(&self, set: [char; 7]) -> &[u8] {
        let n = self.iter().take_while(|&&b| set.contains(&(b as char))).count();
        &self[n..]
    }
}
