//! Verifying AWS Signature Version 4 on an incoming request, in both of its forms: the
//! `Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…` header and the
//! presigned query string (`X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=…&X-Amz-Signature=…`).
//!
//! The canonical request is rebuilt exactly as AWS's specification describes it (method, canonical
//! URI, sorted canonical query, the signed headers with trimmed values, their names, the payload
//! hash); the signing key is derived from the secret and the credential scope, and the signature is
//! compared in constant time (`ring::hmac::verify`). The payload hash is the `x-amz-content-sha256`
//! header when present (`UNSIGNED-PAYLOAD` included), `UNSIGNED-PAYLOAD` for presigned URLs, else the
//! SHA-256 of the body: the body given, or the empty body when the request declares none. Envoy
//! forwards the path as the client sent it, so the canonical URI is that path encoded once more (what
//! AWS's SDKs sign for every service but S3), or for `s3` the path as sent, normalised to one
//! encoding.
//!
//! Every failure is an [`SigV4Error`] with AWS's error code; none carries the secret.

use super::{AccessKey, KeyStatus, Secret};
use ring::{digest, hmac};
use std::collections::HashMap;

/// The only algorithm SigV4 defines (SigV4a's ECDSA is not supported).
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// How far a header-signed request's time may be from ours, as AWS allows.
pub const MAX_SKEW_SECONDS: i64 = 15 * 60;
/// The longest a presigned URL may be valid (seven days), as AWS allows.
pub const MAX_EXPIRES_SECONDS: i64 = 7 * 24 * 3600;
const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

/// AWS's error codes for authentication failures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SigV4ErrorCode {
    /// The Authorization header or the presigned parameters are malformed or incomplete.
    IncompleteSignature,
    /// The access key is unknown or inactive.
    InvalidAccessKeyId,
    /// The signature does not match the one computed with the key's secret.
    SignatureDoesNotMatch,
    /// The request's time is more than 15 minutes from ours.
    RequestTimeTooSkewed,
    /// A presigned URL past its `X-Amz-Expires`.
    AccessDenied,
    /// The payload hash cannot be known (a body Envoy did not send, without `x-amz-content-sha256`).
    MissingPayloadHash,
    /// A temporary access key without its session token, or with one that is not valid for it.
    InvalidClientTokenId,
    /// A session token past its expiry.
    ExpiredToken,
}

impl SigV4ErrorCode {
    /// The code as AWS spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            SigV4ErrorCode::IncompleteSignature => "IncompleteSignature",
            SigV4ErrorCode::InvalidAccessKeyId => "InvalidAccessKeyId",
            SigV4ErrorCode::SignatureDoesNotMatch => "SignatureDoesNotMatch",
            SigV4ErrorCode::RequestTimeTooSkewed => "RequestTimeTooSkewed",
            SigV4ErrorCode::AccessDenied => "AccessDenied",
            SigV4ErrorCode::MissingPayloadHash => "MissingPayloadHash",
            SigV4ErrorCode::InvalidClientTokenId => "InvalidClientTokenId",
            SigV4ErrorCode::ExpiredToken => "ExpiredToken",
        }
    }
}

/// A request whose signature did not verify: AWS's code and a message fit for the client.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}: {message}", code.as_str())]
pub struct SigV4Error {
    code: SigV4ErrorCode,
    message: String,
}

impl SigV4Error {
    /// An error with AWS's code.
    pub fn new(code: SigV4ErrorCode, message: impl Into<String>) -> Self {
        SigV4Error {
            code,
            message: message.into(),
        }
    }
    /// AWS's error code.
    pub fn code(&self) -> SigV4ErrorCode {
        self.code
    }
    /// What is wrong, without secrets.
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// An incoming request as Envoy describes it.
#[derive(Clone, Copy, Debug)]
pub struct HttpRequest<'a> {
    /// The method.
    pub method: &'a str,
    /// The `:authority` (used as `host` when no `host` header is present).
    pub host: &'a str,
    /// The path and query as the client sent them.
    pub path: &'a str,
    /// The headers, lower-case names; repeated headers joined with `,`.
    pub headers: &'a HashMap<String, String>,
    /// The body, when known.
    pub body: Option<&'a [u8]>,
}

