//! A contact center under test: operators' users in a database made before the engine starts,
//! their phones as sipp processes (REGISTER with digest, then a UAS scenario on the same
//! port, since the engine rings the address a REGISTER came from), and the live queue API.

use std::io::Write;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{free_udp_port, repo_root, sipp_on, EngineProcess, Options};

/// The password `Center::with_operators` gives each login.
pub fn password(login: &str) -> String {
    format!("pw-{login}-secret")
}

/// A database with operators in it, kept across engine restarts.
pub struct Center {
    /// Holds the database file for as long as the center lives.
    _dir: tempfile::TempDir,
    pub database_url: String,
}

impl Center {
    /// Creates the agents `logins` (with SIP digest secrets) through the real CLI.
    pub fn with_operators(logins: &[&str]) -> Center {
        let dir = tempfile::tempdir().expect("temp dir");
        let database_url = format!("sqlite://{}", dir.path().join("center.db").display());
        for login in logins {
            add_operator(&database_url, login, &password(login));
        }
        Center {
            _dir: dir,
            database_url,
        }
    }

    /// The engine on this database with the queue test dialplan; MD5 is challenged first
    /// because sipp answers only the first challenge and knows no SHA-256.
    pub fn start(&self, extra_args: &[String]) -> EngineProcess {
        self.start_with(&repo_root().join("tests/dialplans/queue.toml"), extra_args)
    }

    /// The same with another dialplan (a variant of the queue test dialplan).
    pub fn start_with(&self, dialplan: &std::path::Path, extra_args: &[String]) -> EngineProcess {
        let mut args = vec!["--sip-digest".to_owned(), "MD5,SHA-256".to_owned()];
        args.extend_from_slice(extra_args);
        EngineProcess::start(Options {
            dialplan: Some(dialplan.to_owned()),
            database_url: Some(self.database_url.clone()),
            extra_args: args,
            ..Options::default()
        })
    }
}

