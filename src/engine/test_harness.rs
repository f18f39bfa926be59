//! The engine in virtual time for unit tests: SIP text in from any number of addresses (the
//! caller's trunk, operator phones, the city line), SIP text, media commands, records,
//! operator history and registrations out. No sockets and no sleeping.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Asia::Tokyo;
use madoguchi_dialplan::Dialplan;
use madoguchi_prompts::{EncodedPrompt, PromptCache};
use madoguchi_sip::digest::{self, DigestAlgorithm};
use madoguchi_sip::{EndpointConfig, LegId, Transport};
use madoguchi_store::CallRecord;

use super::targets::TargetAddress;
use super::*;

pub(super) const CALLER: &str = "127.0.0.1:5555";
/// Where the harness's city line answers (the `city_line` setting).
pub(super) const CITY_LINE: &str = "127.0.0.1:5080";
pub(super) const CITY_LINE_URI: &str = "sip:0462521111@127.0.0.1:5080";
pub(super) const RTP_PORT: u16 = 40_000;
/// What the harness's media shell offers a browser phone (the core passes it on untouched).
pub(super) const WEBRTC_OFFER: &str = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n\
     a=ice-lite\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0 101\r\nc=IN IP4 0.0.0.0\r\n\
     a=setup:actpass\r\na=candidate:1 1 udp 2130706431 127.0.0.1 40002 typ host\r\n";
/// The digest realm of the harness's registrar.
pub(super) const REALM: &str = "madoguchi";

pub(super) fn jst(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Tokyo
        .with_ymd_and_hms(y, mo, d, h, mi, 0)
        .single()
        .expect("a valid JST instant")
        .with_timezone(&Utc)
}

pub(super) fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub(super) fn zama() -> Dialplan {
    Dialplan::load(&repo().join("dialplans/zama.toml")).expect("zama.toml checks")
}

pub(super) fn queue_dialplan() -> Dialplan {
    Dialplan::load(&repo().join("tests/dialplans/queue.toml")).expect("queue.toml checks")
}

/// The city line setting pointed at [`CITY_LINE`].
pub(super) fn city_line_targets() -> Targets {
    let mut targets = Targets::default();
    targets.insert(
        "city_line",
        TargetAddress {
            uri: CITY_LINE_URI.to_owned(),
            destination: CITY_LINE.parse().expect("addr"),
            transport: Transport::Udp,
            credentials: None,
        },
    );
    targets
}

/// The engine with a dialplan, fed and drained by hand.
pub(super) struct Harness {
    pub engine: Engine,
    pub now: Now,
    pub prompts: Arc<PromptIndex>,
    /// Every SIP message sent, in order; `sent_to[i]` is where `sent[i]` went, over
    /// `sent_over[i]`.
    pub sent: Vec<String>,
    pub sent_to: Vec<SocketAddr>,
    pub sent_over: Vec<Transport>,
    /// Sources that are WebSocket connections (browser phones); the others speak UDP.
    pub websockets: Vec<SocketAddr>,
    pub media: Vec<MediaCommand>,
    pub records: Vec<CallRecord>,
    pub history: Vec<OperatorHistory>,
    pub wrap_ups: Vec<madoguchi_store::WrapUp>,
    pub registrations: Vec<RegistrationChange>,
    pub console: Vec<console::ConsoleEvent>,
    /// Open-call notes, in order.
    pub opened: Vec<madoguchi_store::OpenCall>,
    /// Acknowledge each open-call note at once, as a writer that never lags would (the
    /// default); off, a test acknowledges with `engine.journaled` itself.
    pub auto_journal: bool,
}

impl Harness {
    pub fn at(wall: DateTime<Utc>) -> Harness {
        Harness::with(zama(), wall)
    }

    pub fn with(dialplan: Dialplan, wall: DateTime<Utc>) -> Harness {
        Harness::with_targets(dialplan, Targets::default(), wall)
    }

    pub fn with_targets(dialplan: Dialplan, targets: Targets, wall: DateTime<Utc>) -> Harness {
        Harness::node(dialplan, targets, wall, "test", 5060)
    }

