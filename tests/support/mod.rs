//! Shared pieces of the end-to-end tests: the real binary as a child process, a minimal HTTP
//! client for its API, a test phone (SIP over UDP + RTP) that records what it hears, and a
//! headless Chromium for the browser console.

#![allow(dead_code)] // each test binary uses a different subset

pub mod browser;
pub mod center;
pub mod kamailio;
pub mod pcap;
pub mod pg;
pub mod phone;
pub mod recording_files;
pub mod sip_text;
pub mod tone;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, LazyLock, Mutex};
use std::time::{Duration, Instant};

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// How to start the engine under test.
#[derive(Default, Clone)]
pub struct Options {
    /// Start the wall clock at this UTC instant ("2026-12-30 01:00:00"), with libfaketime; the
    /// clock then runs normally. The monotonic clock stays real so timers behave.
    pub faketime_utc: Option<String>,
    pub dialplan: Option<PathBuf>,
    pub database_url: Option<String>,
    pub extra_args: Vec<String>,
    /// RUST_LOG of the engine; default `info,madoguchi=debug`.
    pub rust_log: Option<String>,
}

pub struct EngineProcess {
    child: Child,
    pub sip: SocketAddr,
    pub http: SocketAddr,
    pub dir: tempfile::TempDir,
    stderr_path: PathBuf,
    /// An API token of the admin [`TEST_ADMIN`], sent by `get`, `http_get` and `http_post`.
    pub token: String,
    /// The ready line after `madoguchi ready ` (`sip=… http=…`, `https=…` …).
    ready: String,
}

/// The admin every engine under test gets, so the helpers can call the authenticated API.
pub const TEST_ADMIN: &str = "e2e-admin";

/// The API token of the engine listening on each HTTP address, for the free functions
/// `http_get`/`http_post` that know only the address.
static TOKENS: LazyLock<Mutex<HashMap<SocketAddr, String>>> = LazyLock::new(Mutex::default);

fn token_for(addr: SocketAddr) -> Option<String> {
    TOKENS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(&addr)
        .cloned()
}

/// Adds the counter device `id` (label 窓口1タブレット, location 本庁舎1階, then the
/// `device add` arguments `more`) to the database at `database_url` with the CLI; its token.
pub fn add_counter_device(database_url: &str, id: &str, more: &[&str]) -> String {
    let mut args = vec![
        "device",
        "add",
        id,
        "--label",
        "窓口1タブレット",
        "--location",
        "本庁舎1階",
        "--database-url",
        database_url,
    ];
    args.extend_from_slice(more);
    let (code, stdout, stderr) = madoguchi_cli(&args, "");
    assert_eq!(code, 0, "device add: {stderr}");
    stdout.trim().to_owned()
}

/// Runs the madoguchi CLI with `stdin`; returns (exit code, stdout, stderr).
pub fn madoguchi_cli(args: &[&str], stdin: &str) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_madoguchi"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run madoguchi");
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    let output = child.wait_with_output().expect("madoguchi finishes");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// `madoguchi user add` (the password on standard input); a login that exists already is
/// fine (a center restarts its engine on the same database).
pub fn ensure_user(database_url: &str, login: &str, role: &str, password: &str) {
    let (code, _, stderr) = madoguchi_cli(
        &[
            "user",
            "add",
            "--login",
            login,
            "--role",
            role,
            "--password-stdin",
            "--database-url",
            database_url,
        ],
        &format!("{password}\n"),
    );
    assert!(
        code == 0 || stderr.contains("exists already"),
        "user add {login}: {stderr}"
    );
}

/// `madoguchi token create --login LOGIN`: the token it prints.
pub fn create_token(database_url: &str, login: &str) -> String {
    let (code, stdout, stderr) = madoguchi_cli(
        &[
            "token",
            "create",
            "--login",
            login,
            "--database-url",
            database_url,
        ],
        "",
    );
    assert_eq!(code, 0, "token create {login}: {stderr}");
    stdout.trim().to_owned()
}

