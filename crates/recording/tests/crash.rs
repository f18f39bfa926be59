//! What a crash leaves, and the repair at the next start: a file cut at arbitrary bytes reads
//! back up to the cut after repair; a recorder process killed with SIGKILL leaves a file any
//! WAV reader opens up to its last one-second checkpoint, and repair recovers the rest of the
//! audio that reached the disk. Repair refuses files that are not the recorder's.

use madoguchi_recording::repair::{repair, repair_all, RepairError};
use madoguchi_recording::{Channel, Recorder, TimelineConfig};
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, Stdio};

const CHILD_ENV: &str = "MADOGUCHI_RECORDING_CRASH_CHILD";

/// The test signal: every frame says where it is, so any misplaced byte shows.
fn frame(k: u64) -> (i16, i16) {
    let left = ((k * 7) % 20_000) as i16 - 10_000;
    (left, left.wrapping_neg() / 2 + 1)
}

/// Records `chunks` 20 ms chunks of the test signal on both channels (not finished).
fn record(recorder: &mut Recorder, chunks: u64) {
    for n in 0..chunks {
        let (mut left, mut right) = ([0i16; 160], [0i16; 160]);
        for i in 0..160 {
            (left[i], right[i]) = frame(n * 160 + i as u64);
        }
        recorder
            .push(Channel::Caller, n * 160, &left)
            .expect("written");
        recorder
            .push(Channel::Operator, n * 160, &right)
            .expect("written");
    }
}

/// Reads `path` with hound and checks it holds exactly the first `frames` of the signal.
fn assert_holds_signal(path: &Path, frames: u64) {
    let mut reader = hound::WavReader::open(path).expect("a valid WAV");
    assert_eq!(u64::from(reader.duration()), frames);
    let samples: Vec<i16> = reader
        .samples::<i16>()
        .map(|s| s.expect("sample"))
        .collect();
    assert_eq!(samples.len() as u64, 2 * frames);
    for (k, pair) in samples.chunks(2).enumerate() {
        assert_eq!((pair[0], pair[1]), frame(k as u64), "frame {k}");
    }
}

#[test]
fn a_file_cut_at_any_byte_is_repaired_up_to_the_cut() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("live.wav");
    let mut recorder = Recorder::create(&path, TimelineConfig::default()).expect("created");
    // 2.5 s: checkpoints at 1 s and 2 s, the rest partly still in the write buffer.
    record(&mut recorder, 125);
    let on_disk = std::fs::read(&path).expect("read the live file");
    assert!(on_disk.len() >= 44 + 4 * 16_000, "checkpointed to 2 s");

    for cut in [
        45,
        44 + 4 * 999 + 1,
        44 + 4 * 12_345 + 3,
        44 + 4 * 16_000,
        on_disk.len() - 2,
    ] {
        let copy = dir.path().join(format!("cut-{cut}.wav"));
        std::fs::write(&copy, &on_disk[..cut]).expect("write the prefix");
        let repaired = repair(&copy).expect("repaired");
        let frames = (cut as u64 - 44) / 4;
        assert_eq!(repaired.frames, frames, "cut at {cut}");
        assert_eq!(repaired.torn_bytes, (cut as u64 - 44) % 4);
        // The cut exactly at the 2 s checkpoint already matches its header.
        assert_eq!(repaired.changed, cut != 44 + 4 * 16_000, "cut at {cut}");
        assert_eq!(
            std::fs::metadata(&copy).expect("meta").len(),
            44 + 4 * frames
        );
        assert_holds_signal(&copy, frames);
        // Idempotent: a second repair finds nothing to do.
        let again = repair(&copy).expect("repaired again");
        assert_eq!(
            (again.frames, again.changed, again.torn_bytes),
            (frames, false, 0)
        );
    }

    let header_only = dir.path().join("cut-44.wav");
    std::fs::write(&header_only, &on_disk[..44]).expect("write");
    assert_eq!(repair(&header_only).expect("repaired").frames, 0);
    let torn_header = dir.path().join("cut-20.wav");
    std::fs::write(&torn_header, &on_disk[..20]).expect("write");
    assert!(matches!(
        repair(&torn_header),
        Err(RepairError::TooShort { len: 20 })
    ));

    let recording = recorder.finish(0).expect("closed");
    assert_eq!(recording.file.frames, 125 * 160);
    assert!(!repair(&path).expect("sound").changed);
}

