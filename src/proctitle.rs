//! The process title (`set-proc-title`, `proc-title-template`): Redis's
//! template language (`{title} {listen-addr} {server-mode}`, `{{`/`}}`
//! for braces) and setting the title.
//!
//! Redis rewrites its argv memory; ferrokv sets the thread name that `ps -o
//! comm`, `top` and `/proc/PID/comm` show (15 bytes at most), which needs
//! no unsafe writes over memory Rust's runtime owns.

/// The values a template may use.
pub struct Vars<'a> {
    pub title: &'a str,
    pub listen_addr: &'a str,
    pub server_mode: &'a str,
    pub port: &'a str,
    pub tls_port: &'a str,
    pub unixsocket: &'a str,
    pub config_file: &'a str,
}

/// Expands `template` (Redis's sdstemplate), trimmed of spaces; `None` for
/// an unknown variable or an unbalanced brace.
pub fn expand(template: &str, v: &Vars) -> Option<String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(c) = rest.chars().next() {
        if let Some(after) = rest.strip_prefix("{{") {
            out.push('{');
            rest = after;
        } else if let Some(after) = rest.strip_prefix("}}") {
            out.push('}');
            rest = after;
        } else if c == '}' {
            return None;
        } else if c == '{' {
            let end = rest.find('}')?;
            out.push_str(match &rest[1..end] {
                "title" => v.title,
                "listen-addr" => v.listen_addr,
                "server-mode" => v.server_mode,
                "port" => v.port,
                "tls-port" => v.tls_port,
                "unixsocket" => v.unixsocket,
                "config-file" => v.config_file,
                _ => return None,
            });
            rest = &rest[end + 1..];
        } else {
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    Some(out.trim_matches(' ').to_string())
}

/// Redis's validateProcTitleTemplate: it expands, to something not empty.
pub fn validate(template: &str) -> bool {
    let vars = Vars {
        title: "",
        listen_addr: "*:6379",
        server_mode: "",
        port: "6379",
        tls_port: "0",
        unixsocket: "",
        config_file: "",
    };
    expand(template, &vars).is_some_and(|t| !t.is_empty())
}

/// Sets the calling thread's name (the main thread's is the process's
/// `comm`) to the first 15 bytes of `title`.
pub fn set(title: &str) {
    let mut name = [0u8; 16];
    let bytes = title.as_bytes();
    let n = bytes.len().min(15);
    name[..n].copy_from_slice(&bytes[..n]);
    // SAFETY: PR_SET_NAME reads a NUL-terminated string of at most 16
    // bytes from the pointer; `name` is 16 bytes and ends with a NUL.
    unsafe {
        libc::prctl(libc::PR_SET_NAME, name.as_ptr() as libc::c_ulong, 0, 0, 0);
    }
}

/// Sets the process title from `proc-title-template`.
pub fn set_from(config: &crate::config::Config) {
    let title = std::env::args().next().unwrap_or_default();
    let title = title.rsplit('/').next().unwrap_or("ferrokv").to_string();
    let tls_port: u16 = config.get("tls-port").and_then(|p| p.parse().ok()).unwrap_or(0);
    let listen_addr = if config.port != 0 || tls_port != 0 {
        // As Redis: the TLS port when there is no plain one.
        let port = if config.port != 0 { config.port } else { tls_port };
        format!("{}:{}", config.bind.first().map(|b| b.trim_start_matches('-')).unwrap_or("*"), port)
    } else {
        config.unixsocket.clone()
    };
    let port = config.port.to_string();
    let tls_port = tls_port.to_string();
    let config_file = config.config_file.as_ref().map(|p| p.to_string_lossy().into_owned()).unwrap_or_default();
    let vars = Vars {
        title: &title,
        listen_addr: &listen_addr,
        server_mode: "",
        port: &port,
        tls_port: &tls_port,
        unixsocket: &config.unixsocket,
        config_file: &config_file,
    };
    if let Some(t) = expand(&config.proc_title_template, &vars) {
        set(&t);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_as_redis() {
        assert!(validate("{title} {listen-addr} {server-mode}"));
        assert!(validate("{title} {port} {{x}}"));
        assert!(!validate(""));
        assert!(!validate("{title}"));
        assert!(!validate("{foo}"));
        assert!(!validate("{title"));
        assert!(!validate("a}b"));
        let v = Vars {
            title: "ferrokv",
            listen_addr: "127.0.0.1:6379",
            server_mode: "",
            port: "6379",
            tls_port: "0",
            unixsocket: "",
            config_file: "",
        };
        assert_eq!(expand("{title} {listen-addr} {server-mode}", &v).unwrap(), "ferrokv 127.0.0.1:6379");
    }
}
