//! The call core in virtual time: SIP text in, SIP text, media commands and records out.
//! No sockets and no sleeping; a call at 12/30 10:00 JST is just a `Now` value.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Asia::Tokyo;
use madoguchi_dialplan::Dialplan;
use madoguchi_prompts::{EncodedPrompt, PromptCache};
use madoguchi_sip::{EndpointConfig, LegId, Transport};
use madoguchi_store::{CallRecord, Disposition, HangupSide};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::call::PLAYOUT_TAIL;
use super::*;

const CALLER: &str = "127.0.0.1:5555";
const RTP_PORT: u16 = 40_000;

fn jst(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Tokyo
        .with_ymd_and_hms(y, mo, d, h, mi, 0)
        .single()
        .expect("a valid JST instant")
        .with_timezone(&Utc)
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The engine with the reference dialplan, fed and drained by hand.
struct Harness {
    engine: Engine,
    now: Now,
    prompts: Arc<PromptIndex>,
    sent: Vec<String>,
    media: Vec<MediaCommand>,
    records: Vec<CallRecord>,
}

impl Harness {
    fn at(wall: DateTime<Utc>) -> Harness {
        let dialplan =
            Dialplan::load(&repo().join("dialplans/zama.toml")).expect("zama.toml checks");
        Harness::with(dialplan, wall)
    }

    fn with(dialplan: Dialplan, wall: DateTime<Utc>) -> Harness {
        // Half a second of silence per prompt: the core only needs the ids.
        let cache = PromptCache::from_encoded(
            dialplan
                .prompt_files()
                .map(|(name, _)| EncodedPrompt::encode(name, &[0i16; 4000])),
        )
        .expect("synthetic prompts");
        let prompts: PromptIndex = dialplan
            .prompt_files()
            .filter_map(|(name, _)| cache.id(name).map(|id| (name.to_owned(), id)))
            .collect();
        let prompts = Arc::new(prompts);
        let engine = Engine::new(
            EngineConfig {
                sip: EndpointConfig {
                    public_host: "127.0.0.1".to_owned(),
                    public_port: 5060,
                    user_agent: "madoguchi-test".to_owned(),
                    max_message_size: 65_535,
                    realm: "madoguchi".to_owned(),
                    registrar: madoguchi_sip::RegistrarConfig::default(),
                    nonce_secret: [7; 32],
                    nonce_lifetime_secs: 300,
                },
                media_ip: "127.0.0.1".parse().expect("ip"),
                node_id: "test".to_owned(),
                targets: Default::default(),
                rng_seed: 7,
            },
            Arc::new(dialplan),
            Arc::clone(&prompts),
        );
        Harness {
            engine,
            now: Now {
                mono: Instant::now(),
                wall,
            },
            prompts,
            sent: Vec::new(),
            media: Vec::new(),
            records: Vec::new(),
        }
    }

    fn source() -> SocketAddr {
        CALLER.parse().expect("addr")
    }

    fn sip(&mut self, text: &str) {
        self.engine
            .handle_sip(self.now, Transport::Udp, Self::source(), text.as_bytes());
        self.drain();
    }

    fn media_event(&mut self, event: MediaEvent) {
        self.engine.handle_media(self.now, event);
        self.drain();
    }

    /// Collects every output; binds the RTP port at once when asked, as the shell does.
    fn drain(&mut self) {
        loop {
            let mut progressed = false;
            while let Some(transmit) = self.engine.poll_transmit() {
                self.sent
                    .push(String::from_utf8_lossy(&transmit.payload).into_owned());
                progressed = true;
            }
            while let Some(record) = self.engine.poll_record() {
                self.records.push(record);
                progressed = true;
            }
            let mut opened = Vec::new();
            while let Some(command) = self.engine.poll_media() {
                if let MediaCommand::Open { leg } = command {
                    opened.push(leg);
                }
                self.media.push(command);
                progressed = true;
            }
            for leg in opened {
                self.engine.handle_media(
                    self.now,
                    MediaEvent::Opened {
                        leg,
                        port: RTP_PORT,
                    },
                );
            }
            if !progressed {
                return;
            }
        }
    }

    /// Moves both clocks on, firing every timer that falls due on the way.
    fn advance(&mut self, by: Duration) {
        let end = self.now.mono + by;
        while let Some(due) = self.engine.poll_timeout().filter(|due| *due <= end) {
            let step = due.saturating_duration_since(self.now.mono);
            self.now = self.now.advanced(step);
            self.engine.handle_timeout(self.now);
            self.drain();
        }
        let rest = end.saturating_duration_since(self.now.mono);
        self.now = self.now.advanced(rest);
    }

    /// Statuses of responses sent, in order (e.g. [100, 180, 200]).
    fn statuses(&self) -> Vec<u16> {
        self.sent
            .iter()
            .filter_map(|text| text.strip_prefix("SIP/2.0 "))
            .filter_map(|rest| rest.get(..3)?.parse().ok())
            .collect()
    }

    fn last_response(&self, status: u16) -> &str {
        let prefix = format!("SIP/2.0 {status}");
        self.sent
            .iter()
            .rev()
            .find(|text| text.starts_with(&prefix))
            .unwrap_or_else(|| panic!("no {status} sent; sent: {:#?}", self.sent))
    }

    fn played(&self) -> Vec<String> {
        self.media
            .iter()
            .filter_map(|command| match command {
                MediaCommand::Play { prompt, .. } => self
                    .prompts
                    .iter()
                    .find(|(_, id)| *id == prompt)
                    .map(|(name, _)| name.clone()),
                _ => None,
            })
            .collect()
    }

    /// Reports the prompt now playing on `leg` as finished, as the media shell does.
    fn finish_prompt(&mut self, leg: LegId) {
        let playback = self
            .media
            .iter()
            .rev()
            .find_map(|command| match command {
                MediaCommand::Play {
                    leg: l, playback, ..
                } if *l == leg => Some(*playback),
                _ => None,
            })
            .expect("a prompt is playing");
        self.media_event(MediaEvent::PromptFinished { leg, playback });
    }

    fn leg(&self) -> LegId {
        self.media
            .iter()
            .find_map(|command| match command {
                MediaCommand::Open { leg } => Some(*leg),
                _ => None,
            })
            .expect("media was opened")
    }
}

struct Caller {
    call_id: String,
    branch: u32,
    to_tag: String,
}

impl Caller {
    fn new(n: u32) -> Caller {
        Caller {
            call_id: format!("call-{n}@127.0.0.1"),
            branch: n * 100,
            to_tag: String::new(),
        }
    }

    fn request(&mut self, method: &str, cseq: u32, body: &str, same_branch: bool) -> String {
        if !same_branch {
            self.branch += 1;
        }
        let content_type = if body.is_empty() {
            ""
        } else {
            "Content-Type: application/sdp\r\n"
        };
        format!(
            "{method} sip:0120000000@127.0.0.1:5060 SIP/2.0\r\n\
             Via: SIP/2.0/UDP {CALLER};branch=z9hG4bK{branch};rport\r\n\
             Max-Forwards: 70\r\nFrom: <sip:0467001234@127.0.0.1>;tag=caller\r\n\
             To: <sip:0120000000@127.0.0.1>{to_tag}\r\nCall-ID: {call_id}\r\nCSeq: {cseq} {method}\r\n\
             Contact: <sip:caller@{CALLER}>\r\n{content_type}Content-Length: {len}\r\n\r\n{body}",
            branch = self.branch,
            to_tag = self.to_tag,
            call_id = self.call_id,
            len = body.len(),
        )
    }

    fn invite(&mut self, sdp: &str) -> String {
        self.request("INVITE", 1, sdp, false)
    }

    /// Takes the To-tag from the engine's 200 OK and builds the ACK.
    fn ack(&mut self, ok: &str) -> String {
        let tag = ok
            .lines()
            .find(|line| line.starts_with("To:"))
            .and_then(|line| line.split(";tag=").nth(1))
            .expect("200 OK has a To-tag");
        self.to_tag = format!(";tag={}", tag.trim());
        self.request("ACK", 1, "", false)
    }
}

fn offer(codecs: &str) -> String {
    let mut sdp = format!(
        "v=0\r\no=caller 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 7078 RTP/AVP {codecs} 101\r\n"
    );
    for pt in codecs.split_whitespace() {
        let name = match pt {
            "0" => "PCMU",
            "8" => "PCMA",
            "18" => "G729",
            _ => "X",
        };
        sdp.push_str(&format!("a=rtpmap:{pt} {name}/8000\r\n"));
    }
    sdp.push_str("a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\n");
    sdp
}

/// A call answered and confirmed at `wall`: returns the harness, the caller and the leg.
fn answered_call(wall: DateTime<Utc>) -> (Harness, Caller, LegId) {
    let mut h = Harness::at(wall);
    let mut caller = Caller::new(1);
    h.sip(&caller.invite(&offer("0 8")));
    h.advance(Duration::from_secs(1));
    let ok = h.last_response(200).to_owned();
    h.sip(&caller.ack(&ok));
    let leg = h.leg();
    (h, caller, leg)
}

#[test]
fn open_call_rings_for_a_second_then_answers_with_pcmu_in_the_callers_order() {
    let mut h = Harness::at(jst(2026, 11, 25, 10, 0));
    let mut caller = Caller::new(1);
    h.sip(&caller.invite(&offer("0 8")));
    assert_eq!(h.statuses(), vec![100, 180], "rings before answering");
    assert!(h.media.is_empty(), "no port is bound while ringing");

    h.advance(Duration::from_millis(999));
    assert!(!h.statuses().contains(&200));
    h.advance(Duration::from_millis(1));
    let ok = h.last_response(200);
    assert!(
        ok.contains("m=audio 40000 RTP/AVP 0"),
        "answers PCMU first:\n{ok}"
    );
    assert!(ok.contains("c=IN IP4 127.0.0.1"));
}

#[test]
fn greeting_then_recording_notice_play_after_the_ack() {
    let mut h = Harness::at(jst(2026, 11, 25, 10, 0));
    let mut caller = Caller::new(1);
    h.sip(&caller.invite(&offer("8 0")));
    h.advance(Duration::from_secs(1));
    assert!(h.played().is_empty(), "nothing plays before the ACK");
    let ok = h.last_response(200).to_owned();
    assert!(
        ok.contains("m=audio 40000 RTP/AVP 8"),
        "PCMA when the caller prefers it"
    );
    h.sip(&caller.ack(&ok));
    let leg = h.leg();
    assert!(h.media.iter().any(|m| matches!(
        m,
        MediaCommand::Start {
            codec: madoguchi_media::Codec::Pcma,
            payload_type: 8,
            ..
        }
    )));
    assert_eq!(h.played(), vec!["greeting"]);
    h.finish_prompt(leg);
    assert_eq!(h.played(), vec!["greeting", "recording_notice"]);
}

#[test]
fn year_end_call_hears_the_closure_then_the_engine_hangs_up() {
    let (mut h, _caller, leg) = answered_call(jst(2026, 12, 30, 10, 0));
    assert_eq!(h.played(), vec!["closed_year_end"]);
    h.finish_prompt(leg);
    assert!(
        !h.sent.iter().any(|m| m.starts_with("BYE")),
        "the tail of the audio plays out first"
    );
    h.advance(PLAYOUT_TAIL);
    assert!(
        h.sent.iter().any(|m| m.starts_with("BYE")),
        "the engine sends BYE"
    );
    assert_eq!(h.records.len(), 1);
    let record = &h.records[0];
    assert_eq!(record.disposition, Disposition::ClosedYearEnd);
    assert_eq!(record.branch.as_deref(), Some("closed_year_end"));
    assert_eq!(record.hangup_side, Some(HangupSide::Engine));
    assert!(
        h.media.contains(&MediaCommand::Close { leg }),
        "the RTP port is released"
    );
}

#[test]
fn after_hours_call_hears_the_hours_and_is_recorded_as_closed_hours() {
    let (mut h, _caller, leg) = answered_call(jst(2026, 11, 25, 20, 0));
    assert_eq!(h.played(), vec!["outside_hours"]);
    h.finish_prompt(leg);
    h.advance(PLAYOUT_TAIL);
    assert_eq!(h.records[0].disposition, Disposition::ClosedHours);
}

#[test]
fn cancel_while_ringing_gets_487_and_leaves_a_cancelled_record_without_media() {
    let mut h = Harness::at(jst(2026, 11, 25, 10, 0));
    let mut caller = Caller::new(1);
    let invite = caller.invite(&offer("0"));
    h.sip(&invite);
    let cancel = invite
        .replacen("INVITE sip:", "CANCEL sip:", 1)
        .replace("CSeq: 1 INVITE", "CSeq: 1 CANCEL");
    let cancel = cancel
        .split("Content-Type")
        .next()
        .expect("head")
        .to_owned()
        + "Content-Length: 0\r\n\r\n";
    h.sip(&cancel);
    let statuses = h.statuses();
    assert!(
        statuses.contains(&487) && statuses.contains(&200),
        "{statuses:?}"
    );
    h.advance(Duration::from_secs(2));
    assert!(
        !h.sent
            .iter()
            .any(|m| m.starts_with("SIP/2.0 200") && m.contains("CSeq: 1 INVITE")),
        "a cancelled call is never answered"
    );
    assert!(h.media.is_empty(), "no port was bound");
    assert_eq!(h.records.len(), 1);
    assert_eq!(h.records[0].disposition, Disposition::Cancelled);
    assert_eq!(h.records[0].answered_at, None);
}

#[test]
fn offer_without_a_common_codec_gets_488_and_a_rejected_record() {
    let mut h = Harness::at(jst(2026, 11, 25, 10, 0));
    let mut caller = Caller::new(1);
    h.sip(&caller.invite(&offer("18")));
    assert!(h.statuses().contains(&488), "{:?}", h.statuses());
    assert_eq!(h.records.len(), 1);
    assert_eq!(h.records[0].disposition, Disposition::Rejected);
    assert_eq!(h.records[0].hangup_cause.as_deref(), Some("488"));
}

#[test]
fn invite_without_sdp_gets_our_offer_and_plays_after_the_answer_in_the_ack() {
    let mut h = Harness::at(jst(2026, 11, 25, 10, 0));
    let mut caller = Caller::new(1);
    h.sip(&caller.invite(""));
    h.advance(Duration::from_secs(1));
    let ok = h.last_response(200).to_owned();
    assert!(
        ok.contains("m=audio 40000 RTP/AVP 0 8 101"),
        "offers G.711 and telephone-event:\n{ok}"
    );
    let ack = caller.ack(&ok);
    let answer = "v=0\r\no=c 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 7078 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n";
    let ack = ack.replace(
        "Content-Length: 0\r\n\r\n",
        &format!(
            "Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{answer}",
            answer.len()
        ),
    );
    h.sip(&ack);
    assert!(h.media.iter().any(|m| matches!(
        m,
        MediaCommand::Start {
            payload_type: 8,
            ..
        }
    )));
    assert_eq!(h.played(), vec!["greeting"]);
}

#[test]
fn with_no_operator_logged_in_the_menu_choice_overflows_to_the_city_line() {
    let (mut h, _caller, leg) = answered_call(jst(2026, 11, 25, 10, 0));
    h.finish_prompt(leg); // greeting
    h.finish_prompt(leg); // recording notice
    assert_eq!(h.played().last().map(String::as_str), Some("menu"));
    h.media_event(MediaEvent::Digit { leg, digit: '1' });
    assert!(
        h.media.contains(&MediaCommand::StopPlayback { leg }),
        "a digit cuts the menu prompt"
    );
    // Nobody is logged in: the card queue refuses the caller and its overflow, the city
    // line, is open on a Wednesday morning; its announcement plays before dialling.
    assert_eq!(h.played().last().map(String::as_str), Some("transfer_city"));
    h.finish_prompt(leg);
    // No city line address is configured in this harness: the transfer fails politely.
    assert_eq!(
        h.played().last().map(String::as_str),
        Some("transfer_failed")
    );
    h.finish_prompt(leg);
    h.advance(PLAYOUT_TAIL);
    assert!(h.sent.iter().any(|m| m.starts_with("BYE")));
    let record = &h.records[0];
    assert_eq!(record.dtmf, vec!["1".to_owned()]);
    assert_eq!(record.menu_choice.as_deref(), Some("1"));
    assert_eq!(record.queue.as_deref(), Some("card"));
    assert_eq!(record.disposition, Disposition::Overflowed);
    assert_eq!(record.transfer_target.as_deref(), Some("city_line"));
    assert_eq!(record.transfer_result.as_deref(), Some("failed"));
    assert!(record
        .events
        .iter()
        .any(|e| e.kind == "queue_left" && e.detail["reason"] == "no_operator"));
}

#[test]
fn caller_bye_during_the_greeting_ends_the_call_as_caller_hangup() {
    let (mut h, mut caller, leg) = answered_call(jst(2026, 11, 25, 10, 0));
    h.sip(&caller.request("BYE", 2, "", false));
    assert!(h.last_response(200).contains("BYE"));
    assert_eq!(h.records.len(), 1);
    assert_eq!(h.records[0].disposition, Disposition::CallerHangup);
    assert_eq!(h.records[0].hangup_side, Some(HangupSide::Caller));
    assert!(h.media.contains(&MediaCommand::Close { leg }));
    assert_eq!(h.engine.active_calls(), 0);
}

#[test]
fn hold_reinvite_stops_our_audio_and_resume_restarts_it() {
    let (mut h, mut caller, leg) = answered_call(jst(2026, 11, 25, 10, 0));
    let hold = offer("0").replace("a=rtpmap:101", "a=sendonly\r\na=rtpmap:101");
    h.sip(&caller.request("INVITE", 2, &hold, false));
    assert!(
        h.last_response(200).contains("a=recvonly"),
        "answers hold with recvonly"
    );
    assert_eq!(
        h.media.last(),
        Some(&MediaCommand::SetSending {
            leg,
            sending: false
        })
    );
    h.sip(&caller.request("ACK", 2, "", false));
    h.sip(&caller.request("INVITE", 3, &offer("0"), false));
    assert_eq!(
        h.media.last(),
        Some(&MediaCommand::SetSending { leg, sending: true })
    );
}

#[test]
fn a_draining_engine_refuses_new_calls_with_503_and_records_them() {
    let mut h = Harness::at(jst(2026, 11, 25, 10, 0));
    h.engine.begin_drain();
    h.sip(&Caller::new(1).invite(&offer("0")));
    assert!(h.last_response(503).contains("Retry-After: 30"));
    assert_eq!(h.records.len(), 1, "a refused call still leaves its record");
    assert_eq!(h.records[0].disposition, Disposition::Rejected);
    assert_eq!(h.records[0].hangup_cause.as_deref(), Some("draining"));
    assert!(h.media.is_empty(), "no port was asked for");
}

#[test]
fn interrupting_ends_every_call_with_a_record() {
    let (mut h, _caller, _leg) = answered_call(jst(2026, 11, 25, 10, 0));
    let mut ringing = Caller::new(2);
    h.sip(&ringing.invite(&offer("0")));
    h.engine.interrupt_all(h.now);
    h.drain();
    assert_eq!(h.records.len(), 2);
    assert!(h
        .records
        .iter()
        .all(|r| r.disposition == Disposition::Interrupted));
    assert_eq!(h.engine.active_calls(), 0);
}

#[test]
fn a_number_no_entry_matches_gets_404() {
    let text = std::fs::read_to_string(repo().join("dialplans/zama.toml")).expect("zama.toml");
    let text = text.replacen("match = \"*\"", "match = \"0120123456\"", 1);
    let dialplan = Dialplan::parse("zama.toml", &text, &repo().join("dialplans")).expect("checks");
    let mut h = Harness::with(dialplan, jst(2026, 11, 25, 10, 0));
    h.sip(&Caller::new(1).invite(&offer("0")));
    assert!(h.statuses().contains(&404));
    assert_eq!(h.records[0].disposition, Disposition::NoRoute);
}

/// Randomised: calls arrive, get cancelled, hung up by either side, or run to their end while
/// the clock jumps; every call leaves exactly one record and nothing is left behind.
#[test]
fn every_call_leaves_exactly_one_record_whatever_happens() {
    for seed in 0..20u64 {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut h = Harness::at(jst(2026, 11, 25, 19, 59));
        let calls = 30;
        let mut callers: Vec<(Caller, String)> = Vec::new();
        for n in 0..calls {
            let mut caller = Caller::new(n + 1);
            let invite = caller.invite(&offer("0 8"));
            h.sip(&invite);
            callers.push((caller, invite));
            h.advance(Duration::from_millis(rng.gen_range(0..1500)));
        }
        for (caller, invite) in callers.iter_mut() {
            match rng.gen_range(0..4) {
                0 => {
                    let cancel = invite
                        .replacen("INVITE sip:", "CANCEL sip:", 1)
                        .replace("CSeq: 1 INVITE", "CSeq: 1 CANCEL");
                    h.sip(&cancel);
                }
                1 => h.sip(&caller.request("BYE", 2, "", false)),
                _ => {}
            }
        }
        // Let every flow run out: prompts finish, menus time out, placeholders end.
        for _ in 0..200 {
            let playing: Vec<LegId> = h
                .media
                .iter()
                .filter_map(|m| match m {
                    MediaCommand::Play { leg, .. } => Some(*leg),
                    _ => None,
                })
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            for leg in playing {
                h.finish_prompt(leg);
            }
            h.advance(Duration::from_secs(rng.gen_range(1..10)));
        }
        h.advance(Duration::from_secs(64));
        assert_eq!(h.engine.active_calls(), 0, "seed {seed}: calls left behind");
        assert_eq!(
            h.records.len(),
            calls as usize,
            "seed {seed}: one record per call"
        );
        let mut ids: Vec<&str> = h.records.iter().map(|r| r.id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(
            ids.len(),
            calls as usize,
            "seed {seed}: record ids are unique"
        );
    }
}

#[test]
fn each_new_sdp_in_a_dialog_raises_the_origin_version() {
    let (mut h, mut caller, _leg) = answered_call(jst(2026, 11, 25, 10, 0));
    let version = |text: &str| -> u64 {
        let origin = text.lines().find(|l| l.starts_with("o=")).expect("o= line");
        origin
            .split_whitespace()
            .nth(2)
            .and_then(|v| v.parse().ok())
            .expect("version")
    };
    let first = version(h.last_response(200));
    let hold = offer("0").replace("a=rtpmap:101", "a=sendonly\r\na=rtpmap:101");
    h.sip(&caller.request("INVITE", 2, &hold, false));
    let second = version(h.last_response(200));
    assert_eq!(second, first + 1);
}

#[test]
fn digits_before_the_flow_runs_are_ignored() {
    let mut h = Harness::at(jst(2026, 11, 25, 10, 0));
    let mut caller = Caller::new(1);
    h.sip(&caller.invite(&offer("0")));
    h.advance(Duration::from_secs(1));
    let leg = h.leg();
    h.media_event(MediaEvent::Digit { leg, digit: '1' });
    let ok = h.last_response(200).to_owned();
    h.sip(&caller.ack(&ok));
    h.sip(&caller.request("BYE", 2, "", false));
    assert!(h.records[0].dtmf.is_empty());
    assert!(!h.records[0].events.iter().any(|e| e.kind == "dtmf"));
}

#[test]
fn an_offerless_reinvite_takes_the_answer_from_its_ack() {
    let (mut h, mut caller, leg) = answered_call(jst(2026, 11, 25, 10, 0));
    h.sip(&caller.request("INVITE", 2, "", false));
    assert!(
        h.last_response(200).contains("m=audio 40000"),
        "our 200 offers"
    );
    let answer = offer("0").replace("a=rtpmap:101", "a=sendonly\r\na=rtpmap:101");
    let ack = caller.request("ACK", 2, "", false);
    let ack = ack.replace(
        "Content-Length: 0\r\n\r\n",
        &format!(
            "Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{answer}",
            answer.len()
        ),
    );
    h.sip(&ack);
    assert_eq!(
        h.media.last(),
        Some(&MediaCommand::SetSending {
            leg,
            sending: false
        })
    );
}

/// Regression: finishes were matched by prompt, so the finish of a menu prompt cut off by an
/// invalid digit was taken for the end of its immediate replay, starting the digit timeout
/// while the menu was still being read out.
#[test]
fn a_finish_that_crossed_a_replay_of_the_same_prompt_is_ignored() {
    let text = r#"sounds_dir = "../sounds/ja"
[prompts]
menu = "menu.wav"
[calendars.always]
hours = [{ days = "every day", ranges = ["00:00-24:00"] }]
holidays = "open"
[[entries]]
match = "*"
calendar = "always"
open = [{ menu = { prompt = "menu", timeout = 5, retries = 2, choices = { "1" = [{ hangup = true }] } } }]
"#;
    let dialplan = Dialplan::parse("menu.toml", text, &repo().join("dialplans")).expect("checks");
    let mut h = Harness::with(dialplan, jst(2026, 11, 25, 10, 0));
    let mut caller = Caller::new(1);
    h.sip(&caller.invite(&offer("0")));
    let ok = h.last_response(200).to_owned();
    h.sip(&caller.ack(&ok));
    let leg = h.leg();
    let first = h
        .media
        .iter()
        .find_map(|m| match m {
            MediaCommand::Play { playback, .. } => Some(*playback),
            _ => None,
        })
        .expect("the menu plays");
    h.media_event(MediaEvent::Digit { leg, digit: '9' });
    assert_eq!(
        h.played(),
        vec!["menu", "menu"],
        "an invalid digit replays the menu at once"
    );
    h.media_event(MediaEvent::PromptFinished {
        leg,
        playback: first,
    });
    h.advance(Duration::from_secs(6));
    assert_eq!(
        h.played().len(),
        2,
        "the replay is still being read: no timeout, no third offer"
    );
}
