//! The per-principal cache: a size-bounded LRU of compiled policy sets with a TTL.
//!
//! - **Single flight.** Concurrent misses of one key share one fetch: the first caller fetches, the
//!   others wait on the same [`tokio::sync::OnceCell`]. If the fetching caller is cancelled, a waiting
//!   one takes over.
//! - **Negative caching.** "No such principal" is remembered for `negative_ttl`, so a flood of
//!   requests from an unknown principal costs one fetch.
//! - **Stale on error, then fail closed.** An entry older than `ttl` is refreshed on use. If the refresh
//!   fails (the source is down), the old value is served while its age is at most `max_stale`; after
//!   a failure, further requests get the stale value without fetching for `retry_after_error`. Past
//!   `max_stale` the cache returns an error, which callers map to Deny.
//! - **Invalidation** of one key or of all. A fetch that was under way during an invalidation still
//!   answers its callers but is not stored.
//! - **Counters** in [`CacheMetrics`]: hits, misses, negative hits, evictions, stale serves,
//!   fail-closed answers, fetches, fetch errors, and fetch latency.
//!
//! Time is `tokio::time::Instant`, so tests drive TTLs with a paused clock.

use super::FetchError;
use lru::LruCache;
use serde::Serialize;
use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use tokio::sync::OnceCell;
use tokio::time::Instant;

/// The cache's limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CacheConfig {
    /// The most principals kept; the least recently used is evicted.
    pub capacity: NonZeroUsize,
    /// How long an entry is served without asking the source.
    pub ttl: Duration,
    /// How long "no such principal" is remembered.
    pub negative_ttl: Duration,
    /// The oldest an entry may be (since it was fetched) and still be served when the source fails.
    pub max_stale: Duration,
    /// After a failed refresh, how long the stale value is served without asking the source again.
    pub retry_after_error: Duration,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            capacity: NonZeroUsize::MIN.saturating_add(9_999),
            ttl: Duration::from_secs(300),
            negative_ttl: Duration::from_secs(30),
            max_stale: Duration::from_secs(3600),
            retry_after_error: Duration::from_secs(5),
        }
    }
}

/// Why the cache has no value to give.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CacheError {
    /// The source says there is no such key (possibly remembered).
    #[error("not found")]
    NotFound,
    /// The source failed and no value young enough is cached: fail closed.
    #[error("{0}")]
    Unavailable(String),
}

/// Upper bounds of the fetch latency histogram, in microseconds (the last bucket is unbounded).
pub const LATENCY_BUCKETS_MICROS: [u64; 7] = [
    1_000, 5_000, 25_000, 100_000, 500_000, 2_500_000, 10_000_000,
];

/// Counters, readable at any time (the sidecar's metrics read them).
#[derive(Debug, Default)]
pub struct CacheMetrics {
    hits: AtomicU64,
    negative_hits: AtomicU64,
    misses: AtomicU64,
    evictions: AtomicU64,
    stale_serves: AtomicU64,
    fail_closed: AtomicU64,
    fetches: AtomicU64,
    fetch_errors: AtomicU64,
    invalidated: AtomicU64,
    resyncs: AtomicU64,
    fetch_micros_total: AtomicU64,
    fetch_micros_buckets: [AtomicU64; LATENCY_BUCKETS_MICROS.len() + 1],
}

/// A copy of the counters.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CacheStats {
    /// Answers from a fresh entry.
    pub hits: u64,
    /// "Not found" answers from a remembered negative entry.
    pub negative_hits: u64,
    /// Lookups that had to ask the source (or join a fetch under way).
    pub misses: u64,
    /// Entries evicted for space.
    pub evictions: u64,
    /// Answers from an expired entry because the source failed.
    pub stale_serves: u64,
    /// Errors returned because the source failed and nothing young enough was cached.
    pub fail_closed: u64,
    /// Fetches made.
    pub fetches: u64,
    /// Fetches that failed (not counting "not found").
    pub fetch_errors: u64,
    /// Entries forgotten because their source said they changed.
    pub invalidated: u64,
    /// Times every entry was forgotten because the source could not say what changed (a reader
    /// too far behind the change feed, an import).
    pub resyncs: u64,
    /// Total time spent fetching, in microseconds.
    pub fetch_micros_total: u64,
    /// Fetch latency histogram: counts per bucket of [`LATENCY_BUCKETS_MICROS`], then the rest.
    pub fetch_micros_buckets: Vec<u64>,
    /// Entries held now.
    pub entries: u64,
}