impl EngineProcess {
    pub fn start(options: Options) -> EngineProcess {
        let dir = tempfile::tempdir().expect("temp dir");
        let stderr_path = dir.path().join("engine.log");
        let stderr = std::fs::File::create(&stderr_path).expect("log file");
        let binary = env!("CARGO_BIN_EXE_madoguchi");
        // libfaketime is preloaded directly (not through the `faketime` wrapper, which would
        // stand between the test and the engine and swallow SIGTERM).
        let mut command = Command::new(binary);
        if let Some(at) = &options.faketime_utc {
            command
                .env("LD_PRELOAD", libfaketime())
                .env("FAKETIME", format!("@{at}"))
                .env("TZ", "UTC")
                .env("FAKETIME_DONT_FAKE_MONOTONIC", "1")
                .env("FAKETIME_DONT_RESET", "1");
        }
        let database = options
            .database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", dir.path().join("calls.db").display()));
        let dialplan = options
            .dialplan
            .clone()
            .unwrap_or_else(|| repo_root().join("dialplans/zama.toml"));
        ensure_user(&database, TEST_ADMIN, "admin", "e2e-admin-password");
        let token = create_token(&database, TEST_ADMIN);
        command.arg("serve");
        // Free ports unless the test chose them (nodes that must know each other's address).
        for flag in ["--sip-listen", "--http-listen"] {
            if !options.extra_args.iter().any(|arg| arg == flag) {
                command.args([flag, "127.0.0.1:0"]);
            }
        }
        command
            .arg("--database-url")
            .arg(database)
            .arg("--dialplan")
            .arg(dialplan)
            .args(["--rtp-ports", "30000-39999"])
            .args(&options.extra_args)
            .env(
                "RUST_LOG",
                options
                    .rust_log
                    .as_deref()
                    .unwrap_or("info,madoguchi=debug"),
            )
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr);
        let mut child = command
            .spawn()
            .expect("start madoguchi (is faketime installed?)");
        let stdout = child.stdout.take().expect("piped stdout");
        let (ready_tx, ready_rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(rest) = line.strip_prefix("madoguchi ready ") {
                    let _ = ready_tx.send(rest.to_owned());
                }
            }
        });
        let ready = match ready_rx.recv_timeout(Duration::from_secs(60)) {
            Ok(line) => line,
            Err(_) => {
                let _ = child.kill();
                panic!(
                    "engine did not become ready; its log:\n{}",
                    std::fs::read_to_string(&stderr_path).unwrap_or_default()
                );
            }
        };
        let field = |name: &str| -> SocketAddr {
            ready
                .split_whitespace()
                .find_map(|part| part.strip_prefix(name))
                .and_then(|addr| addr.parse().ok())
                .unwrap_or_else(|| panic!("ready line without {name}: {ready}"))
        };
        let http = field("http=");
        TOKENS
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(http, token.clone());
        EngineProcess {
            sip: field("sip="),
            http,
            child,
            dir,
            stderr_path,
            token,
            ready,
        }
    }

    /// The address the ready line gives for `name` (`https`, `sip_tls` …), if any.
    pub fn listening(&self, name: &str) -> Option<SocketAddr> {
        let prefix = format!("{name}=");
        self.ready
            .split_whitespace()
            .find_map(|part| part.strip_prefix(prefix.as_str()))
            .and_then(|addr| addr.parse().ok())
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL (a crash) and wait for the process to be gone.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM and wait; returns the exit code.
    pub fn terminate(&mut self) -> Option<i32> {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(40);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// GET on the engine's HTTP port.
    pub fn get(&self, path: &str) -> (u16, String) {
        http_get(self.http, path)
    }

    /// Polls the call API until the record whose inbound SIP Call-ID is `sip_call_id` is
    /// there (records are written when calls end, asynchronously); that record.
    pub fn record_of(&self, sip_call_id: &str) -> serde_json::Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let calls = self.wait_for_calls(1);
            let found = calls["calls"]
                .as_array()
                .and_then(|calls| calls.iter().find(|c| c["sip_call_id"] == sip_call_id))
                .cloned();
            if let Some(found) = found {
                return found;
            }
            assert!(
                Instant::now() < deadline,
                "no record of {sip_call_id}: {calls}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Polls the call API until `count` records exist (records are written asynchronously).
    pub fn wait_for_calls(&self, count: usize) -> serde_json::Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let (status, body) = self.get("/api/v1/calls?per_page=500");
            if status == 200 {
                let value: serde_json::Value = serde_json::from_str(&body).expect("json");
                if value["calls"].as_array().map_or(0, Vec::len) >= count {
                    return value;
                }
            }
            assert!(
                Instant::now() < deadline,
                "expected {count} call records, API said {status} {body}\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for EngineProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        TOKENS
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&self.http);
    }
}

/// GET, authenticated as the test admin of the engine at `addr`.
pub fn http_get(addr: SocketAddr, path: &str) -> (u16, String) {
    http_request(addr, "GET", path, None)
}

/// POST with a JSON body, authenticated as the test admin of the engine at `addr`.
pub fn http_post(addr: SocketAddr, path: &str, json: &str) -> (u16, String) {
    http_request(addr, "POST", path, Some(json))
}

fn http_request(addr: SocketAddr, method: &str, path: &str, json: Option<&str>) -> (u16, String) {
    let authorization = token_for(addr).map(|token| format!("Bearer {token}"));
    let headers: Vec<(&str, &str)> = authorization
        .as_deref()
        .map(|value| ("Authorization", value))
        .into_iter()
        .collect();
    let response = request(addr, method, path, &headers, json);
    (response.status, response.body)
}

/// An HTTP response as [`request`] returns it.
#[derive(Debug)]
pub struct HttpResponse {
    pub status: u16,
    /// Header lines as (lower-case name, value).
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl HttpResponse {
    /// The first value of header `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", self.status, self.body))
    }
}

/// One HTTP/1.1 request with the `headers` given (no automatic token) and an optional JSON
/// body. Like a browser on one of the engine's own pages it sends `Origin: http://ADDR`
/// unless `headers` name an Origin or Referer (the engine's CSRF check wants one on
/// state-changing requests with a session cookie).
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    json: Option<&str>,
) -> HttpResponse {
    let mut stream = TcpStream::connect(addr).expect("connect http");
    stream.set_read_timeout(Some(Duration::from_secs(10))).ok();
    let mut extra: String = headers
        .iter()
        .map(|(name, value)| format!("{name}: {value}\r\n"))
        .collect();
    let names_origin = headers.iter().any(|(name, _)| {
        name.eq_ignore_ascii_case("origin") || name.eq_ignore_ascii_case("referer")
    });
    if !names_origin {
        extra.push_str(&format!("Origin: http://{addr}\r\n"));
    }
    let body = match json {
        Some(json) => format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{json}",
            json.len()
        ),
        None => "\r\n".to_owned(),
    };
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{extra}{body}"
    )
    .expect("send http");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read http");
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    let (head, body) = response
        .split_once("\r\n\r\n")
        .map(|(head, body)| (head.to_owned(), body.to_owned()))
        .unwrap_or_default();
    let headers = head
        .lines()
        .skip(1)
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    HttpResponse {
        status,
        headers,
        body: dechunk(&body),
    }
}

