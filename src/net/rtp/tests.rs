//! The media runtime against plain UDP sockets on 127.0.0.1 standing in for the far ends of
//! the legs. Every wait is for a packet or an event (with a generous timeout as a guard); the
//! runtime having handled earlier commands is awaited with a fence (a throwaway `Open`, whose
//! `Opened` comes after them).

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use madoguchi_media::dtmf::DtmfSender;
use madoguchi_media::g711::{self, Transcoder};
use madoguchi_media::rtp::{RtpHeader, RtpSender};
use madoguchi_media::{Codec, Ssrc};
use madoguchi_prompts::{EncodedPrompt, PromptCache, PromptId, FRAME_SAMPLES};
use madoguchi_sip::LegId;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::time::timeout;

use super::MediaRuntime;
use crate::engine::{MediaCommand, MediaEvent};

mod load;

const GUARD: Duration = Duration::from_secs(5);
const LOCALHOST: Ipv4Addr = Ipv4Addr::LOCALHOST;
/// Frames of the test prompt; each frame holds one constant sample so its position shows.
const TONE_FRAMES: usize = 3;

fn tone_cache() -> PromptCache {
    let pcm: Vec<i16> = (0..TONE_FRAMES * FRAME_SAMPLES)
        .map(|i| 1000 * (i / FRAME_SAMPLES + 1) as i16)
        .collect();
    PromptCache::from_encoded([EncodedPrompt::encode("tone", &pcm)]).unwrap()
}

/// The µ-law bytes of frame `n` of the tone.
fn tone_frame(n: usize) -> Vec<u8> {
    vec![g711::encode_ulaw(1000 * (n as i16 + 1)); FRAME_SAMPLES]
}

/// A µ-law payload whose bytes all differ under transcoding.
fn ramp(seed: u8) -> Vec<u8> {
    (0..160u16)
        .map(|i| (i as u8).wrapping_mul(7) ^ seed)
        .collect()
}

struct Harness {
    commands: mpsc::UnboundedSender<MediaCommand>,
    events: mpsc::UnboundedReceiver<MediaEvent>,
    /// Events that arrived while waiting for another one.
    backlog: Vec<MediaEvent>,
    next_leg: u64,
    tone: PromptId,
}

/// The far end of one leg.
struct FarEnd {
    socket: UdpSocket,
    /// The leg's RTP address at madoguchi.
    leg_addr: SocketAddr,
    sender: RtpSender,
}

impl Harness {
    fn new() -> Harness {
        Harness::with_ports(41_000..=41_999)
    }

