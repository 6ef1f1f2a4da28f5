//! Dedicated threads behind a bounded queue, for work that blocks and so must never run on the
//! async workers that hold polls. Two pools use it:
//!
//! - the store's readers (`store`): as many threads as the r2d2 pool has connections, so a
//!   thread never waits for a connection;
//! - password hashing (`service::auth`): a few threads, so that argon2's memory (19 MiB per
//!   hash in flight) is held by a few threads only, however many logins arrive at once.
//!
//! The queue in front is bounded, so work that falls behind turns into quick 503s instead of an
//! unbounded backlog.

use std::panic::{catch_unwind, AssertUnwindSafe};

use crossbeam_channel::{bounded, Receiver, Sender, TrySendError};

type Job = Box<dyn FnOnce() + Send + 'static>;

/// Why a job did not run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PoolError {
    /// The queue is full: the pool is behind.
    #[error("the queue is full")]
    QueueFull,
    /// The job panicked or the pool is gone.
    #[error("the job did not finish")]
    Lost,
}

/// Handle to a pool's threads; cloning shares the same threads.
#[derive(Clone)]
pub struct BoundedPool {
    jobs: Sender<Job>,
}

impl BoundedPool {
    /// Starts `threads` threads named `{name}-N` behind a queue of `queue_len` jobs. The
    /// threads end when the last handle is dropped.
    pub fn start(name: &str, threads: usize, queue_len: usize) -> std::io::Result<Self> {
        let (jobs, receiver) = bounded::<Job>(queue_len.max(1));
        for index in 0..threads.max(1) {
            let receiver = receiver.clone();
            std::thread::Builder::new().name(format!("{name}-{index}")).spawn(move || run_jobs(&receiver))?;
        }
        Ok(Self { jobs })
    }

    /// Runs `work` on one of the pool's threads and waits for its result without blocking the caller's
    /// async worker.
    pub async fn run<T, F>(&self, work: F) -> Result<T, PoolError>
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
            TrySendError::Full(_) => PoolError::QueueFull,
            TrySendError::Disconnected(_) => PoolError::Lost,
        })?;
        answer.await.map_err(|_| PoolError::Lost)
    }

    /// Jobs waiting for a thread right now.
    pub fn queued(&self) -> usize {
        self.jobs.len()
    }
}

fn run_jobs(receiver: &Receiver<Job>) {
    while let Ok(job) = receiver.recv() {
        // A panicking job must not take a thread with it; its caller sees `Lost`.
        if catch_unwind(AssertUnwindSafe(job)).is_err() {
            log::error!("a job panicked on {}", std::thread::current().name().unwrap_or("a pool thread"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_job_runs_on_a_thread_of_the_pool_named_after_it() {
        let executor = BoundedPool::start("store", 2, 8).expect("threads start");
        let name =
            executor.run(|| std::thread::current().name().map(str::to_string)).await.expect("job runs");
        assert!(name.is_some_and(|n| n.starts_with("store-")));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_queue_is_refused_at_once() {
        let executor = BoundedPool::start("store", 1, 1).expect("threads start");
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
        assert_eq!(executor.run(|| ()).await, Err(PoolError::QueueFull));
        release.send(()).expect("release first job");
        assert!(first.await.expect("join").is_ok());
        assert!(second.await.expect("join").is_ok());
    }

    #[tokio::test]
    async fn a_panicking_job_is_reported_and_the_thread_lives_on() {
        let executor = BoundedPool::start("store", 1, 4).expect("threads start");
        let lost = executor.run(|| panic!("boom")).await;
        assert_eq!(lost.map(|_: ()| ()), Err(PoolError::Lost));
        assert_eq!(executor.run(|| 41 + 1).await, Ok(42));
    }
}
