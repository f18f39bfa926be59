use super::*;

/// Loop-based transcription of the G.191 `alaw_compress` algorithm, kept deliberately naive so
/// it checks the bit-twiddled encoder independently.
fn reference_alaw(sample: i16) -> u8 {
    let s = i32::from(sample);
    let mut ix = if s < 0 { (!s) >> 4 } else { s >> 4 };
    if ix > 15 {
        let mut exponent = 1;
        while ix > 16 + 15 {
            ix >>= 1;
            exponent += 1;
        }
        ix -= 16;
        ix += exponent << 4;
    }
    if s >= 0 {
        ix |= 0x80;
    }
    (ix ^ 0x55) as u8
}

/// Loop-based transcription of the G.191 `ulaw_compress` algorithm.
fn reference_ulaw(sample: i16) -> u8 {
    let s = i32::from(sample);
    let mut absno = if s < 0 {
        ((!s) >> 2) + 33
    } else {
        (s >> 2) + 33
    };
    if absno > 0x1FFF {
        absno = 0x1FFF;
    }
    let mut i = absno >> 6;
    let mut segno = 1;
    while i != 0 {
        segno += 1;
        i >>= 1;
    }
    let high = 8 - segno;
    let low = 0x0F - ((absno >> segno) & 0x0F);
    let mut out = (high << 4) | low;
    if s >= 0 {
        out |= 0x80;
    }
    out as u8
}

fn all_samples() -> impl Iterator<Item = i16> {
    i16::MIN..=i16::MAX
}

#[test]
fn zero_encodes_to_ulaw_ff_and_alaw_d5() {
    assert_eq!(encode_ulaw(0), 0xFF);
    assert_eq!(encode_alaw(0), 0xD5);
}

#[test]
fn minus_one_encodes_to_the_negative_zero_code_words() {
    assert_eq!(encode_ulaw(-1), 0x7F);
    assert_eq!(encode_alaw(-1), 0x55);
}

#[test]
fn extremes_encode_to_the_largest_code_words() {
    assert_eq!(encode_ulaw(i16::MAX), 0x80);
    assert_eq!(encode_ulaw(i16::MIN), 0x00);
    assert_eq!(encode_alaw(i16::MAX), 0xAA);
    assert_eq!(encode_alaw(i16::MIN), 0x2A);
}

#[test]
fn extreme_code_words_decode_to_the_g711_maxima() {
    assert_eq!(decode_ulaw(0x80), 32_124);
    assert_eq!(decode_ulaw(0x00), -32_124);
    assert_eq!(decode_alaw(0xAA), 32_256);
    assert_eq!(decode_alaw(0x2A), -32_256);
}

#[test]
fn silence_code_words_decode_to_near_zero() {
    assert_eq!(decode_ulaw(0xFF), 0);
    assert_eq!(decode_ulaw(0x7F), 0);
    assert_eq!(decode_alaw(0xD5), 8);
    assert_eq!(decode_alaw(0x55), -8);
}

#[test]
fn alaw_encoder_is_bit_exact_with_the_reference_for_every_sample() {
    for s in all_samples() {
        assert_eq!(encode_alaw(s), reference_alaw(s), "sample {s}");
    }
}

#[test]
fn ulaw_encoder_matches_the_reference_algorithm_for_every_sample() {
    for s in all_samples() {
        assert_eq!(encode_ulaw(s), reference_ulaw(s), "sample {s}");
    }
}

#[test]
fn every_alaw_code_word_survives_decode_then_encode() {
    for c in 0..=255u8 {
        assert_eq!(encode_alaw(decode_alaw(c)), c, "code {c:#04x}");
    }
}

#[test]
fn every_ulaw_code_word_except_negative_zero_survives_decode_then_encode() {
    for c in 0..=255u8 {
        let expected = if c == 0x7F { 0xFF } else { c };
        assert_eq!(encode_ulaw(decode_ulaw(c)), expected, "code {c:#04x}");
    }
}

#[test]
fn decoded_value_never_decreases_as_the_input_grows() {
    let mut last_u = i16::MIN;
    let mut last_a = i16::MIN;
    for s in all_samples() {
        let u = decode_ulaw(encode_ulaw(s));
        let a = decode_alaw(encode_alaw(s));
        assert!(u >= last_u, "µ-law not monotonic at {s}");
        assert!(a >= last_a, "A-law not monotonic at {s}");
        last_u = u;
        last_a = a;
    }
}

#[test]
fn decode_tables_are_odd_symmetric() {
    for c in 0..128u8 {
        assert_eq!(decode_ulaw(c), -decode_ulaw(c | 0x80));
        assert_eq!(decode_alaw(c ^ 0x80), -decode_alaw(c));
    }
}

