//! The hand-off between the checks and the writer: a vector behind a mutex, bounded in records and
//! in bytes. A check pushes under the lock (a move, no allocation once the vector has grown) and
//! wakes the writer only when it sleeps; the writer takes everything queued in one swap. A channel
//! did more per record, on every check — a semaphore, a block list, a waker, and a byte counter of
//! its own, each an atomic both workers contended for.

use crate::DecisionRecord;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

/// The most records waiting for the writer.
pub(crate) const MAX_RECORDS: usize = 8192;

/// Records on their way to the writer, with the bytes they weigh.
#[derive(Debug, Default)]
pub(crate) struct Queue {
    state: Mutex<State>,
    ready: Condvar,
}

#[derive(Debug, Default)]
struct State {
    records: Vec<(DecisionRecord, usize)>,
    /// Bytes queued or taken and not yet written.
    bytes: usize,
    /// The writer waits for a record.
    waiting: bool,
    /// No record will be taken any more (every handle dropped, or the writer failed).
    closed: bool,
}

impl Queue {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing holding the lock can panic; a poisoned lock still holds consistent data.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues a record weighing `weight` bytes, unless that would pass `max_bytes` or
    /// [`MAX_RECORDS`], or the queue is closed: `false`, the record dropped.
    pub(crate) fn push(&self, rec: DecisionRecord, weight: usize, max_bytes: usize) -> bool {
        let mut s = self.lock();
        if s.closed || s.records.len() >= MAX_RECORDS || s.bytes.saturating_add(weight) > max_bytes
        {
            return false;
        }
        s.bytes += weight;
        s.records.push((rec, weight));
        let wake = std::mem::take(&mut s.waiting);
        drop(s);
        if wake {
            self.ready.notify_one();
        }
        true
    }

    /// Waits for records and swaps them into `batch` (empty, its capacity handed back for the next
    /// records); `false` once the queue is closed and drained.
    pub(crate) fn take(&self, batch: &mut Vec<(DecisionRecord, usize)>) -> bool {
        debug_assert!(batch.is_empty());
        let mut s = self.lock();
        loop {
            if !s.records.is_empty() {
                std::mem::swap(&mut s.records, batch);
                return true;
            }
            if s.closed {
                return false;
            }
            s.waiting = true;
            s = self.ready.wait(s).unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Records weighing `bytes` were written (or given up on): they no longer count.
    pub(crate) fn release(&self, bytes: usize) {
        let mut s = self.lock();
        s.bytes = s.bytes.saturating_sub(bytes);
    }

    /// No more records: pushes are refused, the writer finishes what is queued.
    pub(crate) fn close(&self) {
        let mut s = self.lock();
        s.closed = true;
        s.waiting = false;
        drop(s);
        self.ready.notify_one();
    }

    /// Bytes queued or being written.
    pub(crate) fn bytes(&self) -> usize {
        self.lock().bytes
    }
}

/// The checks' side of a queue: the writer finishes when the last handle is dropped.
#[derive(Debug)]
pub(crate) struct Handle(pub(crate) std::sync::Arc<Queue>);

impl Drop for Handle {
    fn drop(&mut self) {
        self.0.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn rec(id: &str) -> DecisionRecord {
        DecisionRecord::begin(id.into(), "grpc", "native", true)
    }

    #[test]
    fn records_arrive_in_order_and_the_writer_ends_when_the_checks_are_gone() {
        let queue = Arc::new(Queue::default());
        let handle = Handle(queue.clone());
        let writer = std::thread::spawn(move || {
            let (mut batch, mut seen) = (Vec::new(), Vec::new());
            while queue.take(&mut batch) {
                let weight: usize = batch.iter().map(|(_, w)| w).sum();
                seen.extend(batch.drain(..).map(|(r, _)| r.request_id));
                queue.release(weight);
            }
            (seen, queue.bytes())
        });
        for i in 0..1000 {
            assert!(handle.0.push(rec(&i.to_string()), 10, usize::MAX));
            if i % 100 == 0 {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
        }
        drop(handle);
        let (seen, bytes) = writer.join().unwrap();
        assert_eq!(seen, (0..1000).map(|i| i.to_string()).collect::<Vec<_>>());
        assert_eq!(bytes, 0);
    }

    #[test]
    fn the_bounds_and_a_closed_queue_refuse_records() {
        let queue = Queue::default();
        assert!(queue.push(rec("a"), 60, 100));
        assert!(!queue.push(rec("b"), 60, 100));
        let mut batch = Vec::new();
        assert!(queue.take(&mut batch));
        // Taken but not yet written: still counted.
        assert!(!queue.push(rec("c"), 60, 100));
        queue.release(60);
        assert!(queue.push(rec("c"), 60, 100));
        for i in 0..MAX_RECORDS {
            queue.release(60);
            let _ = queue.push(rec(&i.to_string()), 0, 100);
        }
        assert!(!queue.push(rec("full"), 0, 100));
        queue.close();
        batch.clear();
        assert!(queue.take(&mut batch), "what was queued is still written");
        assert!(!queue.push(rec("late"), 0, usize::MAX));
        batch.clear();
        assert!(!queue.take(&mut batch));
    }
}
