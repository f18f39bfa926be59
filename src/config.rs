//! Settings of a running engine: flags and environment over an optional TOML file over defaults.
//!
//! The dialplan says *what* a call gets; these settings say *where* this deployment lives
//! (addresses, ports, the city line's URI). A site changes these, never the dialplan.

use std::net::SocketAddr;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};

use madoguchi_sip::DigestAlgorithm;
use serde::Deserialize;

use crate::cli::{ServeArgs, DEFAULT_DATABASE_URL, DEFAULT_DIALPLAN};

#[derive(Debug, Clone)]
pub struct Settings {
    pub sip_listen: SocketAddr,
    pub http_listen: SocketAddr,
    pub database_url: String,
    pub dialplan: PathBuf,
    /// Host written into Via, Contact and SDP; `None` means the SIP listen address
    /// (or 127.0.0.1 when listening on all interfaces).
    pub public_address: Option<String>,
    pub rtp_ports: RangeInclusive<u16>,
    pub city_line: Option<String>,
    pub node_id: String,
    /// Where other nodes send SIP to this one; `None`: the public address and SIP port.
    pub advertise_sip: Option<SocketAddr>,
    /// This node's web address for consoles failing over; `None`: from the HTTP listener.
    pub advertise_http: Option<String>,
    /// Another node silent this long (database clock) is dead (PostgreSQL clusters).
    pub cluster_dead_after: std::time::Duration,
    /// Outbound proxy for calls to the city line (HOST:PORT).
    pub trunk_proxy: Option<String>,
    /// Digest credentials for the trunk.
    pub trunk_credentials: Option<(String, String)>,
    pub sip_realm: String,
    /// Challenge order of REGISTER digests.
    pub sip_digest: Vec<DigestAlgorithm>,
    /// When callers get reliable provisional responses (`--prack`).
    pub prack: madoguchi_sip::PrackPolicy,
    /// Rate limits, blocks and caps against floods and scanners (`sip_limits.rs`).
    pub sip_limits: crate::sip_limits::SipLimits,
    /// Worker threads of the media runtime.
    pub media_threads: u16,
    /// The session cookie is always marked Secure.
    pub secure_cookies: bool,
    /// What the manager's board counts as answered in time and as a short abandon.
    pub service_level: crate::engine::board::ServiceLevelSettings,
    /// The folder call recordings are written to; the recordings table names files
    /// relative to it.
    pub recordings_dir: PathBuf,
    /// Where call records wait on local disk while the database is away.
    pub spool_dir: PathBuf,
    /// How long residents' personal data and audit entries are kept.
    pub retention: madoguchi_store::RetentionPolicy,
    /// How long calls in progress may go on after SIGTERM.
    pub drain_limit: std::time::Duration,
    /// HTTPS listen address (the same router as plain HTTP).
    pub https_listen: Option<SocketAddr>,
    /// SIP-over-TLS listen address.
    pub sip_tls_listen: Option<SocketAddr>,
    /// The certificate of HTTPS and SIP over TLS; `Some` when either listens.
    pub tls: Option<crate::net::tls::CertificateSource>,
    /// Origins besides the request's Host allowed to send the API state-changing requests
    /// with a session and to open the WebSockets.
    pub web_origins: crate::web::TrustedOrigins,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{file}: {source}")]
    Read {
        file: PathBuf,
        source: std::io::Error,
    },
    #[error("{file}: {source}")]
    Parse {
        file: PathBuf,
        source: Box<toml::de::Error>,
    },
    #[error("rtp port range {0:?}: expected FIRST-LAST with 1024 <= FIRST < LAST")]
    RtpPorts(String),
    #[error("sip digest {0:?}: expected a comma-separated list of SHA-256 and MD5")]
    SipDigest(String),
    #[error("prack {0:?}: expected required or supported")]
    Prack(String),
    #[error(transparent)]
    Retention(#[from] madoguchi_store::RetentionPolicyError),
    #[error("sip trusted networks: {0}")]
    TrustedNetwork(#[from] madoguchi_sip::guard::BadNetwork),
    #[error("{0}")]
    Tls(&'static str),
    #[error("{0}")]
    WebOrigin(String),
    #[error("advertise http {0:?}: expected http://host[:port] or https://host[:port]")]
    AdvertiseHttp(String),
}

/// The optional settings file; every key is optional and named like the flag.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct FileSettings {
    sip_listen: Option<SocketAddr>,
    http_listen: Option<SocketAddr>,
    database_url: Option<String>,
    dialplan: Option<PathBuf>,
    public_address: Option<String>,
    rtp_ports: Option<String>,
    city_line: Option<String>,
    node_id: Option<String>,
    advertise_sip: Option<SocketAddr>,
    advertise_http: Option<String>,
    cluster_dead_after_seconds: Option<u64>,
    trunk_proxy: Option<String>,
    trunk_username: Option<String>,
    trunk_password: Option<String>,
    sip_realm: Option<String>,
    sip_digest: Option<String>,
    prack: Option<String>,
    sip_trusted_networks: Option<Vec<String>>,
    sip_limits: Option<crate::sip_limits::SipLimitsFile>,
    media_threads: Option<u16>,
    secure_cookies: Option<bool>,
    service_level_seconds: Option<u64>,
    short_abandon_seconds: Option<u64>,
    recordings_dir: Option<PathBuf>,
    spool_dir: Option<PathBuf>,
    retention_days: Option<u32>,
    audit_retention_days: Option<u32>,
    drain_limit_seconds: Option<u64>,
    https_listen: Option<SocketAddr>,
    sip_tls_listen: Option<SocketAddr>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    tls_self_signed: Option<bool>,
    web_origins: Option<Vec<String>>,
}

impl Settings {
    pub fn resolve(args: &ServeArgs) -> Result<Settings, ConfigError> {
        let file = match &args.config {
            Some(path) => read_file(path)?,
            None => FileSettings::default(),
        };
        let rtp_ports = args
            .rtp_ports
            .clone()
            .or(file.rtp_ports)
            .unwrap_or_else(|| "10000-20000".to_owned());
        let database_url = args
            .database_url
            .clone()
            .or(file.database_url)
            .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned());
        let recordings_dir = args
            .recordings_dir
            .clone()
            .or(file.recordings_dir)
            .unwrap_or_else(|| default_recordings_dir(&database_url));
        let retention = args
            .retention
            .policy_over(&crate::retention::RetentionArgs {
                retention_days: file.retention_days,
                audit_retention_days: file.audit_retention_days,
            })?;
        let public_address = args.public_address.clone().or(file.public_address);
        let https_listen = args.https_listen.or(file.https_listen);
        let sip_tls_listen = args.sip_tls_listen.or(file.sip_tls_listen);
        let tls = tls_source(
            args.tls_cert.clone().or(file.tls_cert),
            args.tls_key.clone().or(file.tls_key),
            args.tls_self_signed || file.tls_self_signed.unwrap_or(false),
            &recordings_dir,
            self_signed_names(public_address.as_deref(), https_listen, sip_tls_listen),
        )?;
        if tls.is_none() && (https_listen.is_some() || sip_tls_listen.is_some()) {
            return Err(ConfigError::Tls(
                "--https-listen and --sip-tls-listen need --tls-cert and --tls-key, \
                 or --tls-self-signed",
            ));
        }
        let web_origins = if args.web_origin.is_empty() {
            file.web_origins.unwrap_or_default()
        } else {
            args.web_origin.clone()
        };
        let web_origins =
            crate::web::TrustedOrigins::parse(&web_origins).map_err(ConfigError::WebOrigin)?;
        let trusted = if args.sip_trusted_networks.is_empty() {
            file.sip_trusted_networks.unwrap_or_default()
        } else {
            args.sip_trusted_networks.clone()
        };
        let trusted = trusted
            .iter()
            .map(|net| net.parse())
            .collect::<Result<Vec<_>, _>>()?;
        let sip_limits = crate::sip_limits::SipLimits::resolve(file.sip_limits, trusted);
        let advertise_http = args.advertise_http.clone().or(file.advertise_http);
        if let Some(url) = &advertise_http {
            if !is_web_address(url) {
                return Err(ConfigError::AdvertiseHttp(url.clone()));
            }
        }
        Ok(Settings {
            sip_listen: args
                .sip_listen
                .or(file.sip_listen)
                .unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], 5060))),
            http_listen: args
                .http_listen
                .or(file.http_listen)
                .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080))),
            database_url,
            dialplan: args
                .dialplan
                .clone()
                .or(file.dialplan)
                .unwrap_or_else(|| PathBuf::from(DEFAULT_DIALPLAN)),
            public_address,
            rtp_ports: parse_port_range(&rtp_ports)?,
            city_line: args.city_line.clone().or(file.city_line),
            node_id: args
                .node_id
                .clone()
                .or(file.node_id)
                .unwrap_or_else(|| "node1".to_owned()),
            advertise_sip: args.advertise_sip.or(file.advertise_sip),
            advertise_http,
            cluster_dead_after: std::time::Duration::from_secs(
                args.cluster_dead_after_seconds
                    .or(file.cluster_dead_after_seconds)
                    .unwrap_or(6)
                    .clamp(3, 3600),
            ),
            trunk_proxy: args.trunk_proxy.clone().or(file.trunk_proxy),
            trunk_credentials: args
                .trunk_username
                .clone()
                .or(file.trunk_username)
                .zip(args.trunk_password.clone().or(file.trunk_password)),
            sip_realm: args
                .sip_realm
                .clone()
                .or(file.sip_realm)
                .unwrap_or_else(|| "madoguchi".to_owned()),
            sip_digest: parse_digest(
                args.sip_digest
                    .as_deref()
                    .or(file.sip_digest.as_deref())
                    .unwrap_or("SHA-256,MD5"),
            )?,
            prack: parse_prack(args.prack.as_deref().or(file.prack.as_deref()))?,
            sip_limits,
            media_threads: args
                .media_threads
                .or(file.media_threads)
                .unwrap_or(1)
                .clamp(1, 64),
            secure_cookies: args.secure_cookies || file.secure_cookies.unwrap_or(false),
            service_level: crate::engine::board::ServiceLevelSettings {
                threshold: std::time::Duration::from_secs(
                    args.service_level_seconds
                        .or(file.service_level_seconds)
                        .unwrap_or(20),
                ),
                short_abandon: std::time::Duration::from_secs(
                    args.short_abandon_seconds
                        .or(file.short_abandon_seconds)
                        .unwrap_or(5),
                ),
            },
            spool_dir: args
                .spool_dir
                .clone()
                .or(file.spool_dir)
                .unwrap_or_else(|| recordings_dir.with_file_name("spool")),
            recordings_dir,
            retention,
            drain_limit: std::time::Duration::from_secs(
                args.drain_limit_seconds
                    .or(file.drain_limit_seconds)
                    .unwrap_or(30),
            ),
            https_listen,
            sip_tls_listen,
            tls,
            web_origins,
        })
    }
}

