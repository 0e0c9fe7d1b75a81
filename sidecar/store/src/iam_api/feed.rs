//! A remote Iamlet control plane, per principal, with its change feed (`accounts = "iam:watch"`):
//! principals are fetched through the IAM API as for `iam`, and a long poll on Iamlet's own
//! `WatchChanges` action (signed like any IAM call, authorized as `iamlet:WatchChanges`) says which
//! of them changed, so the cache forgets exactly those as soon as the change commits.
//!
//! The feed resumes from the last change applied: a dropped connection or a restarted control plane
//! loses nothing. A sidecar further behind than the feed keeps is told to start over, and forgets
//! everything (a log line and the `cache_resyncs` metric say so). While the control plane cannot
//! be reached the cache serves what it holds within `max_stale`, then fails closed, and the feed
//! catches up when it is back.

use super::principal::IamApiFetcher;
use super::{sdk_config, IamApiConfig};
use crate::{
    BoxFuture, Changed, FeedChange, FeedPage, FetchError, Fetcher, LiveFetcher, LoadError, Parts,
    PrincipalKey,
};
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper::Uri;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use std::time::{Duration, SystemTime};
use tokio::sync::Mutex;

/// How long the control plane holds one poll open (its maximum).
const WAIT_SECONDS: u32 = 20;
/// Changes asked for at once.
const MAX_ITEMS: u32 = 1000;
/// The largest answer read.
const MAX_ANSWER_BYTES: usize = 16 * 1024 * 1024;
/// Between failed polls.
const RETRY: Duration = Duration::from_secs(1);

/// Principals from the IAM API, forgotten as the change feed names them.
#[derive(Debug)]
pub struct WatchedIamApi {
    fetcher: IamApiFetcher,
    feed: Feed,
}

impl WatchedIamApi {
    /// Connects to the control plane at the configured endpoint (`endpoint_url`, else
    /// `AWS_ENDPOINT_URL_IAM`, else `AWS_ENDPOINT_URL`) and reads where its feed stands, so that
    /// nothing committed from now on is missed.
    pub async fn new(config: &IamApiConfig) -> Result<WatchedIamApi, LoadError> {
        let bad = |message: String| LoadError::Read {
            source_name: "iam:watch".into(),
            message,
        };
        let endpoint = config
            .endpoint_url
            .clone()
            .or_else(|| std::env::var("AWS_ENDPOINT_URL_IAM").ok())
            .or_else(|| std::env::var("AWS_ENDPOINT_URL").ok())
            .ok_or_else(|| {
                bad("the change feed is read from an Iamlet control plane's IAM API: set AWS_ENDPOINT_URL_IAM to its URL".into())
            })?;
        let uri: Uri = endpoint
            .parse()
            .map_err(|e| bad(format!("`{endpoint}` is not a URL: {e}")))?;
        let host = uri
            .authority()
            .map(|a| a.as_str().to_owned())
            .ok_or_else(|| bad(format!("`{endpoint}` names no host")))?;
        let sdk = sdk_config(config).await;
        let credentials = sdk
            .credentials_provider()
            .ok_or_else(|| bad("no AWS credentials to sign the change feed's calls with".into()))?;
        // IAM is global: us-east-1 unless configured, as the IAM client signs.
        let region = sdk
            .region()
            .map_or_else(|| "us-east-1".to_owned(), |r| r.as_ref().to_owned());
        let feed = Feed {
            uri,
            host,
            region,
            credentials,
            http: crate::http::https_client().map_err(bad)?,
            position: Mutex::new(0),
        };
        // Where the feed stands now: changes before it are in what the fetcher will read.
        let now = feed.poll(None, 0).await.map_err(bad)?;
        *feed.position.lock().await = now.latest;
        Ok(WatchedIamApi {
            fetcher: IamApiFetcher::new(config).await?,
            feed,
        })
    }
}

impl Fetcher for WatchedIamApi {
    fn fetch<'a>(&'a self, key: &'a PrincipalKey) -> BoxFuture<'a, Result<Parts, FetchError>> {
        self.fetcher.fetch(key)
    }
}

