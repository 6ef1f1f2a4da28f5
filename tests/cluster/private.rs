//! Private servers for one test: a Redis and a PostgreSQL of its own on spare ports, which the
//! test may stop and restart at will (the machine's shared ones are never touched), always
//! stopped and removed when dropped, also on a panic.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Once;
use std::time::{Duration, Instant};

use diesel::sql_types::Text;
use diesel::{Connection, PgConnection, QueryableByName, RunQueryDsl};

/// What opts the cluster tests in: both variables set.
pub struct OptIn {
    /// The machine's PostgreSQL (`SWITCHBOARD_TEST_POSTGRES_URL`), TLS and GSSAPI off.
    pub postgres_url: String,
}

/// The opt-in when `SWITCHBOARD_TEST_REDIS_URL` (any value) and `SWITCHBOARD_TEST_POSTGRES_URL`
/// are set; otherwise says loudly, once per run, that the cluster tests are skipped.
pub fn opted_in() -> Option<OptIn> {
    let redis = std::env::var_os("SWITCHBOARD_TEST_REDIS_URL");
    let postgres = std::env::var("SWITCHBOARD_TEST_POSTGRES_URL").ok().filter(|url| !url.is_empty());
    match (redis, postgres) {
        (Some(_), Some(url)) => Some(OptIn { postgres_url: crate::pg_url::without_tls(&url) }),
        _ => {
            static WARNED: Once = Once::new();
            WARNED.call_once(|| {
                // Written past the test harness's capture so it shows in every run.
                let _ = writeln!(
                    std::io::stderr(),
                    "\n*** SKIPPED: cluster fault tests (set SWITCHBOARD_TEST_REDIS_URL, e.g. \
                     redis://127.0.0.1:6379, and SWITCHBOARD_TEST_POSTGRES_URL, e.g. \
                     postgres://postgres@127.0.0.1:5432/postgres; each test starts its own Redis \
                     and PostgreSQL besides) ***\n"
                );
            });
            None
        }
    }
}

/// A TCP port nothing listens on right now.
pub fn spare_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a spare port");
    listener.local_addr().expect("local address").port()
}

/// Waits until `ready` holds, up to `timeout`; panics with `what` otherwise.
fn wait_until(timeout: Duration, what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !ready() {
        assert!(Instant::now() < deadline, "{what} within {timeout:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A Redis of this test's own: no persistence, on a spare port. Every incarnation (the first,
/// and any a fault script starts) writes its pid to one file, so all are stopped at the end.
pub struct PrivateRedis {
    /// Its port.
    pub port: u16,
    dir: tempfile::TempDir,
    first: Child,
}

impl PrivateRedis {
    /// Starts one and waits until it answers.
    pub fn start() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let port = spare_port();
        let log = std::fs::File::create(dir.path().join("redis-1.log")).expect("redis log");
        let first = Command::new("redis-server")
            .args(redis_args(port, dir.path()))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("redis log"))
            .stderr(log)
            .spawn()
            .expect("start redis-server (is it installed?)");
        let redis = Self { port, dir, first };
        wait_until(Duration::from_secs(10), "the private Redis answers", || redis.info("server").is_some());
        redis
    }

    /// Its URL.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// `run_id` of the incarnation answering now (a restarted Redis has a new one).
    pub fn run_id(&self) -> Option<String> {
        info_field(&self.info("server")?, "run_id")
    }

    /// `INFO section` of the incarnation answering now; `None` when none answers.
    pub fn info(&self, section: &str) -> Option<String> {
        redis_info(self.port, section)
    }

    /// A script that kills the Redis answering now with SIGKILL, leaves it down for `down`,
    /// starts a new one on the same port and waits until it answers PING; its path.
    pub fn restart_script(&self, down: Duration) -> PathBuf {
        let dir = self.dir.path();
        let script = format!(
            "set -e\n\
             kill -9 \"$(cat {pidfile})\"\n\
             sleep {down}\n\
             redis-server {args} > {dir}/redis-2.log 2>&1 < /dev/null &\n\
             for attempt in $(seq 200); do\n\
             \x20 if redis-cli -p {port} ping 2>/dev/null | grep -q PONG; then exit 0; fi\n\
             \x20 sleep 0.05\n\
             done\n\
             echo 'the new Redis did not answer' >&2\n\
             exit 1\n",
            pidfile = pid_file(dir).display(),
            down = down.as_secs_f64(),
            args = redis_args(self.port, dir).iter().map(|arg| shell_word(arg)).collect::<Vec<_>>().join(" "),
            dir = dir.display(),
            port = self.port,
        );
        let path = dir.join("restart-redis.sh");
        std::fs::write(&path, script).expect("write the restart script");
        path
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        // A later incarnation, started by a fault script: its pid is in the pid file.
        if let Some(pid) = std::fs::read_to_string(pid_file(self.dir.path()))
            .ok()
            .and_then(|text| text.trim().parse::<u32>().ok())
            .filter(|pid| *pid != self.first.id())
        {
            let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
        }
        let _ = self.first.kill();
        let _ = self.first.wait();
    }
}

/// The arguments of every incarnation of a private Redis.
fn redis_args(port: u16, dir: &Path) -> Vec<String> {
    [
        "--port",
        &port.to_string(),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--daemonize",
        "no",
        "--dir",
        &dir.display().to_string(),
        "--pidfile",
        &pid_file(dir).display().to_string(),
    ]
    .iter()
    .map(ToString::to_string)
    .collect()
}

fn pid_file(dir: &Path) -> PathBuf {
    dir.join("redis.pid")
}

/// `word` quoted for `sh`.
fn shell_word(word: &str) -> String {
    format!("'{}'", word.replace('\'', "'\\''"))
}

/// `INFO section` over a plain connection (RESP by hand: the tests need no Redis client).
pub fn redis_info(port: u16, section: &str) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    let command = format!("*2\r\n$4\r\nINFO\r\n${}\r\n{section}\r\n", section.len());
    stream.write_all(command.as_bytes()).ok()?;
    let mut reader = BufReader::new(stream);
    let mut header = String::new();
    reader.read_line(&mut header).ok()?;
    let length: usize = header.trim().strip_prefix('$')?.parse().ok()?;
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    String::from_utf8(body).ok()
}