/// `--prack`: the flag's values are checked by clap, the settings file's here.
fn parse_prack(value: Option<&str>) -> Result<madoguchi_sip::PrackPolicy, ConfigError> {
    match value {
        None | Some("required") => Ok(madoguchi_sip::PrackPolicy::WhenRequired),
        Some("supported") => Ok(madoguchi_sip::PrackPolicy::WhenSupported),
        Some(other) => Err(ConfigError::Prack(other.to_owned())),
    }
}

/// `http://host[:port]` or `https://…`, with a host and nothing after it but a `/`.
fn is_web_address(url: &str) -> bool {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"));
    match rest.map(|r| r.strip_suffix('/').unwrap_or(r)) {
        Some(host) => !host.is_empty() && !host.contains(['/', '?', '#', ' ', '@']),
        None => false,
    }
}

fn self_signed_names(
    public_address: Option<&str>,
    https: Option<SocketAddr>,
    sip_tls: Option<SocketAddr>,
) -> Vec<String> {
    let listen: Vec<SocketAddr> = https.into_iter().chain(sip_tls).collect();
    crate::net::tls::self_signed_names(public_address, &listen)
}

/// The certificate files: the site's own, or the self-signed one's (kept next to the
/// SQLite file, where the recordings folder's parent is, unless named).
fn tls_source(
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
    self_signed: bool,
    recordings_dir: &Path,
    names: Vec<String>,
) -> Result<Option<crate::net::tls::CertificateSource>, ConfigError> {
    use crate::net::tls::CertificateSource;
    if self_signed {
        let folder = recordings_dir.parent().unwrap_or(Path::new(""));
        return Ok(Some(CertificateSource::SelfSigned {
            cert: cert.unwrap_or_else(|| folder.join("tls-cert.pem")),
            key: key.unwrap_or_else(|| folder.join("tls-key.pem")),
            names,
        }));
    }
    match (cert, key) {
        (Some(cert), Some(key)) => Ok(Some(CertificateSource::Files { cert, key })),
        (None, None) => Ok(None),
        _ => Err(ConfigError::Tls(
            "--tls-cert and --tls-key go together (or use --tls-self-signed)",
        )),
    }
}

