//! How a check ends: a [`CheckDecision`] (what the log, the metrics and the answer's body call it),
//! a [`FailureKind`] when the check could not decide, and the [`Outcome`] the front ends turn into
//! Envoy's answer — its body built once, here.

use iamlet_auth::sigv4::SigV4Error;
use iamlet_engine::Decision;
use std::fmt;

/// What a check came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CheckDecision {
    /// The engine allowed.
    Allow,
    /// A `Deny` statement applied.
    ExplicitDeny,
    /// Nothing allowed (or the principal is unknown).
    ImplicitDeny,
    /// No principal could be established, or its signature did not verify.
    Unauthenticated,
    /// No route maps the request.
    Unmapped,
    /// The request is ambiguous or malformed (its path, its query).
    BadRequest,
    /// The check could not decide ([`FailureKind`]).
    Error,
}

impl CheckDecision {
    /// Every decision, in the order of their discriminants (`as usize` indexes this).
    pub const ALL: [CheckDecision; 7] = [
        CheckDecision::Allow,
        CheckDecision::ExplicitDeny,
        CheckDecision::ImplicitDeny,
        CheckDecision::Unauthenticated,
        CheckDecision::Unmapped,
        CheckDecision::BadRequest,
        CheckDecision::Error,
    ];

    /// The name in logs, metrics and bodies.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckDecision::Allow => "Allow",
            CheckDecision::ExplicitDeny => "ExplicitDeny",
            CheckDecision::ImplicitDeny => "ImplicitDeny",
            CheckDecision::Unauthenticated => "Unauthenticated",
            CheckDecision::Unmapped => "Unmapped",
            CheckDecision::BadRequest => "BadRequest",
            CheckDecision::Error => "Error",
        }
    }
}

impl From<Decision> for CheckDecision {
    fn from(d: Decision) -> Self {
        match d {
            Decision::Allow => CheckDecision::Allow,
            Decision::ExplicitDeny => CheckDecision::ExplicitDeny,
            Decision::ImplicitDeny => CheckDecision::ImplicitDeny,
        }
    }
}

impl fmt::Display for CheckDecision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a check could not decide.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FailureKind {
    /// More checks in flight than `[limits] concurrency`.
    Shed,
    /// No decision within `[limits] check_timeout`.
    Timeout,
    /// The request's path and headers are over `[limits] max_header_bytes`, or its body over
    /// `[limits] max_body_bytes`.
    TooLarge,
    /// The identity store cannot answer (a source that has not loaded, or failing past
    /// `max_stale`).
    StoreUnavailable,
    /// The request cannot be put to the engine (a malformed principal, action or resource; a
    /// federated session without its issuer).
    InvalidRequest,
    /// The engine failed: the component trapped (`trap`), ran out of memory (`memory`) or time
    /// (`timeout`), or refused its input (`error`).
    Engine(&'static str),
}

impl FailureKind {
    /// The kind's name in logs and metric labels.
    pub fn as_str(self) -> &'static str {
        match self {
            FailureKind::Shed => "shed",
            FailureKind::Timeout => "timeout",
            FailureKind::TooLarge => "limit",
            FailureKind::StoreUnavailable => "unavailable",
            FailureKind::InvalidRequest => "bad_request",
            FailureKind::Engine("trap") => "engine_trap",
            FailureKind::Engine("memory") => "engine_memory",
            FailureKind::Engine("timeout") => "engine_timeout",
            FailureKind::Engine(_) => "engine_error",
        }
    }

    /// Whether the client caused it: such a check is denied even with `fail_open`, which covers
    /// Iamlet's own failures only.
    pub fn client_caused(self) -> bool {
        matches!(self, FailureKind::TooLarge | FailureKind::InvalidRequest)
    }
}

/// A check that could not decide, and why in words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// What failed.
    pub kind: FailureKind,
    /// What happened.
    pub message: String,
}

/// The answer to a check, as every front end gives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// Let the request through.
    pub allowed: bool,
    /// 200 when allowed; otherwise 403, 401 without a principal, 400 for a bad request, 431 when too
    /// large.
    pub status: u16,
    /// The request id (echoed to the client in deny bodies).
    pub request_id: String,
    /// The decision's own id (its decision-log line's `decisionId`): a header for the upstream
    /// (`x-iamlet-decision-id`), Envoy's dynamic metadata, and in deny bodies.
    pub decision_id: String,
    /// Headers to add upstream when allowed.
    pub upstream_headers: Vec<(String, String)>,
    /// The JSON body of a deny.
    pub body: String,
    /// What the check came to.
    pub decision: CheckDecision,
    /// Why, in words (logged; in bodies only with `verbose_denials`).
    pub reason: String,
}

/// The header carrying the decision id to the upstream (and on denials, to the client).
pub const DECISION_ID_HEADER: &str = "x-iamlet-decision-id";

