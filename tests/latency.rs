//! LATENCY (monitor events and per-command histograms) and INFO
//! latencystats.

mod common;
use common::{err, q, server, server_with};
use redis::Value;

#[test]
fn latency_monitor_records_slow_commands() {
    let srv = server_with(|c| c.enable_debug_command = "yes".into());
    let mut c = srv.client();
    assert_eq!(q::<Vec<Value>>(&mut c, &["LATENCY", "LATEST"]), vec![]);
    let doctor: String = q(&mut c, &["LATENCY", "DOCTOR"]);
    assert!(doctor.starts_with("Dave, no latency spike was observed"), "{doctor}");
    // Off by default: a slow command leaves no event.
    let _: () = redis::cmd("DEBUG").arg("SLEEP").arg("0.02").query(&mut c).unwrap();
    assert_eq!(q::<Vec<Value>>(&mut c, &["LATENCY", "LATEST"]), vec![]);

    let _: () = redis::cmd("CONFIG").arg("SET").arg("latency-monitor-threshold").arg(5).query(&mut c).unwrap();
    let _: () = redis::cmd("DEBUG").arg("SLEEP").arg("0.02").query(&mut c).unwrap();
    let _: String = q(&mut c, &["PING"]);
    let latest: Vec<(String, i64, i64, i64)> = q(&mut c, &["LATENCY", "LATEST"]);
    assert_eq!(latest.len(), 1, "{latest:?}");
    let (event, at, ms, max) = &latest[0];
    assert_eq!(event, "command");
    assert!(*ms >= 20 && max >= ms, "{latest:?}");
    let now: Vec<String> = q(&mut c, &["TIME"]);
    assert!((now[0].parse::<i64>().unwrap() - at).abs() <= 2);
    let history: Vec<(i64, i64)> = q(&mut c, &["LATENCY", "HISTORY", "command"]);
    assert_eq!(history, vec![(*at, *ms)]);
    assert_eq!(q::<Vec<Value>>(&mut c, &["LATENCY", "HISTORY", "nosuch"]), vec![]);
    let doctor: String = q(&mut c, &["LATENCY", "DOCTOR"]);
    assert!(doctor.contains("1. command: 1 latency spikes"), "{doctor}");

    assert_eq!(q::<i64>(&mut c, &["LATENCY", "RESET", "nosuch"]), 0);
    assert_eq!(q::<i64>(&mut c, &["LATENCY", "RESET", "command", "nosuch"]), 1);
    assert_eq!(q::<Vec<Value>>(&mut c, &["LATENCY", "LATEST"]), vec![]);
    let _: () = redis::cmd("DEBUG").arg("SLEEP").arg("0.01").query(&mut c).unwrap();
    assert_eq!(q::<i64>(&mut c, &["LATENCY", "RESET"]), 1);
    assert_eq!(err(&mut c, &["LATENCY", "HISTORY"]), "ERR wrong number of arguments for 'latency|history' command");
    assert_eq!(err(&mut c, &["LATENCY", "NOPE"]), "ERR unknown subcommand 'NOPE'. Try LATENCY HELP.");
}