    fn with_ports(ports: std::ops::RangeInclusive<u16>) -> Harness {
        let cache = tone_cache();
        let tone = cache.id("tone").unwrap();
        let (commands, commands_rx) = mpsc::unbounded_channel();
        let (events_tx, events) = mpsc::unbounded_channel();
        let runtime = MediaRuntime::new(Arc::new(cache), LOCALHOST.into(), ports, events_tx);
        // The sender stays alive in the spawned task: no browser legs in these tests.
        let (webrtc_tx, webrtc_rx) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let _webrtc = webrtc_tx;
            runtime.run(commands_rx, webrtc_rx).await
        });
        Harness {
            commands,
            events,
            backlog: Vec::new(),
            next_leg: 1,
            tone,
        }
    }

    fn send(&self, command: MediaCommand) {
        self.commands.send(command).unwrap();
    }

    /// Opens a leg; returns it and its RTP address.
    async fn open(&mut self) -> (LegId, SocketAddr) {
        let leg = LegId(self.next_leg);
        self.next_leg += 1;
        self.send(MediaCommand::Open { leg });
        let port = self
            .wait_for(|e| match e {
                MediaEvent::Opened { leg: l, port } if *l == leg => Some(*port),
                _ => None,
            })
            .await;
        (leg, SocketAddr::from((LOCALHOST, port)))
    }

    /// Opens and starts a leg whose far end is a fresh socket.
    async fn leg(&mut self, codec: Codec, telephone_event_pt: Option<u8>) -> (LegId, FarEnd) {
        let (leg, leg_addr) = self.open().await;
        let socket = UdpSocket::bind((LOCALHOST, 0)).await.unwrap();
        self.send(MediaCommand::Start {
            leg,
            remote: Some(socket.local_addr().unwrap()),
            codec,
            payload_type: codec.static_payload_type(),
            telephone_event_pt,
        });
        let far = FarEnd {
            socket,
            leg_addr,
            sender: RtpSender::new(Ssrc(0xFA00 + leg.0 as u32), 100, 8000),
        };
        (leg, far)
    }

    /// Returns once every command sent so far has been handled.
    async fn fence(&mut self) {
        let (leg, _) = self.open().await;
        self.send(MediaCommand::Close { leg });
    }

    async fn wait_for<T>(&mut self, mut pick: impl FnMut(&MediaEvent) -> Option<T>) -> T {
        if let Some(i) = self.backlog.iter().position(|e| pick(e).is_some()) {
            return pick(&self.backlog.remove(i)).unwrap();
        }
        loop {
            let event = timeout(GUARD, self.events.recv())
                .await
                .expect("event in time")
                .expect("runtime alive");
            if let Some(found) = pick(&event) {
                return found;
            }
            self.backlog.push(event);
        }
    }

    /// Every event so far, without waiting.
    fn drain_events(&mut self) -> Vec<MediaEvent> {
        let mut all = std::mem::take(&mut self.backlog);
        while let Ok(event) = self.events.try_recv() {
            all.push(event);
        }
        all
    }
}

impl FarEnd {
    async fn send_audio(&mut self, pt: u8, payload: &[u8]) {
        let mut buf = [0u8; 1500];
        let len = self.sender.write_packet(pt, payload, &mut buf);
        self.socket
            .send_to(&buf[..len], self.leg_addr)
            .await
            .unwrap();
    }

    /// One key press as RFC 4733 packets; the audio timeline moves on by its duration.
    async fn press(&mut self, digit: char, pt: u8) {
        let mut press = DtmfSender::new(digit, self.sender.timestamp, 480).unwrap();
        let mut buf = [0u8; 64];
        while let Some(p) = press.next_packet() {
            let len = self
                .sender
                .write_event_packet(pt, p.timestamp, p.marker, &p.payload, &mut buf)
                .unwrap();
            self.socket
                .send_to(&buf[..len], self.leg_addr)
                .await
                .unwrap();
        }
        self.sender.resume_after_gap(480);
    }

    async fn recv(&self) -> (RtpHeader, Vec<u8>) {
        let mut buf = [0u8; 1500];
        let (len, _) = timeout(GUARD, self.socket.recv_from(&mut buf))
            .await
            .expect("packet in time")
            .unwrap();
        let (header, payload) = RtpHeader::parse(&buf[..len]).unwrap();
        (header, payload.to_vec())
    }

    async fn recv_n(&self, n: usize) -> Vec<(RtpHeader, Vec<u8>)> {
        let mut packets = Vec::with_capacity(n);
        for _ in 0..n {
            packets.push(self.recv().await);
        }
        packets
    }

    fn nothing_received(&self) -> bool {
        let mut buf = [0u8; 1500];
        self.socket.try_recv_from(&mut buf).is_err()
    }
}

fn assert_one_stream(packets: &[(RtpHeader, Vec<u8>)]) {
    let first = &packets[0].0;
    for (i, (h, _)) in packets.iter().enumerate() {
        let i16 = i as u16;
        assert_eq!(h.ssrc, first.ssrc, "packet {i}: one SSRC");
        assert_eq!(
            h.sequence_number,
            first.sequence_number.wrapping_add(i16),
            "packet {i}: no sequence gap"
        );
        assert_eq!(
            h.timestamp,
            first
                .timestamp
                .wrapping_add(FRAME_SAMPLES as u32 * u32::from(i16)),
            "packet {i}: 20 ms steps"
        );
    }
}

