//! Middleware that looks at a request on its way in and changes the response on its way out,
//! with no waiting of its own: [`Around`], made a layer by [`AroundLayer`].
//!
//! Most of frase's middleware has that shape (security headers, validators, the response
//! counter, the language, problem+json). Written with `axum::middleware::from_fn`, each one
//! clones the whole service below it and boxes its future on every request; with a `GET` served
//! from memory those copies and allocations were a large part of the request's cost. Here the
//! future is the service's own, wrapped in place: nothing cloned, nothing boxed.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::extract::Request;
use axum::response::Response;
use tower::{Layer, Service};

/// What a middleware does before and after the service below it. `before` may change the
/// request and note what `after` needs; `after` gets that note and the response.
pub trait Around: Clone + Send + Sync + 'static {
    type Noted: Send + 'static;

    fn before(&self, request: &mut Request) -> Self::Noted;

    fn after(&self, noted: Self::Noted, response: Response) -> Response;
}

/// Two middlewares as one, `Outer` first: `Outer::before`, `Inner::before`, the service,
/// `Inner::after`, `Outer::after` — what they did as two layers, `Outer` outside.
#[derive(Clone)]
pub struct Nested<Outer, Inner>(pub Outer, pub Inner);

impl<Outer: Around, Inner: Around> Around for Nested<Outer, Inner> {
    type Noted = (Outer::Noted, Inner::Noted);

    fn before(&self, request: &mut Request) -> Self::Noted {
        let outer = self.0.before(request);
        (outer, self.1.before(request))
    }

    fn after(&self, (outer, inner): Self::Noted, response: Response) -> Response {
        self.0.after(outer, self.1.after(inner, response))
    }
}

/// The layer of an [`Around`] middleware.
#[derive(Clone)]
pub struct AroundLayer<A>(pub A);

impl<S, A: Around> Layer<S> for AroundLayer<A> {
    type Service = AroundService<S, A>;

    fn layer(&self, inner: S) -> Self::Service {
        AroundService {
            inner,
            around: self.0.clone(),
        }
    }
}

#[derive(Clone)]
pub struct AroundService<S, A> {
    inner: S,
    around: A,
}

impl<S, A> Service<Request> for AroundService<S, A>
where
    S: Service<Request, Response = Response>,
    A: Around,
{
    type Response = Response;
    type Error = S::Error;
    type Future = AroundFuture<S::Future, A>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request) -> Self::Future {
        let noted = self.around.before(&mut request);
        AroundFuture {
            inner: self.inner.call(request),
            after: Some((self.around.clone(), noted)),
        }
    }
}

pin_project_lite::pin_project! {
    pub struct AroundFuture<F, A: Around> {
        #[pin]
        inner: F,
        after: Option<(A, A::Noted)>,
    }
}

impl<F, E, A> Future for AroundFuture<F, A>
where
    F: Future<Output = Result<Response, E>>,
    A: Around,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let response = std::task::ready!(this.inner.poll(cx))?;
        let (around, noted) = this
            .after
            .take()
            .expect("an AroundFuture is not polled after it is ready");
        Poll::Ready(Ok(around.after(noted, response)))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use axum::Router;
    use axum::body::Body;
    use axum::routing::get;
    use tower::ServiceExt;

    use super::*;

    /// Writes down what it saw, in order.
    #[derive(Clone)]
    struct Mark(&'static str, Arc<Mutex<Vec<String>>>);

    impl Around for Mark {
        type Noted = String;

        fn before(&self, request: &mut Request) -> String {
            self.1.lock().unwrap().push(format!("{} before", self.0));
            request
                .headers_mut()
                .append("x-seen", self.0.parse().unwrap());
            request.uri().path().to_owned()
        }

        fn after(&self, path: String, mut response: Response) -> Response {
            self.1
                .lock()
                .unwrap()
                .push(format!("{} after {path}", self.0));
            response
                .headers_mut()
                .append("x-after", self.0.parse().unwrap());
            response
        }
    }

    #[tokio::test]
    async fn nested_middlewares_run_as_two_layers_would() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let app = Router::new()
            .route(
                "/x",
                get(|request: Request| async move {
                    let seen: Vec<_> = request
                        .headers()
                        .get_all("x-seen")
                        .iter()
                        .map(|value| value.to_str().unwrap().to_owned())
                        .collect();
                    seen.join(",")
                }),
            )
            .layer(AroundLayer(Nested(
                Mark("outer", log.clone()),
                Mark("inner", log.clone()),
            )));
        let response = app
            .oneshot(Request::get("/x").body(Body::empty()).unwrap())
            .await
            .unwrap();
        let after: Vec<_> = response
            .headers()
            .get_all("x-after")
            .iter()
            .map(|value| value.to_str().unwrap().to_owned())
            .collect();
        assert_eq!(after, ["inner", "outer"]);
        let body = axum::body::to_bytes(response.into_body(), 1024)
            .await
            .unwrap();
        assert_eq!(&body[..], b"outer,inner");
        assert_eq!(
            *log.lock().unwrap(),
            [
                "outer before",
                "inner before",
                "inner after /x",
                "outer after /x"
            ]
        );
    }
}
