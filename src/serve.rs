//! `madoguchi serve`: wires the core to its shells and runs until SIGTERM.
//!
//! ```text
//!  UDP/TCP ──Inbound──▶ engine task ──Transmit──▶ UDP/TCP
//!                       (owns Engine) ──MediaCommand──▶ media runtime (RTP, 20 ms tick)
//!  media runtime ──MediaEvent──▶ engine task ──CallRecord──▶ record writer ──▶ SQLite/PostgreSQL
//!  axum (health, metrics, API) ──▶ store
//! ```
//! On SIGTERM new calls get 503; calls in progress may finish for up to the drain limit
//! (`--drain-limit-seconds`), then are ended and recorded as interrupted; every record is
//! flushed before the process exits 0. SIGHUP reloads the dialplan (`crate::reload`).
//!
//! Start-up order: sockets, then the node id (no other live run may hold it), recovery of
//! the last run's calls, the node's claim and heartbeat, then the engine. On PostgreSQL the
//! node also joins the cluster (`crate::cluster`) and reaps dead nodes' calls
//! (`crate::crash_safety::spawn_reaper`).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use madoguchi_dialplan::Dialplan;
use madoguchi_prompts::PromptCache;
use madoguchi_sip::{EndpointConfig, SipStats};
use madoguchi_store::{Backend, ClusterBus, NodeInfo, RecordWriter, Store};
use rand::Rng;
use tokio::sync::{broadcast, mpsc, watch};

use crate::engine::console::ConsoleEvent;

use crate::config::Settings;
use crate::engine::targets::{parse_uri, TargetAddress, Targets};
use crate::engine::{Engine, EngineConfig, LiveState, MediaCommand, Now, PromptIndex};
use crate::net::rtp::MediaRuntime;
use crate::net::sip_guard::SharedGuard;
use crate::net::sip_transport::{self, SipTransport};
use crate::presence::{self, PresenceWrite};
use crate::web;
use crate::web::{EngineLink, EngineRequest};

