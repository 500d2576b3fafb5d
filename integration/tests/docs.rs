//! The docs stay in step with the code: every reading of the draft the code cites as
//! "docs/interpretations.md, KEY" has its entry (`KEY`) on that page.

use std::path::{Path, PathBuf};

fn sources(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            sources(&path, found);
        } else if path.extension().is_some_and(|ext| ext == "rs" || ext == "md") {
            found.push(path);
        }
    }
}

/// The keys cited after "interpretations.md, " (one or several, comma-separated).
fn cited_keys(text: &str) -> Vec<String> {
    let mut keys = Vec::new();
    for (at, _) in text.match_indices("interpretations.md, ") {
        let rest = &text[at + "interpretations.md, ".len()..];
        for candidate in rest.split(", ") {
            let key: String = candidate
                .chars()
                .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '-' || *c == '.')
                .collect();
            let key = key.trim_end_matches('.').to_owned();
            if key.len() < 2 || !key.starts_with(|c: char| c.is_ascii_uppercase()) {
                break;
            }
            keys.push(key.clone());
            if key.len() != candidate.trim_end_matches([')', '.', ';', ':']).len() {
                break;
            }
        }
    }
    keys
}

#[test]
fn every_cited_interpretation_key_has_its_entry() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let page = std::fs::read_to_string(root.join("docs/interpretations.md")).expect("docs/interpretations.md");
    let mut files = Vec::new();
    for dir in ["src", "adapters", "integration/tests", "docs"] {
        sources(&root.join(dir), &mut files);
    }
    let mut cited = 0;
    let mut missing = Vec::new();
    // This file's own examples are not citations.
    files.retain(|file| !file.ends_with("integration/tests/docs.rs"));
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        for key in cited_keys(&text) {
            cited += 1;
            if !page.contains(&format!("`{key}`")) {
                missing.push(format!("{}: {key}", file.strip_prefix(root).unwrap_or(&file).display()));
            }
        }
    }
    assert!(cited > 20, "the citations were found ({cited})");
    assert!(missing.is_empty(), "cited but not in docs/interpretations.md: {missing:#?}");
}

#[test]
fn citations_are_read_as_keys() {
    assert_eq!(cited_keys("see docs/interpretations.md, SUID-FAILED)"), ["SUID-FAILED"]);
    assert_eq!(cited_keys("(docs/interpretations.md, LINE-LENGTH, NOARG-510-511)"), ["LINE-LENGTH", "NOARG-510-511"]);
    assert_eq!(cited_keys("docs/interpretations.md, EXAMPLE-7.9-XML."), ["EXAMPLE-7.9-XML"]);
    assert!(cited_keys("docs/interpretations.md, where").is_empty());
}
