//! Faults under load: `switchboard-load` drives three nodes on one PostgreSQL with Redis
//! between them, no sticky sessions, while a dependency is restarted under them; afterwards
//! every acknowledged message must have been delivered exactly once and in order.
//!
//! Each test checks that its fault really happened (the script's exit status, Redis's `run_id`
//! or PostgreSQL's postmaster start time changed, the nodes felt it) and that messages were
//! acknowledged both before and after it, so that a fault that missed cannot pass.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::private::{info_field, opted_in, redis_info, PrivatePostgres, PrivateRedis};

/// Nodes of every run.
const NODES: u64 = 3;
/// Seconds into sending when the fault starts.
const FAULT_AFTER_SECS: u64 = 3;
/// Seconds of sending in all.
const SENDING_SECS: u64 = 10;
/// Messages per second over all chats: modest, the machine has two cores for everything.
const RATE: u64 = 200;
/// The longest a generator run may take before the test kills it.
const RUN_TIMEOUT: Duration = Duration::from_secs(120);

/// One cluster at a time: three debug nodes and the generator already fill this machine's
/// cores, and two runs at once would only measure each other.
static ONE_CLUSTER_AT_A_TIME: Mutex<()> = Mutex::new(());

#[test]
fn redis_restarted_mid_run_loses_nothing() {
    let Some(opt_in) = opted_in() else { return };
    let _turn = ONE_CLUSTER_AT_A_TIME.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let started = Instant::now();
    let redis = PrivateRedis::start();
    let first_run_id = redis.run_id().expect("run_id of the private Redis");
    let script = redis.restart_script(Duration::from_secs(1));
    let monitor = ClientsMonitor::start(redis.port);

    let summary = run_load(&opt_in.postgres_url, &redis.url(), &script);
    let clients = monitor.stop();

    assert_clean(&summary);
    let second_run_id = redis.run_id().expect("run_id after the fault");
    assert_ne!(first_run_id, second_run_id, "Redis was not restarted: {summary:#}");
    let most_before = clients.most(&first_run_id);
    let most_after = clients.most(&second_run_id);
    // The monitor's own connection is one of the clients.
    assert!(
        most_before > NODES,
        "the nodes were not connected to Redis before the fault (at most {most_before} clients, \
         the monitor included)"
    );
    assert!(
        most_after > NODES,
        "the nodes did not reconnect to the restarted Redis (at most {most_after} clients, the \
         monitor included)"
    );
    eprintln!(
        "redis restart: {} acked before, {} during, {} after the fault ({} s); {} clients before, \
         {most_after} after; test took {:.1} s",
        summary["fault"]["acked_before"],
        summary["fault"]["acked_during"],
        summary["fault"]["acked_after"],
        summary["fault"]["took_secs"],
        most_before,
        started.elapsed().as_secs_f64()
    );
}

#[test]
fn postgres_stopped_and_started_mid_run_loses_nothing() {
    let Some(_opt_in) = opted_in() else { return };
    let _turn = ONE_CLUSTER_AT_A_TIME.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let started = Instant::now();
    let redis = PrivateRedis::start();
    let postgres = PrivatePostgres::start();
    let first_start = postgres.postmaster_start_time().expect("postmaster start time");
    let script = postgres.restart_script(Duration::from_secs(3));

    let summary = run_load(&postgres.url(), &redis.url(), &script);

    assert_clean(&summary);
    let second_start = postgres.postmaster_start_time().expect("postmaster start time after the fault");
    assert_ne!(first_start, second_start, "PostgreSQL was not restarted: {summary:#}");
    let fault = &summary["fault"];
    let failed = fault["transient_errors_during"].as_u64().unwrap_or(0);
    let acked_during = fault["acked_during"].as_u64().unwrap_or(0);
    // Down for three of its seconds, the nodes cannot have kept the rate up without a store.
    let at_full_rate = fault["took_secs"].as_f64().unwrap_or(0.0) * RATE as f64;
    assert!(
        failed > 0 || (acked_during as f64) < at_full_rate / 2.0,
        "the nodes did not notice PostgreSQL was down (no request failed, {acked_during} \
         acknowledged during the fault): {summary:#}"
    );
    eprintln!(
        "postgres restart: {} acked before, {acked_during} during, {} after the fault ({} s, \
         {failed} requests retried during it); test took {:.1} s",
        fault["acked_before"],
        fault["acked_after"],
        fault["took_secs"],
        started.elapsed().as_secs_f64()
    );
}