const FLUSH_LIMIT: Duration = Duration::from_secs(30);
/// The media runtime stops as soon as its channel closes; this only bounds a wedged one.
const MEDIA_STOP_LIMIT: Duration = Duration::from_secs(5);
/// Users added with `madoguchi user add` while the engine runs can register within this.
const DIRECTORY_REFRESH: Duration = Duration::from_secs(10);
/// Console events buffered for slow sockets; one that falls further behind resyncs.
const CONSOLE_EVENTS: usize = 1024;
/// How long an orderly stop tries to give its node id back.
const RELEASE_LIMIT: Duration = Duration::from_secs(2);
/// The live state is published at most this often (dashboards want it within a second).
const LIVE_PUBLISH: Duration = Duration::from_millis(200);

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("dialplan:\n{0}")]
    Dialplan(madoguchi_dialplan::CheckErrors),
    #[error("prompts: {0}")]
    Prompts(#[from] madoguchi_prompts::PromptError),
    #[error("database: {0}")]
    Store(#[from] madoguchi_store::StoreError),
    #[error(transparent)]
    NodeId(#[from] crate::crash_safety::ClaimError),
    #[error("cannot listen for SIP on {addr}: {source}")]
    SipListen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot listen for HTTP on {addr}: {source}")]
    HttpListen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error(transparent)]
    Tls(#[from] crate::net::tls_listeners::TlsListenError),
    #[error("public address {host:?} does not resolve to an IP address")]
    PublicAddress { host: String },
    #[error("city line {uri:?}: {reason}")]
    CityLine { uri: String, reason: String },
    #[error("cannot start the media runtime: {0}")]
    MediaRuntime(std::io::Error),
    #[error("metrics: {0}")]
    Metrics(#[from] metrics_exporter_prometheus::BuildError),
    #[error(
        "{pending} call records could not be written before exiting: the database is unreachable"
    )]
    Unflushed { pending: u64 },
}

pub async fn serve(settings: Settings) -> Result<(), ServeError> {
    // One RTP socket per call: thousands of calls need more descriptors than the usual soft
    // limit of 1024. Raise it to the hard limit; if that fails, calls beyond it get 503.
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => tracing::debug!(limit, "open file limit"),
        Err(error) => tracing::warn!(%error, "cannot raise the open file limit"),
    }
    let dialplan = Dialplan::load(&settings.dialplan).map_err(ServeError::Dialplan)?;
    let prompts = PromptCache::load(dialplan.prompt_files())?;
    let index: PromptIndex = dialplan
        .prompt_files()
        .filter_map(|(name, _)| prompts.id(name).map(|id| (name.to_owned(), id)))
        .collect();
    tracing::info!(prompts = prompts.len(), dialplan = %settings.dialplan.display(), "prompts decoded and encoded");

    let metrics = metrics_exporter_prometheus::PrometheusBuilder::new().install_recorder()?;
    // Audit entries, operator history and wrap-ups name the node that wrote them.
    let store = Store::connect(&settings.database_url)
        .await?
        .with_node_id(&settings.node_id);

    let (udp, tcp) = sip_transport::bind(settings.sip_listen)
        .await
        .map_err(|source| ServeError::SipListen {
            addr: settings.sip_listen,
            source,
        })?;
    let sip_addr = udp.local_addr().map_err(|source| ServeError::SipListen {
        addr: settings.sip_listen,
        source,
    })?;
    let http = web::bind(settings.http_listen)
        .await
        .map_err(|source| ServeError::HttpListen {
            addr: settings.http_listen,
            source,
        })?;
    let http_addr = http.local_addr().map_err(|source| ServeError::HttpListen {
        addr: settings.http_listen,
        source,
    })?;

    let (public_host, media_ip) =
        public_address(settings.public_address.as_deref(), sip_addr).await?;

    let node = NodeInfo {
        node_id: settings.node_id.clone(),
        instance: format!("{:032x}", rand::thread_rng().gen::<u128>()),
        sip_addr: Some(advertised_sip(settings.advertise_sip, sip_addr, media_ip).to_string()),
        http_url: Some(advertised_http(
            settings.advertise_http.as_deref(),
            http_addr,
            &public_host,
        )),
    };
    // No other live run may use this node id: recovery closes that id's open calls. The
    // claim keeps the previous run's last heartbeat, which recovery reads.
    crate::crash_safety::claim_node(&store, &node, settings.cluster_dead_after).await?;
    tracing::info!(node = %node.node_id, instance = %node.instance, sip = ?node.sip_addr, http = ?node.http_url, "node id claimed");
    // Before anything reads today's records or takes a call: what a database outage left
    // in the spool is stored, then the calls a crash cut are closed (`crash_safety`).
    let recovered =
        crate::crash_safety::recover(&store, &settings.spool_dir, &settings.node_id).await?;
    tracing::info!(
        spooled_entries_stored = recovered.replayed,
        interrupted_calls_closed = recovered.closed,
        "start-up recovery done"
    );
    crate::crash_safety::spawn_heartbeat(store.clone(), settings.node_id.clone());
    let clustered = store.backend() == Backend::Postgres;
    if clustered {
        crate::crash_safety::spawn_reaper(
            store.clone(),
            settings.node_id.clone(),
            settings.cluster_dead_after,
        );
    }
    // The writer acknowledges each call's open-call note: the engine answers no new call
    // before it (issue 8, arrival window).
    let (journaled_tx, journaled) = mpsc::unbounded_channel();
    let (writer, writer_task) = RecordWriter::spawn_with_acks(
        store.clone(),
        madoguchi_store::WriterConfig::default(),
        Some(recovered.spool),
        journaled_tx,
    );

    let mut tls = crate::net::tls_listeners::Listeners::bind(&settings).await?;
    let targets = resolve_targets(&settings).await?;
    // A carrier trunk sends many INVITEs from one address: never limit it.
    let mut sip_limits = settings.sip_limits.clone();
    for trunk in targets.destinations() {
        sip_limits.trust(madoguchi_sip::guard::Network::host(trunk.ip()));
    }
    let trusted: Vec<String> = sip_limits
        .guard
        .exempt
        .iter()
        .map(|n| n.to_string())
        .collect();
    tracing::info!(?trusted, "SIP sources trusted by the flood guard");
    let categories: Arc<[madoguchi_dialplan::Category]> = dialplan.categories().into();
    let counter_calendar = dialplan.calendar("counter").cloned();
    let devices_calendar = dialplan.devices_calendar().cloned();
    let report_settings = Arc::new(crate::reports::settings_from_dialplan(
        &dialplan,
        settings.service_level.threshold,
        settings.service_level.short_abandon,
    ));
    // Staffing counts unmeasured wrap-ups as the reports do.
    let wrap_ups = Arc::new(web::QueueWrapUps::from_settings(Arc::clone(
        &report_settings,
    )));
    let time_zone = dialplan
        .calendars()
        .first()
        .map_or(chrono_tz::Asia::Tokyo, |c| c.tz);
    let mut engine = Engine::new(
        EngineConfig {
            sip: EndpointConfig {
                public_host,
                public_port: sip_addr.port(),
                user_agent: format!("madoguchi/{}", env!("CARGO_PKG_VERSION")),
                max_message_size: 65_535,
                realm: settings.sip_realm.clone(),
                registrar: madoguchi_sip::RegistrarConfig::default(),
                nonce_secret: rand::thread_rng().gen(),
                nonce_lifetime_secs: 300,
                prack: settings.prack,
            },
            media_ip,
            node_id: settings.node_id.clone(),
            rng_seed: rand::thread_rng().gen(),
            targets,
            service_level: settings.service_level,
        },
        Arc::new(dialplan),
        Arc::new(index),
    );
    engine.set_digest_algorithms(&settings.sip_digest);
    engine.set_session_caps(sip_limits.caps.clone());
    if let Some(addr) = tls.sip_addr() {
        engine.set_sip_tls_port(addr.port());
    }
    engine.set_directory(now(), presence::load_directory(&store).await?);
    let (bindings, last_status) =
        presence::load_restore(&store, &settings.node_id, Utc::now()).await?;
    tracing::info!(registrations = bindings.len(), "registrations restored");
    engine.restore(now(), bindings, last_status);
    let (midnight, date) = engine.local_midnight(Utc::now());
    engine.seed_counters(presence::load_counters(&store, midnight, date).await?);
    engine.seed_board(
        &presence::load_records_since(&store, midnight).await?,
        &store.wrap_ups_since(midnight).await?,
    );
    let presence_writer = presence::spawn_writer(store.clone(), settings.node_id.clone());
    let closed =
        crate::recordings::recover(&store, &settings.recordings_dir, &settings.node_id).await?;
    if closed > 0 {
        tracing::warn!(
            recordings = closed,
            "recordings left open by a stop were repaired and closed as interrupted"
        );
    }
    // Before the engine takes calls, so data past its retention is gone at once.
    let _retention = crate::retention::spawn_daily(
        store.clone(),
        settings.recordings_dir.clone(),
        settings.retention,
        time_zone,
    );
    let (recordings_writer, recordings_task) =
        crate::recordings::spawn_writer(store.clone(), settings.node_id.clone());
    let (requests_tx, requests) = mpsc::channel(256);
    let (live_tx, live_rx) = watch::channel(Arc::new(engine.live(now())));
    let (console_tx, _) = broadcast::channel(CONSOLE_EVENTS);
    spawn_directory_refresh(store.clone(), requests_tx.clone());
    // Devices not heard from are found silent (design §3), alerted within their hours.
    let device_watch = Arc::new(crate::devices::DeviceWatch::new(devices_calendar));
    crate::devices::spawn_watch(store.clone(), Arc::clone(&device_watch));

    let guard = SharedGuard::new(sip_limits.guard);
    // The whole center's live state: the cluster task merges the other nodes in.
    let bus = if clustered {
        ClusterBus::listen(&store).await?
    } else {
        None
    };
    let center_rx = match bus {
        Some(bus) => {
            let (center_tx, center_rx) = watch::channel(Arc::clone(&live_rx.borrow()));
            crate::cluster::spawn(crate::cluster::Cluster {
                store: store.clone(),
                node_id: settings.node_id.clone(),
                bus,
                local: live_rx.clone(),
                center: center_tx,
                requests: requests_tx.clone(),
                guard: guard.clone(),
                writer: writer.clone(),
            });
            Some(center_rx)
        }
        None => None,
    };
    let (transport, inbound) = SipTransport::start(udp, tcp, guard);
    tls.start_sip(transport.tls());
    let (media_tx, media_rx) = mpsc::unbounded_channel();
    let (media_events_tx, media_events) = mpsc::unbounded_channel();
    let prompts = Arc::new(prompts);
    let reload = crate::reload::spawn(
        settings.dialplan.clone(),
        Arc::clone(&prompts),
        media_tx.downgrade(),
        requests_tx.clone(),
    );
    let media = MediaRuntime::new(
        prompts,
        sip_addr.ip(),
        settings.rtp_ports.clone(),
        media_events_tx,
    )
    .with_candidate_ip(media_ip)
    .with_recordings(settings.recordings_dir.clone(), recordings_writer.clone())
    .map_err(ServeError::MediaRuntime)?;
    let (webrtc_tx, webrtc_rx) = mpsc::unbounded_channel();
    let media_thread = media
        .spawn_dedicated(media_rx, webrtc_rx, settings.media_threads)
        .map_err(ServeError::MediaRuntime)?;

    let app = web::router(web::AppState {
        store: store.clone(),
        metrics,
        engine: EngineLink {
            requests: requests_tx,
            center: center_rx.clone().unwrap_or_else(|| live_rx.clone()),
            live: live_rx,
            console: console_tx.clone(),
            webrtc: webrtc_tx,
        },
        auth: Arc::new(web::AuthState::new(settings.secure_cookies)),
        categories,
        time_zone,
        complaints: tokio::sync::broadcast::channel(64).0,
        wrap_ups,
        counter: Arc::new(web::CounterDesk::new(
            counter_calendar,
            time_zone,
            settings.node_id.clone(),
        )),
        recordings_dir: settings.recordings_dir.as_path().into(),
        devices: device_watch,
    })
    // SIP over WebSocket (/ws/sip) hands its connections to the SIP transport.
    .layer(axum::Extension(transport.websockets()))
    // The reports over HTTP use the dialplan's titles, targets and wrap-ups, as the CLI does.
    .layer(axum::Extension(report_settings))
    // POST /api/v1/admin/reload asks the reload task.
    .layer(axum::Extension(reload))
    // Pages of these origins may send what the CSRF check lets through (`web::csrf`).
    .layer(axum::Extension(settings.web_origins.clone()))
    // GET /api/v1/cluster counts nodes dead after the reaper's limit.
    .layer(axum::Extension(web::DeadAfter(settings.cluster_dead_after)));
    let https_task = tls.serve_https(app.clone());
    let (stop_http_tx, stop_http_rx) = tokio::sync::oneshot::channel::<()>();
    let http_task = tokio::spawn(async move {
        // The peer address keys the sign-in throttle per login and address.
        let app = app.into_make_service_with_connect_info::<SocketAddr>();
        let _ = axum::serve(http, app)
            .with_graceful_shutdown(async {
                let _ = stop_http_rx.await;
            })
            .await;
    });

    // The one line scripts and tests wait for: the engine is taking calls.
    println!(
        "madoguchi ready sip={sip_addr} http={http_addr}{}",
        tls.ready_fields()
    );
    tracing::info!(%sip_addr, %http_addr, node = %settings.node_id, city_line = ?settings.city_line, "madoguchi ready");

    run_engine(
        engine,
        EngineIo {
            inbound,
            media_events,
            requests,
            transport,
            media: media_tx,
            writer: writer.clone(),
            journaled,
            presence: presence_writer,
            recordings: recordings_writer,
            live: live_tx,
            console: console_tx,
            center: center_rx,
            drain_limit: settings.drain_limit,
        },
    )
    .await;

    let _ = stop_http_tx.send(());
    let _ = http_task.await;
    if let Some(https) = https_task {
        https.abort();
    }
    // The engine's end closed the media channel, so the media runtime is ending too.
    media_thread.stop(MEDIA_STOP_LIMIT).await;
    // The recorder closed its files with the media runtime; their ends reach the store.
    if tokio::time::timeout(FLUSH_LIMIT, recordings_task)
        .await
        .is_err()
    {
        tracing::warn!(
            "recordings not all stored at shutdown: they show as interrupted at the next start"
        );
    }
    // Records wait in memory while the database is away; give it a bounded time to come back
    // rather than hang the shutdown (the hardening issue adds a durable local spool).
    match tokio::time::timeout(FLUSH_LIMIT, writer_task.shutdown()).await {
        Ok(report) => {
            for record in &report.rejected {
                tracing::error!(call = %record.id, "the database refused this call record");
            }
            if report.stats.spooled > 0 {
                tracing::warn!(
                    spooled = report.stats.spooled,
                    "the database is away: call records wait in the spool and are stored at the next start"
                );
            }
            tracing::info!(
                written = report.stats.written,
                refused = report.rejected.len(),
                "records flushed, exiting"
            );
            // Give the node id back so a restart takes it at once (a crash skips this, and
            // the next run waits out this one's heartbeat instead).
            let release = store.release_node(&node.node_id, &node.instance);
            if !matches!(
                tokio::time::timeout(RELEASE_LIMIT, release).await,
                Ok(Ok(()))
            ) {
                tracing::warn!("node id not released: the next start waits for it to go stale");
            }
            Ok(())
        }
        Err(_) => Err(ServeError::Unflushed {
            pending: writer.stats().pending,
        }),
    }
}

