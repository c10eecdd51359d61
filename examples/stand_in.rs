//! A GateRouter stand-in for benchmarks and manual tries, on 127.0.0.1 only:
//!
//!   cargo run --release --example stand_in -- --latency-ms 200 --key sk-or-v1-…
//!
//! prints its base URL (http://127.0.0.1:PORT/openai/v1) on the first line, then serves until
//! killed. Every answer waits `--latency-ms` first. It is the test suite's server
//! (tests/common/stand_in.rs), not a copy of it.

#[path = "../tests/common/stand_in.rs"]
mod stand_in;

use std::time::Duration;

fn main() {
    let mut latency = 0u64;
    let mut key = String::from("sk-or-v1-bench-0000000000000000abcd");
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--latency-ms" => {
                latency = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--latency-ms N")
            }
            "--key" => key = args.next().expect("--key KEY"),
            other => {
                eprintln!("stand_in: unknown argument {other}; use --latency-ms N --key KEY");
                std::process::exit(2);
            }
        }
    }
    let key: &'static str = Box::leak(key.into_boxed_str());
    let delay = Duration::from_millis(latency);
    let server = stand_in::StandIn::start(move |r| stand_in::healthy_reply(r, key).after(delay));
    println!("{}", server.base_url());
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}