/// The access key a signature names, and the session token sent with it.
#[derive(Clone, Copy, Debug)]
pub struct KeyRef<'a> {
    /// `AKIA…` (an IAM user's key) or `ASIA…` (temporary credentials).
    pub access_key_id: &'a str,
    /// `x-amz-security-token` (header or presigned parameter), for temporary credentials.
    pub security_token: Option<&'a str>,
}

/// Who holds an access key, and the secret the signature is checked with.
#[derive(Clone, Debug)]
pub struct Signer<T> {
    /// The key's secret.
    pub secret: Secret,
    /// Whatever the caller needs to know about the holder.
    pub holder: T,
}

/// A verified signature: who signed and for what scope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified<T> {
    /// The access key id.
    pub access_key_id: String,
    /// The key's holder, as the lookup described it.
    pub holder: T,
    /// The credential scope's region.
    pub region: String,
    /// The credential scope's service.
    pub service: String,
}

/// The lookup for IAM users' long-term keys: the key's user ARN, or `InvalidAccessKeyId` when the
/// key is unknown or inactive.
pub fn long_term_key(
    access_key_id: &str,
    key: Option<&AccessKey>,
) -> Result<Signer<String>, SigV4Error> {
    key.filter(|k| k.status == KeyStatus::Active)
        .map(|k| Signer {
            secret: k.secret_access_key.clone(),
            holder: k.user_arn.clone(),
        })
        .ok_or_else(|| {
            SigV4Error::new(
                SigV4ErrorCode::InvalidAccessKeyId,
                format!(
                    "the access key id `{access_key_id}` does not exist in our records or is inactive"
                ),
            )
        })
}

/// The parts of a signature, from the header or the query string.
#[derive(Debug)]
struct Signature {
    access_key_id: String,
    date: String,
    region: String,
    service: String,
    signed_headers: Vec<String>,
    signature: Vec<u8>,
    amz_date: chrono::DateTime<chrono::Utc>,
    amz_date_text: String,
    expires: Option<i64>,
}

/// Whether the request carries a SigV4 signature at all (header or presigned).
pub fn is_signed(req: &HttpRequest<'_>) -> bool {
    req.headers
        .get("authorization")
        .is_some_and(|a| a.trim_start().starts_with(ALGORITHM))
        || query_pairs(query(req.path))
            .iter()
            .any(|(k, _)| k == "X-Amz-Algorithm")
}

