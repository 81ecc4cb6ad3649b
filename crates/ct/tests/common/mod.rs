//! Finding the shared test vectors (`shared/testdata/ct`) beside the repository.

use std::path::PathBuf;

/// `shared/testdata/ct/<sub>` from the nearest ancestor of the crate that has it (a
/// worktree under `/work/wt/…` or a CI clone with `shared/` beside it). `None`, with a
/// notice, when absent; a failure instead when `ZDNS_REQUIRE_PEERS=1`.
pub fn testdata(sub: &str) -> Option<PathBuf> {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let found = manifest
        .ancestors()
        .map(|a| a.join("shared/testdata/ct").join(sub))
        .find(|p| p.is_dir());
    if found.is_none() {
        assert!(
            std::env::var("ZDNS_REQUIRE_PEERS").as_deref() != Ok("1"),
            "shared/testdata/ct/{sub} not found above {} and ZDNS_REQUIRE_PEERS=1",
            manifest.display()
        );
        eprintln!("notice: shared/testdata/ct/{sub} not found; skipping these vectors");
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
