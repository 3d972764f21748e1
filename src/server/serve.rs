//! Running the server: open the database, build the app, listen, print where to open it, and
//! shut down gracefully on SIGINT/SIGTERM (stop accepting, end event streams, let in-flight
//! requests finish, close the database).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use leptos::config::LeptosOptions;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::server::config::Settings;
use crate::server::http::assets::AssetManifest;
use crate::server::http::guards::cors::CorsOrigins;
use crate::server::http::guards::security::Transport;
use crate::server::http::router::router;
use crate::server::http::transport::connections::{ConnectionSettings, serve_connections};
use crate::server::http::transport::tls::{Tls, TlsError};
use crate::server::join::urls;
use crate::server::limits::{KeyedLimiter, StreamCounter};
use crate::server::live::Hub;
use crate::server::live::bus::{self, BusStats};
use crate::server::live::hub::HEARTBEAT;
use crate::server::live::presence::SharedPresence;
use crate::server::rooms::Rooms;
use crate::server::session::{SecretError, SessionConfig, load_or_create_key};
use crate::server::state::{AppState, Shared};
use crate::server::store::{Dialect, ServingLock, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("server error: {0}")]
    Io(#[from] std::io::Error),
}

/// The application, bound to its address and ready to run.
pub struct Application {
    listener: TcpListener,
    router: Router,
    state: AppState,
    store: Store,
    connections: ConnectionSettings,
    /// The development certificate, when one was generated.
    generated_certificate: Option<std::path::PathBuf>,
    /// The open-files limit, raised at start (None where it cannot be read).
    open_files: Option<crate::server::http::transport::open_files::OpenFiles>,
    /// This process's claim on its SQLite database, held until it stops serving.
    _serving: Option<ServingLock>,
    /// With PostgreSQL: the database to listen to for every process's changes, and what the
    /// bus reports.
    bus: Option<Bus>,
}

/// The live-event bus of a process on PostgreSQL, ready to run.
struct Bus {
    listening: sqlx::postgres::PgListener,
    url: String,
    stats: Arc<BusStats>,
    /// Who has each room open, shared with the other processes.
    presence: Arc<SharedPresence>,
}

