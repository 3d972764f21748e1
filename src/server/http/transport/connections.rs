//! Connections: accept, the TLS handshake when serving HTTPS, then HTTP/1.1 or HTTP/2 (HTTP/2
//! over TLS by ALPN, or by its preface in the clear), until the server stops.
//!
//! This replaces `axum::serve` for what it cannot do: a time limit on reading a request's
//! headers and then its body (so a client sending them a byte a second cannot hold a
//! connection), a time limit on the TLS handshake, a connection that stops reading what it is
//! sent dropped after a while (so a stalled reader holds no memory for long), a cap on the
//! connections one address holds, and TLS itself. Each request carries the peer's address as
//! [`ConnectInfo`], for the per-address limits.

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use bytes::Bytes;
use http_body::Frame;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::{Instant, Sleep};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tower::ServiceExt;

use super::stream_connections;
use crate::server::live::seat::Seat;

/// How long in-flight requests get to finish once the server stops.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// The most read from a connection before hyper takes it over.
const FIRST_READ: usize = 4096;
/// HTTP/2 pings an idle connection this often, and drops it when a ping goes unanswered.
const HTTP2_KEEP_ALIVE: Duration = Duration::from_secs(20);
/// A connection with no byte read or written for this long is closed (a kept-alive HTTP/1.1
/// connection that sends no next request; event streams write a heartbeat every 10 s).
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// The kernel's send buffer per connection. Left to grow by itself it takes a whole `.wasm`
/// (1.4 MB) for a client that reads nothing, and the stall never reaches the write timeout;
/// bounded, a stalled reader is seen and dropped. (Linux doubles it for its bookkeeping.)
const SEND_BUFFER: usize = 128 * 1024;

/// How connections are served.
#[derive(Clone)]
pub struct ConnectionSettings {
    /// Time allowed for a request's headers (and for a TLS handshake) to arrive, and then as
    /// much again for its body.
    pub header_timeout: Duration,
    /// A connection whose client reads nothing of what it is sent for this long is dropped.
    pub write_timeout: Duration,
    /// Connections one client address may hold at once (0: unlimited).
    pub connections_per_address: usize,
    /// Connections the whole process may hold (the open-files limit less a reserve): past
    /// it, a connection is answered 503 with `Retry-After` and closed.
    pub max_connections: usize,
    /// HTTPS when set.
    pub tls: Option<Arc<ServerConfig>>,
    /// Threads of a runtime of their own for event streams, apart from the threads that answer
    /// requests (0: streams share the request threads).
    pub stream_threads: usize,
}

/// Where event streams run: on threads of their own, so that a word's fan-out to thousands of
/// streams (each woken, each written) never queues the next request behind it; the operating
/// system shares the cores between the two fairly, and a request's thread, which mostly
/// sleeps, is scheduled at once when one arrives.
struct StreamThreads(Option<tokio::runtime::Runtime>);

