//! The flood and scanner guard: decides, per source IP address, whether an inbound SIP
//! message may reach the engine at all.
//!
//! It runs in the socket readers, before the engine's shared inbound queue, so it looks at the
//! raw bytes only: the method from the first line ([`classify`]) and, for scanners, the
//! `User-Agent` line ([`scanner_user_agent`]) — never a full parse. It is a sans-IO state
//! machine: the shell feeds it `(source, payload, now)` and gets a [`Verdict`]; digest
//! failures found later by the registrar come back through [`Guard::auth_failed`]; blocks it
//! decides are drained from [`Guard::poll_event`] (the shell logs them at WARN and counts
//! them).
//!
//! What it enforces, per source address:
//! - a rate per kind of message (INVITE, REGISTER, OPTIONS, everything else including
//!   responses and junk), as GCRA token buckets (a rate and a burst);
//! - a temporary block, like fail2ban, after `auth_failures` failed digests within
//!   `auth_window`, and at once for a scanner's User-Agent (friendly-scanner, sipvicious …);
//! - while blocked, every packet of that source is dropped silently (answering a scanner or a
//!   flood would only confirm the server and amplify a spoofed source).
//!
//! The rates also bound each source's share of the engine's inbound queue: a source can put
//! at most the sum of its bursts in it at once (1,450 with the defaults, against 16,384
//! places), so one flooding address cannot starve the others.
//!
//! Sources in `exempt` networks (the carrier trunk, the operators' office networks) are never
//! limited: a trunk sends many INVITEs from one address.
//!
//! Memory is bounded: at most `max_sources` addresses are tracked; idle ones are swept, and
//! while the table is full, new addresses share one overflow entry (so a spoofed-source flood
//! can neither grow memory nor push out a blocked attacker).
//!
//! ```
//! use madoguchi_sip::guard::{Guard, GuardConfig, Verdict};
//! use std::time::Instant;
//! let now = Instant::now(); // the shell's clock
//! let mut guard = Guard::new(GuardConfig::default());
//! let source = "192.0.2.7".parse().unwrap();
//! let invite = b"INVITE sip:hotline@192.0.2.10 SIP/2.0\r\nUser-Agent: Yealink\r\n\r\n";
//! assert_eq!(guard.check(source, invite, now), Verdict::Pass);
//! let scan = b"OPTIONS sip:100@192.0.2.10 SIP/2.0\r\nUser-Agent: friendly-scanner\r\n\r\n";
//! assert!(matches!(guard.check(source, scan, now), Verdict::Drop(_)));
//! ```

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::str::FromStr;
use std::time::{Duration, Instant};

/// What kind of message arrived, from its first line only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrival {
    Invite,
    Register,
    Options,
    /// Any other request, a response, or bytes that are not SIP at all.
    Other,
}

/// The method of a request from its first line; responses and junk are [`Arrival::Other`].
pub fn classify(payload: &[u8]) -> Arrival {
    // Leading CRLFs are allowed before a request (RFC 3261 §7.5).
    let start = payload
        .iter()
        .position(|b| !matches!(b, b'\r' | b'\n'))
        .unwrap_or(payload.len());
    let line = &payload[start..];
    let method = line.split(|&b| b == b' ').next().unwrap_or_default();
    if method.len() == line.len() {
        return Arrival::Other;
    }
    if method.eq_ignore_ascii_case(b"INVITE") {
        Arrival::Invite
    } else if method.eq_ignore_ascii_case(b"REGISTER") {
        Arrival::Register
    } else if method.eq_ignore_ascii_case(b"OPTIONS") {
        Arrival::Options
    } else {
        Arrival::Other
    }
}

/// User-Agent values of well-known SIP scanners and brute forcers, lower case. Only names no
/// phone, PBX or trunk uses: a false positive would lock a real device out.
const SCANNERS: &[&str] = &[
    "friendly-scanner",
    "sipvicious",
    "sipcli",
    "sip-scan",
    "sipscan",
    "vaxsipuseragent",
    "sundayddr",
    "pplsip",
    "iwar",
    "smap",
];