#[test]
fn quantisation_error_stays_within_half_a_step_plus_clipping() {
    for s in all_samples() {
        let x = i32::from(s);
        // Half the step of the segment the sample falls in is at most |x|/16 (plus the
        // smallest step near zero); beyond the largest code word the error is the clipping.
        let bound = (x.abs() / 16).max(16);
        let u_err = (i32::from(decode_ulaw(encode_ulaw(s))) - x).abs();
        let a_err = (i32::from(decode_alaw(encode_alaw(s))) - x).abs();
        let u_clip = (x.abs() - 32_124).max(0);
        let a_clip = (x.abs() - 32_256).max(0);
        assert!(u_err <= bound + u_clip, "µ-law error {u_err} at {s}");
        assert!(a_err <= bound + a_clip, "A-law error {a_err} at {s}");
    }
}

#[test]
fn slice_encoders_and_decoders_stop_at_the_shorter_buffer() {
    let pcm = [0i16, 1000, -1000];
    let mut out = [0u8; 2];
    assert_eq!(encode_ulaw_slice(&pcm, &mut out), 2);
    assert_eq!(out, [0xFF, encode_ulaw(1000)]);
    assert_eq!(encode_alaw_slice(&pcm[..1], &mut out), 1);
    assert_eq!(out[0], 0xD5);
    let mut dec = [0i16; 4];
    assert_eq!(decode_ulaw_slice(&[0xFF, 0x80], &mut dec), 2);
    assert_eq!(&dec[..2], &[0, 32_124]);
    assert_eq!(decode_alaw_slice(&[0xD5; 8], &mut dec), 4);
    assert_eq!(dec, [8; 4]);
}

#[test]
fn codec_dispatches_to_its_law() {
    let pcm = [1234i16; 4];
    let mut u = [0u8; 4];
    let mut a = [0u8; 4];
    Codec::Pcmu.encode_slice(&pcm, &mut u);
    Codec::Pcma.encode_slice(&pcm, &mut a);
    assert_eq!(u, [encode_ulaw(1234); 4]);
    assert_eq!(a, [encode_alaw(1234); 4]);
    let mut back = [0i16; 4];
    Codec::Pcma.decode_slice(&a, &mut back);
    assert_eq!(back, [decode_alaw(a[0]); 4]);
    assert_eq!(Codec::Pcmu.silence(), encode_ulaw(0));
    assert_eq!(Codec::Pcma.silence(), encode_alaw(0));
    assert_eq!(Codec::Pcmu.static_payload_type(), 0);
    assert_eq!(Codec::Pcma.static_payload_type(), 8);
}

#[test]
fn transcoding_ulaw_to_alaw_preserves_the_linear_value_within_an_alaw_step() {
    let t = Transcoder::new();
    for c in 0..=255u8 {
        let linear = i32::from(decode_ulaw(c));
        let via_alaw = i32::from(decode_alaw(t.ulaw_to_alaw(c)));
        assert!(
            (linear - via_alaw).abs() <= (linear.abs() / 16).max(16) + 132,
            "code {c:#04x}"
        );
    }
}

#[test]
fn transcoding_a_round_trip_returns_a_neighbouring_code_word() {
    let t = Transcoder::new();
    for c in 0..=255u8 {
        let back = t.alaw_to_ulaw(t.ulaw_to_alaw(c));
        let (x, y) = (i32::from(decode_ulaw(c)), i32::from(decode_ulaw(back)));
        assert!(
            (x - y).abs() <= (x.abs() / 8).max(16),
            "code {c:#04x} → {back:#04x}"
        );
    }
}

#[test]
fn transcoding_silence_stays_silent() {
    let t = Transcoder::new();
    assert_eq!(t.ulaw_to_alaw(0xFF), 0xD5);
    assert!(decode_ulaw(t.alaw_to_ulaw(0xD5)).abs() <= 8);
}

#[test]
fn transcode_slice_uses_the_table_and_copies_for_equal_codecs() {
    let t = Transcoder::new();
    let input = [0xFFu8, 0x80, 0x00];
    let mut out = [0u8; 3];
    assert_eq!(t.transcode(Codec::Pcmu, Codec::Pcma, &input, &mut out), 3);
    assert_eq!(
        out,
        [
            t.ulaw_to_alaw(0xFF),
            t.ulaw_to_alaw(0x80),
            t.ulaw_to_alaw(0x00)
        ]
    );
    assert_eq!(t.transcode(Codec::Pcmu, Codec::Pcmu, &input, &mut out), 3);
    assert_eq!(out, input);
    let mut buf = input;
    t.transcode_in_place(Codec::Pcmu, Codec::Pcma, &mut buf);
    t.transcode_in_place(Codec::Pcma, Codec::Pcmu, &mut buf);
    assert_eq!(buf[1], 0x80);
}
