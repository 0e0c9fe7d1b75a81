//! A request as one byte buffer, for bindings whose every crossing has a price per string: the
//! WebAssembly component's canonical ABI allocates guest memory for each string of a typed request
//! record, so a request with a few context keys crosses in a dozen allocations; packed, it crosses in
//! one and the guest reads its strings in place.
//!
//! The layout (integers little-endian `u32`): the principal, the action and the resource as strings
//! (length, then UTF-8 bytes), then items until the end, each a tag byte and its payload —
//! `1` resource account (string), `2` session issuer (string), `3` single-valued context key (key,
//! value), `4` multivalued context key (key, count, values).

use crate::context::{ContextMap, ContextValue};
use crate::request::Request;

const RESOURCE_ACCOUNT: u8 = 1;
const SESSION_ISSUER: u8 = 2;
const SINGLE: u8 = 3;
const MULTI: u8 = 4;

/// A request being packed; [`PackedRequest::as_bytes`] is what crosses.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PackedRequest {
    buf: Vec<u8>,
}

impl PackedRequest {
    /// Starts a request for a principal ARN, a `service:Action` and a resource ARN.
    pub fn new(principal: &str, action: &str, resource: &str) -> Self {
        let mut p = PackedRequest {
            buf: Vec::with_capacity(64 + principal.len() + action.len() + resource.len()),
        };
        p.string(principal);
        p.string(action);
        p.string(resource);
        p
    }

    /// The account owning the resource, for ARNs without one.
    pub fn resource_account(&mut self, account: &str) -> &mut Self {
        self.buf.push(RESOURCE_ACCOUNT);
        self.string(account);
        self
    }

    /// The identity behind a session principal.
    pub fn session_issuer(&mut self, issuer: &str) -> &mut Self {
        self.buf.push(SESSION_ISSUER);
        self.string(issuer);
        self
    }

    /// A single-valued context key.
    pub fn single(&mut self, key: &str, value: &str) -> &mut Self {
        self.buf.push(SINGLE);
        self.string(key);
        self.string(value);
        self
    }

    /// A multivalued context key.
    pub fn multi<'a>(
        &mut self,
        key: &str,
        values: impl ExactSizeIterator<Item = &'a str>,
    ) -> &mut Self {
        self.buf.push(MULTI);
        self.string(key);
        self.len(values.len());
        for v in values {
            self.string(v);
        }
        self
    }

    /// A context key as the engine holds it.
    pub fn context_value(&mut self, key: &str, value: &ContextValue) -> &mut Self {
        if value.is_multi() {
            self.multi(key, value.values().iter().map(String::as_str))
        } else {
            self.single(key, value.values().first().map_or("", String::as_str))
        }
    }

    /// Packs an engine request (the sidecar's path: its requests are built natively first).
    pub fn from_request(r: &Request) -> Self {
        let mut p = PackedRequest::new(r.principal().arn(), r.action(), r.resource());
        if let Some(a) = r.resource_account.as_deref() {
            p.resource_account(a);
        }
        if let Some(i) = r.principal().session_issuer() {
            p.session_issuer(i);
        }
        for (k, v) in r.context().iter() {
            p.context_value(k, v);
        }
        p
    }

    /// The packed bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    fn len(&mut self, n: usize) {
        // A request is capped far below 4 GiB by every front end; saturate rather than wrap.
        let n = u32::try_from(n).unwrap_or(u32::MAX);
        self.buf.extend_from_slice(&n.to_le_bytes());
    }

    fn string(&mut self, s: &str) {
        self.len(s.len());
        self.buf.extend_from_slice(s.as_bytes());
    }
}