/// Whether the `User-Agent` header names a known scanner. Scans the header lines only (up to
/// the blank line) and compares case-insensitively; a name like `smap` must be the whole
/// first token of the value, the long ones may appear anywhere in it.
pub fn scanner_user_agent(payload: &[u8]) -> bool {
    let head_end = find(payload, b"\r\n\r\n").unwrap_or(payload.len());
    payload[..head_end]
        .split(|&b| b == b'\n')
        .skip(1)
        .filter_map(user_agent_value)
        .any(|value| {
            let value = value.to_ascii_lowercase();
            let first = value
                .split(|&b| b == b'/' || b == b' ' || b == b'\t')
                .next()
                .unwrap_or_default();
            SCANNERS.iter().any(|name| {
                let name = name.as_bytes();
                if name.len() <= 4 {
                    first == name
                } else {
                    find(&value, name).is_some()
                }
            })
        })
}

fn user_agent_value(line: &[u8]) -> Option<&[u8]> {
    let (name, value) = line.split_at(line.iter().position(|&b| b == b':')?);
    if !name.trim_ascii().eq_ignore_ascii_case(b"user-agent") {
        return None;
    }
    Some(value[1..].trim_ascii())
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// An IPv4 or IPv6 network (`192.0.2.0/24`, `2001:db8::/32`; a bare address is one host).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network {
    addr: IpAddr,
    prefix: u8,
}

/// A network that does not parse; the text is kept for the error message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an address or ADDRESS/PREFIX network")]
pub struct BadNetwork(pub String);

// Hand-written: two integer masks do not justify a dependency (ipnet would be the crate).
impl Network {
    pub fn host(addr: IpAddr) -> Network {
        let prefix = if addr.is_ipv4() { 32 } else { 128 };
        Network { addr, prefix }
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl FromStr for Network {
    type Err = BadNetwork;

    fn from_str(text: &str) -> Result<Network, BadNetwork> {
        let bad = || BadNetwork(text.to_owned());
        let (addr, prefix) = match text.trim().split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (text.trim(), None),
        };
        let addr: IpAddr = addr.parse().map_err(|_| bad())?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(bad)?,
            None => max,
        };
        Ok(Network { addr, prefix })
    }
}

impl std::fmt::Display for Network {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// A sustained rate and the burst allowed above it. `per_second == 0` means no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub per_second: u32,
    pub burst: u32,
}

impl Rate {
    pub const fn new(per_second: u32, burst: u32) -> Rate {
        Rate { per_second, burst }
    }
}

/// The guard's settings. The defaults are meant never to bother a phone, a small office
/// behind one NAT address, or an exempt trunk, while cutting a flood to a trickle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuardConfig {
    pub invite: Rate,
    pub register: Rate,
    pub options: Rate,
    /// Every other request, responses and junk.
    pub other: Rate,
    /// Failed digests within `auth_window` that block a source; 0 never blocks.
    pub auth_failures: u32,
    pub auth_window: Duration,
    /// How long a brute forcer or a scanner stays blocked.
    pub block_for: Duration,
    /// Whether a scanner's User-Agent blocks its source.
    pub block_scanners: bool,
    /// Addresses tracked at most (about 100 bytes each).
    pub max_sources: usize,
    /// Never limited: the trunk, the operators' networks.
    pub exempt: Vec<Network>,
}

impl Default for GuardConfig {
    fn default() -> Self {
        GuardConfig {
            // The bursts let an office of a hundred phones behind one address all call or
            // re-register at once (after a power cut); the dialog cap bounds the rest.
            invite: Rate::new(30, 200),
            register: Rate::new(30, 200),
            options: Rate::new(10, 50),
            other: Rate::new(500, 1000),
            auth_failures: 10,
            auth_window: Duration::from_secs(60),
            block_for: Duration::from_secs(600),
            block_scanners: true,
            max_sources: 65_536,
            exempt: Vec::new(),
        }
    }
}

/// What to do with one inbound message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Hand it to the engine.
    Pass,
    /// Drop it silently and count it under this reason.
    Drop(DropReason),
}

