//! The process around the server, as redis-server sets it up: detaching
//! (`daemonize`), the pid file, telling a supervisor it is ready
//! (`supervised`), the OOM score (`oom-score-adj`), transparent huge pages
//! (`disable-thp`), CPU affinity (`server_cpulist`, `bio_cpulist`) and the
//! crash report (`crash-log-enabled`).

use crate::config::Config;
use std::io;

/// `daemonize yes`: forks; the parent exits at once, the child starts a
/// new session with standard input and output on /dev/null (Redis's
/// daemonize()). Call before any thread starts.
pub fn daemonize() -> io::Result<()> {
    // SAFETY: fork() in a process with one thread (main, before the server
    // starts any); the child only continues the same program.
    match unsafe { libc::fork() } {
        -1 => return Err(io::Error::last_os_error()),
        0 => {}
        _ => std::process::exit(0),
    }
    // SAFETY: setsid/open/dup2/close on descriptors this process owns; the
    // path is a NUL-terminated literal.
    unsafe {
        libc::setsid();
        let fd = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR, 0);
        if fd != -1 {
            libc::dup2(fd, libc::STDIN_FILENO);
            libc::dup2(fd, libc::STDOUT_FILENO);
            libc::dup2(fd, libc::STDERR_FILENO);
            if fd > libc::STDERR_FILENO {
                libc::close(fd);
            }
        }
    }
    Ok(())
}

/// The pid file to write: `pidfile`, or Redis's default when daemonized
/// without one.
pub fn pidfile(config: &Config) -> Option<String> {
    match (&config.pidfile, config.daemonize) {
        (p, _) if !p.is_empty() => Some(p.clone()),
        (_, true) => Some("/var/run/redis.pid".into()),
        _ => None,
    }
}

/// Writes the pid file; a failure is logged, not fatal, as in Redis.
pub fn write_pidfile(path: &str) {
    if let Err(e) = std::fs::write(path, format!("{}\n", std::process::id())) {
        log::warn!("Failed to write PID file: {}", crate::config::strerror(&e));
    }
}

/// The supervisor detected for `supervised` (Redis's redisIsSupervised):
/// `Some("systemd")` or `Some("upstart")`, `None` when not supervised.
pub fn supervisor(config: &Config) -> Option<&'static str> {
    let systemd = std::env::var_os("NOTIFY_SOCKET").is_some();
    let upstart = std::env::var_os("UPSTART_JOB").is_some();
    match config.supervised {
        "systemd" if systemd => Some("systemd"),
        "systemd" => {
            log::warn!("systemd supervision requested or auto-detected, but NOTIFY_SOCKET not found!");
            None
        }
        "upstart" if upstart => Some("upstart"),
        "upstart" => {
            log::warn!("upstart supervision requested, but UPSTART_JOB not found!");
            None
        }
        "auto" if upstart => Some("upstart"),
        "auto" if systemd => Some("systemd"),
        _ => None,
    }
}

/// Tells the supervisor the server is ready to accept connections.
pub fn notify_ready(supervisor: Option<&str>) {
    match supervisor {
        Some("systemd") => {
            log::info!(
                "Supervised by systemd. Please make sure you set appropriate values for TimeoutStartSec and TimeoutStopSec in your service unit."
            );
            if let Err(e) = sd_notify("STATUS=Ready to accept connections\nREADY=1\n") {
                log::warn!("Can't send notification to systemd: {e}");
            }
        }
        Some("upstart") => {
            log::info!("supervised by upstart, will stop to signal readiness.");
            // SAFETY: raise() of a signal whose default action stops the
            // process; upstart resumes it.
            unsafe {
                libc::raise(libc::SIGSTOP);
            }
        }
        _ => {}
    }
}

/// Sends `state` to systemd's notification socket.
pub fn sd_notify(state: &str) -> io::Result<()> {
    use std::os::unix::net::{SocketAddr, UnixDatagram};
    let path = std::env::var("NOTIFY_SOCKET").map_err(|_| io::Error::other("NOTIFY_SOCKET not set"))?;
    let sock = UnixDatagram::unbound()?;
    match path.strip_prefix('@') {
        Some(name) => {
            use std::os::linux::net::SocketAddrExt;
            let addr = SocketAddr::from_abstract_name(name.as_bytes())?;
            sock.send_to_addr(state.as_bytes(), &addr)?;
        }
        None => {
            sock.send_to(state.as_bytes(), &path)?;
        }
    }
    Ok(())
}

