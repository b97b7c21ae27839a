//! Read-ahead of a download: each stripe is read in a task of its own, so shard reads go on
//! while the consumer is busy with earlier stripes (or its socket is full), and every provider
//! has requests queued. How many stripes are in flight is a [`Window`]: it starts shallow and
//! deepens one stripe per stripe that came back clean, up to a bound set by the configuration;
//! a stripe with a failed or abandoned read drops it back to shallow. A failing provider is
//! therefore met by few requests before its circuit breaker opens (a deep window would send it
//! a burst of reads, each retried by its S3 client), and once the breaker is open the reads
//! avoid it, come back clean, and the window deepens again.

use std::collections::VecDeque;
use std::future::Future;

use futures_util::Stream;
use futures_util::stream;
use tokio::task::JoinHandle;

use crate::error::EngineError;

/// How many stripes a download keeps in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Window {
    depth: usize,
    shallow: usize,
    deep: usize,
}

impl Window {
    /// Starts at `shallow` stripes in flight and never exceeds `deep` (both at least 1).
    pub(crate) fn new(shallow: usize, deep: usize) -> Self {
        let shallow = shallow.max(1);
        Self {
            depth: shallow,
            shallow,
            deep: deep.max(shallow),
        }
    }

    /// Stripes to keep in flight now.
    pub(crate) fn depth(self) -> usize {
        self.depth
    }

    /// A stripe came back: clean (every read answered in time, first try) deepens the window by
    /// one, anything else drops it back to shallow.
    pub(crate) fn settle(&mut self, clean: bool) {
        self.depth = if clean {
            (self.depth + 1).min(self.deep)
        } else {
            self.shallow
        };
    }
}

/// A spawned task, aborted when dropped (a download dropped mid-way stops its reads).
struct Task<T>(JoinHandle<T>);

impl<T> Drop for Task<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// What reading one stripe gives: its items, and whether it came back clean.
pub(crate) type Read<T> = Result<(T, bool), EngineError>;

/// Runs `read(0) .. read(count - 1)` as tasks, at most `window.depth()` at once, and yields
/// their items in order. The stream ends after the first error, which it yields; dropping it
/// aborts the tasks still running.
pub(crate) fn in_order<T, F, Fut>(
    count: u64,
    window: Window,
    read: F,
) -> impl Stream<Item = Result<T, EngineError>> + Send + 'static
where
    T: Send + 'static,
    F: Fn(u64) -> Fut + Send + 'static,
    Fut: Future<Output = Read<T>> + Send + 'static,
{
    struct State<T, F> {
        next: u64,
        count: u64,
        window: Window,
        running: VecDeque<Task<Read<T>>>,
        read: F,
        done: bool,
    }
    let state = State {
        next: 0,
        count,
        window,
        running: VecDeque::new(),
        read,
        done: false,
    };
    stream::unfold(state, |mut st| async move {
        if st.done {
            return None;
        }
        while st.running.len() < st.window.depth() && st.next < st.count {
            st.running.push_back(Task(tokio::spawn((st.read)(st.next))));
            st.next += 1;
        }
        let mut head = st.running.pop_front()?;
        let outcome = (&mut head.0).await.unwrap_or(Err(EngineError::Worker));
        match outcome {
            Ok((item, clean)) => {
                st.window.settle(clean);
                Some((Ok(item), st))
            }
            Err(e) => {
                st.done = true;
                st.running.clear();
                Some((Err(e), st))
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use futures_util::StreamExt;

    use super::*;

    #[test]
    fn the_window_deepens_on_clean_stripes_and_drops_back_on_a_fault() {
        let mut w = Window::new(2, 5);
        assert_eq!(w.depth(), 2);
        for want in [3, 4, 5, 5] {
            w.settle(true);
            assert_eq!(w.depth(), want);
        }
        w.settle(false);
        assert_eq!(w.depth(), 2, "a fault: back to shallow");
        assert_eq!(Window::new(3, 1).depth(), 3, "deep is at least shallow");
    }

    /// Reads that take longer the earlier the stripe, counting how many run at once.
    fn counting(
        peak: &Arc<AtomicUsize>,
        clean: impl Fn(u64) -> bool + Send + Sync + 'static,
    ) -> impl Fn(u64) -> std::pin::Pin<Box<dyn Future<Output = Read<u64>> + Send>> + Send + 'static
    {
        let now = Arc::new(AtomicUsize::new(0));
        let peak = Arc::clone(peak);
        let clean = Arc::new(clean);
        move |s| {
            let (now, peak, clean) = (Arc::clone(&now), Arc::clone(&peak), Arc::clone(&clean));
            Box::pin(async move {
                let running = now.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(running, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(20 - s.min(10))).await;
                now.fetch_sub(1, Ordering::SeqCst);
                Ok((s, clean(s)))
            })
        }
    }

    #[tokio::test]
    async fn yields_in_order_and_never_exceeds_the_window() {
        let peak = Arc::new(AtomicUsize::new(0));
        let got: Vec<u64> = in_order(12, Window::new(2, 4), counting(&peak, |_| true))
            .map(|r| r.expect("read"))
            .collect()
            .await;
        assert_eq!(got, (0..12).collect::<Vec<_>>());
        assert_eq!(peak.load(Ordering::SeqCst), 4, "deepened to the bound");
    }

    #[tokio::test]
    async fn faulty_stripes_keep_the_window_shallow() {
        let peak = Arc::new(AtomicUsize::new(0));
        let got = in_order(12, Window::new(2, 5), counting(&peak, |_| false))
            .count()
            .await;
        assert_eq!(got, 12);
        assert_eq!(peak.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn the_first_error_ends_the_stream() {
        let read = |s: u64| async move {
            if s == 3 {
                Err(EngineError::Worker)
            } else {
                Ok((s, true))
            }
        };
        let got: Vec<Result<u64, EngineError>> =
            in_order(10, Window::new(1, 3), read).collect().await;
        assert_eq!(got.len(), 4);
        assert!(got[..3].iter().all(Result::is_ok));
        assert!(matches!(got[3], Err(EngineError::Worker)));
    }
}
