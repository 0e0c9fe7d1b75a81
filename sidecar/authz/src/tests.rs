//! Every way a check ends, with a store over a stub fetcher and the native engine: allowed, denied
//! (explicitly, implicitly, an unknown principal), 401, a signature refused, unmapped (denied or let
//! through), ambiguous, too large, the store down (denied, or let through with `fail_open`), a
//! request the client made unbuildable (denied even with `fail_open`), a dry run and a shadow store.

use super::*;
use iamlet_engine::{Policy, PolicyType, PrincipalKind};
use iamlet_routes::{RouteSpec, Routes};
use iamlet_store::cache::CacheConfig;
use iamlet_store::{BoxFuture, FetchError, Fetcher, Parts, PrincipalKey};
use settings::{ContextSection, ModeSection, PrincipalSection, ResponsesSection};

const ALICE: &str = "arn:aws:iam::111122223333:user/alice";
const DOWN: &str = "arn:aws:iam::111122223333:user/down";
const TIMED: &str = "arn:aws:iam::111122223333:user/timed";

/// alice may read her own folder and is denied `secret/`; `down` is a principal whose source
/// fails; everyone else is unknown. `allow_bob` lets alice read bob's folder too (a shadow's
/// candidate policies).
#[derive(Debug)]
struct Stub {
    allow_bob: bool,
}

impl Fetcher for Stub {
    fn fetch<'a>(&'a self, key: &'a PrincipalKey) -> BoxFuture<'a, Result<Parts, FetchError>> {
        Box::pin(async move {
            match key.describe() {
                ALICE => {
                    let mut resources = vec![r#""arn:aws:s3:::b/home/alice/*""#];
                    if self.allow_bob {
                        resources.push(r#""arn:aws:s3:::b/home/bob/*""#);
                    }
                    let text = format!(
                        r#"{{"Version":"2012-10-17","Statement":[
                            {{"Sid":"Home","Effect":"Allow","Action":"s3:GetObject","Resource":[{}]}},
                            {{"Sid":"NoSecrets","Effect":"Deny","Action":"s3:*","Resource":"arn:aws:s3:::b/secret/*"}}]}}"#,
                        resources.join(",")
                    );
                    let mut parts = Parts::empty(PrincipalKind::User, ALICE, Some("111122223333"));
                    parts.identity.push(
                        Policy::parse_named("user/alice:inline/home", &text, PolicyType::Identity)
                            .map_err(|e| FetchError::Failed(e.to_string()))?,
                    );
                    Ok(parts)
                }
                // Allowed only while the clock says so: the request must carry both time keys.
                TIMED => {
                    let text = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
                        "Action":"s3:GetObject","Resource":"*","Condition":{
                        "DateLessThan":{"aws:CurrentTime":"2100-01-01T00:00:00Z"},
                        "NumericGreaterThan":{"aws:EpochTime":"1700000000"}}}]}"#;
                    let mut parts = Parts::empty(PrincipalKind::User, TIMED, Some("111122223333"));
                    parts.identity.push(
                        Policy::parse_named("user/timed:inline/until", text, PolicyType::Identity)
                            .map_err(|e| FetchError::Failed(e.to_string()))?,
                    );
                    Ok(parts)
                }
                DOWN => Err(FetchError::Failed("the source is down".into())),
                other => Err(FetchError::NotFound(other.to_owned())),
            }
        })
    }
}

fn store(allow_bob: bool) -> Arc<Store> {
    Arc::new(Store::with_fetcher(
        Arc::new(Stub { allow_bob }),
        None,
        CacheConfig::default(),
    ))
}