impl Application {
    /// Opens and migrates the database, loads the secret key and binds the listener.
    /// Refuses a SQLite database that another process is serving.
    pub async fn build(settings: &Settings) -> Result<Application, ServeError> {
        let serving = ServingLock::acquire(&settings.storage.database_url)?;
        let store =
            Store::open_with(&settings.storage.database_url, settings.read_connections).await?;
        store.migrate().await?;
        let key = load_or_create_key(settings.secret_key.as_deref(), &settings.storage.data_dir)?;
        let tls = match &settings.tls {
            Some(source) => Some(Tls::load(
                source,
                &settings.storage.data_dir,
                settings.addr,
            )?),
            None => None,
        };
        let transport = match tls {
            Some(_) => Transport::Https,
            None => Transport::Http,
        };
        let listener = listen(settings.addr).map_err(|source| ServeError::Bind {
            addr: settings.addr,
            source,
        })?;
        let addr = listener.local_addr()?;
        let mut assets = AssetManifest::discover("frase");
        // The reload script is for development builds only: a release binary never carries it,
        // whatever its environment says.
        assets.live_reload_port = settings
            .development
            .as_ref()
            .and_then(|development| development.reload_port)
            .filter(|_| cfg!(debug_assertions));
        if !assets.has_client() {
            tracing::warn!(
                "the WebAssembly client is not built (no target/site/pkg): pages will not hydrate; \
                 build with `make build`"
            );
        }
        let limits = settings.limits;
        let open_files = crate::server::http::transport::open_files::raise_to_hard_limit();
        // Listening before anyone is served: nothing committed from here on is missed.
        let (hub, bus) = match store.dialect() {
            Dialect::Sqlite => (Arc::new(Hub::new()), None),
            Dialect::Postgres => {
                let url = &settings.storage.database_url;
                let (hub, presence_changes) = Hub::sharing_presence();
                let hub = Arc::new(hub);
                let url = store.named_url(url);
                let presence = SharedPresence::connect(
                    &url,
                    store.process_id(),
                    hub.clone(),
                    presence_changes,
                )
                .await
                .map_err(StoreError::from)?;
                let bus = Bus {
                    listening: bus::listen(&url).await.map_err(StoreError::from)?,
                    url,
                    stats: Arc::new(BusStats::default()),
                    presence: Arc::new(presence),
                };
                (hub, Some(bus))
            }
        };
        let state = AppState::new(Shared {
            rooms: Rooms::with_word_rate(store.clone(), hub, limits.word_rate).with_bus(
                bus.as_ref()
                    .map(|bus| (bus.stats.clone(), bus.presence.clone())),
            ),
            session: SessionConfig {
                key,
                secure: transport == Transport::Https,
            },
            leptos_options: leptos_options(addr, assets.live_reload_port),
            assets: Arc::new(assets),
            shutdown: CancellationToken::new(),
            metrics: Arc::default(),
            address_writes: Arc::new(KeyedLimiter::new(limits.address_write_rate)),
            cookieless_writes: Arc::new(KeyedLimiter::new(limits.word_rate)),
            streams: StreamCounter::new(limits.streams_per_address),
            transport,
            cors: CorsOrigins::new(settings.cors_origins.clone()),
            metrics_public: settings.metrics_public,
        });
        // Idempotency keys whose request died with the previous run.
        let settled = store
            .write(async |conn: &mut crate::server::store::Conn| {
                crate::server::store::settle_keys_in_flight(conn).await
            })
            .await
            .map_err(|error| {
                std::io::Error::other(format!(
                    "cannot settle the idempotency keys left in flight: {error}"
                ))
            })?;
        if settled.answered + settled.released > 0 {
            tracing::info!(
                answered = settled.answered,
                released = settled.released,
                "idempotency keys cut off by the previous run settled"
            );
        }
        // Rounds of `turns` mode that were running keep their clock.
        let resumed = state.rooms.resume_rounds().await.map_err(|error| {
            std::io::Error::other(format!("cannot read the rounds being played: {error}"))
        })?;
        if resumed > 0 {
            tracing::info!(rounds = resumed, "turns rounds resumed");
        }
        let generated_certificate = tls
            .as_ref()
            .and_then(|tls| tls.generated_certificate.clone());
        Ok(Application {
            listener,
            router: router(state.clone()),
            state,
            store,
            connections: ConnectionSettings {
                header_timeout: limits.header_timeout,
                write_timeout: limits.write_timeout,
                connections_per_address: limits.connections_per_address,
                max_connections: open_files.map_or(usize::MAX, |files| files.connections()),
                tls: tls.map(|tls| tls.config),
                stream_threads: settings.stream_threads,
            },
            generated_certificate,
            open_files,
            _serving: serving,
            bus,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// `http` or `https`.
    pub fn scheme(&self) -> &'static str {
        match self.state.transport {
            Transport::Http => "http",
            Transport::Https => "https",
        }
    }

    /// Serves until `stop` completes, then shuts down gracefully.
    pub async fn run_until(
        self,
        stop: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        let shutdown = self.state.shutdown.clone();
        if let Some(Bus {
            listening,
            url,
            stats,
            presence,
        }) = self.bus
        {
            stats
                .listening
                .store(true, std::sync::atomic::Ordering::SeqCst);
            tokio::spawn(bus::run(
                listening,
                url,
                self.store.clone(),
                self.state.rooms.hub().clone(),
                presence.clone(),
                stats,
                shutdown.clone(),
            ));
            tokio::spawn(presence.run(shutdown.clone()));
            // Turns run out whichever process started them: every process looks for the ones
            // overdue (their process may be gone), and the first to get there ends each once.
            tokio::spawn(self.state.rooms.clone().end_overdue_turns(shutdown.clone()));
        }
        // Streams are woken off the committing requests' threads (see `Hub::start_publisher`).
        if let Err(error) = self.state.rooms.hub().start_publisher() {
            tracing::warn!(%error, "cannot start the publisher's thread: commits wake their streams themselves");
        }
        // Every open stream's heartbeat, from one clock (see `Hub::send_heartbeats`).
        let (hub, stopping) = (self.state.rooms.hub().clone(), shutdown.clone());
        tokio::spawn(async move {
            let start = tokio::time::Instant::now() + HEARTBEAT;
            let mut beats = tokio::time::interval_at(start, HEARTBEAT);
            loop {
                tokio::select! {
                    () = stopping.cancelled() => break,
                    _ = beats.tick() => hub.send_heartbeats(),
                }
            }
        });
        // Rooms nobody has used for a sweep or two leave memory.
        let (hub, stopping) = (self.state.rooms.hub().clone(), shutdown.clone());
        tokio::spawn(async move {
            let mut sweeps = tokio::time::interval(IDLE_ROOM_SWEEP);
            loop {
                tokio::select! {
                    () = stopping.cancelled() => {
                        // Every event stream ends.
                        hub.close_all();
                        break;
                    }
                    _ = sweeps.tick() => {
                        let kept = hub.forget_idle_rooms();
                        tracing::debug!(kept, "rooms in memory");
                    }
                }
            }
        });
        serve_connections(self.listener, self.router, self.connections, async move {
            stop.await;
            tracing::info!("shutting down: closing event streams, finishing requests");
            shutdown.cancel();
        })
        .await;
        self.store.close().await;
        tracing::info!("stopped");
        Ok(())
    }
}

fn leptos_options(addr: SocketAddr, live_reload_port: Option<u16>) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name("frase")
        .site_root("target/site")
        .site_pkg_dir("pkg")
        .site_addr(addr)
        .reload_port(live_reload_port.map_or(3001, u32::from))
        .hash_files(true)
        .build()
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {}
        _ = terminate => {}
    }
}