/// What the engine task reads from and writes to.
struct EngineIo {
    inbound: mpsc::Receiver<sip_transport::Inbound>,
    media_events: mpsc::UnboundedReceiver<crate::engine::MediaEvent>,
    requests: mpsc::Receiver<EngineRequest>,
    transport: SipTransport,
    media: mpsc::UnboundedSender<MediaCommand>,
    writer: RecordWriter,
    /// Call ids whose open-call note the writer stored (or spooled).
    journaled: mpsc::UnboundedReceiver<String>,
    presence: mpsc::UnboundedSender<PresenceWrite>,
    recordings: mpsc::UnboundedSender<crate::engine::RecordingNews>,
    live: watch::Sender<Arc<LiveState>>,
    console: broadcast::Sender<Arc<ConsoleEvent>>,
    /// The whole center's live state when this node is one of several (for the gauges).
    center: Option<watch::Receiver<Arc<LiveState>>>,
    /// How long calls may go on after SIGTERM.
    drain_limit: Duration,
}

/// The engine task: the only owner of the core. Feeds it, drains it, until drained.
async fn run_engine(mut engine: Engine, mut io: EngineIo) {
    let mut terminate = terminate_signal();
    let mut drain_deadline: Option<tokio::time::Instant> = None;
    let mut stats_tick = tokio::time::interval(Duration::from_secs(1));
    let mut live_tick = tokio::time::interval(LIVE_PUBLISH);
    live_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut exported = SipStats::default();
    let mut exported_auth_failures = 0;
    let mut exported_unjournaled = 0;
    loop {
        let timeout = engine.poll_timeout().map(tokio::time::Instant::from_std);
        tokio::select! {
            Some(message) = io.inbound.recv() => {
                feed_sip(&mut engine, message);
                // Take what else is already queued before draining outputs once.
                for _ in 0..64 {
                    let Ok(message) = io.inbound.try_recv() else { break };
                    feed_sip(&mut engine, message);
                }
            }
            Some(event) = io.media_events.recv() => engine.handle_media(now(), event),
            Some(request) = io.requests.recv() => handle_request(&mut engine, request),
            Some(call_id) = io.journaled.recv() => {
                engine.journaled(now(), &call_id);
                for _ in 0..256 {
                    let Ok(call_id) = io.journaled.try_recv() else { break };
                    engine.journaled(now(), &call_id);
                }
            }
            _ = sleep_until_opt(timeout) => engine.handle_timeout(now()),
            Some(()) = terminate.recv(), if drain_deadline.is_none() => {
                tracing::info!(active = engine.active_calls(), "SIGTERM: refusing new calls, draining");
                engine.begin_drain();
                drain_deadline = Some(tokio::time::Instant::now() + io.drain_limit);
            }
            _ = sleep_until_opt(drain_deadline) => engine.interrupt_all(now()),
            _ = live_tick.tick() => {
                if engine.take_live_changed() {
                    let _ = io.live.send(Arc::new(engine.live(now())));
                }
            }
            _ = stats_tick.tick() => {
                export_sip_stats(engine.sip_stats(), &mut exported);
                let failures = engine.auth_failures();
                metrics::counter!("madoguchi_sip_auth_failures_total")
                    .increment(failures.saturating_sub(exported_auth_failures));
                exported_auth_failures = failures;
                let unjournaled = engine.answered_unjournaled();
                metrics::counter!("madoguchi_calls_answered_unjournaled_total")
                    .increment(unjournaled.saturating_sub(exported_unjournaled));
                exported_unjournaled = unjournaled;
                metrics::gauge!("madoguchi_active_calls").set(engine.active_calls() as f64);
                metrics::gauge!("madoguchi_sip_guard_sources").set(io.transport.guard().tracked_sources() as f64);
                // With other nodes, the gauges show the whole center as the API does.
                match &io.center {
                    Some(center) => {
                        let center = Arc::clone(&center.borrow());
                        export_live_gauges(&center, Utc::now());
                    }
                    None => export_live_gauges(&engine.live(now()), Utc::now()),
                }
            }
        }
        while let Some(transmit) = engine.poll_transmit() {
            io.transport.send(transmit);
        }
        while let Some(source) = engine.poll_auth_failure() {
            io.transport.guard().auth_failed(source);
        }
        // Before the media commands: a recording's start is stored before its end can be.
        while let Some(news) = engine.poll_recording() {
            let _ = io.recordings.send(news);
        }
        while let Some(command) = engine.poll_media() {
            let _ = io.media.send(command);
        }
        // Before the records: a call's "opened" note must reach the journal before its end.
        while let Some(open) = engine.poll_opened() {
            io.writer.opened(open);
        }
        while let Some(record) = engine.poll_record() {
            metrics::counter!("madoguchi_calls_total", "disposition" => record.disposition.as_str()).increment(1);
            io.writer.submit(record);
        }
        while let Some(row) = engine.poll_history() {
            let _ = io.presence.send(PresenceWrite::History(row));
        }
        while let Some(wrap_up) = engine.poll_wrap_up() {
            let _ = io.presence.send(PresenceWrite::WrapUp(wrap_up));
        }
        while let Some(change) = engine.poll_registration() {
            let _ = io.presence.send(PresenceWrite::Registration(change));
        }
        while let Some(event) = engine.poll_console() {
            // No console listening is fine: a reconnecting one resyncs from the live state.
            let _ = io.console.send(Arc::new(event));
        }
        if drain_deadline.is_some() && engine.active_calls() == 0 {
            // Let the last BYEs leave before the sockets go.
            tokio::time::sleep(Duration::from_millis(50)).await;
            while let Some(transmit) = engine.poll_transmit() {
                io.transport.send(transmit);
            }
            break;
        }
    }
    export_sip_stats(engine.sip_stats(), &mut exported);
}