fn settings(enforce: bool, allow_unmapped: bool, fail_open: bool) -> Settings {
    let route = RouteSpec {
        method: Some("GET".into()),
        host: None,
        path: "/b/{key*}".into(),
        action: "s3:GetObject".into(),
        resource: "arn:aws:s3:::b/{key}".into(),
        resource_account: Some("111122223333".into()),
        context: Default::default(),
        encoded_slashes: false,
    };
    Settings {
        principal: PrincipalSection {
            trusted_header: Some("x-principal".into()),
            ..PrincipalSection::default()
        },
        context: ContextSection::default(),
        mode: ModeSection {
            enforce,
            ..ModeSection::default()
        },
        responses: ResponsesSection {
            allow_unmapped,
            fail_open,
            verbose_denials: true,
            ..ResponsesSection::default()
        },
        max_header_bytes: 4096,
        max_body_bytes: 2048,
        routes: Routes::compile(&[route]).unwrap(),
    }
}

fn authorizer(settings: Settings, shadow: Option<Arc<Store>>) -> Authorizer {
    Authorizer::new(
        settings,
        store(false),
        shadow,
        Evaluator::native(),
        DecisionLog::disabled(),
        Arc::new(Metrics::new()),
    )
}

fn input(principal: Option<&str>, path: &str) -> CheckInput {
    let mut input = CheckInput {
        protocol: crate::Protocol::Grpc,
        method: "GET".into(),
        scheme: "https".into(),
        host: "storage.example.com".into(),
        path: path.into(),
        ..CheckInput::default()
    };
    if let Some(p) = principal {
        input.headers.insert("x-principal".into(), p.into());
    }
    input
}

fn body(out: &Outcome) -> serde_json::Value {
    serde_json::from_str(&out.body).unwrap()
}

/// The clock's keys are added after the decision cache is looked up, when a decision is made:
/// they reach the engine all the same, every time (a set that reads them is never cached).
#[tokio::test]
async fn the_clock_s_keys_reach_the_engine() {
    let authz = authorizer(settings(true, false, false), None);
    for _ in 0..2 {
        let out = authz.check(input(Some(TIMED), "/b/a.txt")).await;
        assert_eq!(out.decision, CheckDecision::Allow, "{}", out.reason);
    }
}

#[tokio::test]
async fn allowed_requests_carry_the_principal_upstream() {
    let authz = authorizer(settings(true, false, false), None);
    let out = authz.check(input(Some(ALICE), "/b/home/alice/a.txt")).await;
    assert_eq!(
        (out.allowed, out.status, out.decision),
        (true, 200, CheckDecision::Allow)
    );
    assert_eq!(out.body, "");
    assert!(out
        .upstream_headers
        .contains(&("x-iamlet-principal".into(), ALICE.into())));
    assert!(out
        .upstream_headers
        .contains(&("x-iamlet-action".into(), "s3:GetObject".into())));
}

#[tokio::test]
async fn denials_say_which_and_why() {
    let authz = authorizer(settings(true, false, false), None);
    let out = authz.check(input(Some(ALICE), "/b/home/bob/a.txt")).await;
    assert_eq!(
        (out.allowed, out.status, out.decision),
        (false, 403, CheckDecision::ImplicitDeny)
    );
    assert!(
        out.reason.contains("no policy allows `s3:GetObject`"),
        "{}",
        out.reason
    );
    assert_eq!(body(&out)["error"], "AccessDenied");
    let out = authz.check(input(Some(ALICE), "/b/secret/a.txt")).await;
    assert_eq!(out.decision, CheckDecision::ExplicitDeny);
    assert!(
        out.reason.contains("Statement[1] (NoSecrets)"),
        "{}",
        out.reason
    );
    assert!(out.upstream_headers.is_empty());
    let out = authz
        .check(input(Some("arn:aws:iam::111122223333:user/nobody"), "/b/x"))
        .await;
    assert_eq!(
        (out.decision, out.status),
        (CheckDecision::ImplicitDeny, 403)
    );
    assert!(out.reason.contains("not known"), "{}", out.reason);
}

