//! An export (or organization file) served over HTTP(S), polled with `If-None-Match`: a `304 Not
//! Modified` costs no download and no rebuild. TLS is rustls on ring with the system's root
//! certificates; redirects are not followed (point the URL at the final location).

use super::LoadError;
use super::{BoxFuture, Documents, Loader};
use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;
use hyper::{header, Request, StatusCode, Uri};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use std::time::Duration;

/// The largest document accepted.
pub const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

/// An HTTP/1 client for `http://` and `https://` URLs: rustls on ring with the system's roots.
pub(crate) fn https_client<B>() -> Result<Client<HttpsConnector<HttpConnector>, B>, String>
where
    B: hyper::body::Body + Send,
    B::Data: Send,
{
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_native_roots()
        .map_err(|e| format!("loading the system's root certificates: {e}"))?
        .https_or_http()
        .enable_http1()
        .build();
    Ok(Client::builder(TokioExecutor::new()).build(connector))
}

/// One URL, polled with its last `ETag`.
pub struct HttpLoader {
    uri: Uri,
    client: Client<HttpsConnector<HttpConnector>, Empty<Bytes>>,
    etag: Option<String>,
    timeout: Duration,
}

impl std::fmt::Debug for HttpLoader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpLoader")
            .field("uri", &self.uri)
            .field("etag", &self.etag)
            .finish_non_exhaustive()
    }
}

impl HttpLoader {
    /// A loader for `url` (`http://` or `https://`).
    pub fn new(url: &str) -> Result<Self, LoadError> {
        let bad = |message: String| LoadError::Read {
            source_name: url.to_owned(),
            message,
        };
        let uri: Uri = url.parse().map_err(|e| bad(format!("not a URL: {e}")))?;
        if !matches!(uri.scheme_str(), Some("http" | "https")) {
            return Err(bad("the URL must be http:// or https://".into()));
        }
        let client = https_client().map_err(bad)?;
        Ok(HttpLoader {
            uri,
            client,
            etag: None,
            timeout: Duration::from_secs(30),
        })
    }

    fn error(&self, message: impl Into<String>) -> LoadError {
        LoadError::Read {
            source_name: self.uri.to_string(),
            message: message.into(),
        }
    }

    async fn fetch(&mut self) -> Result<Option<Documents>, LoadError> {
        let mut req = Request::get(self.uri.clone()).header(header::ACCEPT, "application/json");
        if let Some(etag) = &self.etag {
            req = req.header(header::IF_NONE_MATCH, etag.as_str());
        }
        let req = req
            .body(Empty::new())
            .map_err(|e| self.error(e.to_string()))?;
        let resp = tokio::time::timeout(self.timeout, self.client.request(req))
            .await
            .map_err(|_| self.error("timed out"))?
            .map_err(|e| self.error(format!("request failed: {e}")))?;
        match resp.status() {
            StatusCode::NOT_MODIFIED => return Ok(None),
            StatusCode::OK => {}
            s => return Err(self.error(format!("answered {s}"))),
        }
        let etag = resp
            .headers()
            .get(header::ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = tokio::time::timeout(
            self.timeout,
            Limited::new(resp.into_body(), MAX_BODY_BYTES).collect(),
        )
        .await
        .map_err(|_| self.error("timed out reading the body"))?
        .map_err(|e| self.error(format!("reading the body: {e}")))?
        .to_bytes();
        let text =
            String::from_utf8(body.to_vec()).map_err(|_| self.error("the body is not UTF-8"))?;
        self.etag = etag;
        Ok(Some(vec![(self.uri.to_string(), text)]))
    }
}

impl Loader for HttpLoader {
    fn name(&self) -> String {
        self.uri.to_string()
    }

    fn poll(&mut self) -> BoxFuture<'_, Result<Option<Documents>, LoadError>> {
        Box::pin(self.fetch())
    }
}
