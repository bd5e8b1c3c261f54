//! Logging: `simple_logger` to standard output, or, when `logfile` is set,
//! a small logger appending Redis-style lines to that file.

use crate::config::Config;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::sync::Mutex;

struct FileLogger {
    file: Mutex<File>,
}

impl log::Log for FileLogger {
    fn enabled(&self, m: &log::Metadata) -> bool {
        m.level() <= log::max_level()
    }

    fn log(&self, r: &log::Record) {
        if !self.enabled(r.metadata()) {
            return;
        }
        let mark = match r.level() {
            log::Level::Error | log::Level::Warn => '#',
            log::Level::Info => '*',
            log::Level::Debug => '-',
            log::Level::Trace => '.',
        };
        let ms = crate::server::unix_ms();
        let line = format!("{}:M {}.{:03} {} {}\n", std::process::id(), ms / 1000, ms % 1000, mark, r.args());
        if let Ok(mut f) = self.file.lock() {
            let _ = f.write_all(line.as_bytes());
        }
    }

    fn flush(&self) {
        if let Ok(mut f) = self.file.lock() {
            let _ = f.flush();
        }
    }
}

/// Installs the logger the config asks for.
pub fn init(config: &Config) -> Result<(), String> {
    let level = config.loglevel.filter();
    if config.logfile.is_empty() {
        simple_logger::SimpleLogger::new().with_level(level).init().map_err(|e| e.to_string())?;
    } else {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&config.logfile)
            .map_err(|e| format!("Can't open the log file: {} ({e})", config.logfile))?;
        log::set_boxed_logger(Box::new(FileLogger { file: Mutex::new(file) })).map_err(|e| e.to_string())?;
    }
    log::set_max_level(level);
    Ok(())
}