#[tokio::test]
async fn bridged_legs_relay_audio_both_ways_with_their_own_payload_types_and_laws() {
    let mut h = Harness::new();
    let (a, mut end_a) = h.leg(Codec::Pcmu, Some(101)).await;
    let (b, mut end_b) = h.leg(Codec::Pcma, Some(96)).await;
    h.send(MediaCommand::Bridge { a, b });
    h.fence().await;
    let t = Transcoder::new();

    for n in 0..50u8 {
        end_a.send_audio(0, &ramp(n)).await;
    }
    let at_b = end_b.recv_n(50).await;
    assert_one_stream(&at_b);
    assert!(at_b[0].0.marker);
    for (n, (header, payload)) in at_b.iter().enumerate() {
        assert_eq!(header.payload_type, 8);
        let expected: Vec<u8> = ramp(n as u8).iter().map(|&c| t.ulaw_to_alaw(c)).collect();
        assert_eq!(*payload, expected, "packet {n} transcoded to A-law");
    }

    for n in 0..50u8 {
        end_b.send_audio(8, &ramp(n)).await;
    }
    let at_a = end_a.recv_n(50).await;
    assert_one_stream(&at_a);
    for (n, (header, payload)) in at_a.iter().enumerate() {
        assert_eq!(header.payload_type, 0);
        let expected: Vec<u8> = ramp(n as u8).iter().map(|&c| t.alaw_to_ulaw(c)).collect();
        assert_eq!(*payload, expected, "packet {n} transcoded to µ-law");
    }
    assert_ne!(
        at_a[0].0.ssrc, at_b[0].0.ssrc,
        "each leg keeps its own SSRC"
    );
}

#[tokio::test]
async fn relayed_audio_continues_the_prompt_stream_and_a_later_prompt_continues_it() {
    let mut h = Harness::new();
    let (a, mut end_a) = h.leg(Codec::Pcmu, None).await;
    let (b, end_b) = h.leg(Codec::Pcmu, None).await;
    let tone = h.tone;
    h.send(MediaCommand::Play {
        leg: b,
        prompt: tone,
        playback: 1,
        looped: false,
    });
    let mut stream = end_b.recv_n(TONE_FRAMES).await;
    h.wait_for(|e| {
        (*e == MediaEvent::PromptFinished {
            leg: b,
            playback: 1,
        })
        .then_some(())
    })
    .await;

    h.send(MediaCommand::Bridge { a, b });
    h.fence().await;
    for n in 0..5 {
        end_a.send_audio(0, &ramp(n)).await;
    }
    stream.extend(end_b.recv_n(5).await);

    h.send(MediaCommand::Unbridge { leg: b });
    h.send(MediaCommand::Play {
        leg: b,
        prompt: tone,
        playback: 2,
        looped: false,
    });
    stream.extend(end_b.recv_n(TONE_FRAMES).await);

    let first = stream[0].0;
    for (i, (header, _)) in stream.iter().enumerate() {
        assert_eq!(header.ssrc, first.ssrc);
        assert_eq!(
            header.sequence_number,
            first.sequence_number.wrapping_add(i as u16),
            "packet {i}: one sequence across prompt, relay and prompt"
        );
    }
    for pair in stream.windows(2) {
        let step = pair[1].0.timestamp.wrapping_sub(pair[0].0.timestamp);
        assert!(
            (FRAME_SAMPLES as u32..1 << 31).contains(&step),
            "the timeline only moves forward"
        );
    }
    let markers: Vec<usize> = (0..stream.len()).filter(|&i| stream[i].0.marker).collect();
    assert_eq!(markers, [0, TONE_FRAMES, TONE_FRAMES + 5]);
}

