//! Logging: `simple_logger` to a terminal; otherwise (standard output a
//! pipe or a file, `logfile` set, or `syslog-enabled` on) a small logger
//! writing Redis's line format (`pid:M 03 Dec 2026 08:36:09.186 * message`)
//! to the file or standard output and sending each line to syslog
//! (`syslog-ident`, `syslog-facility`) at the matching priority.
//!
//! Like Redis's `serverLog`, a line that cannot be written is dropped: a
//! closed pipe on standard output (`ferrokv | head`) must not stop the
//! server, where `simple_logger`'s `println!` would panic.

use crate::config::Config;
use std::ffi::CString;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::sync::Mutex;

struct RedisLogger {
    /// None: standard output.
    file: Option<Mutex<File>>,
    syslog: bool,
}

impl log::Log for RedisLogger {
    fn enabled(&self, m: &log::Metadata) -> bool {
        m.level() <= log::max_level()
    }

    fn log(&self, r: &log::Record) {
        if !self.enabled(r.metadata()) {
            return;
        }
        let (mark, priority) = match r.level() {
            log::Level::Error | log::Level::Warn => ('#', libc::LOG_WARNING),
            log::Level::Info => ('*', libc::LOG_NOTICE),
            log::Level::Debug => ('-', libc::LOG_INFO),
            log::Level::Trace => ('.', libc::LOG_DEBUG),
        };
        let msg = r.args().to_string();
        let line = format!("{}:M {} {mark} {msg}\n", std::process::id(), timestamp(crate::clock::unix_ms()));
        match &self.file {
            Some(f) => {
                if let Ok(mut f) = f.lock() {
                    let _ = f.write_all(line.as_bytes());
                }
            }
            None => {
                let _ = std::io::stdout().write_all(line.as_bytes());
            }
        }
        if self.syslog
            && let Ok(text) = CString::new(msg.replace('\0', " "))
        {
            // SAFETY: a "%s" format with one NUL-terminated string.
            unsafe { libc::syslog(priority, c"%s".as_ptr(), text.as_ptr()) };
        }
    }

    fn flush(&self) {
        if let Some(f) = &self.file
            && let Ok(mut f) = f.lock()
        {
            let _ = f.flush();
        }
    }
}

/// A log line written before the config is read (Redis's role `C`), as
/// redis-server prints it to standard output then: a config file that
/// cannot be opened, the config read from standard input.
pub fn early_line(msg: &str) -> String {
    format!("{}:C {} # {msg}\n", std::process::id(), timestamp(crate::clock::unix_ms()))
}

/// Redis's log time stamp, in local time: `03 Dec 2026 08:36:09.186`.
fn timestamp(ms: u64) -> String {
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let secs = (ms / 1000) as libc::time_t;
    // SAFETY: localtime_r fills the zeroed `tm` we own from a valid time_t.
    let tm = unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        libc::localtime_r(&secs, &mut tm);
        tm
    };
    format!(
        "{:02} {} {} {:02}:{:02}:{:02}.{:03}",
        tm.tm_mday,
        MONTHS[tm.tm_mon.clamp(0, 11) as usize],
        tm.tm_year + 1900,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec,
        ms % 1000
    )
}

/// The syslog facility of a `syslog-facility` name.
fn facility(name: &str) -> libc::c_int {
    match name {
        "user" => libc::LOG_USER,
        "local1" => libc::LOG_LOCAL1,
        "local2" => libc::LOG_LOCAL2,
        "local3" => libc::LOG_LOCAL3,
        "local4" => libc::LOG_LOCAL4,
        "local5" => libc::LOG_LOCAL5,
        "local6" => libc::LOG_LOCAL6,
        "local7" => libc::LOG_LOCAL7,
        _ => libc::LOG_LOCAL0,
    }
}

/// Installs the logger the config asks for.
pub fn init(config: &Config) -> Result<(), String> {
    let level = config.loglevel.filter();
    let terminal = std::io::IsTerminal::is_terminal(&std::io::stdout());
    if config.logfile.is_empty() && !config.syslog_enabled && terminal {
        simple_logger::SimpleLogger::new().with_level(level).init().map_err(|e| e.to_string())?;
    } else {
        let file = if config.logfile.is_empty() {
            None
        } else {
            let f = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&config.logfile)
                .map_err(|e| format!("Can't open the log file: {}", crate::config::strerror(&e)))?;
            Some(Mutex::new(f))
        };
        if config.syslog_enabled {
            let ident = CString::new(config.syslog_ident.replace('\0', "")).unwrap_or_default();
            // openlog keeps the pointer: the identity lives as long as the
            // process.
            let ident: &'static std::ffi::CStr = Box::leak(ident.into_boxed_c_str());
            // SAFETY: a 'static NUL-terminated identity and plain flags.
            unsafe {
                libc::openlog(
                    ident.as_ptr(),
                    libc::LOG_PID | libc::LOG_NDELAY | libc::LOG_NOWAIT,
                    facility(config.syslog_facility),
                )
            };
        }
        log::set_boxed_logger(Box::new(RedisLogger { file, syslog: config.syslog_enabled }))
            .map_err(|e| e.to_string())?;
    }
    log::set_max_level(level);
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn timestamp_shape() {
        let t = super::timestamp(1_764_750_969_186);
        // `DD Mon YYYY HH:MM:SS.mmm` whatever the local zone.
        assert_eq!(t.len(), 24, "{t}");
        assert!(t.ends_with(".186"), "{t}");
        assert_eq!(&t[2..3], " ");
    }
}
