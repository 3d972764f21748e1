//! `GET /metrics`: counters and gauges in the Prometheus text format (version 0.0.4).

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};

use crate::server::state::AppState;

/// Request counts by status class, since start.
#[derive(Debug)]
pub struct HttpMetrics {
    started: Instant,
    /// Index 0 for 1xx … 4 for 5xx.
    responses: [AtomicU64; 5],
    /// Handlers that panicked (each answered 500).
    panics: AtomicU64,
}

impl Default for HttpMetrics {
    fn default() -> HttpMetrics {
        HttpMetrics {
            started: Instant::now(),
            responses: Default::default(),
            panics: AtomicU64::new(0),
        }
    }
}

impl HttpMetrics {
    fn record(&self, status: u16) {
        let class = usize::from(status / 100).clamp(1, 5) - 1;
        self.responses[class].fetch_add(1, Ordering::Relaxed);
    }

    pub fn record_panic(&self) {
        self.panics.fetch_add(1, Ordering::Relaxed);
    }

    pub fn panics(&self) -> u64 {
        self.panics.load(Ordering::Relaxed)
    }

    /// The exposition, with the live hub's figures given.
    pub fn render(&self, published: u64, streams: u64) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP frase_http_responses_total HTTP responses sent, by status class."
        );
        let _ = writeln!(out, "# TYPE frase_http_responses_total counter");
        for (index, count) in self.responses.iter().enumerate() {
            let _ = writeln!(
                out,
                "frase_http_responses_total{{class=\"{}xx\"}} {}",
                index + 1,
                count.load(Ordering::Relaxed)
            );
        }
        let _ = writeln!(
            out,
            "# HELP frase_handler_panics_total Request handlers that panicked (answered 500)."
        );
        let _ = writeln!(out, "# TYPE frase_handler_panics_total counter");
        let _ = writeln!(out, "frase_handler_panics_total {}", self.panics());
        let _ = writeln!(
            out,
            "# HELP frase_page_renders_stalled_total Page renders that stalled and were started again."
        );
        let _ = writeln!(out, "# TYPE frase_page_renders_stalled_total counter");
        let _ = writeln!(
            out,
            "frase_page_renders_stalled_total {}",
            super::render_watchdog::STALLED_RENDERS.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP frase_changes_published_total Room changes sent to live streams."
        );
        let _ = writeln!(out, "# TYPE frase_changes_published_total counter");
        let _ = writeln!(out, "frase_changes_published_total {published}");
        let _ = writeln!(out, "# HELP frase_event_streams Open live event streams.");
        let _ = writeln!(out, "# TYPE frase_event_streams gauge");
        let _ = writeln!(out, "frase_event_streams {streams}");
        let _ = writeln!(
            out,
            "# HELP frase_uptime_seconds Seconds since the server started."
        );
        let _ = writeln!(out, "# TYPE frase_uptime_seconds gauge");
        let _ = writeln!(
            out,
            "frase_uptime_seconds {}",
            self.started.elapsed().as_secs()
        );
        let _ = writeln!(out, "# HELP frase_build_info The running version.");
        let _ = writeln!(out, "# TYPE frase_build_info gauge");
        let _ = writeln!(
            out,
            "frase_build_info{{version=\"{}\"}} 1",
            env!("CARGO_PKG_VERSION")
        );
        out
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

/// `GET /metrics`: to loopback only, unless `--metrics-public` (others get 404, as if there
/// were nothing here).
pub async fn metrics(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> Response {
    if !state.metrics_public && !peer.ip().to_canonical().is_loopback() {
        return StatusCode::NOT_FOUND.into_response();
    }
    let hub = state.rooms.hub();
    let mut out = state.metrics.render(hub.published(), hub.total_online());
    let commits = state.rooms.store().commit_stats();
    let _ = writeln!(
        out,
        "# HELP frase_store_changes_total Changes made durable on the writer."
    );
    let _ = writeln!(out, "# TYPE frase_store_changes_total counter");
    let _ = writeln!(out, "frase_store_changes_total {}", commits.changes);
    let _ = writeln!(
        out,
        "# HELP frase_store_commits_total Commits on the writer (changes that arrive together share one: group commit)."
    );
    let _ = writeln!(out, "# TYPE frase_store_commits_total counter");
    let _ = writeln!(out, "frase_store_commits_total {}", commits.commits);
    let _ = writeln!(
        out,
        "# HELP frase_room_states_read_total Room states read from the database (the rest are served from memory)."
    );
    let _ = writeln!(out, "# TYPE frase_room_states_read_total counter");
    let _ = writeln!(out, "frase_room_states_read_total {}", hub.states_read());
    let _ = writeln!(
        out,
        "# HELP frase_change_log_reads_total Change-log reads by streams that resumed or fell behind (the rest are served from the rooms' recent frames in memory)."
    );
    let _ = writeln!(out, "# TYPE frase_change_log_reads_total counter");
    let _ = writeln!(out, "frase_change_log_reads_total {}", hub.log_reads());
    if let Some(bus) = state.rooms.bus() {
        let count = |counter: &std::sync::atomic::AtomicU64| {
            counter.load(std::sync::atomic::Ordering::Relaxed)
        };
        for (name, help, value) in [
            (
                "frase_bus_notifications_total",
                "Notices of committed changes received from PostgreSQL (every process's).",
                count(&bus.notifications),
            ),
            (
                "frase_bus_refills_total",
                "Change-log reads that published what a room had missed.",
                count(&bus.refills),
            ),
            (
                "frase_bus_reconnects_total",
                "Times the listening connection to PostgreSQL was lost and made again.",
                count(&bus.reconnects),
            ),
        ] {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} counter");
            let _ = writeln!(out, "{name} {value}");
        }
    }
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
