//! Logins: what password hashing costs the server. N agents are created through the admin API
//! (`--create-concurrency` at a time, each create hashing a password), then all N log in at
//! once, each with its own password. The server's RSS is read at the start, after the creates
//! and after the logins, and its peak is sampled every 200 ms in between: Argon2's memory
//! (about 19 MiB per hash) should not stay resident per thread, nor should a burst of logins
//! queue without bound. A login the server refuses — 503 `hashing_busy` when its hashing queue
//! is full, 429 `login_throttled` or `rate_limited` — is retried after its `Retry-After` until
//! it succeeds or `--login-timeout` passes; the counts say how many were refused at first.
//!
//! The figures are printed, never asserted: the run fails (exit 1) only when a login failed for
//! good or a request errored.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::stream::{self, StreamExt};
use hdrhistogram::Histogram;
use serde::Deserialize;
use serde_json::{json, Value};

use super::Outcome;
use crate::cli::{LoginsArgs, TargetArgs};
use crate::client::{decode, Api, CallError};
use crate::population::admin_token;
use crate::procstat::{check_descriptors, ProcWatch};
use crate::report::{latency_json, round1, Progress};
use crate::server::Target;
use crate::stats::{latency_histogram, record_latency};

/// The target: the server's RSS after 200 logins at once, MiB.
const TARGET_RSS_AFTER_LOGINS_MIB: f64 = 200.0;
/// How often the server's RSS is sampled for the peaks.
const SAMPLE_EVERY: Duration = Duration::from_millis(200);
/// The wait before retrying a refusal that carried no `Retry-After`.
const DEFAULT_RETRY_WAIT: Duration = Duration::from_secs(1);
/// The shortest wait before a retry, so a `Retry-After: 0` cannot make a busy loop.
const MIN_RETRY_WAIT: Duration = Duration::from_millis(100);

const LOGIN_ROUTE: &str = "POST /api/agent/login";
const CREATE_ROUTE: &str = "POST /api/admin/agents";

#[derive(Deserialize)]
struct LoginAnswer {
    token: String,
}

/// One agent to create and log in.
struct Credentials {
    employee_id: String,
    password: String,
}

/// How one attempt was answered.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Answer {
    /// 2xx with the documented body.
    Ok,
    /// 429 or 503: the server asks us to come back later.
    Refused { status: u16, code: String, retry_after: Option<Duration> },
    /// Any other status.
    Other { status: u16, code: String },
    /// No answer (connect, reset, timeout), or a 2xx body that was not what the API documents.
    Failed { kind: String },
}

impl Answer {
    /// Classifies a call's result.
    fn of(result: &Result<Vec<u8>, CallError>, route: &str) -> Self {
        match result {
            Ok(_) => Answer::Ok,
            Err(CallError::Status { status, code, retry_after }) if *status == 429 || *status == 503 => {
                Answer::Refused { status: *status, code: code.clone(), retry_after: *retry_after }
            }
            Err(CallError::Status { status, code, .. }) => {
                Answer::Other { status: *status, code: code.clone() }
            }
            Err(error) => Answer::Failed { kind: error.kind(route) },
        }
    }
}

/// One attempt: its answer and how long it took, µs.
#[derive(Debug, Clone)]
struct Attempt {
    answer: Answer,
    latency_us: u64,
}

/// One request retried through refusals: every attempt, and the time from the first attempt's
/// start to the success, µs (`None`: it failed for good, its last attempt says why — or, when
/// that was a refusal, the deadline passed).
#[derive(Debug, Clone)]
struct Retried {
    attempts: Vec<Attempt>,
    succeeded_after_us: Option<u64>,
}

/// The wait before retrying a refusal, or `None` when the retry would come after the deadline.
fn retry_wait(retry_after: Option<Duration>, remaining: Duration) -> Option<Duration> {
    let wait = retry_after.unwrap_or(DEFAULT_RETRY_WAIT).max(MIN_RETRY_WAIT);
    (wait < remaining).then_some(wait)
}

