//! The decision cache, correct by construction: a decision is remembered under everything it can
//! depend on, and under nothing that could be mistaken for something else.
//!
//! - The policy set: the principal's compiled set (by address, guarded by a `Weak` that keeps the
//!   address from being reused while an entry lives), what the resource added to it
//!   ([`Prepared::additions`], which names session policies by their access key), and the
//!   organization data in force (by address, guarded the same way). A principal invalidated or
//!   reloaded gets a new set, so its old entries are never found again: they age out.
//! - The request as far as that set can tell ([`RequestKey`]): principal, action, resource,
//!   resource account, and the values of exactly the context keys the set reads
//!   ([`ContextReads`], worked out once per set).
//!
//! Never used: when the set reads a key whose value changes with the clock alone (`aws:CurrentTime`,
//! `aws:EpochTime`, `aws:TokenIssueTime`, `aws:MultiFactorAuthAge`), or when the request reads a
//! role's trust policy (which the caller's set does not own). Bounded in entries and in bytes;
//! the least recently used entry goes first.

use crate::engine::Verdict;
use iamlet_engine::{ContextReads, RequestKey};
use iamlet_store::organization::Organization;
use iamlet_store::{Prepared, Resolved};
use lru::LruCache;
use std::sync::{Arc, Mutex, PoisonError, Weak};

/// The cache's bounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DecisionCacheConfig {
    /// Decisions kept at most.
    pub max_entries: usize,
    /// Bytes of keys and decisions kept at most (about).
    pub max_bytes: usize,
}

impl Default for DecisionCacheConfig {
    fn default() -> Self {
        DecisionCacheConfig {
            max_entries: 10_000,
            max_bytes: 16 * 1024 * 1024,
        }
    }
}

/// Why a decision was not looked up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Bypass {
    /// The set reads a key that changes with the clock.
    TimeDependent,
    /// The request reads a role's trust policy.
    RoleTrust,
}

impl Bypass {
    /// The metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            Bypass::TimeDependent => "time_dependent",
            Bypass::RoleTrust => "role_trust",
        }
    }
}

/// Principal set, additions, organization.
type SetKey = (usize, u64, usize);

/// What keeps a [`SetKey`]'s addresses from being reused while an entry holds them.
#[derive(Clone, Debug)]
struct Guard {
    _resolved: Weak<Resolved>,
    _org: Option<Weak<Organization>>,
}

struct SetReads {
    _guard: Guard,
    reads: Arc<ContextReads>,
}

struct Stored {
    _guard: Guard,
    verdict: Verdict,
    weight: usize,
}

/// foldhash (seeded per process) rather than the standard SipHash: a key is a few hundred bytes of
/// strings hashed on every check. Keys are still compared whole, so a collision costs a slower
/// lookup, never another request's decision.
type Hasher = foldhash::fast::RandomState;

struct Inner {
    sets: LruCache<SetKey, SetReads, Hasher>,
    decisions: LruCache<(SetKey, RequestKey), Stored, Hasher>,
    bytes: usize,
}

/// Decisions remembered per policy set and request.
pub struct DecisionCache {
    config: DecisionCacheConfig,
    inner: Mutex<Inner>,
}

impl std::fmt::Debug for DecisionCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DecisionCache")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// What a lookup found.
pub(crate) enum Lookup {
    /// The decision stored for this set and request.
    Hit(Verdict),
    /// None yet: decide, then [`DecisionCache::store`] it.
    Miss(Pending),
    /// Not to be cached.
    Bypass(Bypass),
}

/// A missed decision's place.
pub(crate) struct Pending {
    key: (SetKey, RequestKey),
    guard: Guard,
}

