//! Applying a changed configuration to the running server (CONFIG SET):
//! what Redis does in its `apply` functions — rebinding the listeners when
//! `port` or `bind` changed, the log level, idle timers, eviction,
//! tracking and notification state, the OOM score, the process title.

use super::state::Shared;
use crate::config::Config;

impl Shared {
    /// Applies `watchdog-period` (on the loop's thread: its timer aims
    /// there); the period becomes the one in effect, as Redis raises one
    /// shorter than two cron ticks.
    pub fn apply_watchdog(&mut self) {
        match self.watchdog.apply(self.config.watchdog_period, self.config.hz) {
            Ok(ms) => self.config.watchdog_period = ms,
            Err(e) => log::warn!("Unable to arm the watchdog timer: {e}"),
        }
    }

    /// Makes the server follow `self.config`, which replaced `old`. On an
    /// error (named by its option) the caller puts `old` back.
    pub fn apply_config(&mut self, old: &Config) -> Result<(), (&'static str, String)> {
        let c = &self.config;
        if c.port != old.port || c.bind != old.bind {
            let which = if c.port != old.port { "port" } else { "bind" };
            let mut config = self.config.clone();
            if let Some(l) = self.listeners.as_mut()
                && let Err(e) = l.rebind(&mut config, c.bind != old.bind)
            {
                log::warn!("Could not create server TCP listening socket {}: {}", e.addr, e.error);
                let text = if which == "port" {
                    "Unable to listen on this port. Check server logs."
                } else {
                    "Failed to bind to specified addresses."
                };
                return Err((which, text.into()));
            }
            self.port = config.port;
        }
        if let Some(l) = self.listeners.as_mut() {
            l.apply_tls(&self.config, old)?;
        }
        if self.config.maxclients != old.maxclients {
            // Redis's updateMaxclients: the open-files limit must follow.
            let asked = self.config.maxclients;
            let fits = crate::process::adjust_open_files_limit(asked).map_err(|e| ("maxclients", e))?;
            if fits != asked {
                return Err((
                    "maxclients",
                    format!(
                        "The operating system is not able to handle the specified number of clients, try with {fits}"
                    ),
                ));
            }
        }
        if self.config.requirepass != old.requirepass {
            self.apply_requirepass();
        }
        if self.config.repl_backlog_size != old.repl_backlog_size {
            self.resize_backlog();
        }
        if self.config.timeout != old.timeout {
            self.requests.rearm_idle = true;
        }
        log::set_max_level(self.config.loglevel.filter());
        if self.config.oom_score_adj != old.oom_score_adj
            || self.config.oom_score_adj_values != old.oom_score_adj_values
        {
            crate::process::set_oom_score_adj(&self.config).map_err(|_| {
                ("oom-score-adj", "Failed to set current oom_score_adj. Check server logs.".to_string())
            })?;
        }
        if self.config.appendonly != old.appendonly {
            let on = self.config.appendonly;
            self.aof_switch(on, super::unix_ms()).map_err(|e| {
                log::warn!("{e}");
                ("appendonly", "Unable to turn on AOF. Check server logs.".to_string())
            })?;
        }
        if self.config.appendfsync != old.appendfsync
            && let Some(w) = &self.aof.writer
        {
            w.status.set_policy(crate::persist::aof::Fsync::from_name(self.config.appendfsync));
        }
        if self.config.watchdog_period != old.watchdog_period {
            self.apply_watchdog();
        }
        if self.config.proc_title_template != old.proc_title_template && self.config.set_proc_title {
            // Redis's updateProcTitleTemplate: the new title at once.
            crate::proctitle::set_from(&self.config);
        }
        self.prop.timestamps = self.config.aof_timestamp_enabled;
        let changed = self.config.maxmemory != old.maxmemory;
        self.sync_tracking();
        self.sync_notify();
        let used = self.used_for_maxmemory();
        let max = self.config.maxmemory as usize;
        if max != 0 && used > max {
            if changed {
                log::warn!(
                    "WARNING: the new maxmemory value set via CONFIG SET ({max}) is smaller than the current memory usage ({used}). This will result in key eviction and/or the inability to accept new write commands depending on the maxmemory-policy."
                );
            }
            self.evicting = true;
        }
        Ok(())
    }
}