/// Sends `call` until it succeeds, is answered otherwise than 429/503, or `timeout` passes
/// (each attempt gets what is left of it).
async fn retried<F, Fut>(timeout: Duration, route: &str, mut call: F) -> Retried
where
    F: FnMut(Duration) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<u8>, CallError>>,
{
    // tokio's clock, so that a test can run the waits on a paused one.
    let started = tokio::time::Instant::now();
    let deadline = started + timeout;
    let mut attempts = Vec::new();
    loop {
        let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
        let attempt_started = tokio::time::Instant::now();
        let answer = Answer::of(&call(remaining).await, route);
        let latency_us = micros(attempt_started.elapsed());
        let wait = match &answer {
            Answer::Refused { retry_after, .. } => {
                retry_wait(*retry_after, deadline.saturating_duration_since(tokio::time::Instant::now()))
            }
            _ => None,
        };
        let succeeded = answer == Answer::Ok;
        attempts.push(Attempt { answer, latency_us });
        if succeeded {
            return Retried { attempts, succeeded_after_us: Some(micros(started.elapsed())) };
        }
        let Some(wait) = wait else {
            return Retried { attempts, succeeded_after_us: None };
        };
        tokio::time::sleep(wait).await;
    }
}

fn micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros()).unwrap_or(u64::MAX)
}

/// What a phase's requests were answered, counted.
struct Tally {
    /// Requests (logins, creates) in the phase.
    requests: u64,
    /// Answers by status: `200`, `429`, `503`, `other`, and `no_answer` (transport errors and
    /// undecodable bodies).
    ok: u64,
    status_429: u64,
    status_503: u64,
    other: u64,
    no_answer: u64,
    /// 429/503 answers by `status code`, e.g. `503 hashing_busy`.
    refusals: BTreeMap<String, u64>,
    /// The longest `Retry-After` a refusal carried.
    retry_after_max: Option<Duration>,
    /// Requests that succeeded, and of them at the first attempt.
    succeeded: u64,
    succeeded_first_try: u64,
    /// Requests whose first answer was a 429 or 503.
    refused_at_first: u64,
    /// Requests that never succeeded, by why: the last answer, or `refused until
    /// --login-timeout` (the next retry, after its `Retry-After`, would have come too late).
    failed: BTreeMap<String, u64>,
    /// From the first attempt's start to the success, retries and waits included.
    until_success: Histogram<u64>,
    /// The successful attempt alone.
    ok_answer: Histogram<u64>,
    /// Each 429/503 answer: how fast a refusal comes back.
    refusal_answer: Histogram<u64>,
}

impl Tally {
    fn new() -> Self {
        Self {
            requests: 0,
            ok: 0,
            status_429: 0,
            status_503: 0,
            other: 0,
            no_answer: 0,
            refusals: BTreeMap::new(),
            retry_after_max: None,
            succeeded: 0,
            succeeded_first_try: 0,
            refused_at_first: 0,
            failed: BTreeMap::new(),
            until_success: latency_histogram(),
            ok_answer: latency_histogram(),
            refusal_answer: latency_histogram(),
        }
    }

