//! Accepting connections without letting clients exhaust the process: each listener holds at most
//! `max_connections` connections (more wait in the kernel's backlog until one closes), a failed
//! `accept` (out of file descriptors, say) is retried after a growing pause instead of at once, and
//! at start the process's soft limit on open files is raised to its hard limit, as Envoy and Go's
//! runtime do. HTTP/1 connections also get a header-read timeout (`serve_http`), which closes
//! slow-loris clients and idle keep-alive connections alike.
//!
//! Every listener has its own limit: a flood of half-sent requests on the HTTP port leaves the gRPC
//! port, the admin port's `/healthz` and STS answering.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The first pause after a failed `accept`; it doubles up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(5);
const MAX_BACKOFF: Duration = Duration::from_secs(1);

/// A listener that holds at most a number of connections.
#[derive(Debug)]
pub(crate) struct Acceptor {
    listener: TcpListener,
    permits: Arc<Semaphore>,
    name: &'static str,
}

impl Acceptor {
    /// `name` labels the listener in logs.
    pub(crate) fn new(listener: TcpListener, max_connections: usize, name: &'static str) -> Self {
        Acceptor {
            listener,
            permits: Arc::new(Semaphore::new(max_connections.max(1))),
            name,
        }
    }

    /// The next connection, once the listener is under its limit; errors are backed off and
    /// retried (never returned, never a busy loop). Small answers must not wait for the client's
    /// delayed ACK, so Nagle's algorithm is off.
    pub(crate) async fn accept(&self) -> Permitted<TcpStream> {
        let permit = match self.permits.clone().acquire_owned().await {
            Ok(p) => p,
            // The semaphore is never closed; were it, the listener would stop here.
            Err(_) => std::future::pending().await,
        };
        let mut backoff = FIRST_BACKOFF;
        loop {
            match self.listener.accept().await {
                Ok((stream, peer)) => {
                    let _ = stream.set_nodelay(true);
                    return Permitted {
                        io: stream,
                        peer,
                        vectored: true,
                        _permit: permit,
                    };
                }
                Err(e) => {
                    tracing::warn!(listener = self.name, error = %e, pause = ?backoff, "accept failed; pausing");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
    }
}

/// A connection holding one of its listener's places until it is dropped.
#[derive(Debug)]
pub(crate) struct Permitted<IO> {
    pub(crate) io: IO,
    pub(crate) peer: SocketAddr,
    /// What the connection tells its protocol's codec about vectored writes (see
    /// [`Permitted::coalescing`]); the socket writes vectors either way.
    vectored: bool,
    _permit: OwnedSemaphorePermit,
}

impl<IO> Permitted<IO> {
    /// For HTTP/2 (gRPC): tells the codec this connection writes one buffer at a time. h2 keeps a
    /// DATA frame of 256 bytes or more aside when the connection writes vectors, and buffers no
    /// further frame until that one is written, so every gRPC answer over 256 bytes (Iamlet's,
    /// with the principal, the decision id and the dynamic metadata, are about 300) left in a
    /// write of its own. Told otherwise, h2 copies frames under 1 KiB into its buffer, and the
    /// answers to the checks in flight on a connection leave together: half the writes per check
    /// (BENCHMARKS.md, "Issue 23, fourth pass").
    pub(crate) fn coalescing(mut self) -> Self {
        self.vectored = false;
        self
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for Permitted<IO> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for Permitted<IO> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.vectored && self.io.is_write_vectored()
    }
}

impl tonic::transport::server::Connected for Permitted<TcpStream> {
    type ConnectInfo = tonic::transport::server::TcpConnectInfo;

    fn connect_info(&self) -> Self::ConnectInfo {
        self.io.connect_info()
    }
}

/// Raises the soft limit on open files to the hard limit (a sidecar's connections and files are
/// its own business, within what the operator allows); returns the limit in force (`None`:
/// unlimited, or not a Unix system).
pub fn raise_open_files_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
        let limit = getrlimit(Resource::Nofile);
        let raised = Rlimit {
            current: limit.maximum,
            maximum: limit.maximum,
        };
        if limit.current != limit.maximum && setrlimit(Resource::Nofile, raised).is_ok() {
            return limit.maximum;
        }
        limit.current
    }
    #[cfg(not(unix))]
    {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt as _;

    /// gRPC connections tell h2 they write one buffer at a time (so answers to concurrent checks
    /// share writes); the other listeners' connections pass the socket's own answer on.
    #[tokio::test]
    async fn only_coalescing_connections_deny_vectored_writes() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let acceptor = Acceptor::new(listener, 2, "test");
        let _client = TcpStream::connect(addr).await.unwrap();
        let plain = acceptor.accept().await;
        assert_eq!(plain.is_write_vectored(), plain.io.is_write_vectored());
        assert!(
            plain.io.is_write_vectored(),
            "tokio's TcpStream writes vectors"
        );
        assert!(!plain.coalescing().is_write_vectored());
    }

    /// Found by the security review: nothing capped connections. The listener holds at most its
    /// limit; the next client is accepted only when one closes.
    #[tokio::test]
    async fn a_listener_holds_at_most_its_limit() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let acceptor = Arc::new(Acceptor::new(listener, 2, "test"));
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let a = acceptor.clone();
        tokio::spawn(async move {
            loop {
                let conn = a.accept().await;
                if tx.send(conn).is_err() {
                    break;
                }
            }
        });
        let mut clients = Vec::new();
        for _ in 0..3 {
            clients.push(TcpStream::connect(addr).await.unwrap());
        }
        let first = rx.recv().await.unwrap();
        let _second = rx.recv().await.unwrap();
        // The third waits in the backlog.
        assert!(tokio::time::timeout(Duration::from_millis(200), rx.recv())
            .await
            .is_err());
        drop(first);
        let third = tokio::time::timeout(Duration::from_secs(5), rx.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(third.peer.ip(), addr.ip());
        clients[2].shutdown().await.unwrap();
    }

    #[test]
    fn the_open_files_limit_is_raised_to_the_hard_limit() {
        let limit = raise_open_files_limit();
        #[cfg(unix)]
        {
            let now = rustix::process::getrlimit(rustix::process::Resource::Nofile);
            assert_eq!(now.current, now.maximum);
            assert_eq!(limit, now.current);
        }
        #[cfg(not(unix))]
        assert_eq!(limit, None);
    }
}
