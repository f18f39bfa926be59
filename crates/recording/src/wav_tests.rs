use super::timeline::FrameSink;
use super::wav::*;
use std::cell::RefCell;
use std::io::{self, Cursor, Seek, SeekFrom, Write};
use std::rc::Rc;

/// A stream the test can look into while the sink still holds it.
#[derive(Clone, Default)]
struct Shared(Rc<RefCell<Cursor<Vec<u8>>>>);

impl Shared {
    fn bytes(&self) -> Vec<u8> {
        self.0.borrow().get_ref().clone()
    }
}

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.borrow_mut().write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Seek for Shared {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.0.borrow_mut().seek(pos)
    }
}

/// A device with `room` bytes left: a write past it is cut short, then fails with ENOSPC's
/// kind, as a full disk does.
struct Full {
    inner: Cursor<Vec<u8>>,
    room: usize,
}

impl Write for Full {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let end = self.inner.position() as usize + buf.len();
        let grows = end.saturating_sub(self.inner.get_ref().len());
        if grows > 0 && self.room == 0 {
            return Err(io::Error::from(io::ErrorKind::StorageFull));
        }
        let n = buf.len().min(buf.len() - grows + self.room);
        self.room -= grows.min(self.room);
        self.inner.write(&buf[..n])
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Seek for Full {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.inner.seek(pos)
    }
}

fn frames_in(bytes: Vec<u8>) -> u32 {
    hound::WavReader::new(Cursor::new(bytes))
        .expect("a readable WAV")
        .duration()
}

#[test]
fn the_header_is_out_as_soon_as_the_sink_exists() {
    let stream = Shared::default();
    let _sink = WavSink::new(stream.clone()).expect("created");
    assert_eq!(stream.bytes().len() as u64, HEADER_BYTES);
    assert_eq!(frames_in(stream.bytes()), 0);
    let reader = hound::WavReader::new(Cursor::new(stream.bytes())).expect("readable");
    assert_eq!(reader.spec(), spec());
}

#[test]
fn every_second_of_audio_is_checkpointed_into_the_header() {
    let stream = Shared::default();
    let mut sink = WavSink::new(stream.clone()).expect("created");
    for _ in 0..49 {
        sink.frames(&[3; 320]);
    }
    // 0.98 s written, no checkpoint yet: a crash now leaves the header at 0 frames.
    assert_eq!(frames_in(stream.bytes()), 0);
    sink.frames(&[3; 320]);
    assert_eq!(frames_in(stream.bytes()), 8000);
    for _ in 0..55 {
        sink.frames(&[3; 320]);
    }
    assert_eq!(frames_in(stream.bytes()), 16_000);
    assert_eq!(
        stream.bytes().len() as u64,
        HEADER_BYTES + FRAME_BYTES * 105 * 160
    );
    assert_eq!(sink.finish().expect("closed"), 105 * 160);
    assert_eq!(frames_in(stream.bytes()), 105 * 160);
}

#[test]
fn silence_is_written_as_zero_frames() {
    let stream = Shared::default();
    let mut sink = WavSink::new(stream.clone()).expect("created");
    sink.frames(&[1, 2]);
    sink.silence(5000);
    sink.frames(&[3, 4]);
    assert_eq!(sink.finish().expect("closed"), 5002);
    let mut reader = hound::WavReader::new(Cursor::new(stream.bytes())).expect("readable");
    let samples: Vec<i16> = reader
        .samples::<i16>()
        .map(|s| s.expect("sample"))
        .collect();
    assert_eq!(samples.len(), 2 * 5002);
    assert_eq!(samples[..2], [1, 2]);
    assert!(samples[2..10_002].iter().all(|&s| s == 0));
    assert_eq!(samples[10_002..], [3, 4]);
}

#[test]
fn a_torn_frame_handed_in_is_not_written() {
    let stream = Shared::default();
    let mut sink = WavSink::new(stream.clone()).expect("created");
    sink.frames(&[1, 2, 3]);
    assert_eq!(sink.finish().expect("closed"), 1);
    assert_eq!(frames_in(stream.bytes()), 1);
}

#[test]
fn a_full_disk_is_reported_once_and_the_sink_goes_quiet() {
    let device = Full {
        inner: Cursor::new(Vec::new()),
        room: 44 + 4 * 1000 + 2,
    };
    let mut sink = WavSink::new(device).expect("the header fits");
    let mut errors = Vec::new();
    for _ in 0..10 {
        sink.frames(&[9; 320]);
        errors.extend(sink.take_error());
    }
    sink.silence(8000);
    assert_eq!(errors.len(), 1, "reported once: {errors:?}");
    assert!(errors[0].is_disk_full(), "{:?}", errors[0]);
    assert!(matches!(errors[0], WavError::Write(_)));
    assert!(sink.take_error().is_none());
    assert_eq!(
        sink.failure(),
        Some(Failure::Io(io::ErrorKind::StorageFull))
    );
    assert_eq!(sink.written(), 960);
    assert_eq!(sink.dropped(), 4 * 160 + 8000);
    match sink.finish() {
        Err(
            e @ WavError::Failed {
                cause,
                written_frames: 960,
                dropped_frames: 8640,
                recovered_frames: None,
            },
        ) => {
            assert!(cause.is_disk_full());
            assert!(e.is_disk_full());
        }
        other => panic!("expected Failed, got {other:?}"),
    }
}

#[test]
fn creating_on_a_full_disk_fails_as_disk_full() {
    let device = Full {
        inner: Cursor::new(Vec::new()),
        room: 10,
    };
    match WavSink::new(device) {
        Err(e @ WavError::Create(_)) => assert!(e.is_disk_full()),
        other => panic!("expected Create, got {other:?}"),
    }
}

#[test]
fn the_wav_size_limit_ends_the_recording_instead_of_overflowing() {
    let stream = Shared::default();
    let mut sink = WavSink::new(stream).expect("created");
    sink.pretend_written(MAX_FRAMES - 100);
    sink.frames(&[1; 200]);
    assert_eq!(sink.written(), MAX_FRAMES);
    sink.frames(&[1; 2]);
    assert!(matches!(sink.take_error(), Some(WavError::TooLong)));
    assert_eq!(sink.failure(), Some(Failure::TooLong));
    assert_eq!(sink.dropped(), 1);
    assert!(!Failure::TooLong.is_disk_full());
}

#[test]
fn a_new_file_never_replaces_an_existing_recording() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("call.wav");
    std::fs::write(&path, b"an earlier recording").expect("write");
    match WavFile::create(&path) {
        Err(WavError::Create(e)) => assert_eq!(e.kind(), io::ErrorKind::AlreadyExists),
        other => panic!("expected Create, got {other:?}"),
    }
    assert_eq!(std::fs::read(&path).expect("read"), b"an earlier recording");
}