    /// Counts one request and its attempts.
    fn add(&mut self, request: &Retried, route: &str) {
        self.requests += 1;
        for attempt in &request.attempts {
            match &attempt.answer {
                Answer::Ok => {
                    self.ok += 1;
                    record_latency(&mut self.ok_answer, attempt.latency_us);
                }
                Answer::Refused { status, code, retry_after } => {
                    self.retry_after_max = self.retry_after_max.max(*retry_after);
                    if *status == 429 {
                        self.status_429 += 1;
                    } else {
                        self.status_503 += 1;
                    }
                    *self.refusals.entry(format!("{status} {code}")).or_insert(0) += 1;
                    record_latency(&mut self.refusal_answer, attempt.latency_us);
                }
                Answer::Other { .. } => self.other += 1,
                Answer::Failed { .. } => self.no_answer += 1,
            }
        }
        if matches!(request.attempts.first(), Some(Attempt { answer: Answer::Refused { .. }, .. })) {
            self.refused_at_first += 1;
        }
        match request.succeeded_after_us {
            Some(after_us) => {
                self.succeeded += 1;
                if request.attempts.len() == 1 {
                    self.succeeded_first_try += 1;
                }
                record_latency(&mut self.until_success, after_us);
            }
            None => {
                let why = match request.attempts.last().map(|attempt| &attempt.answer) {
                    Some(Answer::Refused { .. }) => "refused until --login-timeout".to_string(),
                    Some(Answer::Other { status, code }) => format!("{route} {status} {code}"),
                    Some(Answer::Failed { kind }) => kind.clone(),
                    Some(Answer::Ok) | None => "no attempt".to_string(),
                };
                *self.failed.entry(why).or_insert(0) += 1;
            }
        }
    }

    /// Requests that never succeeded.
    fn failed_total(&self) -> u64 {
        self.failed.values().sum()
    }

    /// Answers that were errors, not refusals: other statuses and no answer at all.
    fn errors(&self) -> u64 {
        self.other + self.no_answer
    }

    fn json(&self, secs: f64) -> Value {
        json!({
            "requests": self.requests,
            "secs": (secs * 1000.0).round() / 1000.0,
            "answers": {
                "200": self.ok,
                "429": self.status_429,
                "503": self.status_503,
                "other": self.other,
                "no_answer": self.no_answer,
            },
            "refusals": self.refusals,
            "retry_after_max_secs": self.retry_after_max.map(|wait| wait.as_secs_f64()),
            "succeeded": self.succeeded,
            "succeeded_first_try": self.succeeded_first_try,
            "refused_at_first": self.refused_at_first,
            "failed_for_good": self.failed_total(),
            "failed_by_why": self.failed,
            "until_success_latency_us": latency_json(&self.until_success),
            "ok_answer_latency_us": latency_json(&self.ok_answer),
            "refusal_answer_latency_us": latency_json(&self.refusal_answer),
        })
    }

    /// One line for a person.
    fn line(&self, what: &str, secs: f64) -> String {
        let ms = |histogram: &Histogram<u64>, quantile: f64| {
            if histogram.is_empty() {
                "-".to_string()
            } else {
                format!("{:.0}", histogram.value_at_quantile(quantile) as f64 / 1000.0)
            }
        };
        format!(
            "{what}: {} in {secs:.2} s; answers 200 ×{}, 429 ×{}, 503 ×{}, other ×{}, no answer ×{}; \
             refused at first {}; succeeded {} ({} at the first try), failed for good {}; \
             until success p50 {} ms, p99 {} ms, max {} ms",
            self.requests,
            self.ok,
            self.status_429,
            self.status_503,
            self.other,
            self.no_answer,
            self.refused_at_first,
            self.succeeded,
            self.succeeded_first_try,
            self.failed_total(),
            ms(&self.until_success, 0.5),
            ms(&self.until_success, 0.99),
            ms(&self.until_success, 1.0),
        )
    }
}

/// Samples the server's RSS every 200 ms in the background, keeping the peak since it was last
/// taken, and shows it on the progress line.
struct RssSampler {
    /// Highest RSS since the last [`RssSampler::take_peak`], KiB; 0 when none was read. Shared
    /// with the sampling task.
    peak_kib: Arc<AtomicU64>,
    watch: ProcWatch,
    task: tokio::task::JoinHandle<()>,
}

