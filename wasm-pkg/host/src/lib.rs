//! Runs `iamlet-engine` as a WebAssembly component under wasmtime.
//!
//! The component (built from `wasm-pkg/component` and embedded at build time) is compiled once; a
//! fixed pool of warm instances serves calls, each in its own store with a memory cap
//! ([`wasmtime::StoreLimits`]) and a time cap (epoch interruption: a ticker thread advances the epoch,
//! and a call that outlives its deadline traps). A trap or a limit hit becomes an [`HostError`] that
//! callers map to Deny, and the broken instance is replaced before the next call.
//!
//! Policy sets live in the guest as `policy-set` resources. A [`GuestPolicySet`] is pinned to one
//! instance; dropping it drops the guest resource. If its instance was replaced after a trap, the set is
//! compiled again from the documents it keeps, so callers never see a stale handle.

#![forbid(unsafe_code)]

pub use iamlet_engine::ffi::packed::PackedRequest;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;
use wasmtime::component::{Component, Linker, ResourceAny};
use wasmtime::{Store, StoreLimits, StoreLimitsBuilder};

wasmtime::component::bindgen!({ path: "../wit", world: "engine" });

pub use exports::iamlet::engine::evaluator::{
    ContextEntry, ContextValue, Decision, Evaluation, PolicyInput, PolicyProblem, PolicyType,
    Request, StatementRef,
};

/// The component, built from `wasm-pkg/component` by this crate's build script.
pub static COMPONENT: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/iamlet_engine.component.wasm"));

/// How the host runs guests.
#[derive(Clone, Debug)]
pub struct HostConfig {
    /// Warm instances kept (calls on one instance are serialized).
    pub instances: usize,
    /// Memory one instance may grow to.
    pub max_memory_bytes: usize,
    /// How long one call may run before it is interrupted.
    pub call_timeout: Duration,
}

impl Default for HostConfig {
    fn default() -> Self {
        HostConfig {
            instances: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2),
            max_memory_bytes: 256 * 1024 * 1024,
            call_timeout: Duration::from_millis(250),
        }
    }
}

/// What can go wrong running the guest. Every variant means: do not allow.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HostError {
    /// The component could not be compiled or instantiated.
    #[error("cannot start the engine component: {0}")]
    Setup(String),
    /// The policies do not parse.
    #[error("invalid policies: {}", .0.iter().map(|p| p.display.as_str()).collect::<Vec<_>>().join("; "))]
    Policies(Vec<PolicyProblem>),
    /// The request is malformed.
    #[error("invalid request: {0}")]
    Request(String),
    /// The guest trapped or hit its memory or time limit; the instance was replaced.
    #[error("the engine component failed ({kind}): {message}")]
    Trap {
        /// `timeout`, `memory` or `trap`.
        kind: &'static str,
        /// What wasmtime reported.
        message: String,
    },
}

/// Counters of the guest's failures.
#[derive(Debug, Default)]
pub struct HostCounters {
    /// Calls that trapped (including limits).
    pub traps: AtomicU64,
    /// Calls interrupted for taking too long.
    pub timeouts: AtomicU64,
    /// Instances replaced after a failure.
    pub replaced_instances: AtomicU64,
}

struct State {
    limits: StoreLimits,
    /// Set when the guest asked for memory beyond its limit (its allocator then aborts, which only
    /// shows as an `unreachable` trap).
    memory_denied: bool,
}

impl wasmtime::ResourceLimiter for State {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let ok = self.limits.memory_growing(current, desired, maximum)?;
        self.memory_denied |= !ok;
        Ok(ok)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.limits.table_growing(current, desired, maximum)
    }

    fn instances(&self) -> usize {
        self.limits.instances()
    }
    fn tables(&self) -> usize {
        self.limits.tables()
    }
    fn memories(&self) -> usize {
        self.limits.memories()
    }
}

struct Worker {
    store: Store<State>,
    bindings: Engine,
    /// Guest handles of the policy sets compiled on this instance, by set id.
    sets: HashMap<u64, ResourceAny>,
    /// Sets dropped by the host whose guest resources are still to be dropped.
    dropped: Vec<u64>,
}

