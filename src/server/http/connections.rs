//! Connections: accept, the TLS handshake when serving HTTPS, then HTTP/1.1 or HTTP/2 (HTTP/2
//! over TLS by ALPN, or by its preface in the clear), until the server stops.
//!
//! This replaces `axum::serve` for what it cannot do: a time limit on reading a request's
//! headers (so a client sending them a byte a second cannot hold a connection), a time limit on
//! the TLS handshake, and TLS itself. Each request carries the peer's address as
//! [`ConnectInfo`], for the per-address limits.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tower::ServiceExt;

/// How long in-flight requests get to finish once the server stops.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// The most read from a connection before hyper takes it over.
const FIRST_READ: usize = 4096;
/// HTTP/2 pings an idle connection this often, and drops it when a ping goes unanswered.
const HTTP2_KEEP_ALIVE: Duration = Duration::from_secs(20);

/// How connections are served.
#[derive(Clone)]
pub struct ConnectionSettings {
    /// Time allowed for a request's headers (and for a TLS handshake) to arrive.
    pub header_timeout: Duration,
    /// HTTPS when set.
    pub tls: Option<Arc<ServerConfig>>,
}

/// Serves `router` on `listener` until `stop` completes, then lets in-flight requests finish
/// (up to [`SHUTDOWN_GRACE`]).
pub async fn serve_connections(
    listener: TcpListener,
    router: Router,
    settings: ConnectionSettings,
    stop: impl Future<Output = ()>,
) {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(settings.header_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(HTTP2_KEEP_ALIVE)
        .keep_alive_timeout(HTTP2_KEEP_ALIVE);
    let builder = Arc::new(builder);
    let acceptor = settings.tls.map(TlsAcceptor::from);
    let graceful = GracefulShutdown::new();
    tokio::pin!(stop);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: wait rather than spin.
                    tracing::warn!(%error, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        let _ = stream.set_nodelay(true);
        let service = router
            .clone()
            .map_request(move |mut request: http::Request<Incoming>| {
                request.extensions_mut().insert(ConnectInfo(peer));
                request
            });
        let connection = Connection {
            builder: builder.clone(),
            service: TowerToHyperService::new(service),
            watcher: graceful.watcher(),
            header_timeout: settings.header_timeout,
            peer,
        };
        match &acceptor {
            Some(acceptor) => {
                let acceptor = acceptor.clone();
                tokio::spawn(connection.serve_tls(stream, acceptor));
            }
            None => {
                tokio::spawn(connection.serve(stream));
            }
        }
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(SHUTDOWN_GRACE) => {
            tracing::warn!("requests still running after {SHUTDOWN_GRACE:?}: closing them");
        }
    }
}

/// One accepted connection, about to be served.
struct Connection<S> {
    builder: Arc<auto::Builder<TokioExecutor>>,
    service: S,
    watcher: hyper_util::server::graceful::Watcher,
    header_timeout: Duration,
    peer: SocketAddr,
}

impl<S> Connection<S>
where
    S: hyper::service::Service<http::Request<Incoming>, Response = axum::response::Response>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    S::Error: std::error::Error + Send + Sync + 'static,
{
    async fn serve_tls(self, stream: TcpStream, acceptor: TlsAcceptor) {
        let handshake = tokio::time::timeout(self.header_timeout, acceptor.accept(stream)).await;
        match handshake {
            Ok(Ok(stream)) => self.serve(stream).await,
            Ok(Err(error)) => {
                tracing::debug!(peer = %self.peer, %error, "TLS handshake failed");
            }
            Err(_) => tracing::debug!(peer = %self.peer, "TLS handshake timed out"),
        }
    }

    async fn serve<I>(self, mut stream: I)
    where
        I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        // Hyper's header timeout starts once it knows the protocol, which it learns from the
        // first bytes: a client that sends nothing at all is held to the same limit here.
        let mut first = vec![0; FIRST_READ];
        let read = match tokio::time::timeout(self.header_timeout, stream.read(&mut first)).await {
            Ok(Ok(read)) if read > 0 => read,
            Ok(_) => return,
            Err(_) => {
                tracing::debug!(peer = %self.peer, "no request within the header timeout");
                return;
            }
        };
        first.truncate(read);
        let stream = Prefixed {
            prefix: first,
            position: 0,
            inner: stream,
        };
        let connection = self
            .builder
            .serve_connection_with_upgrades(TokioIo::new(stream), self.service);
        if let Err(error) = self.watcher.watch(connection.into_owned()).await {
            // Clients going away mid-request, header timeouts: routine, so only at debug.
            tracing::debug!(peer = %self.peer, %error, "connection ended with an error");
        }
    }
}

/// A stream whose first bytes were already read: they are read again first.
struct Prefixed<I> {
    prefix: Vec<u8>,
    position: usize,
    inner: I,
}

impl<I: AsyncRead + Unpin> AsyncRead for Prefixed<I> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = &mut *self;
        if this.position < this.prefix.len() {
            let rest = &this.prefix[this.position..];
            let n = rest.len().min(buf.remaining());
            buf.put_slice(&rest[..n]);
            this.position += n;
            if this.position == this.prefix.len() {
                this.prefix = Vec::new();
                this.position = 0;
            }
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for Prefixed<I> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_prefixed_stream_reads_its_prefix_first() {
        let (mut client, server) = tokio::io::duplex(64);
        let mut stream = Prefixed {
            prefix: b"GET ".to_vec(),
            position: 0,
            inner: server,
        };
        tokio::io::AsyncWriteExt::write_all(&mut client, b"/ HTTP/1.1")
            .await
            .unwrap();
        drop(client);
        let mut all = String::new();
        stream.read_to_string(&mut all).await.unwrap();
        assert_eq!(all, "GET / HTTP/1.1");
    }
}
