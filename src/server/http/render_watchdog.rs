//! A watchdog for server-rendered pages. Leptos' `<Suspense>` can, rarely and under load, lose the
//! wake-up that finishes a server render (leptos-rs/leptos#4851, #4698), leaving the request
//! unanswered for good. Pages render in milliseconds and a `GET` can be repeated safely, so a
//! render that has not answered within [`RENDER_LIMIT`] is started once more, and a second stall
//! is a 503 with `Retry-After` rather than a hung connection.

use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::Method;

use crate::error::AppError;
use crate::i18n::Message;

/// Renders that stalled since start (each was started again), for `/metrics`: whether the
/// watchdog still catches anything.
pub static STALLED_RENDERS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// How long a page may take to render before it is started again.
pub const RENDER_LIMIT: Duration = Duration::from_secs(5);

/// Pages: `GET`/`HEAD` outside the API, the assets and the probes.
pub fn is_page(request: &Request) -> bool {
    let path = request.uri().path();
    matches!(*request.method(), Method::GET | Method::HEAD)
        && !path.starts_with("/api/")
        && !path.starts_with("/pkg/")
        && path != "/healthz"
        && path != "/metrics"
}

/// Middleware: see the module documentation.
pub async fn retry_stalled_pages(request: Request, next: Next) -> Response {
    retry_stalled(request, next, RENDER_LIMIT).await
}

async fn retry_stalled(request: Request, next: Next, limit: Duration) -> Response {
    if !is_page(&request) {
        return next.run(request).await;
    }
    // A GET's body is empty: the request can be made again from its head.
    let (parts, _) = request.into_parts();
    let first = Request::from_parts(parts.clone(), Body::empty());
    if let Ok(response) = tokio::time::timeout(limit, next.clone().run(first)).await {
        return response;
    }
    STALLED_RENDERS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    tracing::warn!(path = %parts.uri.path(), "a page render stalled; rendering it again");
    let second = Request::from_parts(parts, Body::empty());
    match tokio::time::timeout(limit, next.run(second)).await {
        Ok(response) => response,
        Err(_) => {
            let mut error = AppError::unavailable(Message::new("problem-render-stalled"));
            error.retry_after = Some(1);
            error.into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use axum::Router;
    use axum::routing::get;
    use tower::ServiceExt;

    use super::*;

    /// A page whose first `stalls` renders never finish.
    fn app(stalls: usize, limit: Duration) -> (Router, Arc<AtomicUsize>) {
        let calls = Arc::new(AtomicUsize::new(0));
        let counter = calls.clone();
        let router = Router::new()
            .route(
                "/r/main",
                get(move || {
                    let counter = counter.clone();
                    async move {
                        if counter.fetch_add(1, Ordering::SeqCst) < stalls {
                            std::future::pending::<()>().await;
                        }
                        "page"
                    }
                }),
            )
            .layer(axum::middleware::from_fn(move |request, next| {
                retry_stalled(request, next, limit)
            }));
        (router, calls)
    }

    async fn get_page(router: Router) -> Response {
        let request = Request::get("/r/main").body(Body::empty()).unwrap();
        router.oneshot(request).await.unwrap()
    }

    #[tokio::test]
    async fn a_stalled_render_is_started_again_once() {
        let limit = Duration::from_millis(50);
        let (router, calls) = app(0, limit);
        assert_eq!(get_page(router).await.status(), 200);
        assert_eq!(calls.load(Ordering::SeqCst), 1);

        let (router, calls) = app(1, limit);
        assert_eq!(get_page(router).await.status(), 200);
        assert_eq!(calls.load(Ordering::SeqCst), 2);

        let (router, calls) = app(2, limit);
        let response = get_page(router).await;
        assert_eq!(response.status(), 503);
        assert_eq!(response.headers()["retry-after"], "1");
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }
}
