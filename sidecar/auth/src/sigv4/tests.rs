//! AWS's published SigV4 examples (the signature test suite's `get-vanilla`, `post-vanilla` and
//! `get-vanilla-query-order-key-case`, with AKIDEXAMPLE; the S3 API reference's signed GET Object and
//! presigned URL, with AKIAIOSFODNN7EXAMPLE), then each way a signature fails.

use super::*;
use crate::Secret;

const SUITE_ID: &str = "AKIDEXAMPLE";
const SUITE_SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const S3_ID: &str = "AKIAIOSFODNN7EXAMPLE";
const S3_SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const USER: &str = "arn:aws:iam::111122223333:user/alice";

fn key(id: &str, secret: &str, status: KeyStatus) -> AccessKey {
    AccessKey {
        access_key_id: id.to_owned(),
        secret_access_key: Secret(secret.to_owned()),
        user_arn: USER.to_owned(),
        status,
        create_date: "2015-01-01T00:00:00Z".to_owned(),
    }
}

fn at(s: &str) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(s).unwrap().to_utc()
}

fn headers(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn suite_auth(signature: &str) -> String {
    format!("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature={signature}")
}

const VANILLA: &str = "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";

fn check(
    method: &str,
    path: &str,
    h: &HashMap<String, String>,
    k: &AccessKey,
    now: &str,
) -> Result<Option<Verified<String>>, SigV4Error> {
    let req = HttpRequest {
        method,
        host: "example.amazonaws.com",
        path,
        headers: h,
        body: None,
    };
    verify(
        &req,
        |r| {
            long_term_key(
                r.access_key_id,
                (r.access_key_id == k.access_key_id).then_some(k),
            )
        },
        at(now),
    )
}

fn suite(
    method: &str,
    path: &str,
    signature: &str,
) -> Result<Option<Verified<String>>, SigV4Error> {
    let h = headers(&[
        ("host", "example.amazonaws.com"),
        ("x-amz-date", "20150830T123600Z"),
        ("authorization", &suite_auth(signature)),
    ]);
    let k = key(SUITE_ID, SUITE_SECRET, KeyStatus::Active);
    check(method, path, &h, &k, "2015-08-30T12:36:00Z")
}

#[test]
fn get_vanilla() {
    let v = suite("GET", "/", VANILLA).unwrap().unwrap();
    assert_eq!(
        v,
        Verified {
            access_key_id: SUITE_ID.to_owned(),
            holder: USER.to_owned(),
            region: "us-east-1".to_owned(),
            service: "service".to_owned(),
        }
    );
}

#[test]
fn post_vanilla() {
    suite(
        "POST",
        "/",
        "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b",
    )
    .unwrap()
    .unwrap();
}

#[test]
fn get_vanilla_query_order_key_case() {
    suite(
        "GET",
        "/?Param2=value2&Param1=value1",
        "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
    )
    .unwrap()
    .unwrap();
}

#[test]
fn host_from_the_authority_when_envoy_moves_it() {
    // Envoy gives `host` as `:authority`, not as a header.
    let h = headers(&[
        ("x-amz-date", "20150830T123600Z"),
        ("authorization", &suite_auth(VANILLA)),
    ]);
    let k = key(SUITE_ID, SUITE_SECRET, KeyStatus::Active);
    check("GET", "/", &h, &k, "2015-08-30T12:36:00Z")
        .unwrap()
        .unwrap();
}

#[test]
fn s3_get_object_with_range() {
    let h = headers(&[
        ("host", "examplebucket.s3.amazonaws.com"),
        ("range", "bytes=0-9"),
        ("x-amz-content-sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("x-amz-date", "20130524T000000Z"),
        ("authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"),
    ]);
    let k = key(S3_ID, S3_SECRET, KeyStatus::Active);
    let v = check("GET", "/test.txt", &h, &k, "2013-05-24T00:05:00Z")
        .unwrap()
        .unwrap();
    assert_eq!(v.service, "s3");
}

const PRESIGNED: &str = "/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404";

fn presigned(path: &str, now: &str) -> Result<Option<Verified<String>>, SigV4Error> {
    let h = headers(&[("host", "examplebucket.s3.amazonaws.com")]);
    let k = key(S3_ID, S3_SECRET, KeyStatus::Active);
    check("GET", path, &h, &k, now)
}

#[test]
fn s3_presigned_url_within_and_after_its_expiry() {
    presigned(PRESIGNED, "2013-05-24T23:00:00Z")
        .unwrap()
        .unwrap();
    let e = presigned(PRESIGNED, "2013-05-25T00:00:01Z").unwrap_err();
    assert_eq!(e.code(), SigV4ErrorCode::AccessDenied);
    assert_eq!(e.message(), "request has expired");
    let e = presigned(PRESIGNED, "2013-05-23T23:00:00Z").unwrap_err();
    assert_eq!(e.code(), SigV4ErrorCode::AccessDenied);
    let tampered = PRESIGNED.replace("/test.txt", "/other.txt");
    let e = presigned(&tampered, "2013-05-24T01:00:00Z").unwrap_err();
    assert_eq!(e.code(), SigV4ErrorCode::SignatureDoesNotMatch);
    let e = presigned(
        &PRESIGNED.replace("86400", "604801"),
        "2013-05-24T01:00:00Z",
    )
    .unwrap_err();
    assert_eq!(e.code(), SigV4ErrorCode::IncompleteSignature);
}

#[test]
fn unsigned_requests_are_not_sigv4() {
    let h = headers(&[("authorization", "Bearer abc")]);
    let k = key(SUITE_ID, SUITE_SECRET, KeyStatus::Active);
    assert_eq!(
        check("GET", "/?a=b", &h, &k, "2015-08-30T12:36:00Z"),
        Ok(None)
    );
    let req = HttpRequest {
        method: "GET",
        host: "h",
        path: "/?a=b",
        headers: &h,
        body: None,
    };
    assert!(!is_signed(&req));
}

#[test]
fn a_changed_request_or_secret_does_not_match() {
    for (method, path) in [("GET", "/x"), ("PUT", "/"), ("GET", "/?a=b")] {
        let e = suite(method, path, VANILLA).unwrap_err();
        assert_eq!(
            e.code(),
            SigV4ErrorCode::SignatureDoesNotMatch,
            "{method} {path}"
        );
    }
    let h = headers(&[
        ("x-amz-date", "20150830T123600Z"),
        ("authorization", &suite_auth(VANILLA)),
    ]);
    let wrong = key(SUITE_ID, S3_SECRET, KeyStatus::Active);
    let e = check("GET", "/", &h, &wrong, "2015-08-30T12:36:00Z").unwrap_err();
    assert_eq!(e.code(), SigV4ErrorCode::SignatureDoesNotMatch);
    assert!(!e.to_string().contains(S3_SECRET));
    let mut flipped = VANILLA.to_owned();
    flipped.replace_range(0..1, "6");
    let e = suite("GET", "/", &flipped).unwrap_err();
    assert_eq!(e.code(), SigV4ErrorCode::SignatureDoesNotMatch);
}

#[test]
fn unknown_and_inactive_keys() {
    let h = headers(&[
        ("x-amz-date", "20150830T123600Z"),
        ("authorization", &suite_auth(VANILLA)),
    ]);
    let other = key("AKIAOTHER", SUITE_SECRET, KeyStatus::Active);
    let e = check("GET", "/", &h, &other, "2015-08-30T12:36:00Z").unwrap_err();
    assert_eq!(e.code(), SigV4ErrorCode::InvalidAccessKeyId);
    let inactive = key(SUITE_ID, SUITE_SECRET, KeyStatus::Inactive);
    let e = check("GET", "/", &h, &inactive, "2015-08-30T12:36:00Z").unwrap_err();
    assert_eq!(e.code(), SigV4ErrorCode::InvalidAccessKeyId);
    assert_eq!(
        e.to_string(),
        "InvalidAccessKeyId: the access key id `AKIDEXAMPLE` does not exist in our records or is inactive"
    );
}

#[test]
fn fifteen_minutes_of_skew_each_way() {
    let h = headers(&[
        ("x-amz-date", "20150830T123600Z"),
        ("authorization", &suite_auth(VANILLA)),
    ]);
    let k = key(SUITE_ID, SUITE_SECRET, KeyStatus::Active);
    for ok in ["2015-08-30T12:51:00Z", "2015-08-30T12:21:00Z"] {
        check("GET", "/", &h, &k, ok).unwrap().unwrap();
    }
    for late in ["2015-08-30T12:51:01Z", "2015-08-30T12:20:59Z"] {
        let e = check("GET", "/", &h, &k, late).unwrap_err();
        assert_eq!(e.code(), SigV4ErrorCode::RequestTimeTooSkewed, "{late}");
    }
}

#[test]
fn malformed_signatures_are_incomplete() {
    let k = key(SUITE_ID, SUITE_SECRET, KeyStatus::Active);
    for auth in [
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date".to_owned(),
        suite_auth("abc"),
        suite_auth(VANILLA).replace("/aws4_request", ""),
        suite_auth(VANILLA).replace("host;x-amz-date", "x-amz-date"),
    ] {
        let h = headers(&[("x-amz-date", "20150830T123600Z"), ("authorization", &auth)]);
        let e = check("GET", "/", &h, &k, "2015-08-30T12:36:00Z").unwrap_err();
        assert_eq!(e.code(), SigV4ErrorCode::IncompleteSignature, "{auth}");
    }
    let h = headers(&[("authorization", &suite_auth(VANILLA))]);
    let e = check("GET", "/", &h, &k, "2015-08-30T12:36:00Z").unwrap_err();
    assert_eq!(e.code(), SigV4ErrorCode::IncompleteSignature);
}

#[test]
fn a_body_the_authorizer_cannot_see_needs_the_payload_hash_header() {
    let h = headers(&[
        ("x-amz-date", "20150830T123600Z"),
        ("content-length", "12"),
        ("authorization", &suite_auth(VANILLA)),
    ]);
    let k = key(SUITE_ID, SUITE_SECRET, KeyStatus::Active);
    let e = check("POST", "/", &h, &k, "2015-08-30T12:36:00Z").unwrap_err();
    assert_eq!(e.code(), SigV4ErrorCode::MissingPayloadHash);
    // With the (empty) body known, post-vanilla verifies whatever content-length says.
    let req = HttpRequest {
        method: "POST",
        host: "example.amazonaws.com",
        path: "/",
        headers: &headers(&[
            ("x-amz-date", "20150830T123600Z"),
            (
                "authorization",
                &suite_auth("5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"),
            ),
        ]),
        body: Some(b""),
    };
    verify(
        &req,
        |r| long_term_key(r.access_key_id, Some(&k)),
        at("2015-08-30T12:36:00Z"),
    )
    .unwrap()
    .unwrap();
}

#[test]
fn canonical_uris() {
    assert_eq!(normalize_path("/a/./b/../c/"), "/a/c/");
    assert_eq!(normalize_path("/"), "/");
    assert_eq!(encode("/a b/%20", true), "/a%20b/%2520");
    assert_eq!(encode("a/b~", false), "a%2Fb~");
}

/// Found by the security review: `x-amz-content-sha256` was taken on trust and `UNSIGNED-PAYLOAD`
/// accepted for every service. S3 alone accepts an unsigned payload; a body the authorizer sees is
/// bound to the signature; presigned URLs of other services sign the (empty) body's hash.
#[test]
fn payload_hashes_follow_each_service() {
    const EMPTY: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    let hash_of = |h: &[(&str, &str)], body: Option<&[u8]>, presigned: bool, service: &str| {
        let h = headers(h);
        let req = HttpRequest {
            method: "POST",
            host: "example.amazonaws.com",
            path: "/",
            headers: &h,
            body,
        };
        payload_hash(&req, presigned, service)
    };
    let unsigned = [("x-amz-content-sha256", UNSIGNED_PAYLOAD)];
    assert_eq!(
        hash_of(&unsigned, None, false, "s3").as_deref(),
        Ok(UNSIGNED_PAYLOAD)
    );
    for service in ["sts", "execute-api", "service"] {
        let e = hash_of(&unsigned, None, false, service).unwrap_err();
        assert_eq!(e.code(), SigV4ErrorCode::SignatureDoesNotMatch, "{service}");
        assert!(e.message().contains("accepted only by S3"), "{e}");
        let e = hash_of(&unsigned, Some(b"Action=AssumeRole"), false, service).unwrap_err();
        assert_eq!(e.code(), SigV4ErrorCode::SignatureDoesNotMatch);
    }
    // S3's streaming marker is S3's too.
    let streaming = [("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")];
    assert!(hash_of(&streaming, None, false, "s3").is_ok());
    assert!(hash_of(&streaming, None, false, "sqs").is_err());
    // A body that is seen must have the hash claimed.
    let claimed = [("x-amz-content-sha256", EMPTY)];
    assert_eq!(
        hash_of(&claimed, Some(b""), false, "sts").as_deref(),
        Ok(EMPTY)
    );
    let e = hash_of(&claimed, Some(b"tampered"), false, "s3").unwrap_err();
    assert_eq!(e.code(), SigV4ErrorCode::SignatureDoesNotMatch);
    // Without a claim, a seen body's own hash is what was signed.
    assert_eq!(hash_of(&[], Some(b""), false, "sts").as_deref(), Ok(EMPTY));
    // Presigned: S3 signs UNSIGNED-PAYLOAD, other services the empty body's hash.
    assert_eq!(
        hash_of(&[], None, true, "s3").as_deref(),
        Ok(UNSIGNED_PAYLOAD)
    );
    assert_eq!(hash_of(&[], None, true, "sts").as_deref(), Ok(EMPTY));
}

/// Found by the security review: the credential scope's region became `aws:RequestedRegion`, so a
/// client signing for another region escaped a region SCP. A scope naming another region than the
/// server's is refused as AWS refuses it.
#[test]
fn a_scope_for_another_region_is_refused() {
    assert_eq!(check_region("eu-west-1", "eu-west-1"), Ok(()));
    let e = check_region("us-east-1", "eu-west-1").unwrap_err();
    assert_eq!(e.code(), SigV4ErrorCode::SignatureDoesNotMatch);
    assert!(
        e.message()
            .starts_with("Credential should be scoped to a valid region, not 'us-east-1'"),
        "{e}"
    );
    // Scope parts are AWS names: nothing else reaches a message or a log.
    for bad in [
        "AKIDEXAMPLE/20150830/us east/service/aws4_request",
        "AKIDEXAMPLE/20150830/US-EAST-1/service/aws4_request",
        "AKIDEXAMPLE/20150830/us-east-1/se\"rvice/aws4_request",
    ] {
        assert_eq!(
            parse_credential(bad).unwrap_err().code(),
            SigV4ErrorCode::IncompleteSignature,
            "{bad}"
        );
    }
}
