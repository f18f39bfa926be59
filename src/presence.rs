//! The store side of operators: the directory the engine authenticates phones against, what
//! it restores after a restart, and the writer that keeps operator history, registrations
//! and measured wrap-ups.
//!
//! Writes go through one task in order, so a binding saved and then deleted ends deleted; a
//! write that fails while the database is away is retried until it answers
//! (`store_retry`), one refused for good is logged and the engine carries on (presence is
//! rebuilt by the phones' next REGISTER).

use std::collections::HashMap;
use std::net::SocketAddr;

use chrono::{DateTime, Utc};
use madoguchi_sip::Transport;
use madoguchi_store::{Registration, Store, StoreError, WrapUp};
use tokio::sync::mpsc;

use crate::engine::{Counters, DirectoryEntry, OperatorHistory, RegistrationChange, StoredBinding};

/// Every user, with digest HA1s for those who may register a phone.
pub async fn load_directory(store: &Store) -> Result<Vec<DirectoryEntry>, StoreError> {
    let sip: HashMap<String, _> = store
        .sip_directory()
        .await?
        .into_iter()
        .map(|e| (e.login.clone(), e))
        .collect();
    Ok(store
        .list_users()
        .await?
        .into_iter()
        .filter(|u| !u.disabled)
        .map(|u| {
            let secrets = sip.get(&u.login);
            DirectoryEntry {
                role: u.role.to_string(),
                ha1_md5: secrets.and_then(|s| s.ha1_md5.clone()),
                ha1_sha256: secrets.and_then(|s| s.ha1_sha256.clone()),
                languages: u.languages,
                login: u.login,
            }
        })
        .collect())
}

/// This node's bindings still valid and each login's last status.
pub async fn load_restore(
    store: &Store,
    node_id: &str,
    now: DateTime<Utc>,
) -> Result<
    (
        Vec<StoredBinding>,
        HashMap<String, (String, Option<String>)>,
    ),
    StoreError,
> {
    let bindings = store
        .load_registrations(node_id, now)
        .await?
        .into_iter()
        .filter_map(|r| {
            let source: SocketAddr = r.source.parse().ok()?;
            let transport = match r.transport.as_str() {
                "tcp" => Transport::Tcp,
                _ => Transport::Udp,
            };
            Some(StoredBinding {
                login: r.login,
                contact: r.contact,
                source,
                transport,
                call_id: r.call_id,
                cseq: r.cseq,
                expires_at: r.expires_at,
            })
        })
        .collect();
    let states = store
        .latest_operator_states()
        .await?
        .into_iter()
        .map(|c| (c.login, (c.status, c.reason)))
        .collect();
    Ok((bindings, states))
}

/// Today's counters from the records already stored since `midnight`.
pub async fn load_counters(
    store: &Store,
    midnight: DateTime<Utc>,
    date: chrono::NaiveDate,
) -> Result<Counters, StoreError> {
    let c = store.call_counts_since(midnight).await?;
    let n = |v: i64| u64::try_from(v).unwrap_or(0);
    Ok(Counters {
        date: Some(date),
        since: Some(midnight),
        calls: n(c.calls),
        offered: n(c.offered),
        answered: n(c.answered),
        abandoned: n(c.abandoned),
        overflowed: n(c.overflowed),
        transferred: n(c.transferred),
        callbacks: n(c.callbacks),
    })
}

/// The call records that arrived since `since` (today's, replayed into the board at start).
pub async fn load_records_since(
    store: &Store,
    since: DateTime<Utc>,
) -> Result<Vec<madoguchi_store::CallRecord>, StoreError> {
    let mut records = Vec::new();
    let mut query = madoguchi_store::CallQuery {
        from: Some(since),
        limit: madoguchi_store::MAX_PAGE_SIZE,
        ..madoguchi_store::CallQuery::default()
    };
    loop {
        let page = store.list_calls(&query).await?;
        records.extend(page.items);
        match page.next {
            Some(cursor) => query.start = madoguchi_store::PageStart::After(cursor),
            None => return Ok(records),
        }
    }
}

pub enum PresenceWrite {
    History(OperatorHistory),
    Registration(RegistrationChange),
    /// A wrap-up that ended: written after the history row that ended it.
    WrapUp(WrapUp),
}

/// Spawns the writer; send it what the engine's `poll_history`/`poll_registration` give.
/// Bindings are stored as this node's (`node_id`).
pub fn spawn_writer(store: Store, node_id: String) -> mpsc::UnboundedSender<PresenceWrite> {
    let (tx, mut rx) = mpsc::unbounded_channel::<PresenceWrite>();
    tokio::spawn(async move {
        while let Some(write) = rx.recv().await {
            let result = crate::store_retry::until_stored("operator presence", || async {
                match &write {
                    PresenceWrite::History(h) => {
                        store
                            .record_operator_state(&h.login, h.at, h.status, h.reason.as_deref())
                            .await
                    }
                    PresenceWrite::Registration(RegistrationChange::Save {
                        login,
                        contact,
                        source,
                        transport,
                        call_id,
                        cseq,
                        expires_at,
                    }) => {
                        store
                            .save_registration(&Registration {
                                login: login.clone(),
                                contact: contact.clone(),
                                source: source.to_string(),
                                transport: match transport {
                                    Transport::Udp => "udp",
                                    Transport::Tcp => "tcp",
                                    // Never saved: the engine keeps WebSocket and TLS bindings in memory.
                                    Transport::Ws => "ws",
                                    Transport::Tls => "tls",
                                }
                                .to_owned(),
                                call_id: call_id.clone(),
                                cseq: *cseq,
                                expires_at: *expires_at,
                                node_id: node_id.clone(),
                            })
                            .await
                    }
                    PresenceWrite::Registration(RegistrationChange::Delete { login, contact }) => {
                        store.delete_registration(login, contact).await.map(|_| ())
                    }
                    PresenceWrite::WrapUp(wrap_up) => store.record_wrap_up(wrap_up).await,
                }
            })
            .await;
            if let Err(error) = result {
                tracing::warn!(%error, "operator presence not stored");
            }
        }
    });
    tx
}