/// Runs `switchboard-load` on three fresh nodes of `store` with Redis at `broker`, in strict
/// integrity mode at a modest rate for `SENDING_SECS`, `script` run as the fault; asserts it
/// exited 0 and answers its JSON summary.
fn run_load(store: &str, broker: &str, script: &Path) -> Value {
    let out = tempfile::tempdir().expect("temp dir");
    let json_out = out.path().join("summary.json");
    let mut generator = Command::new(load_generator())
        .args(["--no-progress", "--spawn-server", env!("CARGO_BIN_EXE_switchboard")])
        .args(["--store", store, "--broker", broker, "--nodes", &NODES.to_string()])
        // Short holds: a wake-up lost with Redis arrives at the next store re-check.
        .args(["--hold", "2", "--json-out"])
        .arg(&json_out)
        .args(["integrity", "--chats", "12", "--agent-max-chats", "4", "--messages", "100000"])
        .args(["--duration", &SENDING_SECS.to_string(), "--rate", &RATE.to_string()])
        .args(["--fault-after", &FAULT_AFTER_SECS.to_string(), "--fault-cmd"])
        .arg(format!("sh {}", script.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start switchboard-load");
    let log = std::thread::spawn({
        let stderr = generator.stderr.take().expect("the generator's stderr");
        move || std::io::read_to_string(stderr).unwrap_or_default()
    });
    let deadline = Instant::now() + RUN_TIMEOUT;
    let status = loop {
        if let Some(status) = generator.try_wait().expect("wait for switchboard-load") {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = generator.kill();
            let _ = generator.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let log = log.join().unwrap_or_default();
    let summary = std::fs::read_to_string(&json_out).unwrap_or_default();
    assert!(status.is_some(), "switchboard-load did not end within {RUN_TIMEOUT:?}:\n{log}");
    assert!(
        status.is_some_and(|status| status.success()),
        "switchboard-load failed ({status:?}):\n{log}\n{summary}"
    );
    serde_json::from_str(&summary).unwrap_or_else(|error| panic!("summary {summary:?}: {error}\n{log}"))
}

/// The `switchboard-load` that cargo builds beside the `switchboard` it built for these tests.
/// The generator is the workspace's other package (`load/`), out of reach of `CARGO_BIN_EXE_*`,
/// so it is built here by the cargo that runs the tests, in the same target directory and
/// profile, with the workspace's features: nothing to do after `cargo build` at the top.
fn load_generator() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let server = Path::new(env!("CARGO_BIN_EXE_switchboard"));
            let profile_dir = server.parent().expect("the server binary's directory");
            let target_dir = profile_dir.parent().expect("the target directory");
            let profile = match profile_dir.file_name().and_then(|name| name.to_str()) {
                Some("debug") => "dev",
                Some(name) => name,
                None => panic!("no profile in {}", server.display()),
            };
            let built = Command::new(env!("CARGO"))
                .args(["build", "--workspace", "--bin", "switchboard-load", "--profile", profile])
                .arg("--manifest-path")
                .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"))
                .arg("--target-dir")
                .arg(target_dir)
                .stdin(Stdio::null())
                .output()
                .expect("run cargo");
            let log = String::from_utf8_lossy(&built.stderr);
            assert!(built.status.success(), "cargo could not build switchboard-load:\n{log}");
            let generator = profile_dir.join("switchboard-load");
            assert!(generator.is_file(), "cargo built no {}:\n{log}", generator.display());
            generator
        })
        .clone()
}

/// Nothing lost, repeated or reordered; the fault ran and succeeded; messages acknowledged
/// before and after it; every node answered.
fn assert_clean(summary: &Value) {
    let verdict = &summary["integrity"]["verdict"];
    for count in ["lost", "duplicated", "reordered", "gaps", "mismatched"] {
        assert_eq!(verdict[count].as_u64(), Some(0), "{count}: {summary:#}");
    }
    assert!(verdict["acked"].as_u64().unwrap_or(0) > 0, "nothing acknowledged: {summary:#}");
    let fault = &summary["fault"];
    assert_eq!(fault["exit_code"].as_i64(), Some(0), "the fault script failed: {summary:#}");
    assert!(
        fault["acked_before"].as_u64().unwrap_or(0) > 0,
        "nothing acknowledged before the fault: {summary:#}"
    );
    assert!(
        fault["acked_after"].as_u64().unwrap_or(0) > 0,
        "nothing acknowledged after the fault: {summary:#}"
    );
    let nodes = summary["nodes"].as_array().cloned().unwrap_or_default();
    assert_eq!(nodes.len() as u64, NODES, "{summary:#}");
    for node in &nodes {
        assert!(node["answered"].as_u64().unwrap_or(0) > 0, "a node answered nothing: {summary:#}");
    }
}

/// Most clients seen connected to each incarnation of a Redis (by `run_id`).
#[derive(Default)]
struct ClientCounts(Vec<(String, u64)>);

impl ClientCounts {
    fn note(&mut self, run_id: String, clients: u64) {
        match self.0.iter_mut().find(|(id, _)| *id == run_id) {
            Some((_, most)) => *most = (*most).max(clients),
            None => self.0.push((run_id, clients)),
        }
    }

    /// Most clients seen on the incarnation `run_id`; 0 if never seen.
    fn most(&self, run_id: &str) -> u64 {
        self.0.iter().find(|(id, _)| id == run_id).map_or(0, |(_, most)| *most)
    }
}

/// Reads a Redis's `run_id` and `connected_clients` every 100 ms while a run goes on.
struct ClientsMonitor {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<ClientCounts>,
}

impl ClientsMonitor {
    fn start(port: u16) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let thread = std::thread::spawn({
            let stop = Arc::clone(&stop);
            move || {
                let mut counts = ClientCounts::default();
                while !stop.load(Ordering::Relaxed) {
                    // One connection per sample: the monitor counts as one client.
                    if let Some(info) = redis_info(port, "default") {
                        let run_id = info_field(&info, "run_id");
                        let connected = info_field(&info, "connected_clients").and_then(|n| n.parse().ok());
                        if let Some((run_id, connected)) = run_id.zip(connected) {
                            counts.note(run_id, connected);
                        }
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
                counts
            }
        });
        Self { stop, thread }
    }

    fn stop(self) -> ClientCounts {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap_or_default()
    }
}