fn feed_sip(engine: &mut Engine, inbound: sip_transport::Inbound) {
    match inbound {
        sip_transport::Inbound::Message {
            transport,
            source,
            payload,
        } => engine.handle_sip(now(), transport, source, &payload),
        sip_transport::Inbound::FlowClosed { transport, source } => {
            engine.handle_flow_closed(now(), transport, source)
        }
    }
}

fn handle_request(engine: &mut Engine, request: EngineRequest) {
    match request {
        EngineRequest::Status {
            login,
            request,
            reply,
        } => {
            let _ = reply.send(engine.request_status(now(), &login, &request));
        }
        EngineRequest::Transfer {
            call_id,
            target,
            reply,
        } => {
            let _ = reply.send(engine.transfer(now(), &call_id, &target));
        }
        EngineRequest::Monitor {
            call_id,
            request,
            reply,
        } => {
            let _ = reply.send(engine.monitor_request(now(), &call_id, request));
        }
        EngineRequest::Recording {
            call_id,
            login,
            action,
            reply,
        } => {
            let _ = reply.send(engine.recording_request(now(), &call_id, login.as_deref(), action));
        }
        EngineRequest::Directory(entries) => engine.set_directory(now(), entries),
        EngineRequest::Reload {
            dialplan,
            prompts,
            reply,
        } => {
            let _ = reply.send(engine.replace_dialplan(dialplan, prompts, now()));
        }
        EngineRequest::ReserveConsoleLeg { reply } => {
            let _ = reply.send(engine.reserve_console_leg());
        }
        EngineRequest::ConsoleAttach { login, leg, reply } => {
            let _ = reply.send(engine.console_attach(now(), &login, leg));
        }
        EngineRequest::ConsoleDetach { login } => engine.console_detach(now(), &login),
        EngineRequest::ClassificationFiled { login } => engine.classification_filed(now(), &login),
        EngineRequest::RemoteRecord(record) => engine.remote_record(now(), &record),
        EngineRequest::RemoteNode {
            node_id,
            sip,
            operators,
        } => engine.set_remote_node(now(), &node_id, sip, operators),
        EngineRequest::ForgetNode { node_id } => engine.forget_remote_node(now(), &node_id),
        EngineRequest::LocalMidnight { reply } => {
            let _ = reply.send(engine.local_midnight(Utc::now()));
        }
        EngineRequest::Reseed {
            counters,
            records,
            wrap_ups,
        } => {
            engine.seed_counters(counters);
            engine.seed_board(&records, &wrap_ups);
        }
        EngineRequest::ConsoleView { login, reply } => {
            let _ = reply.send(engine.console_view(now(), &login));
        }
        EngineRequest::Console {
            login,
            command,
            reply,
        } => {
            let _ = reply.send(engine.console_command(now(), &login, command));
        }
    }
}