/// Why a message was dropped (the `reason` label of the drop counter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DropReason {
    InviteRate,
    RegisterRate,
    OptionsRate,
    OtherRate,
    /// The source is blocked (failed digests or a scanner).
    Blocked,
    /// This message's User-Agent is a scanner's (the source is blocked from now on).
    Scanner,
}

impl DropReason {
    /// Every reason, in the order of [`DropReason::index`].
    pub const ALL: [DropReason; 6] = [
        DropReason::InviteRate,
        DropReason::RegisterRate,
        DropReason::OptionsRate,
        DropReason::OtherRate,
        DropReason::Blocked,
        DropReason::Scanner,
    ];

    /// This reason's place in [`DropReason::ALL`] (for a table of counters).
    pub fn index(self) -> usize {
        self as usize
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DropReason::InviteRate => "invite_rate",
            DropReason::RegisterRate => "register_rate",
            DropReason::OptionsRate => "options_rate",
            DropReason::OtherRate => "other_rate",
            DropReason::Blocked => "blocked",
            DropReason::Scanner => "scanner",
        }
    }
}

/// Why a source got blocked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BlockReason {
    AuthFailures,
    Scanner,
}

impl BlockReason {
    pub fn as_str(self) -> &'static str {
        match self {
            BlockReason::AuthFailures => "auth_failures",
            BlockReason::Scanner => "scanner",
        }
    }
}

/// What the shell logs (WARN, with the address) and counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GuardEvent {
    Blocked {
        source: IpAddr,
        reason: BlockReason,
        until: Instant,
    },
}

/// A GCRA token bucket: `tat` is the theoretical arrival time of the next conforming message.
#[derive(Debug, Clone, Copy, Default)]
struct Bucket {
    tat: Option<Instant>,
}

impl Bucket {
    fn admit(&mut self, rate: Rate, now: Instant) -> bool {
        if rate.per_second == 0 {
            return true;
        }
        let interval = Duration::from_secs(1) / rate.per_second;
        let tolerance = interval * rate.burst.saturating_sub(1);
        let tat = self.tat.map_or(now, |tat| tat.max(now));
        if tat > now + tolerance {
            return false;
        }
        self.tat = Some(tat + interval);
        true
    }

    /// Whether the bucket is full again (forgetting it changes nothing).
    fn is_idle(&self, now: Instant) -> bool {
        self.tat.is_none_or(|tat| tat <= now)
    }
}

#[derive(Debug, Clone, Default)]
struct SourceState {
    invite: Bucket,
    register: Bucket,
    options: Bucket,
    other: Bucket,
    /// Failed digests in the current window, and when that window started.
    failures: u32,
    window_start: Option<Instant>,
    blocked_until: Option<Instant>,
    last_seen: Option<Instant>,
}

impl SourceState {
    fn is_forgettable(&self, now: Instant, keep_failures_for: Duration) -> bool {
        let idle = |b: &Bucket| b.is_idle(now);
        idle(&self.invite)
            && idle(&self.register)
            && idle(&self.options)
            && idle(&self.other)
            && self.blocked_until.is_none_or(|until| until <= now)
            && self
                .window_start
                .is_none_or(|start| now.saturating_duration_since(start) >= keep_failures_for)
    }
}

/// How often idle sources are swept out of the table.
const SWEEP_EVERY: Duration = Duration::from_secs(10);

/// See the module docs.
#[derive(Debug)]
pub struct Guard {
    config: GuardConfig,
    sources: HashMap<IpAddr, SourceState>,
    /// Shared by new sources while the table is full.
    overflow: SourceState,
    next_sweep: Option<Instant>,
    events: VecDeque<GuardEvent>,
}

impl Guard {
    pub fn new(config: GuardConfig) -> Guard {
        Guard {
            config,
            sources: HashMap::new(),
            overflow: SourceState::default(),
            next_sweep: None,
            events: VecDeque::new(),
        }
    }

    pub fn config(&self) -> &GuardConfig {
        &self.config
    }

