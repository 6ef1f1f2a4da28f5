//! The front ends in a real browser: runs the Node suite in `tests/browser/` (playwright-core
//! driving Debian's Chromium) against the `switchboard` binary cargo just built. Each test
//! there starts its own server on its own port and SQLite file.
//!
//! Needs `node`, `npm ci --prefix tests/browser` and Chromium (`/usr/bin/chromium`, or
//! `CHROMIUM_PATH`). Without them the suite is skipped with a loud note, unless
//! `SWITCHBOARD_REQUIRE_BROWSER=1` (CI sets it) turns the skip into a failure. The proxy tests
//! also need Debian's squid and nginx, and are skipped (with a note) without them.

use std::path::{Path, PathBuf};
use std::process::Command;

fn suite_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("browser")
}

/// What is missing to run the suite here, as sentences.
fn missing_tools(dir: &Path, chromium: &Path) -> Vec<String> {
    let mut missing = Vec::new();
    if Command::new("node").arg("--version").output().map_or(true, |out| !out.status.success()) {
        missing.push("node (Debian: apt-get install nodejs npm)".to_string());
    }
    if !dir.join("node_modules").join("playwright-core").is_dir() {
        missing.push("the suite's npm packages (npm ci --prefix tests/browser)".to_string());
    }
    if !chromium.is_file() {
        missing.push(format!("Chromium at {} (Debian: apt-get install chromium)", chromium.display()));
    }
    missing
}

#[test]
fn the_widget_console_and_admin_pages_pass_the_browser_suite() {
    let dir = suite_dir();
    let chromium =
        PathBuf::from(std::env::var("CHROMIUM_PATH").unwrap_or_else(|_| "/usr/bin/chromium".into()));
    let missing = missing_tools(&dir, &chromium);
    if !missing.is_empty() {
        let required = std::env::var("SWITCHBOARD_REQUIRE_BROWSER").is_ok_and(|v| v == "1");
        let note = format!("BROWSER TESTS SKIPPED: missing {}", missing.join("; "));
        assert!(!required, "{note} (SWITCHBOARD_REQUIRE_BROWSER=1)");
        eprintln!("\n{}\n{note}\n{}\n", "=".repeat(note.len()), "=".repeat(note.len()));
        return;
    }
    // Without squid or nginx the proxy tests skip themselves (and fail under the variable).
    let proxies: Vec<&str> =
        ["/usr/sbin/squid", "/usr/sbin/nginx"].into_iter().filter(|p| !Path::new(p).is_file()).collect();
    if !proxies.is_empty() {
        eprintln!(
            "\n*** PROXY TESTS SKIPPED: missing {} (Debian: apt-get install squid nginx) ***\n",
            proxies.join(", ")
        );
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/browser")
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.to_string_lossy().ends_with(".test.js"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no *.test.js in {}", dir.display());
    let artifacts = Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser-artifacts");
    let status = Command::new("node")
        .args(["--test", "--test-concurrency=1", "--test-reporter=spec"])
        .args(&files)
        .current_dir(&dir)
        .env("SWITCHBOARD_BIN", env!("CARGO_BIN_EXE_switchboard"))
        .env("CHROMIUM_PATH", &chromium)
        .env("SWITCHBOARD_ARTIFACTS", &artifacts)
        .status()
        .expect("node runs");
    eprintln!("browser artifacts (screenshots): {}", artifacts.display());
    assert!(status.success(), "the browser suite failed: {status}");
}
