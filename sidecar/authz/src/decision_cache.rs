//! The decision cache, correct by construction: a decision is remembered under everything it can
//! depend on, and under nothing that could be mistaken for something else.
//!
//! It is looked up before the request is prepared (the principal's policy set is only resolved,
//! the resource's side only named), so a hit costs a few map lookups and no request is built:
//!
//! - The policy set ([`SetKey`]): the principal's compiled set (by address, guarded by a `Weak`
//!   that keeps the address from being reused while an entry lives), what the resource and the
//!   session add to it ([`Prepared::additions`], worked out beforehand by
//!   [`iamlet_store::resource_side`]), and the organization data in force (by address, guarded the
//!   same way). A principal invalidated or reloaded gets a new set, so its old entries are never
//!   found again: they age out.
//! - The request as far as that set can tell ([`Ask`]): principal, session issuer, action,
//!   resource, resource account as given, and the given values of exactly the context keys the
//!   set reads ([`ContextReads`], worked out once per set from the first request prepared for it).
//!   What preparing adds to a request (the principal's tags, `aws:userid`, the organization's
//!   keys, the keys derived from principal and resource) follows from those and from the set, or
//!   from the given value of the same key.
//!
//! Never used: when the set reads a key whose value changes with the clock alone (`aws:CurrentTime`,
//! `aws:EpochTime`, `aws:TokenIssueTime`, `aws:MultiFactorAuthAge`), or when the request reads a
//! role's trust policy (which the caller's set does not own). Bounded in entries and in bytes;
//! the least recently used entry goes first.

use crate::engine::Verdict;
use iamlet_engine::{ContextMap, ContextReads, ContextValue};
use iamlet_store::organization::Organization;
use iamlet_store::{Prepared, Resolved};
use lru::LruCache;
use smallvec::SmallVec;
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

/// A request as the cache names it, before it is prepared.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ask<'a> {
    /// The principal's compiled policies.
    pub resolved: &'a Arc<Resolved>,
    /// The organization data read with them (and the request is then prepared with).
    pub org: Option<&'a Arc<Organization>>,
    /// What the resource and the session will add ([`Prepared::additions`]).
    pub additions: u64,
    pub principal: &'a str,
    pub session_issuer: Option<&'a str>,
    pub action: &'a str,
    pub resource: &'a str,
    pub resource_account: Option<&'a str>,
    /// The condition keys given with the request.
    pub context: &'a ContextMap,
}

impl Ask<'_> {
    fn set_key(&self) -> SetKey {
        (
            Arc::as_ptr(self.resolved) as usize,
            self.additions,
            self.org.map_or(0, |o| Arc::as_ptr(o) as usize),
        )
    }

    fn guard(&self) -> Guard {
        Guard {
            _resolved: Arc::downgrade(self.resolved),
            _org: self.org.map(Arc::downgrade),
        }
    }

    /// The set and the request's fields: the key but for the context's values.
    fn write_head(&self, set: SetKey, out: &mut KeyBuf) {
        put_len(out, set.0);
        out.put(&set.1.to_le_bytes());
        put_len(out, set.2);
        put_str(out, self.principal);
        put_opt(out, self.session_issuer);
        put_str(out, self.action);
        put_str(out, self.resource);
        put_opt(out, self.resource_account);
    }
}

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

/// A stored decision's key, in one buffer ([`KeyBuf`] written by [`Ask::write_head`] and
/// [`write_values`]): the set, then the request's fields and the values of the keys the set reads,
/// each string preceded by its length and each optional field by whether it is there, so that two
/// keys' bytes are equal exactly when their fields are. One allocation compared with one `memcmp`:
/// a hit reads the stored key from one place rather than chasing a string per field through memory
/// no other check touched lately.
type DecisionKey = Box<[u8]>;

/// A key being written: inline up to 512 bytes, so a lookup allocates nothing.
type KeyBuf = SmallVec<[u8; 512]>;

/// Where a key is written: the inline buffer of a lookup, or a missed key's own `Vec`.
trait KeyOut {
    fn put(&mut self, bytes: &[u8]);
}

