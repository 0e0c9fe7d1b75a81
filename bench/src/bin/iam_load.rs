//! `iamlet-iam-load`: mutating calls against Iamlet's IAM API, signed with SigV4 (the `aws-sigv4`
//! crate, as the AWS SDKs sign), by C callers each with one call in flight over its own keep-alive
//! connection (closed loop), and reports calls per second and latency percentiles as one JSON line.
//!
//! Actions: `create-user` (`{prefix}-{n}`), `put-user-policy` (16 small inline policies per user),
//! `attach-user-policy` (the AWS managed policies in turn, 7 per user), `tag-user` (50 tags per user),
//! `add-user-to-group` (10 groups per user), and `authorization-details` (one call is a walk of every
//! page of `GetAccountAuthorizationDetails`). The users and groups the calls need are created first,
//! outside the measurement. Every call must succeed: a failure ends the run with its answer.
//!
//! The credentials come from `IAMLET_ACCESS_KEY_ID` and `IAMLET_SECRET_ACCESS_KEY`.

use anyhow::{bail, Context as _};
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use bytes::Bytes;
use clap::Parser;
use hdrhistogram::Histogram;
use http_body_util::{BodyExt as _, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The AWS managed policies attached in turn (each user takes at most 10 managed policies).
const MANAGED: [&str; 7] = [
    "arn:aws:iam::aws:policy/AdministratorAccess",
    "arn:aws:iam::aws:policy/PowerUserAccess",
    "arn:aws:iam::aws:policy/ReadOnlyAccess",
    "arn:aws:iam::aws:policy/IAMFullAccess",
    "arn:aws:iam::aws:policy/IAMReadOnlyAccess",
    "arn:aws:iam::aws:policy/AmazonS3FullAccess",
    "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
];

#[derive(Debug, Parser)]
#[command(name = "iamlet-iam-load", about)]
struct Args {
    /// The IAM API's address (`host:port`).
    #[arg(long, default_value = "127.0.0.1:9194")]
    target: String,
    /// `create-user`, `put-user-policy`, `attach-user-policy`, `tag-user`, `add-user-to-group`
    /// or `authorization-details`.
    #[arg(long)]
    action: String,
    /// Callers, each with one call in flight on its own connection.
    #[arg(long, default_value_t = 1)]
    concurrency: usize,
    /// Calls to make.
    #[arg(long, default_value_t = 1000)]
    count: u64,
    /// Names start with it: a run's names are its own.
    #[arg(long, default_value = "load")]
    prefix: String,
    /// `GetAccountAuthorizationDetails` page size.
    #[arg(long, default_value_t = 1000)]
    max_items: u32,
}

/// One caller's connection, and how it signs.
struct Caller {
    sender: SendRequest<Full<Bytes>>,
    host: String,
    credentials: Credentials,
}

impl Caller {
    async fn connect(target: &str, credentials: &Credentials) -> anyhow::Result<Caller> {
        let stream = tokio::net::TcpStream::connect(target)
            .await
            .with_context(|| format!("connecting to {target}"))?;
        stream.set_nodelay(true)?;
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(conn);
        Ok(Caller {
            sender,
            host: target.to_owned(),
            credentials: credentials.clone(),
        })
    }

    /// One signed call: the answer's body, or the failure with its answer.
    async fn call(&mut self, params: &[(&str, &str)]) -> anyhow::Result<String> {
        let body: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params)
            .finish();
        let uri = format!("http://{}/", self.host);
        let content_type = "application/x-www-form-urlencoded; charset=utf-8";
        let identity = self.credentials.clone().into();
        let signing = v4::SigningParams::builder()
            .identity(&identity)
            .region("us-east-1")
            .name("iam")
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()?
            .into();
        let headers = [("host", self.host.as_str()), ("content-type", content_type)];
        let signable = SignableRequest::new(
            "POST",
            uri.as_str(),
            headers.into_iter(),
            SignableBody::Bytes(body.as_bytes()),
        )?;
        let (instructions, _) = sign(signable, &signing)?.into_parts();
        let mut request = http::Request::builder()
            .method("POST")
            .uri(&uri)
            .header("host", &self.host)
            .header("content-type", content_type)
            .body(Full::new(Bytes::from(body)))?;
        instructions.apply_to_request_http1x(&mut request);
        self.sender.ready().await?;
        let response = self.sender.send_request(request).await?;
        let status = response.status();
        let text =
            String::from_utf8_lossy(&response.into_body().collect().await?.to_bytes()).into_owned();
        if !status.is_success() {
            bail!("{status}: {text}");
        }
        Ok(text)
    }
}