impl LiveFetcher for WatchedIamApi {
    fn changed(&self) -> BoxFuture<'_, Changed> {
        Box::pin(self.feed.next())
    }
}

/// The long poll.
struct Feed {
    uri: Uri,
    host: String,
    region: String,
    credentials: SharedCredentialsProvider,
    http: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    /// The last change applied.
    position: Mutex<i64>,
}

impl std::fmt::Debug for Feed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Feed")
            .field("uri", &self.uri)
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

impl Feed {
    /// The next change that names principals (or says to start over).
    async fn next(&self) -> Changed {
        let mut position = self.position.lock().await;
        loop {
            let page = match self.poll(Some(*position), WAIT_SECONDS).await {
                Ok(page) => page,
                Err(e) => {
                    tracing::warn!(error = %e, "reading the control plane's change feed failed; retrying");
                    tokio::time::sleep(RETRY).await;
                    continue;
                }
            };
            if let Some(changed) = page.apply(&mut position) {
                return changed;
            }
        }
    }

    /// One signed `WatchChanges` call.
    async fn poll(&self, after: Option<i64>, wait: u32) -> Result<FeedPage, String> {
        let mut params = vec![
            ("Action", "WatchChanges".to_owned()),
            ("Version", "2010-05-08".to_owned()),
            ("WaitSeconds", wait.to_string()),
            ("MaxItems", MAX_ITEMS.to_string()),
        ];
        if let Some(a) = after {
            params.push(("After", a.to_string()));
        }
        let body: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params.iter().map(|(k, v)| (*k, v.as_str())))
            .finish();
        let content_type = "application/x-www-form-urlencoded; charset=utf-8";
        let credentials = self
            .credentials
            .provide_credentials()
            .await
            .map_err(|e| format!("AWS credentials: {e}"))?;
        let identity = credentials.into();
        let signing = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name("iam")
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| format!("signing: {e}"))?
            .into();
        let uri = self.uri.to_string();
        let headers = [("host", self.host.as_str()), ("content-type", content_type)];
        let signable = SignableRequest::new(
            "POST",
            uri.as_str(),
            headers.into_iter(),
            SignableBody::Bytes(body.as_bytes()),
        )
        .map_err(|e| format!("signing: {e}"))?;
        let (instructions, _) = sign(signable, &signing)
            .map_err(|e| format!("signing: {e}"))?
            .into_parts();
        let mut request = hyper::Request::builder()
            .method("POST")
            .uri(self.uri.clone())
            .header("host", &self.host)
            .header("content-type", content_type)
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| e.to_string())?;
        instructions.apply_to_request_http1x(&mut request);
        let limit = Duration::from_secs(u64::from(wait) + 10);
        let response = tokio::time::timeout(limit, self.http.request(request))
            .await
            .map_err(|_| format!("no answer within {} s", limit.as_secs()))?
            .map_err(|e| format!("request failed: {e}"))?;
        let status = response.status();
        let bytes = tokio::time::timeout(
            limit,
            Limited::new(response.into_body(), MAX_ANSWER_BYTES).collect(),
        )
        .await
        .map_err(|_| "the answer did not arrive in time".to_owned())?
        .map_err(|e| format!("reading the answer: {e}"))?
        .to_bytes();
        let text = String::from_utf8_lossy(&bytes);
        if !status.is_success() {
            return Err(format!("{status}: {}", error_message(&text)));
        }
        parse(&text)
    }
}

/// The answer parsed, its nesting bounded first: a control plane (or whatever answers in its place)
/// must not be able to overflow the sidecar's stack with a deep document.
fn bounded(text: &str) -> Result<roxmltree::Document<'_>, String> {
    if !iamlet_account::xml::nested_within(text, iamlet_account::xml::MAX_XML_DEPTH) {
        return Err(format!(
            "the answer nests deeper than {} elements",
            iamlet_account::xml::MAX_XML_DEPTH
        ));
    }
    roxmltree::Document::parse(text).map_err(|e| format!("the answer: {e}"))
}