/// Verifies the request's signature with the secret `lookup` finds for its access key (and session
/// token); the lookup's error (an unknown key, an invalid token) is returned as it is. `Ok(None)`
/// when the request carries no SigV4 signature.
pub fn verify<T>(
    req: &HttpRequest<'_>,
    lookup: impl FnOnce(KeyRef<'_>) -> Result<Signer<T>, SigV4Error>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Option<Verified<T>>, SigV4Error> {
    let presigned = !req
        .headers
        .get("authorization")
        .is_some_and(|a| a.trim_start().starts_with(ALGORITHM));
    let pairs = query_pairs(query(req.path));
    let sig = if presigned {
        if !pairs.iter().any(|(k, _)| k == "X-Amz-Algorithm") {
            return Ok(None);
        }
        parse_query(&pairs)?
    } else {
        let header = req.headers.get("authorization").map_or("", String::as_str);
        parse_header(header, req.headers)?
    };

    // The key first (AWS answers an unknown key before a bad signature), then the time.
    let security_token = if presigned {
        pairs
            .iter()
            .find(|(k, _)| k == "X-Amz-Security-Token")
            .map(|(_, v)| v.as_str())
    } else {
        req.headers.get("x-amz-security-token").map(String::as_str)
    };
    let signer = lookup(KeyRef {
        access_key_id: &sig.access_key_id,
        security_token,
    })?;
    let age = now.signed_duration_since(sig.amz_date).num_seconds();
    match sig.expires {
        None if age.abs() > MAX_SKEW_SECONDS => {
            return Err(SigV4Error::new(
                SigV4ErrorCode::RequestTimeTooSkewed,
                format!(
                "the difference between the request time `{}` and the current time is too large",
                sig.amz_date_text
            ),
            ))
        }
        Some(_) if age < -MAX_SKEW_SECONDS => {
            return Err(SigV4Error::new(
                SigV4ErrorCode::AccessDenied,
                "request is not yet valid",
            ))
        }
        Some(expires) if age > expires => {
            return Err(SigV4Error::new(
                SigV4ErrorCode::AccessDenied,
                "request has expired",
            ))
        }
        _ => {}
    }

    let canonical = canonical_request(req, &sig, &pairs, presigned)?;
    let scope = format!("{}/{}/{}/aws4_request", sig.date, sig.region, sig.service);
    let string_to_sign = format!(
        "{ALGORITHM}\n{}\n{scope}\n{}",
        sig.amz_date_text,
        hex(digest::digest(&digest::SHA256, canonical.as_bytes()).as_ref())
    );
    let signing_key = signing_key(signer.secret.expose(), &sig.date, &sig.region, &sig.service);
    hmac::verify(&signing_key, string_to_sign.as_bytes(), &sig.signature).map_err(|_| {
        SigV4Error::new(
            SigV4ErrorCode::SignatureDoesNotMatch,
            "the request signature we calculated does not match the signature you provided: check your secret access key and signing method",
        )
    })?;
    Ok(Some(Verified {
        access_key_id: sig.access_key_id,
        holder: signer.holder,
        region: sig.region,
        service: sig.service,
    }))
}

/// A signature's credential scope must name the region the request is served in: one signed for
/// another region is a signature for another endpoint (AWS answers `SignatureDoesNotMatch`,
/// "Credential should be scoped to a valid region").
pub fn check_region(signed: &str, served: &str) -> Result<(), SigV4Error> {
    if signed == served {
        return Ok(());
    }
    Err(SigV4Error::new(
        SigV4ErrorCode::SignatureDoesNotMatch,
        format!("Credential should be scoped to a valid region, not '{signed}': this endpoint serves '{served}'"),
    ))
}

/// `HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")`.
fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> hmac::Key {
    let mut key = format!("AWS4{secret}").into_bytes();
    for part in [date, region, service, "aws4_request"] {
        let k = hmac::Key::new(hmac::HMAC_SHA256, &key);
        key = hmac::sign(&k, part.as_bytes()).as_ref().to_vec();
    }
    hmac::Key::new(hmac::HMAC_SHA256, &key)
}

fn incomplete(message: impl Into<String>) -> SigV4Error {
    SigV4Error::new(SigV4ErrorCode::IncompleteSignature, message)
}

/// `AKID/20150830/us-east-1/service/aws4_request`.
fn parse_credential(credential: &str) -> Result<(String, String, String, String), SigV4Error> {
    let parts: Vec<&str> = credential.split('/').collect();
    match parts.as_slice() {
        [id, date, region, service, "aws4_request"]
            if !id.is_empty()
                && id.len() <= 128
                && date.len() == 8
                && scope_part(region)
                && scope_part(service) =>
        {
            Ok((
                (*id).to_owned(),
                (*date).to_owned(),
                (*region).to_owned(),
                (*service).to_owned(),
            ))
        }
        _ => Err(incomplete(format!(
            "credential `{credential}` is not ACCESS_KEY_ID/YYYYMMDD/REGION/SERVICE/aws4_request"
        ))),
    }
}

/// A region or service name of a credential scope: what AWS's names are made of, and short.
fn scope_part(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn parse_signature_hex(s: &str) -> Result<Vec<u8>, SigV4Error> {
    if s.len() != 64 {
        return Err(incomplete("the signature must be 64 hexadecimal digits"));
    }
    (0..s.len())
        .step_by(2)
        .map(|i| {
            s.get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| incomplete("the signature must be 64 hexadecimal digits"))
        })
        .collect()
}

fn parse_amz_date(text: &str) -> Result<chrono::DateTime<chrono::Utc>, SigV4Error> {
    chrono::NaiveDateTime::parse_from_str(text, "%Y%m%dT%H%M%SZ")
        .map(|d| d.and_utc())
        .map_err(|_| incomplete(format!("`{text}` is not a date like 20150830T123600Z")))
}

fn signed_header_list(s: &str) -> Result<Vec<String>, SigV4Error> {
    let names: Vec<String> = s.split(';').map(str::to_owned).collect();
    if names.iter().any(String::is_empty) || !names.iter().any(|n| n == "host") {
        return Err(incomplete(
            "SignedHeaders must name `host` and no empty header",
        ));
    }
    Ok(names)
}

fn parse_header(header: &str, headers: &HashMap<String, String>) -> Result<Signature, SigV4Error> {
    let rest = header.trim_start().trim_start_matches(ALGORITHM);
    let mut fields: HashMap<&str, &str> = HashMap::new();
    for part in rest.split(',') {
        let (k, v) = part.trim().split_once('=').ok_or_else(|| {
            incomplete(format!(
                "authorization header part `{}` is not KEY=VALUE",
                part.trim()
            ))
        })?;
        fields.insert(k, v);
    }
    let field = |name: &str| {
        fields
            .get(name)
            .copied()
            .ok_or_else(|| incomplete(format!("the authorization header has no `{name}`")))
    };
    let (access_key_id, date, region, service) = parse_credential(field("Credential")?)?;
    let signed_headers = signed_header_list(field("SignedHeaders")?)?;
    let signature = parse_signature_hex(field("Signature")?)?;
    let amz_date_text = headers
        .get("x-amz-date")
        .map(|d| d.trim().to_owned())
        .ok_or_else(|| incomplete("the request has no `x-amz-date` header"))?;
    let amz_date = parse_amz_date(&amz_date_text)?;
    if !amz_date_text.starts_with(&date) {
        return Err(SigV4Error::new(
            SigV4ErrorCode::SignatureDoesNotMatch,
            format!("the credential scope date `{date}` is not the date of `x-amz-date`"),
        ));
    }
    Ok(Signature {
        access_key_id,
        date,
        region,
        service,
        signed_headers,
        signature,
        amz_date,
        amz_date_text,
        expires: None,
    })
}

fn parse_query(pairs: &[(String, String)]) -> Result<Signature, SigV4Error> {
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .ok_or_else(|| incomplete(format!("the presigned URL has no `{name}`")))
    };
    let algorithm = get("X-Amz-Algorithm")?;
    if algorithm != ALGORITHM {
        return Err(incomplete(format!(
            "algorithm `{algorithm}` is not {ALGORITHM}"
        )));
    }
    let (access_key_id, date, region, service) = parse_credential(get("X-Amz-Credential")?)?;
    let amz_date_text = get("X-Amz-Date")?.to_owned();
    let amz_date = parse_amz_date(&amz_date_text)?;
    if !amz_date_text.starts_with(&date) {
        return Err(SigV4Error::new(
            SigV4ErrorCode::SignatureDoesNotMatch,
            format!("the credential scope date `{date}` is not the date of `X-Amz-Date`"),
        ));
    }
    let expires = get("X-Amz-Expires")?
        .parse::<i64>()
        .ok()
        .filter(|e| (1..=MAX_EXPIRES_SECONDS).contains(e))
        .ok_or_else(|| {
            incomplete(format!(
                "X-Amz-Expires must be a number of seconds from 1 to {MAX_EXPIRES_SECONDS}"
            ))
        })?;
    Ok(Signature {
        access_key_id,
        date,
        region,
        service,
        signed_headers: signed_header_list(get("X-Amz-SignedHeaders")?)?,
        signature: parse_signature_hex(get("X-Amz-Signature")?)?,
        amz_date,
        amz_date_text,
        expires: Some(expires),
    })
}

