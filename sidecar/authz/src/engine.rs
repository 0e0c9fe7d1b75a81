//! Which engine decides: the WebAssembly component under wasmtime (the default: the same artefact the
//! browser and Node run), or the engine compiled in. Both answer from a store's [`Prepared`] (stage
//! 4 of a check, with the store).
//!
//! The component keeps one guest policy set per compiled principal (and per resource-side addition),
//! in an LRU of its own. Entries are keyed by the address of the principal's compiled set (plus
//! [`Prepared::additions`]) and hold a
//! `Weak` to it, which keeps that address from being reused while the entry lives: a principal whose
//! policies change gets a new set, never an old one.

use iamlet_engine::ffi::policy_set_inputs;
use iamlet_engine::Decision;
use iamlet_store::{Prepared, Resolved};
use iamlet_wasm_host::{GuestPolicySet, Host, HostConfig, HostError, PackedRequest};
use lru::LruCache;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, PoisonError, Weak};

/// A decision and what decided it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// The decision.
    pub decision: Decision,
    /// The first deciding statement: `policy` and `Statement[i]` (with its Sid).
    pub deciding: Option<Deciding>,
    /// The decision and what decided it, in words (`Allow by Statement[0] (Read) of `p``): the
    /// reason a check logs, written once with the verdict, which the decision cache then logs on
    /// every hit.
    pub summary: String,
}

impl Verdict {
    /// A decision, `deciding` what decided it.
    pub fn new(decision: Decision, deciding: Option<Deciding>) -> Self {
        let summary = match &deciding {
            Some(d) => format!("{decision} by {} of `{}`", d.label, d.policy),
            None => decision.to_string(),
        };
        Verdict {
            decision,
            deciding,
            summary,
        }
    }
}

/// A statement that decided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deciding {
    /// The policy's name.
    pub policy: String,
    /// The statement's index.
    pub statement: usize,
    /// Its Sid.
    pub sid: Option<String>,
    /// `Statement[i]` with its Sid, as the decision log names it: written once with the verdict,
    /// which the decision cache then logs on every hit.
    pub label: String,
}

impl Deciding {
    /// The statement `statement` (with `sid`) of `policy`.
    pub fn new(policy: String, statement: usize, sid: Option<String>) -> Self {
        let label = iamlet_decision_log::statement_label(statement, sid.as_deref());
        Deciding {
            policy,
            statement,
            sid,
            label,
        }
    }

    /// Notes it in a decision record: its policy and its label.
    pub fn note(&self, rec: &mut iamlet_decision_log::DecisionRecord) {
        rec.deciding_policy = Some(self.policy.clone());
        rec.deciding_statement = Some(self.label.clone());
    }
}

/// The engine failed; the caller denies.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct EngineFailure(pub HostError);

impl EngineFailure {
    /// What failed, for metrics and the fail-open rule.
    pub fn kind(&self) -> crate::outcome::FailureKind {
        match &self.0 {
            HostError::Trap { kind, .. } => crate::outcome::FailureKind::Engine(kind),
            _ => crate::outcome::FailureKind::Engine("error"),
        }
    }
}

type GuestKey = (usize, u64);

struct GuestEntry {
    _owner: Weak<Resolved>,
    set: Arc<GuestPolicySet>,
}

/// The engine in use.
#[derive(Debug)]
pub struct Evaluator(Engine);

enum Engine {
    /// Compiled in.
    Native,
    /// The component, with its cache of guest policy sets.
    Component {
        host: Host,
        sets: Mutex<LruCache<GuestKey, GuestEntry>>,
        /// One async turn per instance: a check waiting for a busy instance yields its runtime
        /// thread instead of blocking it on the instance's lock.
        turns: Vec<tokio::sync::Mutex<()>>,
    },
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Engine::Native => f.write_str("Native"),
            Engine::Component { host, .. } => f.debug_tuple("Component").field(host).finish(),
        }
    }
}

impl Evaluator {
    /// The engine compiled into the sidecar.
    pub fn native() -> Evaluator {
        Evaluator(Engine::Native)
    }

    /// The component engine, with room for `capacity` guest policy sets.
    pub fn component(config: HostConfig, capacity: usize) -> Result<Evaluator, HostError> {
        let cap = NonZeroUsize::new(capacity.max(1)).unwrap_or(NonZeroUsize::MIN);
        let host = Host::new(config)?;
        let turns = (0..host.instance_count())
            .map(|_| tokio::sync::Mutex::new(()))
            .collect();
        Ok(Evaluator(Engine::Component {
            host,
            sets: Mutex::new(LruCache::new(cap)),
            turns,
        }))
    }

