//! The HTTP counters behind `GET /metrics` (served by `api::ops`), rendered in the Prometheus
//! text format (version 0.0.4), and the middleware that counts responses.

use std::fmt::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::extract::Request;
use axum::response::Response;

use super::around::Around;

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
#[derive(Debug, Clone)]
pub struct CountResponses(pub Arc<HttpMetrics>);

impl Around for CountResponses {
    type Noted = ();

    fn before(&self, _: &mut Request) {}

    fn after(&self, (): (), response: Response) -> Response {
        self.0.record(response.status().as_u16());
        response
    }
}
