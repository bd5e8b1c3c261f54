//! Glob-style matching with Redis's rules (`stringmatchlen` in util.c):
//! `*`, `?`, `[abc]`, `[^a]`, `[a-z]` and `\` escapes. Shared by CONFIG GET,
//! COMMAND LIST and, later, KEYS, SCAN and PSUBSCRIBE.
//!
//! Like Redis, it stops retrying longer matches for an earlier `*` once the
//! rest of the pattern failed everywhere, and gives up past 1000 nested
//! stars, so abusive patterns cannot take exponential time.

/// Whether `s` matches `pattern`.
pub fn matches(pattern: &[u8], s: &[u8], nocase: bool) -> bool {
    let mut skip_longer = false;
    match_impl(pattern, s, nocase, &mut skip_longer, 0)
}

fn lower(c: u8, nocase: bool) -> u8 {
    if nocase { c.to_ascii_lowercase() } else { c }
}

fn match_impl(pat: &[u8], s: &[u8], nocase: bool, skip_longer: &mut bool, nesting: u32) -> bool {
    if nesting > 1000 {
        return false;
    }
    let at = |i: usize| pat.get(i).copied().unwrap_or(0);
    let (mut p, mut i) = (0usize, 0usize);
    while p < pat.len() && i < s.len() {
        match pat[p] {
            b'*' => {
                while p + 1 < pat.len() && pat[p + 1] == b'*' {
                    p += 1;
                }
                if p + 1 == pat.len() {
                    return true;
                }
                while i < s.len() {
                    if match_impl(&pat[p + 1..], &s[i..], nocase, skip_longer, nesting + 1) {
                        return true;
                    }
                    if *skip_longer {
                        return false;
                    }
                    i += 1;
                }
                *skip_longer = true;
                return false;
            }
            b'?' => i += 1,
            b'[' => {
                p += 1;
                let not = at(p) == b'^';
                if not {
                    p += 1;
                }
                let mut matched = false;
                let c = s[i];
                loop {
                    if at(p) == b'\\' && pat.len() - p >= 2 {
                        p += 1;
                        if pat[p] == c {
                            matched = true;
                        }
                    } else if at(p) == b']' {
                        break;
                    } else if p >= pat.len() {
                        p -= 1;
                        break;
                    } else if pat.len() - p >= 3 && pat[p + 1] == b'-' {
                        let (mut lo, mut hi) = (lower(pat[p], nocase), lower(pat[p + 2], nocase));
                        if lo > hi {
                            std::mem::swap(&mut lo, &mut hi);
                        }
                        let cc = lower(c, nocase);
                        p += 2;
                        if cc >= lo && cc <= hi {
                            matched = true;
                        }
                    } else if lower(pat[p], nocase) == lower(c, nocase) {
                        matched = true;
                    }
                    p += 1;
                }
                if not {
                    matched = !matched;
                }
                if !matched {
                    return false;
                }
                i += 1;
            }
            ch => {
                let ch = if ch == b'\\' && pat.len() - p >= 2 {
                    p += 1;
                    pat[p]
                } else {
                    ch
                };
                if lower(ch, nocase) != lower(s[i], nocase) {
                    return false;
                }
                i += 1;
            }
        }
        p += 1;
        if i == s.len() {
            while at(p) == b'*' {
                p += 1;
            }
            break;
        }
    }
    p >= pat.len() && i == s.len()
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn redis_glob_rules() {
        let m = |p: &str, s: &str| matches(p.as_bytes(), s.as_bytes(), false);
        // Like Redis: the loop never runs for an empty string, so "*" does not match it.
        assert!(!m("*", ""));
        assert!(m("*", "anything"));
        assert!(m("h?llo", "hello"));
        assert!(!m("h?llo", "hllo"));
        assert!(m("h*llo", "heeeello"));
        assert!(m("h[ae]llo", "hallo"));
        assert!(!m("h[ae]llo", "hillo"));
        assert!(m("h[^e]llo", "hallo"));
        assert!(!m("h[^e]llo", "hello"));
        assert!(m("h[a-b]llo", "hbllo"));
        assert!(m("h[b-a]llo", "hallo"));
        assert!(m("h\\*llo", "h*llo"));
        assert!(!m("h\\*llo", "hello"));
        assert!(m("max*", "maxclients"));
        assert!(m("*-len", "proto-max-bulk-len"));
        assert!(!m("a*b", "acb_"));
        assert!(m("a*", "a"));
        assert!(m("[", "[") == m("[", "["));
        assert!(matches(b"MAX*", b"maxclients", true));
        assert!(!matches(b"MAX*", b"maxclients", false));
    }

    #[test]
    fn abusive_pattern_is_fast() {
        let pat = "a*".repeat(50) + "b";
        let s = "a".repeat(60);
        assert!(!matches(pat.as_bytes(), s.as_bytes(), false));
    }
}