impl KeyOut for KeyBuf {
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

impl KeyOut for Vec<u8> {
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

fn put_len(out: &mut impl KeyOut, n: usize) {
    out.put(&n.to_le_bytes());
}

fn put_str(out: &mut impl KeyOut, s: &str) {
    put_len(out, s.len());
    out.put(s.as_bytes());
}

fn put_opt(out: &mut impl KeyOut, s: Option<&str>) {
    match s {
        None => out.put(&[0]),
        Some(s) => {
            out.put(&[1]);
            put_str(out, s);
        }
    }
}

/// The values of the keys a set reads, in the set's order: absent, single or multivalued (which
/// [`ContextValue`]'s equality tells apart), then the strings.
fn write_values<'c>(
    out: &mut impl KeyOut,
    values: impl ExactSizeIterator<Item = Option<&'c ContextValue>>,
) {
    put_len(out, values.len());
    for v in values {
        match v {
            None => out.put(&[0]),
            Some(v) => {
                out.put(&[if v.is_multi() { 2 } else { 1 }]);
                put_len(out, v.values().len());
                for s in v.values() {
                    put_str(out, s);
                }
            }
        }
    }
}

/// About the bytes an entry holds beyond its key (for the cache's bound): the entry, its
/// guard, the list's links.
const ENTRY_BYTES: usize = 96;

struct Stored {
    _guard: Guard,
    /// Shared with every hit: a hit copies no string of it.
    verdict: Arc<Verdict>,
    weight: usize,
}

/// foldhash (seeded per process) rather than the standard SipHash: a key is a few hundred bytes of
/// strings hashed on every check. Keys are still compared whole, so a collision costs a slower
/// lookup, never another request's decision.
type Hasher = foldhash::fast::RandomState;

struct Inner {
    sets: LruCache<SetKey, SetReads, Hasher>,
    decisions: LruCache<DecisionKey, Stored, Hasher>,
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
    Hit(Arc<Verdict>),
    /// None yet: prepare ([`DecisionCache::prepared`]), decide, then [`DecisionCache::store`] it.
    Miss(Pending),
    /// Not to be cached.
    Bypass(Bypass),
}

/// A missed decision's place.
pub(crate) struct Pending {
    set: SetKey,
    guard: Guard,
    /// The key as far as it is known: whole once the set's reads are.
    key: Vec<u8>,
    /// The given context, kept when the set is new and its reads not yet worked out.
    unread: Option<ContextMap>,
}

/// A missed decision's place once its request is prepared: its whole key.
pub(crate) struct Ready {
    key: DecisionKey,
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

    /// Looks a request up before it is prepared. `reads_trust` says the request reads a role's
    /// trust policy.
    pub(crate) fn lookup(&self, ask: &Ask<'_>, reads_trust: bool) -> Lookup {
        if reads_trust {
            return Lookup::Bypass(Bypass::RoleTrust);
        }
        let set = ask.set_key();
        // Written outside the lock; only the values need the set's reads.
        let mut key = KeyBuf::new();
        ask.write_head(set, &mut key);
        let mut guard = lock(&self.inner);
        // Borrowed, not cloned: an `Arc` counted up and down by both workers is a cache line
        // passed between the cores on every check.
        let inner = &mut *guard;
        let Some(reads) = inner.sets.get(&set).map(|s| &s.reads) else {
            drop(guard);
            return Lookup::Miss(Pending {
                set,
                guard: ask.guard(),
                key: key.into_vec(),
                unread: Some(ask.context.clone()),
            });
        };
        if reads.time_dependent().is_some() {
            return Lookup::Bypass(Bypass::TimeDependent);
        }
        write_values(&mut key, reads.values(ask.context));
        if let Some(s) = inner.decisions.get(&key[..]) {
            return Lookup::Hit(s.verdict.clone());
        }
        drop(guard);
        Lookup::Miss(Pending {
            set,
            guard: ask.guard(),
            key: key.into_vec(),
            unread: None,
        })
    }

