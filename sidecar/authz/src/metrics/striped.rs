//! The metrics every check updates, striped per thread. prometheus-client's `Counter` is one atomic
//! and its `Histogram` one mutex, shared by every worker: on two cores each check then writes cache
//! lines the other core's check wrote a moment before, and waits for them to move. Here each thread
//! adds to a stripe of its own (a 128-byte line), and a scrape sums the stripes.

use prometheus_client::encoding::{EncodeMetric, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::{MetricType, TypedMetric};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Stripes per metric: threads beyond this share them (still correct, merely shared again).
const STRIPES: usize = 8;

/// The calling thread's stripe: threads take them in turn as they first count.
fn stripe() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static MINE: usize = NEXT.fetch_add(1, Ordering::Relaxed) % STRIPES;
    }
    MINE.with(|s| *s)
}

/// One stripe of a counter, alone on its cache line (and the line the prefetcher pairs with it).
#[derive(Debug, Default)]
#[repr(align(128))]
struct CounterStripe(AtomicU64);

/// A monotonic counter, striped per thread.
#[derive(Clone, Debug, Default)]
pub struct StripedCounter(Arc<[CounterStripe; STRIPES]>);

impl StripedCounter {
    /// Adds one.
    pub fn inc(&self) {
        self.0[stripe()].0.fetch_add(1, Ordering::Relaxed);
    }

    /// The count so far.
    pub fn get(&self) -> u64 {
        self.0.iter().map(|s| s.0.load(Ordering::Relaxed)).sum()
    }
}

impl TypedMetric for StripedCounter {
    const TYPE: MetricType = MetricType::Counter;
}

impl EncodeMetric for StripedCounter {
    fn encode(&self, mut encoder: MetricEncoder<'_>) -> Result<(), std::fmt::Error> {
        encoder.encode_counter::<NoLabelSet, _, u64>(&self.get(), None)
    }

    fn metric_type(&self) -> MetricType {
        Self::TYPE
    }
}

/// Upper bounds of the check-duration buckets, in nanoseconds: an observation is placed without
/// converting it.
const BOUNDS_NANOS: [u64; 14] = [
    50_000,
    100_000,
    250_000,
    500_000,
    1_000_000,
    2_500_000,
    5_000_000,
    10_000_000,
    25_000_000,
    50_000_000,
    100_000_000,
    250_000_000,
    500_000_000,
    1_000_000_000,
];

/// The same bounds in seconds, as the exposition gives them (`+Inf` follows). Each is the `f64`
/// nearest its decimal (a division of two exact integers, rounded once).
pub const DURATION_BUCKETS: [f64; BOUNDS_NANOS.len()] = {
    let mut seconds = [0.0; BOUNDS_NANOS.len()];
    let mut i = 0;
    while i < BOUNDS_NANOS.len() {
        seconds[i] = BOUNDS_NANOS[i] as f64 / 1e9;
        i += 1;
    }
    seconds
};

/// One thread's durations: how many, their sum in nanoseconds, and a count per bucket (the last
/// for `+Inf`): seventeen words, padded to two 128-byte lines.
#[derive(Debug, Default)]
#[repr(align(128))]
struct DurationStripe {
    count: AtomicU64,
    sum_nanos: AtomicU64,
    buckets: [AtomicU64; DURATION_BUCKETS.len() + 1],
}

/// A histogram of durations over [`DURATION_BUCKETS`], striped per thread. Sums are kept in whole
/// nanoseconds (an `f64` sum would need a compare-and-swap loop to add).
#[derive(Clone, Debug, Default)]
pub struct DurationHistogram {
    stripes: Arc<[DurationStripe; STRIPES]>,
}

impl DurationHistogram {
    /// Records one duration.
    pub fn observe(&self, d: Duration) {
        let nanos = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        let bucket = BOUNDS_NANOS
            .iter()
            .position(|&b| nanos <= b)
            .unwrap_or(DURATION_BUCKETS.len());
        let s = &self.stripes[stripe()];
        s.count.fetch_add(1, Ordering::Relaxed);
        s.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
        s.buckets[bucket].fetch_add(1, Ordering::Relaxed);
    }

