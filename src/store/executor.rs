//! The dedicated thread pool every store call runs on.
//!
//! Store work blocks (a pooled connection, a disk sync, a lock wait), so it never runs on the
//! async workers that hold polls. The pool has as many threads as the r2d2 pool has
//! connections, so a thread never waits for a connection, and a bounded queue in front of it, so
//! a store that falls behind turns into quick 503s instead of an unbounded backlog.

use std::panic::{catch_unwind, AssertUnwindSafe};

use crossbeam_channel::{bounded, Receiver, Sender, TrySendError};

type Job = Box<dyn FnOnce() + Send + 'static>;

/// Why a job did not run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ExecutorError {
    /// The queue is full: the store is behind.
    #[error("the store queue is full")]
    QueueFull,
    /// The job panicked or the pool is gone.
    #[error("the store job did not finish")]
    Lost,
}

/// Handle to the store threads; cloning shares the same threads.
#[derive(Clone)]
pub struct StoreExecutor {
    jobs: Sender<Job>,
}

impl StoreExecutor {
    /// Starts `threads` threads named `store-N` behind a queue of `queue_len` jobs. The threads
    /// end when the last handle is dropped.
    pub fn start(threads: usize, queue_len: usize) -> std::io::Result<Self> {
        let (jobs, receiver) = bounded::<Job>(queue_len.max(1));
        for index in 0..threads.max(1) {
            let receiver = receiver.clone();
            std::thread::Builder::new().name(format!("store-{index}")).spawn(move || run_jobs(&receiver))?;
        }
        Ok(Self { jobs })
    }

    /// Runs `work` on a store thread and waits for its result without blocking the caller's
    /// async worker.
    pub async fn run<T, F>(&self, work: F) -> Result<T, ExecutorError>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            // The caller may have gone (client disconnected); its answer is then not needed.
            let _ = reply.send(work());
        });
        self.jobs.try_send(job).map_err(|error| match error {
            TrySendError::Full(_) => ExecutorError::QueueFull,
            TrySendError::Disconnected(_) => ExecutorError::Lost,
        })?;
        answer.await.map_err(|_| ExecutorError::Lost)
    }

    /// Jobs waiting for a thread right now.
    pub fn queued(&self) -> usize {
        self.jobs.len()
    }
}

fn run_jobs(receiver: &Receiver<Job>) {
    while let Ok(job) = receiver.recv() {
        // A panicking job must not take a store thread with it; its caller sees `Lost`.
        if catch_unwind(AssertUnwindSafe(job)).is_err() {
            log::error!("a store job panicked");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_job_runs_on_a_store_thread() {
        let executor = StoreExecutor::start(2, 8).expect("threads start");
        let name =
            executor.run(|| std::thread::current().name().map(str::to_string)).await.expect("job runs");
        assert!(name.is_some_and(|n| n.starts_with("store-")));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_queue_is_refused_at_once() {
        let executor = StoreExecutor::start(1, 1).expect("threads start");
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let (started, running) = std::sync::mpsc::channel::<()>();
        let blocker = executor.clone();
        let first = tokio::spawn(async move {
            blocker
                .run(move || {
                    let _ = started.send(());
                    let _ = wait.recv();
                })
                .await
        });
        tokio::task::spawn_blocking(move || running.recv()).await.expect("join").expect("first job started");
        let queued = executor.clone();
        let second = tokio::spawn(async move { queued.run(|| ()).await });
        // Wait until the second job sits in the one queue slot.
        while executor.queued() == 0 {
            tokio::task::yield_now().await;
        }
        assert_eq!(executor.run(|| ()).await, Err(ExecutorError::QueueFull));
        release.send(()).expect("release first job");
        assert!(first.await.expect("join").is_ok());
        assert!(second.await.expect("join").is_ok());
    }

    #[tokio::test]
    async fn a_panicking_job_is_reported_and_the_thread_lives_on() {
        let executor = StoreExecutor::start(1, 4).expect("threads start");
        let lost = executor.run(|| panic!("boom")).await;
        assert_eq!(lost.map(|_: ()| ()), Err(ExecutorError::Lost));
        assert_eq!(executor.run(|| 41 + 1).await, Ok(42));
    }
}
