//! The registrar's binding table (RFC 3261 §10.3): which contacts a login's phones registered,
//! where each REGISTER came from (for NAT: send to the received address and transport, not
//! the Contact host), and when each binding expires.
//!
//! Sans-IO like the rest of the crate. The shell (after Digest authentication, see
//! [`crate::digest`]) calls [`Registrar::apply`] with the already parsed Contact and Expires
//! values of one REGISTER and answers `200 OK` listing the returned bindings, or the status of
//! the [`RegistrarError`] (`423` with `Min-Expires` for [`RegistrarError::IntervalTooBrief`]).
//! Time moves only through [`Registrar::handle_timeout`]; after every call drain
//! [`Registrar::poll_event`] (to persist bindings in the store and update operator presence),
//! then sleep until [`Registrar::poll_timeout`]. After a restart, [`Registrar::restore`] puts
//! the stored bindings back (converted to `Instant`s by the shell).
//!
//! Contact URIs are compared as given; the shell hands them over in one normal form.
//!
//! ```
//! use madoguchi_sip::{BindingSource, ContactRequest, Registrar, RegistrarConfig, Transport};
//! use std::time::{Duration, Instant};
//! let mut reg = Registrar::new(RegistrarConfig::default());
//! let now = Instant::now(); // the shell's clock
//! let source = BindingSource { addr: "203.0.113.5:40312".parse().unwrap(), transport: Transport::Udp };
//! let contact = ContactRequest { uri: "sip:1001@192.168.1.20:5060".into(), expires: None };
//! let bindings = reg.apply(now, "1001", &[contact], Some(600), "call-1", 1, source).unwrap();
//! assert_eq!(bindings[0].expires_in(now), 600);
//! assert!(reg.poll_event().is_some()); // BindingAdded
//! reg.handle_timeout(now + Duration::from_secs(600));
//! assert!(reg.bindings("1001").is_empty());
//! ```

use crate::Transport;
use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// Limits of the registrar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrarConfig {
    /// Shorter non-zero requests are refused with `423 Interval Too Brief` (§10.3 step 7).
    pub min_expires: u32,
    /// Longer requests are shortened to this.
    pub max_expires: u32,
    /// Used when neither the Contact nor an Expires header gives a value.
    pub default_expires: u32,
    /// Contacts one login may hold at once.
    pub max_bindings_per_login: usize,
}

impl Default for RegistrarConfig {
    fn default() -> Self {
        Self {
            min_expires: 60,
            max_expires: 3600,
            default_expires: 3600,
            max_bindings_per_login: 10,
        }
    }
}

/// One Contact of a REGISTER: its URI (`*` for the wildcard) and its `expires` parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactRequest {
    pub uri: String,
    pub expires: Option<u32>,
}

/// Where the REGISTER arrived from: requests to this binding go here (RFC 5626-style NAT
/// handling, without relying on the private Contact host).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BindingSource {
    pub addr: SocketAddr,
    pub transport: Transport,
}

/// One registered contact of a login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub login: String,
    pub contact: String,
    pub source: BindingSource,
    /// Call-ID and CSeq of the REGISTER that last touched the binding (§10.3 step 7).
    pub call_id: String,
    pub cseq: u32,
    pub expires_at: Instant,
}

impl Binding {
    /// Whole seconds left, rounded up, for the `expires` parameter of the `200 OK`.
    pub fn expires_in(&self, now: Instant) -> u32 {
        let left = self.expires_at.saturating_duration_since(now);
        let secs = left.as_secs() + u64::from(left.subsec_nanos() > 0);
        u32::try_from(secs).unwrap_or(u32::MAX)
    }
}

/// Why a REGISTER changed nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistrarError {
    /// Answer `423 Interval Too Brief` with `Min-Expires: min_expires`.
    #[error("registration interval too brief, minimum {min_expires}s")]
    IntervalTooBrief { min_expires: u32 },
    /// `Contact: *` with other contacts or a non-zero expiry (§10.3 step 6): `400`.
    #[error("wildcard contact must be alone with Expires: 0")]
    InvalidWildcard,
    /// Same Call-ID with a CSeq not above the stored one: a stale or reordered request
    /// (§10.3 step 7): `500`.
    #[error("REGISTER out of order for contact {contact}")]
    OutOfOrder { contact: String },
    /// The login would hold more contacts than allowed: `403`.
    #[error("too many contacts, at most {max}")]
    TooManyBindings { max: usize },
}