/// While ferrokv has changed the process's oom_score_adj: the value it
/// had before (Redis's `oom_score_adjusted_by_redis` and
/// `oom_score_adj_base`).
static OOM_BASE: std::sync::Mutex<Option<i32>> = std::sync::Mutex::new(None);

/// Applies `oom-score-adj` (Redis's setOOMScoreAdj): `relative`/`yes`
/// adds the first of `oom-score-adj-values` to the value the process had
/// when ferrokv first changed it, `absolute` sets it, `no` puts that
/// value back once and then leaves the file alone (another tool may set
/// it meanwhile; the next `yes` reads it again).
pub fn set_oom_score_adj(config: &Config) -> io::Result<()> {
    const PATH: &str = "/proc/self/oom_score_adj";
    let mut saved = OOM_BASE.lock().unwrap_or_else(|e| e.into_inner());
    let value = if config.oom_score_adj != "no" {
        let base = match *saved {
            Some(b) => b,
            None => {
                let text = std::fs::read_to_string(PATH).inspect_err(|e| {
                    log::warn!("Unable to read oom_score_adj: {}", crate::config::strerror(e));
                })?;
                // atoi, as Redis reads it.
                *saved.insert(text.trim().parse().unwrap_or(0))
            }
        };
        match config.oom_score_adj {
            "absolute" => config.oom_score_adj_values[0],
            _ => base + config.oom_score_adj_values[0],
        }
        .clamp(-1000, 1000)
    } else if let Some(base) = saved.take() {
        base
    } else {
        return Ok(());
    };
    std::fs::write(PATH, format!("{value}\n")).inspect_err(|e| {
        log::warn!("Unable to write oom_score_adj: {}", crate::config::strerror(e));
    })
}

/// File descriptors Redis keeps for itself beyond `maxclients`
/// (`CONFIG_MIN_RESERVED_FDS`: listeners, the log, persistence files).
pub const RESERVED_FDS: u64 = 32;

/// Redis's `adjustOpenFilesLimit`: raises the open-files limit to
/// `maxclients` + 32 when it is lower, stepping down 16 at a time to the
/// highest the system allows, and returns the `maxclients` that fits (the
/// one asked for, or the limit minus 32, with Redis's three warnings).
/// `Err` with Redis's message when not even 33 descriptors are available
/// (the server then exits).
pub fn adjust_open_files_limit(maxclients: usize) -> Result<usize, String> {
    let maxfiles = maxclients as u64 + RESERVED_FDS;
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit writes one rlimit through a valid pointer.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == -1 {
        let e = io::Error::last_os_error();
        log::warn!(
            "Unable to obtain the current NOFILE limit ({}), assuming 1024 and setting the max clients configuration accordingly.",
            crate::config::strerror(&e)
        );
        return Ok((1024 - RESERVED_FDS) as usize);
    }
    let old = limit.rlim_cur;
    if old >= maxfiles {
        return Ok(maxclients);
    }
    let mut best = maxfiles;
    let mut error = None;
    while best > old {
        let want = libc::rlimit { rlim_cur: best, rlim_max: best };
        // SAFETY: setrlimit reads one rlimit through a valid pointer.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &want) } != -1 {
            break;
        }
        error = Some(io::Error::last_os_error());
        if best < 16 {
            break;
        }
        best -= 16;
    }
    let best = best.max(old);
    if best >= maxfiles {
        log::info!("Increased maximum number of open files to {maxfiles} (it was originally set to {old}).");
        return Ok(maxclients);
    }
    if best <= RESERVED_FDS {
        let text = format!(
            "Your current 'ulimit -n' of {old} is not enough for the server to start. Please increase your open file limit to at least {maxfiles}. Exiting."
        );
        log::warn!("{text}");
        return Err(text);
    }
    let reduced = (best - RESERVED_FDS) as usize;
    log::warn!("You requested maxclients of {maxclients} requiring at least {maxfiles} max file descriptors.");
    let why = error.map(|e| crate::config::strerror(&e)).unwrap_or_default();
    log::warn!("Server can't set maximum open files to {maxfiles} because of OS error: {why}.");
    log::warn!(
        "Current maximum open files is {best}. maxclients has been reduced to {reduced} to compensate for low ulimit. If you need higher maxclients increase 'ulimit -n'."
    );
    Ok(reduced)
}