#[test]
fn repair_refuses_files_that_are_not_the_recorders() {
    let dir = tempfile::tempdir().expect("temp dir");
    let text = dir.path().join("notes.wav");
    std::fs::write(&text, vec![b'x'; 100]).expect("write");
    assert!(matches!(repair(&text), Err(RepairError::NotWav)));

    let mono = dir.path().join("mono.wav");
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 44_100,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(&mono, spec).expect("create");
    writer.write_sample(1i16).expect("write");
    writer.finalize().expect("finalize");
    let before = std::fs::read(&mono).expect("read");
    assert!(matches!(repair(&mono), Err(RepairError::NotOurs)));
    assert_eq!(
        std::fs::read(&mono).expect("read"),
        before,
        "left untouched"
    );
}

#[test]
fn repair_all_scans_a_folder_tree_and_reports_each_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(dir.path().join("2025-04")).expect("mkdir");
    let sound = dir.path().join("2025-04/sound.wav");
    let mut recorder = Recorder::create(&sound, TimelineConfig::default()).expect("created");
    record(&mut recorder, 60);
    recorder.finish(0).expect("closed");
    let mut bytes = std::fs::read(&sound).expect("read");
    let crashed = dir.path().join("crashed.WAV");
    bytes.truncate(bytes.len() - 401);
    bytes[40..44].copy_from_slice(&0u32.to_le_bytes());
    std::fs::write(&crashed, &bytes).expect("write");
    std::fs::write(dir.path().join("readme.txt"), b"not audio").expect("write");
    std::fs::write(dir.path().join("empty.wav"), b"").expect("write");

    let results = repair_all(dir.path()).expect("scanned");
    let names: Vec<String> = results
        .iter()
        .map(|(p, _)| {
            p.strip_prefix(dir.path())
                .expect("inside")
                .display()
                .to_string()
        })
        .collect();
    assert_eq!(names, ["2025-04/sound.wav", "crashed.WAV", "empty.wav"]);
    let sound_result = results[0].1.as_ref().expect("sound");
    assert_eq!((sound_result.frames, sound_result.changed), (9600, false));
    let crashed_result = results[1].1.as_ref().expect("crashed");
    assert_eq!(
        (crashed_result.frames, crashed_result.changed),
        (9499, true)
    );
    assert!(matches!(
        results[2].1,
        Err(RepairError::TooShort { len: 0 })
    ));
    assert_holds_signal(&crashed, 9499);
}

/// The recorder process for the SIGKILL test: when run with the env variable set, records
/// 10.5 s of the test signal into the given path, says so, and waits to be killed.
#[test]
fn child_process_records_and_waits_to_be_killed() {
    let Some(path) = std::env::var_os(CHILD_ENV) else {
        return;
    };
    let mut recorder = Recorder::create(&path, TimelineConfig::default()).expect("created");
    // 84 000 frames written (the head runs 480 samples ahead): the last checkpoint is at
    // 80 000, with 4 000 frames after it partly flushed from the 8 KiB write buffer.
    record(&mut recorder, 528);
    assert_eq!(recorder.written(), 84_000);
    // libtest prints the test's name on the same line first.
    println!("\nrecorded and waiting");
    // Block until killed: the parent never writes to stdin.
    let mut byte = [0u8; 1];
    let _ = std::io::stdin().read(&mut byte);
    unreachable!("the parent kills this process");
}

#[test]
fn a_recorder_killed_mid_call_leaves_a_readable_file_and_repair_recovers_the_rest() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("killed.wav");
    let mut child = Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            "child_process_records_and_waits_to_be_killed",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, &path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn the recorder process");
    let stdout = child.stdout.take().expect("piped");
    let recorded = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .any(|line| line == "recorded and waiting");
    assert!(recorded, "the child recorded");
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");

    // Without any repair, a WAV reader opens it up to the last checkpoint (10 s).
    let reader = hound::WavReader::open(&path).expect("readable after the crash");
    assert_eq!(reader.duration(), 80_000);
    drop(reader);

    let length = std::fs::metadata(&path).expect("meta").len();
    assert!(
        length > 44 + 4 * 80_000,
        "audio after the checkpoint reached the disk"
    );
    let repaired = repair(&path).expect("repaired");
    assert!(repaired.changed);
    assert!((80_000..=84_000).contains(&repaired.frames), "{repaired:?}");
    assert_holds_signal(&path, repaired.frames);
}
