//! Response compression (gzip, deflate, Brotli, zstd, as the client accepts), except for event
//! streams.
//!
//! tower-http's compression never compresses `text/event-stream`, but every body that passes
//! through it becomes its `CompressionBody`, an enum as large as its largest encoder's state:
//! about 6 KiB, boxed, held for as long as the response lasts. For a page that is nothing; for
//! an event stream, open for hours, it was a quarter of what the stream cost. Event streams
//! therefore go around it.

use std::convert::Infallible;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::extract::Request;
use axum::response::Response;
use futures::future::BoxFuture;
use tower::{Layer, Service};
use tower_http::compression::predicate::{And, DefaultPredicate, Predicate, SizeAbove};
use tower_http::compression::{Compression, CompressionLayer};

/// Whether a request opens an event stream (`GET /api/rooms/{slug}/events`).
fn opens_event_stream(request: &Request) -> bool {
    let path = request.uri().path();
    path.starts_with("/api/rooms/") && path.ends_with("/events")
}

/// Bodies smaller than this go out as they are: the encoding's own framing would make a short
/// JSON answer (`/api/me`, `/healthz`) larger, not smaller.
const MIN_COMPRESSED_BYTES: u16 = 128;

/// What is compressed: what tower-http compresses by default (not images, not event streams), of
/// at least [`MIN_COMPRESSED_BYTES`] (or of unknown length, as a streamed page is).
type Compressible = And<DefaultPredicate, SizeAbove>;

/// [`CompressionLayer`] for every response but event streams.
#[derive(Clone, Default)]
pub struct CompressUnlessStream;

impl<S: Clone> Layer<S> for CompressUnlessStream {
    type Service = CompressUnless<S>;

    fn layer(&self, inner: S) -> CompressUnless<S> {
        CompressUnless {
            compressed: CompressionLayer::new()
                .compress_when(DefaultPredicate::new().and(SizeAbove::new(MIN_COMPRESSED_BYTES)))
                .layer(inner.clone()),
            plain: inner,
        }
    }
}

#[derive(Clone)]
pub struct CompressUnless<S> {
    compressed: Compression<S, Compressible>,
    plain: S,
}

impl<S> Service<Request> for CompressUnless<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response, Infallible>>;

    /// Both ways are made ready (the router's services always are at once), so that `call` can
    /// take either without cloning everything below it for the request.
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        match self.plain.poll_ready(cx)? {
            Poll::Ready(()) => self.compressed.poll_ready(cx),
            Poll::Pending => Poll::Pending,
        }
    }

    fn call(&mut self, request: Request) -> Self::Future {
        if opens_event_stream(&request) {
            Box::pin(self.plain.call(request))
        } else {
            let compressed = self.compressed.call(request);
            Box::pin(async move { Ok(compressed.await?.map(Body::new)) })
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::routing::get;
    use http::header;
    use tower::ServiceExt;

    use super::*;

    fn app() -> Router {
        let long = "palabra ".repeat(200);
        Router::new()
            .route("/page", get(move || async move { long }))
            // Plain text, which compression would take: it does not see this route at all.
            .route(
                "/api/rooms/main/events",
                get(|| async { "data: x\n\n".repeat(200) }),
            )
            .layer(CompressUnlessStream)
    }

    async fn encoding_of(path: &str) -> Option<String> {
        let response = app()
            .oneshot(
                Request::get(path)
                    .header(header::ACCEPT_ENCODING, "gzip")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        response
            .headers()
            .get(header::CONTENT_ENCODING)
            .map(|value| value.to_str().unwrap().to_owned())
    }

    #[tokio::test]
    async fn pages_are_compressed_and_event_streams_go_around() {
        assert_eq!(encoding_of("/page").await.as_deref(), Some("gzip"));
        assert_eq!(encoding_of("/api/rooms/main/events").await, None);
    }
}
