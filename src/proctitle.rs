//! The process title (`set-proc-title`, `proc-title-template`): Redis's
//! template language (`{title} {listen-addr} {server-mode}`, `{{`/`}}`
//! for braces) and setting the title.
//!
//! Two places show it: the thread name (`/proc/PID/comm`, `top`, `ps -o
//! comm`: 15 bytes at most, so `{title}` is the executable's base name
//! there), and, in the ferrokv binary, the command line (`ps aux`,
//! `/proc/PID/cmdline`, `pgrep -f`), which Redis rewrites in place: the
//! memory where the kernel put the arguments and the environment, found in
//! `/proc/self/stat` once at start (see [`init`]), before any other thread
//! runs; the environment is copied out of it first.

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

/// The memory of the process's arguments and environment, once [`init`]
/// took it for titles: start and length.
static AREA: std::sync::OnceLock<(usize, usize)> = std::sync::OnceLock::new();

/// The executable as started (argv[0]), kept before the title overwrites it.
static ARGV0: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Takes the arguments' memory for the process title (the ferrokv binary
/// calls it first thing, before it starts any thread, as Redis's
/// `spt_init`): the environment's strings, which follow the arguments', are
/// copied to the heap and `environ` pointed at the copies, so the title may
/// use both areas. Linux only; without `/proc` nothing changes.
pub fn init() {
    let _ = ARGV0.set(std::env::args().next().unwrap_or_else(|| "ferrokv".into()));
    #[cfg(target_os = "linux")]
    if let Some(area) = args_area() {
        let _ = AREA.set(area);
    }
}

/// `arg_start`, `arg_end`, `env_start`, `env_end` of `/proc/self/stat`
/// (fields 48-51), when the environment directly follows the arguments;
/// moves the environment out (see [`init`]).
#[cfg(target_os = "linux")]
fn args_area() -> Option<(usize, usize)> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which may hold spaces: the state is
    // field 3.
    let rest: Vec<&str> = stat.get(stat.rfind(')')? + 2..)?.split_whitespace().collect();
    let field = |n: usize| rest.get(n - 3)?.parse::<usize>().ok();
    let (arg_start, arg_end, env_start, env_end) = (field(48)?, field(49)?, field(50)?, field(51)?);
    if arg_start == 0 || arg_end <= arg_start || env_start != arg_end || env_end < env_start {
        return None;
    }
    unsafe extern "C" {
        static mut environ: *mut *mut libc::c_char;
    }
    // SAFETY: no other thread runs yet (see `init`), so nothing reads the
    // environment meanwhile; each `environ` entry is a NUL-terminated
    // string, replaced by a copy that lives as long as the process (the
    // entries of the array are written in place, the array stays).
    unsafe {
        let env = environ;
        let mut i = 0;
        while !env.is_null() && !(*env.add(i)).is_null() {
            let entry = *env.add(i);
            if (entry as usize) >= env_start && (entry as usize) < env_end {
                let copy = std::ffi::CStr::from_ptr(entry).to_owned();
                *env.add(i) = copy.into_raw();
            }
            i += 1;
        }
    }
    Some((arg_start, env_end - arg_start))
}

/// Writes `title` over the arguments' memory (after [`init`]): the title,
/// then NULs to the end of the area, as Redis's `setproctitle`.
fn set_cmdline(title: &str) {
    let Some(&(start, len)) = AREA.get() else { return };
    let n = title.len().min(len - 1);
    // SAFETY: [start, start + len) is this process's argument and
    // environment memory, mapped and writable for its whole life; nothing
    // reads it through Rust (`init` kept argv[0], copied the environment
    // out) and only the thread setting titles writes it.
    unsafe {
        let area = std::slice::from_raw_parts_mut(start as *mut u8, len);
        area[..n].copy_from_slice(&title.as_bytes()[..n]);
        area[n..].fill(0);
    }
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

/// Sets the process title from `proc-title-template`: the command line
/// (with `{title}` the executable as started, as Redis) and the thread
/// name (with its base name).
pub fn set_from(config: &crate::config::Config) {
    let argv0 = ARGV0.get().cloned().unwrap_or_else(|| std::env::args().next().unwrap_or_default());
    let base = argv0.rsplit('/').next().unwrap_or("ferrokv").to_string();
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
    let mut vars = Vars {
        title: &argv0,
        listen_addr: &listen_addr,
        server_mode: "",
        port: &port,
        tls_port: &tls_port,
        unixsocket: &config.unixsocket,
        config_file: &config_file,
    };
    if let Some(t) = expand(&config.proc_title_template, &vars) {
        set_cmdline(&t);
    }
    vars.title = &base;
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
