//! Prometheus metrics: one registry, served at the admin port's `/metrics`.

mod striped;

use crate::input::Protocol;
use crate::outcome::CheckDecision;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::sync::OnceLock;
pub use striped::{DurationHistogram, StripedCounter, DURATION_BUCKETS};

/// Labels of a check.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CheckLabels {
    /// The front end ([`Protocol::as_str`]).
    pub protocol: &'static str,
    /// `Allow`, `ExplicitDeny`, `ImplicitDeny`, `Unauthenticated`, `Unmapped`, `BadRequest`, `Error`
    /// ([`CheckDecision::as_str`]).
    pub decision: &'static str,
    /// Whether it was let through.
    pub allowed: &'static str,
}

impl CheckLabels {
    /// The labels of a check's outcome.
    pub fn of(protocol: Protocol, decision: CheckDecision, allowed: bool) -> Self {
        CheckLabels {
            protocol: protocol.as_str(),
            decision: decision.as_str(),
            allowed: if allowed { "true" } else { "false" },
        }
    }
}

/// Labels of an STS call.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StsLabels {
    /// `AssumeRole`, `GetSessionToken`, `GetCallerIdentity` (empty for a request without one).
    pub action: &'static str,
    /// `Allow`, or AWS's error code (`AccessDenied`, `InvalidClientTokenId`, …).
    pub outcome: &'static str,
}

/// Labels of a failure or an attempt.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabels {
    /// What failed ([`FailureKind::as_str`](crate::FailureKind::as_str)), or how an attempt ended.
    pub kind: &'static str,
}

/// The sidecar's metrics.
#[derive(Debug)]
pub struct Metrics {
    /// Checks by outcome (counted through [`Metrics::count_check`]).
    pub checks: Family<CheckLabels, StripedCounter>,
    /// Time per check.
    pub latency: DurationHistogram,
    /// Engine failures (`trap`, `timeout`, `memory`, …), each a deny.
    pub engine_failures: Family<KindLabels, Counter>,
    /// Store failures (`unavailable`, …), each a deny.
    pub store_failures: Family<KindLabels, Counter>,
    /// STS calls by action and outcome.
    pub sts_calls: Family<StsLabels, Counter>,
    /// MFA codes tried at STS, by outcome (`ok`, `invalid`, `reused`, `locked`, `no_device`,
    /// `throttled`).
    pub mfa_attempts: Family<KindLabels, Counter>,
    /// Checks shed because too many were in flight.
    pub shed: Counter,
    /// Checks past their time limit.
    pub timeouts: Counter,
    /// Shadow evaluations that disagreed with the live one.
    pub shadow_disagreements: Counter,
    /// Cache figures, refreshed at each scrape.
    pub cache_hits: Gauge,
    /// Misses.
    pub cache_misses: Gauge,
    /// Evictions.
    pub cache_evictions: Gauge,
    /// Stale serves.
    pub cache_stale_serves: Gauge,
    /// Principals forgotten because the change feed named them.
    pub cache_invalidations: Gauge,
    /// Times every principal was forgotten because the source could not say what changed.
    pub cache_resyncs: Gauge,
    /// Principals cached.
    pub cache_entries: Gauge,
    /// Decision log lines dropped.
    pub log_dropped: Gauge,
    /// Decisions answered from the decision cache.
    pub decision_cache_hits: StripedCounter,
    /// Decisions looked up in the decision cache and not found (then decided and stored).
    pub decision_cache_misses: Counter,
    /// Decisions the cache was not used for, by reason (`time_dependent`, `role_trust`).
    pub decision_cache_bypasses: Family<KindLabels, Counter>,
    /// Decisions held, refreshed at each scrape.
    pub decision_cache_entries: Gauge,
    /// Bytes they hold (about), refreshed at each scrape.
    pub decision_cache_bytes: Gauge,
    /// The check counters by protocol, taken from `checks` at their first use: a check then
    /// counts without the family's lock and hash.
    resolved: [ByOutcome; Protocol::ALL.len()],
    registry: Registry,
}

/// One protocol's counters, by decision and by whether the check was let through.
type ByOutcome = [[OnceLock<StripedCounter>; 2]; CheckDecision::ALL.len()];