fn lock(m: &Mutex<Inner>) -> std::sync::MutexGuard<'_, Inner> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl DecisionCache {
    /// An empty cache.
    pub fn new(config: DecisionCacheConfig) -> Self {
        DecisionCache {
            config,
            inner: Mutex::new(Inner {
                sets: LruCache::unbounded_with_hasher(Hasher::default()),
                decisions: LruCache::unbounded_with_hasher(Hasher::default()),
                bytes: 0,
            }),
        }
    }

    /// Decisions held.
    pub fn len(&self) -> usize {
        lock(&self.inner).decisions.len()
    }

    /// Decisions held, and about the bytes they hold.
    pub fn size(&self) -> (usize, usize) {
        let inner = lock(&self.inner);
        (inner.decisions.len(), inner.bytes)
    }

    /// Whether none is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Looks a prepared request up. `org` is the organization data read before the request was
    /// prepared; `reads_trust` says the request reads a role's trust policy.
    pub(crate) fn lookup(
        &self,
        prepared: &Prepared,
        org: Option<&Arc<Organization>>,
        reads_trust: bool,
    ) -> Lookup {
        if reads_trust {
            return Lookup::Bypass(Bypass::RoleTrust);
        }
        let resolved = prepared.resolved();
        let set_key = (
            Arc::as_ptr(resolved) as usize,
            prepared.additions(),
            org.map_or(0, |o| Arc::as_ptr(o) as usize),
        );
        let guard = Guard {
            _resolved: Arc::downgrade(resolved),
            _org: org.map(Arc::downgrade),
        };
        let known = lock(&self.inner)
            .sets
            .get(&set_key)
            .map(|s| s.reads.clone());
        let reads = match known {
            Some(r) => r,
            None => {
                // Walked outside the lock: once per set, not per request.
                let reads = Arc::new(prepared.policy_set().context_reads());
                let mut inner = lock(&self.inner);
                inner.sets.put(
                    set_key,
                    SetReads {
                        _guard: guard.clone(),
                        reads: reads.clone(),
                    },
                );
                while inner.sets.len() > self.config.max_entries.max(1) {
                    inner.sets.pop_lru();
                }
                reads
            }
        };
        if reads.time_dependent().is_some() {
            return Lookup::Bypass(Bypass::TimeDependent);
        }
        let key = (set_key, reads.key_of(prepared.request()));
        match lock(&self.inner).decisions.get(&key) {
            Some(s) => Lookup::Hit(s.verdict.clone()),
            None => Lookup::Miss(Pending { key, guard }),
        }
    }

    /// Remembers a missed decision (one larger than the whole cache is not kept).
    pub(crate) fn store(&self, pending: Pending, verdict: &Verdict) {
        let weight = 96
            + pending.key.1.weight()
            + verdict.deciding.as_ref().map_or(0, |d| {
                d.policy.len() + d.sid.as_ref().map_or(0, String::len)
            });
        if weight > self.config.max_bytes || self.config.max_entries == 0 {
            return;
        }
        let mut inner = lock(&self.inner);
        if let Some(old) = inner.decisions.put(
            pending.key,
            Stored {
                _guard: pending.guard,
                verdict: verdict.clone(),
                weight,
            },
        ) {
            inner.bytes -= old.weight;
        }
        inner.bytes += weight;
        while inner.decisions.len() > self.config.max_entries || inner.bytes > self.config.max_bytes
        {
            match inner.decisions.pop_lru() {
                Some((_, s)) => inner.bytes -= s.weight,
                None => break,
            }
        }
    }

    /// Forgets every decision (the store forgot every principal).
    pub fn clear(&self) {
        let mut inner = lock(&self.inner);
        inner.decisions.clear();
        inner.sets.clear();
        inner.bytes = 0;
    }

    #[cfg(test)]
    fn bytes(&self) -> usize {
        lock(&self.inner).bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use iamlet_engine::{ContextMap, ContextValue, Policy, PolicyType, PrincipalKind};
    use iamlet_store::{Parts, Query};
    use proptest::prelude::*;

    const ACCOUNT: &str = "111122223333";

    /// Statements from a small vocabulary: actions, resources (with `${aws:username}`), and
    /// conditions on keys the requests below set (or not), so that sets read some keys and not
    /// others, and requests collide.
    fn statement() -> impl Strategy<Value = String> {
        let effect = prop_oneof![Just("Allow"), Just("Allow"), Just("Deny")];
        let action = prop_oneof![
            Just("s3:GetObject"),
            Just("s3:*"),
            Just("s3:PutObject"),
            Just("*")
        ];
        let resource = prop_oneof![
            Just(r#""Resource":"*""#),
            Just(r#""Resource":"arn:aws:s3:::b/${aws:username}/*""#),
            Just(r#""Resource":"arn:aws:s3:::b/shared/*""#),
            Just(r#""NotResource":"arn:aws:s3:::b/${aws:PrincipalTag/team}/*""#),
            Just(r#""Resource":"arn:aws:s3:::b/${aws:RequestTag/team}/*""#),
        ];
        let condition = prop_oneof![
            Just(""),
            Just(r#","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#),
            Just(
                r#","Condition":{"StringEquals":{"aws:RequestTag/team":"${aws:PrincipalTag/team}"}}"#
            ),
            Just(r#","Condition":{"StringEqualsIfExists":{"s3:prefix":"a"}}"#),
            Just(r#","Condition":{"Null":{"aws:RequestTag/team":"true"}}"#),
            Just(r#","Condition":{"Bool":{"aws:SecureTransport":"true"}}"#),
            Just(r#","Condition":{"DateLessThan":{"aws:CurrentTime":"2100-01-01T00:00:00Z"}}"#),
            Just(r#","Condition":{"ForAnyValue:StringEquals":{"aws:TagKeys":["team","env"]}}"#),
            Just(r#","Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["team"]}}"#),
            Just(
                r#","Condition":{"StringLike":{"s3:prefix":"${aws:PrincipalTag/missing, 'a'}*"}}"#
            ),
            Just(r#","Condition":{"StringNotEqualsIfExists":{"aws:SourceIp":"10.1.2.3"}}"#),
        ];
        (effect, action, resource, condition)
            .prop_map(|(e, a, r, c)| format!(r#"{{"Effect":"{e}","Action":"{a}",{r}{c}}}"#))
    }

    fn policies() -> impl Strategy<Value = Vec<String>> {
        prop::collection::vec(prop::collection::vec(statement(), 1..4), 1..3).prop_map(|ps| {
            ps.into_iter()
                .map(|s| {
                    format!(
                        r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
                        s.join(",")
                    )
                })
                .collect()
        })
    }

    #[derive(Clone, Debug)]
    struct Req {
        action: usize,
        resource: usize,
        ip: Option<usize>,
        tag: Option<usize>,
        prefix: Option<usize>,
        secure: bool,
        tag_keys: Option<usize>,
    }

    fn request() -> impl Strategy<Value = Req> {
        (
            0..2usize,
            0..4usize,
            prop::option::of(0..2usize),
            prop::option::of(0..2usize),
            prop::option::of(0..2usize),
            any::<bool>(),
            prop::option::of(0..3usize),
        )
            .prop_map(
                |(action, resource, ip, tag, prefix, secure, tag_keys)| Req {
                    tag_keys,
                    action,
                    resource,
                    ip,
                    tag,
                    prefix,
                    secure,
                },
            )
    }

    #[derive(Clone, Debug)]
    enum Op {
        Check(usize, Req),
        /// The user's policies change and the store compiles them anew.
        Reload(usize, Vec<String>),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            6 => (0..2usize, request()).prop_map(|(u, r)| Op::Check(u, r)),
            1 => (0..2usize, policies()).prop_map(|(u, p)| Op::Reload(u, p)),
        ]
    }

    fn resolved(user: usize, docs: &[String]) -> Arc<Resolved> {
        let name = ["alice", "bob"][user];
        let mut parts = Parts::empty(
            PrincipalKind::User,
            &format!("arn:aws:iam::{ACCOUNT}:user/{name}"),
            Some(ACCOUNT),
        );
        parts.tags = vec![("team".into(), ["red", "blue"][user].into())];
        parts.identity = docs
            .iter()
            .enumerate()
            .map(|(i, d)| Policy::parse_named(&format!("p{i}"), d, PolicyType::Identity).unwrap())
            .collect();
        Arc::new(parts.assemble(None))
    }

    fn prepare(resolved: &Arc<Resolved>, user: usize, r: &Req) -> Prepared {
        let name = ["alice", "bob"][user];
        let mut context = ContextMap::new();
        context.insert_time(chrono::Utc::now());
        context.insert("aws:SecureTransport", r.secure);
        if let Some(ip) = r.ip {
            context.insert("aws:SourceIp", ["10.1.2.3", "192.0.2.1"][ip]);
        }
        if let Some(t) = r.tag {
            context.insert("aws:RequestTag/team", ["red", "blue"][t]);
        }
        if let Some(p) = r.prefix {
            context.insert("s3:prefix", ["a", "b"][p]);
        }
        if let Some(k) = r.tag_keys {
            let keys: &[&str] = [&["team"][..], &["team", "env"][..], &[][..]][k];
            context.insert(
                "aws:TagKeys",
                ContextValue::multi(keys.iter().map(|k| (*k).to_owned()).collect()),
            );
        }
        let query = Query {
            principal: format!("arn:aws:iam::{ACCOUNT}:user/{name}"),
            session_issuer: None,
            action: ["s3:GetObject", "s3:PutObject"][r.action].into(),
            resource: [
                "arn:aws:s3:::b/alice/k",
                "arn:aws:s3:::b/bob/k",
                "arn:aws:s3:::b/shared/k",
                "arn:aws:s3:::b/red/k",
            ][r.resource]
                .into(),
            resource_account: Some(ACCOUNT.into()),
            context,
        };
        iamlet_account::prepare(resolved.clone(), query, None, None).unwrap()
    }

    fn fresh(p: &Prepared) -> Verdict {
        let v = p.policy_set().decide(p.request());
        Verdict {
            decision: v.decision,
            deciding: v
                .deciding
                .into_iter()
                .next()
                .map(|d| crate::engine::Deciding {
                    policy: d.policy,
                    statement: d.statement,
                    sid: d.sid,
                }),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        /// On generated policy sets and requests, with policies changing under it, the cached
        /// answer is the fresh one; small bounds make it evict too.
        #[test]
        fn the_cached_answer_is_a_fresh_evaluation(
            initial in (policies(), policies()),
            ops in prop::collection::vec(op(), 1..80),
            max_entries in 1..40usize,
        ) {
            let cache = DecisionCache::new(DecisionCacheConfig { max_entries, max_bytes: 64 * 1024 });
            let mut sets = [resolved(0, &initial.0), resolved(1, &initial.1)];
            let (mut hits, mut bypasses) = (0, 0);
            for op in ops {
                match op {
                    Op::Reload(u, docs) => sets[u] = resolved(u, &docs),
                    Op::Check(u, r) => {
                        let p = prepare(&sets[u], u, &r);
                        let want = fresh(&p);
                        match cache.lookup(&p, None, false) {
                            Lookup::Hit(v) => { hits += 1; prop_assert_eq!(v, want) }
                            Lookup::Miss(pending) => cache.store(pending, &want),
                            Lookup::Bypass(b) => { bypasses += 1; prop_assert_eq!(b, Bypass::TimeDependent) }
                        }
                        prop_assert!(cache.len() <= max_entries);
                    }
                }
            }
            let _ = (hits, bypasses);
        }
    }

    #[test]
    fn repeated_requests_hit_and_time_dependent_sets_bypass() {
        let plain = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/${aws:username}/*"}]}"#;
        let set = resolved(0, &[plain.to_owned()]);
        let cache = DecisionCache::new(DecisionCacheConfig::default());
        let r = request_for(0);
        let p = prepare(&set, 0, &r);
        let Lookup::Miss(pending) = cache.lookup(&p, None, false) else {
            panic!("a first lookup misses")
        };
        cache.store(pending, &fresh(&p));
        // Another user agent, time, IP: keys this set does not read.
        let again = Req {
            ip: Some(1),
            ..r.clone()
        };
        assert!(
            matches!(cache.lookup(&prepare(&set, 0, &again), None, false), Lookup::Hit(v) if v == fresh(&p))
        );
        let other_resource = Req {
            resource: 1,
            ..r.clone()
        };
        assert!(matches!(
            cache.lookup(&prepare(&set, 0, &other_resource), None, false),
            Lookup::Miss(_)
        ));
        assert!(matches!(
            cache.lookup(&p, None, true),
            Lookup::Bypass(Bypass::RoleTrust)
        ));
        let timed = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"DateLessThan":{"aws:CurrentTime":"2100-01-01T00:00:00Z"}}}]}"#;
        let timed = resolved(0, &[timed.to_owned()]);
        assert!(matches!(
            cache.lookup(&prepare(&timed, 0, &r), None, false),
            Lookup::Bypass(Bypass::TimeDependent)
        ));
        // A reloaded principal is a new set: its old decisions are never found.
        let reloaded = resolved(0, &[plain.to_owned()]);
        assert!(matches!(
            cache.lookup(&prepare(&reloaded, 0, &r), None, false),
            Lookup::Miss(_)
        ));
    }

    #[test]
    fn bounded_in_bytes() {
        let plain = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEqualsIfExists":{"s3:prefix":"a"}}}]}"#;
        let set = resolved(0, &[plain.to_owned()]);
        let cache = DecisionCache::new(DecisionCacheConfig {
            max_entries: 1000,
            max_bytes: 700,
        });
        for (resource, prefix) in [
            (0, Some(0)),
            (1, Some(0)),
            (2, Some(0)),
            (0, Some(1)),
            (1, None),
        ] {
            let r = Req {
                resource,
                prefix,
                ..request_for(0)
            };
            let p = prepare(&set, 0, &r);
            if let Lookup::Miss(pending) = cache.lookup(&p, None, false) {
                cache.store(pending, &fresh(&p));
            }
            assert!(cache.bytes() <= 700, "{}", cache.bytes());
        }
        assert!(cache.len() < 5 && !cache.is_empty());
        cache.clear();
        assert!(cache.is_empty());
    }

    fn request_for(_user: usize) -> Req {
        Req {
            action: 0,
            resource: 0,
            ip: Some(0),
            tag: None,
            prefix: None,
            secure: true,
            tag_keys: None,
        }
    }
}