impl RegistrarError {
    /// The SIP status code to answer with.
    pub fn status_code(&self) -> u16 {
        match self {
            Self::IntervalTooBrief { .. } => 423,
            Self::InvalidWildcard => 400,
            Self::OutOfOrder { .. } => 500,
            Self::TooManyBindings { .. } => 403,
        }
    }
}

/// Changes of the binding table, for the store and for operator presence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistrarEvent {
    BindingAdded {
        login: String,
        contact: String,
    },
    /// Same contact registered again (new expiry, maybe a new source address).
    BindingRefreshed {
        login: String,
        contact: String,
    },
    /// Removed by the phone (expires=0 or `Contact: *`), or its WebSocket connection closed.
    BindingRemoved {
        login: String,
        contact: String,
    },
    /// Not refreshed in time.
    BindingExpired {
        login: String,
        contact: String,
    },
}

/// What one Contact of a valid request does.
enum Change {
    Upsert { uri: String, expires: u32 },
    Remove { uri: String },
}

/// The binding table of all logins.
#[derive(Debug)]
pub struct Registrar {
    config: RegistrarConfig,
    bindings: BTreeMap<String, Vec<Binding>>,
    events: VecDeque<RegistrarEvent>,
}

impl Registrar {
    pub fn new(config: RegistrarConfig) -> Self {
        Self {
            config,
            bindings: BTreeMap::new(),
            events: VecDeque::new(),
        }
    }

    /// Applies one authenticated REGISTER for `login` (§10.3 steps 6–8) and returns the
    /// login's bindings afterwards, for the `200 OK`. No contacts means a query. On error
    /// nothing changed.
    #[allow(clippy::too_many_arguments)] // mirrors the REGISTER fields one to one
    pub fn apply(
        &mut self,
        now: Instant,
        login: &str,
        contacts: &[ContactRequest],
        header_expires: Option<u32>,
        call_id: &str,
        cseq: u32,
        source: BindingSource,
    ) -> Result<Vec<Binding>, RegistrarError> {
        let existing = self.bindings(login);
        let changes = if contacts.iter().any(|c| c.uri == "*") {
            let alone = contacts.len() == 1;
            let zero = header_expires == Some(0) && matches!(contacts[0].expires, None | Some(0));
            if !(alone && zero) {
                return Err(RegistrarError::InvalidWildcard);
            }
            existing
                .iter()
                .map(|b| Change::Remove {
                    uri: b.contact.clone(),
                })
                .collect::<Vec<_>>()
        } else {
            self.plan(contacts, header_expires)?
        };

        let mut count = existing.len();
        for change in &changes {
            let uri = match change {
                Change::Upsert { uri, .. } | Change::Remove { uri } => uri,
            };
            let stored = existing.iter().find(|b| &b.contact == uri);
            if let Some(b) = stored {
                if b.call_id == call_id && cseq <= b.cseq {
                    return Err(RegistrarError::OutOfOrder {
                        contact: uri.clone(),
                    });
                }
            }
            match (change, stored) {
                (Change::Upsert { .. }, None) => count += 1,
                (Change::Remove { .. }, Some(_)) => count = count.saturating_sub(1),
                _ => {}
            }
        }
        if count > self.config.max_bindings_per_login && count > existing.len() {
            return Err(RegistrarError::TooManyBindings {
                max: self.config.max_bindings_per_login,
            });
        }

        for change in changes {
            match change {
                Change::Upsert { uri, expires } => {
                    let binding = Binding {
                        login: login.to_owned(),
                        contact: uri,
                        source,
                        call_id: call_id.to_owned(),
                        cseq,
                        expires_at: now + Duration::from_secs(u64::from(expires)),
                    };
                    self.upsert(binding);
                }
                Change::Remove { uri } => {
                    if self.remove(login, &uri) {
                        self.events.push_back(RegistrarEvent::BindingRemoved {
                            login: login.to_owned(),
                            contact: uri,
                        });
                    }
                }
            }
        }
        tracing::debug!(bindings = self.bindings(login).len(), "register applied");
        Ok(self.bindings(login).to_vec())
    }

