//! Recording usage off the request path.
//!
//! Requests hand their record to a bounded channel and move on; one task
//! writes whatever has queued up as a single batch. Under load batches grow
//! by themselves, with no timer. When the channel is full a record is
//! dropped (and counted in the log) rather than slowing requests down.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use modelgate_store::{Store, UsageRecord};
use tokio::sync::mpsc;

const QUEUE: usize = 4096;
const MAX_BATCH: usize = 512;

pub struct UsageRecorder {
    tx: mpsc::Sender<UsageRecord>,
    dropped: AtomicU64,
}

impl UsageRecorder {
    pub fn start(store: Arc<dyn Store>) -> Self {
        let (tx, mut rx) = mpsc::channel::<UsageRecord>(QUEUE);
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(MAX_BATCH);
            while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
                if let Err(e) = store.record_usage(&batch).await {
                    tracing::warn!("could not record usage of {} requests: {e}", batch.len());
                }
                batch.clear();
            }
        });
        Self {
            tx,
            dropped: AtomicU64::new(0),
        }
    }

    pub fn record(&self, record: UsageRecord) {
        if self.tx.try_send(record).is_err() {
            let n = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if n.is_power_of_two() {
                tracing::warn!("usage queue full: {n} records dropped so far");
            }
        }
    }
}