/// The live board as Prometheus gauges, once a second: callers waiting and the longest wait
/// per queue, operators by state, and the service level today and over the last 30 minutes
/// (absent while nothing was offered).
fn export_live_gauges(live: &LiveState, at: chrono::DateTime<Utc>) {
    for queue in &live.queues {
        let name = queue.name.clone();
        metrics::gauge!("madoguchi_queue_waiting", "queue" => name.clone())
            .set(queue.waiting.len() as f64);
        let longest = queue
            .waiting
            .iter()
            .map(|w| (at - w.since).num_milliseconds().max(0))
            .max()
            .unwrap_or(0);
        metrics::gauge!("madoguchi_queue_longest_wait_seconds", "queue" => name)
            .set(longest as f64 / 1000.0);
    }
    for state in [
        "logged_out",
        "available",
        "paused",
        "ringing",
        "on_call",
        "wrap_up",
    ] {
        let count = live.operators.iter().filter(|o| o.state == state).count();
        metrics::gauge!("madoguchi_operators", "state" => state).set(count as f64);
    }
    for (window, figures) in [
        ("today", &live.board.today),
        ("30m", &live.board.last_30_min),
    ] {
        if let Some(level) = figures.service_level {
            metrics::gauge!("madoguchi_service_level", "window" => window).set(level);
        }
    }
}

