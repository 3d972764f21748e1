//! HTTP/1.1 connections that open an event stream, served without hyper's connection buffers.
//!
//! hyper gives every HTTP/1.1 connection an 8 KiB buffer for reading requests and another for
//! writing response heads, kept for as long as the connection lives, and its server offers no
//! way to make them smaller. An open event stream mostly waits: those 16 KiB were most of what
//! each one cost the server. So a connection whose first bytes are exactly one plain request for
//! an event stream (`GET /api/rooms/{slug}/events`, HTTP/1.1, no body, nothing after it) is
//! answered here: the request goes through the same router and layers as any other, its
//! response head is written once, and its body goes out as chunks written straight from the
//! room's shared frames until the stream ends; then the connection closes (the response says
//! so). Anything else, however slightly unusual, is left to hyper.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use bytes::Bytes;
use futures::{Stream, StreamExt};
use http::header::{CONNECTION, CONTENT_LENGTH, DATE, TRANSFER_ENCODING};
use http::{HeaderName, HeaderValue, Method, Request, Response, StatusCode, Uri, Version};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tower::ServiceExt;

use crate::server::live::seat::{self, Leave, Seat, SeatSocket};

/// The most header lines a request served here may have (more go to hyper).
const MOST_HEADERS: usize = 48;

/// `head` as a request for an event stream this module serves, or `None` for hyper to serve:
/// only a complete `GET` of `/api/rooms/{slug}/events` over HTTP/1.1 with one `Host`, no body,
/// no upgrade or `Expect`, and no bytes after its head.
pub fn event_stream_request(head: &[u8]) -> Option<Request<Body>> {
    let mut lines = [httparse::EMPTY_HEADER; MOST_HEADERS];
    let mut parsed = httparse::Request::new(&mut lines);
    let httparse::Status::Complete(length) = parsed.parse(head).ok()? else {
        return None;
    };
    if length != head.len() || parsed.method? != "GET" || parsed.version? != 1 {
        return None;
    }
    let target = parsed.path?;
    let path = target.split('?').next().unwrap_or(target);
    let room = path.strip_prefix("/api/rooms/")?.strip_suffix("/events")?;
    if room.is_empty() || room.contains('/') {
        return None;
    }
    let mut request = Request::new(Body::empty());
    *request.method_mut() = Method::GET;
    *request.version_mut() = Version::HTTP_11;
    *request.uri_mut() = Uri::try_from(target).ok()?;
    let headers = request.headers_mut();
    for line in parsed.headers.iter() {
        let name = HeaderName::from_bytes(line.name.as_bytes()).ok()?;
        let unusual = [CONTENT_LENGTH, TRANSFER_ENCODING, http::header::EXPECT].contains(&name)
            || name == http::header::UPGRADE;
        if unusual {
            return None;
        }
        headers.append(name, HeaderValue::from_bytes(line.value).ok()?);
    }
    if headers.get_all(http::header::HOST).iter().count() != 1 {
        return None;
    }
    Some(request)
}

/// An event stream's frames, offered to the connection that writes them (as an extension of the
/// response whose body they are). This module takes them and writes them itself: the layers
/// around the body (tracing, error mapping, each boxed) would only hand each frame on, and on
/// a fan-out to thousands of streams each of those steps is a cache miss per stream per event.
/// Served by hyper instead, the response's body (see [`DirectBody::new`]) polls them as usual.
#[derive(Clone)]
pub struct DirectBody(Arc<Mutex<Option<Frames>>>);

type Frames = Pin<Box<dyn Stream<Item = Result<Bytes, Infallible>> + Send>>;

impl DirectBody {
    /// `frames`, both offered and as the body of the response to offer them with.
    pub fn new(
        frames: impl Stream<Item = Result<Bytes, Infallible>> + Send + 'static,
    ) -> (DirectBody, Body) {
        let offered = DirectBody(Arc::new(Mutex::new(Some(Box::pin(frames)))));
        let body = Body::from_stream(Untaken::Offered(offered.clone()));
        (offered, body)
    }

    /// The frames, unless taken already (by the body, once polled).
    fn take(&self) -> Option<Frames> {
        self.0
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .take()
    }
}

/// The body of a response with a [`DirectBody`]: its frames, unless the connection took them.
enum Untaken {
    Offered(DirectBody),
    Taken(Frames),
}

impl Stream for Untaken {
    type Item = Result<Bytes, Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if let Untaken::Offered(offered) = &*self {
            match offered.take() {
                Some(frames) => *self = Untaken::Taken(frames),
                None => return Poll::Ready(None),
            }
        }
        match &mut *self {
            Untaken::Taken(frames) => frames.as_mut().poll_next(cx),
            Untaken::Offered(_) => Poll::Ready(None),
        }
    }
}