struct Inner {
    engine: wasmtime::Engine,
    pre: EnginePre<State>,
    config: HostConfig,
    workers: Vec<Mutex<Option<Worker>>>,
    next_id: AtomicU64,
    counters: HostCounters,
    stop: Arc<AtomicBool>,
    ticker: Mutex<Option<JoinHandle<()>>>,
}

/// Epoch tick: a call's deadline is counted in ticks.
const TICK: Duration = Duration::from_millis(5);

/// The pool of engine instances.
#[derive(Clone)]
pub struct Host {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Host {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Host")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

/// A policy set compiled inside the guest.
pub struct GuestPolicySet {
    id: u64,
    policies: Arc<Vec<PolicyInput>>,
    statements: u32,
    host: Arc<Inner>,
}

impl std::fmt::Debug for GuestPolicySet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GuestPolicySet")
            .field("id", &self.id)
            .field("statements", &self.statements)
            .finish()
    }
}

impl GuestPolicySet {
    /// The number of statements in the set.
    pub fn statement_count(&self) -> u32 {
        self.statements
    }
}

impl Drop for GuestPolicySet {
    fn drop(&mut self) {
        let slot = self.host.slot(self.id);
        if let Some(w) = self.host.workers.get(slot) {
            if let Some(worker) = w.lock().as_mut() {
                worker.dropped.push(self.id);
            }
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.ticker.lock().take() {
            let _ = t.join();
        }
    }
}

fn setup<E: std::fmt::Display>(e: E) -> HostError {
    HostError::Setup(e.to_string())
}

impl Host {
    /// Compiles the embedded component and starts the pool.
    pub fn new(config: HostConfig) -> Result<Host, HostError> {
        Self::with_component(COMPONENT, config)
    }

