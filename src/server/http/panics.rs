//! A handler that panics answers a 500 problem, is logged and is counted in `/metrics`, instead
//! of the connection closing with no reply (issue 17).

use std::any::Any;
use std::sync::Arc;

use axum::response::{IntoResponse, Response};
use tower_http::catch_panic::{CatchPanicLayer, ResponseForPanic};

use super::metrics::HttpMetrics;
use crate::error::AppError;

/// Turns a caught panic into the 500 problem, after logging it and counting it.
#[derive(Clone)]
pub struct PanicResponse {
    metrics: Arc<HttpMetrics>,
}

impl ResponseForPanic for PanicResponse {
    type ResponseBody = axum::body::Body;

    fn response_for_panic(&mut self, panic: Box<dyn Any + Send + 'static>) -> Response {
        let message = panic
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| panic.downcast_ref::<&str>().copied())
            .unwrap_or("(no message)");
        tracing::error!(panic = message, "a request handler panicked; answered 500");
        self.metrics.record_panic();
        AppError::internal().into_response()
    }
}

/// The layer, counting into `metrics`.
pub fn catch_panics(metrics: Arc<HttpMetrics>) -> CatchPanicLayer<PanicResponse> {
    CatchPanicLayer::custom(PanicResponse { metrics })
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::body::{Body, to_bytes};
    use axum::routing::get;
    use http::Request;
    use tower::ServiceExt;

    use super::*;

    #[tokio::test]
    async fn a_panicking_handler_answers_a_counted_500_problem() {
        let metrics = Arc::new(HttpMetrics::default());
        let app = Router::new()
            .route(
                "/boom",
                get(|| async {
                    if true {
                        panic!("boom");
                    }
                    "unreachable"
                }),
            )
            .route("/fine", get(|| async { "fine" }))
            .layer(catch_panics(metrics.clone()));
        let fine = app
            .clone()
            .oneshot(Request::get("/fine").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(fine.status(), 200);
        assert_eq!(metrics.panics(), 0);

        let response = app
            .oneshot(Request::get("/boom").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), 500);
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
        let body = to_bytes(response.into_body(), 4096).await.unwrap();
        let problem: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(problem["status"], 500);
        assert_eq!(metrics.panics(), 1);
        assert!(
            metrics
                .render(0, 0)
                .contains("frase_handler_panics_total 1")
        );
    }
}
