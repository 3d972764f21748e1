//! The command line and the settings it yields: defaults < `FRASE_*` environment < flags.
//!
//! This is the only place that reads the environment; everything else receives [`Settings`].

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::server::http::guards::cors::parse_origin;
use crate::server::limits::{Rate, RateLimit};

/// frase: a live word-by-word sentence game. Everyone who opens the page adds one word to a
/// sentence built together; every screen shows each new word the moment it lands.
#[derive(Debug, Parser)]
#[command(name = "frase", version, about, long_about = None)]
pub struct Cli {
    /// With no command, frase prints this help, unless cargo-leptos runs it (`make dev`): then
    /// it serves for development (see [`Development`]).
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the game (applies pending migrations first).
    Serve(ServeArgs),
    /// Apply the database migrations and exit.
    Migrate(StorageArgs),
    /// Print a room's story (its finished sentences) to standard output.
    Export(ExportArgs),
}

/// Where the data lives; shared by every command.
#[derive(Debug, Clone, Args)]
pub struct StorageArgs {
    /// Directory for the database and the secret key [default: a per-user data directory].
    #[arg(long, env = "FRASE_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Database URL: `sqlite://FILE` or `postgres://...` [default: sqlite://DATA_DIR/frase.db].
    #[arg(long = "database", env = "FRASE_DATABASE_URL", value_name = "URL")]
    pub database_url: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on; use 0.0.0.0:3000 to let phones on the same network join.
    #[arg(
        long,
        env = "FRASE_ADDR",
        default_value = "127.0.0.1:3000",
        value_name = "HOST:PORT"
    )]
    pub addr: SocketAddr,

    #[command(flatten)]
    pub storage: StorageArgs,

    /// Key that signs session cookies (at least 32 characters). Processes that share a database
    /// must share it. [default: generated on first start and kept in the data dir]
    #[arg(
        long,
        env = "FRASE_SECRET_KEY",
        value_name = "KEY",
        hide_env_values = true
    )]
    pub secret_key: Option<String>,

    /// Serve HTTPS with this certificate chain (PEM); needs --tls-key.
    #[arg(
        long,
        env = "FRASE_TLS_CERT",
        value_name = "FILE",
        requires = "tls_key"
    )]
    pub tls_cert: Option<PathBuf>,

    /// The private key of --tls-cert (PEM).
    #[arg(
        long,
        env = "FRASE_TLS_KEY",
        value_name = "FILE",
        requires = "tls_cert"
    )]
    pub tls_key: Option<PathBuf>,

    /// Serve HTTPS with a development certificate generated for this machine's names and LAN
    /// addresses, kept in the data dir and reused (browsers will ask you to trust it).
    #[arg(
        long,
        env = "FRASE_SELF_SIGNED",
        conflicts_with_all = ["tls_cert", "tls_key"]
    )]
    pub self_signed: bool,

    /// New words one user may add: COUNT/UNIT (second, minute, hour), or `off`, which also
    /// lifts the limit on writes per address (fifty times this rate).
    #[arg(
        long,
        env = "FRASE_RATE_LIMIT",
        default_value = "30/minute",
        value_name = "RATE"
    )]
    pub rate_limit: RateLimit,

    /// Event streams one client address may hold open (a classroom behind NAT shares one
    /// address, hence the generous default); 0 = unlimited.
    #[arg(
        long,
        env = "FRASE_STREAMS_PER_ADDRESS",
        default_value_t = DEFAULT_STREAMS_PER_ADDRESS,
        value_name = "COUNT"
    )]
    pub streams_per_address: usize,

    /// An origin (scheme://host[:port]) whose pages may call the API with the user's cookies
    /// (CORS); repeat it, or separate origins with commas. None by default.
    #[arg(
        long = "cors-origin",
        env = "FRASE_CORS_ORIGINS",
        value_name = "ORIGIN",
        value_delimiter = ',',
        value_parser = parse_origin
    )]
    pub cors_origins: Vec<String>,

    /// Seconds a client may take to send a request's headers before the connection is closed.
    #[arg(
        long,
        env = "FRASE_HEADER_TIMEOUT",
        default_value_t = 10,
        value_name = "SECONDS",
        value_parser = clap::value_parser!(u64).range(1..=3600)
    )]
    pub header_timeout: u64,

    /// Answer `GET /metrics` to any address (by default only to this machine's own, loopback:
    /// the figures say how busy the server is, which is nobody else's business).
    #[arg(long, env = "FRASE_METRICS_PUBLIC")]
    pub metrics_public: bool,

    /// Seconds a connection may go without reading anything of what it is sent before it is
    /// dropped (a stalled reader otherwise holds its response in memory).
    #[arg(
        long,
        env = "FRASE_WRITE_TIMEOUT",
        default_value_t = 30,
        value_name = "SECONDS",
        value_parser = clap::value_parser!(u64).range(1..=3600)
    )]
    pub write_timeout: u64,

    /// Connections one client address may hold open at once (a classroom behind NAT, or a
    /// reverse proxy, shares one address, hence the generous default); 0 = unlimited. Further
    /// connections are closed at once, with a warning in the log.
    #[arg(
        long,
        env = "FRASE_CONNECTIONS_PER_ADDRESS",
        default_value_t = DEFAULT_CONNECTIONS_PER_ADDRESS,
        value_name = "COUNT"
    )]
    pub connections_per_address: usize,

    /// Read connections to the database. Reads are few (a room's state is served from memory),
    /// but a story page or a resuming stream needs one.
    #[arg(
        long,
        env = "FRASE_READ_CONNECTIONS",
        default_value_t = DEFAULT_READ_CONNECTIONS,
        value_name = "COUNT",
        value_parser = clap::value_parser!(u32).range(1..=256)
    )]
    pub read_connections: u32,

    /// Threads that write event streams, apart from those that answer requests, so that a
    /// word's fan-out to thousands of viewers never holds up the next request; 0 = none apart.
    /// By default one per core.
    #[arg(
        long,
        env = "FRASE_STREAM_THREADS",
        value_name = "COUNT",
        value_parser = clap::value_parser!(u16).range(0..=256)
    )]
    pub stream_threads: Option<u16>,
}

