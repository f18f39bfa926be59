//! A full disk, for real: the kernel's ENOSPC from `/dev/full`, and a 256 KiB tmpfs that fills
//! up eight seconds into a call. The recorder reports the error once as a value, never panics,
//! keeps taking the call's audio (ignoring and counting it), and closes the file so that what
//! reached the disk reads back.
//!
//! Mounting the tmpfs needs root, as the tests run on the development machines and in CI.

use madoguchi_recording::wav::{Failure, WavSink};
use madoguchi_recording::{Channel, Recorder, TimelineConfig, WavError};
use std::fs::OpenOptions;
use std::io::{BufWriter, ErrorKind};
use std::path::Path;
use std::process::Command;

#[test]
fn a_recording_on_dev_full_fails_to_start_with_a_disk_full_error() {
    let device = OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("open /dev/full");
    match WavSink::new(BufWriter::new(device)) {
        Err(e @ WavError::Create(_)) => assert!(e.is_disk_full(), "{e:?}"),
        other => panic!("expected a Create error, got {other:?}"),
    }
}

/// A tmpfs of `size` mounted on a fresh directory, unmounted when dropped.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .status()
            .expect("run mount");
        assert!(
            status.success(),
            "mounting a {size} tmpfs failed: this test needs root (as in CI)"
        );
        Self { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

fn signal(k: u64) -> i16 {
    ((k * 13) % 30_000) as i16 - 15_000
}

#[test]
fn a_disk_that_fills_mid_call_is_reported_once_and_the_call_goes_on() {
    let disk = Tmpfs::mount("256k");
    let path = disk.path().join("call.wav");
    let mut recorder = Recorder::create(&path, TimelineConfig::default()).expect("created");

    // 30 s of a call; the disk holds about 8 s of it.
    let mut errors = Vec::new();
    let mut first_error_at = None;
    for n in 0..1500u64 {
        let chunk: Vec<i16> = (0..160).map(|i| signal(n * 160 + i)).collect();
        for channel in [Channel::Caller, Channel::Operator] {
            if let Err(e) = recorder.push(channel, n * 160, &chunk) {
                first_error_at.get_or_insert(n * 160);
                errors.push(e);
            }
        }
    }
    assert_eq!(errors.len(), 1, "reported once: {errors:?}");
    assert!(errors[0].is_disk_full(), "{:?}", errors[0]);
    let failed_at = first_error_at.expect("failed") as f64 / 8000.0;
    assert!(
        (7.0..9.0).contains(&failed_at),
        "the disk filled at {failed_at} s"
    );
    assert!(matches!(
        recorder.failure(),
        Some(Failure::Io(ErrorKind::StorageFull))
    ));

    match recorder.finish(0) {
        Err(
            e @ WavError::Failed {
                recovered_frames: Some(recovered),
                dropped_frames,
                ..
            },
        ) => {
            assert!(e.is_disk_full());
            assert!(
                dropped_frames > 20 * 8000,
                "the rest of the call: {dropped_frames}"
            );
            // What reached the disk reads back, and it is the call's audio.
            let mut reader = hound::WavReader::open(&path).expect("readable");
            assert_eq!(u64::from(reader.duration()), recovered);
            assert!(recovered > 7 * 8000, "recovered {recovered} frames");
            let samples: Vec<i16> = reader
                .samples::<i16>()
                .map(|s| s.expect("sample"))
                .collect();
            for (k, pair) in samples.chunks(2).enumerate() {
                assert_eq!(pair, [signal(k as u64); 2], "frame {k}");
            }
        }
        other => panic!("expected Failed with the recovered length, got {other:?}"),
    }
}