/// A connection's socket, written by its room's fan-out while the stream lends it
/// (`live::seat`).
#[cfg(target_os = "linux")]
pub struct SocketFd(std::os::fd::RawFd);

#[cfg(target_os = "linux")]
impl SocketFd {
    /// The socket of `stream`. It must outlive its seat's use: the connection makes the seat gone
    /// before it closes the socket ([`serve_event_stream`]).
    pub fn of(stream: &tokio::net::TcpStream) -> SocketFd {
        use std::os::fd::AsRawFd;
        SocketFd(stream.as_raw_fd())
    }
}

#[cfg(target_os = "linux")]
impl SeatSocket for SocketFd {
    fn try_send(&self, bytes: &[u8]) -> std::io::Result<usize> {
        // SAFETY: the descriptor is open: a seat is written only while lent, and its connection
        // makes it gone (waiting out a write in progress) before the socket closes. `bytes` is a
        // valid slice for the length given.
        let sent = unsafe {
            libc::send(
                self.0,
                bytes.as_ptr().cast(),
                bytes.len(),
                libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
            )
        };
        if sent < 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(sent as usize)
    }
}

/// Answers `request` on `io` through `router`, then closes the connection. Ends early when the
/// client goes away (its end of the connection closes) or a write fails. With a `seat` for
/// `io`'s socket, an event stream may lend it to its room while it waits (`live::seat`).
pub async fn serve_event_stream<I>(
    mut io: I,
    router: Router,
    mut request: Request<Body>,
    peer: SocketAddr,
    seat: Option<Arc<Seat>>,
) where
    I: AsyncRead + AsyncWrite + Unpin,
{
    // Dropped before `io` (a parameter) closes: nobody writes to the socket from then on.
    let _leave = seat.clone().map(Leave);
    request.extensions_mut().insert(ConnectInfo(peer));
    if let Some(seat) = &seat {
        request.extensions_mut().insert(seat.clone());
    }
    // Boxed: the layers' future is large, and is done with once the response is ready; inline,
    // it would size this connection's task for as long as the stream stays open.
    let Ok(response) = Box::pin(router.oneshot(request)).await;
    let (parts, body) = response.into_parts();
    // An event stream's own frames, when it offers them: written straight from it, rather than
    // through the layers that wrap its body and only pass the frames on.
    let direct = parts
        .extensions
        .get::<DirectBody>()
        .and_then(DirectBody::take);
    let bodiless =
        parts.status == StatusCode::NO_CONTENT || parts.status == StatusCode::NOT_MODIFIED;
    let length = if bodiless {
        None
    } else {
        http_body::Body::size_hint(&body).exact()
    };
    let chunked = !bodiless && length.is_none();
    // The room writes chunks of its frames, and only to a stream whose frames this writes.
    if let (Some(seat), Some(_), true) = (&seat, &direct, chunked) {
        seat.enable();
    }
    let head = response_head(&Response::from_parts(parts, ()), length, chunked);
    if io.write_all(&head).await.is_err() {
        return;
    }
    drop(head);
    let written = match direct {
        _ if bodiless => Ok(()),
        Some(frames) => {
            drop(body);
            write_body(&mut io, frames, chunked, seat.as_deref()).await
        }
        None => write_body(&mut io, body.into_data_stream(), chunked, None).await,
    };
    if written.is_err() {
        return;
    }
    let _ = io.shutdown().await;
}

/// The status line and header block of `response`, with `Date`, its length or chunked framing,
/// and `Connection: close`.
fn response_head(response: &Response<()>, length: Option<u64>, chunked: bool) -> Vec<u8> {
    let status = response.status();
    let mut head = Vec::with_capacity(512);
    head.extend_from_slice(b"HTTP/1.1 ");
    head.extend_from_slice(status.as_str().as_bytes());
    head.push(b' ');
    head.extend_from_slice(status.canonical_reason().unwrap_or("").as_bytes());
    head.extend_from_slice(b"\r\n");
    let framing = [CONTENT_LENGTH, TRANSFER_ENCODING, CONNECTION];
    for (name, value) in response.headers() {
        if framing.contains(name) {
            continue;
        }
        header_line(&mut head, name.as_str(), value.as_bytes());
    }
    if !response.headers().contains_key(DATE) {
        let now = httpdate::fmt_http_date(std::time::SystemTime::now());
        header_line(&mut head, "date", now.as_bytes());
    }
    if let Some(length) = length {
        header_line(&mut head, "content-length", length.to_string().as_bytes());
    }
    if chunked {
        header_line(&mut head, "transfer-encoding", b"chunked");
    }
    header_line(&mut head, "connection", b"close");
    head.extend_from_slice(b"\r\n");
    head
}

fn header_line(head: &mut Vec<u8>, name: &str, value: &[u8]) {
    head.extend_from_slice(name.as_bytes());
    head.extend_from_slice(b": ");
    head.extend_from_slice(value);
    head.extend_from_slice(b"\r\n");
}

