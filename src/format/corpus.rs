//! The test corpus (integration/corpus: real-world messages, calendars and contacts, with their
//! provenance and licences), for the format modules' unit tests and, included by path, for the
//! integration harness and the bench.

use std::path::{Path, PathBuf};

/// The corpus folder, relative to the repository root: the one place that names it.
pub const CORPUS_DIR: &str = "integration/corpus";

/// The corpus folder inside this checkout.
pub fn corpus_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(CORPUS_DIR)
}

/// A corpus file's name as the exception lists write it: its path below the corpus folder, with
/// `/` as separator (`mail/mikel-mail/...`).
#[allow(dead_code)]
pub fn corpus_name(file: &Path) -> String {
    file.strip_prefix(corpus_root()).unwrap_or(file).to_string_lossy().replace('\\', "/")
}

/// Every file below the corpus folder `kind` (`mail`, `ical`, `vcard`), sorted.
pub fn corpus_files(kind: &str) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![corpus_root().join(kind)];
    while let Some(dir) = pending.pop() {
        for entry in
            std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("corpus folder {}: {e}", dir.display())).flatten()
        {
            let path = entry.path();
            if path.is_dir() { pending.push(path) } else { files.push(path) }
        }
    }
    files.sort();
    files
}

/// What one round trip of a corpus file gave.
#[allow(dead_code)]
#[derive(Debug)]
pub enum RoundTrip {
    /// Both renderings are equal.
    Identical,
    /// The file holds nothing to render (counted, not a failure).
    NoItem,
    /// It failed, and why.
    Failed(String),
}

/// The known failures of `calendar-exceptions.tsv` beside this file: corpus name (see
/// [`corpus_name`]) <TAB> reason; lines starting with `#` are comments.
#[allow(dead_code)]
pub fn exceptions() -> Vec<(String, String)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/format/calendar-exceptions.tsv");
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    text.lines()
        .filter(|line| !line.trim().is_empty() && !line.starts_with('#'))
        .filter_map(|line| line.split_once('\t').map(|(path, reason)| (path.to_owned(), reason.to_owned())))
        .collect()
}

/// Runs `trip` over every file of the corpus folder `kind`, prints `<label> round trip: N of M
/// identical`, and panics when a file fails that is not a listed exception, or a listed one
/// passes.
#[allow(dead_code)]
pub fn check_round_trips(kind: &str, label: &str, trip: impl Fn(&str) -> RoundTrip) {
    let listed = exceptions();
    let (mut identical, mut total, mut no_item) = (0, 0, 0);
    let mut problems = Vec::new();
    for file in corpus_files(kind) {
        let relative = corpus_name(&file);
        let bytes = std::fs::read(&file).unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes);
        let outcome = trip(&text);
        let exception = listed.iter().find(|(path, _)| *path == relative);
        match (&outcome, exception) {
            (RoundTrip::NoItem, _) => no_item += 1,
            (RoundTrip::Identical, Some(_)) => problems.push(format!("{relative}: listed as an exception but passes")),
            (RoundTrip::Failed(why), None) => problems.push(format!("{relative}: {why}")),
            _ => {}
        }
        if !matches!(outcome, RoundTrip::NoItem) {
            total += 1;
        }
        if matches!(outcome, RoundTrip::Identical) {
            identical += 1;
        }
    }
    println!("{label} round trip: {identical} of {total} identical ({no_item} files without an item)");
    assert!(problems.is_empty(), "{} unexpected round-trip results:\n{}", problems.len(), problems.join("\n"));
}
