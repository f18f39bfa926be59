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
    /// Outbound proxy for calls to the city line (HOST:PORT).
    pub trunk_proxy: Option<String>,
    /// Digest credentials for the trunk.
    pub trunk_credentials: Option<(String, String)>,
    pub sip_realm: String,
    /// Challenge order of REGISTER digests.
    pub sip_digest: Vec<DigestAlgorithm>,
    /// Worker threads of the media runtime.
    pub media_threads: u16,
    /// The session cookie is always marked Secure.
    pub secure_cookies: bool,
    /// What the manager's board counts as answered in time and as a short abandon.
    pub service_level: crate::engine::board::ServiceLevelSettings,
    /// The folder call recordings are written to; the recordings table names files
    /// relative to it.
    pub recordings_dir: PathBuf,
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
    trunk_proxy: Option<String>,
    trunk_username: Option<String>,
    trunk_password: Option<String>,
    sip_realm: Option<String>,
    sip_digest: Option<String>,
    media_threads: Option<u16>,
    secure_cookies: Option<bool>,
    service_level_seconds: Option<u64>,
    short_abandon_seconds: Option<u64>,
    recordings_dir: Option<PathBuf>,
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
            public_address: args.public_address.clone().or(file.public_address),
            rtp_ports: parse_port_range(&rtp_ports)?,
            city_line: args.city_line.clone().or(file.city_line),
            node_id: args
                .node_id
                .clone()
                .or(file.node_id)
                .unwrap_or_else(|| "node1".to_owned()),
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
            recordings_dir,
        })
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
    fn zero_media_threads_is_refused() {
        assert!(settings(&["--media-threads", "0"]).is_err());
    }
}