    /// Compiles the given component bytes (tests use this to run broken guests).
    pub fn with_component(bytes: &[u8], config: HostConfig) -> Result<Host, HostError> {
        let mut wcfg = wasmtime::Config::new();
        wcfg.wasm_component_model(true).epoch_interruption(true);
        // For profiling: `IAMLET_PERFMAP=1` names the guest's compiled functions in
        // /tmp/perf-PID.map, so `perf report` shows guest frames (BENCHMARKS.md).
        if std::env::var_os("IAMLET_PERFMAP").is_some() {
            wcfg.profiler(wasmtime::ProfilingStrategy::PerfMap);
        }
        let engine = wasmtime::Engine::new(&wcfg).map_err(setup)?;
        let component = Component::new(&engine, bytes).map_err(setup)?;
        let linker: Linker<State> = Linker::new(&engine);
        let pre =
            EnginePre::new(linker.instantiate_pre(&component).map_err(setup)?).map_err(setup)?;
        let stop = Arc::new(AtomicBool::new(false));
        let ticker = {
            let engine = engine.clone();
            let stop = stop.clone();
            std::thread::Builder::new()
                .name("iamlet-epoch".into())
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        std::thread::sleep(TICK);
                        engine.increment_epoch();
                    }
                })
                .map_err(setup)?
        };
        let n = config.instances.max(1);
        let inner = Arc::new(Inner {
            engine,
            pre,
            config,
            workers: (0..n).map(|_| Mutex::new(None)).collect(),
            next_id: AtomicU64::new(1),
            counters: HostCounters::default(),
            stop,
            ticker: Mutex::new(Some(ticker)),
        });
        // Warm every instance now, so the first request pays nothing.
        for w in &inner.workers {
            *w.lock() = Some(inner.instantiate()?);
        }
        Ok(Host { inner })
    }

    /// Failure counters.
    pub fn counters(&self) -> &HostCounters {
        &self.inner.counters
    }

    /// Compiles policies into a guest policy set.
    pub fn compile(&self, policies: Vec<PolicyInput>) -> Result<GuestPolicySet, HostError> {
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let policies = Arc::new(policies);
        let statements = self.inner.with_worker(id, |w| {
            let handle = w.ensure_set(id, &policies)?;
            let guest = w.bindings.iamlet_engine_evaluator().policy_set();
            guest
                .call_statement_count(&mut w.store, handle)
                .map_err(Call::Trap)
        })?;
        Ok(GuestPolicySet {
            id,
            policies,
            statements,
            host: self.inner.clone(),
        })
    }

    /// How many instances serve calls.
    pub fn instance_count(&self) -> usize {
        self.inner.workers.len()
    }

    /// Which instance (`0..instance_count()`) serves calls on `set`. Calls on one instance are
    /// serialized behind a lock: an async caller that must not block its thread can queue for the
    /// instance first.
    pub fn instance_of(&self, set: &GuestPolicySet) -> usize {
        self.inner.slot(set.id)
    }

    /// Decides a request; with `explain`, the evaluation carries the full explanation as JSON.
    pub fn evaluate(
        &self,
        set: &GuestPolicySet,
        request: &Request,
        explain: bool,
    ) -> Result<Evaluation, HostError> {
        self.with_set(set, |w, handle| {
            let guest = w.bindings.iamlet_engine_evaluator().policy_set();
            guest
                .call_evaluate(&mut w.store, handle, request, explain)
                .map_err(Call::Trap)?
                .map_err(Call::Request)
        })
    }

    /// Decides a packed request (one buffer crosses instead of a string per field): the decision
    /// and deciding statements of [`Host::evaluate`] without explanation.
    pub fn evaluate_packed(
        &self,
        set: &GuestPolicySet,
        request: &PackedRequest,
    ) -> Result<Evaluation, HostError> {
        self.with_set(set, |w, handle| {
            let guest = w.bindings.iamlet_engine_evaluator().policy_set();
            guest
                .call_evaluate_packed(&mut w.store, handle, request.as_bytes())
                .map_err(Call::Trap)?
                .map_err(Call::Request)
        })
    }

    /// Runs `f` on the instance holding `set`, with the set's guest handle (compiled again there if
    /// the instance was replaced).
    fn with_set<T>(
        &self,
        set: &GuestPolicySet,
        f: impl FnOnce(&mut Worker, ResourceAny) -> Result<T, Call>,
    ) -> Result<T, HostError> {
        self.inner.with_worker(set.id, |w| {
            let handle = w.ensure_set(set.id, &set.policies)?;
            f(w, handle)
        })
    }

    /// Checks one policy in the guest.
    pub fn validate(&self, policy: &PolicyInput) -> Result<Vec<PolicyProblem>, HostError> {
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        self.inner.with_worker(id, |w| {
            w.bindings
                .iamlet_engine_evaluator()
                .call_validate(&mut w.store, policy)
                .map_err(Call::Trap)
        })
    }

    /// The batch entry point: cases as JSON in, results as JSON out.
    pub fn simulate_json(&self, cases: &str) -> Result<String, HostError> {
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        self.inner.with_worker(id, |w| {
            w.bindings
                .iamlet_engine_evaluator()
                .call_simulate_json(&mut w.store, cases)
                .map_err(Call::Trap)
        })
    }
}

/// The outcome of one guest call, before it is mapped to a [`HostError`].
enum Call {
    Trap(wasmtime::Error),
    Policies(Vec<PolicyProblem>),
    Request(String),
}

impl Worker {
    fn ensure_set(&mut self, id: u64, policies: &[PolicyInput]) -> Result<ResourceAny, Call> {
        for dead in std::mem::take(&mut self.dropped) {
            if let Some(h) = self.sets.remove(&dead) {
                h.resource_drop(&mut self.store).map_err(Call::Trap)?;
            }
        }
        if let Some(h) = self.sets.get(&id) {
            return Ok(*h);
        }
        let guest = self.bindings.iamlet_engine_evaluator().policy_set();
        let handle = guest
            .call_create(&mut self.store, policies)
            .map_err(Call::Trap)?
            .map_err(Call::Policies)?;
        self.sets.insert(id, handle);
        Ok(handle)
    }
}

impl Inner {
    fn slot(&self, id: u64) -> usize {
        (id % self.workers.len() as u64) as usize
    }

    fn instantiate(&self) -> Result<Worker, HostError> {
        let limits = StoreLimitsBuilder::new()
            .memory_size(self.config.max_memory_bytes)
            .instances(16)
            .build();
        let mut store = Store::new(
            &self.engine,
            State {
                limits,
                memory_denied: false,
            },
        );
        store.limiter(|s| s);
        store.set_epoch_deadline(u64::MAX / 2);
        let bindings = self.pre.instantiate(&mut store).map_err(setup)?;
        Ok(Worker {
            store,
            bindings,
            sets: HashMap::new(),
            dropped: Vec::new(),
        })
    }