    /// Finishes a miss once its request is prepared: a set met for the first time has its reads
    /// worked out (once per set) and, when it reads the clock, turns out to be a bypass. A request
    /// prepared on another set than the one looked up is not to be remembered (`None`).
    pub(crate) fn prepared(
        &self,
        pending: Pending,
        prepared: &Prepared,
    ) -> Option<Result<Ready, Bypass>> {
        let resolved = Arc::as_ptr(prepared.resolved()) as usize;
        if (resolved, prepared.additions()) != (pending.set.0, pending.set.1) {
            return None;
        }
        // Finished in the `Vec` the miss already holds: one allocation per miss.
        let mut key = pending.key;
        if let Some(context) = pending.unread {
            // Walked outside the lock: once per set, not per request.
            let reads = Arc::new(prepared.policy_set().context_reads());
            write_values(&mut key, reads.values(&context));
            let time_dependent = reads.time_dependent().is_some();
            let mut inner = lock(&self.inner);
            inner.sets.put(
                pending.set,
                SetReads {
                    _guard: pending.guard.clone(),
                    reads,
                },
            );
            while inner.sets.len() > self.config.max_entries.max(1) {
                inner.sets.pop_lru();
            }
            if time_dependent {
                return Some(Err(Bypass::TimeDependent));
            }
        }
        Some(Ok(Ready {
            key: key.into_boxed_slice(),
            guard: pending.guard,
        }))
    }

    /// Remembers a missed decision.
    pub(crate) fn store(&self, ready: Ready, verdict: &Arc<Verdict>) {
        let Ready { key, guard } = ready;
        let weight = ENTRY_BYTES
            + key.len()
            + verdict.deciding.as_ref().map_or(0, |d| {
                d.policy.len() + d.sid.as_ref().map_or(0, String::len) + d.label.len()
            })
            + verdict.summary.len();
        if weight > self.config.max_bytes || self.config.max_entries == 0 {
            return;
        }
        let mut inner = lock(&self.inner);
        if let Some(old) = inner.decisions.put(
            key,
            Stored {
                _guard: guard,
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
    use iamlet_engine::{Decision, Policy, PolicyType, PrincipalKind};
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
        agent: Option<usize>,
        /// Asked with the organization file that gives bucket `c` a policy of its own.
        with_org: bool,
        /// A session policy joins (by its name, as a session's access key names it).
        session: Option<usize>,
    }

    fn request() -> impl Strategy<Value = Req> {
        (
            (0..2usize, 0..5usize, prop::option::of(0..2usize)),
            (
                prop::option::of(0..2usize),
                prop::option::of(0..2usize),
                any::<bool>(),
            ),
            (
                prop::option::of(0..3usize),
                prop::option::of(0..2usize),
                any::<bool>(),
                prop::option::of(0..2usize),
            ),
        )
            .prop_map(
                |(
                    (action, resource, ip),
                    (tag, prefix, secure),
                    (tag_keys, agent, with_org, session),
                )| Req {
                    action,
                    resource,
                    ip,
                    tag,
                    prefix,
                    secure,
                    tag_keys,
                    agent,
                    with_org,
                    session,
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

    /// Bucket `c`, its account named by the organization file only, with a bucket policy
    /// reading a key no identity policy reads.
    fn organization() -> Arc<Organization> {
        let text = r#"{"ResourcePolicies":[{"Resource":"arn:aws:s3:::c","Account":"111122223333",
            "Document":{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
            "Principal":{"AWS":"arn:aws:iam::111122223333:user/alice"},"Action":"s3:GetObject",
            "Resource":"arn:aws:s3:::c/*","Condition":{"StringEquals":{"aws:UserAgent":"ok"}}}]}}]}"#;
        Arc::new(Organization::parse("org.json", text).unwrap())
    }