/// The value of `field:` in an INFO text.
pub fn info_field(info: &str, field: &str) -> Option<String> {
    info.lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .map(|value| value.trim().to_string())
}

/// A PostgreSQL of this test's own: `initdb` in a temporary folder (owned by the `postgres`
/// user, since initdb refuses root), trust authentication, on a spare port, its socket in that
/// folder. Stopped and removed when dropped.
pub struct PrivatePostgres {
    /// Its port.
    pub port: u16,
    bin: PathBuf,
    dir: tempfile::TempDir,
}

#[derive(QueryableByName)]
struct StartTime {
    #[diesel(sql_type = Text)]
    started: String,
}

impl PrivatePostgres {
    /// Makes a cluster and starts it.
    pub fn start() -> Self {
        let bin = postgres_bin();
        let dir = tempfile::tempdir().expect("temp dir");
        let status = Command::new("chown").arg("-R").arg("postgres:").arg(dir.path()).status();
        assert!(status.is_ok_and(|s| s.success()), "chown the temp dir to postgres");
        let port = spare_port();
        let postgres = Self { port, bin, dir };
        postgres.as_postgres(&[
            postgres.tool("initdb").as_str(),
            "-D",
            postgres.data().as_str(),
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
        ]);
        postgres.as_postgres(&postgres.start_args());
        wait_until(Duration::from_secs(20), "the private PostgreSQL answers", || {
            postgres.postmaster_start_time().is_some()
        });
        postgres
    }

    /// Its URL (the `postgres` database), TLS and GSSAPI off.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres?sslmode=disable&gssencmode=disable", self.port)
    }

    /// When the postmaster answering now started (a restarted server has a new one).
    pub fn postmaster_start_time(&self) -> Option<String> {
        let mut conn = PgConnection::establish(&self.url()).ok()?;
        let row: StartTime = diesel::sql_query("SELECT pg_postmaster_start_time()::text AS started")
            .get_result(&mut conn)
            .ok()?;
        Some(row.started)
    }

    /// A script that stops this PostgreSQL (fast shutdown: clients cut off), leaves it down
    /// for `down` and starts it again, waiting until it accepts connections; its path.
    pub fn restart_script(&self, down: Duration) -> PathBuf {
        let quote = |args: &[&str]| args.iter().map(|arg| shell_word(arg)).collect::<Vec<_>>().join(" ");
        let start = self.start_args();
        let start: Vec<&str> = start.iter().map(String::as_str).collect();
        let script = format!(
            "set -e\n\
             runuser -u postgres -- {stop}\n\
             sleep {down}\n\
             runuser -u postgres -- {start}\n",
            stop = quote(&[&self.tool("pg_ctl"), "-D", &self.data(), "stop", "-m", "fast", "-w"]),
            down = down.as_secs_f64(),
            start = quote(&start),
        );
        let path = self.dir.path().join("restart-postgres.sh");
        std::fs::write(&path, script).expect("write the restart script");
        path
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn tool(&self, name: &str) -> String {
        self.bin.join(name).display().to_string()
    }

    /// `pg_ctl start` on its port, socket in its folder, waiting until it accepts connections.
    fn start_args(&self) -> Vec<String> {
        let options =
            format!("-p {} -k {} -c listen_addresses=127.0.0.1", self.port, self.dir.path().display());
        vec![
            self.tool("pg_ctl"),
            "-D".into(),
            self.data(),
            "-l".into(),
            self.dir.path().join("postgres.log").display().to_string(),
            "-o".into(),
            options,
            "-w".into(),
            "start".into(),
        ]
    }

    /// Runs `args` as the `postgres` user; panics when it fails.
    fn as_postgres<S: AsRef<str>>(&self, args: &[S]) {
        let output = Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .args(args.iter().map(AsRef::as_ref))
            .stdin(Stdio::null())
            .output()
            .expect("run runuser");
        assert!(
            output.status.success(),
            "{} failed: {}{}",
            args.first().map_or("", AsRef::as_ref),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let _ = Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(self.tool("pg_ctl"))
            .args(["-D", &self.data(), "stop", "-m", "immediate", "-w"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        // The TempDir removes the folder.
    }
}

/// The newest `/usr/lib/postgresql/<version>/bin` (initdb and pg_ctl are not on PATH).
fn postgres_bin() -> PathBuf {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL's tools in /usr/lib/postgresql")
        .flatten()
        .filter_map(|entry| Some((entry.file_name().to_str()?.parse().ok()?, entry.path().join("bin"))))
        .filter(|(_, bin)| bin.join("initdb").exists())
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin).expect("initdb under /usr/lib/postgresql/*/bin")
}
