//! Operations: `/healthz` for load balancers and `/metrics` for Prometheus.

use std::fmt::Write;
use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::AppError;
use crate::i18n::Message;
use crate::server::http::problem::Problem;
use crate::server::rooms::Rooms;
use crate::server::state::AppState;

/// The answer of `/healthz`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`.
    pub status: String,
}

/// `GET /healthz`: 200 when the database answers, else 503.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses(
        (status = 200, description = "The database answers", body = Health),
        (status = 503, description = "The database does not answer", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn healthz(State(rooms): State<Rooms>) -> Result<Response, AppError> {
    if rooms.healthy().await {
        let mut response = Json(Health {
            status: "ok".to_owned(),
        })
        .into_response();
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        Ok(response)
    } else {
        Err(AppError::unavailable(Message::new(
            "problem-database-unavailable",
        )))
    }
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
