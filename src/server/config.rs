//! The command line and the settings it yields: defaults < `FRASE_*` environment < flags.
//!
//! This is the only place that reads the environment; everything else receives [`Settings`].

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// frase: a live word-by-word sentence game. Everyone who opens the page adds one word to a
/// sentence built together; every screen shows each new word the moment it lands.
#[derive(Debug, Parser)]
#[command(name = "frase", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
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
}

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

/// Everything `serve` needs, resolved once at start.
#[derive(Debug, Clone)]
pub struct Settings {
    pub addr: SocketAddr,
    pub storage: Storage,
    pub secret_key: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "no data directory: this system has no per-user data directory; pass --data-dir or set FRASE_DATA_DIR"
    )]
    NoDataDir,
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
        Ok(Settings {
            addr: self.addr,
            storage: self.storage.resolve()?,
            secret_key: self.secret_key.clone(),
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
            Command::Serve(args) => assert_eq!(args.addr.port(), 4000),
            other => panic!("parsed as {other:?}"),
        }
        assert!(Cli::try_parse_from(["frase", "serve", "--addr", "nowhere"]).is_err());
    }
}