/// Re-reads the users now and then, so a user added while the engine runs can log in.
fn spawn_directory_refresh(store: Store, requests: mpsc::Sender<EngineRequest>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(DIRECTORY_REFRESH);
        tick.tick().await;
        loop {
            tick.tick().await;
            match presence::load_directory(&store).await {
                Ok(entries) => {
                    if requests
                        .send(EngineRequest::Directory(entries))
                        .await
                        .is_err()
                    {
                        break;
                    }
                }
                Err(error) => tracing::warn!(%error, "cannot refresh the user directory"),
            }
        }
    });
}

/// Where other nodes send SIP to this one: the flag, else the public address and SIP port.
fn advertised_sip(flag: Option<SocketAddr>, sip_addr: SocketAddr, public_ip: IpAddr) -> SocketAddr {
    flag.unwrap_or_else(|| SocketAddr::new(public_ip, sip_addr.port()))
}

/// This node's web address for consoles: the flag, else the HTTP listener with an
/// all-interfaces address replaced by the public host.
fn advertised_http(flag: Option<&str>, http_addr: SocketAddr, public_host: &str) -> String {
    if let Some(url) = flag {
        return url.trim_end_matches('/').to_owned();
    }
    if !http_addr.ip().is_unspecified() {
        return format!("http://{http_addr}");
    }
    match public_host.parse::<IpAddr>() {
        Ok(IpAddr::V6(ip)) => format!("http://[{ip}]:{}", http_addr.port()),
        _ => format!("http://{public_host}:{}", http_addr.port()),
    }
}

