//! The disk spool: where the record writer keeps entries while the database is away.
//!
//! An append-only file of JSON lines, one [`Entry`] each, in the order the engine produced
//! them. Every append ends with `fsync`, so an entry the writer has spooled survives a crash
//! or a power cut. The writer replays the file in order once the database answers again,
//! and the engine replays it at start-up before taking calls; replay is idempotent (records
//! on their call id, journal notes are skipped for stored calls), so a crash in the middle
//! of a replay only means the next replay writes some entries a second time, harmlessly.
//!
//! A crash in the middle of an append leaves a torn last line: it is skipped with a
//! warning (its call's journal row, or the previous run's recovery, still accounts for the
//! call), never fatal. Lines are hand-written JSON with `std::fs` rather than a queue crate:
//! the format must stay readable by an operator with `jq`, and the file is small.
//!
//! ```no_run
//! # fn demo(entries: Vec<madoguchi_store::Entry>) -> std::io::Result<()> {
//! use madoguchi_store::Spool;
//! let mut spool = Spool::open("spool".as_ref())?; // creates the folder and file
//! spool.append(&entries)?; // durable when this returns
//! let read = spool.read()?; // in order; torn or unreadable lines skipped
//! # let _ = read; Ok(()) }
//! ```

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::journal::Entry;

/// The spool file's name inside the spool folder.
pub const SPOOL_FILE: &str = "records.spool.jsonl";

/// An open spool file.
#[derive(Debug)]
pub struct Spool {
    path: PathBuf,
    file: File,
}

/// What [`Spool::read`] found.
#[derive(Debug, Default)]
pub struct SpoolContents {
    /// The readable entries, in file order.
    pub entries: Vec<Entry>,
    /// Lines skipped: torn by a crash mid-append, or not an entry.
    pub skipped: usize,
}

impl Spool {
    /// Opens (creating if needed) `folder/records.spool.jsonl`. When a crash tore the last
    /// line, a newline is added so the next entry starts a line of its own.
    pub fn open(folder: &Path) -> std::io::Result<Spool> {
        Spool::open_named(folder, SPOOL_FILE)
    }

    /// Opens another file of the same format in `folder` (the rejected entries' file).
    pub fn open_named(folder: &Path, name: &str) -> std::io::Result<Spool> {
        std::fs::create_dir_all(folder)?;
        let path = folder.join(name);
        let existed = path.exists();
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&path)?;
        if !existed {
            // The new file's name must reach the disk too, or a power cut could lose it.
            File::open(folder)?.sync_all()?;
        }
        let len = file.metadata()?.len();
        if len > 0 {
            let mut last = [0u8; 1];
            file.seek(SeekFrom::Start(len - 1))?;
            file.read_exact(&mut last)?;
            if last[0] != b'\n' {
                file.write_all(b"\n")?;
                file.sync_data()?;
            }
        }
        Ok(Spool { path, file })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// True when nothing is spooled.
    pub fn is_empty(&self) -> std::io::Result<bool> {
        Ok(self.file.metadata()?.len() == 0)
    }

    /// Appends the entries, one line each, and waits until they are on disk.
    pub fn append(&mut self, entries: &[Entry]) -> std::io::Result<()> {
        let mut lines = Vec::new();
        for entry in entries {
            serde_json::to_writer(&mut lines, entry)?;
            lines.push(b'\n');
        }
        // One write for the whole batch: a crash tears at most the last line.
        self.file.write_all(&lines)?;
        self.file.sync_data()
    }

    /// Every readable entry in order. A line that does not parse is skipped and logged by
    /// its line number only (lines hold caller numbers).
    pub fn read(&mut self) -> std::io::Result<SpoolContents> {
        let mut bytes = Vec::new();
        self.file.seek(SeekFrom::Start(0))?;
        self.file.read_to_end(&mut bytes)?;
        let mut contents = SpoolContents::default();
        let mut lines = bytes.split(|b| *b == b'\n').enumerate().peekable();
        while let Some((index, line)) = lines.next() {
            let last = lines.peek().is_none();
            if line.is_empty() {
                continue;
            }
            if last {
                // No newline after it: the process died while appending this line.
                tracing::warn!(spool = %self.path.display(), line = index + 1, "torn last line in the record spool skipped");
                contents.skipped += 1;
                continue;
            }
            match serde_json::from_slice::<Entry>(line) {
                Ok(entry) => contents.entries.push(entry),
                Err(error) => {
                    tracing::warn!(spool = %self.path.display(), line = index + 1, error = category(&error), "unreadable line in the record spool skipped");
                    contents.skipped += 1;
                }
            }
        }
        Ok(contents)
    }

    /// Empties the file once everything in it is stored.
    pub fn clear(&mut self) -> std::io::Result<()> {
        self.file.set_len(0)?;
        self.file.sync_all()
    }
}

/// The name of a `serde_json` error category (its message could quote the line).
fn category(error: &serde_json::Error) -> &'static str {
    match error.classify() {
        serde_json::error::Category::Io => "io",
        serde_json::error::Category::Syntax => "syntax",
        serde_json::error::Category::Data => "data",
        serde_json::error::Category::Eof => "eof",
    }
}

#[cfg(test)]
#[path = "spool_tests.rs"]
mod tests;
