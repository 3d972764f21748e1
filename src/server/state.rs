//! What every handler can reach, built once at start.

use std::net::IpAddr;
use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use tokio_util::sync::CancellationToken;

use crate::server::http::assets::AssetManifest;
use crate::server::http::guards::cors::CorsOrigins;
use crate::server::http::guards::security::Transport;
use crate::server::http::metrics::HttpMetrics;
use crate::server::limits::{KeyedLimiter, StreamCounter};
use crate::server::rooms::Rooms;
use crate::server::session::SessionConfig;

/// Handlers and middleware take the state by value, once per layer per request: it is one
/// reference count to copy (a plain struct cost a quarter of a `GET`'s time, cloning and
/// dropping every field, under load).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl AppState {
    pub fn new(shared: Shared) -> AppState {
        AppState(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// Everything an [`AppState`] holds.
pub struct Shared {
    pub rooms: Rooms,
    pub session: SessionConfig,
    pub leptos_options: LeptosOptions,
    pub assets: Arc<AssetManifest>,
    /// Cancelled when the server begins to shut down: event streams end on it.
    pub shutdown: CancellationToken,
    pub metrics: Arc<HttpMetrics>,
    /// Writes per client address.
    pub address_writes: Arc<KeyedLimiter<IpAddr>>,
    /// Writes without a session cookie per client address, at one user's word rate.
    pub cookieless_writes: Arc<KeyedLimiter<IpAddr>>,
    /// Open event streams per client address.
    pub streams: StreamCounter,
    /// HTTP or HTTPS.
    pub transport: Transport,
    /// Origins allowed to call the API from their pages (none by default).
    pub cors: CorsOrigins,
    /// `/metrics` answers every address, not only loopback.
    pub metrics_public: bool,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> LeptosOptions {
        state.leptos_options.clone()
    }
}

impl FromRef<AppState> for SessionConfig {
    fn from_ref(state: &AppState) -> SessionConfig {
        state.session.clone()
    }
}

impl FromRef<AppState> for Rooms {
    fn from_ref(state: &AppState) -> Rooms {
        state.rooms.clone()
    }
}