impl CacheMetrics {
    fn inc(c: &AtomicU64) {
        c.fetch_add(1, Ordering::Relaxed);
    }

    fn record_fetch(&self, elapsed: Duration) {
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        Self::inc(&self.fetches);
        self.fetch_micros_total.fetch_add(micros, Ordering::Relaxed);
        let i = LATENCY_BUCKETS_MICROS
            .iter()
            .position(|&b| micros <= b)
            .unwrap_or(LATENCY_BUCKETS_MICROS.len());
        if let Some(b) = self.fetch_micros_buckets.get(i) {
            Self::inc(b);
        }
    }

    /// The counters now.
    pub fn snapshot(&self) -> CacheStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        CacheStats {
            hits: get(&self.hits),
            negative_hits: get(&self.negative_hits),
            misses: get(&self.misses),
            evictions: get(&self.evictions),
            stale_serves: get(&self.stale_serves),
            fail_closed: get(&self.fail_closed),
            fetches: get(&self.fetches),
            fetch_errors: get(&self.fetch_errors),
            invalidated: get(&self.invalidated),
            resyncs: get(&self.resyncs),
            fetch_micros_total: get(&self.fetch_micros_total),
            fetch_micros_buckets: self.fetch_micros_buckets.iter().map(get).collect(),
            entries: 0,
        }
    }
}

#[derive(Clone, Debug)]
enum Entry<V> {
    Found {
        value: V,
        fetched: Instant,
        /// When the last refresh failed (stale serving without fetching until `retry_after_error`).
        failed: Option<Instant>,
    },
    Missing {
        at: Instant,
    },
}

/// What one flight found, shared by every caller that joined it.
#[derive(Clone, Debug)]
enum Outcome<V> {
    Fresh(V),
    Stale(V),
    NotFound,
    Unavailable(String),
}

type Flight<V> = Arc<OnceCell<Outcome<V>>>;
type Hasher = foldhash::fast::RandomState;

#[derive(Debug)]
struct State<K: Hash + Eq, V> {
    lru: LruCache<K, Entry<V>, Hasher>,
    inflight: HashMap<K, Flight<V>, Hasher>,
    generation: u64,
}

/// A cache of values by key with single-flight fetching. See the module documentation.
#[derive(Debug)]
pub struct Cache<K: Hash + Eq, V> {
    config: CacheConfig,
    state: Mutex<State<K, V>>,
    metrics: Arc<CacheMetrics>,
}

