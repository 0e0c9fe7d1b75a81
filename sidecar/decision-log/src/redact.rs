//! What of a client's request may be written down: logs keep paths and reasons, never credentials,
//! and never more of the client's input than [`MAX_LOGGED_BYTES`].
//!
//! Parameter names are compared after decoding them as SigV4 and the upstream do: a name spelled
//! `X-Amz-Signatur%65` is verified as `X-Amz-Signature`, so it is redacted as one.

/// The most bytes of one piece of client input (a path, a user agent, a reason quoting them) that
/// a log line keeps.
pub const MAX_LOGGED_BYTES: usize = 2048;

/// Query parameters whose values are credentials: presigned URLs' signatures and session tokens
/// (SigV4, and SigV2's `Signature`), and OAuth tokens and secrets sent in a query.
const SECRET_PARAMETERS: &[&str] = &[
    "x-amz-signature",
    "x-amz-security-token",
    "signature",
    "access_token",
    "id_token",
    "refresh_token",
    "client_secret",
    "password",
];

/// The path without its query (which may carry credentials).
pub fn path_only(path: &str) -> &str {
    path.split_once('?').map_or(path, |(p, _)| p)
}

/// The path with every credential parameter's value replaced by `REDACTED`, cut to
/// [`MAX_LOGGED_BYTES`].
pub fn path_and_query(path: &str) -> String {
    let Some((p, query)) = path.split_once('?') else {
        return truncate(path);
    };
    let query: Vec<String> = query
        .split('&')
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            if is_secret(k) && !v.is_empty() {
                format!("{k}=REDACTED")
            } else {
                kv.to_owned()
            }
        })
        .collect();
    truncate(&format!("{p}?{}", query.join("&")))
}

/// Whether a raw (encoded) parameter name names a credential once decoded.
fn is_secret(raw_name: &str) -> bool {
    let name = percent_encoding::percent_decode_str(&raw_name.replace('+', " "))
        .decode_utf8_lossy()
        .trim()
        .to_ascii_lowercase();
    SECRET_PARAMETERS.contains(&name.as_str())
}

/// [`truncate`] in place: a string within the bound (nearly every one) is left as it is, not
/// copied.
pub fn truncate_in_place(s: &mut String) {
    if s.len() > MAX_LOGGED_BYTES {
        *s = truncate(s);
    }
}

/// Client input cut to [`MAX_LOGGED_BYTES`] (at a character boundary), saying how much was left out.
pub fn truncate(s: &str) -> String {
    if s.len() <= MAX_LOGGED_BYTES {
        return s.to_owned();
    }
    let mut end = MAX_LOGGED_BYTES;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!(
        "{}…({} more bytes)",
        s.get(..end).unwrap_or_default(),
        s.len() - end
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presigned_signatures_stay_out_of_the_log() {
        let path = "/o?X-Amz-Credential=AKIAEXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Signature=aeee&x-amz-security-token=tok&a=b";
        assert_eq!(
            path_and_query(path),
            "/o?X-Amz-Credential=AKIAEXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Signature=REDACTED&x-amz-security-token=REDACTED&a=b"
        );
    }

    /// Found by the security review: SigV4 decodes parameter names, redaction compared them raw, so
    /// `X-Amz-Signatur%65` was verified as a signature and logged in clear.
    #[test]
    fn names_are_compared_decoded() {
        for name in [
            "X-Amz-Signatur%65",
            "X%2DAmz%2DSignature",
            "x-amz-security-toke%6E",
            "%58-Amz-Security-Token",
            "access%5Ftoken",
        ] {
            let logged = path_and_query(&format!("/o?{name}=s3cr3t&a=b"));
            assert!(!logged.contains("s3cr3t"), "{logged}");
            assert!(logged.ends_with("=REDACTED&a=b"), "{logged}");
        }
    }

    #[test]
    fn long_input_is_cut_at_a_character_boundary() {
        let long = "é".repeat(MAX_LOGGED_BYTES);
        let cut = truncate(&long);
        assert!(cut.len() < MAX_LOGGED_BYTES + 40, "{}", cut.len());
        assert!(cut.ends_with(&format!("…({} more bytes)", MAX_LOGGED_BYTES)));
        assert_eq!(truncate("short"), "short");
        assert_eq!(path_only("/a/b?X-Amz-Signature=x"), "/a/b");
    }
}