/// Connections the kernel queues for the accept loop. A class, or a projector's reconnecting
/// viewers, arrive in a burst: with tokio's default (1,024) a burst of thousands overflowed the
/// queue, and the dropped connection attempts came back only after the client's SYN backoff
/// (seconds to minutes). The kernel caps it at `net.core.somaxconn` (4,096 on most systems).
const LISTEN_BACKLOG: u32 = 16_384;

/// Binds `addr` (reusing it at once after a restart) and listens with [`LISTEN_BACKLOG`].
fn listen(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = match addr {
        SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
        SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

/// How often rooms nobody uses are let go of (a room goes after one to two of these).
const IDLE_ROOM_SWEEP: std::time::Duration = std::time::Duration::from_secs(60);

/// `frase serve`.
pub async fn serve(settings: Settings) -> Result<(), ServeError> {
    let application = Application::build(&settings).await?;
    let addr = application.local_addr();
    let database = redact(&settings.storage.database_url);
    let live_events = match application.bus {
        Some(_) => LIVE_EVENTS_SHARED,
        None => LIVE_EVENTS_LOCAL,
    };
    tracing::info!(%addr, %database, bus = live_events, "listening");
    if let Some(files) = application.open_files {
        tracing::info!(
            limit = files.limit,
            started_with = files.started_with,
            "open files: room for {} connections (event streams among them); past that, 503",
            files.connections()
        );
    }
    if let Some(port) = application.state.assets.live_reload_port {
        tracing::info!(port, "development: pages reload when cargo-leptos rebuilds");
    }
    let mut banner = String::from("frase is running. Open it in a browser:\n");
    let urls = urls(application.scheme(), addr);
    for url in &urls {
        banner.push_str(&format!("  {url}\n"));
    }
    // A QR code of the address others can use (the first LAN one), when a person is watching.
    if std::io::IsTerminal::is_terminal(&std::io::stdout())
        && let Some(qr) = urls
            .get(1)
            .or(urls.first())
            .and_then(|url| crate::server::join::qr_text(url))
    {
        banner.push_str(&format!("{qr}\n"));
    }
    if let Some(certificate) = &application.generated_certificate {
        banner.push_str(&format!(
            "HTTPS uses a development certificate that browsers do not know: accept the warning, \
             or trust {}.\n",
            certificate.display()
        ));
    }
    banner.push_str(&format!(
        "Database: {database}; live events: {live_events}.\nPress Ctrl-C to stop.\n"
    ));
    announce(&banner);
    application.run_until(shutdown_signal()).await
}

/// Writes the start banner to stdout. A server outlives whoever reads its banner: when stdout
/// is closed (`frase serve | head -1`, a supervisor that stopped reading) the banner is let go,
/// where `println!` would panic and take every viewer's stream down with it.
fn announce(banner: &str) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    if stdout
        .write_all(banner.as_bytes())
        .and_then(|()| stdout.flush())
        .is_err()
    {
        tracing::debug!("stdout is closed; the start banner was not shown");
    }
}

/// How live events reach viewers with SQLite: one process serves a database (see
/// `store::ServingLock`) and its hub announces every change itself.
const LIVE_EVENTS_LOCAL: &str = "this process (in memory)";

/// With PostgreSQL: every process hears every commit from the database (`live::bus`).
const LIVE_EVENTS_SHARED: &str = "PostgreSQL notifications (LISTEN frase_changes)";

/// A database URL without its password, for the log.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_stay_out_of_the_log() {
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("sqlite:///tmp/x.db"), "sqlite:///tmp/x.db");
    }
}
