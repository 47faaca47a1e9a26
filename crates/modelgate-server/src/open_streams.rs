//! The streams being forwarded, so that a shutdown that cannot wait for
//! them any longer still ends each one properly: an error event to its
//! client and a usage row that says it was cut, instead of a connection
//! that just drops and a request that was never recorded.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::{Notify, watch};

#[derive(Debug)]
pub struct OpenStreams {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    count: AtomicUsize,
    /// Turned to `true` when open streams must end now.
    cut: watch::Sender<bool>,
    none_open: Notify,
}

/// One open stream; dropping it closes it.
#[derive(Debug)]
pub struct OpenStream {
    shared: Arc<Shared>,
}

/// Fires when the open streams are to be cut.
#[derive(Debug)]
pub struct CutSignal(watch::Receiver<bool>);

impl Default for OpenStreams {
    fn default() -> Self {
        Self {
            shared: Arc::new(Shared {
                count: AtomicUsize::new(0),
                cut: watch::Sender::new(false),
                none_open: Notify::new(),
            }),
        }
    }
}

impl OpenStreams {
    /// Counts a stream in until the returned value is dropped.
    pub fn open(&self) -> OpenStream {
        self.shared.count.fetch_add(1, Ordering::SeqCst);
        OpenStream {
            shared: self.shared.clone(),
        }
    }

    pub fn count(&self) -> usize {
        self.shared.count.load(Ordering::SeqCst)
    }

    /// Tells every open stream to end now, and waits (at most `wait`) until
    /// they have: each sends its client an error event and records itself.
    pub async fn cut_all(&self, wait: Duration) {
        self.shared.cut.send_replace(true);
        let closed = async {
            loop {
                let notified = self.shared.none_open.notified();
                if self.count() == 0 {
                    return;
                }
                notified.await;
            }
        };
        let _ = tokio::time::timeout(wait, closed).await;
    }
}

impl OpenStream {
    pub fn cut_signal(&self) -> CutSignal {
        CutSignal(self.shared.cut.subscribe())
    }
}

impl CutSignal {
    /// Resolves once the streams are to be cut (never, until then).
    pub async fn fired(&mut self) {
        if self.0.wait_for(|cut| *cut).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

impl Drop for OpenStream {
    fn drop(&mut self) {
        if self.shared.count.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.shared.none_open.notify_waiters();
        }
    }
}
