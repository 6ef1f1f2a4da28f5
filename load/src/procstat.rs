//! Samples a process's resident memory and CPU time from `/proc/<pid>`.

use std::time::Instant;

/// One reading of a process.
#[derive(Debug, Clone, Copy)]
pub struct ProcSample {
    /// When it was taken.
    pub at: Instant,
    /// Resident set size, KiB (`VmRSS`).
    pub rss_kib: u64,
    /// User + system CPU time, seconds.
    pub cpu_secs: f64,
    /// Threads.
    pub threads: u64,
}

/// Reads `/proc/<pid>` (and a second process's, summed: nginx's master and its one worker);
/// `None` once the process is gone.
#[derive(Debug, Clone, Copy)]
pub struct ProcWatch {
    pid: u32,
    also: Option<u32>,
    ticks_per_sec: f64,
}

impl ProcWatch {
    /// Watches `pid`.
    pub fn new(pid: u32) -> Self {
        Self { pid, also: None, ticks_per_sec: clock_ticks_per_sec() }
    }

    /// Watches `pid` and its child processes of now (an nginx master and its worker), summed.
    pub fn with_children(pid: u32) -> Self {
        Self { also: children_of(pid).first().copied(), ..Self::new(pid) }
    }

    /// Watches this process.
    pub fn this_process() -> Self {
        Self::new(std::process::id())
    }

    /// Reads the process (and the second one, summed) now.
    pub fn sample(&self) -> Option<ProcSample> {
        let first = self.sample_one(self.pid)?;
        let Some(also) = self.also else { return Some(first) };
        let second = self.sample_one(also)?;
        Some(ProcSample {
            at: first.at,
            rss_kib: first.rss_kib + second.rss_kib,
            cpu_secs: first.cpu_secs + second.cpu_secs,
            threads: first.threads + second.threads,
        })
    }

    fn sample_one(&self, pid: u32) -> Option<ProcSample> {
        let at = Instant::now();
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // The command name may hold spaces and parentheses: fields are counted after the last ')'.
        let fields: Vec<&str> = stat.get(stat.rfind(')')? + 2..)?.split_whitespace().collect();
        // Fields 14 (utime) and 15 (stime) of proc(5); the slice starts at field 3.
        let utime: f64 = fields.get(11)?.parse().ok()?;
        let stime: f64 = fields.get(12)?.parse().ok()?;
        let threads: u64 = fields.get(17)?.parse().ok()?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let rss_kib = status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kib| kib.parse().ok())?;
        Some(ProcSample { at, rss_kib, cpu_secs: (utime + stime) / self.ticks_per_sec, threads })
    }

    /// Open file descriptors of the process (slow with many: read only at measuring points).
    pub fn open_fds(&self) -> Option<u64> {
        let count =
            |pid: u32| std::fs::read_dir(format!("/proc/{pid}/fd")).ok().map(|dir| dir.count() as u64);
        Some(count(self.pid)? + self.also.and_then(count).unwrap_or(0))
    }
}

/// The processes whose parent is `pid` (a scan of `/proc`: this kernel has no
/// `/proc/<pid>/task/<pid>/children`).
pub fn children_of(pid: u32) -> Vec<u32> {
    processes().filter(|(_, stat)| parent_of(stat) == Some(pid)).map(|(child, _)| child).collect()
}

/// Every process's pid and `/proc/<pid>/stat`.
fn processes() -> impl Iterator<Item = (u32, String)> {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| Some((pid, std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)))
}

/// Field 4 of `/proc/<pid>/stat`.
fn parent_of(stat: &str) -> Option<u32> {
    stat.get(stat.rfind(')')? + 2..)?.split_whitespace().nth(1)?.parse().ok()
}

/// CPU seconds (user + system) used so far by the PostgreSQL backends serving `database`
/// (their process title reads `postgres: … <user> <database> <host>(<port>) <state>`); backends
/// that already exited are not counted, so read it while the run's connections are open.
pub fn postgres_backends_cpu_secs(database: &str) -> f64 {
    let needle = format!(" {database} ");
    let ticks = clock_ticks_per_sec();
    processes()
        .filter(|(pid, _)| {
            std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|title| {
                title.starts_with(b"postgres: ") && String::from_utf8_lossy(&title).contains(&needle)
            })
        })
        .filter_map(|(_, stat)| {
            let fields: Vec<&str> = stat.get(stat.rfind(')')? + 2..)?.split_whitespace().collect();
            Some((fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?) / ticks)
        })
        .sum()
}

/// CPU used between two samples, in percent of one core.
pub fn cpu_percent(from: &ProcSample, to: &ProcSample) -> f64 {
    let wall = to.at.duration_since(from.at).as_secs_f64();
    if wall <= 0.0 {
        return 0.0;
    }
    (to.cpu_secs - from.cpu_secs) / wall * 100.0
}

/// `getconf CLK_TCK`, the unit of the CPU times in `/proc/<pid>/stat`; 100 on every Linux
/// this runs on when it cannot be asked.
fn clock_ticks_per_sec() -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(ask_clock_ticks)
}

fn ask_clock_ticks() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .and_then(|text| text.trim().parse::<f64>().ok())
        .filter(|ticks| *ticks > 0.0)
        .unwrap_or(100.0)
}

/// The soft descriptor limit after raising it as far as the hard one allows.
pub fn descriptor_limit() -> u64 {
    rlimit::increase_nofile_limit(u64::MAX)
        .or_else(|_| rlimit::getrlimit(rlimit::Resource::NOFILE).map(|(soft, _)| soft))
        .unwrap_or(1024)
}

/// Descriptors this process keeps for itself besides its connections (stdio, epoll, the
/// runtime's pipes, files read from /proc).
pub const OWN_DESCRIPTORS: u64 = 64;

/// Checks that `connections` fit under this process's descriptor limit, saying what
/// `ulimit -n` they need when they do not.
pub fn check_descriptors(connections: u64) -> Result<u64, String> {
    let needed = connections + OWN_DESCRIPTORS;
    let limit = descriptor_limit();
    if needed > limit {
        return Err(format!(
            "this run needs `ulimit -n` ≥ {needed} ({connections} connections + {OWN_DESCRIPTORS}); \
             this process may open {limit}. Lower the load, or split it over several processes."
        ));
    }
    Ok(needed)
}

/// The whole machine's CPU use, from the first line of `/proc/stat`.
#[derive(Debug, Clone, Copy)]
pub struct MachineSample {
    at: Instant,
    busy_secs: f64,
}

impl MachineSample {
    /// Reads `/proc/stat` now.
    pub fn now() -> Option<Self> {
        let at = Instant::now();
        let stat = std::fs::read_to_string("/proc/stat").ok()?;
        let ticks: Vec<f64> =
            stat.lines().next()?.split_whitespace().skip(1).filter_map(|field| field.parse().ok()).collect();
        // user nice system idle iowait irq softirq steal …: busy is all but idle and iowait.
        let total: f64 = ticks.iter().take(8).sum();
        let idle = ticks.get(3)? + ticks.get(4).unwrap_or(&0.0);
        Some(Self { at, busy_secs: (total - idle) / clock_ticks_per_sec() })
    }

    /// CPU busy on the whole machine between two readings, percent of one core.
    pub fn busy_percent(from: &Self, to: &Self) -> f64 {
        let wall = to.at.duration_since(from.at).as_secs_f64();
        if wall <= 0.0 {
            return 0.0;
        }
        (to.busy_secs - from.busy_secs) / wall * 100.0
    }
}

/// The 1-minute load average.
pub fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg").ok()?.split_whitespace().next()?.parse().ok()
}
