//! The hand-off between the checks and the writer: lines of JSON in one buffer behind a mutex,
//! bounded in lines and in bytes. A check writes its record's line on its own thread and appends
//! it under the lock (a copy, no allocation once the buffer has grown), and wakes the writer only
//! when it sleeps; the writer takes everything queued in one swap and writes it in one call.
//!
//! Lines cross the thread, not records: a record's dozen strings were allocated by the check's
//! thread and freed by the writer's, and a free from another thread costs the allocator far more
//! than one from the thread that allocated (mimalloc hands it back through the page's atomic
//! list, and the owner collects it later). A channel did more per record still — a semaphore, a
//! block list, a waker, and a byte counter of its own, each an atomic both workers contended for.

use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

/// The most lines waiting for the writer.
pub(crate) const MAX_LINES: usize = 8192;

/// Lines on their way to the writer.
#[derive(Debug, Default)]
pub(crate) struct Queue {
    state: Mutex<State>,
    ready: Condvar,
}

#[derive(Debug, Default)]
struct State {
    /// Lines queued, each ending in a newline.
    lines: Vec<u8>,
    /// How many.
    count: usize,
    /// Bytes queued or taken and not yet written.
    bytes: usize,
    /// The writer waits for a line.
    waiting: bool,
    /// No line will be taken any more (every handle dropped, or the writer failed).
    closed: bool,
}

impl Queue {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing holding the lock can panic; a poisoned lock still holds consistent data.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues a line (with its newline), unless that would pass `max_bytes` or [`MAX_LINES`], or
    /// the queue is closed: `false`, the line dropped.
    pub(crate) fn push(&self, line: &[u8], max_bytes: usize) -> bool {
        let mut s = self.lock();
        if s.closed || s.count >= MAX_LINES || s.bytes.saturating_add(line.len()) > max_bytes {
            return false;
        }
        s.bytes += line.len();
        s.count += 1;
        s.lines.extend_from_slice(line);
        let wake = std::mem::take(&mut s.waiting);
        drop(s);
        if wake {
            self.ready.notify_one();
        }
        true
    }

    /// Waits for lines and swaps them into `batch` (empty, its capacity handed back for the next
    /// lines); `false` once the queue is closed and drained.
    pub(crate) fn take(&self, batch: &mut Vec<u8>) -> bool {
        debug_assert!(batch.is_empty());
        let mut s = self.lock();
        loop {
            if s.count > 0 {
                std::mem::swap(&mut s.lines, batch);
                s.count = 0;
                return true;
            }
            if s.closed {
                return false;
            }
            s.waiting = true;
            s = self.ready.wait(s).unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// `bytes` of lines were written (or given up on): they no longer count.
    pub(crate) fn release(&self, bytes: usize) {
        let mut s = self.lock();
        s.bytes = s.bytes.saturating_sub(bytes);
    }

    /// No more lines: pushes are refused, the writer finishes what is queued.
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

    fn line(id: &str) -> Vec<u8> {
        format!("{id}\n").into_bytes()
    }

    #[test]
    fn lines_arrive_in_order_and_the_writer_ends_when_the_checks_are_gone() {
        let queue = Arc::new(Queue::default());
        let handle = Handle(queue.clone());
        let writer = std::thread::spawn(move || {
            let (mut batch, mut seen) = (Vec::new(), Vec::new());
            while queue.take(&mut batch) {
                seen.extend_from_slice(&batch);
                queue.release(batch.len());
                batch.clear();
            }
            (seen, queue.bytes())
        });
        for i in 0..1000 {
            assert!(handle.0.push(&line(&i.to_string()), usize::MAX));
            if i % 100 == 0 {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
        }
        drop(handle);
        let (seen, bytes) = writer.join().unwrap();
        let want: String = (0..1000).map(|i| format!("{i}\n")).collect();
        assert_eq!(String::from_utf8(seen).unwrap(), want);
        assert_eq!(bytes, 0);
    }

    #[test]
    fn the_bounds_and_a_closed_queue_refuse_lines() {
        let queue = Queue::default();
        let sixty = vec![b'a'; 60];
        assert!(queue.push(&sixty, 100));
        assert!(!queue.push(&sixty, 100));
        let mut batch = Vec::new();
        assert!(queue.take(&mut batch));
        // Taken but not yet written: still counted.
        assert!(!queue.push(&sixty, 100));
        queue.release(60);
        assert!(queue.push(&sixty, 100));
        for _ in 0..MAX_LINES {
            queue.release(60);
            let _ = queue.push(b"", 100);
        }
        assert!(!queue.push(b"", 100));
        queue.close();
        batch.clear();
        assert!(queue.take(&mut batch), "what was queued is still written");
        assert!(!queue.push(b"", usize::MAX));
        batch.clear();
        assert!(!queue.take(&mut batch));
    }
}
