//! Kamailio as the SIP front of a two-node cluster, run from the shipped example
//! (examples/kamailio/kamailio.cfg) in the foreground with its own runtime and working
//! directory, and stopped (the whole process group) when dropped.

use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::repo_root;

/// The Kamailio binary, when installed (scripts/test.sh installs the `kamailio` package).
pub fn binary() -> Option<PathBuf> {
    ["/usr/sbin/kamailio", "/usr/local/sbin/kamailio"]
        .iter()
        .map(PathBuf::from)
        .find(|path| path.exists())
}

pub struct Kamailio {
    child: Child,
    pub addr: SocketAddr,
    pub dir: tempfile::TempDir,
}

impl Kamailio {
    /// Listens on 127.0.0.1:`port` in front of `nodes` (dispatcher set 1, the first one
    /// preferred); returns once the port is bound.
    pub fn start(port: u16, nodes: &[SocketAddr]) -> Kamailio {
        let binary = binary().expect("kamailio is installed (apt-get install kamailio)");
        let dir = tempfile::tempdir().expect("temp dir");
        let list = dir.path().join("dispatcher.list");
        let lines: String = nodes
            .iter()
            .enumerate()
            .map(|(i, node)| format!("1 sip:{node} 0 {}\n", 10 * (nodes.len() - i)))
            .collect();
        std::fs::write(&list, lines).expect("dispatcher.list");
        let run = dir.path().join("run");
        std::fs::create_dir(&run).expect("runtime dir");
        let log = std::fs::File::create(dir.path().join("kamailio.log")).expect("log file");
        let child = Command::new(binary)
            .args(["-DD", "-E", "-f"])
            .arg(repo_root().join("examples/kamailio/kamailio.cfg"))
            .arg("-A")
            .arg(format!("LISTEN=udp:127.0.0.1:{port}"))
            .arg("-A")
            .arg(format!("DISPATCHER_LIST=\"{}\"", list.display()))
            .args(["-m", "32", "-M", "4"])
            .arg("-Y")
            .arg(&run)
            .arg("-P")
            .arg(run.join("kamailio.pid"))
            .arg("-w")
            .arg(dir.path())
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            // Its own group: Drop stops the main process and its children together.
            .process_group(0)
            .spawn()
            .expect("start kamailio");
        let mut kamailio = Kamailio {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            dir,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while !udp_bound(port) {
            if let Ok(Some(status)) = kamailio.child.try_wait() {
                panic!("kamailio exited with {status}:\n{}", kamailio.log());
            }
            assert!(
                Instant::now() < deadline,
                "kamailio never bound {port}:\n{}",
                kamailio.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        kamailio
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("kamailio.log")).unwrap_or_default()
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("kamailio.log")
    }

    fn signal_group(&self, signal: &str) {
        let _ = Command::new("kill")
            .args([signal, "--", &format!("-{}", self.child.id())])
            .stderr(Stdio::null())
            .status();
    }
}

impl Drop for Kamailio {
    fn drop(&mut self) {
        self.signal_group("-TERM");
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        // Whatever is left of the group (children outliving the main process).
        self.signal_group("-KILL");
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
