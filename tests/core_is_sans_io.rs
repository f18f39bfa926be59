//! The core never touches IO or the clock: its crates do not depend on tokio, sqlx or axum,
//! and no core source reads the time or an unseeded RNG. Time and randomness come in as inputs.

use std::path::{Path, PathBuf};

const CORE_CRATES: [&str; 6] = [
    "crates/sip",
    "crates/media",
    "crates/calendar",
    "crates/dialplan",
    "crates/acd",
    "crates/staffing",
];
const FORBIDDEN: [&str; 8] = [
    "tokio",
    "sqlx",
    "axum",
    "Instant::now",
    "SystemTime::now",
    "Utc::now",
    "Local::now",
    "thread_rng",
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") && !is_test_module(&path) {
            out.push(path);
        }
    }
}

/// Test modules (`tests.rs`, `*_tests.rs`, `test_*.rs`, `tests/`) are compiled only under
/// `#[cfg(test)]`;
/// a virtual clock needs one real `Instant` as its origin there.
fn is_test_module(path: &Path) -> bool {
    let name = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
    name == "tests"
        || name.ends_with("_tests")
        || name.starts_with("test_")
        || path.components().any(|c| c.as_os_str() == "tests")
}

/// Source lines outside `#[cfg(test)]` modules and comments that mention a forbidden name.
fn offenders(files: &[PathBuf]) -> Vec<String> {
    let mut found = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(file).expect("read source");
        let body = text.split("#[cfg(test)]").next().unwrap_or("");
        for (number, line) in body.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for name in FORBIDDEN {
                if code.contains(name) {
                    found.push(format!("{}:{}: {name}", file.display(), number + 1));
                }
            }
        }
    }
    found
}

#[test]
fn core_crates_do_not_depend_on_io_runtimes() {
    for krate in CORE_CRATES {
        let manifest =
            std::fs::read_to_string(root().join(krate).join("Cargo.toml")).expect("manifest");
        let dependencies = manifest.split("[dev-dependencies]").next().unwrap_or("");
        for name in ["tokio", "sqlx", "axum"] {
            assert!(!dependencies.contains(name), "{krate} depends on {name}");
        }
    }
}

#[test]
fn core_sources_read_no_clock_and_no_io() {
    let mut files = Vec::new();
    for krate in CORE_CRATES {
        rust_files(&root().join(krate).join("src"), &mut files);
    }
    rust_files(&root().join("src/engine"), &mut files);
    assert!(files.len() > 10, "found the core sources");
    let found = offenders(&files);
    assert!(
        found.is_empty(),
        "the core reaches outside:\n{}",
        found.join("\n")
    );
}