impl StreamThreads {
    fn start(threads: usize) -> StreamThreads {
        if threads == 0 {
            return StreamThreads(None);
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .thread_name("frase-streams")
            .enable_all()
            .build();
        match runtime {
            Ok(runtime) => StreamThreads(Some(runtime)),
            Err(error) => {
                tracing::warn!(%error, "cannot start the event streams' threads: they share the request threads");
                StreamThreads(None)
            }
        }
    }

    fn handle(&self) -> Option<tokio::runtime::Handle> {
        self.0.as_ref().map(|runtime| runtime.handle().clone())
    }
}

impl Drop for StreamThreads {
    /// Without waiting: by now every stream has ended (the server waited for them), and a
    /// runtime may not block while dropped inside another.
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
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
    let mut http1 = http1::Builder::new();
    http1
        .timer(TokioTimer::new())
        .header_read_timeout(settings.header_timeout);
    let builders = Arc::new(Builders {
        either: builder,
        http1,
    });
    let acceptor = settings.tls.map(TlsAcceptor::from);
    let stream_threads = StreamThreads::start(settings.stream_threads);
    let graceful = GracefulShutdown::new();
    let per_address = ConnectionsPerAddress::new(settings.connections_per_address);
    let all = OpenConnections::new(settings.max_connections);
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
        // Past what the open-files limit leaves room for: told so, and closed.
        let Some(open) = all.take() else {
            if acceptor.is_none() {
                tokio::spawn(answer_busy(stream));
            }
            continue;
        };
        // Over its address's cap: closed at once, before it costs more than its socket.
        let Some(slot) = per_address.take(peer.ip()) else {
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let _ = socket2::SockRef::from(&stream).set_send_buffer_size(SEND_BUFFER);
        let body_timeout = settings.header_timeout;
        let service = router
            .clone()
            .map_request(move |request: http::Request<Incoming>| {
                let (mut parts, body) = request.into_parts();
                parts.extensions.insert(ConnectInfo(peer));
                // Most requests (every GET) have no body, and need no clock.
                let body = if http_body::Body::is_end_stream(&body) {
                    Body::new(body)
                } else {
                    Body::new(BodyDeadline::new(body, body_timeout))
                };
                http::Request::from_parts(parts, body)
            });
        let connection = Connection {
            builders: builders.clone(),
            router: router.clone(),
            service: TowerToHyperService::new(service),
            watcher: graceful.watcher(),
            streams: stream_threads.handle(),
            header_timeout: settings.header_timeout,
            write_timeout: settings.write_timeout,
            peer,
            _slot: slot,
            _open: open,
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

/// What a connection past [`ConnectionSettings::max_connections`] is told: 503, try again in a
/// few seconds. (Over HTTPS it is closed without a word: answering would take a handshake.)
async fn answer_busy(mut stream: TcpStream) {
    const BODY: &str = "{\"type\":\"urn:frase:problem:unavailable\",\"title\":\"Service Unavailable\",\
        \"status\":503,\"detail\":\"The server holds as many connections as it can; try again in a \
        moment.\",\"code\":\"unavailable\"}";
    let response = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/problem+json\r\n\
         retry-after: {BUSY_RETRY_SECONDS}\r\ncache-control: no-store\r\nconnection: close\r\n\
         content-length: {}\r\n\r\n{BODY}",
        BODY.len()
    );
    // Read the request's head first: closing with it unread would reset the connection, and
    // the client might never see the answer.
    let mut head = [0u8; FIRST_READ];
    let _ = tokio::time::timeout(Duration::from_secs(1), stream.read(&mut head)).await;
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        use tokio::io::AsyncWriteExt;
        stream.write_all(response.as_bytes()).await?;
        stream.shutdown().await
    })
    .await;
}

/// The `Retry-After` of a connection refused for want of file descriptors.
const BUSY_RETRY_SECONDS: u64 = 5;

/// The connections open in the whole process, against its cap.
#[derive(Clone)]
struct OpenConnections {
    cap: usize,
    open: Arc<std::sync::atomic::AtomicUsize>,
    /// Whether refusals were logged since the count last went under the cap.
    refusing: Arc<std::sync::atomic::AtomicBool>,
}

impl OpenConnections {
    fn new(cap: usize) -> OpenConnections {
        OpenConnections {
            cap: cap.max(1),
            open: Arc::default(),
            refusing: Arc::default(),
        }
    }