    /// Resolves each Contact's expiry: its own `expires`, else the header, else the default.
    fn plan(
        &self,
        contacts: &[ContactRequest],
        header_expires: Option<u32>,
    ) -> Result<Vec<Change>, RegistrarError> {
        contacts
            .iter()
            .map(|c| {
                let expires = c
                    .expires
                    .or(header_expires)
                    .unwrap_or(self.config.default_expires);
                if expires == 0 {
                    Ok(Change::Remove { uri: c.uri.clone() })
                } else if expires < self.config.min_expires {
                    Err(RegistrarError::IntervalTooBrief {
                        min_expires: self.config.min_expires,
                    })
                } else {
                    Ok(Change::Upsert {
                        uri: c.uri.clone(),
                        expires: expires.min(self.config.max_expires),
                    })
                }
            })
            .collect()
    }

    fn upsert(&mut self, binding: Binding) {
        let list = self.bindings.entry(binding.login.clone()).or_default();
        let event_key = (binding.login.clone(), binding.contact.clone());
        if let Some(slot) = list.iter_mut().find(|b| b.contact == binding.contact) {
            *slot = binding;
            self.events.push_back(RegistrarEvent::BindingRefreshed {
                login: event_key.0,
                contact: event_key.1,
            });
        } else {
            list.push(binding);
            self.events.push_back(RegistrarEvent::BindingAdded {
                login: event_key.0,
                contact: event_key.1,
            });
        }
    }

    fn remove(&mut self, login: &str, contact: &str) -> bool {
        let Some(list) = self.bindings.get_mut(login) else {
            return false;
        };
        let before = list.len();
        list.retain(|b| b.contact != contact);
        let removed = list.len() != before;
        if list.is_empty() {
            self.bindings.remove(login);
        }
        removed
    }

    /// Current bindings of `login`, in registration order.
    pub fn bindings(&self, login: &str) -> &[Binding] {
        self.bindings.get(login).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Drops every binding reached through `source` (a WebSocket connection that closed:
    /// nothing can reach those phones any more) and reports each as removed.
    pub fn remove_source(&mut self, source: BindingSource) {
        let events = &mut self.events;
        self.bindings.retain(|login, list| {
            list.retain(|b| {
                let gone = b.source == source;
                if gone {
                    events.push_back(RegistrarEvent::BindingRemoved {
                        login: login.clone(),
                        contact: b.contact.clone(),
                    });
                }
                !gone
            });
            !list.is_empty()
        });
    }

    /// Every binding of every login, logins in order.
    pub fn all_bindings(&self) -> impl Iterator<Item = &Binding> {
        self.bindings.values().flatten()
    }

    /// Puts back bindings loaded from the store after a restart, replacing any binding with
    /// the same login and contact. Emits no events (the store already has them); bindings
    /// already past their expiry go at the next [`Self::handle_timeout`].
    pub fn restore(&mut self, bindings: impl IntoIterator<Item = Binding>) {
        for binding in bindings {
            let list = self.bindings.entry(binding.login.clone()).or_default();
            list.retain(|b| b.contact != binding.contact);
            list.push(binding);
        }
    }

    /// Next change of the table, if any.
    pub fn poll_event(&mut self) -> Option<RegistrarEvent> {
        self.events.pop_front()
    }

    /// When the earliest binding expires. A linear scan: a contact center has hundreds of
    /// phones, not millions.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.bindings.values().flatten().map(|b| b.expires_at).min()
    }

    /// Drops every binding whose expiry is at or before `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        let events = &mut self.events;
        self.bindings.retain(|login, list| {
            list.retain(|b| {
                let alive = b.expires_at > now;
                if !alive {
                    events.push_back(RegistrarEvent::BindingExpired {
                        login: login.clone(),
                        contact: b.contact.clone(),
                    });
                }
                alive
            });
            !list.is_empty()
        });
    }
}

#[cfg(test)]
#[path = "registrar_tests.rs"]
mod tests;