impl Outcome {
    /// The headers of a denial's JSON body, on every port (gRPC, HTTP mode, forward-auth): its
    /// type, and the ids that find it in the decision log.
    pub fn deny_headers(&self) -> [(&'static str, &str); 3] {
        [
            ("content-type", "application/json"),
            ("x-iamlet-request-id", self.request_id.as_str()),
            (DECISION_ID_HEADER, self.decision_id.as_str()),
        ]
    }
}

/// What an answer is made of, before its body is written.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) allowed: bool,
    pub(crate) status: u16,
    pub(crate) decision: CheckDecision,
    pub(crate) reason: String,
    /// Headers for the upstream ([`Answer::upstream_headers`]), the decision id's to come.
    pub(crate) upstream_headers: Vec<(String, String)>,
    /// A signature that did not verify: its AWS error code and message go in the body, so the
    /// client's SDK reports them as it would AWS's.
    pub(crate) aws_error: Option<SigV4Error>,
}

impl Answer {
    /// An allowed request's headers for the upstream, with room for the decision id's, which
    /// [`Answer::into_outcome`] adds.
    pub(crate) fn upstream_headers<const N: usize>(
        headers: [(String, String); N],
    ) -> Vec<(String, String)> {
        let mut h = Vec::with_capacity(N + 1);
        h.extend(headers);
        h
    }

    /// The outcome, its body written once.
    pub(crate) fn into_outcome(
        self,
        request_id: String,
        decision_id: String,
        verbose: bool,
    ) -> Outcome {
        let body = if self.allowed {
            String::new()
        } else {
            let mut b = serde_json::json!({
                "error": match (&self.aws_error, self.status) {
                    (Some(e), _) => e.code().as_str(),
                    (None, 401) => "Unauthenticated",
                    (None, _) => "AccessDenied",
                },
                "decision": self.decision.as_str(),
                "requestId": request_id,
                "decisionId": decision_id,
            });
            if let Some(e) = &self.aws_error {
                b["message"] = e.message().into();
            }
            if verbose {
                b["reason"] = self.reason.as_str().into();
            }
            b.to_string()
        };
        Outcome {
            allowed: self.allowed,
            status: if self.allowed { 200 } else { self.status },
            request_id,
            upstream_headers: if self.allowed {
                let mut h = self.upstream_headers;
                h.push((DECISION_ID_HEADER.to_owned(), decision_id.clone()));
                h
            } else {
                Vec::new()
            },
            decision_id,
            body,
            decision: self.decision,
            reason: self.reason,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use iamlet_auth::sigv4::SigV4ErrorCode;

    fn deny(status: u16, aws_error: Option<SigV4Error>) -> Answer {
        Answer {
            allowed: false,
            status,
            decision: CheckDecision::Unauthenticated,
            reason: "why".into(),
            upstream_headers: vec![("x-iamlet-principal".into(), "p".into())],
            aws_error,
        }
    }

    #[test]
    fn bodies_are_written_once_with_aws_codes_for_signatures() {
        let e = SigV4Error::new(SigV4ErrorCode::SignatureDoesNotMatch, "no match");
        let out = deny(403, Some(e)).into_outcome("r1".into(), "d1".into(), false);
        let body: serde_json::Value = serde_json::from_str(&out.body).unwrap();
        assert_eq!(body["error"], "SignatureDoesNotMatch");
        assert_eq!(body["message"], "no match");
        assert_eq!(body["decision"], "Unauthenticated");
        assert_eq!(body["requestId"], "r1");
        assert_eq!(body["decisionId"], "d1");
        assert!(body.get("reason").is_none());
        assert!(
            out.upstream_headers.is_empty(),
            "no headers upstream on a deny"
        );
        assert_eq!(
            out.deny_headers(),
            [
                ("content-type", "application/json"),
                ("x-iamlet-request-id", "r1"),
                (DECISION_ID_HEADER, "d1")
            ]
        );
        let out = deny(401, None).into_outcome("r2".into(), "d2".into(), true);
        let body: serde_json::Value = serde_json::from_str(&out.body).unwrap();
        assert_eq!(
            (body["error"].as_str(), body["reason"].as_str()),
            (Some("Unauthenticated"), Some("why"))
        );
    }

    #[test]
    fn an_allow_carries_its_decision_id_upstream() {
        let allow = Answer {
            allowed: true,
            status: 200,
            decision: CheckDecision::Allow,
            reason: "ok".into(),
            upstream_headers: vec![("x-iamlet-principal".into(), "p".into())],
            aws_error: None,
        };
        let out = allow.into_outcome("r".into(), "d".into(), false);
        assert_eq!(out.decision_id, "d");
        assert!(out.body.is_empty());
        assert_eq!(
            out.upstream_headers,
            vec![
                ("x-iamlet-principal".to_owned(), "p".to_owned()),
                (DECISION_ID_HEADER.to_owned(), "d".to_owned())
            ]
        );
    }

    #[test]
    fn every_decision_is_listed_at_its_discriminant() {
        for (i, d) in CheckDecision::ALL.iter().enumerate() {
            assert_eq!(*d as usize, i, "{d}");
        }
    }

    #[test]
    fn fail_open_never_covers_what_the_client_caused() {
        assert!(FailureKind::TooLarge.client_caused());
        assert!(FailureKind::InvalidRequest.client_caused());
        for ours in [
            FailureKind::Shed,
            FailureKind::Timeout,
            FailureKind::StoreUnavailable,
            FailureKind::Engine("trap"),
        ] {
            assert!(!ours.client_caused(), "{ours:?}");
        }
        assert_eq!(FailureKind::Engine("memory").as_str(), "engine_memory");
        assert_eq!(FailureKind::Engine("other").as_str(), "engine_error");
    }
}
