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
                let batch = std::mem::take(&mut *lock(&shared));
                if !batch.is_empty()
                    && let Err(e) = store.record_usage(&batch).await
                {
                    tracing::warn!("could not record usage of {} requests: {e}", batch.len());
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

fn lock(buffer: &Mutex<Vec<UsageRecord>>) -> std::sync::MutexGuard<'_, Vec<UsageRecord>> {
    buffer.lock().unwrap_or_else(|p| p.into_inner())
}
