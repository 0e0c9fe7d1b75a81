//! Prometheus metrics: one registry, served at the admin port's `/metrics`.

use crate::outcome::CheckDecision;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// Labels of a check.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CheckLabels {
    /// `grpc`, `http` or `sts`.
    pub protocol: &'static str,
    /// `Allow`, `ExplicitDeny`, `ImplicitDeny`, `Unauthenticated`, `Unmapped`, `BadRequest`, `Error`
    /// ([`CheckDecision::as_str`]).
    pub decision: &'static str,
    /// Whether it was let through.
    pub allowed: &'static str,
}

impl CheckLabels {
    /// The labels of a check's outcome.
    pub fn of(protocol: &'static str, decision: CheckDecision, allowed: bool) -> Self {
        CheckLabels {
            protocol,
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
    /// Checks by outcome.
    pub checks: Family<CheckLabels, Counter>,
    /// Time per check.
    pub latency: Histogram,
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
    pub decision_cache_hits: Counter,
    /// Decisions looked up in the decision cache and not found (then decided and stored).
    pub decision_cache_misses: Counter,
    /// Decisions the cache was not used for, by reason (`time_dependent`, `role_trust`).
    pub decision_cache_bypasses: Family<KindLabels, Counter>,
    /// Decisions held, refreshed at each scrape.
    pub decision_cache_entries: Gauge,
    /// Bytes they hold (about), refreshed at each scrape.
    pub decision_cache_bytes: Gauge,
    registry: Registry,
}

impl Metrics {
    /// A registry with every metric registered.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("iamlet");
        let checks = Family::<CheckLabels, Counter>::default();
        let latency = Histogram::new([
            0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1,
            0.25, 0.5, 1.0,
        ]);
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
            decision_cache_hits: Counter::default(),
            decision_cache_misses: Counter::default(),
            decision_cache_bypasses: Family::default(),
            decision_cache_entries: Gauge::default(),
            decision_cache_bytes: Gauge::default(),
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
