//! A manager on a live call: the media side of listen-in, whisper and barge.
//!
//! While a supervisor is on a call, relaying each packet into the partner's stream no longer
//! suffices: every participant hears a mix of the others ([`MixRoom`], whose docs say who hears
//! whom). On `Monitor` the caller's, the operator's and the supervisor's readers stop relaying
//! and push every packet into the call's room; on each 20 ms tick the runtime ticks the room
//! and writes each participant's frame into that leg's own output stream, which continues the
//! sequence and timeline the relay (or a prompt) was writing. On `Unmonitor`, or when any of
//! the three legs closes, the room is dropped and the caller and operator relay to each other
//! again with fresh anchors.
//!
//! The room sits behind a mutex that a reader holds only to push one packet and the tick only
//! to mix one frame, like the legs' [`Output`](super::Output)s. Digits and the recording taps
//! are unchanged: the readers still handle them before and besides the mix.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use madoguchi_media::mix::{MixFrames, MixMode, MixRoom, Participant, FRAME_SAMPLES};
use madoguchi_media::rtp::RtpHeader;
use madoguchi_sip::LegId;

use super::{lock, send_frame, MediaRuntime};

pub(super) type SharedRoom = Arc<Mutex<MixRoom>>;

/// Locks a room. Pushing and mixing leave it consistent between any two statements that
/// could panic, so a poisoned lock is still usable.
fn lock_room(room: &Mutex<MixRoom>) -> MutexGuard<'_, MixRoom> {
    room.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Where a leg's reader puts its packets while its call is supervised.
#[derive(Clone)]
pub(super) struct MixInput {
    room: SharedRoom,
    participant: Participant,
}

impl MixInput {
    /// Buffers one received packet in the room (telephone-events and strays are refused by
    /// the room and counted there).
    pub(super) fn push(&self, header: &RtpHeader, payload: &[u8]) {
        let _ = lock_room(&self.room).push(self.participant, header, payload);
    }
}

/// One supervised call, kept by the runtime under its supervisor's leg.
pub(super) struct Monitor {
    room: SharedRoom,
    /// Caller, operator, supervisor: in [`Participant::ALL`]'s order.
    legs: [LegId; 3],
}

impl Monitor {
    pub(super) fn has(&self, leg: LegId) -> bool {
        self.legs.contains(&leg)
    }
}

/// The mix of the current tick and its encoded frames: reused, so a tick allocates nothing.
pub(super) struct MixScratch {
    mixes: MixFrames,
    frames: [[u8; FRAME_SAMPLES]; 3],
}

impl MixScratch {
    pub(super) fn new() -> MixScratch {
        MixScratch {
            mixes: MixFrames::new(),
            frames: [[0u8; FRAME_SAMPLES]; 3],
        }
    }
}

const PARTICIPANTS: [Participant; 3] = [
    Participant::Caller,
    Participant::Operator,
    Participant::Supervisor,
];

impl MediaRuntime {
    /// Starts mixing the three legs in `mode`. A supervisor already monitoring, or a leg
    /// unknown or already in another room, leaves things as they are.
    pub(super) fn monitor(
        &mut self,
        caller: LegId,
        operator: LegId,
        supervisor: LegId,
        mode: MixMode,
    ) {
        let legs = [caller, operator, supervisor];
        let distinct = caller != operator && caller != supervisor && operator != supervisor;
        let known = legs.iter().all(|leg| self.streams.contains_key(leg));
        let busy = self
            .monitors
            .values()
            .any(|m| legs.iter().any(|&leg| m.has(leg)));
        if !distinct || !known || busy || self.monitors.contains_key(&supervisor) {
            tracing::debug!(?caller, ?operator, ?supervisor, "monitor ignored");
            return;
        }
        let formats = legs.map(|leg| {
            self.streams
                .get(&leg)
                .map(|s| lock(&s.output).stream.format)
                .unwrap_or_else(|| {
                    madoguchi_media::relay::LegFormat::new(madoguchi_media::Codec::Pcmu)
                })
        });
        let room = Arc::new(Mutex::new(MixRoom::new(
            mode, formats[0], formats[1], formats[2],
        )));
        // The supervisor's phone plays nothing of ours from now on.
        self.stop_playback(supervisor);
        self.monitors.insert(
            supervisor,
            Monitor {
                room: Arc::clone(&room),
                legs,
            },
        );
        for (leg, participant) in legs.into_iter().zip(PARTICIPANTS) {
            self.mixed.insert(leg);
            self.point_mix(
                leg,
                Some(MixInput {
                    room: Arc::clone(&room),
                    participant,
                }),
            );
        }
        tracing::debug!(?caller, ?operator, ?supervisor, ?mode, "monitoring started");
    }

