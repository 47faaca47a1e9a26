//! Recording usage off the request path.
//!
//! A request appends its record to a shared buffer under a short lock and
//! moves on: no channel, no task to wake. One task takes the buffer every
//! [`WINDOW`] and writes it in one transaction. Waking a writer per request
//! (and a database round trip per record) was most of the gateway's CPU time
//! in profiles. When the buffer is full a record is dropped (and counted in
//! the log) rather than slowing requests down. [`UsageRecorder::flush`]
//! writes at once.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use modelgate_store::{Store, UsageRecord};
use tokio::sync::{mpsc, oneshot};

/// Records held at most before new ones are dropped.
const CAPACITY: usize = 65_536;
/// How long records wait to be written with others.
pub const WINDOW: Duration = Duration::from_millis(250);

pub struct UsageRecorder {
    buffer: Arc<Mutex<Vec<UsageRecord>>>,
    flushes: mpsc::Sender<oneshot::Sender<()>>,
    dropped: AtomicU64,
}

impl UsageRecorder {
    pub fn start(store: Arc<dyn Store>) -> Self {
        let buffer: Arc<Mutex<Vec<UsageRecord>>> = Arc::default();
        let (flushes, mut flush_requests) = mpsc::channel::<oneshot::Sender<()>>(16);
        let shared = buffer.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(WINDOW);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                let done = tokio::select! {
                    _ = tick.tick() => None,
                    request = flush_requests.recv() => match request {
                        Some(done) => Some(done),
                        None => break, // the recorder is gone
                    },
                };
                // A flush at shutdown tries a few times: nothing retries later.
                let attempts = if done.is_some() { FLUSH_ATTEMPTS } else { 1 };
                for _ in 0..attempts {
                    if write(&*store, &shared).await {
                        break;
                    }
                }
                if let Some(done) = done {
                    let _ = done.send(());
                }
            }
        });
        Self {
            buffer,
            flushes,
            dropped: AtomicU64::new(0),
        }
    }

    pub fn record(&self, record: UsageRecord) {
        let mut buffer = lock(&self.buffer);
        if buffer.len() < CAPACITY {
            buffer.push(record);
            return;
        }
        drop(buffer);
        let n = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
        if n.is_power_of_two() {
            tracing::warn!("usage buffer full: {n} records dropped so far");
        }
    }

    /// Waits until every record so far is written (for shutdown and tests).
    pub async fn flush(&self) {
        let (done, written) = oneshot::channel();
        if self.flushes.send(done).await.is_ok() {
            let _ = written.await;
        }
    }
}

/// Writes what the buffer holds. A batch that fails (the database busy or
/// briefly unavailable) goes back to the front of the buffer, to be written
/// with the next window's records, unless that would overflow the buffer.
/// Returns whether the buffer was written (or empty).
async fn write(store: &dyn Store, buffer: &Mutex<Vec<UsageRecord>>) -> bool {
    let batch = std::mem::take(&mut *lock(buffer));
    if batch.is_empty() {
        return true;
    }
    let Err(e) = store.record_usage(&batch).await else {
        return true;
    };
    let count = batch.len();
    let mut held = lock(buffer);
    if held.len() + count <= CAPACITY {
        let newer = std::mem::replace(&mut *held, batch);
        held.extend(newer);
        tracing::warn!("could not record usage of {count} requests (will retry): {e}");
    } else {
        tracing::warn!(
            "could not record usage of {count} requests, and the buffer is full: they are lost: {e}"
        );
    }
    false
}

/// Tries of the final flush before its records are given up.
const FLUSH_ATTEMPTS: usize = 3;

fn lock(buffer: &Mutex<Vec<UsageRecord>>) -> std::sync::MutexGuard<'_, Vec<UsageRecord>> {
    buffer.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::atomic::Ordering;

    use super::*;
    use crate::test_store::HookedStore;

    fn record(model: &str) -> UsageRecord {
        UsageRecord {
            at: 1,
            endpoint: "ep".into(),
            model: model.into(),
            caller: None,
            status: 200,
            stream: false,
            input_tokens: Some(1),
            output_tokens: Some(1),
            cached_tokens: None,
            latency_ms: 1,
        }
    }

    /// A batch the database refused is written with the next one, in order.
    #[tokio::test]
    async fn a_failed_batch_is_retried_not_dropped() {
        let store = HookedStore::new().await;
        let buffer = Mutex::new(vec![record("first")]);
        store.failing_usage_writes.store(1, Ordering::SeqCst);
        assert!(!write(&*store, &buffer).await);
        assert_eq!(lock(&buffer).len(), 1, "kept for the next window");
        lock(&buffer).push(record("second"));
        assert!(write(&*store, &buffer).await);
        assert!(lock(&buffer).is_empty());
        let rows = store.recent_usage(10).await.unwrap();
        let models: Vec<&str> = rows.iter().map(|r| r.model.as_str()).collect();
        assert_eq!(models, ["second", "first"]);
    }

    /// The flush at shutdown tries more than once.
    #[tokio::test]
    async fn the_final_flush_outlasts_a_brief_failure() {
        let store = HookedStore::new().await;
        let recorder = UsageRecorder::start(store.clone());
        store
            .failing_usage_writes
            .store(FLUSH_ATTEMPTS - 1, Ordering::SeqCst);
        recorder.record(record("only"));
        recorder.flush().await;
        assert_eq!(store.recent_usage(10).await.unwrap().len(), 1);
    }
}