/// Read connections to the database by default.
pub const DEFAULT_READ_CONNECTIONS: u32 = 8;

/// Connections one address may hold open by default: below the common open-files limit of
/// 1,024, so that one address cannot take every descriptor, and above the streams it may hold.
pub const DEFAULT_CONNECTIONS_PER_ADDRESS: usize = 768;

/// Event streams one address may hold open by default.
pub const DEFAULT_STREAMS_PER_ADDRESS: usize = 1000;

/// Writes one address may make, as a multiple of one user's word rate.
pub const ADDRESS_RATE_FACTOR: u32 = 50;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    Txt,
    Md,
    Json,
}

#[derive(Debug, Clone, Args)]
pub struct ExportArgs {
    /// The room's code (its slug), e.g. `main`.
    pub room: String,

    /// Output format.
    #[arg(long, value_enum, default_value = "txt")]
    pub format: ExportFormat,

    #[command(flatten)]
    pub storage: StorageArgs,
}

/// Where the data lives, resolved.
#[derive(Debug, Clone)]
pub struct Storage {
    pub data_dir: PathBuf,
    pub database_url: String,
}

impl Storage {
    /// Whether several processes may share this database (PostgreSQL): they then need one
    /// secret key between them.
    pub fn is_shared(&self) -> bool {
        crate::server::store::Dialect::of_url(&self.database_url)
            == Some(crate::server::store::Dialect::Postgres)
    }
}

/// Where HTTPS gets its certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsSource {
    Files {
        cert: PathBuf,
        key: PathBuf,
    },
    /// Generated for this machine, kept in the data dir.
    SelfSigned,
}

/// One thread per core for event streams.
fn default_stream_threads() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// Abuse limits (CONTRACT §1, "Tuning for load tests").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// New words per user.
    pub word_rate: RateLimit,
    /// Writes of any kind per client address.
    pub address_write_rate: RateLimit,
    /// Open event streams per client address (0: unlimited).
    pub streams_per_address: usize,
    /// Time allowed for a request's headers to arrive, and as much again for its body.
    pub header_timeout: Duration,
    /// Time a connection may read nothing of what it is sent.
    pub write_timeout: Duration,
    /// Connections per client address (0: unlimited).
    pub connections_per_address: usize,
}