    /// One node of several: its `--node-id` and the SIP port it names in Via and Contact.
    pub fn node(
        dialplan: Dialplan,
        targets: Targets,
        wall: DateTime<Utc>,
        node_id: &str,
        sip_port: u16,
    ) -> Harness {
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
                    public_port: sip_port,
                    user_agent: "madoguchi-test".to_owned(),
                    max_message_size: 65_535,
                    realm: REALM.to_owned(),
                    registrar: madoguchi_sip::RegistrarConfig::default(),
                    nonce_secret: [7; 32],
                    nonce_lifetime_secs: 300,
                    prack: madoguchi_sip::PrackPolicy::default(),
                },
                media_ip: "127.0.0.1".parse().expect("ip"),
                node_id: node_id.to_owned(),
                targets,
                rng_seed: 7,
                service_level: board::ServiceLevelSettings::default(),
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
            sent_to: Vec::new(),
            sent_over: Vec::new(),
            websockets: Vec::new(),
            media: Vec::new(),
            records: Vec::new(),
            history: Vec::new(),
            wrap_ups: Vec::new(),
            registrations: Vec::new(),
            console: Vec::new(),
            opened: Vec::new(),
            auto_journal: true,
        }
    }

    pub fn source() -> SocketAddr {
        CALLER.parse().expect("addr")
    }

    /// A message from the caller's trunk.
    pub fn sip(&mut self, text: &str) {
        self.sip_from(Self::source(), text);
    }

    pub fn sip_from(&mut self, source: SocketAddr, text: &str) {
        let transport = if self.websockets.contains(&source) {
            Transport::Ws
        } else {
            Transport::Udp
        };
        self.engine
            .handle_sip(self.now, transport, source, text.as_bytes());
        self.drain();
    }

    pub fn media_event(&mut self, event: MediaEvent) {
        self.engine.handle_media(self.now, event);
        self.drain();
    }

    /// Collects every output; binds the RTP port (or makes the WebRTC offer, [`WEBRTC_OFFER`])
    /// at once when asked, as the shell does.
    pub fn drain(&mut self) {
        loop {
            let mut progressed = false;
            // Before the transmits: an acknowledged answer leaves in the same step.
            while let Some(open) = self.engine.poll_opened() {
                if self.auto_journal {
                    self.engine.journaled(self.now, &open.id);
                }
                self.opened.push(open);
                progressed = true;
            }
            while let Some(transmit) = self.engine.poll_transmit() {
                self.sent
                    .push(String::from_utf8_lossy(&transmit.payload).into_owned());
                self.sent_to.push(transmit.destination);
                self.sent_over.push(transmit.transport);
                progressed = true;
            }
            while let Some(record) = self.engine.poll_record() {
                self.records.push(record);
                progressed = true;
            }
            while let Some(row) = self.engine.poll_history() {
                self.history.push(row);
                progressed = true;
            }
            while let Some(wrap_up) = self.engine.poll_wrap_up() {
                self.wrap_ups.push(wrap_up);
                progressed = true;
            }
            while let Some(change) = self.engine.poll_registration() {
                self.registrations.push(change);
                progressed = true;
            }
            while let Some(event) = self.engine.poll_console() {
                self.console.push(event);
                progressed = true;
            }
            let mut opened = Vec::new();
            while let Some(command) = self.engine.poll_media() {
                match command {
                    MediaCommand::Open { leg } => opened.push(MediaEvent::Opened {
                        leg,
                        port: RTP_PORT,
                    }),
                    MediaCommand::OpenWebRtc { leg, .. } => opened.push(MediaEvent::WebRtcOffer {
                        leg,
                        sdp: WEBRTC_OFFER.to_owned(),
                    }),
                    _ => {}
                }
                self.media.push(command);
                progressed = true;
            }
            for event in opened {
                self.engine.handle_media(self.now, event);
            }
            if !progressed {
                return;
            }
        }
    }

    /// Moves both clocks on, firing every timer that falls due on the way.
    pub fn advance(&mut self, by: Duration) {
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
    pub fn statuses(&self) -> Vec<u16> {
        self.sent
            .iter()
            .filter_map(|text| text.strip_prefix("SIP/2.0 "))
            .filter_map(|rest| rest.get(..3)?.parse().ok())
            .collect()
    }

    pub fn last_response(&self, status: u16) -> &str {
        let prefix = format!("SIP/2.0 {status}");
        self.sent
            .iter()
            .rev()
            .find(|text| text.starts_with(&prefix))
            .unwrap_or_else(|| panic!("no {status} sent; sent: {:#?}", self.sent))
    }

    /// Messages sent to `to`, in order.
    pub fn sent_to(&self, to: SocketAddr) -> Vec<&str> {
        self.sent
            .iter()
            .zip(&self.sent_to)
            .filter(|(_, dest)| **dest == to)
            .map(|(text, _)| text.as_str())
            .collect()
    }

    /// Messages sent to `to` whose first line starts with `start` (a method or `SIP/2.0 202`).
    pub fn sent_to_starting(&self, to: SocketAddr, start: &str) -> Vec<&str> {
        self.sent_to(to)
            .into_iter()
            .filter(|text| text.starts_with(start))
            .collect()
    }

    pub fn played(&self) -> Vec<String> {
        self.media
            .iter()
            .filter_map(|command| match command {
                MediaCommand::Play { prompt, .. } => self.prompt_name(*prompt),
                _ => None,
            })
            .collect()
    }

    pub fn prompt_name(&self, prompt: madoguchi_prompts::PromptId) -> Option<String> {
        self.prompts
            .iter()
            .find(|(_, id)| **id == prompt)
            .map(|(name, _)| name.clone())
    }

    /// Reports the prompt now playing on `leg` as finished, as the media shell does.
    pub fn finish_prompt(&mut self, leg: LegId) {
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

    /// The first leg media was opened for (the first caller's).
    pub fn leg(&self) -> LegId {
        self.opened_legs()
            .first()
            .copied()
            .expect("media was opened")
    }

    /// Every leg media was opened for, in order.
    pub fn opened_legs(&self) -> Vec<LegId> {
        self.media
            .iter()
            .filter_map(|command| match command {
                MediaCommand::Open { leg } => Some(*leg),
                _ => None,
            })
            .collect()
    }
}

/// The caller, through the trunk at [`CALLER`], calling 0120000000 from 0467001234.
pub(super) struct Caller {
    pub call_id: String,
    branch: u32,
    pub to_tag: String,
}

pub(super) const CALLER_NUMBER: &str = "0467001234";

impl Caller {
    pub fn new(n: u32) -> Caller {
        Caller {
            call_id: format!("call-{n}@127.0.0.1"),
            branch: n * 100,
            to_tag: String::new(),
        }
    }

    pub fn request(&mut self, method: &str, cseq: u32, body: &str, same_branch: bool) -> String {
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
             Max-Forwards: 70\r\nFrom: <sip:{CALLER_NUMBER}@127.0.0.1>;tag=caller\r\n\
             To: <sip:0120000000@127.0.0.1>{to_tag}\r\nCall-ID: {call_id}\r\nCSeq: {cseq} {method}\r\n\
             Contact: <sip:caller@{CALLER}>\r\n{content_type}Content-Length: {len}\r\n\r\n{body}",
            branch = self.branch,
            to_tag = self.to_tag,
            call_id = self.call_id,
            len = body.len(),
        )
    }

    pub fn invite(&mut self, sdp: &str) -> String {
        self.request("INVITE", 1, sdp, false)
    }

    /// Takes the To-tag from the engine's 200 OK and builds the ACK.
    pub fn ack(&mut self, ok: &str) -> String {
        let tag = header(ok, "To")
            .and_then(|to| to.split(";tag=").nth(1))
            .expect("200 OK has a To-tag");
        self.to_tag = format!(";tag={}", tag.trim());
        self.request("ACK", 1, "", false)
    }

    /// INVITE, the engine's 200 OK for this call, ACK: the call runs its flow.
    pub fn call(&mut self, h: &mut Harness) {
        h.sip(&self.invite(&offer("0 8")));
        let answered = |h: &Harness| {
            h.sent
                .iter()
                .any(|m| m.starts_with("SIP/2.0 200") && m.contains(&self.call_id))
        };
        if !answered(h) {
            // An entry that rings first (zama.toml: one second).
            h.advance(Duration::from_secs(1));
        }
        let ok = h
            .sent
            .iter()
            .rev()
            .find(|m| m.starts_with("SIP/2.0 200") && m.contains(&self.call_id))
            .cloned()
            .unwrap_or_else(|| panic!("the call is answered; sent: {:#?}", h.sent));
        h.sip(&self.ack(&ok));
    }
}

