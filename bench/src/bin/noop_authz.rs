//! `iamlet-noop-authz`: the floor of the sidecar's benchmarks. An ext_authz server on the sidecar's
//! stack — the same runtime, allocator, listeners (no Nagle), tonic server with the same HTTP/2
//! keep-alive, hyper HTTP/1 with the same header timeout and buffer — that answers every check OK
//! without deciding anything. What it serves per second on a machine is what any authorizer on that
//! stack can serve at most; `bench/sidecar/run` measures it beside the sidecar in the same run, so
//! the sidecar's figures read as a share of the floor whatever the machine's day.

use anyhow::Context as _;
use clap::Parser;
use envoy_types::ext_authz::v3::pb::{
    Authorization, AuthorizationServer, CheckRequest, CheckResponse, HttpResponse, OkHttpResponse,
};
use envoy_types::pb::google::rpc;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tonic::transport::server::{Connected, TcpConnectInfo};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The sidecar's default `[limits] header_read_timeout`.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Parser)]
#[command(name = "iamlet-noop-authz", about)]
struct Args {
    /// The gRPC ext_authz address.
    #[arg(long, default_value = "127.0.0.1:9191")]
    grpc: SocketAddr,
    /// The HTTP ext_authz address.
    #[arg(long, default_value = "127.0.0.1:9192")]
    http: SocketAddr,
    /// Runtime worker threads (the sidecar's `[limits] worker_threads`; default one per core).
    #[arg(long)]
    workers: Option<usize>,
}

#[derive(Clone, Copy, Debug)]
struct Noop;

#[tonic::async_trait]
impl Authorization for Noop {
    async fn check(
        &self,
        _request: tonic::Request<CheckRequest>,
    ) -> Result<tonic::Response<CheckResponse>, tonic::Status> {
        Ok(tonic::Response::new(CheckResponse {
            status: Some(rpc::Status::default()),
            http_response: Some(HttpResponse::OkResponse(OkHttpResponse::default())),
            ..CheckResponse::default()
        }))
    }
}

/// A gRPC connection as the sidecar's (`Permitted::coalescing`): it tells h2 it writes one buffer
/// at a time, so h2 copies frames under 1 KiB into its buffer rather than flushing each DATA frame
/// of 256 bytes or more alone. The floor's answers are smaller than that: it writes as it did; the
/// wrapper keeps the two stacks alike.
struct Coalescing(TcpStream);

impl AsyncRead for Coalescing {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for Coalescing {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        false
    }
}

impl Connected for Coalescing {
    type ConnectInfo = TcpConnectInfo;

    fn connect_info(&self) -> TcpConnectInfo {
        self.0.connect_info()
    }
}

async fn serve_http(listener: TcpListener) {
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .max_buf_size(256 * 1024);
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(5)).await;
            continue;
        };
        let _ = stream.set_nodelay(true);
        let conn = builder.serve_connection(
            TokioIo::new(stream),
            service_fn(|_req| async {
                Ok::<_, std::convert::Infallible>(hyper::Response::new(http_body_util::Full::new(
                    bytes::Bytes::new(),
                )))
            }),
        );
        tokio::spawn(async move {
            let _ = conn.await;
        });
    }
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if let Some(n) = args.workers {
        builder.worker_threads(n.max(1));
    }
    let runtime = builder
        .enable_all()
        .build()
        .context("starting the runtime")?;
    runtime.block_on(async move {
        let grpc = TcpListener::bind(args.grpc)
            .await
            .with_context(|| format!("binding gRPC on {}", args.grpc))?;
        let http = TcpListener::bind(args.http)
            .await
            .with_context(|| format!("binding HTTP on {}", args.http))?;
        tokio::spawn(serve_http(http));
        // Accepted connections, Nagle off and writes coalesced, as the sidecar's listeners give
        // them to tonic.
        let incoming = futures_util::stream::unfold(grpc, |l| async move {
            let accepted = l.accept().await.map(|(s, _)| {
                let _ = s.set_nodelay(true);
                Coalescing(s)
            });
            Some((accepted, l))
        });
        eprintln!("noop ext_authz: gRPC {} HTTP {}", args.grpc, args.http);
        tonic::transport::Server::builder()
            .http2_keepalive_interval(Some(HEADER_READ_TIMEOUT))
            .http2_keepalive_timeout(Some(HEADER_READ_TIMEOUT))
            // The sidecar's defaults for `[limits] max_streams_per_connection` and reset streams.
            .max_concurrent_streams(100)
            .http2_max_local_error_reset_streams(Some(1024))
            .add_service(AuthorizationServer::new(Noop))
            .serve_with_incoming(incoming)
            .await
            .context("serving gRPC")
    })
}