/// `disable-thp yes`: turns transparent huge pages off for this process
/// when the system has them always on (their copy-on-write and latency
/// cost), as Redis does.
pub fn disable_thp(config: &Config) {
    if !config.disable_thp {
        return;
    }
    let mode = std::fs::read_to_string("/sys/kernel/mm/transparent_hugepage/enabled").unwrap_or_default();
    if mode.contains("[always]") {
        // SAFETY: PR_SET_THP_DISABLE takes plain integers.
        unsafe {
            libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
        }
    }
}

/// Parses a Redis cpu list (`0,2-3,8-15:2`) into CPU numbers; `None` when
/// malformed.
pub fn parse_cpulist(list: &str) -> Option<Vec<usize>> {
    let mut cpus = Vec::new();
    for part in list.split(',').filter(|p| !p.is_empty()) {
        let (range, step) = match part.split_once(':') {
            Some((r, s)) => (r, s.parse::<usize>().ok().filter(|s| *s > 0)?),
            None => (part, 1),
        };
        let (a, b) = match range.split_once('-') {
            Some((a, b)) => (a.parse::<usize>().ok()?, b.parse::<usize>().ok()?),
            None => {
                let n = range.parse::<usize>().ok()?;
                (n, n)
            }
        };
        if a > b || b >= 1024 {
            return None;
        }
        cpus.extend((a..=b).step_by(step));
    }
    Some(cpus)
}

/// Pins the calling thread to the CPUs of `list` (empty: no change).
pub fn set_affinity(list: &str) {
    if list.is_empty() {
        return;
    }
    let Some(cpus) = parse_cpulist(list) else {
        log::warn!("Invalid cpu list '{list}', CPU affinity not set");
        return;
    };
    // SAFETY: cpu_set_t is plain data, zero-initialised, filled by CPU_SET
    // with numbers below CPU_SETSIZE (1024, checked by parse_cpulist), and
    // passed with its size.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        for cpu in cpus {
            libc::CPU_SET(cpu, &mut set);
        }
        if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
            log::warn!("Can't set CPU affinity '{list}': {}", io::Error::last_os_error());
        }
    }
}

/// `crash-log-enabled yes`: a panic logs Redis's bug-report frame with the
/// message, the location and a backtrace, then the default hook runs.
pub fn install_crash_log() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let backtrace = std::backtrace::Backtrace::force_capture();
        log::error!("\n\n=== REDIS BUG REPORT START: Cut & paste starting from here ===");
        log::error!("------ CRASH ------\n{info}\n------ STACK TRACE ------\n{backtrace}");
        log::error!("=== REDIS BUG REPORT END. Make sure to include from START to END. ===");
        default(info);
    }));
}

/// Where signal handlers write (the crash report, "You insist"): the log
/// file's path (NUL-terminated, for `open` in a handler) or null for
/// standard output.
static RAW_LOG: std::sync::atomic::AtomicPtr<libc::c_char> = std::sync::atomic::AtomicPtr::new(std::ptr::null_mut());

/// Sets where signal handlers write: `logfile` (made absolute now, as the
/// working directory may change), or standard output when empty.
pub fn set_raw_log(logfile: &str) {
    if !logfile.is_empty()
        && let Ok(path) = std::ffi::CString::new(crate::config::absolute_path(logfile).as_os_str().as_encoded_bytes())
    {
        RAW_LOG.store(path.into_raw(), std::sync::atomic::Ordering::SeqCst);
    }
}

/// Opens the raw log (see [`set_raw_log`]) from a signal handler: the file
/// descriptor, and whether to close it after.
///
/// # Safety
/// Async-signal-safe: `open` of a path that lives as long as the process.
pub unsafe fn raw_log_fd() -> (libc::c_int, bool) {
    let path = RAW_LOG.load(std::sync::atomic::Ordering::SeqCst);
    if path.is_null() {
        return (1, false);
    }
    // SAFETY: `path` is a NUL-terminated string leaked by `set_raw_log`.
    let fd = unsafe { libc::open(path, libc::O_WRONLY | libc::O_APPEND | libc::O_CREAT, 0o644) };
    (fd, true)
}