impl Metrics {
    /// A registry with every metric registered.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("iamlet");
        let checks = Family::<CheckLabels, StripedCounter>::default();
        let latency = DurationHistogram::default();
        let engine_failures = Family::<KindLabels, Counter>::default();
        let store_failures = Family::<KindLabels, Counter>::default();
        let m = Metrics {
            checks,
            latency,
            engine_failures,
            store_failures,
            sts_calls: Family::default(),
            mfa_attempts: Family::default(),
            shed: Counter::default(),
            timeouts: Counter::default(),
            shadow_disagreements: Counter::default(),
            cache_hits: Gauge::default(),
            cache_misses: Gauge::default(),
            cache_evictions: Gauge::default(),
            cache_stale_serves: Gauge::default(),
            cache_invalidations: Gauge::default(),
            cache_resyncs: Gauge::default(),
            cache_entries: Gauge::default(),
            log_dropped: Gauge::default(),
            decision_cache_hits: StripedCounter::default(),
            decision_cache_misses: Counter::default(),
            decision_cache_bypasses: Family::default(),
            decision_cache_entries: Gauge::default(),
            decision_cache_bytes: Gauge::default(),
            resolved: Default::default(),
            registry: Registry::default(),
        };
        registry.register(
            "checks",
            "Authorization checks by decision",
            m.checks.clone(),
        );
        registry.register(
            "check_duration_seconds",
            "Time to answer a check",
            m.latency.clone(),
        );
        registry.register(
            "engine_failures",
            "Engine traps and time-outs (each a deny)",
            m.engine_failures.clone(),
        );
        registry.register(
            "store_failures",
            "Identity store failures (each a deny)",
            m.store_failures.clone(),
        );
        registry.register(
            "sts_calls",
            "STS calls by action and outcome (Allow or AWS's error code)",
            m.sts_calls.clone(),
        );
        registry.register(
            "mfa_attempts",
            "MFA codes tried at STS, by outcome",
            m.mfa_attempts.clone(),
        );
        registry.register(
            "shed",
            "Checks shed over the concurrency limit",
            m.shed.clone(),
        );
        registry.register(
            "check_timeouts",
            "Checks past their time limit",
            m.timeouts.clone(),
        );
        registry.register(
            "shadow_disagreements",
            "Requests the shadow store decides differently",
            m.shadow_disagreements.clone(),
        );
        registry.register("cache_hits", "Principal cache hits", m.cache_hits.clone());
        registry.register(
            "cache_misses",
            "Principal cache misses",
            m.cache_misses.clone(),
        );
        registry.register(
            "cache_evictions",
            "Principal cache evictions",
            m.cache_evictions.clone(),
        );
        registry.register(
            "cache_stale_serves",
            "Stale principals served while the source failed",
            m.cache_stale_serves.clone(),
        );
        registry.register(
            "cache_invalidations",
            "Principals forgotten because the change feed named them",
            m.cache_invalidations.clone(),
        );
        registry.register(
            "cache_resyncs",
            "Times every cached principal was forgotten because the source could not say what changed (too far behind the change feed, an import)",
            m.cache_resyncs.clone(),
        );
        registry.register(
            "cache_entries",
            "Principals cached",
            m.cache_entries.clone(),
        );
        registry.register(
            "decision_log_dropped",
            "Decision log lines dropped",
            m.log_dropped.clone(),
        );
        registry.register(
            "decision_cache_hits",
            "Decisions answered from the decision cache",
            m.decision_cache_hits.clone(),
        );
        registry.register(
            "decision_cache_misses",
            "Decisions looked up in the decision cache and not found",
            m.decision_cache_misses.clone(),
        );
        registry.register(
            "decision_cache_bypasses",
            "Decisions the decision cache was not used for, by reason",
            m.decision_cache_bypasses.clone(),
        );
        registry.register(
            "decision_cache_entries",
            "Decisions held by the decision cache",
            m.decision_cache_entries.clone(),
        );
        registry.register(
            "decision_cache_bytes",
            "Bytes of keys and decisions held by the decision cache (about)",
            m.decision_cache_bytes.clone(),
        );
        Metrics { registry, ..m }
    }

    /// Counts a check by its labels.
    pub fn count_check(&self, protocol: Protocol, decision: CheckDecision, allowed: bool) {
        self.resolved[protocol as usize][decision as usize][usize::from(allowed)]
            .get_or_init(|| {
                self.checks
                    .get_or_create(&CheckLabels::of(protocol, decision, allowed))
                    .clone()
            })
            .inc();
    }

    /// The text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_count_under_their_labels() {
        let m = Metrics::new();
        m.count_check(Protocol::Grpc, CheckDecision::Allow, true);
        m.count_check(Protocol::Grpc, CheckDecision::Allow, true);
        m.count_check(Protocol::Grpc, CheckDecision::ImplicitDeny, false);
        m.count_check(Protocol::ForwardAuth, CheckDecision::Error, true);
        m.count_check(Protocol::Sts, CheckDecision::Unmapped, false);
        let text = m.encode();
        for line in [
            r#"iamlet_checks_total{protocol="grpc",decision="Allow",allowed="true"} 2"#,
            r#"iamlet_checks_total{protocol="grpc",decision="ImplicitDeny",allowed="false"} 1"#,
            r#"iamlet_checks_total{protocol="forward_auth",decision="Error",allowed="true"} 1"#,
            r#"iamlet_checks_total{protocol="sts",decision="Unmapped",allowed="false"} 1"#,
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
        }
        assert_eq!(
            text.lines()
                .filter(|l| l.starts_with("iamlet_checks_total{"))
                .count(),
            4,
            "no series for what was not counted"
        );
    }

    #[test]
    fn every_protocol_indexes_its_own_counters() {
        for (i, p) in Protocol::ALL.iter().enumerate() {
            assert_eq!(*p as usize, i, "{p}");
        }
    }
}
