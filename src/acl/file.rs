//! The ACL file (`aclfile`): `user <name> <rules...>` lines, read whole
//! by ACL LOAD and at start, written by ACL SAVE (Redis's
//! `ACLLoadFromFile` / `ACLSaveToFile`). A file with any error changes
//! nothing; the errors are collected into one line, as Redis reports them.

use super::{Acl, User, has_spaces, merge_selectors};
use std::io::Write;

/// The users of an ACL file's `text` (read from `path`, named in errors),
/// or Redis's one-line description of every error found.
pub fn parse(path: &str, text: &[u8], allchannels: bool) -> Result<Vec<User>, String> {
    let mut users: Vec<User> = Vec::new();
    let mut errors = String::new();
    for (i, raw) in text.split(|&b| b == b'\n').enumerate() {
        let linenum = i + 1;
        let line = trim(raw, b" \t\r\n");
        if line.is_empty() {
            continue;
        }
        // Split on single spaces, as Redis's sdssplitlen does here.
        let argv: Vec<&[u8]> = line.split(|&b| b == b' ').filter(|a| !a.is_empty()).collect();
        if argv.is_empty() {
            continue;
        }
        if argv[0] != b"user" || argv.len() < 2 {
            errors.push_str(&format!("{path}:{linenum} should start with user keyword followed by the username. "));
            continue;
        }
        if has_spaces(argv[1]) {
            errors.push_str(&format!(
                "'{path}:{linenum}: username '{}' contains invalid characters. ",
                String::from_utf8_lossy(argv[1])
            ));
            continue;
        }
        if users.iter().any(|u| u.name == argv[1]) {
            errors.push_str(&format!(
                "WARNING: Duplicate user '{}' found on line {linenum}. ",
                String::from_utf8_lossy(argv[1])
            ));
            continue;
        }
        let mut user = User::new(argv[1], allchannels);
        match merge_selectors(&argv[2..]) {
            Err(_) => {
                errors.push_str(&format!("{path}:{linenum}: Unmatched parenthesis in selector definition."));
            }
            Ok(ops) => {
                for op in ops {
                    let op = trim(&op, b"\t\r\n");
                    if let Err(e) = user.apply(op, allchannels) {
                        errors.push_str(&format!(
                            "{path}:{linenum}: Error in applying operation '{}': {}. ",
                            String::from_utf8_lossy(op),
                            e.text()
                        ));
                    }
                }
            }
        }
        users.push(user);
    }
    if errors.is_empty() {
        Ok(users)
    } else {
        errors.push_str("WARNING: ACL errors detected, no change to the previously active ACL rules was performed");
        Err(errors)
    }
}

fn trim<'a>(s: &'a [u8], set: &[u8]) -> &'a [u8] {
    let start = s.iter().position(|b| !set.contains(b)).unwrap_or(s.len());
    let end = s.iter().rposition(|b| !set.contains(b)).map_or(start, |e| e + 1);
    &s[start..end]
}

/// Reads the users of the ACL file at `path`.
pub fn load(path: &str, allchannels: bool) -> Result<Vec<User>, String> {
    let text = std::fs::read(path)
        .map_err(|e| format!("Error loading ACLs, opening file '{path}': {}", crate::config::strerror(&e)))?;
    parse(path, &text, allchannels)
}

/// The file's text for the users of `acl`: one `user` line each.
pub fn render(acl: &Acl) -> Vec<u8> {
    let mut out = Vec::new();
    for u in acl.users() {
        out.extend_from_slice(b"user ");
        out.extend_from_slice(&u.name);
        out.push(b' ');
        out.extend_from_slice(&u.describe());
        out.push(b'\n');
    }
    out
}

/// ACL SAVE: writes a temporary file beside `path`, then renames it over.
pub fn save(acl: &Acl, path: &str) -> std::io::Result<()> {
    let tmp = format!("{path}.tmp-{}-{}", std::process::id(), crate::server::unix_ms());
    let result = (|| {
        let mut f = std::fs::OpenOptions::new().write(true).create(true).truncate(true).open(&tmp)?;
        f.write_all(&render(acl))?;
        drop(f);
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = &result {
        log::warn!("Saving the ACL file: {e}");
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_collected_and_nothing_is_loaded() {
        let text = b"user alice on >pw ~* +@all\n\nfoo bar\nuser alice off\nuser bob +nope\n";
        let e = parse("users.acl", text, false).unwrap_err();
        assert_eq!(
            e,
            "users.acl:3 should start with user keyword followed by the username. \
             WARNING: Duplicate user 'alice' found on line 4. \
             users.acl:5: Error in applying operation '+nope': Unknown command or category name in ACL. \
             WARNING: ACL errors detected, no change to the previously active ACL rules was performed"
        );
        let users = parse("users.acl", b"user alice on nopass (+get ~x) \n", false).unwrap();
        assert_eq!(users[0].selectors.len(), 2);
    }
}