    fn take(&self) -> Option<OpenSlot> {
        use std::sync::atomic::Ordering;
        if self.open.fetch_add(1, Ordering::SeqCst) >= self.cap {
            self.open.fetch_sub(1, Ordering::SeqCst);
            if !self.refusing.swap(true, Ordering::SeqCst) {
                tracing::warn!(
                    cap = self.cap,
                    "as many connections open as the open-files limit leaves room for; \
                     answering new ones 503 (raise `ulimit -n`)"
                );
            }
            return None;
        }
        Some(OpenSlot(self.clone()))
    }
}

/// One connection's place in the process's count, given back on drop.
struct OpenSlot(OpenConnections);

impl Drop for OpenSlot {
    fn drop(&mut self) {
        use std::sync::atomic::Ordering;
        let open = self.0.open.fetch_sub(1, Ordering::SeqCst) - 1;
        // Logged again only once the count has come well under the cap.
        if open < self.0.cap - self.0.cap / 10 {
            self.0.refusing.store(false, Ordering::SeqCst);
        }
    }
}

/// How connections are served: HTTP/1.1 or HTTP/2, told apart by their first bytes.
struct Builders {
    /// Either protocol: reads the first bytes again to tell which.
    either: auto::Builder<TokioExecutor>,
    /// HTTP/1.1 only, for a connection whose first bytes are not HTTP/2's preface.
    http1: http1::Builder,
}

/// What every HTTP/2 connection opens with (RFC 9113, 3.4).
const HTTP2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// One accepted connection, about to be served.
struct Connection<S> {
    builders: Arc<Builders>,
    /// For a connection that opens an event stream (see [`stream_connections`]).
    router: Router,
    /// Where an event stream runs (`None`: here).
    streams: Option<tokio::runtime::Handle>,
    service: S,
    watcher: hyper_util::server::graceful::Watcher,
    header_timeout: Duration,
    write_timeout: Duration,
    peer: SocketAddr,
    /// Held while the connection lives: its place in its address's count.
    _slot: AddressSlot,
    /// And in the process's.
    _open: OpenSlot,
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
        I: AsyncRead + AsyncWrite + Abort + Unpin + Send + 'static,
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
        if let Some(request) = stream_connections::event_stream_request(&first) {
            drop(first);
            let Connection {
                router,
                streams,
                watcher,
                write_timeout,
                peer,
                _slot,
                _open,
                ..
            } = self;
            let serving = async move {
                // Made where it runs, so that its clock is that runtime's. No idle clock: an
                // event stream writes at least a heartbeat every few seconds, a client that
                // stops reading is caught by the write limit and one that leaves by the
                // stream's read probe, and moving a clock on at every write of a fan-out to
                // thousands of streams costs them all.
                let seat = stream.seat();
                let stream = Stalls::new(stream, write_timeout, None);
                // Held while the stream is open: a shutdown waits for it (the stream ends at
                // once), and so are the connection's places in the counts.
                let _held = (watcher, _slot, _open);
                stream_connections::serve_event_stream(stream, router, request, peer, seat).await;
            };
            // The socket stays with these threads' reactor, which only has work when a write
            // would block or the client closes; the writes themselves are made there.
            match streams {
                Some(streams) => drop(streams.spawn(serving)),
                None => serving.await,
            }
            return;
        }
        // A connection that cannot be HTTP/2 goes straight to HTTP/1.1. Telling the two apart
        // again in hyper (it reads the first 24 bytes, then hands them back) would make its read
        // buffer 16 KiB instead of 8 for as long as the connection lives: a third of what an
        // open event stream costs.
        let maybe_http2 = HTTP2_PREFACE.starts_with(&first[..first.len().min(HTTP2_PREFACE.len())]);
        let stream = Stalls::new(
            Prefixed {
                prefix: first,
                position: 0,
                inner: stream,
            },
            self.write_timeout,
            Some(IDLE_TIMEOUT),
        );
        let io = TokioIo::new(stream);
        let ended = if maybe_http2 {
            let connection = self.builders.either.serve_connection(io, self.service);
            // Boxed: HTTP/2's connection state is large, and would otherwise size the task of
            // every connection, HTTP/1.1 ones included.
            Box::pin(self.watcher.watch(connection.into_owned())).await
        } else {
            let connection = self.builders.http1.serve_connection(io, self.service);
            // Boxed too: inline, hyper's connection would size the task of every event stream
            // served without it.
            Box::pin(self.watcher.watch(connection))
                .await
                .map_err(Into::into)
        };
        if let Err(error) = ended {
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

/// The connections each client address holds, against a cap.
#[derive(Clone)]
struct ConnectionsPerAddress {
    cap: usize,
    /// Open connections by address; an address is removed when its last one closes.
    open: Arc<Mutex<HashMap<IpAddr, Held>>>,
}

#[derive(Default)]
struct Held {
    count: usize,
    /// Whether its refusals were logged since it last went under the cap.
    refusing: bool,
}

impl ConnectionsPerAddress {
    fn new(cap: usize) -> ConnectionsPerAddress {
        ConnectionsPerAddress {
            cap,
            open: Arc::default(),
        }
    }

    /// A slot for one more connection from `address`, or `None` when it holds its cap (logged
    /// once each time the address reaches it).
    fn take(&self, address: IpAddr) -> Option<AddressSlot> {
        let mut open = self
            .open
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let held = open.entry(address).or_default();
        if self.cap > 0 && held.count >= self.cap {
            if !held.refusing {
                held.refusing = true;
                tracing::warn!(
                    %address,
                    cap = self.cap,
                    "a client address holds its cap of connections; closing its new ones \
                     (--connections-per-address)"
                );
            }
            return None;
        }
        held.count += 1;
        Some(AddressSlot {
            address,
            open: self.clone(),
        })
    }
}

/// One connection's place in its address's count, given back on drop.
struct AddressSlot {
    address: IpAddr,
    open: ConnectionsPerAddress,
}

impl Drop for AddressSlot {
    fn drop(&mut self) {
        let mut open = self
            .open
            .open
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(held) = open.get_mut(&self.address) {
            held.count -= 1;
            held.refusing = false;
            if held.count == 0 {
                open.remove(&self.address);
            }
        }
    }
}

/// A request body that must arrive within a time limit from its request's head: a client that
/// trickles a body cannot hold its connection (and a file descriptor) for long.
struct BodyDeadline<B> {
    inner: B,
    deadline: Pin<Box<Sleep>>,
}

impl<B> BodyDeadline<B> {
    fn new(inner: B, limit: Duration) -> BodyDeadline<B> {
        BodyDeadline {
            inner,
            deadline: Box::pin(tokio::time::sleep_until(Instant::now() + limit)),
        }
    }
}

impl<B> http_body::Body for BodyDeadline<B>
where
    B: http_body::Body<Data = Bytes> + Unpin,
    B::Error: Into<axum::BoxError>,
{
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::BoxError>>> {
        let this = &mut *self;
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|frame| frame.map_err(Into::into)));
        }
        match this.deadline.as_mut().poll(cx) {
            Poll::Ready(()) => {
                Poll::Ready(Some(Err("the request body did not arrive in time".into())))
            }
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// A connection that can be closed at once, discarding what is queued for the client.
trait Abort {
    fn abort(&self);

    /// Its socket as an event stream's seat (`live::seat`), if the room can write to it as is
    /// (not through TLS).
    fn seat(&self) -> Option<Arc<Seat>> {
        None
    }
}

impl Abort for TcpStream {
    fn abort(&self) {
        // Closing with a zero linger resets the connection: the kernel drops the unsent bytes
        // rather than trickling them out to a reader that will never take them.
        let _ = socket2::SockRef::from(self).set_linger(Some(Duration::ZERO));
    }

    #[cfg(target_os = "linux")]
    fn seat(&self) -> Option<Arc<Seat>> {
        Some(Seat::new(Box::new(stream_connections::SocketFd::of(self))))
    }
}

impl Abort for tokio_rustls::server::TlsStream<TcpStream> {
    fn abort(&self) {
        self.get_ref().0.abort();
    }
}

impl<I: Abort> Abort for Prefixed<I> {
    fn abort(&self) {
        self.inner.abort();
    }
}

#[cfg(test)]
impl Abort for tokio::io::DuplexStream {
    fn abort(&self) {}
}

/// A stream that fails once a write has waited longer than `write_limit` (a client that stops
/// reading, its socket buffer full: it is dropped, with what was queued for it), or once nothing
/// at all was read or written for `idle_limit`, if any (a connection kept alive with nothing to
/// say).
struct Stalls<I> {
    inner: I,
    write_limit: Duration,
    /// Running while a write waits.
    stalled: Option<Pin<Box<Sleep>>>,
    /// The idle limit, and its clock, moved on by every byte read or written.
    idle: Option<(Duration, Pin<Box<Sleep>>)>,
}

impl<I> Stalls<I> {
    fn new(inner: I, write_limit: Duration, idle_limit: Option<Duration>) -> Stalls<I> {
        Stalls {
            inner,
            write_limit,
            stalled: None,
            idle: idle_limit.map(|limit| (limit, Box::pin(tokio::time::sleep(limit)))),
        }
    }

    fn active(&mut self) {
        if let Some((limit, clock)) = &mut self.idle {
            clock.as_mut().reset(Instant::now() + *limit);
        }
    }

    /// After a read answered `progress`: moves the idle clock on, or fails once it has run out.
    fn watch_read(
        &mut self,
        cx: &mut Context<'_>,
        progress: Poll<std::io::Result<()>>,
    ) -> Poll<std::io::Result<()>> {
        if progress.is_ready() {
            self.active();
            return progress;
        }
        let Some((_, clock)) = &mut self.idle else {
            return Poll::Pending;
        };
        match clock.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "the connection was idle too long",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }

    /// After a write answered `progress`: clears the stall clock when it moved, and fails once
    /// the wait has lasted too long (the connection is then reset: see [`Abort`]).
    fn watch_write<T>(
        &mut self,
        cx: &mut Context<'_>,
        progress: Poll<std::io::Result<T>>,
    ) -> Poll<std::io::Result<T>>
    where
        I: Abort,
    {
        if progress.is_ready() {
            self.stalled = None;
            self.active();
            return progress;
        }
        let limit = self.write_limit;
        let clock = self
            .stalled
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        match clock.as_mut().poll(cx) {
            Poll::Ready(()) => {
                self.inner.abort();
                Poll::Ready(Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "the client stopped reading",
                )))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<I: AsyncRead + Unpin> AsyncRead for Stalls<I> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let progress = Pin::new(&mut self.inner).poll_read(cx, buf);
        self.watch_read(cx, progress)
    }
}

impl<I: AsyncWrite + Abort + Unpin> AsyncWrite for Stalls<I> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let progress = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.watch_write(cx, progress)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let progress = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.watch_write(cx, progress)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let progress = Pin::new(&mut self.inner).poll_flush(cx);
        self.watch_write(cx, progress)
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

    #[tokio::test(start_paused = true)]
    async fn a_reader_that_stops_reading_fails_the_writes_after_the_limit() {
        use tokio::io::AsyncWriteExt;
        let (client, server) = tokio::io::duplex(64);
        let mut stream = Stalls::new(
            server,
            Duration::from_secs(30),
            Some(Duration::from_secs(600)),
        );
        stream.write_all(&[0; 64]).await.unwrap();
        let started = Instant::now();
        let error = stream.write_all(&[0; 64]).await.unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::TimedOut);
        assert_eq!(started.elapsed(), Duration::from_secs(30));
        drop(client);
    }

