//! The cache through the store, with a fetcher that counts, waits and fails on demand.

use iamlet_store::cache::CacheConfig;
use iamlet_store::{
    BoxFuture, FetchError, Fetcher, Parts, PrincipalKey, Snapshot, Store, StoreError,
};
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Serves principals from the example account, slowly, counting fetches; fails while `down`.
#[derive(Debug)]
struct Counting {
    snapshot: Snapshot,
    fetches: AtomicUsize,
    down: AtomicBool,
    delay: Duration,
}

impl Fetcher for Counting {
    fn fetch<'a>(&'a self, key: &'a PrincipalKey) -> BoxFuture<'a, Result<Parts, FetchError>> {
        Box::pin(async move {
            self.fetches.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(self.delay).await;
            if self.down.load(Ordering::SeqCst) {
                return Err(FetchError::Failed("IAM is unreachable".into()));
            }
            self.snapshot.parts(key)
        })
    }
}

fn counting(delay: Duration) -> Arc<Counting> {
    let text = std::fs::read_to_string(super::example("account.json")).unwrap();
    let export = iamlet_store::account::parse_export("account.json", &text).unwrap();
    let snapshot = Snapshot::build(&[("account.json".into(), export)], "account.json").unwrap();
    Arc::new(Counting {
        snapshot,
        fetches: AtomicUsize::new(0),
        down: AtomicBool::new(false),
        delay,
    })
}

fn config() -> CacheConfig {
    CacheConfig {
        capacity: NonZeroUsize::new(100).unwrap(),
        ttl: Duration::from_secs(60),
        negative_ttl: Duration::from_secs(10),
        max_stale: Duration::from_secs(600),
        retry_after_error: Duration::from_secs(2),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_concurrent_misses_make_one_fetch() {
    let f = counting(Duration::from_millis(200));
    let store = Arc::new(Store::with_fetcher(f.clone(), None, config()));
    let alice = super::arn("user/alice");
    let mut tasks = Vec::new();
    for _ in 0..64 {
        let store = store.clone();
        let alice = alice.clone();
        tasks.push(tokio::spawn(async move {
            store
                .resolve(&alice, None)
                .await
                .map(|r| r.summary().policies.len())
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap(), 3);
    }
    assert_eq!(f.fetches.load(Ordering::SeqCst), 1);
    let stats = store.cache_stats();
    assert_eq!((stats.misses, stats.fetches, stats.entries), (64, 1, 1));
    assert!(stats.fetch_micros_total >= 200_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_sessions_of_one_role_make_one_fetch() {
    let f = counting(Duration::from_millis(100));
    let store = Arc::new(Store::with_fetcher(f.clone(), None, config()));
    let mut tasks = Vec::new();
    for i in 0..20 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let session = format!("arn:aws:sts::111122223333:assumed-role/ci-deploy/build-{i}");
            store.resolve(&session, None).await.map(|_| ())
        }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(f.fetches.load(Ordering::SeqCst), 1);
}

#[tokio::test(start_paused = true)]
async fn ttl_negative_caching_and_invalidation() {
    let f = counting(Duration::from_millis(1));
    let store = Store::with_fetcher(f.clone(), None, config());
    let alice = super::arn("user/alice");
    store.resolve(&alice, None).await.unwrap();
    store.resolve(&alice, None).await.unwrap();
    assert_eq!(f.fetches.load(Ordering::SeqCst), 1);
    tokio::time::advance(Duration::from_secs(61)).await;
    store.resolve(&alice, None).await.unwrap();
    assert_eq!(f.fetches.load(Ordering::SeqCst), 2);

    // Unknown principals are remembered briefly.
    let ghost = super::arn("user/ghost");
    for _ in 0..5 {
        assert!(matches!(
            store.resolve(&ghost, None).await,
            Err(StoreError::UnknownPrincipal(_))
        ));
    }
    assert_eq!(f.fetches.load(Ordering::SeqCst), 3);
    assert_eq!(store.cache_stats().negative_hits, 4);
    tokio::time::advance(Duration::from_secs(11)).await;
    assert!(store.resolve(&ghost, None).await.is_err());
    assert_eq!(f.fetches.load(Ordering::SeqCst), 4);

    // Invalidation of one principal, then of all.
    store.invalidate(&alice, None).unwrap();
    store.resolve(&alice, None).await.unwrap();
    assert_eq!(f.fetches.load(Ordering::SeqCst), 5);
    store.invalidate_all();
    assert_eq!(store.cache_stats().entries, 0);
    store.resolve(&alice, None).await.unwrap();
    assert_eq!(f.fetches.load(Ordering::SeqCst), 6);
}

#[tokio::test(start_paused = true)]
async fn stale_on_error_then_fail_closed() {
    let f = counting(Duration::from_millis(1));
    let store = Store::with_fetcher(f.clone(), None, config());
    let bob = super::arn("user/bob");
    store.resolve(&bob, None).await.unwrap();
    f.down.store(true, Ordering::SeqCst);
    // Expired, source down: stale answers until max_stale.
    tokio::time::advance(Duration::from_secs(120)).await;
    let r = store.resolve(&bob, None).await.unwrap();
    assert!(r.summary().boundary.is_some());
    assert!(store.resolve(&bob, None).await.is_ok());
    assert_eq!(store.cache_stats().stale_serves, 2);
    tokio::time::advance(Duration::from_secs(500)).await;
    match store.resolve(&bob, None).await {
        Err(StoreError::Unavailable { principal, reason }) => {
            assert_eq!(principal, bob);
            assert_eq!(reason, "IAM is unreachable");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(store.cache_stats().fail_closed, 1);
    // A principal never seen fails closed at once; when the source is back, all is well.
    assert!(matches!(
        store.resolve(&super::arn("user/alice"), None).await,
        Err(StoreError::Unavailable { .. })
    ));
    f.down.store(false, Ordering::SeqCst);
    assert!(store.resolve(&bob, None).await.is_ok());
}