impl RssSampler {
    fn start(watch: ProcWatch, progress: Progress) -> Self {
        let peak_kib = Arc::new(AtomicU64::new(0));
        let peak = Arc::clone(&peak_kib);
        let task = tokio::spawn(async move {
            let mut ticker = tokio::time::interval(SAMPLE_EVERY);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticker.tick().await;
                if let Some(sample) = watch.sample() {
                    let before = peak.fetch_max(sample.rss_kib, Ordering::Relaxed);
                    progress.status(format!(
                        "server RSS {} MiB, peak of the phase {} MiB",
                        sample.rss_kib / 1024,
                        before.max(sample.rss_kib) / 1024
                    ));
                }
            }
        });
        Self { peak_kib, watch, task }
    }

    /// The server's RSS now, KiB; it counts toward the peak.
    fn now(&self) -> Option<u64> {
        let rss = self.watch.sample()?.rss_kib;
        self.peak_kib.fetch_max(rss, Ordering::Relaxed);
        Some(rss)
    }

    /// The peak since the last call, KiB, and a fresh start.
    fn take_peak(&self) -> Option<u64> {
        let now = self.now().unwrap_or(0);
        Some(self.peak_kib.swap(0, Ordering::Relaxed).max(now)).filter(|&peak| peak > 0)
    }
}