    /// `native` or `component`.
    pub fn name(&self) -> &'static str {
        match &self.0 {
            Engine::Native => "native",
            Engine::Component { .. } => "component",
        }
    }

    /// The host, for its counters.
    pub fn host(&self) -> Option<&Host> {
        match &self.0 {
            Engine::Native => None,
            Engine::Component { host, .. } => Some(host),
        }
    }

    /// Decides a prepared request.
    pub async fn decide(&self, prepared: &Prepared) -> Result<Verdict, EngineFailure> {
        match &self.0 {
            Engine::Native => {
                let v = prepared.policy_set().decide(prepared.request());
                Ok(Verdict::new(
                    v.decision,
                    v.deciding
                        .into_iter()
                        .next()
                        .map(|d| Deciding::new(d.policy, d.statement, d.sid)),
                ))
            }
            Engine::Component { host, sets, turns } => {
                let set = Self::guest_set(host, sets, prepared)?;
                // Packed: one buffer crosses instead of a guest allocation per string.
                let request = PackedRequest::from_request(prepared.request());
                let _turn = match turns.get(host.instance_of(&set)) {
                    Some(t) => Some(t.lock().await),
                    None => None,
                };
                let e = host
                    .evaluate_packed(&set, &request)
                    .map_err(EngineFailure)?;
                Ok(Verdict::new(
                    match e.decision {
                        iamlet_wasm_host::Decision::Allow => Decision::Allow,
                        iamlet_wasm_host::Decision::ExplicitDeny => Decision::ExplicitDeny,
                        iamlet_wasm_host::Decision::ImplicitDeny => Decision::ImplicitDeny,
                    },
                    e.deciding
                        .into_iter()
                        .next()
                        .map(|d| Deciding::new(d.policy, d.statement as usize, d.sid)),
                ))
            }
        }
    }

    fn guest_set(
        host: &Host,
        sets: &Mutex<LruCache<GuestKey, GuestEntry>>,
        prepared: &Prepared,
    ) -> Result<Arc<GuestPolicySet>, EngineFailure> {
        let resolved = prepared.resolved();
        // The principal's set (by address, kept alive by the entry's Weak) plus what the resource
        // added, by name: no document is touched on a hit.
        let key = (Arc::as_ptr(resolved) as usize, prepared.additions());
        if let Some(e) = sets
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key)
        {
            return Ok(e.set.clone());
        }
        // Every policy crosses, or the check fails closed: a set missing one (a Deny, say) would
        // decide on less than the principal's policies.
        let wit = policy_set_inputs(prepared.policy_set())
            .iter()
            .map(iamlet_wasm_host::policy_input)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| {
                EngineFailure(HostError::Request(format!(
                    "a policy cannot cross into the component: {e}"
                )))
            })?;
        let set = Arc::new(host.compile(wit).map_err(EngineFailure)?);
        sets.lock().unwrap_or_else(PoisonError::into_inner).put(
            key,
            GuestEntry {
                _owner: Arc::downgrade(resolved),
                set: set.clone(),
            },
        );
        Ok(set)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_verdict_names_what_decided_once_as_the_log_writes_it() {
        let with_sid = Deciding::new("p".into(), 2, Some("Read".into()));
        assert_eq!(with_sid.label, "Statement[2] (Read)");
        let without = Deciding::new("q".into(), 0, None);
        assert_eq!(without.label, "Statement[0]");
        let mut rec =
            iamlet_decision_log::DecisionRecord::begin("r".into(), "grpc", "native", true);
        rec.set_deciding("p".into(), 2, Some("Read"));
        let mut noted =
            iamlet_decision_log::DecisionRecord::begin("r".into(), "grpc", "native", true);
        with_sid.note(&mut noted);
        assert_eq!(
            (&noted.deciding_policy, &noted.deciding_statement),
            (&rec.deciding_policy, &rec.deciding_statement)
        );
        assert_eq!(
            Verdict::new(Decision::Allow, Some(with_sid)).summary,
            "Allow by Statement[2] (Read) of `p`"
        );
        assert_eq!(
            Verdict::new(Decision::ExplicitDeny, Some(without)).summary,
            "ExplicitDeny by Statement[0] of `q`"
        );
        assert_eq!(
            Verdict::new(Decision::ImplicitDeny, None).summary,
            "ImplicitDeny"
        );
    }
}
