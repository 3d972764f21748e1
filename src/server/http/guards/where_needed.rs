//! The guards that concern only writes and pages (the origin check, CSRF tokens, page validators,
//! the render watchdog, idempotency keys, write limits), applied only to the requests they
//! concern. Each is a layer of its own, and every layer costs each request that passes it (its
//! boxed future, a clone of what is below it, the request moved in and the response moved out)
//! even when it only hands the request on. A `GET` of the API, an asset or a probe, most of the
//! requests a room's screens make, goes past all of them to its route.

use std::sync::Arc;
use std::task::{Context, Poll};

use axum::extract::Request;
use futures::future::Either;
use http::Method;
use tower::util::Oneshot;
use tower::{Layer, Service, ServiceExt};

use crate::server::http::render_watchdog::is_page;

/// Whether the write and page guards have anything to do with `request`: every method but
/// `GET` and `HEAD`, and a page's `GET`.
pub fn concerns(request: &Request) -> bool {
    !matches!(*request.method(), Method::GET | Method::HEAD) || is_page(request)
}

/// Puts the guards of `stack` before a service only for the requests they [`concerns`].
#[derive(Clone)]
pub struct WhereNeededLayer<L> {
    stack: L,
}

impl<L> WhereNeededLayer<L> {
    pub fn new(stack: L) -> WhereNeededLayer<L> {
        WhereNeededLayer { stack }
    }
}

impl<L, S> Layer<S> for WhereNeededLayer<L>
where
    L: Layer<S>,
    S: Clone,
{
    type Service = WhereNeeded<L::Service, S>;

    fn layer(&self, inner: S) -> Self::Service {
        WhereNeeded {
            guarded: Arc::new(self.stack.layer(inner.clone())),
            plain: inner,
        }
    }
}

/// A service with its guards (`guarded`) and without them (`plain`).
///
/// The layers above clone what is below them on every request; the guarded stack is shared
/// among the clones and itself cloned only for a request that goes through it.
#[derive(Clone)]
pub struct WhereNeeded<G, S> {
    guarded: Arc<G>,
    plain: S,
}

impl<G, S> Service<Request> for WhereNeeded<G, S>
where
    G: Service<Request> + Clone,
    S: Service<Request, Response = G::Response, Error = G::Error>,
{
    type Response = G::Response;
    type Error = G::Error;
    type Future = Either<Oneshot<G, Request>, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        // The guarded stack is made ready on its own clone, when a request goes through it.
        self.plain.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        if concerns(&request) {
            Either::Left(G::clone(&self.guarded).oneshot(request))
        } else {
            Either::Right(self.plain.call(request))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;

    fn request(method: Method, path: &str) -> Request {
        Request::builder()
            .method(method)
            .uri(path)
            .body(Body::empty())
            .unwrap()
    }

    #[test]
    fn writes_and_pages_are_guarded_and_reads_of_the_api_are_not() {
        for method in [
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
            Method::OPTIONS,
        ] {
            for path in [
                "/api/rooms/main",
                "/api/fn/add_word",
                "/",
                "/r/main",
                "/pkg/x.js",
            ] {
                assert!(concerns(&request(method.clone(), path)), "{method} {path}");
            }
        }
        for method in [Method::GET, Method::HEAD] {
            for page in ["/", "/r/main", "/r/main/present", "/robots.txt", "/nowhere"] {
                assert!(concerns(&request(method.clone(), page)), "{method} {page}");
            }
            for read in [
                "/api/rooms/main",
                "/api/rooms/main/events",
                "/api/me",
                "/pkg/frase.js",
                "/healthz",
                "/metrics",
            ] {
                assert!(!concerns(&request(method.clone(), read)), "{method} {read}");
            }
        }
    }
}
