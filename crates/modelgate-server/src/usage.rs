//! Recording usage off the request path.
//!
//! Requests hand their record to a bounded channel and move on; one task
//! collects records for up to [`WINDOW`] (or [`MAX_BATCH`] records) and
//! writes them in one transaction. Writing each record at once would cost
//! a database round trip — and a wake-up of the database thread — per
//! request, which profiles showed to be most of the gateway's CPU time.
//! When the channel is full a record is dropped (and counted in the log)
//! rather than slowing requests down. A flush writes at once.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use modelgate_store::{Store, UsageRecord};
use tokio::sync::{mpsc, oneshot};

const QUEUE: usize = 8192;
const MAX_BATCH: usize = 1024;
/// How long records wait to be written with others.
pub const WINDOW: Duration = Duration::from_millis(250);

enum Message {
    Record(UsageRecord),
    /// Answered once everything queued before it is written.
    Flush(oneshot::Sender<()>),
}

pub struct UsageRecorder {
    tx: mpsc::Sender<Message>,
    dropped: AtomicU64,
}

impl UsageRecorder {
    pub fn start(store: Arc<dyn Store>) -> Self {
        let (tx, mut rx) = mpsc::channel::<Message>(QUEUE);
        tokio::spawn(async move {
            let mut messages = Vec::with_capacity(MAX_BATCH);
            let mut batch = Vec::with_capacity(MAX_BATCH);
            while rx.recv_many(&mut messages, MAX_BATCH).await > 0 {
                let deadline = tokio::time::Instant::now() + WINDOW;
                let mut waiting = Vec::new();
                loop {
                    for message in messages.drain(..) {
                        match message {
                            Message::Record(r) => batch.push(r),
                            Message::Flush(done) => waiting.push(done),
                        }
                    }
                    if !waiting.is_empty() || batch.len() >= MAX_BATCH {
                        break;
                    }
                    let more = rx.recv_many(&mut messages, MAX_BATCH - batch.len());
                    match tokio::time::timeout_at(deadline, more).await {
                        Ok(n) if n > 0 => {}
                        _ => break, // window over, or every sender gone
                    }
                }
                if !batch.is_empty() {
                    if let Err(e) = store.record_usage(&batch).await {
                        tracing::warn!("could not record usage of {} requests: {e}", batch.len());
                    }
                    batch.clear();
                }
                for done in waiting {
                    let _ = done.send(());
                }
            }
        });
        Self {
            tx,
            dropped: AtomicU64::new(0),
        }
    }

    pub fn record(&self, record: UsageRecord) {
        if self.tx.try_send(Message::Record(record)).is_err() {
            let n = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if n.is_power_of_two() {
                tracing::warn!("usage queue full: {n} records dropped so far");
            }
        }
    }

    /// Waits until every record queued so far is written (for shutdown and tests).
    pub async fn flush(&self) {
        let (done, written) = oneshot::channel();
        if self.tx.send(Message::Flush(done)).await.is_ok() {
            let _ = written.await;
        }
    }
}
