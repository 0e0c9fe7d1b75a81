//! Watched sources and the snapshots they publish: each poll reads a source's documents if they may
//! have changed, builds a new snapshot when their hash differs, and swaps it in atomically; a broken
//! version is reported (the status says why) and the last good one kept.

use crate::{
    BoxFuture, Documents, FetchError, Fetcher, LoadError, Loader, Parts, PrincipalCache,
    PrincipalKey,
};
use arc_swap::ArcSwapOption;
use iamlet_account::organization::Organization;
use iamlet_account::{export as account, Snapshot};
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};
use tokio::task::JoinHandle;

/// How a watched source is doing.
#[derive(Clone, Debug, Default)]
pub struct SourceStatus {
    /// The source's name.
    pub name: String,
    /// Successful loads that changed the snapshot (the first load included).
    pub loads: u64,
    /// Failed polls or loads.
    pub failures: u64,
    /// When the snapshot in force was loaded.
    pub loaded_at: Option<SystemTime>,
    /// The last failure, cleared by the next successful load.
    pub last_error: Option<LoadError>,
}

/// A snapshot published for readers, swapped atomically, and its status.
#[derive(Debug, Default)]
pub struct Published<T> {
    current: ArcSwapOption<T>,
    status: Mutex<SourceStatus>,
}

impl<T> Published<T> {
    pub(crate) fn new(name: String) -> Self {
        Published {
            current: ArcSwapOption::empty(),
            status: Mutex::new(SourceStatus {
                name,
                ..SourceStatus::default()
            }),
        }
    }

    /// The snapshot in force.
    pub fn current(&self) -> Option<Arc<T>> {
        self.current.load_full()
    }

    /// The source's status.
    pub fn status(&self) -> SourceStatus {
        self.status
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Why nothing can be answered from a source that has never loaded.
    pub(crate) fn not_loaded(&self) -> FetchError {
        let status = self.status();
        FetchError::Failed(match status.last_error {
            Some(e) => format!("{} has not loaded: {e}", status.name),
            None => format!("{} has not loaded", status.name),
        })
    }

    pub(crate) fn publish(&self, value: T) {
        self.current.store(Some(Arc::new(value)));
        let mut st = self.status.lock().unwrap_or_else(PoisonError::into_inner);
        st.loads += 1;
        st.loaded_at = Some(SystemTime::now());
        st.last_error = None;
    }

    pub(crate) fn clear_error(&self) {
        let mut st = self.status.lock().unwrap_or_else(PoisonError::into_inner);
        st.last_error = None;
    }

    pub(crate) fn fail(&self, e: LoadError) {
        let mut st = self.status.lock().unwrap_or_else(PoisonError::into_inner);
        st.failures += 1;
        st.last_error = Some(e);
    }
}

/// A loader, what it builds, and the hash of the documents last built.
pub(crate) struct Watched<T> {
    pub(crate) loader: Box<dyn Loader>,
    pub(crate) build: fn(&Documents, &str) -> Result<T, LoadError>,
    pub(crate) published: Arc<Published<T>>,
    pub(crate) last_hash: Option<u64>,
}

impl<T: Send + Sync + 'static> Watched<T> {
    /// Polls once. `Ok(true)` when a new snapshot was published.
    async fn poll(&mut self) -> Result<bool, LoadError> {
        let Some(docs) = self.loader.poll().await? else {
            return Ok(false);
        };
        let mut h = DefaultHasher::new();
        docs.hash(&mut h);
        let hash = h.finish();
        if self.last_hash == Some(hash) {
            // Back to the version in force (after a broken one, say): nothing to report any more.
            self.published.clear_error();
            return Ok(false);
        }
        let value = (self.build)(&docs, &self.loader.name())?;
        self.published.publish(value);
        self.last_hash = Some(hash);
        Ok(true)
    }

    /// The first load: an error is returned, or (when a watcher will retry) recorded in the status.
    pub(crate) async fn first_load(&mut self, retried: bool) -> Result<(), LoadError> {
        match self.poll().await {
            Ok(_) => Ok(()),
            Err(e) if retried => {
                tracing::warn!(
                    source = %self.loader.name(),
                    error = %e,
                    "first load failed; not ready until a retry loads it"
                );
                self.published.fail(e);
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// Polls every `interval`, invalidating the cache when a new snapshot is published; failures
    /// keep the last good snapshot and are recorded in the status.
    pub(crate) fn spawn(
        mut self,
        interval: Duration,
        cache: Arc<PrincipalCache>,
    ) -> JoinHandle<()> {
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(interval).await;
                match self.poll().await {
                    Ok(true) => {
                        tracing::info!(source = %self.loader.name(), "loaded a new version");
                        cache.invalidate_all();
                    }
                    Ok(false) => {}
                    Err(e) => {
                        tracing::warn!(
                            source = %self.loader.name(),
                            error = %e,
                            "reload failed; keeping the last good version"
                        );
                        self.published.fail(e);
                    }
                }
            }
        })
    }
}

pub(crate) fn build_snapshot(docs: &Documents, name: &str) -> Result<Snapshot, LoadError> {
    let exports = docs
        .iter()
        .map(|(file, text)| Ok((file.clone(), account::parse_export(file, text)?)))
        .collect::<Result<Vec<_>, LoadError>>()?;
    Snapshot::build(&exports, name)
}

pub(crate) fn build_organization(docs: &Documents, name: &str) -> Result<Organization, LoadError> {
    match docs.as_slice() {
        [(file, text)] => Organization::parse(file, text),
        _ => Err(LoadError::Read {
            source_name: name.to_owned(),
            message: "an organization source is one file".into(),
        }),
    }
}

/// Resolves principals from the snapshot in force.
#[derive(Debug)]
pub(crate) struct SnapshotFetcher(pub(crate) Arc<Published<Snapshot>>);

impl Fetcher for SnapshotFetcher {
    fn fetch<'a>(&'a self, key: &'a PrincipalKey) -> BoxFuture<'a, Result<Parts, FetchError>> {
        Box::pin(async move {
            match self.0.current() {
                Some(s) => s.parts(key),
                None => Err(self.0.not_loaded()),
            }
        })
    }

    fn oidc_provider<'a>(
        &'a self,
        arn: &'a str,
    ) -> BoxFuture<'a, Result<Option<iamlet_account::export::OidcProviderDetail>, FetchError>> {
        Box::pin(async move {
            match self.0.current() {
                Some(s) => Ok(s.oidc_provider(arn).cloned()),
                None => Err(self.0.not_loaded()),
            }
        })
    }

    fn saml_provider<'a>(
        &'a self,
        arn: &'a str,
    ) -> BoxFuture<'a, Result<Option<iamlet_account::export::SamlProviderDetail>, FetchError>> {
        Box::pin(async move {
            match self.0.current() {
                Some(s) => Ok(s.saml_provider(arn).cloned()),
                None => Err(self.0.not_loaded()),
            }
        })
    }
}