    #[tokio::test(start_paused = true)]
    async fn a_reader_that_keeps_reading_is_never_cut() {
        use tokio::io::AsyncWriteExt;
        let (mut client, server) = tokio::io::duplex(64);
        let reader = tokio::spawn(async move {
            let mut buffer = [0; 16];
            let mut total = 0;
            while total < 64 * 20 {
                tokio::time::sleep(Duration::from_secs(5)).await;
                total += client.read(&mut buffer).await.unwrap();
            }
            total
        });
        let mut stream = Stalls::new(
            server,
            Duration::from_secs(30),
            Some(Duration::from_secs(600)),
        );
        // Slowly (16 bytes each 5 s: 400 s in all), but never stalled for 30 s.
        stream.write_all(&[0; 64 * 20]).await.unwrap();
        assert_eq!(reader.await.unwrap(), 64 * 20);
    }

    #[tokio::test(start_paused = true)]
    async fn a_connection_with_nothing_to_say_is_closed_when_idle() {
        use tokio::io::AsyncWriteExt;
        let (mut client, server) = tokio::io::duplex(64);
        let mut stream = Stalls::new(
            server,
            Duration::from_secs(30),
            Some(Duration::from_secs(60)),
        );
        // Talk keeps it open...
        for _ in 0..5 {
            tokio::time::sleep(Duration::from_secs(50)).await;
            client.write_all(b"x").await.unwrap();
            let mut byte = [0; 1];
            stream.read_exact(&mut byte).await.unwrap();
        }
        // ...silence closes it.
        let started = Instant::now();
        let mut byte = [0; 1];
        let error = stream.read(&mut byte).await.unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::TimedOut);
        assert_eq!(started.elapsed(), Duration::from_secs(60));
    }

