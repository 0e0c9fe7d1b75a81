//! STS's Query-API answers: XML documents in the `https://sts.amazonaws.com/doc/2011-06-15/`
//! namespace, and `ErrorResponse` documents with AWS's codes and HTTP statuses, which the AWS CLI and
//! SDKs turn into the same exceptions AWS's own errors raise.

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::Response;

const NAMESPACE: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

/// An STS error: AWS's code, its HTTP status, and a message for the caller (never a secret).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct StsError {
    /// The HTTP status.
    pub status: u16,
    /// AWS's error code (`AccessDenied`, `ValidationError`, …).
    pub code: &'static str,
    /// What went wrong.
    pub message: String,
}

impl StsError {
    /// 400 `ValidationError`.
    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(400, "ValidationError", message)
    }
    /// 403 `AccessDenied`.
    pub fn access_denied(message: impl Into<String>) -> Self {
        Self::new(403, "AccessDenied", message)
    }
    /// 400 `InvalidParameterValue`.
    pub fn invalid_parameter(message: impl Into<String>) -> Self {
        Self::new(400, "InvalidParameterValue", message)
    }
    /// Any code.
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        StsError {
            status,
            code,
            message: message.into(),
        }
    }
}

pub use iamlet_query::element;
use iamlet_query::{error_document, success_document, Fault};

fn xml(status: u16, body: String, request_id: &str) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", "text/xml")
        .header("x-amzn-requestid", request_id)
        .body(Full::new(Bytes::from(body)))
        .unwrap_or_else(|_| crate::http::unbuildable())
}

/// `<{Action}Response><{Action}Result>…</{Action}Result><ResponseMetadata>…` with status 200.
pub fn success(action: &str, result: &str, request_id: &str) -> Response<Full<Bytes>> {
    xml(
        200,
        success_document(NAMESPACE, action, result, request_id),
        request_id,
    )
}

/// An `ErrorResponse` with the error's status.
pub fn error(e: &StsError, request_id: &str) -> Response<Full<Bytes>> {
    xml(
        e.status,
        error_document(
            NAMESPACE,
            Fault::of_status(e.status),
            e.code,
            &e.message,
            request_id,
        ),
        request_id,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt as _;

    async fn body(r: Response<Full<Bytes>>) -> String {
        String::from_utf8(r.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap()
    }

    #[tokio::test]
    async fn errors_are_error_responses_with_escaped_text() {
        let e = StsError::access_denied("User: a<b> is not authorized & \"so\" on 'x'");
        let r = error(&e, "req-1");
        assert_eq!(r.status(), 403);
        assert_eq!(r.headers()["content-type"], "text/xml");
        let text = body(r).await;
        assert!(
            text.contains("<Type>Sender</Type><Code>AccessDenied</Code>"),
            "{text}"
        );
        assert!(
            text.contains("a&lt;b&gt; is not authorized &amp; &quot;so&quot; on &apos;x&apos;"),
            "{text}"
        );
        assert!(text.contains("<RequestId>req-1</RequestId>"), "{text}");
    }

    #[tokio::test]
    async fn results_are_wrapped_in_the_actions_elements() {
        let r = success(
            "GetCallerIdentity",
            &element("Account", "111122223333"),
            "r",
        );
        assert_eq!(r.status(), 200);
        let text = body(r).await;
        assert!(text.starts_with(
            "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
        ));
        assert!(text.contains(
            "<GetCallerIdentityResult><Account>111122223333</Account></GetCallerIdentityResult>"
        ));
        assert!(text.contains("<ResponseMetadata><RequestId>r</RequestId></ResponseMetadata>"));
    }
}
