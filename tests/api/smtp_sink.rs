//! A real SMTP server on loopback for the email tests: `tests/smtp_sink.py` (aiosmtpd), which
//! writes every message it receives to a folder as JSON (headers decoded, text and HTML parts
//! decoded by Python's `email` package).
//!
//! Without `python3-aiosmtpd` the email tests say SKIPPED loudly and pass, unless
//! `SWITCHBOARD_REQUIRE_SMTP=1` (set by `.ci/run`), which makes them fail instead.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Once;
use std::time::{Duration, Instant};

use serde_json::Value;

/// A running sink; killed when dropped.
pub struct SmtpSink {
    child: Child,
    folder: tempfile::TempDir,
}

/// One message the sink received.
#[derive(Debug, Clone)]
pub struct Received {
    /// The envelope's recipients.
    pub rcpt_tos: Vec<String>,
    /// Every header, decoded, in order.
    pub headers: Vec<(String, String)>,
    /// `multipart/alternative` and the like.
    pub content_type: String,
    /// The text part.
    pub text: String,
    /// The HTML part.
    pub html: String,
}

impl Received {
    /// The first header called `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(key, _)| key.eq_ignore_ascii_case(name)).map(|(_, value)| value.as_str())
    }

    /// `Message-ID`.
    pub fn message_id(&self) -> &str {
        self.header("Message-ID").expect("a Message-ID")
    }
}

/// The Python with aiosmtpd: Debian's `/usr/bin/python3` first (a pyenv `python3` on PATH may
/// lack the Debian package), then `python3`.
fn python() -> Option<&'static str> {
    ["/usr/bin/python3", "python3"].into_iter().find(|python| {
        Command::new(python)
            .args(["-c", "import aiosmtpd"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    })
}

/// A free loopback port (free when asked; the sink or a server binds it right after).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("address").port()
}

/// Whether the sink can run here; says SKIPPED loudly (once) when not, and panics when
/// `SWITCHBOARD_REQUIRE_SMTP=1`.
pub fn available() -> bool {
    if python().is_some() {
        return true;
    }
    if std::env::var("SWITCHBOARD_REQUIRE_SMTP").is_ok_and(|value| value == "1") {
        panic!("SWITCHBOARD_REQUIRE_SMTP=1 but python3 with aiosmtpd is missing (apt-get install python3-aiosmtpd)");
    }
    static WARNED: Once = Once::new();
    WARNED.call_once(|| {
        let _ = writeln!(
            std::io::stderr(),
            "\n*** SKIPPED: email tests (install python3-aiosmtpd for the test SMTP server) ***\n"
        );
    });
    false
}

impl SmtpSink {
    /// Starts the sink on `port`; waits until it listens.
    pub fn start(port: u16) -> Self {
        Self::start_slow(port, 0)
    }

    /// Starts the sink on `port`, answering each `RCPT TO` only after `rcpt_delay_ms`.
    pub fn start_slow(port: u16, rcpt_delay_ms: u64) -> Self {
        let python = python().expect("python3 with aiosmtpd");
        let folder = tempfile::tempdir().expect("temp dir");
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/smtp_sink.py");
        let mut child = Command::new(python)
            .arg(script)
            .arg(port.to_string())
            .arg(folder.path())
            .arg(rcpt_delay_ms.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the SMTP sink");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).expect("the sink's first line");
        assert_eq!(line.trim(), "ready", "the SMTP sink did not start");
        Self { child, folder }
    }

    /// Every message received so far, in arrival order.
    pub fn received(&self) -> Vec<Received> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(self.folder.path())
            .expect("read the sink folder")
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
            .collect();
        names.sort();
        names
            .iter()
            .map(|path| {
                let record: Value =
                    serde_json::from_str(&std::fs::read_to_string(path).expect("read")).expect("json");
                let strings = |value: &Value| -> Vec<String> {
                    value.as_array().map_or_else(Vec::new, |items| {
                        items.iter().filter_map(|item| item.as_str().map(str::to_string)).collect()
                    })
                };
                Received {
                    rcpt_tos: strings(&record["rcpt_tos"]),
                    headers: record["headers"]
                        .as_array()
                        .expect("headers")
                        .iter()
                        .map(|pair| {
                            let pair = strings(pair);
                            (pair[0].clone(), pair[1].clone())
                        })
                        .collect(),
                    content_type: record["content_type"].as_str().unwrap_or_default().to_string(),
                    text: record["text"].as_str().unwrap_or_default().to_string(),
                    html: record["html"].as_str().unwrap_or_default().to_string(),
                }
            })
            .collect()
    }

    /// Waits (up to `timeout`) until at least `count` messages arrived; all of them.
    pub async fn wait_for(&self, count: usize, timeout: Duration) -> Vec<Received> {
        let deadline = Instant::now() + timeout;
        loop {
            let received = self.received();
            if received.len() >= count || Instant::now() > deadline {
                return received;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