    /// Count, sum in seconds, and the count per bucket (not cumulative), summed over the stripes.
    fn snapshot(&self) -> (u64, f64, Vec<(f64, u64)>) {
        let mut count = 0u64;
        let mut sum_nanos = 0u128;
        let mut per_bucket = [0u64; DURATION_BUCKETS.len() + 1];
        for s in self.stripes.iter() {
            count += s.count.load(Ordering::Relaxed);
            sum_nanos += u128::from(s.sum_nanos.load(Ordering::Relaxed));
            for (total, b) in per_bucket.iter_mut().zip(&s.buckets) {
                *total += b.load(Ordering::Relaxed);
            }
        }
        let buckets = DURATION_BUCKETS
            .iter()
            .copied()
            .chain(std::iter::once(f64::INFINITY))
            .zip(per_bucket)
            .collect();
        (count, sum_nanos as f64 / 1e9, buckets)
    }
}

impl TypedMetric for DurationHistogram {
    const TYPE: MetricType = MetricType::Histogram;
}

impl EncodeMetric for DurationHistogram {
    fn encode(&self, mut encoder: MetricEncoder<'_>) -> Result<(), std::fmt::Error> {
        let (count, sum, buckets) = self.snapshot();
        encoder.encode_histogram::<NoLabelSet>(sum, count, &buckets, None)
    }

    fn metric_type(&self) -> MetricType {
        Self::TYPE
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prometheus_client::metrics::histogram::Histogram;
    use prometheus_client::registry::Registry;

    fn text(register: impl FnOnce(&mut Registry)) -> String {
        let mut r = Registry::default();
        register(&mut r);
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &r).unwrap();
        out
    }

    #[test]
    fn counts_from_every_thread_add_up() {
        let c = StripedCounter::default();
        std::thread::scope(|s| {
            for _ in 0..(STRIPES + 3) {
                s.spawn(|| (0..1000).for_each(|_| c.inc()));
            }
        });
        assert_eq!(c.get(), 1000 * (STRIPES as u64 + 3));
        let striped = text(|r| r.register("n", "h", c.clone()));
        let plain = text(|r| {
            let p = prometheus_client::metrics::counter::Counter::<u64>::default();
            p.inc_by(c.get());
            r.register("n", "h", p)
        });
        assert_eq!(striped, plain);
    }

    /// The exposition is prometheus-client's own histogram's, for the same observations (bounds
    /// included: an observation equal to a bound falls in that bucket).
    #[test]
    fn the_histogram_reads_as_prometheus_client_s() {
        let ours = DurationHistogram::default();
        let theirs = Histogram::new(DURATION_BUCKETS);
        let micros = [
            0, 1, 50, 51, 100, 999, 1000, 2_500, 30_000, 999_999, 1_000_000, 7_000_000,
        ];
        std::thread::scope(|s| {
            for chunk in micros.chunks(3) {
                let ours = &ours;
                s.spawn(move || {
                    for &m in chunk {
                        ours.observe(Duration::from_micros(m));
                    }
                });
            }
        });
        for &m in &micros {
            theirs.observe(Duration::from_micros(m).as_secs_f64());
        }
        let a = text(|r| r.register("d", "h", ours.clone()));
        let b = text(|r| r.register("d", "h", theirs));
        // The sums agree but for the float's last digits (theirs adds seconds, ours nanoseconds).
        let sum = |t: &str| -> f64 {
            let line = t.lines().find(|l| l.starts_with("d_sum ")).unwrap();
            line["d_sum ".len()..].parse().unwrap()
        };
        assert!((sum(&a) - 9.0347).abs() < 1e-9, "{a}");
        assert!((sum(&b) - 9.0347).abs() < 1e-9, "{b}");
        let rest = |t: &str| -> Vec<String> {
            t.lines()
                .filter(|l| !l.starts_with("d_sum "))
                .map(str::to_owned)
                .collect()
        };
        assert_eq!(rest(&a), rest(&b));
        assert!(a.contains("d_count 12\n"), "{a}");
    }
}
