//! The identity store: where the policies of a principal come from, and the cache that keeps them
//! compiled.
//!
//! A [`Store`] answers "what applies to this principal?" with a [`Resolved`]: the principal's
//! identity-based policies (its own and its groups'), its permissions boundary, the SCP and RCP levels
//! of its account, and its tags, compiled once into a `PolicySet` and kept in a per-principal LRU
//! cache ([`cache`]). [`Store::prepare`] then adds the resource's side (a resource-based policy from
//! the organization file, a role's trust policy for `sts:` actions, the RCPs of another account) and
//! builds the engine's `Request`.
//!
//! Sources of identity data:
//! - an account export (`aws iam get-account-authorization-details`) in a file or a directory of
//!   files ([`file`]), or at an HTTP(S) URL polled with `ETag`s ([`http`]); watched, and swapped
//!   atomically when a new version compiles (a broken one is reported and the last good one kept);
//! - the live IAM API ([`iam_api`]): per principal on a cache miss, or the whole account via
//!   `GetAccountAuthorizationDetails`, refreshed like a file.
//!
//! Beside it, an optional organization file ([`organization`]): SCPs, RCPs and resource-based
//! policies.

pub mod cache;
pub mod file;
pub mod http;
pub mod iam_api;

// What the documents mean (parsing, compiling, resolving) lives in `iamlet-account`, with no I/O;
// this module reads them and caches what it resolves.
pub use iamlet_account::{export as account, organization};
pub use iamlet_account::{
    EntityError, FetchError, LevelSummary, LoadError, Parts, PrincipalKey, Resolved, Snapshot,
    StoreError, Summary,
};

use arc_swap::ArcSwapOption;
use cache::{Cache, CacheConfig, CacheError, CacheStats};
use iamlet_engine::{
    ContextMap, ContextValue, Decision, Explanation, Policy, PolicySet, PrincipalKind, Request,
};
use organization::Organization;
use std::collections::hash_map::DefaultHasher;
use std::fmt;
use std::future::Future;
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};
use tokio::task::JoinHandle;

/// A boxed, sendable future.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Named JSON documents: (file name or URL, text).
pub type Documents = Vec<(String, String)>;

/// Something that yields documents when they change: a file, a directory, a URL, the IAM API.
pub trait Loader: Send + Sync + fmt::Debug {
    /// The source's name for messages.
    fn name(&self) -> String;
    /// The documents if they may have changed since the last poll; `None` when known unchanged.
    fn poll(&mut self) -> BoxFuture<'_, Result<Option<Documents>, LoadError>>;
}

/// Where the parts of one principal come from on a cache miss.
pub trait Fetcher: Send + Sync + fmt::Debug {
    /// What the source has for the principal.
    fn fetch<'a>(&'a self, key: &'a PrincipalKey) -> BoxFuture<'a, Result<Parts, FetchError>>;
}

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
    fn new(name: String) -> Self {
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
    fn not_loaded(&self) -> FetchError {
        let status = self.status();
        FetchError::Failed(match status.last_error {
            Some(e) => format!("{} has not loaded: {e}", status.name),
            None => format!("{} has not loaded", status.name),
        })
    }

    fn publish(&self, value: T) {
        self.current.store(Some(Arc::new(value)));
        let mut st = self.status.lock().unwrap_or_else(PoisonError::into_inner);
        st.loads += 1;
        st.loaded_at = Some(SystemTime::now());
        st.last_error = None;
    }

    fn clear_error(&self) {
        let mut st = self.status.lock().unwrap_or_else(PoisonError::into_inner);
        st.last_error = None;
    }

    fn fail(&self, e: LoadError) {
        let mut st = self.status.lock().unwrap_or_else(PoisonError::into_inner);
        st.failures += 1;
        st.last_error = Some(e);
    }
}