#[tokio::test]
async fn no_principal_is_401_and_a_bad_signature_403_with_aws_s_code() {
    let authz = authorizer(settings(true, false, false), None);
    let out = authz.check(input(None, "/b/home/alice/a.txt")).await;
    assert_eq!(
        (out.status, out.decision),
        (401, CheckDecision::Unauthenticated)
    );
    assert_eq!(body(&out)["error"], "Unauthenticated");

    let dir = std::env::temp_dir().join(format!("iamlet-authz-sig-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("credentials.json");
    iamlet_auth::Credentials::default().save(&path).unwrap();
    let authz = authorizer(settings(true, false, false), None).with_credentials(Arc::new(
        iamlet_auth::WatchedCredentials::open(&path).unwrap(),
    ));
    let mut signed = input(Some(ALICE), "/b/home/alice/a.txt");
    signed
        .headers
        .insert("x-amz-date".into(), "20150830T123600Z".into());
    signed.headers.insert(
        "authorization".into(),
        "AWS4-HMAC-SHA256 Credential=AKIAUNKNOWNEXAMPLE00/20150830/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31".into(),
    );
    let out = authz.check(signed).await;
    assert_eq!(
        (out.status, out.decision),
        (403, CheckDecision::Unauthenticated)
    );
    let b = body(&out);
    assert_eq!(b["error"], "InvalidAccessKeyId");
    assert!(b["message"]
        .as_str()
        .unwrap()
        .contains("AKIAUNKNOWNEXAMPLE00"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn unmapped_requests_are_denied_unless_allowed_and_ambiguous_ones_always() {
    let authz = authorizer(settings(true, false, false), None);
    let out = authz.check(input(Some(ALICE), "/other?token=x")).await;
    assert_eq!(
        (out.allowed, out.decision),
        (false, CheckDecision::Unmapped)
    );
    assert_eq!(out.reason, "no route maps GET /other");
    let open = authorizer(settings(true, true, false), None);
    assert!(open.check(input(Some(ALICE), "/other")).await.allowed);
    let out = open
        .check(input(Some(ALICE), "/b/home/alice/..%2Fbob"))
        .await;
    assert_eq!(
        (out.allowed, out.status, out.decision),
        (false, 400, CheckDecision::BadRequest)
    );
}

#[tokio::test]
async fn fail_open_covers_the_store_down_but_never_the_client() {
    let closed = authorizer(settings(true, false, false), None);
    let out = closed.check(input(Some(DOWN), "/b/x")).await;
    assert_eq!((out.allowed, out.decision), (false, CheckDecision::Error));
    assert!(out.reason.contains("the source is down"), "{}", out.reason);
    let open = authorizer(settings(true, false, true), None);
    assert!(open.check(input(Some(DOWN), "/b/x")).await.allowed);
    // A principal that is no ARN is the client's doing.
    let out = open.check(input(Some("not-an-arn"), "/b/x")).await;
    assert_eq!((out.allowed, out.decision), (false, CheckDecision::Error));
    // So is a request over the size limit.
    let mut big = input(Some(ALICE), "/b/home/alice/a.txt");
    big.headers.insert("x-padding".into(), "p".repeat(5000));
    let out = open.check(big).await;
    assert_eq!((out.allowed, out.status), (false, 431));
    // And a body over the limit, which only a gRPC check brings whole (HTTP stops reading).
    let mut body = input(Some(ALICE), "/b/home/alice/a.txt");
    body.body = Some(vec![b'x'; 2049]);
    let out = open.check(body).await;
    assert_eq!(
        (out.allowed, out.status, out.decision),
        (false, 413, CheckDecision::Error)
    );
    assert!(
        out.reason
            .contains("2049 bytes, over the limit of 2048 bytes ([limits] max_body_bytes)"),
        "{}",
        out.reason
    );
    let mut body = input(Some(ALICE), "/b/home/alice/a.txt");
    body.body = Some(vec![b'x'; 2048]);
    assert!(open.check(body).await.allowed);
    // A limit of 0: no body at all, and an empty one is none.
    let none = authorizer(
        Settings {
            max_body_bytes: 0,
            ..settings(true, false, true)
        },
        None,
    );
    let mut body = input(Some(ALICE), "/b/home/alice/a.txt");
    body.body = Some(vec![b'x']);
    assert_eq!(none.check(body).await.status, 413);
    let mut empty = input(Some(ALICE), "/b/home/alice/a.txt");
    empty.body = Some(Vec::new());
    assert!(none.check(empty).await.allowed);
    let text = open.metrics().encode();
    assert!(
        text.contains("store_failures_total{kind=\"unavailable\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("store_failures_total{kind=\"bad_request\"} 1"),
        "{text}"
    );
}

#[tokio::test]
async fn a_dry_run_lets_every_denial_through() {
    let authz = authorizer(settings(false, false, false), None);
    for (principal, path, decision) in [
        (
            Some(ALICE),
            "/b/home/bob/a.txt",
            CheckDecision::ImplicitDeny,
        ),
        (None, "/b/home/alice/a.txt", CheckDecision::Unauthenticated),
        (Some(ALICE), "/other", CheckDecision::Unmapped),
        (Some(DOWN), "/b/x", CheckDecision::Error),
    ] {
        let out = authz.check(input(principal, path)).await;
        assert!(out.allowed, "{path}");
        assert_eq!(out.decision, decision, "{path}");
    }
}

#[tokio::test]
async fn a_shadow_store_decides_beside_the_live_one() {
    let authz = authorizer(settings(true, false, false), Some(store(true)));
    let out = authz.check(input(Some(ALICE), "/b/home/bob/a.txt")).await;
    assert_eq!(
        (out.allowed, out.decision),
        (false, CheckDecision::ImplicitDeny)
    );
    assert_eq!(authz.metrics().shadow_disagreements.get(), 1);
    let out = authz.check(input(Some(ALICE), "/b/home/alice/a.txt")).await;
    assert!(out.allowed);
    assert_eq!(authz.metrics().shadow_disagreements.get(), 1, "both allow");
    assert_eq!(
        shadow_disagreement(
            &Ok(Decided::UnknownPrincipal("x".into())),
            &Err(Failure {
                kind: FailureKind::StoreUnavailable,
                message: String::new()
            })
        )
        .as_deref(),
        Some("Error(unavailable)")
    );
}

#[tokio::test]
async fn failures_of_the_check_itself_follow_fail_open() {
    let closed = authorizer(settings(true, false, false), None);
    let out = closed.failure(crate::Protocol::Grpc, FailureKind::Timeout, "late".into());
    assert_eq!(
        (out.allowed, out.status, out.decision),
        (false, 403, CheckDecision::Error)
    );
    let open = authorizer(settings(true, false, true), None);
    assert!(
        open.failure(crate::Protocol::Grpc, FailureKind::Shed, "busy".into())
            .allowed
    );
    assert!(
        !open
            .failure(crate::Protocol::Grpc, FailureKind::TooLarge, "big".into())
            .allowed
    );
    assert_eq!(
        (open.metrics().shed.get(), open.metrics().timeouts.get()),
        (1, 0)
    );
}

#[test]
fn request_ids_are_the_time_and_a_sequence_in_hexadecimal() {
    let parse = |id: &str| -> (u64, u64) {
        let rest = id.strip_prefix("iamlet-").unwrap();
        let (t, n) = rest.split_once('-').unwrap();
        assert!(t
            .bytes()
            .chain(n.bytes())
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        (
            u64::from_str_radix(t, 16).unwrap(),
            u64::from_str_radix(n, 16).unwrap(),
        )
    };
    let (t1, n1) = parse(&crate::new_request_id());
    let (t2, n2) = parse(&crate::new_request_id());
    let now = u64::try_from(chrono::Utc::now().timestamp_micros()).unwrap();
    assert!(
        t1 <= t2 && t2 <= now && now - t1 < 60_000_000,
        "{t1} {t2} {now}"
    );
    assert!(n2 > n1);
    // Unique across threads, each taking its numbers in blocks.
    let ids: Vec<String> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    (0..3000)
                        .map(|_| crate::new_request_id())
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    let seqs: std::collections::HashSet<u64> = ids.iter().map(|id| parse(id).1).collect();
    assert_eq!(seqs.len(), ids.len());
}