/// The parameters of call `n` of an action.
fn params(action: &str, prefix: &str, n: u64) -> anyhow::Result<Vec<(&'static str, String)>> {
    let doc = |i: u64| {
        format!(
            r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b{i}/*"}}}}"#
        )
    };
    Ok(match action {
        "create-user" => vec![
            ("Action", "CreateUser".into()),
            ("UserName", format!("{prefix}-{n}")),
        ],
        "put-user-policy" => vec![
            ("Action", "PutUserPolicy".into()),
            ("UserName", format!("{prefix}-p{}", n / 16)),
            ("PolicyName", format!("p{}", n % 16)),
            ("PolicyDocument", doc(n)),
        ],
        "attach-user-policy" => vec![
            ("Action", "AttachUserPolicy".into()),
            ("UserName", format!("{prefix}-a{}", n / 7)),
            ("PolicyArn", MANAGED[usize::try_from(n % 7)?].into()),
        ],
        "tag-user" => vec![
            ("Action", "TagUser".into()),
            ("UserName", format!("{prefix}-t{}", n / 50)),
            ("Tags.member.1.Key", format!("k{}", n % 50)),
            ("Tags.member.1.Value", n.to_string()),
        ],
        "add-user-to-group" => vec![
            ("Action", "AddUserToGroup".into()),
            ("UserName", format!("{prefix}-m{}", n / 10)),
            ("GroupName", format!("{prefix}-g{}", n % 10)),
        ],
        other => bail!("unknown action `{other}`"),
    })
}

/// The users and groups the calls act on, made before measuring.
async fn prepare(caller: &mut Caller, args: &Args) -> anyhow::Result<()> {
    let p = &args.prefix;
    let (letter, per_user) = match args.action.as_str() {
        "put-user-policy" => ("p", 16),
        "attach-user-policy" => ("a", 7),
        "tag-user" => ("t", 50),
        "add-user-to-group" => ("m", 10),
        _ => return Ok(()),
    };
    if args.action == "add-user-to-group" {
        for g in 0..10 {
            let name = format!("{p}-g{g}");
            caller
                .call(&[
                    ("Action", "CreateGroup"),
                    ("Version", "2010-05-08"),
                    ("GroupName", &name),
                ])
                .await?;
        }
    }
    for u in 0..args.count.div_ceil(per_user) {
        let name = format!("{p}-{letter}{u}");
        caller
            .call(&[
                ("Action", "CreateUser"),
                ("Version", "2010-05-08"),
                ("UserName", &name),
            ])
            .await?;
    }
    Ok(())
}

/// Every page of `GetAccountAuthorizationDetails`: how many pages.
async fn walk(caller: &mut Caller, max_items: u32) -> anyhow::Result<u64> {
    let max = max_items.to_string();
    let mut marker: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut p = vec![
            ("Action", "GetAccountAuthorizationDetails"),
            ("Version", "2010-05-08"),
            ("MaxItems", max.as_str()),
        ];
        if let Some(m) = &marker {
            p.push(("Marker", m.as_str()));
        }
        let text = caller.call(&p).await?;
        pages += 1;
        marker = element(&text, "Marker");
        if element(&text, "IsTruncated").as_deref() != Some("true") {
            return Ok(pages);
        }
        if marker.is_none() {
            bail!("a truncated page without a Marker");
        }
    }
}

/// The text of the first `<name>` element (markers are hex: nothing to unescape).
fn element(xml: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find('<')? + start;
    Some(xml[start..end].to_owned())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let credentials = Credentials::new(
        std::env::var("IAMLET_ACCESS_KEY_ID").context("IAMLET_ACCESS_KEY_ID")?,
        std::env::var("IAMLET_SECRET_ACCESS_KEY").context("IAMLET_SECRET_ACCESS_KEY")?,
        None,
        None,
        "iamlet-iam-load",
    );
    let mut setup = Caller::connect(&args.target, &credentials).await?;
    prepare(&mut setup, &args).await?;
    let next = Arc::new(AtomicU64::new(0));
    let histogram = Arc::new(Mutex::new(Histogram::<u64>::new_with_bounds(
        1, 60_000_000, 3,
    )?));
    let pages = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..args.concurrency.max(1) {
        let mut caller = Caller::connect(&args.target, &credentials).await?;
        let (next, histogram, pages) = (next.clone(), histogram.clone(), pages.clone());
        let (action, prefix, count, max_items) = (
            args.action.clone(),
            args.prefix.clone(),
            args.count,
            args.max_items,
        );
        tasks.push(tokio::spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= count {
                    return anyhow::Ok(());
                }
                let t = Instant::now();
                if action == "authorization-details" {
                    pages.fetch_add(walk(&mut caller, max_items).await?, Ordering::Relaxed);
                } else {
                    let mut p = params(&action, &prefix, n)?;
                    p.push(("Version", "2010-05-08".into()));
                    let borrowed: Vec<(&str, &str)> =
                        p.iter().map(|(k, v)| (*k, v.as_str())).collect();
                    caller
                        .call(&borrowed)
                        .await
                        .with_context(|| format!("call {n} of {action}"))?;
                }
                let micros = u64::try_from(t.elapsed().as_micros()).unwrap_or(u64::MAX);
                histogram
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .saturating_record(micros.max(1));
            }
        }));
    }
    for t in tasks {
        t.await??;
    }
    let seconds = started.elapsed().as_secs_f64();
    let h = histogram.lock().unwrap_or_else(PoisonError::into_inner);
    let ms = |q: f64| Duration::from_micros(h.value_at_quantile(q)).as_secs_f64() * 1000.0;
    println!(
        "{}",
        serde_json::json!({
            "action": args.action,
            "concurrency": args.concurrency,
            "calls": h.len(),
            "seconds": seconds,
            "per_second": h.len() as f64 / seconds,
            "p50_ms": ms(0.5),
            "p99_ms": ms(0.99),
            "max_ms": Duration::from_micros(h.max()).as_secs_f64() * 1000.0,
            "pages": pages.load(Ordering::Relaxed),
        })
    );
    Ok(())
}
