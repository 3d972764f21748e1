//! The `frase` command: `serve`, `migrate`, `export`.

use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use frase::server::config::{Cli, Command, Development, ExportFormat, Settings, StorageArgs};
use frase::server::export::{self, StoryFormat};
use frase::server::serve::serve;
use frase::server::store::{self, Store};
use tracing_subscriber::EnvFilter;

/// Every request allocates (its head, its extensions, its layers' futures): mimalloc's
/// thread-local free lists serve it several times faster than glibc's, whose
/// `malloc`/`free`/`malloc_consolidate` were a fifth of the server's time under a read load.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let command = match cli.command {
        Some(command) => command,
        // No command: cargo-leptos (`make dev`) runs the binary this way, and says so in its
        // environment; anyone else gets the help.
        None => match Development::settings(|name| std::env::var(name).ok()) {
            Ok(Some(settings)) => return run(serve_development(settings)),
            Ok(None) => {
                let _ = Cli::command().print_help();
                return ExitCode::from(2);
            }
            Err(error) => {
                eprintln!("error: {error}");
                return ExitCode::FAILURE;
            }
        },
    };
    run(async {
        match command {
            Command::Serve(args) => {
                let settings = args.resolve()?;
                serve(settings).await?;
                Ok(())
            }
            Command::Migrate(args) => migrate(&args).await,
            Command::Export(args) => export_story(&args.room, args.format, &args.storage).await,
        }
    })
}

/// Runs `work` on a multi-threaded runtime; its error, if any, is printed.
fn run(work: impl std::future::Future<Output = Result<(), AnyError>>) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(work) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn serve_development(settings: Settings) -> Result<(), AnyError> {
    tracing::info!(
        data_dir = %settings.storage.data_dir.display(),
        "development server (cargo leptos): data kept apart from a user's"
    );
    serve(settings).await?;
    Ok(())
}

type AnyError = Box<dyn std::error::Error + Send + Sync>;

async fn migrate(args: &StorageArgs) -> Result<(), AnyError> {
    let storage = args.resolve()?;
    let store = Store::open(&storage.database_url).await?;
    store.migrate().await?;
    store.close().await;
    eprintln!("migrations applied to {}", storage.database_url);
    Ok(())
}

async fn export_story(
    room: &str,
    format: ExportFormat,
    args: &StorageArgs,
) -> Result<(), AnyError> {
    let storage = args.resolve()?;
    let store = Store::open(&storage.database_url).await?;
    store.migrate().await?;
    let mut conn = store.read().await?;
    let Some(found) = store::room(&mut conn, room).await? else {
        return Err(format!("there is no room `{room}`").into());
    };
    let story = store::story(&mut conn, room).await?;
    let format = match format {
        ExportFormat::Txt => StoryFormat::Text,
        ExportFormat::Md => StoryFormat::Markdown,
        ExportFormat::Json => StoryFormat::Json,
    };
    let output = export::render(format, &found.slug, &found.title, &story);
    print!("{output}");
    Ok(())
}