#[tokio::test]
async fn key_presses_are_relayed_with_the_partners_event_type_and_still_reported() {
    let mut h = Harness::new();
    let (a, mut end_a) = h.leg(Codec::Pcmu, Some(101)).await;
    let (b, end_b) = h.leg(Codec::Pcma, Some(96)).await;
    h.send(MediaCommand::Bridge { a, b });
    h.fence().await;

    end_a.press('7', 101).await;
    let digit = h
        .wait_for(|e| match e {
            MediaEvent::Digit { leg, digit } if *leg == a => Some(*digit),
            _ => None,
        })
        .await;
    assert_eq!(digit, '7');
    let (header, payload) = end_b.recv().await;
    assert_eq!(header.payload_type, 96);
    assert_eq!(payload[0], 7, "event code of the digit");
}

#[tokio::test]
async fn looped_playback_restarts_without_a_sequence_gap_and_never_finishes() {
    let mut h = Harness::new();
    let (leg, end) = h.leg(Codec::Pcmu, None).await;
    let tone = h.tone;
    h.send(MediaCommand::Play {
        leg,
        prompt: tone,
        playback: 1,
        looped: true,
    });
    let packets = end.recv_n(3 * TONE_FRAMES + 1).await;
    h.send(MediaCommand::StopPlayback { leg });
    h.fence().await;

    assert_one_stream(&packets);
    for (i, (_, payload)) in packets.iter().enumerate() {
        assert_eq!(*payload, tone_frame(i % TONE_FRAMES), "packet {i}");
    }
    let finished: Vec<_> = h
        .drain_events()
        .into_iter()
        .filter(|e| matches!(e, MediaEvent::PromptFinished { .. }))
        .collect();
    assert_eq!(finished, []);
}

#[tokio::test]
async fn a_leg_on_hold_is_relayed_nothing_until_it_resumes() {
    let mut h = Harness::new();
    let (a, mut end_a) = h.leg(Codec::Pcmu, Some(101)).await;
    let (b, end_b) = h.leg(Codec::Pcmu, Some(101)).await;
    h.send(MediaCommand::Bridge { a, b });
    h.send(MediaCommand::SetSending {
        leg: b,
        sending: false,
    });
    h.fence().await;

    for n in 0..5 {
        end_a.send_audio(0, &ramp(n)).await;
    }
    // The digit shows that A's reader has handled everything sent before it.
    end_a.press('1', 101).await;
    h.wait_for(|e| matches!(e, MediaEvent::Digit { .. }).then_some(()))
        .await;
    assert!(end_b.nothing_received(), "held leg got packets");

    h.send(MediaCommand::SetSending {
        leg: b,
        sending: true,
    });
    h.fence().await;
    end_a.send_audio(0, &ramp(99)).await;
    let (header, payload) = end_b.recv().await;
    assert_eq!(payload, ramp(99));
    assert!(header.marker);
}

#[tokio::test]
async fn a_new_bridge_replaces_the_old_one() {
    let mut h = Harness::new();
    let (a, mut end_a) = h.leg(Codec::Pcmu, Some(101)).await;
    let (b, end_b) = h.leg(Codec::Pcmu, Some(101)).await;
    let (c, end_c) = h.leg(Codec::Pcmu, Some(101)).await;
    h.send(MediaCommand::Bridge { a, b });
    h.send(MediaCommand::Bridge { a, b: c });
    h.fence().await;

    end_a.send_audio(0, &ramp(1)).await;
    end_a.press('2', 101).await;
    h.wait_for(|e| matches!(e, MediaEvent::Digit { .. }).then_some(()))
        .await;
    assert_eq!(end_c.recv().await.1, ramp(1));
    assert!(
        end_b.nothing_received(),
        "the replaced partner still hears A"
    );
}