impl<K, V> Cache<K, V>
where
    K: Hash + Eq + Clone,
    V: Clone,
{
    /// An empty cache.
    pub fn new(config: CacheConfig) -> Self {
        Cache {
            config,
            state: Mutex::new(State {
                lru: LruCache::with_hasher(config.capacity, Hasher::default()),
                inflight: HashMap::default(),
                generation: 0,
            }),
            metrics: Arc::new(CacheMetrics::default()),
        }
    }

    /// The limits.
    pub fn config(&self) -> CacheConfig {
        self.config
    }

    fn lock(&self) -> MutexGuard<'_, State<K, V>> {
        // No code holding the lock can panic; a poisoned lock still holds consistent data.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The counters.
    pub fn metrics(&self) -> &Arc<CacheMetrics> {
        &self.metrics
    }

    /// The counters now, with the number of entries.
    pub fn stats(&self) -> CacheStats {
        let mut s = self.metrics.snapshot();
        s.entries = self.lock().lru.len() as u64;
        s
    }

    /// Forgets one key.
    pub fn invalidate(&self, key: &K) {
        let mut st = self.lock();
        st.lru.pop(key);
        st.inflight.remove(key);
        st.generation = st.generation.wrapping_add(1);
    }

    /// Forgets every key.
    pub fn invalidate_all(&self) {
        let mut st = self.lock();
        st.lru.clear();
        // A caller from now on starts its own fetch rather than joining one that may have read
        // the data before the change.
        st.inflight.clear();
        st.generation = st.generation.wrapping_add(1);
    }

    /// Forgets every key because the source cannot say which changed (counted as a resync).
    pub fn resync(&self) {
        self.invalidate_all();
        CacheMetrics::inc(&self.metrics.resyncs);
    }

    /// Forgets the keys `affected` picks, in one pass over the entries; how many went. Fetches
    /// under way are not kept either (they may have read the data before the change).
    pub fn invalidate_where(&self, affected: impl Fn(&K) -> bool) -> usize {
        let mut st = self.lock();
        let gone: Vec<K> = st
            .lru
            .iter()
            .filter(|(k, _)| affected(k))
            .map(|(k, _)| k.clone())
            .collect();
        for k in &gone {
            st.lru.pop(k);
        }
        st.inflight.retain(|k, _| !affected(k));
        st.generation = st.generation.wrapping_add(1);
        self.metrics
            .invalidated
            .fetch_add(gone.len() as u64, Ordering::Relaxed);
        gone.len()
    }

    /// The value of `key`: cached, or fetched with `fetch` (once for all concurrent callers).
    pub async fn get<F, Fut>(&self, key: &K, fetch: F) -> Result<V, CacheError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<V, FetchError>>,
    {
        let m = &self.metrics;
        let (flight, generation) = {
            let mut st = self.lock();
            let now = Instant::now();
            match st.lru.get_mut(key) {
                Some(Entry::Found { value, fetched, .. })
                    if now.duration_since(*fetched) < self.config.ttl =>
                {
                    CacheMetrics::inc(&m.hits);
                    return Ok(value.clone());
                }
                Some(Entry::Found {
                    value,
                    fetched,
                    failed: Some(failed),
                }) if now.duration_since(*failed) < self.config.retry_after_error
                    && now.duration_since(*fetched) <= self.config.max_stale =>
                {
                    CacheMetrics::inc(&m.stale_serves);
                    return Ok(value.clone());
                }
                Some(Entry::Missing { at })
                    if now.duration_since(*at) < self.config.negative_ttl =>
                {
                    CacheMetrics::inc(&m.negative_hits);
                    return Err(CacheError::NotFound);
                }
                _ => {}
            }
            CacheMetrics::inc(&m.misses);
            let flight = st
                .inflight
                .entry(key.clone())
                .or_insert_with(|| Arc::new(OnceCell::new()))
                .clone();
            (flight, st.generation)
        };
        let outcome = flight
            .get_or_init(|| async {
                let start = Instant::now();
                let result = fetch().await;
                m.record_fetch(start.elapsed());
                self.settle(key, &flight, generation, result)
            })
            .await
            .clone();
        match outcome {
            Outcome::Fresh(v) => Ok(v),
            Outcome::Stale(v) => {
                CacheMetrics::inc(&m.stale_serves);
                Ok(v)
            }
            Outcome::NotFound => Err(CacheError::NotFound),
            Outcome::Unavailable(e) => {
                CacheMetrics::inc(&m.fail_closed);
                Err(CacheError::Unavailable(e))
            }
        }
    }

    /// Stores what a fetch found and ends its flight.
    fn settle(
        &self,
        key: &K,
        flight: &Flight<V>,
        generation: u64,
        result: Result<V, FetchError>,
    ) -> Outcome<V> {
        let mut st = self.lock();
        let now = Instant::now();
        let current = st.generation == generation;
        let outcome = match result {
            Ok(value) => {
                if current {
                    let entry = Entry::Found {
                        value: value.clone(),
                        fetched: now,
                        failed: None,
                    };
                    if let Some((old, _)) = st.lru.push(key.clone(), entry) {
                        if &old != key {
                            CacheMetrics::inc(&self.metrics.evictions);
                        }
                    }
                }
                Outcome::Fresh(value)
            }
            Err(FetchError::NotFound(_)) => {
                if current {
                    if let Some((old, _)) = st.lru.push(key.clone(), Entry::Missing { at: now }) {
                        if &old != key {
                            CacheMetrics::inc(&self.metrics.evictions);
                        }
                    }
                }
                Outcome::NotFound
            }
            Err(FetchError::Failed(reason)) => {
                CacheMetrics::inc(&self.metrics.fetch_errors);
                let max_stale = self.config.max_stale;
                match st.lru.get_mut(key) {
                    Some(Entry::Found {
                        value,
                        fetched,
                        failed,
                    }) if now.duration_since(*fetched) <= max_stale => {
                        *failed = Some(now);
                        Outcome::Stale(value.clone())
                    }
                    _ => Outcome::Unavailable(reason),
                }
            }
        };
        if st.inflight.get(key).is_some_and(|f| Arc::ptr_eq(f, flight)) {
            st.inflight.remove(key);
        }
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    fn config() -> CacheConfig {
        CacheConfig {
            capacity: NonZeroUsize::new(2).unwrap(),
            ttl: Duration::from_secs(10),
            negative_ttl: Duration::from_secs(3),
            max_stale: Duration::from_secs(60),
            retry_after_error: Duration::from_secs(1),
        }
    }

    async fn ok(n: &AtomicUsize, v: u32) -> Result<u32, FetchError> {
        n.fetch_add(1, Ordering::SeqCst);
        Ok(v)
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_misses_share_one_fetch() {
        let cache = Arc::new(Cache::<String, u32>::new(config()));
        let fetches = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..50 {
            let cache = cache.clone();
            let fetches = fetches.clone();
            tasks.push(tokio::spawn(async move {
                cache
                    .get(&"k".to_owned(), || async {
                        fetches.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        Ok(7)
                    })
                    .await
            }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap(), Ok(7));
        }
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
        let s = cache.stats();
        assert_eq!((s.misses, s.fetches, s.entries), (50, 1, 1));
        assert_eq!(cache.get(&"k".to_owned(), || ok(&fetches, 8)).await, Ok(7));
        assert_eq!(cache.stats().hits, 1);
    }

    #[tokio::test(start_paused = true)]
    async fn ttl_then_refetch() {
        let cache = Cache::<&str, u32>::new(config());
        let n = AtomicUsize::new(0);
        assert_eq!(cache.get(&"a", || ok(&n, 1)).await, Ok(1));
        tokio::time::advance(Duration::from_secs(9)).await;
        assert_eq!(cache.get(&"a", || ok(&n, 2)).await, Ok(1));
        tokio::time::advance(Duration::from_secs(2)).await;
        assert_eq!(cache.get(&"a", || ok(&n, 2)).await, Ok(2));
        assert_eq!(n.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn negative_entries_expire() {
        let cache = Cache::<&str, u32>::new(config());
        let n = AtomicUsize::new(0);
        let missing = || async {
            n.fetch_add(1, Ordering::SeqCst);
            Err(FetchError::NotFound("a".into()))
        };
        assert_eq!(cache.get(&"a", missing).await, Err(CacheError::NotFound));
        assert_eq!(cache.get(&"a", missing).await, Err(CacheError::NotFound));
        assert_eq!(n.load(Ordering::SeqCst), 1);
        assert_eq!(cache.stats().negative_hits, 1);
        tokio::time::advance(Duration::from_secs(4)).await;
        assert_eq!(cache.get(&"a", || ok(&n, 5)).await, Ok(5));
        assert_eq!(n.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn stale_on_error_then_fail_closed() {
        let cache = Cache::<&str, u32>::new(config());
        let n = AtomicUsize::new(0);
        let down = || async {
            n.fetch_add(1, Ordering::SeqCst);
            Err(FetchError::Failed("connection refused".into()))
        };
        assert_eq!(cache.get(&"a", || ok(&n, 1)).await, Ok(1));
        tokio::time::advance(Duration::from_secs(11)).await;
        // Expired, the source is down: the stale value, and no new fetch for `retry_after_error`.
        assert_eq!(cache.get(&"a", down).await, Ok(1));
        assert_eq!(cache.get(&"a", down).await, Ok(1));
        assert_eq!(n.load(Ordering::SeqCst), 2);
        tokio::time::advance(Duration::from_secs(2)).await;
        assert_eq!(cache.get(&"a", down).await, Ok(1));
        assert_eq!(n.load(Ordering::SeqCst), 3);
        // Past max_stale: fail closed.
        tokio::time::advance(Duration::from_secs(60)).await;
        assert_eq!(
            cache.get(&"a", down).await,
            Err(CacheError::Unavailable("connection refused".into()))
        );
        let s = cache.stats();
        assert_eq!(
            (s.stale_serves, s.fail_closed, s.fetch_errors),
            (3, 1, 2 + 1)
        );
        // Never cached at all: fail closed at once.
        assert!(matches!(
            cache.get(&"b", down).await,
            Err(CacheError::Unavailable(_))
        ));
    }

    #[tokio::test(start_paused = true)]
    async fn a_deleted_principal_is_not_served_stale() {
        let cache = Cache::<&str, u32>::new(config());
        let n = AtomicUsize::new(0);
        assert_eq!(cache.get(&"a", || ok(&n, 1)).await, Ok(1));
        tokio::time::advance(Duration::from_secs(11)).await;
        let gone = || async { Err(FetchError::NotFound("a".into())) };
        assert_eq!(cache.get(&"a", gone).await, Err(CacheError::NotFound));
    }

    #[tokio::test(start_paused = true)]
    async fn invalidation_and_eviction() {
        let cache = Cache::<&str, u32>::new(config());
        let n = AtomicUsize::new(0);
        assert_eq!(cache.get(&"a", || ok(&n, 1)).await, Ok(1));
        cache.invalidate(&"a");
        assert_eq!(cache.get(&"a", || ok(&n, 2)).await, Ok(2));
        assert_eq!(cache.get(&"b", || ok(&n, 3)).await, Ok(3));
        assert_eq!(cache.get(&"c", || ok(&n, 4)).await, Ok(4));
        assert_eq!(cache.stats().evictions, 1);
        cache.invalidate_all();
        assert_eq!(cache.stats().entries, 0);
        assert_eq!(cache.get(&"c", || ok(&n, 5)).await, Ok(5));
    }

    #[tokio::test(start_paused = true)]
    async fn a_fetch_under_way_during_invalidation_is_not_stored() {
        let cache = Arc::new(Cache::<&str, u32>::new(config()));
        let c2 = cache.clone();
        let slow = tokio::spawn(async move {
            c2.get(&"a", || async {
                tokio::time::sleep(Duration::from_secs(1)).await;
                Ok(1)
            })
            .await
        });
        tokio::time::sleep(Duration::from_millis(10)).await;
        cache.invalidate_all();
        assert_eq!(slow.await.unwrap(), Ok(1));
        let n = AtomicUsize::new(0);
        assert_eq!(cache.get(&"a", || ok(&n, 2)).await, Ok(2));
    }

    #[tokio::test(start_paused = true)]
    async fn latency_is_recorded() {
        let cache = Cache::<&str, u32>::new(config());
        cache
            .get(&"a", || async {
                tokio::time::sleep(Duration::from_millis(30)).await;
                Ok(1)
            })
            .await
            .unwrap();
        let s = cache.stats();
        assert_eq!(s.fetch_micros_buckets, vec![0, 0, 0, 1, 0, 0, 0, 0]);
        assert!(s.fetch_micros_total >= 30_000);
    }

    #[tokio::test(start_paused = true)]
    async fn invalidating_some_keys_keeps_the_rest() {
        let cache = Arc::new(Cache::<&str, u32>::new(config()));
        let n = AtomicUsize::new(0);
        // The test cache holds two entries.
        for k in ["a", "b"] {
            cache.get(&k, || ok(&n, 1)).await.unwrap();
        }
        assert_eq!(cache.invalidate_where(|k| *k != "b"), 1);
        let s = cache.stats();
        assert_eq!((s.entries, s.invalidated, s.resyncs), (1, 1, 0));
        // "b" is still a hit; "a" is fetched again.
        assert_eq!(cache.get(&"b", || ok(&n, 9)).await, Ok(1));
        assert_eq!(cache.get(&"a", || ok(&n, 2)).await, Ok(2));
        cache.resync();
        assert_eq!((cache.stats().entries, cache.stats().resyncs), (0, 1));
    }

    #[tokio::test(start_paused = true)]
    async fn a_caller_after_the_invalidation_does_not_join_an_older_fetch() {
        let cache = Arc::new(Cache::<&str, u32>::new(config()));
        let c2 = cache.clone();
        let old = tokio::spawn(async move {
            c2.get(&"a", || async {
                tokio::time::sleep(Duration::from_secs(1)).await;
                Ok(1)
            })
            .await
        });
        tokio::time::sleep(Duration::from_millis(10)).await;
        cache.invalidate_where(|k| *k == "a");
        // Read after the change: its own fetch, never the one that began before it.
        let n = AtomicUsize::new(0);
        assert_eq!(cache.get(&"a", || ok(&n, 2)).await, Ok(2));
        assert_eq!(old.await.unwrap(), Ok(1));
        assert_eq!(cache.get(&"a", || ok(&n, 3)).await, Ok(2));
    }
}
