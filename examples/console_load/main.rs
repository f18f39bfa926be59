//! Load tool for scripts/bench_console.sh: N operators working from browser consoles at once,
//! in one process apart from the engine, so its CPU is not counted as the engine's.
//!
//! Each console does what the browser console does (docs/console-protocol.md): signs in
//! (`POST /api/v1/session`), opens `/ws/agent` with the cookie, sets up its audio with a
//! WebRTC peer of the `webrtc` crate offering the way Chromium does (Opus, PCMU, PCMA,
//! telephone-event; the engine picks PCMU), goes available, answers every `offered` and, once
//! it has seen `--calls` calls end, signs out. With `--media-on-signal` every console signs
//! in and opens its socket first, and the audio is set up on SIGUSR1. Like a browser's microphone the peer sends a
//! frame every 20 ms while connected; each frame echoes the latest audio the engine sent it
//! (see [`browser_peer`]), so the caller hears itself and the path is checkable from the
//! caller's side.
//!
//! # Output
//! A header line, a `stats` line on stdout every second, then one `done` line with the same
//! counts (cumulative, but `available` and `on_call`, which are current):
//! ```text
//! stats t=12.0 consoles=100 signed_in=100 media_up=100 available=0 offered=100 on_call=100
//!   answered=100 ended=0 signed_out=0 failed=0 errors=0 rtp_in=… rtp_out=… rtp_echoed=…
//!   min_rtp_in=…                                                  (one line in the output)
//! done consoles=100 … elapsed_s=61.2
//! ```
//! Exit 0 when every console answered and ended its calls and signed out, 1 otherwise
//! (failures are explained on stderr, one line per console, without caller numbers).
//!
//! # Use
//! ```text
//! cargo run --release --example console_load -- --http 127.0.0.1:8080 --users users.txt
//! ```
//! `users.txt` holds one `login password` per line (agents added with `madoguchi user add`).

mod browser_peer;
mod console;
mod sign_in;
mod tally;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::{watch, Semaphore};

use console::ConsoleSettings;
use tally::Tally;

#[derive(Parser, Debug)]
#[command(about = "N browser-style consoles answering queue calls over WebRTC")]
struct Args {
    /// The engine's HTTP address (host:port).
    #[arg(long)]
    http: SocketAddr,
    /// File with one `login password` per line; one console per line.
    #[arg(long)]
    users: PathBuf,
    /// Calls each console takes before it signs out.
    #[arg(long, default_value_t = 1)]
    calls: u32,
    /// Sign-ins in flight at once: each holds an argon2 hash's memory (about 19 MiB) in the
    /// engine while it runs.
    #[arg(long, default_value_t = 2)]
    sign_in_parallel: usize,
    /// WebRTC set-ups in flight at once.
    #[arg(long, default_value_t = 8)]
    connect_parallel: usize,
    /// Sign every console in, then wait for SIGUSR1 before setting up any audio (so the
    /// engine's memory can be read between the two).
    #[arg(long)]
    media_on_signal: bool,
    /// The whole run ends by then, done or not (seconds).
    #[arg(long, default_value_t = 300)]
    deadline: u64,
}

struct User {
    login: String,
    password: String,
}

fn read_users(path: &PathBuf) -> Result<Vec<User>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(number, line)| {
            let mut words = line.split_whitespace();
            match (words.next(), words.next(), words.next()) {
                (Some(login), Some(password), None) => Ok(User {
                    login: login.to_owned(),
                    password: password.to_owned(),
                }),
                _ => Err(format!(
                    "{}:{}: expected `login password`",
                    path.display(),
                    number + 1
                )),
            }
        })
        .collect()
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let users = match read_users(&args.users) {
        Ok(users) if !users.is_empty() => users,
        Ok(_) => {
            eprintln!("{}: no users", args.users.display());
            return ExitCode::FAILURE;
        }
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::FAILURE;
        }
    };
    let started = Instant::now();
    let tally = Arc::new(Tally::default());
    let (go_tx, go) = watch::channel(!args.media_on_signal);
    if args.media_on_signal {
        let mut signal = match signal(SignalKind::user_defined1()) {
            Ok(signal) => signal,
            Err(e) => {
                eprintln!("cannot wait for SIGUSR1: {e}");
                return ExitCode::FAILURE;
            }
        };
        tokio::spawn(async move {
            signal.recv().await;
            go_tx.send_replace(true);
        });
    }
    let settings = Arc::new(ConsoleSettings {
        http: args.http,
        calls: args.calls,
        signing_in: Semaphore::new(args.sign_in_parallel.max(1)),
        connecting: Semaphore::new(args.connect_parallel.max(1)),
        go,
    });
    let mut consoles = tokio::task::JoinSet::new();
    for user in users {
        tally.console_started();
        let tally = Arc::clone(&tally);
        let settings = Arc::clone(&settings);
        consoles.spawn(async move {
            let login = user.login.clone();
            let outcome = console::run(&settings, user.login, user.password, &tally).await;
            if let Err(error) = outcome {
                tally.failed();
                eprintln!("console {login}: {error}");
            }
        });
    }
    println!("{}", Tally::HEADER);
    let deadline = tokio::time::sleep(Duration::from_secs(args.deadline));
    tokio::pin!(deadline);
    let mut every_second = tokio::time::interval(Duration::from_secs(1));
    let finished_in_time = loop {
        tokio::select! {
            _ = every_second.tick() => {
                println!("stats t={:.1} {}", started.elapsed().as_secs_f64(), tally.line());
            }
            joined = consoles.join_next() => {
                if joined.is_none() {
                    break true;
                }
            }
            _ = &mut deadline => break false,
        }
    };
    if !finished_in_time {
        eprintln!(
            "deadline of {} s reached with {} consoles unfinished",
            args.deadline,
            consoles.len()
        );
        consoles.abort_all();
    }
    let summary = tally.summary();
    println!(
        "done {} elapsed_s={:.1}",
        tally.line(),
        started.elapsed().as_secs_f64()
    );
    if finished_in_time && summary.all_done(args.calls) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