/// An IAM error document's code and message, or the text.
fn error_message(text: &str) -> String {
    let Ok(doc) = bounded(text) else {
        return text.chars().take(200).collect();
    };
    let find = |name: &str| {
        doc.descendants()
            .find(|n| n.has_tag_name(name))
            .and_then(|n| n.text())
            .unwrap_or_default()
            .to_owned()
    };
    format!("{}: {}", find("Code"), find("Message"))
}

/// Reads a `WatchChangesResponse`.
fn parse(text: &str) -> Result<FeedPage, String> {
    let doc = bounded(text)?;
    let result = doc
        .descendants()
        .find(|n| n.has_tag_name("WatchChangesResult"))
        .ok_or("the answer has no WatchChangesResult")?;
    fn child<'a, 'input>(
        node: roxmltree::Node<'a, 'input>,
        name: &str,
    ) -> Option<roxmltree::Node<'a, 'input>> {
        node.children().find(|n| n.has_tag_name(name))
    }
    let text_of = |node: roxmltree::Node<'_, '_>, name: &str| -> Result<String, String> {
        child(node, name)
            .map(|n| n.text().unwrap_or_default().trim().to_owned())
            .ok_or_else(|| format!("the answer has no {name}"))
    };
    let number = |node, name: &str| -> Result<i64, String> {
        let t = text_of(node, name)?;
        t.parse().map_err(|_| format!("{name} `{t}` is no number"))
    };
    let flag = |node, name: &str| -> Result<bool, String> {
        match text_of(node, name)?.as_str() {
            "true" => Ok(true),
            "false" => Ok(false),
            other => Err(format!("{name} `{other}` is not true or false")),
        }
    };
    let members = |node: roxmltree::Node<'_, '_>| {
        node.children()
            .filter(|n| n.has_tag_name("member"))
            .map(|n| n.text().unwrap_or_default().trim().to_owned())
            .collect::<Vec<_>>()
    };
    let mut changes = Vec::new();
    if let Some(list) = child(result, "Changes") {
        for m in list.children().filter(|n| n.has_tag_name("member")) {
            changes.push(FeedChange {
                sequence: number(m, "Sequence")?,
                everything: flag(m, "Everything")?,
                principals: child(m, "Principals").map(members).unwrap_or_default(),
            });
        }
    }
    Ok(FeedPage {
        changes,
        latest: number(result, "Latest")?,
        resync: flag(result, "Resync")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_control_planes_answer() {
        let text = r#"<WatchChangesResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><WatchChangesResult><Changes><member><Sequence>7</Sequence><CommittedAt>2026-12-06T03:30:00.000Z</CommittedAt><Everything>false</Everything><Credentials>false</Credentials><Principals><member>arn:aws:iam::111122223333:user/a&amp;b</member></Principals><Entities><member>user:AIDA1</member></Entities></member></Changes><Latest>7</Latest><IsTruncated>false</IsTruncated><Resync>false</Resync></WatchChangesResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></WatchChangesResponse>"#;
        assert_eq!(
            parse(text).unwrap(),
            FeedPage {
                changes: vec![FeedChange {
                    sequence: 7,
                    everything: false,
                    principals: vec!["arn:aws:iam::111122223333:user/a&b".into()],
                }],
                latest: 7,
                resync: false,
            }
        );
        assert!(parse("<x/>").unwrap_err().contains("WatchChangesResult"));
        assert!(parse(
            "<R><WatchChangesResult><Latest>x</Latest><Resync>false</Resync></WatchChangesResult></R>"
        )
        .unwrap_err()
        .contains("no number"));
        assert_eq!(
            error_message("<ErrorResponse><Error><Code>AccessDenied</Code><Message>no</Message></Error></ErrorResponse>"),
            "AccessDenied: no"
        );
        // A hostile answer nested a hundred thousand deep is an error, not a stack overflow.
        let deep = format!("{}{}", "<x>".repeat(100_000), "</x>".repeat(100_000));
        assert!(parse(&deep).unwrap_err().contains("nests deeper"));
        assert_eq!(error_message(&deep).len(), 200);
    }
}