/// A loader, what it builds, and the hash of the documents last built.
struct Watched<T> {
    loader: Box<dyn Loader>,
    build: fn(&Documents, &str) -> Result<T, LoadError>,
    published: Arc<Published<T>>,
    last_hash: Option<u64>,
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
    async fn first_load(&mut self, retried: bool) -> Result<(), LoadError> {
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
    fn spawn(mut self, interval: Duration, cache: Arc<PrincipalCache>) -> JoinHandle<()> {
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

fn build_snapshot(docs: &Documents, name: &str) -> Result<Snapshot, LoadError> {
    let exports = docs
        .iter()
        .map(|(file, text)| Ok((file.clone(), account::parse_export(file, text)?)))
        .collect::<Result<Vec<_>, LoadError>>()?;
    Snapshot::build(&exports, name)
}

fn build_organization(docs: &Documents, name: &str) -> Result<Organization, LoadError> {
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
struct SnapshotFetcher(Arc<Published<Snapshot>>);

impl Fetcher for SnapshotFetcher {
    fn fetch<'a>(&'a self, key: &'a PrincipalKey) -> BoxFuture<'a, Result<Parts, FetchError>> {
        Box::pin(async move {
            match self.0.current() {
                Some(s) => s.parts(key),
                None => Err(self.0.not_loaded()),
            }
        })
    }
}

/// Whether a failed first load fails [`Store::open_with`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FirstLoad {
    Required,
    Retried,
}

/// The cache of compiled principals.
pub type PrincipalCache = Cache<PrincipalKey, Arc<Resolved>>;

/// Where the accounts' identity data comes from.
#[derive(Clone, Debug)]
pub enum AccountSource {
    /// An export file, or a directory of them (one per account).
    Path(PathBuf),
    /// An export at an `http://` or `https://` URL.
    Url(String),
    /// The live IAM API.
    IamApi(iam_api::IamApiConfig),
}

/// Where the organization file comes from.
#[derive(Clone, Debug)]
pub enum OrganizationSource {
    /// A file.
    Path(PathBuf),
    /// An `http://` or `https://` URL.
    Url(String),
}

/// How to open a [`Store`].
#[derive(Clone, Debug)]
pub struct StoreConfig {
    /// The identity data.
    pub accounts: AccountSource,
    /// SCPs, RCPs and resource-based policies.
    pub organization: Option<OrganizationSource>,
    /// How often watched sources are polled; `None` loads once and never watches.
    pub poll_interval: Option<Duration>,
    /// The per-principal cache.
    pub cache: CacheConfig,
}

impl StoreConfig {
    /// A store of one export file or directory, loaded once, with the default cache.
    pub fn path(accounts: impl Into<PathBuf>) -> Self {
        StoreConfig {
            accounts: AccountSource::Path(accounts.into()),
            organization: None,
            poll_interval: None,
            cache: CacheConfig::default(),
        }
    }

    /// Adds an organization file.
    pub fn with_organization_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.organization = Some(OrganizationSource::Path(path.into()));
        self
    }

    /// Watches the sources, polling every `interval`.
    pub fn watching(mut self, interval: Duration) -> Self {
        self.poll_interval = Some(interval);
        self
    }
}

/// A request to authorize, as the store takes it.
#[derive(Clone, Debug, Default)]
pub struct Query {
    /// The principal's ARN (user, role, assumed-role session, federated user, root, service).
    pub principal: String,
    /// For a federated user session: the IAM user that issued it.
    pub session_issuer: Option<String>,
    /// `service:Action`.
    pub action: String,
    /// The resource ARN.
    pub resource: String,
    /// The account owning the resource, for ARNs without one (S3) not named in the organization file.
    pub resource_account: Option<String>,
    /// Condition keys of the request.
    pub context: ContextMap,
}

/// Everything one evaluation needs: the principal's compiled policies plus the resource's side, and
/// the request.
#[derive(Debug)]
pub struct Prepared {
    resolved: Arc<Resolved>,
    /// A set of its own when the resource adds policies (else the principal's set is used as is).
    own: Option<PolicySet>,
    /// Names what `own` added to the principal's set (0: nothing), so an engine that keeps compiled
    /// sets can find this combination again without looking at the documents.
    additions: u64,
    request: Request,
}

/// Folds an added policy (or level) into [`Prepared::additions`].
fn mix(key: u64, what: impl Hash) -> u64 {
    let mut h = DefaultHasher::new();
    (key, what).hash(&mut h);
    h.finish() | 1
}

impl Prepared {
    /// The policies.
    pub fn policy_set(&self) -> &PolicySet {
        self.own
            .as_ref()
            .unwrap_or_else(|| self.resolved.policy_set())
    }

    /// The request.
    pub fn request(&self) -> &Request {
        &self.request
    }

    /// The principal's compiled policies.
    pub fn resolved(&self) -> &Arc<Resolved> {
        &self.resolved
    }

    /// What was added to the principal's policies for this request (by name, type and level), as a
    /// key: 0 when nothing was. Two requests with the same principal set and the same key evaluate
    /// the same policies.
    pub fn additions(&self) -> u64 {
        self.additions
    }

    /// Adds policies (session policies, extra identity policies to try) to this evaluation only.
    pub fn with_policies(mut self, policies: impl IntoIterator<Item = Policy>) -> Self {
        let set = self
            .own
            .get_or_insert_with(|| self.resolved.policy_set().clone());
        for p in policies {
            self.additions = mix(self.additions, (p.name(), p.policy_type()));
            set.add(p);
        }
        self
    }

    /// Adds organization levels of SCPs or RCPs to this evaluation only.
    pub fn with_org_levels(mut self, scps: Vec<Vec<Policy>>, rcps: Vec<Vec<Policy>>) -> Self {
        let set = self
            .own
            .get_or_insert_with(|| self.resolved.policy_set().clone());
        for l in scps {
            let names: Vec<&str> = l.iter().map(Policy::name).collect();
            self.additions = mix(self.additions, ("scp", &names));
            set.add_scp_level(l);
        }
        for l in rcps {
            let names: Vec<&str> = l.iter().map(Policy::name).collect();
            self.additions = mix(self.additions, ("rcp", &names));
            set.add_rcp_level(l);
        }
        self
    }

    /// The decision.
    pub fn evaluate(&self) -> Decision {
        self.policy_set().evaluate(&self.request)
    }

    /// The decision, explained.
    pub fn explain(&self) -> Explanation {
        self.policy_set().explain(&self.request)
    }
}

/// The identity store. See the module documentation.
#[derive(Debug)]
pub struct Store {
    accounts: Option<Arc<Published<Snapshot>>>,
    organization: Option<Arc<Published<Organization>>>,
    fetcher: Arc<dyn Fetcher>,
    cache: Arc<PrincipalCache>,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Store {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl Store {
    /// Opens a store: loads every source once (an error here is the first load's), then, if the
    /// config says so, watches them from background tasks. Needs a tokio runtime.
    pub async fn open(config: StoreConfig) -> Result<Store, LoadError> {
        Store::open_with(config, FirstLoad::Required).await
    }

    /// Opens a store that starts even if a watched source fails its first load: it is then not
    /// ready (the source's status says why, lookups fail with that reason) until its watcher loads
    /// it. Without a poll interval nothing would retry, so a failed first load is still an error.
    /// What a server wants: up and answering (denying, with the reason) while its store is down.
    pub async fn open_unready(config: StoreConfig) -> Result<Store, LoadError> {
        Store::open_with(config, FirstLoad::Retried).await
    }

    async fn open_with(config: StoreConfig, first: FirstLoad) -> Result<Store, LoadError> {
        let retried = first == FirstLoad::Retried && config.poll_interval.is_some();
        let cache = Arc::new(PrincipalCache::new(config.cache));
        let mut tasks = Vec::new();

        let organization = match &config.organization {
            None => None,
            Some(src) => {
                let loader: Box<dyn Loader> = match src {
                    OrganizationSource::Path(p) => Box::new(file::FileLoader::new(p)),
                    OrganizationSource::Url(u) => Box::new(http::HttpLoader::new(u)?),
                };
                let published = Arc::new(Published::new(loader.name()));
                let mut w = Watched {
                    loader,
                    build: build_organization,
                    published: published.clone(),
                    last_hash: None,
                };
                w.first_load(retried).await?;
                if let Some(i) = config.poll_interval {
                    tasks.push(w.spawn(i, cache.clone()));
                }
                Some(published)
            }
        };

        let (accounts, fetcher): (_, Arc<dyn Fetcher>) = match &config.accounts {
            AccountSource::IamApi(c) if c.mode == iam_api::IamApiMode::PerPrincipal => {
                (None, Arc::new(iam_api::IamApiFetcher::new(c).await?))
            }
            src => {
                let loader: Box<dyn Loader> = match src {
                    AccountSource::Path(p) => Box::new(file::FileLoader::new(p)),
                    AccountSource::Url(u) => Box::new(http::HttpLoader::new(u)?),
                    AccountSource::IamApi(c) => {
                        Box::new(iam_api::IamApiSnapshotLoader::new(c).await?)
                    }
                };
                let published = Arc::new(Published::new(loader.name()));
                let mut w = Watched {
                    loader,
                    build: build_snapshot,
                    published: published.clone(),
                    last_hash: None,
                };
                w.first_load(retried).await?;
                if let Some(i) = config.poll_interval {
                    tasks.push(w.spawn(i, cache.clone()));
                }
                (
                    Some(published.clone()),
                    Arc::new(SnapshotFetcher(published)) as Arc<dyn Fetcher>,
                )
            }
        };

        Ok(Store {
            accounts,
            organization,
            fetcher,
            cache,
            tasks,
        })
    }

    /// A store over a fetcher of one's own (tests, other sources), with an optional organization.
    pub fn with_fetcher(
        fetcher: Arc<dyn Fetcher>,
        organization: Option<Organization>,
        cache: CacheConfig,
    ) -> Store {
        let organization = organization.map(|o| {
            let p = Published::new("organization".into());
            p.publish(o);
            Arc::new(p)
        });
        Store {
            accounts: None,
            organization,
            fetcher,
            cache: Arc::new(PrincipalCache::new(cache)),
            tasks: Vec::new(),
        }
    }

    /// The cache's counters.
    pub fn cache_stats(&self) -> CacheStats {
        self.cache.stats()
    }

    /// The cache itself (for metrics).
    pub fn cache(&self) -> &Arc<PrincipalCache> {
        &self.cache
    }

    /// The account snapshot's status (`None` for the per-principal IAM API source).
    pub fn accounts_status(&self) -> Option<SourceStatus> {
        self.accounts.as_ref().map(|p| p.status())
    }

    /// The organization file's status.
    pub fn organization_status(&self) -> Option<SourceStatus> {
        self.organization.as_ref().map(|p| p.status())
    }

    /// The account snapshot in force (`None` for the per-principal IAM API source).
    pub fn snapshot(&self) -> Option<Arc<Snapshot>> {
        self.accounts.as_ref().and_then(|p| p.current())
    }

    /// The organization data in force.
    pub fn organization(&self) -> Option<Arc<Organization>> {
        self.organization.as_ref().and_then(|p| p.current())
    }

    /// Forgets one principal's compiled policies (an admin call).
    pub fn invalidate(
        &self,
        principal: &str,
        session_issuer: Option<&str>,
    ) -> Result<(), StoreError> {
        let key = PrincipalKey::for_principal(principal, session_issuer)?;
        self.cache.invalidate(&key);
        Ok(())
    }

    /// Forgets every principal's compiled policies.
    pub fn invalidate_all(&self) {
        self.cache.invalidate_all();
    }

    /// The compiled policies of a principal: from the cache, or fetched and compiled once.
    pub async fn resolve(
        &self,
        principal: &str,
        session_issuer: Option<&str>,
    ) -> Result<Arc<Resolved>, StoreError> {
        let key = PrincipalKey::for_principal(principal, session_issuer)?;
        self.resolve_key(&key, principal).await
    }

    /// The role with exactly this ARN (partition, account, path and name), with its trust policy: what
    /// `AssumeRole` needs before anything is decided. A role named by another path or partition is
    /// no role: `UnknownPrincipal`.
    pub async fn role(&self, arn: &str) -> Result<Arc<Resolved>, StoreError> {
        let key = PrincipalKey::for_principal(arn, None)?;
        if !matches!(key, PrincipalKey::Role(_)) {
            return Err(StoreError::UnknownPrincipal(arn.to_owned()));
        }
        let role = self.resolve_key(&key, arn).await?;
        if role.entity() != arn {
            return Err(StoreError::UnknownPrincipal(arn.to_owned()));
        }
        Ok(role)
    }

    async fn resolve_key(
        &self,
        key: &PrincipalKey,
        principal: &str,
    ) -> Result<Arc<Resolved>, StoreError> {
        let fetch = || async {
            // An organization that has not loaded is no organization: without its SCPs and RCPs
            // the answer could allow what they deny, so nothing is resolved until it loads.
            let org = match &self.organization {
                None => None,
                Some(p) => match p.current() {
                    Some(o) => Some(o),
                    None => return Err(p.not_loaded()),
                },
            };
            let parts = self.fetcher.fetch(key).await?;
            Ok(Arc::new(parts.assemble(org.as_deref())))
        };
        self.cache.get(key, fetch).await.map_err(|e| match e {
            CacheError::NotFound => StoreError::UnknownPrincipal(principal.to_owned()),
            CacheError::Unavailable(reason) => StoreError::Unavailable {
                principal: principal.to_owned(),
                reason,
            },
        })
    }

    /// Resolves the principal and adds the resource's side: its resource-based policy (from the
    /// organization file), a role's trust policy when the action is an `sts:` one on a role, and, for
    /// a resource in another account, that account's RCP levels instead of the principal's.
    pub async fn prepare(&self, query: Query) -> Result<Prepared, StoreError> {
        let resolved = self
            .resolve(&query.principal, query.session_issuer.as_deref())
            .await?;
        let mut request = resolved.request(
            &query.principal,
            &query.action,
            &query.resource,
            query.context,
        )?;
        let org = self.organization();
        let mut resource_policies = Vec::new();
        if let Some(rp) = org
            .as_deref()
            .and_then(|o| o.resource_policy(&query.resource))
        {
            resource_policies.push(rp.policy.clone());
            if let (Some(a), None) = (&rp.account, &query.resource_account) {
                request = request.with_resource_account(a.clone());
            }
        }
        if let Some(a) = &query.resource_account {
            request = request.with_resource_account(a.clone());
        }
        if let Some(trust) = self.trust_policy(&query.action, &query.resource).await? {
            resource_policies.push(trust);
        }

        let resource_account = request.resource_account().map(str::to_owned);
        if let (Some(o), Some(acct)) = (org.as_deref(), resource_account.as_deref()) {
            if let Some((id, path)) = o.principal_org_keys(acct) {
                let context = request.context_mut();
                if !context.contains("aws:ResourceOrgID") {
                    context.insert("aws:ResourceOrgID", id.as_str());
                }
                if !context.contains("aws:ResourceOrgPaths") {
                    context.insert("aws:ResourceOrgPaths", ContextValue::multi(vec![path]));
                }
            }
        }

        let other_account = resource_account.as_deref() != resolved.account();
        let rcps_differ = other_account
            && request.principal().kind() != PrincipalKind::Service
            && org.as_deref().is_some_and(|o| o.rcps_enabled());
        let mut additions = 0;
        let own = if resource_policies.is_empty() && !rcps_differ {
            None
        } else {
            let mut set = if rcps_differ {
                let mut set = resolved.policy_set_without_rcps().clone();
                if let (Some(o), Some(acct)) = (org.as_deref(), resource_account.as_deref()) {
                    additions = mix(additions, ("rcps of", acct));
                    for level in o.levels(acct) {
                        set.add_rcp_level(level.rcps.clone());
                    }
                }
                set
            } else {
                resolved.policy_set().clone()
            };
            for p in resource_policies {
                additions = mix(additions, (p.name(), p.policy_type()));
                set.add(p);
            }
            Some(set)
        };
        Ok(Prepared {
            resolved,
            own,
            additions,
            request,
        })
    }

    /// The trust policy of the role a `sts:` action is on.
    async fn trust_policy(
        &self,
        action: &str,
        resource: &str,
    ) -> Result<Option<Policy>, StoreError> {
        let is_sts = action
            .split_once(':')
            .is_some_and(|(svc, _)| svc.eq_ignore_ascii_case("sts"));
        let is_role = resource.starts_with("arn:")
            && resource.split(':').nth(2) == Some("iam")
            && resource
                .split(':')
                .nth(5)
                .is_some_and(|r| r.starts_with("role/"));
        if !(is_sts && is_role) {
            return Ok(None);
        }
        let key = PrincipalKey::Role(resource.to_owned());
        match self.resolve_key(&key, resource).await {
            Ok(r) => Ok(r.trust_policy().cloned()),
            Err(StoreError::UnknownPrincipal(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }
}