/// axum answers `Connection: close` requests with a plain body or chunks; handle both.
fn dechunk(body: &str) -> String {
    let looks_chunked = body
        .lines()
        .next()
        .is_some_and(|line| !line.is_empty() && line.chars().all(|c| c.is_ascii_hexdigit()));
    if !looks_chunked {
        return body.to_owned();
    }
    let mut out = String::new();
    let mut rest = body;
    while let Some((size, tail)) = rest.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if size == 0 || tail.len() < size {
            break;
        }
        out.push_str(&tail[..size]);
        rest = tail[size..].trim_start_matches("\r\n");
    }
    out
}

/// Runs sipp with a scenario from tests/sipp against the engine; returns (exit code, output).
pub fn sipp(scenario: &str, target: SocketAddr, args: &[&str]) -> (i32, String) {
    sipp_on(scenario, target, free_udp_port(), args)
}

/// [`sipp`] from a chosen local SIP port (a phone that registers, then answers on that port).
pub fn sipp_on(scenario: &str, target: SocketAddr, port: u16, args: &[&str]) -> (i32, String) {
    let scenario = repo_root().join("tests/sipp").join(scenario);
    let dir = tempfile::tempdir().expect("temp dir");
    let media = free_media_ports();
    let output = Command::new("sipp")
        .arg(target.to_string())
        .arg("-sf")
        .arg(&scenario)
        .args(["-i", "127.0.0.1", "-nostdin", "-timeout", "60s"])
        .args(["-p", &port.to_string(), "-mp", &media.to_string()])
        .args(["-trace_err", "-error_file"])
        .arg(dir.path().join("errors.log"))
        .args(args)
        .current_dir(dir.path())
        .output()
        .expect("run sipp (is sip-tester installed?)");
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    text.push_str(&std::fs::read_to_string(dir.path().join("errors.log")).unwrap_or_default());
    (output.status.code().unwrap_or(-1), text)
}

pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A UDP port free right now (sipp needs an explicit one; never 5060).
pub fn free_udp_port() -> u16 {
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    socket.local_addr().expect("addr").port()
}

/// A base port for sipp's media (`-mp`): sipp binds audio RTP there and video RTP two above,
/// so all four ports from it must be free right now, not only the first (a busy `+2` made
/// sipp exit before sending anything).
pub fn free_media_ports() -> u16 {
    for _ in 0..100 {
        let base = free_udp_port();
        let Some(last) = base.checked_add(3) else {
            continue;
        };
        let held: Vec<_> = (base..=last)
            .map_while(|port| std::net::UdpSocket::bind(("127.0.0.1", port)).ok())
            .collect();
        if held.len() == 4 {
            return base;
        }
    }
    panic!("no four consecutive free UDP ports on 127.0.0.1 after 100 tries");
}

/// The multi-threaded libfaketime from Debian's package (the engine runs many threads).
fn libfaketime() -> PathBuf {
    let candidates = [
        "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1",
        "/usr/lib/aarch64-linux-gnu/faketime/libfaketimeMT.so.1",
        "/usr/lib/faketime/libfaketimeMT.so.1",
    ];
    candidates
        .iter()
        .map(PathBuf::from)
        .find(|path| path.exists())
        .expect("libfaketime is installed (scripts/test.sh installs the faketime package)")
}

/// Polls `check` every 50 ms until it holds; fails naming `what` once `limit` passes.
pub async fn eventually(what: &str, limit: Duration, mut check: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !check().await {
        assert!(
            Instant::now() < deadline,
            "{what} did not happen within {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