pub(super) fn offer(codecs: &str) -> String {
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

/// The value of the first header `name` (case-insensitive) of a message.
pub(super) fn header<'a>(message: &'a str, name: &str) -> Option<&'a str> {
    message
        .split("\r\n\r\n")
        .next()?
        .split("\r\n")
        .find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
}

/// The body of a message.
pub(super) fn body(message: &str) -> &str {
    message.split_once("\r\n\r\n").map_or("", |(_, b)| b)
}

fn with_body(head: &str, body: &str) -> String {
    format!("{head}Content-Length: {}\r\n\r\n{body}", body.len())
}

/// A SIP UA at its own address: an operator's desk phone (REGISTER with digest, answering
/// the engine's INVITEs, BYE, re-INVITE, REFER) or the city line (answering only).
pub(super) struct Phone {
    pub login: String,
    pub password: String,
    pub addr: SocketAddr,
    /// Our tag in every dialog the phone answers.
    pub tag: String,
    branch: u32,
    /// CSeq of the phone's REGISTERs and in-dialog requests.
    cseq: u32,
}

impl Phone {
    pub fn new(login: &str, addr: &str) -> Phone {
        Phone {
            login: login.to_owned(),
            password: format!("{login}-secret"),
            addr: addr.parse().expect("addr"),
            tag: format!("ph-{login}"),
            branch: 0,
            cseq: 0,
        }
    }

