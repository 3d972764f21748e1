//! Running the server: open the database, build the app, listen, print where to open it, and
//! shut down gracefully on SIGINT/SIGTERM (stop accepting, end event streams, let in-flight
//! requests finish, close the database).

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::Router;
use leptos::config::LeptosOptions;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::server::config::Settings;
use crate::server::http::assets::AssetManifest;
use crate::server::http::connections::{ConnectionSettings, serve_connections};
use crate::server::http::cors::CorsOrigins;
use crate::server::http::router::router;
use crate::server::http::security::Transport;
use crate::server::limits::{KeyedLimiter, StreamCounter};
use crate::server::live::Hub;
use crate::server::rooms::Rooms;
use crate::server::session::{SecretError, SessionConfig, load_or_create_key};
use crate::server::state::AppState;
use crate::server::store::{Store, StoreError};
use crate::server::tls::{Tls, TlsError};

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
}

impl Application {
    /// Opens and migrates the database, loads the secret key and binds the listener.
    pub async fn build(settings: &Settings) -> Result<Application, ServeError> {
        let store = Store::open(&settings.storage.database_url).await?;
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
        let listener =
            TcpListener::bind(settings.addr)
                .await
                .map_err(|source| ServeError::Bind {
                    addr: settings.addr,
                    source,
                })?;
        let addr = listener.local_addr()?;
        let assets = AssetManifest::discover("frase");
        if !assets.has_client() {
            tracing::warn!(
                "the WebAssembly client is not built (no target/site/pkg): pages will not hydrate; \
                 build with `make build`"
            );
        }
        let limits = settings.limits;
        let state = AppState {
            rooms: Rooms::with_word_rate(store.clone(), Arc::new(Hub::new()), limits.word_rate),
            session: SessionConfig {
                key,
                secure: transport == Transport::Https,
            },
            leptos_options: leptos_options(addr),
            assets: Arc::new(assets),
            shutdown: CancellationToken::new(),
            metrics: Arc::default(),
            address_writes: Arc::new(KeyedLimiter::new(limits.address_write_rate)),
            streams: StreamCounter::new(limits.streams_per_address),
            transport,
            cors: CorsOrigins::new(settings.cors_origins.clone()),
        };
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
                tls: tls.map(|tls| tls.config),
            },
            generated_certificate,
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

fn leptos_options(addr: SocketAddr) -> LeptosOptions {
    let reload_port = std::env::var("LEPTOS_RELOAD_PORT")
        .ok()
        .and_then(|port| port.parse().ok())
        .unwrap_or(3001);
    LeptosOptions::builder()
        .output_name("frase")
        .site_root("target/site")
        .site_pkg_dir("pkg")
        .site_addr(addr)
        .reload_port(reload_port)
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

/// The URLs to open: the local one, and on a wildcard address each LAN address of this machine.
pub fn urls(scheme: &str, addr: SocketAddr) -> Vec<String> {
    let port = addr.port();
    let url = |ip: IpAddr| match ip {
        IpAddr::V4(ip) => format!("{scheme}://{ip}:{port}/"),
        IpAddr::V6(ip) => format!("{scheme}://[{ip}]:{port}/"),
    };
    if !addr.ip().is_unspecified() {
        return vec![url(addr.ip())];
    }
    let mut urls = vec![format!("{scheme}://localhost:{port}/")];
    let interfaces = if_addrs::get_if_addrs().unwrap_or_default();
    for interface in interfaces {
        let ip = interface.ip();
        let usable = !ip.is_loopback()
            && match ip {
                IpAddr::V4(_) => true,
                // Link-local IPv6 needs a zone id to be typed in; leave those out.
                IpAddr::V6(v6) => addr.is_ipv6() && (v6.segments()[0] & 0xffc0) != 0xfe80,
            };
        if usable {
            urls.push(url(ip));
        }
    }
    urls
}

/// `frase serve`.
pub async fn serve(settings: Settings) -> Result<(), ServeError> {
    let application = Application::build(&settings).await?;
    let addr = application.local_addr();
    tracing::info!(%addr, database = %redact(&settings.storage.database_url), "listening");
    println!("frase is running. Open it in a browser:");
    let urls = urls(application.scheme(), addr);
    for url in &urls {
        println!("  {url}");
    }
    // A QR code of the address others can use (the first LAN one), when a person is watching.
    if std::io::IsTerminal::is_terminal(&std::io::stdout())
        && let Some(qr) = urls
            .get(1)
            .or(urls.first())
            .and_then(|url| crate::server::join::qr_text(url))
    {
        println!("{qr}");
    }
    if let Some(certificate) = &application.generated_certificate {
        println!(
            "HTTPS uses a development certificate that browsers do not know: accept the warning, \
             or trust {}.",
            certificate.display()
        );
    }
    println!("Press Ctrl-C to stop.");
    application.run_until(shutdown_signal()).await
}

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

    #[test]
    fn a_specific_address_is_its_own_url() {
        let addr: SocketAddr = "127.0.0.1:3000".parse().unwrap();
        assert_eq!(
            urls("http", addr),
            vec!["http://127.0.0.1:3000/".to_owned()]
        );
        let any: SocketAddr = "0.0.0.0:3000".parse().unwrap();
        assert_eq!(urls("https", any)[0], "https://localhost:3000/");
    }
}