    pub(super) fn set_monitor_mode(&mut self, supervisor: LegId, mode: MixMode) {
        if let Some(monitor) = self.monitors.get(&supervisor) {
            lock_room(&monitor.room).set_mode(mode);
        }
    }

    /// Ends the mix of `supervisor`'s call: the caller and the operator relay to each other
    /// again (if they are still bridged), the supervisor's leg goes silent.
    pub(super) fn unmonitor(&mut self, supervisor: LegId) {
        let Some(monitor) = self.monitors.remove(&supervisor) else {
            return;
        };
        for leg in monitor.legs {
            self.mixed.remove(&leg);
            self.point_mix(leg, None);
        }
        for leg in monitor.legs {
            let partner = self.streams.get(&leg).and_then(|s| s.partner);
            if partner.is_some() {
                self.point_reader(leg, partner);
            }
        }
        tracing::debug!(?supervisor, "monitoring ended");
    }

    /// A leg closes: the mix it was part of ends.
    pub(super) fn unmonitor_leg(&mut self, leg: LegId) {
        let supervisor = self
            .monitors
            .iter()
            .find(|(_, m)| m.has(leg))
            .map(|(supervisor, _)| *supervisor);
        if let Some(supervisor) = supervisor {
            self.unmonitor(supervisor);
        }
    }

    /// A leg's new reader (a re-INVITE started it afresh) pushes into its room too, decoding
    /// the newly negotiated format.
    pub(super) fn remix(&mut self, leg: LegId) {
        let Some((room, participant)) = self.monitors.values().find_map(|m| {
            let at = m.legs.iter().position(|&l| l == leg)?;
            Some((Arc::clone(&m.room), PARTICIPANTS[at]))
        }) else {
            return;
        };
        if let Some(stream) = self.streams.get(&leg) {
            let format = lock(&stream.output).stream.format;
            lock_room(&room).set_format(participant, format);
        }
        self.point_mix(leg, Some(MixInput { room, participant }));
    }

    fn point_mix(&self, leg: LegId, input: Option<MixInput>) {
        if let Some(reader) = self.streams.get(&leg).and_then(|s| s.reader.as_ref()) {
            reader.mix(input);
        }
    }

    /// The clock skipped frames: every room's buffers move on with real time.
    pub(super) fn skip_monitors(&mut self, frames: u64) {
        for monitor in self.monitors.values() {
            lock_room(&monitor.room).skip(frames);
        }
    }