/// The city line setting, resolved once: through the trunk proxy when one is set, else to
/// the URI's own host and port.
async fn resolve_targets(settings: &Settings) -> Result<Targets, ServeError> {
    let mut targets = Targets::default();
    let Some(uri) = settings.city_line.as_deref() else {
        tracing::warn!("no city line configured (--city-line): transfers to it will fail");
        return Ok(targets);
    };
    let bad = |reason: String| ServeError::CityLine {
        uri: uri.to_owned(),
        reason,
    };
    let parts = parse_uri(uri).map_err(|e| bad(e.to_string()))?;
    let (host, port) = match settings.trunk_proxy.as_deref() {
        Some(proxy) => match proxy.rsplit_once(':') {
            Some((host, port)) => (
                host.trim_start_matches('[')
                    .trim_end_matches(']')
                    .to_owned(),
                port.parse::<u16>()
                    .map_err(|_| bad(format!("trunk proxy {proxy:?} has a bad port")))?,
            ),
            None => (proxy.to_owned(), 5060),
        },
        None => (parts.host.clone(), parts.port.unwrap_or(5060)),
    };
    let destination = tokio::net::lookup_host((host.as_str(), port))
        .await
        .ok()
        .and_then(|mut addrs| addrs.next())
        .ok_or_else(|| bad(format!("{host} does not resolve")))?;
    targets.insert(
        "city_line",
        TargetAddress {
            uri: uri.trim_matches(|c| c == '<' || c == '>').to_owned(),
            destination,
            transport: parts.transport,
            credentials: settings.trunk_credentials.clone(),
        },
    );
    Ok(targets)
}