/// Writes `body` as it comes, chunked or as is, each frame in one write, while watching the
/// connection: a client that closes its end (or sends anything else: this connection serves one
/// request) ends it.
///
/// An event stream that fell behind hands over what was waiting as one frame
/// (`live::stream`): it catches up in one system call instead of one per event, which is where
/// the time of a large fan-out goes (the kernel's TCP path, not this code). Looking here for
/// more after every frame would poll the whole body, and the room's channel under its lock,
/// once more per event on every stream.
///
/// What the room's fan-out left of a chunk it wrote in part to `seat`'s socket goes first.
async fn write_body<I, B, E>(
    io: &mut I,
    body: B,
    chunked: bool,
    seat: Option<&Seat>,
) -> std::io::Result<()>
where
    I: AsyncRead + AsyncWrite + Unpin,
    B: Stream<Item = Result<Bytes, E>>,
{
    let mut body = std::pin::pin!(body);
    let mut probe = [0u8; 16];
    loop {
        let frame = tokio::select! {
            frame = body.next() => frame,
            read = io.read(&mut probe) => match read {
                Ok(0) | Err(_) => return Err(std::io::ErrorKind::ConnectionAborted.into()),
                // Bytes after a request this connection answers with `close`: not read as one.
                Ok(_) => continue,
            },
        };
        if let Some(rest) = seat.and_then(Seat::take_pending) {
            io.write_all(&rest).await?;
        }
        let data = match frame {
            None => break,
            Some(Err(_)) => return Err(std::io::ErrorKind::Other.into()),
            // An empty chunk would read as the end.
            Some(Ok(data)) if data.is_empty() => continue,
            Some(Ok(data)) => data,
        };
        if !chunked {
            io.write_all(&data).await?;
            continue;
        }
        // One buffer, one `send`: a vectored write (`writev`) goes through the file layer first,
        // which costs a fan-out to thousands of streams more than copying a frame.
        io.write_all(&seat::chunk(&data)).await?;
    }
    if chunked {
        io.write_all(b"0\r\n\r\n").await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAIN: &str = "GET /api/rooms/main/events?last_event_id=3 HTTP/1.1\r\nHost: x\r\n\
                         Accept: text/event-stream\r\nLast-Event-ID: 4\r\n\r\n";

    #[test]
    fn a_plain_request_for_a_stream_is_served_here() {
        let request = event_stream_request(PLAIN.as_bytes()).expect("served here");
        assert_eq!(request.uri(), "/api/rooms/main/events?last_event_id=3");
        assert_eq!(request.headers()["last-event-id"], "4");
        assert_eq!(request.headers()["accept"], "text/event-stream");
    }

    #[test]
    fn anything_unusual_is_left_to_hyper() {
        let left = [
            // Not whole, or followed by more.
            "GET /api/rooms/main/events HTTP/1.1\r\nHost: x\r\n",
            &format!("{PLAIN}GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
            // Another method, path or version.
            "HEAD /api/rooms/main/events HTTP/1.1\r\nHost: x\r\n\r\n",
            "GET /api/rooms/main HTTP/1.1\r\nHost: x\r\n\r\n",
            "GET /api/rooms//events HTTP/1.1\r\nHost: x\r\n\r\n",
            "GET /api/rooms/a/b/events HTTP/1.1\r\nHost: x\r\n\r\n",
            "GET /api/rooms/main/events HTTP/1.0\r\nHost: x\r\n\r\n",
            // No host, two, a body, an upgrade, an expectation.
            "GET /api/rooms/main/events HTTP/1.1\r\n\r\n",
            "GET /api/rooms/main/events HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n",
            "GET /api/rooms/main/events HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
            "GET /api/rooms/main/events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
            "GET /api/rooms/main/events HTTP/1.1\r\nHost: x\r\nUpgrade: h2c\r\n\r\n",
            "GET /api/rooms/main/events HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n\r\n",
            // Not HTTP at all.
            "\x16\x03\x01\x02\x00",
        ];
        for head in left {
            assert!(event_stream_request(head.as_bytes()).is_none(), "{head:?}");
        }
    }

    /// Everything written on a connection that `router` serves [`PLAIN`] on.
    async fn written_for(router: Router) -> String {
        let (mut client, server) = tokio::io::duplex(4096);
        let request = event_stream_request(PLAIN.as_bytes()).unwrap();
        let peer: SocketAddr = "127.0.0.1:9".parse().unwrap();
        let serving = tokio::spawn(serve_event_stream(server, router, request, peer, None));
        let mut written = String::new();
        client.read_to_string(&mut written).await.unwrap();
        serving.await.unwrap();
        written
    }

    #[tokio::test]
    async fn a_stream_is_written_as_chunks_and_ends_with_the_last_one() {
        const FRAMES: [&str; 3] = ["retry: 1000\n\n", "", "event: x\ndata: 1\n\n"];
        let router = Router::new().route(
            "/api/rooms/{slug}/events",
            axum::routing::get(|| {
                let frames = futures::stream::iter(FRAMES).map(|text| {
                    Ok::<_, std::convert::Infallible>(bytes::Bytes::from_static(text.as_bytes()))
                });
                async move {
                    let mut response = Response::new(Body::from_stream(frames));
                    response.headers_mut().insert(
                        http::header::CONTENT_TYPE,
                        HeaderValue::from_static("text/event-stream"),
                    );
                    response
                }
            }),
        );
        let written = written_for(router).await;
        let (head, body) = written.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
        for line in [
            "content-type: text/event-stream",
            "transfer-encoding: chunked",
            "connection: close",
        ] {
            assert!(head.contains(line), "{line} in {head}");
        }
        assert!(head.contains("\r\ndate: "), "{head}");
        // Each frame a chunk of its own, the empty one none (it would read as the end).
        assert_eq!(
            body,
            "d\r\nretry: 1000\n\n\r\n12\r\nevent: x\ndata: 1\n\n\r\n0\r\n\r\n"
        );
    }

    /// Frames that say whether they were polled through the response's body.
    fn offered_frames() -> impl Stream<Item = Result<Bytes, Infallible>> + Send + 'static {
        futures::stream::iter(["retry: 1000\n\n", "event: x\ndata: 1\n\n"])
            .map(|text| Ok(Bytes::from_static(text.as_bytes())))
    }

    #[tokio::test]
    async fn offered_frames_are_written_from_the_stream_past_the_layers_around_the_body() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        // A layer that wraps the body, counting the frames that go through it.
        let through_layers = Arc::new(AtomicUsize::new(0));
        let counted = through_layers.clone();
        let router = Router::new()
            .route(
                "/api/rooms/{slug}/events",
                axum::routing::get(|| async {
                    let (frames, body) = DirectBody::new(offered_frames());
                    let mut response = Response::new(body);
                    response.extensions_mut().insert(frames);
                    response
                }),
            )
            .layer(axum::middleware::map_response(
                move |response: Response<Body>| {
                    let counted = counted.clone();
                    async move {
                        response.map(|body| {
                            Body::from_stream(body.into_data_stream().inspect(move |_| {
                                counted.fetch_add(1, Ordering::SeqCst);
                            }))
                        })
                    }
                },
            ));
        let written = written_for(router).await;
        let (_, body) = written.split_once("\r\n\r\n").unwrap();
        assert_eq!(
            body,
            "d\r\nretry: 1000\n\n\r\n12\r\nevent: x\ndata: 1\n\n\r\n0\r\n\r\n"
        );
        assert_eq!(through_layers.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn offered_frames_not_taken_are_the_body() {
        let (offered, body) = DirectBody::new(offered_frames());
        let collected = http_body_util::BodyExt::collect(body).await.unwrap();
        assert_eq!(
            &collected.to_bytes()[..],
            b"retry: 1000\n\nevent: x\ndata: 1\n\n"
        );
        // Taken by the body: not offered any more.
        assert!(offered.take().is_none());
    }

    #[tokio::test]
    async fn a_response_of_known_length_is_sent_with_it() {
        let router = Router::new().fallback(|| async { (StatusCode::NOT_FOUND, "no such room") });
        let written = written_for(router).await;
        assert!(
            written.starts_with("HTTP/1.1 404 Not Found\r\n"),
            "{written}"
        );
        assert!(written.contains("\r\ncontent-length: 12\r\n"), "{written}");
        assert!(!written.contains("chunked"), "{written}");
        assert!(written.ends_with("\r\n\r\nno such room"), "{written}");
    }

    #[tokio::test]
    async fn a_client_that_leaves_ends_its_stream() {
        let (mut client, server) = tokio::io::duplex(4096);
        let router = Router::new().route(
            "/api/rooms/{slug}/events",
            axum::routing::get(|| async {
                Body::from_stream(futures::stream::pending::<
                    Result<bytes::Bytes, std::io::Error>,
                >())
            }),
        );
        let request = event_stream_request(PLAIN.as_bytes()).unwrap();
        let serving = tokio::spawn(serve_event_stream(
            server,
            router,
            request,
            "127.0.0.1:9".parse().unwrap(),
            None,
        ));
        // The head arrives; then the client closes its end while the stream waits.
        let mut head = [0; 8];
        client.read_exact(&mut head).await.unwrap();
        assert_eq!(&head, b"HTTP/1.1");
        drop(client);
        tokio::time::timeout(std::time::Duration::from_secs(5), serving)
            .await
            .expect("ended when the client left")
            .unwrap();
    }
}
