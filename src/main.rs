//! The `ferrokv` binary: `ferrokv [/path/to/redis.conf | -] [--option value ...]`,
//! started the way redis-server starts: configuration, logging, detaching,
//! process settings, listening sockets, then the event loop, with Redis's
//! log lines at each step (tools wait for "Ready to accept connections").

use ferrokv::{Config, logging, process, server::Server};
use std::process::ExitCode;

fn main() -> ExitCode {
    // Before any thread starts (see `proctitle::init`).
    ferrokv::proctitle::init();
    let argv0 = std::env::args().next().unwrap_or_else(|| "ferrokv".into());
    let args: Vec<String> = std::env::args().skip(1).collect();
    // As redis-server, only a first argument asks for these.
    let first = args.first().map_or("", String::as_str);
    if first == "-h" || first == "--help" {
        println!("Usage: ferrokv [/path/to/redis.conf | -] [--port 6379] [--bind 127.0.0.1] [--option value ...]");
        println!("       ferrokv -v or --version");
        println!("       ferrokv --commands-md | --config-md   (the docs tables)");
        return ExitCode::SUCCESS;
    }
    if first == "--commands-md" {
        print!("{}", ferrokv::cmd::table::markdown());
        return ExitCode::SUCCESS;
    }
    if first == "--config-md" {
        print!("{}", ferrokv::config::markdown());
        return ExitCode::SUCCESS;
    }
    if first == "-v" || first == "--version" {
        println!("{}", version_line());
        return ExitCode::SUCCESS;
    }
    let mut config = match Config::from_args(&args) {
        Ok(c) => c,
        Err(e) if e.starts_with("\n*** FATAL CONFIG FILE ERROR") => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
        Err(e) => {
            // Logged, as redis-server does before it has read its config.
            print!("{}", ferrokv::logging::early_line(&e));
            return ExitCode::FAILURE;
        }
    };
    if let Err(e) = logging::init(&config) {
        eprintln!("{e}");
        return ExitCode::FAILURE;
    }
    log::warn!("oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo");
    log::warn!(
        "Redis version={}, bits=64, commit=00000000, modified=0, pid={}, just started (ferrokv {})",
        ferrokv::REDIS_VERSION,
        std::process::id(),
        env!("CARGO_PKG_VERSION")
    );
    if args.is_empty() {
        log::warn!(
            "Warning: no config file specified, using the default config. In order to specify a config file use {argv0} /path/to/redis.conf"
        );
    } else {
        log::warn!("Configuration loaded");
    }
    process::set_raw_log(&config.logfile);
    if config.crash_log_enabled {
        process::install_crash_log();
        process::install_crash_signals();
    }
    let supervisor = process::supervisor(&config);
    if config.daemonize
        && supervisor.is_none()
        && let Err(e) = process::daemonize()
    {
        log::error!("Can't daemonize: {e}");
        return ExitCode::FAILURE;
    }
    if !config.dir.is_empty()
        && let Err(e) = std::env::set_current_dir(&config.dir)
    {
        log::error!("Can't chdir to '{}': {e}", config.dir);
        return ExitCode::FAILURE;
    }
    process::set_affinity(&config.server_cpulist);
    process::disable_thp(&config);
    let _ = process::set_oom_score_adj(&config);
    match process::adjust_open_files_limit(config.maxclients) {
        Ok(n) => config.maxclients = n,
        Err(_) => return ExitCode::FAILURE,
    }
    let pidfile = process::pidfile(&config);
    if let Some(path) = &pidfile {
        process::write_pidfile(path);
    }
    let show_logo =
        config.always_show_logo || (config.logfile.is_empty() && std::io::IsTerminal::is_terminal(&std::io::stdout()));
    let port = config.port;
    let tls_port = ferrokv::server::tls::port(&config);
    let mut server = match Server::bind(config) {
        Ok(s) => s,
        Err(e) => {
            if let Some(why) = &e.tls_error {
                log::warn!("{why}");
                log::warn!("Failed to configure TLS. Check logs for more info.");
            } else if e.unix {
                log::warn!("Failed opening Unix socket: bind: {}", ferrokv::config::strerror(&e.error));
            } else if e.tls {
                log::warn!(
                    "Warning: Could not create server TCP listening socket {}: bind: {}",
                    e.addr,
                    ferrokv::config::strerror(&e.error)
                );
                log::warn!("Failed listening on port {} (tls), aborting.", tls_port);
            } else {
                log::warn!(
                    "Warning: Could not create server TCP listening socket {}: bind: {}",
                    e.addr,
                    ferrokv::config::strerror(&e.error)
                );
                log::warn!("Failed listening on port {port} (tcp), aborting.");
            }
            if let Some(path) = &pidfile {
                let _ = std::fs::remove_file(path);
            }
            return ExitCode::FAILURE;
        }
    };
    if !server.listens_anywhere() {
        log::warn!("Configured to not listen anywhere, exiting.");
        if let Some(path) = &pidfile {
            let _ = std::fs::remove_file(path);
        }
        return ExitCode::FAILURE;
    }
    server.pidfile = pidfile;
    if let Err(e) = server.handle_signals() {
        log::error!("Could not install signal handlers: {e}");
        return ExitCode::FAILURE;
    }
    let port = server.config().port;
    if show_logo {
        log::info!("{}", logo(port));
    } else {
        log::info!("Running mode=standalone, port={port}.");
    }
    if server.config().set_proc_title {
        ferrokv::proctitle::set_from(server.config());
    }
    log::warn!("Server initialized");
    server.supervisor = supervisor;
    server.announce = true;
    if let Err(e) = server.begin() {
        log::warn!("{e}");
        return ExitCode::FAILURE;
    }
    match server.run() {
        Ok(()) => ExitCode::SUCCESS,
        // A load that failed, logged already (`server::fatal_logged`).
        Err(e) if e.kind() == std::io::ErrorKind::InvalidData => ExitCode::FAILURE,
        Err(e) => {
            log::error!("Event loop failed: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `--version`, in redis-server's shape (tools read `v=`).
fn version_line() -> String {
    format!(
        "Redis server v={} sha=00000000:0 malloc=libc bits=64 build=ferrokv-{}",
        ferrokv::REDIS_VERSION,
        env!("CARGO_PKG_VERSION")
    )
}

/// The startup banner (`always-show-logo`, or logging to a terminal).
fn logo(port: u16) -> String {
    format!(
        r"
   ___                    _
  / __\___ _ __ _ __ ___ | | ____   __     ferrokv {} (Redis {} compatible) 64 bit
 / _\/ _ \ '__| '__/ _ \| |/ /\ \ / /
/ / |  __/ |  | | | (_) |   <  \ V /       Running in standalone mode
\/   \___|_|  |_|  \___/|_|\_\  \_/        Port: {port}
                                           PID: {}
",
        env!("CARGO_PKG_VERSION"),
        ferrokv::REDIS_VERSION,
        std::process::id()
    )
}