impl Drop for RssSampler {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The server's RSS at the moments the scenario reads it, KiB (`None`: its pid is unknown).
#[derive(Debug, Default, Clone, Copy)]
struct RssReadings {
    start: Option<u64>,
    peak_during_create: Option<u64>,
    after_create: Option<u64>,
    peak_during_logins: Option<u64>,
    after_logins: Option<u64>,
}

fn mib(kib: Option<u64>) -> Option<f64> {
    kib.map(|kib| round1(kib as f64 / 1024.0))
}

fn mib_text(kib: Option<u64>) -> String {
    mib(kib).map_or("?".to_string(), |mib| format!("{mib} MiB"))
}

/// Runs the logins scenario.
pub async fn run(
    target_args: &TargetArgs,
    args: &LoginsArgs,
    progress: &Progress,
) -> Result<Outcome, String> {
    if target_args.nodes > 1 || target_args.url.as_deref().is_some_and(|urls| urls.contains(',')) {
        return Err("logins measures one server process's memory: give it one node".into());
    }
    if args.agents == 0 {
        return Err("--agents must be at least 1".into());
    }
    let login_concurrency = args.login_concurrency.unwrap_or(args.agents).clamp(1, args.agents);
    let create_concurrency = args.create_concurrency.max(1);
    let ulimit_needed = check_descriptors((login_concurrency + create_concurrency) as u64)?;
    let target = Target::switchboard(target_args).await?;
    progress.log(&format!("switchboard: {}", target.description));
    let outcome = drive(&target, target_args, args, login_concurrency, create_concurrency, progress).await;
    let description = target.description.clone();
    let tail = target.log_tail();
    target.stop().await;
    let (mut figures, ok) = outcome.map_err(|error| format!("{error}\n{tail}"))?;
    if let Some(object) = figures.as_object_mut() {
        object.insert("scenario".into(), json!("logins"));
        object.insert("server".into(), json!(description));
        object.insert(
            "settings".into(),
            json!({
                "agents": args.agents,
                "create_concurrency": create_concurrency,
                "login_concurrency": login_concurrency,
                "login_timeout_secs": args.login_timeout,
                "settle_secs": args.settle,
                "source_addrs": target_args.source_addrs,
                "server_workers": target_args.server_workers,
                "server_env": target_args.server_env,
            }),
        );
        object.insert("ulimit_n_needed".into(), json!(ulimit_needed));
    }
    Ok(Outcome { summary: figures, ok })
}

/// The creates, the logins and the readings; the figures and whether the run passed.
async fn drive(
    target: &Target,
    target_args: &TargetArgs,
    args: &LoginsArgs,
    login_concurrency: usize,
    create_concurrency: usize,
    progress: &Progress,
) -> Result<(Value, bool), String> {
    let api = Api::new(&target.urls(), target_args.source_addrs).map_err(|e| format!("HTTP client: {e}"))?;
    let watch = target.pid().map(ProcWatch::new);
    if watch.is_none() {
        progress.log("the server's pid is unknown (pass --server-pid): no RSS figures");
    }
    let sampler = watch.map(|watch| RssSampler::start(watch, progress.clone()));
    let now = || sampler.as_ref().and_then(RssSampler::now);
    let peak = || sampler.as_ref().and_then(RssSampler::take_peak);
    let timeout = Duration::from_secs(args.login_timeout.max(1));
    let settle = Duration::from_secs(args.settle);
    let mut rss = RssReadings { start: now(), ..RssReadings::default() };
    // The creates' peak counts from here.
    peak();
    progress.log(&format!("server RSS at the start: {}", mib_text(rss.start)));

    let admin = admin_token(&api, &target_args.admin_employee_id, &target_args.admin_password).await?;
    let run_tag = format!("{:06x}", rand::random::<u32>() & 0xff_ffff);
    let agents: Vec<Credentials> = (0..args.agents)
        .map(|index| Credentials {
            employee_id: format!("G{run_tag}-{index}"),
            password: format!("login-{run_tag}-{index}-{:08x}", rand::random::<u32>()),
        })
        .collect();

    progress.phase(
        &format!("creating {} agents, {create_concurrency} at a time", agents.len()),
        Some(agents.len() as u64),
    );
    let started = Instant::now();
    let created: Vec<(usize, Retried)> = stream::iter(agents.iter().enumerate())
        .map(|(index, agent)| {
            let (api, admin) = (&api, admin.as_str());
            let body = json!({
                "employee_id": agent.employee_id,
                "name": format!("Login agent {index}"),
                "password": agent.password,
                "max_chats": 1,
            });
            async move {
                let body = &body;
                let outcome = retried(timeout, CREATE_ROUTE, |remaining| async move {
                    api.post(index, "/api/admin/agents", Some(admin), body, remaining).await
                })
                .await;
                progress.inc();
                (index, outcome)
            }
        })
        .buffer_unordered(create_concurrency)
        .collect()
        .await;
    let create_secs = started.elapsed().as_secs_f64();
    let mut creates = Tally::new();
    let mut made = Vec::new();
    for (index, outcome) in &created {
        creates.add(outcome, CREATE_ROUTE);
        if outcome.succeeded_after_us.is_some() {
            made.push(&agents[*index]);
        }
    }
    progress.log(&creates.line("creates", create_secs));
    if made.is_empty() {
        return Err(format!("no agent could be created: {:?}", creates.failed));
    }
    tokio::time::sleep(settle).await;
    rss.after_create = now();
    rss.peak_during_create = peak();
    progress.log(&format!(
        "server RSS after the creates: {} (peak {})",
        mib_text(rss.after_create),
        mib_text(rss.peak_during_create)
    ));

    progress.phase(
        &format!("logging in {} agents, {login_concurrency} at a time", made.len()),
        Some(made.len() as u64),
    );
    let started = Instant::now();
    let logged_in: Vec<Retried> = stream::iter(made.iter().enumerate())
        .map(|(index, agent)| {
            let api = &api;
            let body = json!({ "employee_id": agent.employee_id, "password": agent.password });
            async move {
                let body = &body;
                let outcome = retried(timeout, LOGIN_ROUTE, |remaining| async move {
                    let answer = api.post(index, "/api/agent/login", None, body, remaining).await?;
                    // A 200 counts only with the token the API documents.
                    let login = decode::<LoginAnswer>(&answer, "login answer")?;
                    if login.token.is_empty() {
                        return Err(CallError::Decode("login answer"));
                    }
                    Ok(answer)
                })
                .await;
                progress.inc();
                outcome
            }
        })
        .buffer_unordered(login_concurrency)
        .collect()
        .await;
    let login_secs = started.elapsed().as_secs_f64();
    let mut logins = Tally::new();
    for outcome in &logged_in {
        logins.add(outcome, LOGIN_ROUTE);
    }
    progress.log(&logins.line("logins", login_secs));
    tokio::time::sleep(settle).await;
    rss.after_logins = now();
    rss.peak_during_logins = peak();
    drop(sampler);

    let under_target = mib(rss.after_logins).map(|after| after < TARGET_RSS_AFTER_LOGINS_MIB);
    progress.log(&format!(
        "server RSS: start {}, after the creates {} (peak {}), after the logins {} (peak {}); \
         after the logins under {TARGET_RSS_AFTER_LOGINS_MIB} MiB: {}",
        mib_text(rss.start),
        mib_text(rss.after_create),
        mib_text(rss.peak_during_create),
        mib_text(rss.after_logins),
        mib_text(rss.peak_during_logins),
        under_target.map_or("?", |under| if under { "yes" } else { "NO" }),
    ));
    let ok = creates.errors() == 0 && logins.errors() == 0 && logins.failed_total() == 0;
    let figures = json!({
        "server_rss_kib": {
            "start": rss.start,
            "after_create": rss.after_create,
            "peak_during_create": rss.peak_during_create,
            "after_logins": rss.after_logins,
            "peak_during_logins": rss.peak_during_logins,
        },
        "creates": creates.json(create_secs),
        "logins": logins.json(login_secs),
        "verdict": {
            "rss_after_logins_mib": mib(rss.after_logins),
            "rss_peak_during_logins_mib": mib(rss.peak_during_logins),
            "target_rss_after_logins_mib": TARGET_RSS_AFTER_LOGINS_MIB,
            "rss_after_logins_under_target": under_target,
            "logins_refused_at_first": logins.refused_at_first,
            "logins_failed_for_good": logins.failed_total(),
            "request_errors": creates.errors() + logins.errors(),
            "ok": ok,
        },
    });
    Ok((figures, ok))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attempt(answer: Answer, latency_us: u64) -> Attempt {
        Attempt { answer, latency_us }
    }

    fn refused(status: u16, code: &str) -> Answer {
        Answer::Refused { status, code: code.to_string(), retry_after: Some(Duration::from_secs(1)) }
    }

    #[test]
    fn answers_are_classified_as_ok_refused_other_or_failed() {
        let status = |status: u16, code: &str| -> Result<Vec<u8>, CallError> {
            Err(CallError::Status { status, code: code.to_string(), retry_after: None })
        };
        assert_eq!(Answer::of(&Ok(b"{}".to_vec()), LOGIN_ROUTE), Answer::Ok);
        assert_eq!(
            Answer::of(&status(503, "hashing_busy"), LOGIN_ROUTE),
            Answer::Refused { status: 503, code: "hashing_busy".into(), retry_after: None }
        );
        assert!(matches!(Answer::of(&status(429, "login_throttled"), LOGIN_ROUTE), Answer::Refused { .. }));
        assert_eq!(
            Answer::of(&status(401, "invalid_credentials"), LOGIN_ROUTE),
            Answer::Other { status: 401, code: "invalid_credentials".into() }
        );
        assert_eq!(
            Answer::of(&Err(CallError::Transport("reset".into())), LOGIN_ROUTE),
            Answer::Failed { kind: "POST /api/agent/login transport reset".into() }
        );
    }

    #[test]
    fn a_retry_waits_for_retry_after_unless_the_deadline_comes_first() {
        let secs = Duration::from_secs;
        assert_eq!(retry_wait(Some(secs(2)), secs(10)), Some(secs(2)));
        assert_eq!(retry_wait(None, secs(10)), Some(DEFAULT_RETRY_WAIT));
        assert_eq!(retry_wait(Some(secs(0)), secs(10)), Some(MIN_RETRY_WAIT));
        assert_eq!(retry_wait(Some(secs(300)), secs(60)), None);
    }

    #[test]
    fn the_tally_counts_every_answer_and_how_each_login_ended() {
        let mut tally = Tally::new();
        let first_try = Retried { attempts: vec![attempt(Answer::Ok, 900)], succeeded_after_us: Some(900) };
        let after_refusals = Retried {
            attempts: vec![
                attempt(refused(503, "hashing_busy"), 10),
                attempt(
                    Answer::Refused {
                        status: 429,
                        code: "login_throttled".into(),
                        retry_after: Some(Duration::from_secs(300)),
                    },
                    20,
                ),
                attempt(Answer::Ok, 800),
            ],
            succeeded_after_us: Some(2_000_000),
        };
        let refused_to_the_end = Retried {
            attempts: vec![
                attempt(refused(503, "hashing_busy"), 10),
                attempt(refused(503, "hashing_busy"), 10),
            ],
            succeeded_after_us: None,
        };
        let wrong = Retried {
            attempts: vec![attempt(Answer::Other { status: 401, code: "invalid_credentials".into() }, 5)],
            succeeded_after_us: None,
        };
        let gone = Retried {
            attempts: vec![attempt(
                Answer::Failed { kind: "POST /api/agent/login transport reset".into() },
                5,
            )],
            succeeded_after_us: None,
        };
        for request in [&first_try, &after_refusals, &refused_to_the_end, &wrong, &gone] {
            tally.add(request, LOGIN_ROUTE);
        }
        assert_eq!(tally.requests, 5);
        assert_eq!(
            (tally.ok, tally.status_429, tally.status_503, tally.other, tally.no_answer),
            (2, 1, 3, 1, 1)
        );
        assert_eq!(tally.refusals.get("503 hashing_busy"), Some(&3));
        assert_eq!(tally.refusals.get("429 login_throttled"), Some(&1));
        assert_eq!(tally.retry_after_max, Some(Duration::from_secs(300)));
        assert_eq!((tally.succeeded, tally.succeeded_first_try, tally.refused_at_first), (2, 1, 2));
        assert_eq!(tally.failed_total(), 3);
        assert_eq!(tally.failed.get("refused until --login-timeout"), Some(&1));
        assert_eq!(tally.failed.get("POST /api/agent/login 401 invalid_credentials"), Some(&1));
        assert_eq!(tally.errors(), 2);
        assert_eq!(tally.until_success.len(), 2);
        assert_eq!(tally.refusal_answer.len(), 4);
        assert!(tally.until_success.max() >= 1_990_000);
    }

    #[tokio::test(start_paused = true)]
    async fn a_refused_request_is_retried_until_it_succeeds() {
        let mut answers = vec![
            Ok(b"{}".to_vec()),
            Err(CallError::Status {
                status: 503,
                code: "hashing_busy".into(),
                retry_after: Some(Duration::from_secs(1)),
            }),
        ];
        let outcome = retried(Duration::from_secs(60), LOGIN_ROUTE, |_| {
            let answer = answers.pop().expect("an answer");
            async move { answer }
        })
        .await;
        assert_eq!(outcome.attempts.len(), 2);
        assert!(outcome.succeeded_after_us.is_some_and(|us| us >= 1_000_000));
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_refused_past_its_deadline_fails_for_good() {
        let mut calls = 0;
        let outcome = retried(Duration::from_secs(5), LOGIN_ROUTE, |_| {
            calls += 1;
            async {
                Err(CallError::Status {
                    status: 503,
                    code: "hashing_busy".into(),
                    retry_after: Some(Duration::from_secs(2)),
                })
            }
        })
        .await;
        // At 0 s, 2 s and 4 s; a retry at 6 s would come after the deadline.
        assert_eq!(calls, 3);
        assert_eq!(outcome.succeeded_after_us, None);
    }
}
