//! Command-line interface: the outside contract of ../shared/DESIGN.md.
//!
//! Every setting of `serve` can also come from the environment (MADOGUCHI_*, DATABASE_URL) so a
//! service unit or a container needs no flags. Commands that touch the store take the same
//! `--database-url` with the same default.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

pub const DEFAULT_DATABASE_URL: &str = "sqlite://madoguchi.db";
pub const DEFAULT_DIALPLAN: &str = "dialplans/zama.toml";

#[derive(Debug, Parser)]
#[command(name = "madoguchi", version, about = "Telephony contact-center engine")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the engine: SIP on UDP+TCP, RTP, HTTP API.
    Serve(Box<ServeArgs>),
    /// Validate or try out a dialplan.
    #[command(subcommand)]
    Dialplan(DialplanCommand),
    /// Print the computed Japanese national holidays of a year, one `YYYY-MM-DD<TAB>name` per line.
    Holidays { year: i32 },
    /// Manage operators and managers.
    #[command(subcommand)]
    User(UserCommand),
    /// API tokens for scripts (`Authorization: Bearer TOKEN`).
    #[command(subcommand)]
    Token(TokenCommand),
    /// The counter's devices (tablets, PCs) whose heartbeats are watched.
    #[command(subcommand)]
    Device(crate::device_cli::DeviceCommand),
    /// The FAQ operators consult during calls.
    #[command(subcommand)]
    Faq(FaqCommand),
    /// The monthly and final reports for the city, as CSV or XLSX.
    #[command(subcommand)]
    Report(crate::reports::ReportCommand),
    /// Fill a database with generated history, for trying the reports.
    #[command(subcommand)]
    Seed(crate::reports::SeedCommand),
    /// Erlang C: the fewest agents answering a share of calls within a threshold, with the
    /// service level, ASA and occupancy they give.
    Staffing(crate::staffing::StaffingArgs),
    /// Remove residents' personal data past its retention (what `serve` does daily).
    #[command(subcommand)]
    Retention(crate::retention::RetentionCommand),
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token acting as an existing user; prints it once (only its hash is kept).
    Create {
        #[arg(long)]
        login: String,
        /// What the token is for (shown nowhere but the database).
        #[arg(long)]
        label: Option<String>,
        #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
        database_url: String,
    },
    /// Revoke every API token of a user.
    Revoke {
        #[arg(long)]
        login: String,
        #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
        database_url: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum FaqCommand {
    /// Add or update entries from a UTF-8 CSV file with the header question,answer,category;
    /// an existing question gets the new answer and category. All or nothing.
    Import {
        file: PathBuf,
        #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
        database_url: String,
    },
    /// Print every entry: id, uses, active, category and question, tab-separated.
    List {
        #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
        database_url: String,
    },
    /// Publish the active entries as the next edition (初版, 第2版, …), immutable from then
    /// on; operators' search shows the latest edition.
    Publish {
        /// Why this edition (shown in its exports).
        #[arg(long)]
        note: Option<String>,
        /// The login recorded as publisher.
        #[arg(long, default_value = "cli")]
        by: String,
        #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
        database_url: String,
    },
    /// Write an edition as Markdown or XLSX, with its changes since the previous edition.
    Export {
        #[arg(long)]
        edition: i64,
        /// md or xlsx.
        #[arg(long)]
        format: String,
        #[arg(long)]
        out: PathBuf,
        /// The dialplan whose categories (labels, order) and time zone the export uses.
        #[arg(long, env = "MADOGUCHI_DIALPLAN", default_value = DEFAULT_DIALPLAN)]
        dialplan: PathBuf,
        #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
        database_url: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user; the password is read from standard input (one line).
    Add {
        #[arg(long)]
        login: String,
        /// agent, manager or admin.
        #[arg(long)]
        role: String,
        /// Read the password from standard input (required: passwords never go on the command line).
        #[arg(long, required = true)]
        password_stdin: bool,
        /// Also let this login register a SIP phone (keeps digest HA1 values for the realm).
        #[arg(long)]
        sip: bool,
        /// The SIP digest realm phones authenticate in.
        #[arg(long, env = "MADOGUCHI_SIP_REALM", default_value = "madoguchi")]
        realm: String,
        #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
        database_url: String,
    },
    /// Set the languages an operator speaks besides the default one: comma-separated codes
    /// of 2 to 8 characters of a-z, 0-9 and - (e.g. en,zh); "" clears. Audited.
    Languages {
        login: String,
        languages: String,
        #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
        database_url: String,
    },
    /// Print every user, tab-separated: login, role, sip or -, active or disabled, languages
    /// (comma-separated, - for none).
    List {
        #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
        database_url: String,
    },
}

#[derive(Debug, Args, Clone)]
pub struct ServeArgs {
    /// Optional TOML file with the same settings as the flags (flags and environment win).
    #[arg(long, env = "MADOGUCHI_CONFIG")]
    pub config: Option<PathBuf>,
    /// SIP listen address, UDP and TCP on the same port. Port 0 picks a free port.
    #[arg(long, env = "MADOGUCHI_SIP_LISTEN")]
    pub sip_listen: Option<SocketAddr>,
    /// HTTP listen address for the API, metrics and consoles.
    #[arg(long, env = "MADOGUCHI_HTTP_LISTEN")]
    pub http_listen: Option<SocketAddr>,
    /// sqlite://FILE (created and migrated on start) or postgres://…
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: Option<String>,
    /// The dialplan file.
    #[arg(long, env = "MADOGUCHI_DIALPLAN")]
    pub dialplan: Option<PathBuf>,
    /// Address written into Via/Contact/SDP, as the trunk and phones reach this engine.
    #[arg(long, env = "MADOGUCHI_PUBLIC_ADDRESS")]
    pub public_address: Option<String>,
    /// RTP port range, e.g. 10000-20000.
    #[arg(long, env = "MADOGUCHI_RTP_PORTS")]
    pub rtp_ports: Option<String>,
    /// The city office line's SIP URI (the dialplan's `city_line` target).
    #[arg(long, env = "MADOGUCHI_CITY_LINE")]
    pub city_line: Option<String>,
    /// This node's name, stored on every record.
    #[arg(long, env = "MADOGUCHI_NODE_ID")]
    pub node_id: Option<String>,
    /// Where the other nodes of a cluster send SIP to this node (ADDRESS:PORT, UDP).
    /// Default: the public address and the SIP port.
    #[arg(long, env = "MADOGUCHI_ADVERTISE_SIP")]
    pub advertise_sip: Option<SocketAddr>,
    /// This node's web address as consoles failing over reach it (http[s]://host[:port]).
    /// Default: from --http-listen, with 0.0.0.0 replaced by the public address.
    #[arg(long, env = "MADOGUCHI_ADVERTISE_HTTP")]
    pub advertise_http: Option<String>,
    /// Another node silent for this many seconds (by the database's clock) is dead: its
    /// waiting callers leave the board and its open calls are closed as interrupted (6).
    /// Keep it above 5, the time a heartbeat may take while the database is slow.
    #[arg(long, env = "MADOGUCHI_CLUSTER_DEAD_AFTER_SECONDS", value_parser = clap::value_parser!(u64).range(3..=3600))]
    pub cluster_dead_after_seconds: Option<u64>,
    /// Outbound proxy (HOST:PORT) calls to the city line are sent through; without it they
    /// go to the host of the city line's URI.
    #[arg(long, env = "MADOGUCHI_TRUNK_PROXY")]
    pub trunk_proxy: Option<String>,
    /// Digest username for a trunk that challenges our INVITEs.
    #[arg(long, env = "MADOGUCHI_TRUNK_USERNAME")]
    pub trunk_username: Option<String>,
    /// Digest password for the trunk (prefer the environment variable to the flag).
    #[arg(long, env = "MADOGUCHI_TRUNK_PASSWORD", hide_env_values = true)]
    pub trunk_password: Option<String>,
    /// Digest algorithms REGISTER challenges offer, in order: "SHA-256,MD5" (default,
    /// RFC 8760) or "MD5,SHA-256" for phones that only answer the first challenge.
    #[arg(long, env = "MADOGUCHI_SIP_DIGEST")]
    pub sip_digest: Option<String>,
    /// Digest realm phones register in (default "madoguchi"; must match `user add --realm`).
    #[arg(long, env = "MADOGUCHI_SIP_REALM")]
    pub sip_realm: Option<String>,
    /// Reliable provisional responses (100rel, PRACK; RFC 3262) to callers: "required"
    /// (default) only when the caller's INVITE requires them, "supported" whenever it
    /// supports them.
    #[arg(long, env = "MADOGUCHI_PRACK", value_parser = ["required", "supported"])]
    pub prack: Option<String>,
    /// Networks (ADDRESS or ADDRESS/PREFIX, comma-separated) never rate-limited or blocked
    /// by the flood guard, e.g. the operators' office; the trunk is always trusted.
    #[arg(long, env = "MADOGUCHI_SIP_TRUSTED_NETWORKS", value_delimiter = ',')]
    pub sip_trusted_networks: Vec<String>,
    /// Threads of the media runtime (RTP relay and prompts), kept apart from signalling,
    /// the API and the database so their bursts never delay audio. Default 1; 2 or more for
    /// several hundred bridged calls.
    #[arg(long, env = "MADOGUCHI_MEDIA_THREADS", value_parser = clap::value_parser!(u16).range(1..=64))]
    pub media_threads: Option<u16>,
    /// Mark the session cookie Secure: set it when browsers reach the engine over HTTPS (a
    /// TLS proxy in front). Without it the cookie is still Secure on requests the proxy marks
    /// with X-Forwarded-Proto: https.
    #[arg(long, env = "MADOGUCHI_SECURE_COOKIES")]
    pub secure_cookies: bool,
    /// Serve the consoles and the API over HTTPS on this address too (e.g. 0.0.0.0:8443),
    /// with --tls-cert/--tls-key or --tls-self-signed.
    #[arg(long, env = "MADOGUCHI_HTTPS_LISTEN")]
    pub https_listen: Option<SocketAddr>,
    /// SIP over TLS (phones on port 5061) on this address, with the certificate of HTTPS.
    #[arg(long, env = "MADOGUCHI_SIP_TLS_LISTEN")]
    pub sip_tls_listen: Option<SocketAddr>,
    /// PEM file of the TLS certificate chain (leaf first).
    #[arg(long, env = "MADOGUCHI_TLS_CERT")]
    pub tls_cert: Option<PathBuf>,
    /// PEM file of the certificate's private key.
    #[arg(long, env = "MADOGUCHI_TLS_KEY")]
    pub tls_key: Option<PathBuf>,
    /// Make a self-signed certificate on the first start and keep it (in --tls-cert and
    /// --tls-key, default tls-cert.pem and tls-key.pem next to the SQLite file); its
    /// SHA-256 fingerprint is logged at every start.
    #[arg(long, env = "MADOGUCHI_TLS_SELF_SIGNED")]
    pub tls_self_signed: bool,
    /// Other origins (https://name[:port], comma-separated) whose pages may use the API with
    /// a session and open the WebSockets, e.g. the public name behind a proxy that
    /// rewrites Host. The server's own Host is always allowed.
    #[arg(long, env = "MADOGUCHI_WEB_ORIGINS", value_delimiter = ',')]
    pub web_origin: Vec<String>,
    /// Service level: calls answered within this many seconds are answered in time (20).
    #[arg(long, env = "MADOGUCHI_SERVICE_LEVEL_SECONDS", value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub service_level_seconds: Option<u64>,
    /// Calls abandoned within this many seconds are left out of the service level (5).
    #[arg(long, env = "MADOGUCHI_SHORT_ABANDON_SECONDS", value_parser = clap::value_parser!(u64).range(0..=600))]
    pub short_abandon_seconds: Option<u64>,
    /// The folder call recordings are written to and played from. Default: `recordings`
    /// next to the SQLite database file, else `./recordings`.
    #[arg(long, env = "MADOGUCHI_RECORDINGS_DIR")]
    pub recordings_dir: Option<PathBuf>,
    /// The folder call records wait in (fsync'd) while the database is unreachable,
    /// written to it when it answers again. Default: `spool` beside the recordings folder.
    #[arg(long, env = "MADOGUCHI_SPOOL_DIR")]
    pub spool_dir: Option<PathBuf>,
    /// How long personal data and audit entries are kept.
    #[command(flatten)]
    pub retention: crate::retention::RetentionArgs,
    /// After SIGTERM, calls in progress may finish for this many seconds (30); those still
    /// up then are ended and recorded as interrupted.
    #[arg(long, env = "MADOGUCHI_DRAIN_LIMIT_SECONDS", value_parser = clap::value_parser!(u64).range(0..=86_400))]
    pub drain_limit_seconds: Option<u64>,
}

#[derive(Debug, Subcommand)]
pub enum DialplanCommand {
    /// Validate a dialplan; every error names the file, line and key. Exit 1 on errors.
    Check { file: PathBuf },
    /// Print what a call at an instant would get.
    Simulate {
        file: PathBuf,
        /// The instant, RFC 3339 (e.g. 2026-12-30T10:00:00+09:00).
        #[arg(long)]
        at: String,
        /// The dialled Request-URI user.
        #[arg(long, default_value = "")]
        to: String,
        #[arg(long)]
        json: bool,
    },
}