    fn session_policy(n: usize) -> Policy {
        let doc = [
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"s3:prefix":"b"}}}]}"#,
        ][n];
        Policy::parse_named(&format!("session ASIA{n}"), doc, PolicyType::Session).unwrap()
    }

    fn query(user: usize, r: &Req) -> Query {
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
        if let Some(a) = r.agent {
            context.insert("aws:UserAgent", ["ok", "curl"][a]);
        }
        Query {
            principal: format!("arn:aws:iam::{ACCOUNT}:user/{name}"),
            session_issuer: None,
            action: ["s3:GetObject", "s3:PutObject"][r.action].into(),
            resource: [
                "arn:aws:s3:::b/alice/k",
                "arn:aws:s3:::b/bob/k",
                "arn:aws:s3:::b/shared/k",
                "arn:aws:s3:::b/red/k",
                "arn:aws:s3:::c/k",
            ][r.resource]
                .into(),
            // Bucket `c`'s account comes from the organization file.
            resource_account: (r.resource != 4).then(|| ACCOUNT.into()),
            context,
        }
    }

    /// What a check found.
    #[derive(Debug, PartialEq)]
    enum Found {
        Hit(Verdict),
        Miss,
        Bypass(Bypass),
    }

    /// Checks a request as the authorizer does: looked up before it is prepared, and on a miss
    /// prepared, decided afresh and stored. The fresh answer, and what the cache found.
    fn check(
        cache: &DecisionCache,
        resolved: &Arc<Resolved>,
        org: Option<&Arc<Organization>>,
        q: &Query,
        session: Option<&Policy>,
        reads_trust: bool,
    ) -> (Verdict, Found) {
        let side = iamlet_store::resource_side(
            resolved,
            &q.resource,
            q.resource_account.as_deref(),
            org.map(|o| &**o),
        );
        let ask = Ask {
            resolved,
            org,
            additions: iamlet_store::additions_with(side.additions(), session),
            principal: &q.principal,
            session_issuer: q.session_issuer.as_deref(),
            action: &q.action,
            resource: &q.resource,
            resource_account: q.resource_account.as_deref(),
            context: &q.context,
        };
        let mut p =
            iamlet_account::prepare(resolved.clone(), q.clone(), org.map(|o| &**o), None).unwrap();
        if let Some(s) = session {
            p = p.with_policies([s.clone()]);
        }
        let want = fresh(&p);
        let found = match cache.lookup(&ask, reads_trust) {
            Lookup::Hit(v) => Found::Hit(Verdict::clone(&v)),
            Lookup::Miss(pending) => match cache.prepared(pending, &p) {
                Some(Ok(ready)) => {
                    cache.store(ready, &Arc::new(want.clone()));
                    Found::Miss
                }
                Some(Err(b)) => Found::Bypass(b),
                None => panic!("prepared on another set than the one looked up"),
            },
            Lookup::Bypass(b) => Found::Bypass(b),
        };
        (want, found)
    }

    fn fresh(p: &Prepared) -> Verdict {
        let v = p.policy_set().decide(p.request());
        Verdict::new(
            v.decision,
            v.deciding
                .into_iter()
                .next()
                .map(|d| crate::engine::Deciding::new(d.policy, d.statement, d.sid)),
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        /// On generated policy sets and requests — with and without a bucket policy from the
        /// organization file, with and without session policies — with policies changing under
        /// it, the cached answer is the fresh one; small bounds make it evict too.
        #[test]
        fn the_cached_answer_is_a_fresh_evaluation(
            initial in (policies(), policies()),
            ops in prop::collection::vec(op(), 1..80),
            max_entries in 1..40usize,
        ) {
            let cache = DecisionCache::new(DecisionCacheConfig { max_entries, max_bytes: 64 * 1024 });
            let mut sets = [resolved(0, &initial.0), resolved(1, &initial.1)];
            let org = organization();
            let sessions = [session_policy(0), session_policy(1)];
            for op in ops {
                match op {
                    Op::Reload(u, docs) => sets[u] = resolved(u, &docs),
                    Op::Check(u, r) => {
                        let q = query(u, &r);
                        let org = r.with_org.then_some(&org);
                        let session = r.session.map(|s| &sessions[s]);
                        match check(&cache, &sets[u], org, &q, session, false) {
                            (want, Found::Hit(v)) => prop_assert_eq!(v, want),
                            (_, Found::Bypass(b)) => prop_assert_eq!(b, Bypass::TimeDependent),
                            (_, Found::Miss) => {}
                        }
                        prop_assert!(cache.len() <= max_entries);
                    }
                }
            }
        }
    }

    #[test]
    fn repeated_requests_hit_and_time_dependent_sets_bypass() {
        let plain = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/${aws:username}/*"}]}"#;
        let set = resolved(0, &[plain.to_owned()]);
        let cache = DecisionCache::new(DecisionCacheConfig::default());
        let r = request_for(0);
        let q = query(0, &r);
        let (want, found) = check(&cache, &set, None, &q, None, false);
        assert_eq!(found, Found::Miss, "a first lookup misses");
        // Another user agent, time, IP: keys this set does not read.
        let again = Req {
            ip: Some(1),
            agent: Some(1),
            ..r.clone()
        };
        assert_eq!(
            check(&cache, &set, None, &query(0, &again), None, false).1,
            Found::Hit(want)
        );
        let other_resource = Req {
            resource: 1,
            ..r.clone()
        };
        assert_eq!(
            check(&cache, &set, None, &query(0, &other_resource), None, false).1,
            Found::Miss
        );
        // Another principal set: the same request with a session policy, or with the
        // organization's data.
        let session = session_policy(1);
        assert_eq!(
            check(&cache, &set, None, &q, Some(&session), false).1,
            Found::Miss
        );
        assert_eq!(
            check(&cache, &set, Some(&organization()), &q, None, false).1,
            Found::Miss
        );
        assert_eq!(
            check(&cache, &set, None, &q, None, true).1,
            Found::Bypass(Bypass::RoleTrust)
        );
        // A set reading the clock is found out at its first request, once prepared, and bypassed
        // from then on.
        let timed = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"DateLessThan":{"aws:CurrentTime":"2100-01-01T00:00:00Z"}}}]}"#;
        let timed = resolved(0, &[timed.to_owned()]);
        assert_eq!(
            check(&cache, &timed, None, &q, None, false).1,
            Found::Bypass(Bypass::TimeDependent)
        );
        assert_eq!(
            check(&cache, &timed, None, &q, None, false).1,
            Found::Bypass(Bypass::TimeDependent)
        );
        // A reloaded principal is a new set: its old decisions are never found.
        let reloaded = resolved(0, &[plain.to_owned()]);
        assert_eq!(
            check(&cache, &reloaded, None, &q, None, false).1,
            Found::Miss
        );
    }

    #[test]
    fn a_bucket_policy_s_keys_are_read_too() {
        // The identity policy reads nothing; the bucket policy reads the user agent.
        let none = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:PutObject","Resource":"*"}]}"#;
        let set = resolved(0, &[none.to_owned()]);
        let org = organization();
        let cache = DecisionCache::new(DecisionCacheConfig::default());
        let ask = |agent| {
            query(
                0,
                &Req {
                    resource: 4,
                    agent: Some(agent),
                    ..request_for(0)
                },
            )
        };
        let (allowed, found) = check(&cache, &set, Some(&org), &ask(0), None, false);
        assert_eq!((allowed.decision, found), (Decision::Allow, Found::Miss));
        let (denied, found) = check(&cache, &set, Some(&org), &ask(1), None, false);
        assert_eq!(
            (denied.decision, found),
            (Decision::ImplicitDeny, Found::Miss)
        );
        assert_eq!(
            check(&cache, &set, Some(&org), &ask(1), None, false).1,
            Found::Hit(denied)
        );
    }

    /// Keys whose fields differ only in where one ends and the next begins, in an absent field
    /// against an empty one, or in a value given once against the same value as a set, are
    /// different keys.
    #[test]
    fn keys_tell_every_field_apart() {
        let resolved = resolved(0, &[]);
        let empty = ContextMap::new();
        let ask = |principal, session_issuer, action, resource_account| Ask {
            resolved: &resolved,
            org: None,
            additions: 0,
            principal,
            session_issuer,
            action,
            resource: "r",
            resource_account,
            context: &empty,
        };
        let key = |a: Ask<'_>, values: &[Option<ContextValue>]| {
            let mut out = KeyBuf::new();
            a.write_head(a.set_key(), &mut out);
            write_values(&mut out, values.iter().map(Option::as_ref));
            out.into_vec()
        };
        let keys = [
            key(ask("ab", None, "c", None), &[]),
            key(ask("a", None, "bc", None), &[]),
            key(ask("a", Some(""), "bc", None), &[]),
            key(ask("a", None, "bc", Some("")), &[]),
            key(ask("a", None, "bc", None), &[None]),
            key(
                ask("a", None, "bc", None),
                &[Some(ContextValue::single("x"))],
            ),
            key(
                ask("a", None, "bc", None),
                &[Some(ContextValue::multi(vec!["x".into()]))],
            ),
            key(
                ask("a", None, "bc", None),
                &[Some(ContextValue::multi(vec![]))],
            ),
            key(
                ask("a", None, "bc", None),
                &[Some(ContextValue::single("x")), None],
            ),
            key(
                ask("a", None, "bc", None),
                &[None, Some(ContextValue::single("x"))],
            ),
        ];
        for (i, a) in keys.iter().enumerate() {
            for b in &keys[i + 1..] {
                assert_ne!(a, b);
            }
        }
        assert_eq!(keys[1], key(ask("a", None, "bc", None), &[]));
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
            check(&cache, &set, None, &query(0, &r), None, false);
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
            agent: None,
            with_org: false,
            session: None,
        }
    }
}