    #[tokio::test(start_paused = true)]
    async fn without_an_idle_limit_silence_closes_nothing() {
        let (client, server) = tokio::io::duplex(64);
        let mut stream = Stalls::new(server, Duration::from_secs(30), None);
        let mut byte = [0; 1];
        let read = tokio::time::timeout(Duration::from_secs(3600), stream.read(&mut byte)).await;
        assert!(
            read.is_err(),
            "still open after an hour of silence: {read:?}"
        );
        drop(client);
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_must_arrive_within_the_limit() {
        use http_body_util::BodyExt;
        let (mut sender, body) =
            futures::channel::mpsc::channel::<Result<Frame<Bytes>, std::io::Error>>(4);
        let body = BodyDeadline::new(
            http_body_util::StreamBody::new(body),
            Duration::from_secs(10),
        );
        use futures::SinkExt;
        sender
            .send(Ok(Frame::data(Bytes::from_static(b"a"))))
            .await
            .unwrap();
        let started = Instant::now();
        let error = body.collect().await.unwrap_err();
        assert!(error.to_string().contains("in time"), "{error}");
        assert_eq!(started.elapsed(), Duration::from_secs(10));
        drop(sender);
    }

    #[test]
    fn an_address_holds_at_most_its_cap() {
        let counts = ConnectionsPerAddress::new(2);
        let (a, b): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        let first = counts.take(a).unwrap();
        let _second = counts.take(a).unwrap();
        assert!(counts.take(a).is_none(), "the third is refused");
        assert!(counts.take(b).is_some(), "another address is not");
        drop(first);
        assert!(counts.take(a).is_some(), "a closed one frees its place");
        let unlimited = ConnectionsPerAddress::new(0);
        let held: Vec<_> = (0..100).map(|_| unlimited.take(a).unwrap()).collect();
        assert_eq!(held.len(), 100);
        drop(held);
        assert!(unlimited.open.lock().unwrap().is_empty());
    }
}