/// Reads a packed request back into an engine request; malformed bytes are an error naming where.
pub fn unpack(bytes: &[u8]) -> Result<Request, String> {
    let mut r = Reader { bytes, at: 0 };
    let principal = r.string("principal")?;
    let action = r.string("action")?;
    let resource = r.string("resource")?;
    let mut ctx = ContextMap::new();
    let mut account = None;
    let mut issuer = None;
    while let Some(tag) = r.tag() {
        match tag {
            RESOURCE_ACCOUNT => account = Some(r.string("resource account")?),
            SESSION_ISSUER => issuer = Some(r.string("session issuer")?),
            SINGLE => {
                let key = r.string("context key")?;
                let value = r.string("context value")?;
                ctx.insert_owned(key.to_owned(), ContextValue::single(value));
            }
            MULTI => {
                let key = r.string("context key")?;
                let n = r.len("value count")?;
                // Each value takes at least its length prefix: a count beyond that is a lie.
                if n > (bytes.len() - r.at) / 4 {
                    return Err(format!(
                        "packed request: context key `{key}`: {n} values do not fit"
                    ));
                }
                let mut values = Vec::with_capacity(n);
                for _ in 0..n {
                    values.push(r.string("context value")?.to_owned());
                }
                ctx.insert_owned(key.to_owned(), ContextValue::multi(values));
            }
            other => {
                return Err(format!(
                    "packed request: unknown item {other} at byte {}",
                    r.at - 1
                ))
            }
        }
    }
    super::request_from_parts(principal, action, resource, account, issuer, ctx)
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn tag(&mut self) -> Option<u8> {
        let t = *self.bytes.get(self.at)?;
        self.at += 1;
        Some(t)
    }

    fn len(&mut self, what: &str) -> Result<usize, String> {
        let end = self.at + 4;
        let b = self
            .bytes
            .get(self.at..end)
            .ok_or_else(|| format!("packed request: {what} cut short at byte {}", self.at))?;
        self.at = end;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
    }

    fn string(&mut self, what: &str) -> Result<&'a str, String> {
        let n = self.len(what)?;
        let start = self.at;
        let b = start
            .checked_add(n)
            .and_then(|end| self.bytes.get(start..end))
            .ok_or_else(|| format!("packed request: {what} cut short at byte {start}"))?;
        self.at = start + n;
        std::str::from_utf8(b).map_err(|e| format!("packed request: {what} at byte {start}: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Request {
        let mut ctx = ContextMap::new();
        ctx.insert("aws:SourceIp", "203.0.113.10");
        ctx.insert("aws:TagKeys", vec!["team", "Project"]);
        ctx.insert("aws:PrincipalTag/team", "search");
        Request::new(
            "arn:aws:sts::111122223333:assumed-role/reader/alice",
            "s3:GetObject",
            "arn:aws:s3:::bucket/key",
        )
        .unwrap()
        .with_context(ctx)
        .with_resource_account("444455556666")
        .with_session_issuer("arn:aws:iam::111122223333:role/path/reader")
    }

    #[test]
    fn a_request_packs_and_unpacks_to_itself() {
        let r = sample();
        let packed = PackedRequest::from_request(&r);
        assert_eq!(unpack(packed.as_bytes()).unwrap(), r);
        let plain = Request::new("111122223333", "sqs:SendMessage", "*").unwrap();
        assert_eq!(
            unpack(PackedRequest::from_request(&plain).as_bytes()).unwrap(),
            plain
        );
    }

    #[test]
    fn malformed_bytes_are_errors_that_say_where() {
        let bytes = PackedRequest::from_request(&sample()).as_bytes().to_vec();
        for cut in [0, 3, 10, bytes.len() - 1] {
            let e = unpack(&bytes[..cut]).unwrap_err();
            assert!(
                e.contains("cut short") || e.contains("do not fit"),
                "{cut}: {e}"
            );
        }
        let mut bad = PackedRequest::new("111122223333", "s3:GetObject", "*")
            .as_bytes()
            .to_vec();
        bad.push(9);
        assert_eq!(
            unpack(&bad).unwrap_err(),
            "packed request: unknown item 9 at byte 37"
        );
        let mut lying = PackedRequest::new("111122223333", "s3:GetObject", "*")
            .as_bytes()
            .to_vec();
        lying.push(MULTI);
        lying.extend_from_slice(&1u32.to_le_bytes());
        lying.push(b'k');
        lying.extend_from_slice(&u32::MAX.to_le_bytes());
        assert!(unpack(&lying).unwrap_err().contains("do not fit"));
        let mut not_utf8 = PackedRequest::new("111122223333", "s3:GetObject", "*")
            .as_bytes()
            .to_vec();
        not_utf8.push(RESOURCE_ACCOUNT);
        not_utf8.extend_from_slice(&1u32.to_le_bytes());
        not_utf8.push(0xff);
        assert!(unpack(&not_utf8)
            .unwrap_err()
            .contains("resource account at byte"));
        assert!(unpack(&[])
            .unwrap_err()
            .contains("principal cut short at byte 0"));
    }

    #[test]
    fn a_bad_request_inside_is_the_engine_s_error() {
        let p = PackedRequest::new("111122223333", "GetObject", "*");
        assert!(unpack(p.as_bytes()).unwrap_err().contains("GetObject"));
    }
}
