//! Finding the shared test vectors (`shared/testdata/ct`) beside the repository.

use std::path::PathBuf;

/// `shared/testdata/ct/<sub>`: under `$ZDNS_TESTDATA` when set, else from the nearest
/// ancestor of the crate that has it (a checkout beside `shared/`). `None`, with a notice,
/// when absent: the vectors come from outside the repository, so a clone elsewhere
/// skips them rather than failing.
pub fn testdata(sub: &str) -> Option<PathBuf> {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let found = std::env::var_os("ZDNS_TESTDATA")
        .map(|d| PathBuf::from(d).join("ct").join(sub))
        .into_iter()
        .chain(
            manifest
                .ancestors()
                .map(|a| a.join("shared/testdata/ct").join(sub)),
        )
        .find(|p| p.is_dir());
    if found.is_none() {
        eprintln!(
            "notice: shared/testdata/ct/{sub} not found above {} (set ZDNS_TESTDATA); skipping these vectors",
            manifest.display()
        );
    }
    found
}

#[allow(dead_code, clippy::unwrap_used)]
/// Every `*.json` file under `dir`, recursively, sorted.
pub fn json_files(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "json") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}
