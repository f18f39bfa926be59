//! Recording load: N simultaneous calls' worth of 20 ms chunks (both legs, RTP timestamps
//! through [`RtpClock`], the 20 ms tick) pushed as fast as possible into N recordings on disk,
//! then all closed (sync + SHA-256). Reports the CPU time per second of recorded call, the
//! cores that recording N live calls would take, and the disk write rate.
//!
//! ```text
//! cargo run --release -p madoguchi-recording --example record_load -- [--calls 500]
//!     [--seconds 10] [--dir PATH] [--keep]
//! ```
//! The run is bounded: at most 5000 calls and 600 s of audio each; the default writes 160 MB.

use madoguchi_recording::clock::RtpClock;
use madoguchi_recording::{Channel, Recorder, TimelineConfig};
use std::path::PathBuf;
use std::time::{Duration, Instant};

struct Options {
    calls: u64,
    seconds: u64,
    dir: Option<PathBuf>,
    keep: bool,
}

fn parse() -> Result<Options, String> {
    let mut options = Options {
        calls: 500,
        seconds: 10,
        dir: None,
        keep: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--calls" => {
                options.calls = value("--calls")?
                    .parse()
                    .map_err(|e| format!("--calls: {e}"))?
            }
            "--seconds" => {
                options.seconds = value("--seconds")?
                    .parse()
                    .map_err(|e| format!("--seconds: {e}"))?
            }
            "--dir" => options.dir = Some(PathBuf::from(value("--dir")?)),
            "--keep" => options.keep = true,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if !(1..=5000).contains(&options.calls) || !(1..=600).contains(&options.seconds) {
        return Err("--calls must be 1..=5000 and --seconds 1..=600".into());
    }
    Ok(options)
}

/// User and system CPU time of this process so far.
fn cpu_times() -> (Duration, Duration) {
    // SAFETY: getrusage writes one `rusage` into the zeroed struct we own.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let time = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    (time(usage.ru_utime), time(usage.ru_stime))
}

fn main() {
    let options = match parse() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("record_load: {message}");
            std::process::exit(2);
        }
    };
    let scratch = match &options.dir {
        Some(_) => None,
        None => Some(tempfile::tempdir().expect("a temporary directory")),
    };
    let dir = options
        .dir
        .clone()
        .or_else(|| scratch.as_ref().map(|d| d.path().to_path_buf()))
        .expect("a directory");
    std::fs::create_dir_all(&dir).expect("the output directory");

    // A 20 ms chunk of speech-like level audio per leg; the content does not change the cost.
    let caller: Vec<i16> = (0..160).map(|i| ((i * 37) % 4000) as i16 - 2000).collect();
    let operator: Vec<i16> = (0..160).map(|i| ((i * 53) % 3000) as i16 - 1500).collect();

    let mut recorders: Vec<(Recorder, [RtpClock; 2])> = (0..options.calls)
        .map(|n| {
            let recorder = Recorder::create(
                dir.join(format!("load-{n:04}.wav")),
                TimelineConfig::default(),
            )
            .expect("create a recording");
            (recorder, [RtpClock::new(), RtpClock::new()])
        })
        .collect();

    let chunks = options.seconds * 50;
    let (user0, system0) = cpu_times();
    let wall = Instant::now();
    for n in 0..chunks {
        let now = n * 160;
        for (index, (recorder, clocks)) in recorders.iter_mut().enumerate() {
            let base = (index as u32).wrapping_mul(0x9E37_79B9);
            let timestamp = base.wrapping_add(n as u32 * 160);
            for (leg, (channel, pcm)) in
                [(Channel::Caller, &caller), (Channel::Operator, &operator)]
                    .into_iter()
                    .enumerate()
            {
                if let Some(position) = clocks[leg].position(timestamp, now) {
                    recorder.push(channel, position, pcm).expect("write");
                }
            }
            recorder.tick(now).expect("write");
        }
    }
    let streaming = wall.elapsed();
    let (user1, system1) = cpu_times();

    let closing = Instant::now();
    let mut bytes = 0u64;
    for (recorder, _) in recorders.drain(..) {
        let recording = recorder.finish(chunks * 160).expect("close");
        bytes += recording.file.bytes;
    }
    let closed = closing.elapsed();
    let (user2, system2) = cpu_times();

    let recorded_seconds = (options.calls * options.seconds) as f64;
    let stream_cpu = (user1 - user0) + (system1 - system0);
    let close_cpu = (user2 - user1) + (system2 - system1);
    let per_second = stream_cpu.as_secs_f64() / recorded_seconds;
    println!(
        "{} calls x {} s of audio ({} recording-seconds), {:.1} MB written to {}",
        options.calls,
        options.seconds,
        recorded_seconds,
        bytes as f64 / 1e6,
        dir.display()
    );
    println!(
        "streaming: {:.2} s wall, {:.2} s CPU (user {:.2} s, system {:.2} s)",
        streaming.as_secs_f64(),
        stream_cpu.as_secs_f64(),
        (user1 - user0).as_secs_f64(),
        (system1 - system0).as_secs_f64()
    );
    println!(
        "  CPU per recording-second: {:.1} us; {} live calls would take {:.1} % of one core",
        per_second * 1e6,
        options.calls,
        per_second * options.calls as f64 * 100.0
    );
    println!(
        "  disk write rate for {} live calls: {:.2} MB/s ({:.0} kB/s per call); \
         this run wrote {:.0} MB/s",
        options.calls,
        bytes as f64 / options.seconds as f64 / 1e6,
        bytes as f64 / recorded_seconds / 1e3,
        bytes as f64 / streaming.as_secs_f64() / 1e6
    );
    println!(
        "closing (finalize, fsync, read back for SHA-256): {:.2} s wall, {:.2} s CPU, \
         {:.1} ms per recording",
        closed.as_secs_f64(),
        close_cpu.as_secs_f64(),
        closed.as_secs_f64() * 1e3 / options.calls as f64
    );

    if !options.keep {
        for n in 0..options.calls {
            let _ = std::fs::remove_file(dir.join(format!("load-{n:04}.wav")));
        }
    }
}