impl Limits {
    pub fn new(word_rate: RateLimit, streams_per_address: usize, header_timeout: Duration) -> Self {
        let address_write_rate = match word_rate {
            RateLimit::Off => RateLimit::Off,
            RateLimit::Every(rate) => RateLimit::Every(rate.times(ADDRESS_RATE_FACTOR)),
        };
        Limits {
            word_rate,
            address_write_rate,
            streams_per_address,
            header_timeout,
            write_timeout: Duration::from_secs(30),
            connections_per_address: DEFAULT_CONNECTIONS_PER_ADDRESS,
        }
    }
}

impl Default for Limits {
    fn default() -> Limits {
        Limits::new(
            RateLimit::Every(Rate::per_minute(30)),
            DEFAULT_STREAMS_PER_ADDRESS,
            Duration::from_secs(10),
        )
    }
}

/// Everything `serve` needs, resolved once at start.
#[derive(Debug, Clone)]
pub struct Settings {
    pub addr: SocketAddr,
    pub storage: Storage,
    pub secret_key: Option<String>,
    /// HTTPS, or plain HTTP when `None`.
    pub tls: Option<TlsSource>,
    pub limits: Limits,
    /// Origins allowed to call the API from their pages.
    pub cors_origins: Vec<String>,
    /// Serving under `cargo leptos watch`, for development.
    pub development: Option<Development>,
    /// `/metrics` for every address, not only loopback.
    pub metrics_public: bool,
    /// Read connections to the database.
    pub read_connections: u32,
    /// Threads of the event streams' own runtime (0: they share the request threads).
    pub stream_threads: usize,
}

impl Settings {
    /// The defaults of `frase serve` at `addr` with `storage`.
    pub fn new(addr: SocketAddr, storage: Storage) -> Settings {
        Settings {
            addr,
            storage,
            secret_key: None,
            tls: None,
            limits: Limits::default(),
            cors_origins: Vec::new(),
            development: None,
            metrics_public: false,
            read_connections: DEFAULT_READ_CONNECTIONS,
            stream_threads: default_stream_threads(),
        }
    }
}

/// What `cargo leptos watch` (and `cargo leptos serve`) tells the binary it runs, through its
/// `LEPTOS_*` environment: where to listen, where it writes the site, and the port of its
/// live-reload socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Development {
    /// `LEPTOS_SITE_ROOT`: the folder cargo-leptos writes the client and the stylesheet into.
    pub site_root: PathBuf,
    /// `LEPTOS_RELOAD_PORT`, when cargo-leptos watches the sources (`LEPTOS_WATCH`): pages then
    /// carry Leptos' live-reload script, which listens on this port.
    pub reload_port: Option<u16>,
}

impl Development {
    /// The settings of a development server, when the `LEPTOS_*` environment `var` reads says
    /// cargo-leptos runs this binary; `None` otherwise.
    ///
    /// It listens on `LEPTOS_SITE_ADDR` and keeps its data beside the site, in
    /// `target/dev-data`, so that development never touches a user's data.
    pub fn settings(var: impl Fn(&str) -> Option<String>) -> Result<Option<Settings>, ConfigError> {
        let (Some(addr), Some(site_root)) = (var("LEPTOS_SITE_ADDR"), var("LEPTOS_SITE_ROOT"))
        else {
            return Ok(None);
        };
        let addr = addr
            .parse()
            .map_err(|_| ConfigError::BadLeptosEnv("LEPTOS_SITE_ADDR", addr))?;
        let reload_port = match (var("LEPTOS_WATCH"), var("LEPTOS_RELOAD_PORT")) {
            (Some(watch), Some(port)) if watch == "true" => Some(
                port.parse()
                    .map_err(|_| ConfigError::BadLeptosEnv("LEPTOS_RELOAD_PORT", port))?,
            ),
            _ => None,
        };
        let site_root = PathBuf::from(site_root);
        let data_dir = site_root
            .parent()
            .unwrap_or(Path::new("."))
            .join("dev-data");
        let storage = StorageArgs {
            data_dir: Some(data_dir),
            database_url: None,
        }
        .resolve()?;
        let mut settings = Settings::new(addr, storage);
        settings.development = Some(Development {
            site_root,
            reload_port,
        });
        Ok(Some(settings))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "no data directory: this system has no per-user data directory; pass --data-dir or set FRASE_DATA_DIR"
    )]
    NoDataDir,
    #[error("cargo-leptos set {0}={1:?}, which is not valid")]
    BadLeptosEnv(&'static str, String),
    #[error(
        "a PostgreSQL database needs FRASE_SECRET_KEY (or --secret-key): every frase process \
         on it must sign sessions with the same key, so that a user keeps their session \
         whichever process answers. Set the same key of at least 32 characters for all of them, \
         for example from `openssl rand -base64 48`"
    )]
    SharedKeyRequired,
}