/// `recordings` next to the database file of a `sqlite:` URL; `./recordings` for an
/// in-memory SQLite or PostgreSQL (whose server may be another machine).
pub fn default_recordings_dir(database_url: &str) -> PathBuf {
    let fallback = || PathBuf::from("recordings");
    let Some(rest) = database_url.strip_prefix("sqlite:") else {
        return fallback();
    };
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let path = rest.split('?').next().unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        return fallback();
    }
    match Path::new(path).parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.join("recordings"),
        _ => fallback(),
    }
}

fn read_file(path: &Path) -> Result<FileSettings, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        file: path.to_owned(),
        source,
    })?;
    toml::from_str(&text).map_err(|source| ConfigError::Parse {
        file: path.to_owned(),
        source: Box::new(source),
    })
}

pub fn parse_digest(text: &str) -> Result<Vec<DigestAlgorithm>, ConfigError> {
    let algorithms = text
        .split(',')
        .map(|t| DigestAlgorithm::from_token(t.trim()))
        .collect::<Option<Vec<_>>>()
        .filter(|list| !list.is_empty())
        .ok_or_else(|| ConfigError::SipDigest(text.to_owned()))?;
    Ok(algorithms)
}

pub fn parse_port_range(text: &str) -> Result<RangeInclusive<u16>, ConfigError> {
    let bad = || ConfigError::RtpPorts(text.to_owned());
    let (first, last) = text.split_once('-').ok_or_else(bad)?;
    let first: u16 = first.trim().parse().map_err(|_| bad())?;
    let last: u16 = last.trim().parse().map_err(|_| bad())?;
    if first < 1024 || first >= last {
        return Err(bad());
    }
    Ok(first..=last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_order_is_read_from_a_comma_list() {
        assert_eq!(
            parse_digest("MD5, SHA-256").ok(),
            Some(vec![DigestAlgorithm::Md5, DigestAlgorithm::Sha256])
        );
        assert!(parse_digest("SHA-512").is_err());
        assert!(parse_digest("").is_err());
    }

    #[test]
    fn recordings_default_to_the_folder_of_the_sqlite_file() {
        let dir = |url: &str| default_recordings_dir(url);
        assert_eq!(
            dir("sqlite:///var/lib/madoguchi/madoguchi.db"),
            PathBuf::from("/var/lib/madoguchi/recordings")
        );
        assert_eq!(
            dir("sqlite://data/calls.db?mode=rwc"),
            PathBuf::from("data/recordings")
        );
        assert_eq!(dir("sqlite://madoguchi.db"), PathBuf::from("recordings"));
        assert_eq!(dir("sqlite::memory:"), PathBuf::from("recordings"));
        assert_eq!(
            dir("postgres://db.example/madoguchi"),
            PathBuf::from("recordings")
        );
    }

    #[test]
    fn port_range_parses_first_and_last() {
        assert_eq!(parse_port_range("10000-10010").ok(), Some(10000..=10010));
    }

    #[test]
    fn port_range_rejects_reversed_and_privileged_ranges() {
        assert!(parse_port_range("2000-1500").is_err());
        assert!(parse_port_range("80-90").is_err());
        assert!(parse_port_range("10000").is_err());
    }
}

#[cfg(test)]
mod media_threads {
    use clap::Parser;

    use super::Settings;
    use crate::cli::{Cli, Command};

    fn settings(args: &[&str]) -> Result<Settings, String> {
        let cli = Cli::try_parse_from(["madoguchi", "serve"].iter().chain(args))
            .map_err(|e| e.to_string())?;
        let Command::Serve(serve) = cli.command else {
            return Err("not serve".to_owned());
        };
        Settings::resolve(&serve).map_err(|e| e.to_string())
    }

    #[test]
    fn one_media_thread_by_default_and_the_flag_sets_more() {
        assert_eq!(settings(&[]).map(|s| s.media_threads), Ok(1));
        assert_eq!(
            settings(&["--media-threads", "3"]).map(|s| s.media_threads),
            Ok(3)
        );
    }

    #[test]
    fn prack_is_used_when_required_by_default_and_when_supported_if_asked() {
        use madoguchi_sip::PrackPolicy;
        assert_eq!(
            settings(&[]).map(|s| s.prack),
            Ok(PrackPolicy::WhenRequired)
        );
        assert_eq!(
            settings(&["--prack", "supported"]).map(|s| s.prack),
            Ok(PrackPolicy::WhenSupported)
        );
        assert!(settings(&["--prack", "always"]).is_err());
    }

    #[test]
    fn cookies_are_marked_secure_only_when_asked() {
        assert_eq!(settings(&[]).map(|s| s.secure_cookies), Ok(false));
        assert_eq!(
            settings(&["--secure-cookies"]).map(|s| s.secure_cookies),
            Ok(true)
        );
    }

    #[test]
    fn the_recordings_folder_follows_the_database_unless_set() {
        assert_eq!(
            settings(&["--database-url", "sqlite:///srv/m/calls.db"]).map(|s| s.recordings_dir),
            Ok(std::path::PathBuf::from("/srv/m/recordings"))
        );
        assert_eq!(
            settings(&["--recordings-dir", "/mnt/rec"]).map(|s| s.recordings_dir),
            Ok(std::path::PathBuf::from("/mnt/rec"))
        );
    }

    #[test]
    fn the_record_spool_sits_beside_the_recordings_folder_unless_set() {
        assert_eq!(
            settings(&["--database-url", "sqlite:///srv/m/calls.db"]).map(|s| s.spool_dir),
            Ok(std::path::PathBuf::from("/srv/m/spool"))
        );
        assert_eq!(
            settings(&["--database-url", "postgres://db/calls"]).map(|s| s.spool_dir),
            Ok(std::path::PathBuf::from("spool"))
        );
        assert_eq!(
            settings(&["--spool-dir", "/var/spool/madoguchi"]).map(|s| s.spool_dir),
            Ok(std::path::PathBuf::from("/var/spool/madoguchi"))
        );
    }

    #[test]
    fn calls_may_drain_for_30_seconds_unless_the_flag_says_otherwise() {
        let limit = |args: &[&str]| settings(args).map(|s| s.drain_limit.as_secs());
        assert_eq!(limit(&[]), Ok(30));
        assert_eq!(limit(&["--drain-limit-seconds", "2"]), Ok(2));
    }

    #[test]
    fn a_tls_listener_needs_a_certificate() {
        assert!(settings(&["--https-listen", "127.0.0.1:8443"]).is_err());
        assert!(settings(&["--sip-tls-listen", "127.0.0.1:5061", "--tls-cert", "c.pem"]).is_err());
        let self_signed = settings(&[
            "--database-url",
            "sqlite:///srv/m/calls.db",
            "--https-listen",
            "127.0.0.1:8443",
            "--tls-self-signed",
        ]);
        let Ok(Some(crate::net::tls::CertificateSource::SelfSigned { cert, .. })) =
            self_signed.map(|s| s.tls)
        else {
            panic!("a self-signed certificate source");
        };
        assert_eq!(cert, std::path::PathBuf::from("/srv/m/tls-cert.pem"));
    }

    #[test]
    fn a_web_origin_must_be_an_origin() {
        assert!(settings(&["--web-origin", "https://a.example,https://b.example:8443"]).is_ok());
        assert!(settings(&["--web-origin", "a.example"]).is_err());
    }

    #[test]
    fn other_nodes_count_a_node_dead_after_6_seconds_unless_set() {
        let dead_after = |args: &[&str]| settings(args).map(|s| s.cluster_dead_after.as_secs());
        assert_eq!(dead_after(&[]), Ok(6));
        assert_eq!(dead_after(&["--cluster-dead-after-seconds", "10"]), Ok(10));
        assert!(dead_after(&["--cluster-dead-after-seconds", "1"]).is_err());
    }

    #[test]
    fn advertised_addresses_are_read_and_default_to_none() {
        let s = settings(&[]).map(|s| (s.advertise_sip, s.advertise_http));
        assert_eq!(s, Ok((None, None)));
        let s = settings(&[
            "--advertise-sip",
            "192.0.2.10:5060",
            "--advertise-http",
            "https://a.example:8443",
        ])
        .map(|s| (s.advertise_sip, s.advertise_http));
        assert_eq!(
            s,
            Ok((
                Some("192.0.2.10:5060".parse().expect("an address")),
                Some("https://a.example:8443".to_owned())
            ))
        );
    }

    #[test]
    fn an_advertised_web_address_must_be_an_http_origin() {
        assert!(settings(&["--advertise-http", "a.example:8080"]).is_err());
        assert!(settings(&["--advertise-http", "http://a.example/x"]).is_err());
        assert!(settings(&["--advertise-http", "http://127.0.0.1:8080/"]).is_ok());
    }

    #[test]
    fn zero_media_threads_is_refused() {
        assert!(settings(&["--media-threads", "0"]).is_err());
    }
}
