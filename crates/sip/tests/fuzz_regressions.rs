//! Inputs the fuzz target `sip_message` (fuzz/, scripts/fuzz.sh) found, kept in
//! tests/fuzz_regressions/ and replayed here with the outcome each must have. Each test's
//! header names the mechanism that failed.

use std::path::Path;

use madoguchi_sip::{StreamDecoder, StreamItem};

fn input(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz_regressions")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Feeds `stream` in pieces of `chunk` bytes; the items until the decoder needs more bytes, or
/// the error that closed the stream.
fn decode_in_chunks(
    stream: &[u8],
    chunk: usize,
    max_header: usize,
) -> Result<Vec<StreamItem>, madoguchi_sip::FramingError> {
    let mut decoder = StreamDecoder::new(max_header, 1024);
    let mut items = Vec::new();
    for piece in stream.chunks(chunk) {
        decoder.push(piece);
        while let Some(item) = decoder.next_item()? {
            items.push(item);
        }
    }
    Ok(items)
}

/// Framing: a header section whose blank line starts exactly at the header cap was accepted
/// when it arrived in one read but refused (HeaderTooLarge, connection closed) when the cap was
/// reached before the blank line's last bytes arrived; the outcome must not depend on the cuts.
#[test]
fn a_header_section_ending_at_the_cap_frames_the_same_however_the_stream_is_cut() {
    let stream = input("header_ends_at_the_cap.bin");
    let cap = 512;
    assert_eq!(
        madoguchi_sip::normalize::find(&stream, b"\r\n\r\n"),
        Some(cap)
    );
    let whole = decode_in_chunks(&stream, stream.len(), cap).expect("fits the cap");
    assert_eq!(whole, vec![StreamItem::Message(stream.clone())]);
    for chunk in [1, 2, 3, 5, 13, 511, 513] {
        assert_eq!(
            decode_in_chunks(&stream, chunk, cap),
            Ok(whole.clone()),
            "chunks of {chunk}"
        );
    }
    // One byte less of cap and it is too large, however it arrives.
    for chunk in [1, 3, stream.len()] {
        assert!(
            decode_in_chunks(&stream, chunk, cap - 1).is_err(),
            "chunks of {chunk}"
        );
    }
}