    /// What the store gives the engine for this operator (digest HA1s included).
    pub fn entry(&self) -> DirectoryEntry {
        DirectoryEntry {
            login: self.login.clone(),
            role: "agent".to_owned(),
            ha1_md5: Some(digest::ha1(
                DigestAlgorithm::Md5,
                &self.login,
                REALM,
                &self.password,
            )),
            ha1_sha256: Some(digest::ha1(
                DigestAlgorithm::Sha256,
                &self.login,
                REALM,
                &self.password,
            )),
            languages: Vec::new(),
        }
    }

    pub fn contact(&self) -> String {
        format!("sip:{}@{}", self.login, self.addr)
    }

    fn next_branch(&mut self) -> String {
        self.branch += 1;
        format!("z9hG4bK{}-{}", self.tag, self.branch)
    }

    pub fn register_request(&mut self, expires: u32, authorization: Option<&str>) -> String {
        self.cseq += 1;
        let branch = self.next_branch();
        let auth = authorization.map_or(String::new(), |a| format!("Authorization: {a}\r\n"));
        with_body(
            &format!(
                "REGISTER sip:127.0.0.1:5060 SIP/2.0\r\n\
                 Via: SIP/2.0/UDP {addr};branch={branch};rport\r\n\
                 Max-Forwards: 70\r\n\
                 From: <sip:{login}@127.0.0.1>;tag=reg-{login}\r\n\
                 To: <sip:{login}@127.0.0.1>\r\n\
                 Call-ID: reg-{login}@{addr}\r\n\
                 CSeq: {cseq} REGISTER\r\n\
                 Contact: <{contact}>\r\n\
                 Expires: {expires}\r\n{auth}",
                addr = self.addr,
                login = self.login,
                cseq = self.cseq,
                contact = self.contact(),
            ),
            "",
        )
    }