fn query(path: &str) -> &str {
    path.split_once('?').map_or("", |(_, q)| q)
}

/// The query's parameters, percent-decoded (`+` is a plus sign, as AWS's signers encode spaces as
/// `%20`).
fn query_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// AWS's URI encoding: every byte but `A-Za-z0-9-_.~` as `%XX` (upper-case), and `/` too unless
/// `keep_slash`.
fn encode(s: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'_' | b'.' | b'~')
            || (keep_slash && b == b'/')
        {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The path's segments without `.` and `..`, as AWS's SDKs normalise it before signing (not for S3).
fn normalize_path(path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    for seg in path.split('/').skip(1) {
        match seg {
            "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    let mut out = format!("/{}", segments.join("/"));
    if out.len() > 1 && path.ends_with('/') && !out.ends_with('/') {
        out.push('/');
    }
    out
}

fn canonical_request(
    req: &HttpRequest<'_>,
    sig: &Signature,
    pairs: &[(String, String)],
    presigned: bool,
) -> Result<String, SigV4Error> {
    let raw_path = req.path.split_once('?').map_or(req.path, |(p, _)| p);
    let raw_path = if raw_path.is_empty() { "/" } else { raw_path };
    let uri = if sig.service == "s3" {
        encode(&decode(raw_path), true)
    } else {
        encode(&normalize_path(raw_path), true)
    };
    let mut params: Vec<(String, String)> = pairs
        .iter()
        .filter(|(k, _)| !(presigned && k == "X-Amz-Signature"))
        .map(|(k, v)| (encode(k, false), encode(v, false)))
        .collect();
    params.sort();
    let query = params
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let mut headers = String::new();
    for name in &sig.signed_headers {
        let value = match req.headers.get(name) {
            Some(v) => v.as_str(),
            None if name == "host" => req.host,
            None => {
                return Err(SigV4Error::new(
                    SigV4ErrorCode::SignatureDoesNotMatch,
                    format!("signed header `{name}` is not in the request"),
                ))
            }
        };
        let value = value.split_whitespace().collect::<Vec<_>>().join(" ");
        headers.push_str(&format!("{name}:{value}\n"));
    }
    let payload = payload_hash(req, presigned, &sig.service)?;
    Ok(format!(
        "{}\n{uri}\n{query}\n{headers}\n{}\n{payload}",
        req.method,
        sig.signed_headers.join(";")
    ))
}

/// The payload hash the canonical request ends with.
///
/// - A body the authorizer sees (STS; Envoy's `with_request_body`) is bound: a claimed
///   `x-amz-content-sha256` must be its SHA-256, and without the header its hash is computed.
/// - `UNSIGNED-PAYLOAD` and S3's other markers (`STREAMING-…`) are S3's alone: S3 is the one service
///   that accepts a signature not covering the body. Every other service refuses them.
/// - A body the authorizer does not see is bound only by the claimed hash: the check proves the
///   signer signed *a* body with that hash, and the upstream (or Envoy sending the body) must hold
///   the body to it. Without a claimed hash such a body cannot be verified at all.
/// - Presigned URLs for S3 are signed with `UNSIGNED-PAYLOAD`; for other services with the (empty)
///   body's hash, as AWS's SDKs sign them.
fn payload_hash(
    req: &HttpRequest<'_>,
    presigned: bool,
    service: &str,
) -> Result<String, SigV4Error> {
    let s3 = service == "s3";
    let claimed = req.headers.get("x-amz-content-sha256").map(|h| h.trim());
    let actual = req
        .body
        .map(|b| hex(digest::digest(&digest::SHA256, b).as_ref()));
    match claimed {
        Some(h) if is_sha256_hex(h) => match actual {
            Some(a) if !a.eq_ignore_ascii_case(h) => Err(SigV4Error::new(
                SigV4ErrorCode::SignatureDoesNotMatch,
                "the x-amz-content-sha256 header is not the SHA-256 of the body",
            )),
            _ => Ok(h.to_owned()),
        },
        Some(marker) if s3 => Ok(marker.to_owned()),
        Some(marker) => Err(SigV4Error::new(
            SigV4ErrorCode::SignatureDoesNotMatch,
            format!(
                "x-amz-content-sha256 `{}` is accepted only by S3: a signature for `{service}` covers the body's SHA-256",
                truncate_for_message(marker)
            ),
        )),
        None if presigned && s3 => Ok(UNSIGNED_PAYLOAD.to_owned()),
        None => {
            if let Some(a) = actual {
                return Ok(a);
            }
            let no_body = !req.headers.contains_key("transfer-encoding")
                && req
                    .headers
                    .get("content-length")
                    .is_none_or(|l| l.trim() == "0");
            if no_body {
                Ok(hex(digest::digest(&digest::SHA256, b"").as_ref()))
            } else {
                Err(SigV4Error::new(
                    SigV4ErrorCode::MissingPayloadHash,
                    "the request has a body the authorizer does not see: sign it with an x-amz-content-sha256 header",
                ))
            }
        }
    }
}

fn is_sha256_hex(h: &str) -> bool {
    h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Client text quoted in an error message, cut short.
fn truncate_for_message(s: &str) -> String {
    const MAX: usize = 80;
    match s.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}…", s.get(..i).unwrap_or_default()),
        None => s.to_owned(),
    }
}

#[cfg(test)]
mod tests;
