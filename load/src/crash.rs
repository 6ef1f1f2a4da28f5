//! `--crash-after`: kill -9 a spawned server while messages are in flight. One node is started
//! again on the same store and port (nothing acknowledged may be lost by the crash); of several
//! nodes the first stays dead and its visitors and agents carry on through the others.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::sync::Mutex;
use tokio::task::JoinHandle;

use crate::actors::Ctx;
use crate::report::{self, Progress};
use crate::server::Target;

/// Crashes the target `after` the start of sending; answers what happened, for the summary,
/// or `None` when the run ended before its moment.
pub fn spawn_crash(
    target: Arc<Mutex<Target>>,
    ctx: Arc<Ctx>,
    after: Duration,
    progress: &Progress,
) -> JoinHandle<Result<Option<Value>, String>> {
    let progress = progress.clone();
    let pending = ctx.disruptions.pending();
    tokio::spawn(async move {
        let _pending = pending;
        let Some(sending_since) = ctx.disruptions.at(after).await else { return Ok(None) };
        let at_secs = report::round1(sending_since.elapsed().as_secs_f64());
        let acked_before = ctx.stats.snapshot().sends_acked;
        let mut target = target.lock().await;
        if target.node_count() > 1 {
            target.kill_node(0)?;
            progress.log(&format!(
                "crash: kill -9 of node 0 of {} after {at_secs} s of sending with {acked_before} messages acknowledged; not restarted",
                target.node_count()
            ));
            return Ok(Some(json!({
                "after_secs": after.as_secs_f64(),
                "at_secs": at_secs,
                "acked_before": acked_before,
                "node": 0,
                "restarted": false,
            })));
        }
        let restarted_in = target.crash_and_restart().await?;
        progress.log(&format!(
            "crash: kill -9 after {at_secs} s of sending with {acked_before} messages acknowledged; answering again after {} ms",
            restarted_in.as_millis()
        ));
        Ok(Some(json!({
            "after_secs": after.as_secs_f64(),
            "at_secs": at_secs,
            "acked_before": acked_before,
            "node": 0,
            "restarted": true,
            "restarted_in_ms": restarted_in.as_millis() as u64,
        })))
    })
}