    /// REGISTER, its 401, and the REGISTER again with the MD5 digest answer, as a desk
    /// phone does. Returns the engine's final response.
    pub fn register(&mut self, h: &mut Harness, expires: u32) -> String {
        h.sip_from(self.addr, &self.register_request(expires, None));
        let challenge = h
            .sent_to_starting(self.addr, "SIP/2.0 401")
            .last()
            .and_then(|m| {
                m.split("\r\n")
                    .filter_map(|l| l.strip_prefix("WWW-Authenticate: "))
                    .filter_map(|v| digest::parse_challenge(v).ok())
                    .find(|c| c.algorithm == DigestAlgorithm::Md5)
            })
            .expect("a 401 with an MD5 challenge");
        let uri = "sip:127.0.0.1:5060";
        let (nc, cnonce) = ("00000001", "0a4f113b");
        let ha1 = digest::ha1(DigestAlgorithm::Md5, &self.login, REALM, &self.password);
        let response = digest::response(
            DigestAlgorithm::Md5,
            &ha1,
            &challenge.nonce,
            Some(("auth", nc, cnonce)),
            "REGISTER",
            uri,
        );
        let authorization = format!(
            "Digest username=\"{login}\", realm=\"{REALM}\", nonce=\"{nonce}\", uri=\"{uri}\", \
             response=\"{response}\", algorithm=MD5, qop=auth, nc={nc}, cnonce=\"{cnonce}\"",
            login = self.login,
            nonce = challenge.nonce,
        );
        h.sip_from(
            self.addr,
            &self.register_request(expires, Some(&authorization)),
        );
        h.sent_to(self.addr)
            .last()
            .map(|m| (*m).to_owned())
            .expect("a response to the REGISTER")
    }

    /// Requests of `method` the engine sent to this phone, oldest first, without
    /// retransmissions (one per Call-ID and CSeq).
    pub fn requests(&self, h: &Harness, method: &str) -> Vec<String> {
        let mut seen = Vec::new();
        let mut out = Vec::new();
        for m in h.sent_to_starting(self.addr, &format!("{method} ")) {
            let key = (header(m, "Call-ID"), header(m, "CSeq"));
            if !seen.contains(&key) {
                seen.push(key);
                out.push(m.to_owned());
            }
        }
        out
    }

    /// INVITEs the engine sent to this phone, oldest first.
    pub fn invites(&self, h: &Harness) -> Vec<String> {
        self.requests(h, "INVITE")
    }

    pub fn last_invite(&self, h: &Harness) -> String {
        self.invites(h)
            .pop()
            .unwrap_or_else(|| panic!("no INVITE to {}; sent: {:#?}", self.addr, h.sent))
    }

    /// The phone's response to `request` (an engine INVITE, BYE, NOTIFY, CANCEL …).
    pub fn response(&self, request: &str, status: &str, sdp: &str) -> String {
        let mut out = format!("SIP/2.0 {status}\r\n");
        for line in request.split("\r\n\r\n").next().unwrap_or("").split("\r\n") {
            let lower = line.to_ascii_lowercase();
            if ["via:", "from:", "call-id:", "cseq:"]
                .iter()
                .any(|h| lower.starts_with(h))
            {
                out.push_str(line);
                out.push_str("\r\n");
            } else if lower.starts_with("to:") {
                out.push_str(line);
                if !line.contains(";tag=") {
                    out.push_str(&format!(";tag={}", self.tag));
                }
                out.push_str("\r\n");
            }
        }
        out.push_str(&format!("Contact: <{}>\r\n", self.contact()));
        if !sdp.is_empty() {
            out.push_str("Content-Type: application/sdp\r\n");
        }
        with_body(&out, sdp)
    }

    pub fn respond(&self, h: &mut Harness, request: &str, status: &str, sdp: &str) {
        h.sip_from(self.addr, &self.response(request, status, sdp));
    }

    /// The phone's SDP; `direction` e.g. `a=sendonly\r\n` for hold.
    pub fn sdp(&self, direction: &str) -> String {
        format!(
            "v=0\r\no={login} 1 {version} IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
             m=audio 7090 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n\
             a=rtpmap:101 telephone-event/8000\r\n{direction}",
            login = self.login,
            version = self.cseq + 1,
        )
    }