/// The host written into Via/Contact and the address written into SDP `c=`. A name is
/// resolved once at start (SDP needs an address). Listening on all interfaces without a
/// public address only works for callers on this machine, so that is said loudly.
async fn public_address(
    configured: Option<&str>,
    sip_addr: SocketAddr,
) -> Result<(String, IpAddr), ServeError> {
    match configured {
        Some(host) => match host.parse::<IpAddr>() {
            Ok(ip) => Ok((host.to_owned(), ip)),
            Err(_) => {
                let resolved = tokio::net::lookup_host((host, sip_addr.port()))
                    .await
                    .ok()
                    .and_then(|mut addrs| addrs.next())
                    .ok_or_else(|| ServeError::PublicAddress {
                        host: host.to_owned(),
                    })?;
                Ok((host.to_owned(), resolved.ip()))
            }
        },
        None if sip_addr.ip().is_unspecified() => {
            tracing::warn!(
                "listening on all interfaces without --public-address: Contact and SDP say 127.0.0.1, \
                 so only callers on this machine get audio; set MADOGUCHI_PUBLIC_ADDRESS"
            );
            Ok((
                Ipv4Addr::LOCALHOST.to_string(),
                IpAddr::V4(Ipv4Addr::LOCALHOST),
            ))
        }
        None => Ok((sip_addr.ip().to_string(), sip_addr.ip())),
    }
}

fn now() -> Now {
    Now {
        mono: std::time::Instant::now(),
        wall: Utc::now(),
    }
}

async fn sleep_until_opt(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

fn terminate_signal() -> mpsc::Receiver<()> {
    let (tx, rx) = mpsc::channel(1);
    tokio::spawn(async move {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let Ok(mut term) = signal(SignalKind::terminate()) else {
                return;
            };
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        let _ = tx.send(()).await;
    });
    rx
}

/// Copies the endpoint's counters into Prometheus counters (the core keeps plain integers).
fn export_sip_stats(stats: &SipStats, exported: &mut SipStats) {
    let by_method = [
        ("in", &stats.requests_in, &exported.requests_in),
        ("out", &stats.requests_out, &exported.requests_out),
    ];
    for (direction, now, before) in by_method {
        for (method, count) in now {
            let delta = count.saturating_sub(before.get(method).copied().unwrap_or(0));
            metrics::counter!("madoguchi_sip_messages_total", "direction" => direction, "method" => method.clone()).increment(delta);
        }
    }
    let by_status = [
        ("in", &stats.responses_in, &exported.responses_in),
        ("out", &stats.responses_out, &exported.responses_out),
    ];
    for (direction, now, before) in by_status {
        for (status, count) in now {
            let delta = count.saturating_sub(before.get(status).copied().unwrap_or(0));
            metrics::counter!("madoguchi_sip_messages_total", "direction" => direction, "status" => status.to_string()).increment(delta);
        }
    }
    metrics::counter!("madoguchi_sip_parse_errors_total")
        .increment(stats.parse_errors.saturating_sub(exported.parse_errors));
    metrics::counter!("madoguchi_sip_dropped_total", "reason" => "unparseable")
        .increment(stats.dropped.saturating_sub(exported.dropped));
    metrics::counter!("madoguchi_sip_retransmissions_total").increment(
        stats
            .retransmissions
            .saturating_sub(exported.retransmissions),
    );
    for (cap, count) in &stats.refused {
        let delta = count.saturating_sub(exported.refused.get(cap).copied().unwrap_or(0));
        metrics::counter!("madoguchi_sip_refused_total", "reason" => *cap).increment(delta);
    }
    *exported = stats.clone();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(text: &str) -> SocketAddr {
        text.parse().expect("an address")
    }

    #[test]
    fn other_nodes_reach_this_one_at_the_public_address_and_sip_port_unless_told() {
        let public = IpAddr::from([192, 0, 2, 10]);
        assert_eq!(
            advertised_sip(None, addr("0.0.0.0:5070"), public),
            addr("192.0.2.10:5070")
        );
        let flag = Some(addr("198.51.100.1:5060"));
        assert_eq!(
            advertised_sip(flag, addr("0.0.0.0:5070"), public),
            addr("198.51.100.1:5060")
        );
    }

    #[test]
    fn the_web_address_is_the_http_listener_with_all_interfaces_made_the_public_host() {
        let http = |flag, listen: &str, host| advertised_http(flag, addr(listen), host);
        assert_eq!(
            http(None, "127.0.0.1:8081", "a.example"),
            "http://127.0.0.1:8081"
        );
        assert_eq!(
            http(None, "0.0.0.0:8080", "a.example"),
            "http://a.example:8080"
        );
        assert_eq!(
            http(None, "[::]:8080", "2001:db8::1"),
            "http://[2001:db8::1]:8080"
        );
        assert_eq!(
            http(Some("https://a.example/"), "0.0.0.0:8080", "x"),
            "https://a.example"
        );
    }
}