impl StorageArgs {
    pub fn resolve(&self) -> Result<Storage, ConfigError> {
        let data_dir = match &self.data_dir {
            Some(dir) => dir.clone(),
            None => dirs::data_dir()
                .map(|dir| dir.join("frase"))
                .ok_or(ConfigError::NoDataDir)?,
        };
        let database_url = match &self.database_url {
            Some(url) => url.clone(),
            None => format!("sqlite://{}", data_dir.join("frase.db").display()),
        };
        Ok(Storage {
            data_dir,
            database_url,
        })
    }
}

impl ServeArgs {
    pub fn resolve(&self) -> Result<Settings, ConfigError> {
        let tls = match (&self.tls_cert, &self.tls_key, self.self_signed) {
            (Some(cert), Some(key), _) => Some(TlsSource::Files {
                cert: cert.clone(),
                key: key.clone(),
            }),
            (_, _, true) => Some(TlsSource::SelfSigned),
            _ => None,
        };
        let storage = self.storage.resolve()?;
        if storage.is_shared() && self.secret_key.is_none() {
            return Err(ConfigError::SharedKeyRequired);
        }
        Ok(Settings {
            addr: self.addr,
            storage,
            secret_key: self.secret_key.clone(),
            tls,
            limits: Limits {
                write_timeout: Duration::from_secs(self.write_timeout),
                connections_per_address: self.connections_per_address,
                ..Limits::new(
                    self.rate_limit,
                    self.streams_per_address,
                    Duration::from_secs(self.header_timeout),
                )
            },
            cors_origins: self.cors_origins.clone(),
            development: None,
            metrics_public: self.metrics_public,
            read_connections: self.read_connections,
            stream_threads: self
                .stream_threads
                .map_or_else(default_stream_threads, usize::from),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_defaults_to_sqlite_in_the_data_dir() {
        let args = StorageArgs {
            data_dir: Some(PathBuf::from("/tmp/frase-test")),
            database_url: None,
        };
        let storage = args.resolve().unwrap();
        assert_eq!(storage.database_url, "sqlite:///tmp/frase-test/frase.db");
    }

    #[test]
    fn the_command_line_parses() {
        let cli = Cli::try_parse_from(["frase", "serve", "--addr", "0.0.0.0:4000"]).unwrap();
        match cli.command {
            Some(Command::Serve(args)) => assert_eq!(args.addr.port(), 4000),
            other => panic!("parsed as {other:?}"),
        }
        assert!(Cli::try_parse_from(["frase", "serve", "--addr", "nowhere"]).is_err());
    }

    #[test]
    fn postgres_needs_a_shared_secret_key() {
        let postgres = ["--database", "postgres://frase@127.0.0.1/frase"];
        let refused = serve_settings(&postgres).unwrap_err();
        assert!(refused.contains("needs FRASE_SECRET_KEY"), "{refused}");
        let key = "k".repeat(40);
        let with_key = serve_settings(&[postgres[0], postgres[1], "--secret-key", &key]);
        assert!(with_key.is_ok(), "{with_key:?}");
        assert!(serve_settings(&[]).is_ok(), "SQLite generates its own key");
    }

    fn serve_settings(args: &[&str]) -> Result<Settings, String> {
        let argv = ["frase", "serve", "--data-dir", "/tmp/frase-test"]
            .iter()
            .chain(args);
        match Cli::try_parse_from(argv)
            .map_err(|error| error.to_string())?
            .command
        {
            Some(Command::Serve(args)) => args.resolve().map_err(|error| error.to_string()),
            other => panic!("parsed as {other:?}"),
        }
    }

    #[test]
    fn tls_is_a_pair_of_files_or_self_signed() {
        assert_eq!(serve_settings(&[]).unwrap().tls, None);
        assert_eq!(
            serve_settings(&["--self-signed"]).unwrap().tls,
            Some(TlsSource::SelfSigned)
        );
        assert_eq!(
            serve_settings(&["--tls-cert", "c.pem", "--tls-key", "k.pem"])
                .unwrap()
                .tls,
            Some(TlsSource::Files {
                cert: "c.pem".into(),
                key: "k.pem".into()
            })
        );
        assert!(serve_settings(&["--tls-cert", "c.pem"]).is_err());
        assert!(serve_settings(&["--self-signed", "--tls-cert", "c", "--tls-key", "k"]).is_err());
    }

    #[test]
    fn rate_limits_default_and_turn_off_together() {
        let limits = serve_settings(&[]).unwrap().limits;
        assert_eq!(limits, Limits::default());
        assert_eq!(limits.word_rate, RateLimit::Every(Rate::per_minute(30)));
        assert_eq!(
            limits.address_write_rate,
            RateLimit::Every(Rate::per_minute(30 * ADDRESS_RATE_FACTOR))
        );
        let off = serve_settings(&["--rate-limit", "off"]).unwrap().limits;
        assert_eq!(
            (off.word_rate, off.address_write_rate),
            (RateLimit::Off, RateLimit::Off)
        );
        let error = serve_settings(&["--rate-limit", "lots"]).unwrap_err();
        assert!(error.contains("30/minute"), "{error}");
        assert!(serve_settings(&["--header-timeout", "0"]).is_err());
    }

    #[test]
    fn event_streams_get_a_thread_per_core_unless_told() {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        assert_eq!(serve_settings(&[]).unwrap().stream_threads, cores);
        assert_eq!(
            serve_settings(&["--stream-threads", "0"])
                .unwrap()
                .stream_threads,
            0
        );
        assert_eq!(
            serve_settings(&["--stream-threads", "3"])
                .unwrap()
                .stream_threads,
            3
        );
        assert!(serve_settings(&["--stream-threads", "many"]).is_err());
        assert!(serve_settings(&["--stream-threads", "1000"]).is_err());
    }

    fn leptos_env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        |name| {
            vars.iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).to_owned())
        }
    }