    /// A request from the phone inside the dialog the engine's `invite` made.
    pub fn in_dialog(&mut self, invite: &str, method: &str, extra: &str, sdp: &str) -> String {
        self.cseq += 1;
        let branch = self.next_branch();
        let uri = header(invite, "Contact")
            .map(|c| c.trim_start_matches('<').trim_end_matches('>').to_owned())
            .expect("the INVITE has a Contact");
        let from = header(invite, "From").expect("From");
        let to = header(invite, "To").expect("To");
        let call_id = header(invite, "Call-ID").expect("Call-ID");
        let content_type = if sdp.is_empty() {
            ""
        } else {
            "Content-Type: application/sdp\r\n"
        };
        with_body(
            &format!(
                "{method} {uri} SIP/2.0\r\n\
                 Via: SIP/2.0/UDP {addr};branch={branch};rport\r\n\
                 Max-Forwards: 70\r\n\
                 From: {to};tag={tag}\r\nTo: {from}\r\nCall-ID: {call_id}\r\n\
                 CSeq: {cseq} {method}\r\nContact: <{contact}>\r\n{extra}{content_type}",
                addr = self.addr,
                tag = self.tag,
                cseq = self.cseq,
                contact = self.contact(),
            ),
            sdp,
        )
    }

    /// Sends a request inside the dialog of `invite`; returns its text.
    pub fn send_in_dialog(
        &mut self,
        h: &mut Harness,
        invite: &str,
        method: &str,
        extra: &str,
        sdp: &str,
    ) -> String {
        let request = self.in_dialog(invite, method, extra, sdp);
        h.sip_from(self.addr, &request);
        request
    }

    /// The engine's last response to a request this phone sent.
    pub fn response_to<'a>(&self, h: &'a Harness, request: &str) -> Option<&'a str> {
        let key = (header(request, "Call-ID"), header(request, "CSeq"));
        h.sent_to_starting(self.addr, "SIP/2.0 ")
            .into_iter()
            .rev()
            .find(|m| (header(m, "Call-ID"), header(m, "CSeq")) == key)
    }

    /// The phone answers the engine's CANCEL of `invite`: 200 to the CANCEL, 487 to the INVITE.
    pub fn cancelled(&self, h: &mut Harness, invite: &str) {
        let call_id = header(invite, "Call-ID");
        let cancel = self
            .requests(h, "CANCEL")
            .into_iter()
            .find(|c| header(c, "Call-ID") == call_id)
            .expect("a CANCEL of that INVITE");
        self.respond(h, &cancel, "200 OK", "");
        self.respond(h, invite, "487 Request Terminated", "");
    }

    /// The ACK of the engine's 2xx `ok` to an INVITE this phone sent with [`Phone::dial`].
    pub fn ack(&self, invite: &str, ok: &str) -> String {
        let to = header(ok, "To").expect("the 200 OK has a To");
        let head = invite.split("\r\n\r\n").next().unwrap_or("");
        let mut out = String::new();
        for (i, line) in head.split("\r\n").enumerate() {
            let lower = line.to_ascii_lowercase();
            if i == 0 {
                out.push_str(&line.replacen("INVITE", "ACK", 1));
            } else if lower.starts_with("to:") {
                out.push_str(&format!("To: {to}"));
            } else if lower.starts_with("cseq:") {
                out.push_str("CSeq: 1 ACK");
            } else if lower.starts_with("via:") {
                out.push_str(&line.replace("branch=z9hG4bK", "branch=z9hG4bKack"));
            } else if lower.starts_with("content-") {
                continue;
            } else {
                out.push_str(line);
            }
            out.push_str("\r\n");
        }
        with_body(&out, "")
    }

    /// An INVITE to a feature code (`*50`) from this phone, out of any dialog.
    pub fn dial(&mut self, user: &str) -> String {
        self.cseq += 1;
        let branch = self.next_branch();
        let sdp = self.sdp("");
        with_body(
            &format!(
                "INVITE sip:{user}@127.0.0.1:5060 SIP/2.0\r\n\
                 Via: SIP/2.0/UDP {addr};branch={branch};rport\r\n\
                 Max-Forwards: 70\r\n\
                 From: <sip:{login}@127.0.0.1>;tag={tag}\r\nTo: <sip:{user}@127.0.0.1>\r\n\
                 Call-ID: dial-{branch}@{addr}\r\nCSeq: 1 INVITE\r\n\
                 Contact: <{contact}>\r\nContent-Type: application/sdp\r\n",
                addr = self.addr,
                login = self.login,
                tag = self.tag,
                contact = self.contact(),
            ),
            &sdp,
        )
    }
}
