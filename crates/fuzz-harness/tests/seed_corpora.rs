//! Replays the committed seed corpora (fuzz/corpus/<target>/) and the kept findings
//! (crates/*/tests/fuzz_regressions/) through the fuzz harness, so every `cargo test` runs the
//! targets' code and invariants without cargo-fuzz.

use std::path::{Path, PathBuf};

use madoguchi_fuzz_harness::{Harness, TARGETS};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}

fn replay(target: fn(&[u8]), inputs: &[PathBuf]) {
    for path in inputs {
        let data = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        // A panic names the input: the harness itself panics without it.
        let outcome = std::panic::catch_unwind(|| target(&data));
        assert!(outcome.is_ok(), "{} fails its target", path.display());
    }
}

#[test]
fn every_target_has_seeds_and_every_seed_runs_clean() {
    for (name, target) in TARGETS {
        let seeds = files(&repo().join("fuzz/corpus").join(name));
        assert!(seeds.len() >= 3, "{name} has {} seeds", seeds.len());
        replay(*target, &seeds);
    }
}

/// Where each crate keeps the findings of a target.
const FINDINGS: &[(&str, Harness)] = &[(
    "crates/sip/tests/fuzz_regressions",
    madoguchi_fuzz_harness::sip_message,
)];

#[test]
fn the_kept_findings_run_clean_through_their_targets() {
    for (dir, target) in FINDINGS {
        let findings = files(&repo().join(dir));
        assert!(!findings.is_empty(), "{dir} is empty");
        replay(*target, &findings);
    }
}

#[test]
fn every_target_survives_degenerate_inputs() {
    for (name, target) in TARGETS {
        for data in [&b""[..], b"\0", b"\xff\xfe", b"\r\n\r\n", &[b'a'; 4096]] {
            let outcome = std::panic::catch_unwind(|| target(data));
            assert!(outcome.is_ok(), "{name} on {data:?}");
        }
    }
}