#[tokio::test]
async fn closing_a_bridged_leg_leaves_the_partner_free_to_play() {
    let mut h = Harness::new();
    let (a, mut end_a) = h.leg(Codec::Pcmu, None).await;
    let (b, end_b) = h.leg(Codec::Pcmu, None).await;
    h.send(MediaCommand::Bridge { a, b });
    h.fence().await;
    end_a.send_audio(0, &ramp(1)).await;
    let (relayed, _) = end_b.recv().await;

    h.send(MediaCommand::Close { leg: a });
    let tone = h.tone;
    h.send(MediaCommand::Play {
        leg: b,
        prompt: tone,
        playback: 1,
        looped: false,
    });
    let (prompt, payload) = end_b.recv().await;
    assert_eq!(payload, tone_frame(0));
    assert_eq!(
        prompt.sequence_number,
        relayed.sequence_number.wrapping_add(1)
    );
    h.wait_for(|e| {
        (*e == MediaEvent::PromptFinished {
            leg: b,
            playback: 1,
        })
        .then_some(())
    })
    .await;
}

#[tokio::test]
async fn relaying_adds_well_under_a_millisecond_median_latency() {
    let mut h = Harness::new();
    let (a, mut end_a) = h.leg(Codec::Pcmu, None).await;
    let (b, end_b) = h.leg(Codec::Pcma, None).await;
    h.send(MediaCommand::Bridge { a, b });
    h.fence().await;
    let mut latencies = Vec::new();
    for n in 0..51 {
        let sent = std::time::Instant::now();
        end_a.send_audio(0, &ramp(n)).await;
        end_b.recv().await;
        latencies.push(sent.elapsed());
    }
    latencies.sort();
    let median = latencies[latencies.len() / 2];
    assert!(median < Duration::from_millis(1), "median {median:?}");
}

#[tokio::test]
async fn a_stale_stream_arriving_first_does_not_take_the_leg_from_its_signalled_far_end() {
    let mut h = Harness::new();
    let (a, mut end_a) = h.leg(Codec::Pcmu, None).await;
    let (b, mut end_b) = h.leg(Codec::Pcmu, None).await;
    h.send(MediaCommand::Bridge { a, b });
    h.fence().await;
    // A stream meant for the call that used this port before.
    let mut stale = FarEnd {
        socket: UdpSocket::bind((LOCALHOST, 0)).await.unwrap(),
        leg_addr: end_a.leg_addr,
        sender: RtpSender::new(Ssrc(0x5A1E), 7, 8000),
    };
    stale.send_audio(0, &ramp(9)).await;
    assert_eq!(end_b.recv().await.1, ramp(9), "the stale packet came first");

    end_a.send_audio(0, &ramp(1)).await;
    assert_eq!(
        end_b.recv().await.1,
        ramp(1),
        "the signalled far end is heard"
    );
    stale.send_audio(0, &ramp(9)).await;
    end_a.send_audio(0, &ramp(2)).await;
    assert_eq!(end_b.recv().await.1, ramp(2), "the stale stream is dropped");
    end_b.send_audio(0, &ramp(3)).await;
    assert_eq!(end_a.recv().await.1, ramp(3), "and the far end is answered");
    assert!(stale.nothing_received(), "the stale sender hears nothing");
}

#[tokio::test]
async fn a_far_end_sending_from_another_address_than_its_sdp_is_latched() {
    let mut h = Harness::new();
    let (a, end_a) = h.leg(Codec::Pcmu, None).await;
    let (b, mut end_b) = h.leg(Codec::Pcmu, None).await;
    h.send(MediaCommand::Bridge { a, b });
    h.fence().await;
    // Behind NAT: the same far end, seen from another port than its SDP gave.
    let mut natted = FarEnd {
        socket: UdpSocket::bind((LOCALHOST, 0)).await.unwrap(),
        leg_addr: end_a.leg_addr,
        sender: RtpSender::new(Ssrc(0xCAFE), 7, 8000),
    };
    natted.send_audio(0, &ramp(4)).await;
    assert_eq!(end_b.recv().await.1, ramp(4));
    end_b.send_audio(0, &ramp(5)).await;
    assert_eq!(
        natted.recv().await.1,
        ramp(5),
        "answered where it sends from"
    );
    assert!(end_a.nothing_received(), "not at the SDP's address");
}