/// Writes one log line from a signal handler, in Redis's shape (`pid:M
/// # message`, without the time, which would need the C library's
/// non-reentrant calls).
///
/// # Safety
/// Async-signal-safe: `open`, `write`, `close`, `getpid`, no allocation.
pub unsafe fn raw_log_line(msg: &[u8]) {
    // SAFETY: see the function's contract.
    unsafe {
        let (fd, close) = raw_log_fd();
        let mut pid = itoa::Buffer::new();
        for part in [pid.format(libc::getpid()).as_bytes(), b":M # ", msg, b"\n"] {
            libc::write(fd, part.as_ptr().cast(), part.len());
        }
        if close {
            libc::close(fd);
        }
    }
}

/// `crash-log-enabled yes`: SIGSEGV, SIGBUS, SIGFPE, SIGILL and SIGABRT
/// write Redis's bug report (`crashed by signal`, then the stack as glibc's
/// `backtrace_symbols_fd` writes it) to the raw log (see [`set_raw_log`]),
/// and then the signal does what it would have done (a core dump if
/// enabled), as Redis's `sigsegvHandler`. The handler allocates nothing and
/// takes no lock: it may run after the heap was corrupted.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn install_crash_signals() {
    // SAFETY: `backtrace` fills the array it is given (a first call loads
    // the unwinder, which allocates: done here, not in the handler); the
    // sigaction struct is zeroed plain data with a handler of the
    // SA_SIGINFO signature, installed for signals the process may take.
    unsafe {
        let mut frames = [std::ptr::null_mut::<libc::c_void>(); 4];
        libc::backtrace(frames.as_mut_ptr(), frames.len() as libc::c_int);
        let mut act: libc::sigaction = std::mem::zeroed();
        act.sa_sigaction = on_crash as *const () as usize;
        act.sa_flags = libc::SA_SIGINFO | libc::SA_NODEFER | libc::SA_RESETHAND | libc::SA_ONSTACK;
        libc::sigemptyset(&mut act.sa_mask);
        for sig in [libc::SIGSEGV, libc::SIGBUS, libc::SIGFPE, libc::SIGILL, libc::SIGABRT] {
            libc::sigaction(sig, &act, std::ptr::null_mut());
        }
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn install_crash_signals() {}

/// The crash handler (see [`install_crash_signals`]).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
extern "C" fn on_crash(sig: libc::c_int, info: *mut libc::siginfo_t, _ctx: *mut libc::c_void) {
    // SAFETY: only async-signal-safe calls (open, write, getpid, raise,
    // backtrace once loaded, backtrace_symbols_fd) on buffers of this
    // frame; `info` is the kernel's siginfo for this signal.
    unsafe {
        let (fd, close) = raw_log_fd();
        let put = |bytes: &[u8]| {
            libc::write(fd, bytes.as_ptr().cast(), bytes.len());
        };
        let mut pid = itoa::Buffer::new();
        let pid = pid.format(libc::getpid());
        let mut num = itoa::Buffer::new();
        put(b"\n\n=== REDIS BUG REPORT START: Cut & paste starting from here ===\n");
        put(pid.as_bytes());
        put(b":M # Redis ");
        put(crate::REDIS_VERSION.as_bytes());
        put(b" crashed by signal: ");
        put(num.format(sig).as_bytes());
        put(b", si_code: ");
        put(num.format(if info.is_null() { 0 } else { (*info).si_code }).as_bytes());
        put(b"\n\n------ STACK TRACE ------\n");
        let mut frames = [std::ptr::null_mut::<libc::c_void>(); 100];
        let n = libc::backtrace(frames.as_mut_ptr(), frames.len() as libc::c_int);
        libc::backtrace_symbols_fd(frames.as_ptr(), n, fd);
        put(b"\n=== REDIS BUG REPORT END. Make sure to include from START to END. ===\n\n");
        if close {
            libc::close(fd);
        }
        // SA_RESETHAND put the default action back: the signal again ends
        // the process as it would have.
        libc::raise(sig);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_lists_as_redis() {
        assert_eq!(parse_cpulist("0,2-3"), Some(vec![0, 2, 3]));
        assert_eq!(parse_cpulist("0-7:2"), Some(vec![0, 2, 4, 6]));
        assert_eq!(parse_cpulist("3-1"), None);
        assert_eq!(parse_cpulist("x"), None);
        assert_eq!(parse_cpulist("1-2:0"), None);
    }
}