    fn with_worker<T>(
        &self,
        id: u64,
        f: impl FnOnce(&mut Worker) -> Result<T, Call>,
    ) -> Result<T, HostError> {
        let slot = self
            .workers
            .get(self.slot(id))
            .ok_or_else(|| setup("no worker"))?;
        let mut guard = slot.lock();
        if guard.is_none() {
            *guard = Some(self.instantiate()?);
        }
        let Some(worker) = guard.as_mut() else {
            return Err(setup("no worker"));
        };
        let ticks = (self.config.call_timeout.as_millis() / TICK.as_millis()).max(1) as u64 + 1;
        worker.store.set_epoch_deadline(ticks);
        match f(worker) {
            Ok(v) => Ok(v),
            Err(Call::Policies(p)) => Err(HostError::Policies(p)),
            Err(Call::Request(r)) => Err(HostError::Request(r)),
            Err(Call::Trap(e)) => {
                let message = format!("{e:#}");
                let kind = match e.downcast_ref::<wasmtime::Trap>() {
                    Some(wasmtime::Trap::Interrupt) => {
                        self.counters.timeouts.fetch_add(1, Ordering::Relaxed);
                        "timeout"
                    }
                    _ if worker.store.data().memory_denied => "memory",
                    _ => "trap",
                };
                self.counters.traps.fetch_add(1, Ordering::Relaxed);
                // The instance is no longer trustworthy: replace it; its sets are compiled again from
                // their documents on next use.
                *guard = self.instantiate().ok();
                self.counters
                    .replaced_instances
                    .fetch_add(1, Ordering::Relaxed);
                Err(HostError::Trap { kind, message })
            }
        }
    }
}

/// The component's policy type for the engine's: the host side's one mapping of the WIT enum.
impl From<iamlet_engine::PolicyType> for PolicyType {
    fn from(t: iamlet_engine::PolicyType) -> Self {
        use iamlet_engine::PolicyType as Engine;
        match t {
            Engine::Identity => PolicyType::Identity,
            Engine::Resource => PolicyType::Resource,
            Engine::Trust => PolicyType::Trust,
            Engine::Boundary => PolicyType::Boundary,
            Engine::Scp => PolicyType::Scp,
            Engine::Rcp => PolicyType::Rcp,
            Engine::Session => PolicyType::Session,
        }
    }
}

/// The component's record for one of the engine's binding inputs (the same document text, so error
/// positions and statement lines agree with native evaluation).
pub fn policy_input(p: &iamlet_engine::ffi::PolicyInput) -> Result<PolicyInput, String> {
    Ok(PolicyInput {
        name: p.name.clone(),
        policy_type: p.policy_type.into(),
        document: iamlet_engine::ffi::document_text(&p.document)?,
        level: p
            .level
            .map(|l| u32::try_from(l).map_err(|e| e.to_string()))
            .transpose()?,
    })
}

/// The component's request record for a request in the case format.
pub fn request(r: &iamlet_engine::simulate::CaseRequest) -> Result<Request, String> {
    let text = |key: &str, v: &serde_json::Value| -> Result<String, String> {
        iamlet_engine::scalar_value_text(v).ok_or_else(|| {
            format!(
                "context key `{key}`: values must be strings, numbers, booleans or arrays of them"
            )
        })
    };
    let mut context = Vec::with_capacity(r.context.len());
    for (key, v) in &r.context {
        let value = match v {
            serde_json::Value::Array(items) => ContextValue::Multi(
                items
                    .iter()
                    .map(|i| text(key, i))
                    .collect::<Result<_, _>>()?,
            ),
            other => ContextValue::Single(text(key, other)?),
        };
        context.push(ContextEntry {
            key: key.clone(),
            value,
        });
    }
    Ok(Request {
        principal: r.principal.clone(),
        action: r.action.clone(),
        resource: r.resource.clone(),
        resource_account: r.resource_account.clone(),
        session_issuer: r.session_issuer.clone(),
        context,
    })
}