#[test]
fn latency_histogram_and_latencystats() {
    let srv = server();
    let mut c = srv.client();
    for _ in 0..10 {
        let _: () = redis::cmd("SET").arg("k").arg("v").query(&mut c).unwrap();
    }
    let _: Option<String> = redis::cmd("GET").arg("k").query(&mut c).unwrap();
    let _: Vec<String> = redis::cmd("CONFIG").arg("GET").arg("maxmemory").query(&mut c).unwrap();
    // RESP2: name, then [calls, n, histogram_usec, [bound, cumulative, ...]].
    let h: Vec<Value> = q(&mut c, &["LATENCY", "HISTOGRAM", "set", "nosuch"]);
    assert_eq!(h.len(), 2, "{h:?}");
    assert_eq!(h[0], Value::BulkString(b"set".to_vec()));
    let Value::Array(fields) = &h[1] else { panic!("{h:?}") };
    assert_eq!(fields[0], Value::BulkString(b"calls".to_vec()));
    assert_eq!(fields[1], Value::Int(10));
    let Value::Array(buckets) = &fields[3] else { panic!("{fields:?}") };
    let pairs: Vec<i64> = buckets.iter().map(|v| if let Value::Int(n) = v { *n } else { panic!("{v:?}") }).collect();
    assert_eq!(pairs.last(), Some(&10), "cumulative up to all calls: {pairs:?}");
    // Bounds are 1024 ns doubling, in µs (1, 2, 4, 8, 16, 32, 65, 131, …),
    // listed only where the count grows.
    let bounds: Vec<i64> = (0..40).map(|k| (1024i64 << k) / 1000).collect();
    for w in pairs.chunks(2).collect::<Vec<_>>().windows(2) {
        assert!(w[0][0] < w[1][0] && w[0][1] < w[1][1], "{pairs:?}");
    }
    assert!(pairs.chunks(2).all(|p| bounds.contains(&p[0])), "{pairs:?}");
    // A container command stands for its subcommands.
    let h: Vec<Value> = q(&mut c, &["LATENCY", "HISTOGRAM", "config"]);
    assert_eq!(h[0], Value::BulkString(b"config|get".to_vec()));
    // One subcommand by its full name, in any case (Redis's
    // lookupCommandBySds); more than one `|` names nothing.
    let h: Vec<Value> = q(&mut c, &["LATENCY", "HISTOGRAM", "CONFIG|Get", "config|get|x", "get|x"]);
    assert_eq!(h.len(), 2, "{h:?}");
    assert_eq!(h[0], Value::BulkString(b"config|get".to_vec()));

    let info: String = q(&mut c, &["INFO", "latencystats"]);
    let line = info.lines().find(|l| l.starts_with("latency_percentiles_usec_set:")).expect(&info);
    let fields: Vec<&str> = line.split(':').nth(1).unwrap().split(',').collect();
    assert_eq!(fields.len(), 3);
    assert!(fields[0].starts_with("p50=") && fields[1].starts_with("p99=") && fields[2].starts_with("p99.9="));
    let p50: f64 = fields[0][4..].parse().unwrap();
    let p999: f64 = fields[2][6..].parse().unwrap();
    assert!(p50 > 0.0 && p999 >= p50, "{line}");
    assert!(info.contains("latency_percentiles_usec_config|get:"));

    // Percentiles are configurable, validated like Redis.
    let _: () =
        redis::cmd("CONFIG").arg("SET").arg("latency-tracking-info-percentiles").arg("50.5 99").query(&mut c).unwrap();
    let info: String = q(&mut c, &["INFO", "latencystats"]);
    assert!(info.contains("latency_percentiles_usec_set:p50.5="), "{info}");
    assert_eq!(
        err(&mut c, &["CONFIG", "SET", "latency-tracking-info-percentiles", "50 101"]),
        "ERR CONFIG SET failed (possibly related to argument 'latency-tracking-info-percentiles') - latency-tracking-info-percentiles parameters should sit between [0.0,100.0]"
    );
    let got: Vec<String> = redis::cmd("CONFIG").arg("GET").arg("latency-tracking*").query(&mut c).unwrap();
    assert_eq!(got, ["latency-tracking", "yes", "latency-tracking-info-percentiles", "50.5 99"]);

    // RESETSTAT clears the histograms; latency-tracking no stops them.
    let _: () = redis::cmd("CONFIG").arg("RESETSTAT").query(&mut c).unwrap();
    let _: () = redis::cmd("CONFIG").arg("SET").arg("latency-tracking").arg("no").query(&mut c).unwrap();
    let _: () = redis::cmd("SET").arg("k").arg("v").query(&mut c).unwrap();
    let info: String = q(&mut c, &["INFO", "latencystats"]);
    assert!(!info.contains("latency_percentiles_usec_set:"), "{info}");
    assert_eq!(q::<Vec<Value>>(&mut c, &["LATENCY", "HISTOGRAM", "set"]), vec![]);
}
