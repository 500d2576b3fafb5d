//! The shared test corpus (../shared/corpus), for the format modules' unit tests and, included by
//! path, for the integration harness.

use std::path::{Path, PathBuf};

/// Every file below ../shared/corpus/<kind>, sorted.
pub fn corpus_files(kind: &str) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus").join(kind)];
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
