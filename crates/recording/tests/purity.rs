//! Where this crate's edge is. The recorder writes files, so it is not one of the sans-IO core
//! crates that the workspace's `tests/core_is_sans_io.rs` lists; but the rules that make the
//! core testable hold here too and are checked here: no source reads the clock (positions on
//! the sample clock come in from the caller) or depends on an async runtime (the file writes
//! are blocking, for a blocking thread), and the aligner and the clocks touch no I/O at all.

use std::path::PathBuf;

fn source(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Lines of `text` outside comments and `#[cfg(test)]` items that mention one of `names`.
fn mentions(text: &str, names: &[&str]) -> Vec<String> {
    let body = text.split("#[cfg(test)]").next().unwrap_or("");
    body.lines()
        .enumerate()
        .filter_map(|(number, line)| {
            let code = line.split("//").next().unwrap_or("");
            names
                .iter()
                .find(|name| code.contains(*name))
                .map(|name| format!("line {}: {name}", number + 1))
        })
        .collect()
}

#[test]
fn no_source_reads_the_clock_or_needs_an_async_runtime() {
    let manifest = source("Cargo.toml");
    let dependencies = manifest.split("[dev-dependencies]").next().unwrap_or("");
    for runtime in ["tokio", "async-std", "smol"] {
        assert!(!dependencies.contains(runtime), "depends on {runtime}");
    }
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files: Vec<String> = std::fs::read_dir(&src)
        .expect("src")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| name.ends_with(".rs") && !name.ends_with("_tests.rs"))
        .map(|name| format!("src/{name}"))
        .collect();
    files.sort();
    assert!(files.len() >= 6, "found the sources: {files:?}");
    for file in &files {
        let found = mentions(
            &source(file),
            &[
                "Instant::now",
                "SystemTime",
                "Utc::now",
                "Local::now",
                "thread_rng",
                "tokio",
            ],
        );
        assert!(found.is_empty(), "{file} reaches for the clock: {found:?}");
    }
}

#[test]
fn the_aligner_and_the_clocks_touch_no_io() {
    for file in ["src/timeline.rs", "src/clock.rs"] {
        let found = mentions(&source(file), &["std::fs", "std::io", "File", "std::net"]);
        assert!(found.is_empty(), "{file} does I/O: {found:?}");
    }
}