    #[test]
    fn cargo_leptos_watch_means_a_development_server() {
        let watch = [
            ("LEPTOS_SITE_ADDR", "127.0.0.1:3000"),
            ("LEPTOS_SITE_ROOT", "target/site"),
            ("LEPTOS_RELOAD_PORT", "3001"),
            ("LEPTOS_WATCH", "true"),
        ];
        let settings = Development::settings(leptos_env(&watch)).unwrap().unwrap();
        assert_eq!(settings.addr.to_string(), "127.0.0.1:3000");
        assert_eq!(
            settings.storage.data_dir,
            PathBuf::from("target/dev-data"),
            "development data stays out of the user's data directory"
        );
        assert_eq!(
            settings.development,
            Some(Development {
                site_root: "target/site".into(),
                reload_port: Some(3001)
            })
        );
        // `cargo leptos serve`: no watcher, so no reload script.
        let serve = Development::settings(leptos_env(&watch[..3]))
            .unwrap()
            .unwrap();
        assert_eq!(serve.development.unwrap().reload_port, None);
        // Run by hand: no development server (the binary prints its help).
        assert!(Development::settings(leptos_env(&[])).unwrap().is_none());
        let bad = [("LEPTOS_SITE_ADDR", "nowhere"), ("LEPTOS_SITE_ROOT", "x")];
        assert!(Development::settings(leptos_env(&bad)).is_err());
    }

    #[test]
    fn no_command_parses_so_that_cargo_leptos_can_run_the_binary() {
        assert!(Cli::try_parse_from(["frase"]).unwrap().command.is_none());
    }
}
