//! `GET /metrics`: counters and gauges in the Prometheus text format (version 0.0.4).

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, header};

use crate::server::state::AppState;

/// Request counts by status class, since start.
#[derive(Debug)]
pub struct HttpMetrics {
    started: Instant,
    /// Index 0 for 1xx … 4 for 5xx.
    responses: [AtomicU64; 5],
}

impl Default for HttpMetrics {
    fn default() -> HttpMetrics {
        HttpMetrics {
            started: Instant::now(),
            responses: Default::default(),
        }
    }
}

impl HttpMetrics {
    fn record(&self, status: u16) {
        let class = usize::from(status / 100).clamp(1, 5) - 1;
        self.responses[class].fetch_add(1, Ordering::Relaxed);
    }
}

/// Middleware: counts every response by status class.
pub async fn count_responses(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let response = next.run(request).await;
    state.metrics.record(response.status().as_u16());
    response
}

pub async fn metrics(State(state): State<AppState>) -> Response {
    let hub = state.rooms.hub();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# HELP frase_http_responses_total HTTP responses sent, by status class."
    );
    let _ = writeln!(out, "# TYPE frase_http_responses_total counter");
    for (index, count) in state.metrics.responses.iter().enumerate() {
        let _ = writeln!(
            out,
            "frase_http_responses_total{{class=\"{}xx\"}} {}",
            index + 1,
            count.load(Ordering::Relaxed)
        );
    }
    let _ = writeln!(
        out,
        "# HELP frase_changes_published_total Room changes sent to live streams."
    );
    let _ = writeln!(out, "# TYPE frase_changes_published_total counter");
    let _ = writeln!(out, "frase_changes_published_total {}", hub.published());
    let _ = writeln!(out, "# HELP frase_event_streams Open live event streams.");
    let _ = writeln!(out, "# TYPE frase_event_streams gauge");
    let _ = writeln!(out, "frase_event_streams {}", hub.total_online());
    let _ = writeln!(
        out,
        "# HELP frase_uptime_seconds Seconds since the server started."
    );
    let _ = writeln!(out, "# TYPE frase_uptime_seconds gauge");
    let _ = writeln!(
        out,
        "frase_uptime_seconds {}",
        state.metrics.started.elapsed().as_secs()
    );
    let _ = writeln!(out, "# HELP frase_build_info The running version.");
    let _ = writeln!(out, "# TYPE frase_build_info gauge");
    let _ = writeln!(
        out,
        "frase_build_info{{version=\"{}\"}} 1",
        env!("CARGO_PKG_VERSION")
    );
    let mut response = out.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