    /// One frame of every room, each participant's mix sent on its own stream. A leg playing
    /// a prompt (hold music) is left to the prompt; one on hold or not yet latched passes the
    /// frame idle.
    pub(super) fn tick_monitors(&mut self) {
        let scratch = &mut self.mix_scratch;
        for monitor in self.monitors.values() {
            {
                let mut room = lock_room(&monitor.room);
                room.tick(&mut scratch.mixes);
                for (participant, frame) in PARTICIPANTS.into_iter().zip(&mut scratch.frames) {
                    room.encode(participant, &scratch.mixes, frame);
                }
            }
            for (leg, frame) in monitor.legs.into_iter().zip(&scratch.frames) {
                let Some(stream) = self.streams.get(&leg) else {
                    continue;
                };
                let output = lock(&stream.output);
                if output.stream.prompt_playing {
                    continue;
                }
                send_frame(
                    &stream.sink,
                    output,
                    Some(frame.as_slice()),
                    &mut self.packet,
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    //! The runtime mixing three legs whose far ends are plain UDP sockets on 127.0.0.1, each
    //! speaking one constant level, so what a far end hears says whose voices are in it.

    use std::net::{Ipv4Addr, SocketAddr};
    use std::sync::Arc;
    use std::time::Duration;

    use madoguchi_media::g711;
    use madoguchi_media::mix::MixMode;
    use madoguchi_media::rtp::{RtpHeader, RtpSender};
    use madoguchi_media::{Codec, Ssrc};
    use madoguchi_prompts::PromptCache;
    use madoguchi_sip::LegId;
    use tokio::net::UdpSocket;
    use tokio::sync::mpsc;

    use crate::engine::{MediaCommand, MediaEvent};
    use crate::net::rtp::MediaRuntime;

    const LOCALHOST: Ipv4Addr = Ipv4Addr::LOCALHOST;
    const GUARD: Duration = Duration::from_secs(5);

    /// One leg's far end: speaks `level`, keeps the level of the last frame it heard.
    struct End {
        codec: Codec,
        socket: UdpSocket,
        leg_addr: SocketAddr,
        sender: RtpSender,
        level: i16,
    }

    impl End {
        fn encode(&self, sample: i16) -> u8 {
            match self.codec {
                Codec::Pcmu => g711::encode_ulaw(sample),
                Codec::Pcma => g711::encode_alaw(sample),
            }
        }

        async fn speak(&mut self) {
            let payload = [self.encode(self.level); 160];
            let mut buf = [0u8; 256];
            let pt = self.codec.static_payload_type();
            let len = self.sender.write_packet(pt, &payload, &mut buf);
            self.socket
                .send_to(&buf[..len], self.leg_addr)
                .await
                .expect("send");
        }

        /// The level of the newest frame waiting, if any arrived.
        fn heard(&self) -> Option<i16> {
            let mut buf = [0u8; 1500];
            let mut last = None;
            while let Ok((len, _)) = self.socket.try_recv_from(&mut buf) {
                if let Ok((header, payload)) = RtpHeader::parse(&buf[..len]) {
                    let code = *payload.first()?;
                    last = Some(match header.payload_type {
                        8 => g711::decode_alaw(code),
                        _ => g711::decode_ulaw(code),
                    });
                }
            }
            last
        }
    }

    struct Runtime {
        commands: mpsc::UnboundedSender<MediaCommand>,
        events: mpsc::UnboundedReceiver<MediaEvent>,
        next: u64,
    }

    impl Runtime {
        fn new(ports: std::ops::RangeInclusive<u16>) -> Runtime {
            let (commands, commands_rx) = mpsc::unbounded_channel();
            let (events_tx, events) = mpsc::unbounded_channel();
            let cache = PromptCache::from_encoded([]).expect("no prompts");
            let runtime = MediaRuntime::new(Arc::new(cache), LOCALHOST.into(), ports, events_tx);
            let (webrtc_tx, webrtc_rx) = mpsc::unbounded_channel();
            tokio::spawn(async move {
                let _webrtc = webrtc_tx;
                runtime.run(commands_rx, webrtc_rx).await
            });
            Runtime {
                commands,
                events,
                next: 1,
            }
        }

        fn send(&self, command: MediaCommand) {
            self.commands.send(command).expect("runtime alive");
        }

        async fn leg(&mut self, codec: Codec, level: i16) -> (LegId, End) {
            let leg = LegId(self.next);
            self.next += 1;
            self.send(MediaCommand::Open { leg });
            let port = loop {
                let event = tokio::time::timeout(GUARD, self.events.recv())
                    .await
                    .expect("opened in time")
                    .expect("runtime alive");
                if let MediaEvent::Opened { leg: l, port } = event {
                    if l == leg {
                        break port;
                    }
                }
            };
            let socket = UdpSocket::bind((LOCALHOST, 0)).await.expect("bind");
            self.send(MediaCommand::Start {
                leg,
                remote: Some(socket.local_addr().expect("addr")),
                codec,
                payload_type: codec.static_payload_type(),
                telephone_event_pt: None,
            });
            let end = End {
                codec,
                socket,
                leg_addr: SocketAddr::from((LOCALHOST, port)),
                sender: RtpSender::new(Ssrc(0x5EED + leg.0 as u32), 1, 0),
                level,
            };
            (leg, end)
        }
    }

    /// Everyone speaks for `frames` × 20 ms; what each end heard last: caller, operator,
    /// supervisor.
    async fn talk(ends: &mut [&mut End; 3], frames: usize) -> [Option<i16>; 3] {
        let mut pace = tokio::time::interval(Duration::from_millis(20));
        let mut heard = [None; 3];
        for _ in 0..frames {
            pace.tick().await;
            for (end, heard) in ends.iter_mut().zip(heard.iter_mut()) {
                end.speak().await;
                if let Some(level) = end.heard() {
                    *heard = Some(level);
                }
            }
        }
        heard
    }

    fn near(heard: Option<i16>, level: i16) -> bool {
        heard.is_some_and(|h| (i32::from(h) - i32::from(level)).abs() < i32::from(level) / 20 + 50)
    }

    #[tokio::test]
    async fn the_three_legs_hear_the_mix_their_mode_allows_and_the_relay_comes_back() {
        let mut rt = Runtime::new(43_000..=43_099);
        let (caller, mut c) = rt.leg(Codec::Pcmu, 1000).await;
        let (operator, mut o) = rt.leg(Codec::Pcma, 2000).await;
        let (supervisor, mut s) = rt.leg(Codec::Pcmu, 4000).await;
        rt.send(MediaCommand::Bridge {
            a: caller,
            b: operator,
        });
        let heard = talk(&mut [&mut c, &mut o, &mut s], 10).await;
        assert!(
            near(heard[0], 2000) && near(heard[1], 1000),
            "bridged: {heard:?}"
        );
        assert_eq!(heard[2], None, "the supervisor's leg is silent before");

        rt.send(MediaCommand::Monitor {
            caller,
            operator,
            supervisor,
            mode: MixMode::Whisper,
        });
        let heard = talk(&mut [&mut c, &mut o, &mut s], 15).await;
        assert!(
            near(heard[0], 2000),
            "whisper: the caller hears the operator only: {heard:?}"
        );
        assert!(
            near(heard[1], 5000),
            "whisper: the operator hears caller + manager: {heard:?}"
        );
        assert!(
            near(heard[2], 3000),
            "the manager hears both sides: {heard:?}"
        );

        rt.send(MediaCommand::SetMonitorMode {
            supervisor,
            mode: MixMode::Barge,
        });
        let heard = talk(&mut [&mut c, &mut o, &mut s], 10).await;
        assert!(
            near(heard[0], 6000),
            "barge: the caller hears both: {heard:?}"
        );

        rt.send(MediaCommand::SetMonitorMode {
            supervisor,
            mode: MixMode::Listen,
        });
        let heard = talk(&mut [&mut c, &mut o, &mut s], 10).await;
        assert!(
            near(heard[0], 2000) && near(heard[1], 1000),
            "listen: {heard:?}"
        );
        assert!(near(heard[2], 3000), "listen: {heard:?}");

        // The manager's leg closes: caller and operator relay to each other again.
        rt.send(MediaCommand::Close { leg: supervisor });
        talk(&mut [&mut c, &mut o, &mut s], 3).await;
        let heard = talk(&mut [&mut c, &mut o, &mut s], 10).await;
        assert!(
            near(heard[0], 2000) && near(heard[1], 1000),
            "relayed again: {heard:?}"
        );
        assert_eq!(heard[2], None, "the closed leg hears nothing");
    }

    #[tokio::test]
    async fn unmonitor_hands_caller_and_operator_back_to_the_relay() {
        let mut rt = Runtime::new(43_100..=43_199);
        let (caller, mut c) = rt.leg(Codec::Pcmu, 1000).await;
        let (operator, mut o) = rt.leg(Codec::Pcmu, 2000).await;
        let (supervisor, mut s) = rt.leg(Codec::Pcmu, 4000).await;
        rt.send(MediaCommand::Bridge {
            a: caller,
            b: operator,
        });
        rt.send(MediaCommand::Monitor {
            caller,
            operator,
            supervisor,
            mode: MixMode::Barge,
        });
        let heard = talk(&mut [&mut c, &mut o, &mut s], 15).await;
        assert!(near(heard[0], 6000), "barge: {heard:?}");

        rt.send(MediaCommand::Unmonitor { supervisor });
        talk(&mut [&mut c, &mut o, &mut s], 3).await;
        let heard = talk(&mut [&mut c, &mut o, &mut s], 10).await;
        assert!(
            near(heard[0], 2000) && near(heard[1], 1000),
            "relayed again: {heard:?}"
        );
        assert_eq!(heard[2], None, "the manager's leg goes silent");
    }
}
