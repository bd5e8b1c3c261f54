//! The `ferrokv` binary: `ferrokv [/path/to/ferrokv.conf] [--option value ...]`.

use ferrokv::{Config, logging, server::Server};
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!("Usage: ferrokv [/path/to/ferrokv.conf] [--port 6379] [--bind 127.0.0.1] [--option value ...]");
        return ExitCode::SUCCESS;
    }
    if args.iter().any(|a| a == "--commands-md") {
        print!("{}", ferrokv::cmd::table::markdown());
        return ExitCode::SUCCESS;
    }
    if args.iter().any(|a| a == "-v" || a == "--version") {
        println!("ferrokv v={} (Redis {} compatible)", env!("CARGO_PKG_VERSION"), ferrokv::REDIS_VERSION);
        return ExitCode::SUCCESS;
    }
    let config = match Config::from_args(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(e) = logging::init(&config) {
        eprintln!("{e}");
        return ExitCode::FAILURE;
    }
    let port = config.port;
    let mut server = match Server::bind(config) {
        Ok(s) => s,
        Err(e) => {
            log::error!("Could not create server TCP listening socket on port {port}: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(e) = server.handle_signals() {
        log::error!("Could not install signal handlers: {e}");
        return ExitCode::FAILURE;
    }
    let addrs: Vec<String> = server.local_addrs().iter().map(|a| a.to_string()).collect();
    log::info!(
        "ferrokv {} started, pid={}, port={}, listening on {}",
        env!("CARGO_PKG_VERSION"),
        std::process::id(),
        port,
        addrs.join(" ")
    );
    match server.run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            log::error!("Event loop failed: {e}");
            ExitCode::FAILURE
        }
    }
}