    /// Whether this address is never limited.
    pub fn is_exempt(&self, source: IpAddr) -> bool {
        self.config.exempt.iter().any(|net| net.contains(source))
    }

    /// Decides about one inbound message from `source`.
    pub fn check(&mut self, source: IpAddr, payload: &[u8], now: Instant) -> Verdict {
        if self.is_exempt(source) {
            return Verdict::Pass;
        }
        self.sweep(now);
        let config = &self.config;
        let (state, tracked) = match self.sources.len() < config.max_sources {
            true => (self.sources.entry(source).or_default(), true),
            false => match self.sources.get_mut(&source) {
                Some(state) => (state, true),
                None => (&mut self.overflow, false),
            },
        };
        state.last_seen = Some(now);
        if state.blocked_until.is_some_and(|until| now < until) {
            return Verdict::Drop(DropReason::Blocked);
        }
        if config.block_scanners && scanner_user_agent(payload) {
            if tracked {
                let until = now + config.block_for;
                state.blocked_until = Some(until);
                self.events.push_back(GuardEvent::Blocked {
                    source,
                    reason: BlockReason::Scanner,
                    until,
                });
            }
            return Verdict::Drop(DropReason::Scanner);
        }
        let (bucket, rate, reason) = match classify(payload) {
            Arrival::Invite => (&mut state.invite, config.invite, DropReason::InviteRate),
            Arrival::Register => (
                &mut state.register,
                config.register,
                DropReason::RegisterRate,
            ),
            Arrival::Options => (&mut state.options, config.options, DropReason::OptionsRate),
            Arrival::Other => (&mut state.other, config.other, DropReason::OtherRate),
        };
        if bucket.admit(rate, now) {
            Verdict::Pass
        } else {
            Verdict::Drop(reason)
        }
    }

    /// The registrar refused a digest from `source`: enough of these within the window block
    /// it for `block_for`.
    pub fn auth_failed(&mut self, source: IpAddr, now: Instant) {
        if self.config.auth_failures == 0 || self.is_exempt(source) {
            return;
        }
        let full = self.sources.len() >= self.config.max_sources;
        let Some(state) = (match full {
            false => Some(self.sources.entry(source).or_default()),
            true => self.sources.get_mut(&source),
        }) else {
            return;
        };
        state.last_seen = Some(now);
        let window_over = state
            .window_start
            .is_none_or(|start| now.saturating_duration_since(start) >= self.config.auth_window);
        if window_over {
            state.window_start = Some(now);
            state.failures = 0;
        }
        state.failures += 1;
        if state.failures >= self.config.auth_failures
            && state.blocked_until.is_none_or(|until| until <= now)
        {
            let until = now + self.config.block_for;
            state.blocked_until = Some(until);
            state.failures = 0;
            state.window_start = None;
            self.events.push_back(GuardEvent::Blocked {
                source,
                reason: BlockReason::AuthFailures,
                until,
            });
        }
    }

    /// Whether `source` is blocked at `now`.
    pub fn is_blocked(&self, source: IpAddr, now: Instant) -> bool {
        self.sources
            .get(&source)
            .and_then(|s| s.blocked_until)
            .is_some_and(|until| now < until)
    }

    /// Addresses currently tracked (a gauge for the shell).
    pub fn tracked_sources(&self) -> usize {
        self.sources.len()
    }

    pub fn poll_event(&mut self) -> Option<GuardEvent> {
        self.events.pop_front()
    }

    /// Forgets sources whose buckets are full again, that are not blocked and whose failure
    /// window is over: O(n) once per `SWEEP_EVERY`, with n at most `max_sources`.
    fn sweep(&mut self, now: Instant) {
        if self.next_sweep.is_some_and(|at| now < at) {
            return;
        }
        self.next_sweep = Some(now + SWEEP_EVERY);
        let window = self.config.auth_window;
        self.sources
            .retain(|_, state| !state.is_forgettable(now, window));
        if self.overflow.is_forgettable(now, window) {
            self.overflow = SourceState::default();
        }
    }
}

#[cfg(test)]
#[path = "guard_tests.rs"]
mod tests;