/// `madoguchi user add --login L --role agent --password-stdin --sip`.
pub fn add_operator(database_url: &str, login: &str, password: &str) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_madoguchi"))
        .args(["user", "add", "--login", login, "--role", "agent"])
        .args(["--password-stdin", "--sip", "--database-url", database_url])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run madoguchi user add");
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(format!("{password}\n").as_bytes())
        .expect("password to stdin");
    let output = child.wait_with_output().expect("user add finishes");
    assert!(
        output.status.success(),
        "user add {login}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Registers `login`'s phone from `port` with `password`, running `scenario`
/// (register.xml expects 200; others expect what their name says). Returns sipp's result.
pub fn register_with(
    engine: &EngineProcess,
    scenario: &str,
    login: &str,
    password: &str,
    port: u16,
) -> (i32, String) {
    sipp_on(
        scenario,
        engine.sip,
        port,
        &["-s", login, "-au", login, "-ap", password, "-m", "1"],
    )
}

/// Registers `login`'s phone with the right password; returns the phone's SIP port.
pub fn register(engine: &EngineProcess, login: &str) -> u16 {
    let port = free_udp_port();
    let (code, output) = register_with(engine, "register.xml", login, &password(login), port);
    assert_eq!(code, 0, "{login} registers:\n{output}\n{}", engine.log());
    port
}

/// A sipp running in the background (a phone waiting for calls); killed when dropped.
pub struct SippProcess {
    child: Child,
    pub dir: tempfile::TempDir,
    pub port: u16,
    pub media_port: u16,
    exit: Option<i32>,
}

impl SippProcess {
    /// Starts `scenario` on local SIP `port` (and a free media port) with `dir` as its working
    /// directory (files a scenario plays are looked up there); returns once both ports are
    /// bound, so a call placed next finds it listening.
    pub fn spawn(
        scenario: &str,
        target: Option<SocketAddr>,
        port: u16,
        dir: tempfile::TempDir,
        args: &[&str],
    ) -> SippProcess {
        let media_port = super::free_media_ports();
        let mut command = Command::new("sipp");
        if let Some(target) = target {
            command.arg(target.to_string());
        }
        let child = command
            .arg("-sf")
            .arg(repo_root().join("tests/sipp").join(scenario))
            .args(["-i", "127.0.0.1", "-nostdin", "-timeout", "90s"])
            .args(["-p", &port.to_string(), "-mp", &media_port.to_string()])
            .args(["-trace_err", "-error_file"])
            .arg(dir.path().join("errors.log"))
            .args(args)
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::from(
                std::fs::File::create(dir.path().join("stdout.log")).expect("sipp log"),
            ))
            .stderr(Stdio::from(
                std::fs::File::create(dir.path().join("stderr.log")).expect("sipp log"),
            ))
            .spawn()
            .expect("run sipp (is sip-tester installed?)");
        let mut sipp = SippProcess {
            child,
            dir,
            port,
            media_port,
            exit: None,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while !(udp_bound(port) && udp_bound(media_port)) {
            if let Ok(Some(status)) = sipp.child.try_wait() {
                panic!("sipp {scenario} exited with {status}:\n{}", sipp.output());
            }
            assert!(
                Instant::now() < deadline,
                "sipp {scenario} never bound its ports"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        sipp
    }

    /// A UAS phone answering on `port` (where its REGISTER came from).
    pub fn phone(scenario: &str, port: u16, args: &[&str]) -> SippProcess {
        let dir = tempfile::tempdir().expect("temp dir");
        SippProcess::spawn(scenario, None, port, dir, args)
    }

    /// Waits for sipp to exit; its exit code (0: every call of the scenario succeeded).
    pub fn wait(&mut self, timeout: Duration) -> Option<i32> {
        let deadline = Instant::now() + timeout;
        while self.exit.is_none() {
            if let Ok(Some(status)) = self.child.try_wait() {
                self.exit = Some(status.code().unwrap_or(-1));
            } else if Instant::now() > deadline {
                return None;
            } else {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        self.exit
    }

    /// [`SippProcess::wait`] for async tests.
    pub async fn exited(&mut self, timeout: Duration) -> Option<i32> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(code) = self.wait(Duration::ZERO) {
                return Some(code);
            }
            if Instant::now() > deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub fn output(&self) -> String {
        ["stdout.log", "stderr.log", "errors.log"]
            .iter()
            .map(|f| std::fs::read_to_string(self.dir.path().join(f)).unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Drop for SippProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether something listens on 127.0.0.1:`port`/udp (read from /proc, so checking never
/// takes the port from the process about to bind it).
fn udp_bound(port: u16) -> bool {
    let wanted = format!("0100007F:{port:04X}");
    std::fs::read_to_string("/proc/net/udp")
        .unwrap_or_default()
        .lines()
        .skip(1)
        .any(|line| line.split_whitespace().nth(1) == Some(wanted.as_str()))
}

/// `GET /api/v1/queues`, parsed.
pub fn live(engine: &EngineProcess) -> Value {
    let (status, body) = engine.get("/api/v1/queues");
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).expect("queues json")
}

/// An operator as `GET /api/v1/queues` shows it.
pub fn operator(engine: &EngineProcess, login: &str) -> Value {
    live(engine)["operators"]
        .as_array()
        .and_then(|ops| ops.iter().find(|op| op["login"] == login).cloned())
        .unwrap_or(Value::Null)
}

/// Polls the live state until `login` satisfies `check`; returns that view of it.
pub fn wait_for_operator(
    engine: &EngineProcess,
    login: &str,
    what: &str,
    check: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let view = operator(engine, login);
        if check(&view) {
            return view;
        }
        assert!(
            Instant::now() < deadline,
            "{login} never became {what}; last seen {view}\n{}",
            engine.log()
        );
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// Polls until `login` is in `state` (e.g. "available", "on_call").
pub fn wait_for_state(engine: &EngineProcess, login: &str, state: &str) -> Value {
    wait_for_operator(engine, login, state, |op| op["state"] == state)
}

/// POST /api/v1/agents/{login}/state.
pub fn set_state(engine: &EngineProcess, login: &str, json: &str) -> (u16, String) {
    super::http_post(engine.http, &format!("/api/v1/agents/{login}/state"), json)
}
