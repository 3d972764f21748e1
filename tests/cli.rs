//! The `frase` command as people and cargo-leptos run it (issue 18): alone it prints its help;
//! under `cargo leptos watch` (its `LEPTOS_*` environment) it serves for development.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::{database_line, eventually, frase_binary, free_port, serve_command, start_frase};

/// The `LEPTOS_*` variables cargo-leptos sets, removed: a test may itself run under cargo-leptos.
const LEPTOS_ENV: [&str; 4] = [
    "LEPTOS_SITE_ADDR",
    "LEPTOS_SITE_ROOT",
    "LEPTOS_RELOAD_PORT",
    "LEPTOS_WATCH",
];

fn frase() -> Command {
    let mut command = Command::new(frase_binary());
    for name in LEPTOS_ENV {
        command.env_remove(name);
    }
    command
}

#[test]
fn alone_it_prints_its_help() {
    let output = frase().output().expect("frase runs");
    assert_eq!(output.status.code(), Some(2));
    let help = String::from_utf8_lossy(&output.stdout);
    assert!(help.contains("Usage: frase [COMMAND]"), "{help}");
    assert!(help.contains("serve"), "{help}");
}

/// Kills the server when the test ends, however it ends.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn under_cargo_leptos_it_serves_for_development() {
    let project = tempfile::tempdir().expect("temp dir");
    let (port, reload_port) = (free_port(), free_port());
    let server = frase()
        .current_dir(project.path())
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .env("LEPTOS_SITE_ROOT", "target/site")
        .env("LEPTOS_RELOAD_PORT", reload_port.to_string())
        .env("LEPTOS_WATCH", "true")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .expect("frase starts");
    let _server = Running(server);
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    eventually(
        Duration::from_secs(30),
        "the development server answers",
        || {
            let request = client.get(format!("{base}/healthz")).send();
            async move { request.await.is_ok_and(|r| r.status() == 200) }
        },
    )
    .await;

    let page = client
        .get(format!("{base}/r/main"))
        .send()
        .await
        .expect("the room page");
    assert_eq!(page.status(), 200);
    let policy = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        policy.contains(&format!(
            "connect-src 'self' ws://127.0.0.1:{reload_port} wss://127.0.0.1:{reload_port};"
        )),
        "the policy lets the reload script reach its socket, and nothing else: {policy}"
    );
    assert!(!policy.contains("unsafe-inline"), "{policy}");
    let html = page.text().await.unwrap();
    assert!(
        html.contains("/live_reload") && html.contains(&format!("({reload_port}")),
        "the page carries Leptos' reload script on the reload port"
    );
    // Its data lives beside the site, never in the user's data directory.
    assert!(
        project.path().join("target/dev-data/frase.db").exists(),
        "the development database is target/dev-data/frase.db"
    );
}

/// Issue 20: a second `frase serve` on a SQLite data directory that another process is serving
/// exits non-zero and says why and what to do; the first keeps serving; once the first is gone
/// (even killed, which leaves its lock file behind) the directory can be served again.
#[tokio::test]
async fn a_second_server_on_a_served_sqlite_data_dir_is_refused() {
    let data = tempfile::tempdir().expect("temp dir");
    let client = reqwest::Client::new();
    let answers = |port: u16| {
        let request = client
            .get(format!("http://127.0.0.1:{port}/healthz"))
            .send();
        async move { request.await.is_ok_and(|r| r.status() == 200) }
    };

    let first_port = free_port();
    let mut first = start_frase(data.path(), first_port, &[]).await;
    let first_pid = first.id().expect("the first server runs");

    let second_port = free_port();
    let refused = tokio::time::timeout(
        Duration::from_secs(30),
        serve_command(data.path(), second_port)
            .env("RUST_LOG", "warn")
            .output(),
    )
    .await
    .expect("the second server exits instead of serving")
    .expect("frase runs");
    let message = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(1), "{message}");
    for expected in [
        "is being served by another frase process".to_owned(),
        format!("(pid {first_pid})"),
        "frase.db".to_owned(),
        "PostgreSQL".to_owned(),
    ] {
        assert!(message.contains(&expected), "{expected:?} in: {message}");
    }
    assert!(!answers(second_port).await, "the second never listened");
    assert!(answers(first_port).await, "the first still serves");

    // Killed, the first leaves its lock file; the kernel has released the lock itself.
    first.kill().await.expect("the first server is killed");
    assert!(data.path().join("frase.db.lock").exists());
    let third_port = free_port();
    let _third = start_frase(data.path(), third_port, &[]).await;
    assert!(
        answers(third_port).await,
        "the directory of a killed server serves again"
    );
}

/// A server outlives whoever reads its banner: with its stdout closed before it writes a line
/// (`frase serve | head -1`, a supervisor that stopped reading) it still starts and serves.
#[tokio::test]
async fn a_closed_stdout_does_not_stop_the_server() {
    let data = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let mut server = serve_command(data.path(), port)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("frase starts");
    drop(server.stdout.take());
    let client = reqwest::Client::new();
    eventually(Duration::from_secs(30), "the server answers", || {
        let request = client
            .get(format!("http://127.0.0.1:{port}/healthz"))
            .send();
        async move { request.await.is_ok_and(|r| r.status() == 200) }
    })
    .await;
    let word = client
        .post(format!("http://127.0.0.1:{port}/api/rooms/main/words"))
        .json(&serde_json::json!({"text": "hola"}))
        .send()
        .await
        .expect("the server still serves after its banner");
    assert_eq!(word.status(), 201);
    assert!(
        server.try_wait().expect("its status").is_none(),
        "the server is still running"
    );
}

/// `frase serve` says which database it uses and how live events travel.
#[tokio::test]
async fn serve_prints_its_database_and_its_bus() {
    let data = tempfile::tempdir().expect("temp dir");
    let mut server = serve_command(data.path(), free_port())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .expect("frase starts");
    let expected = format!(
        "Database: sqlite://{}; live events: this process (in memory).",
        data.path().join("frase.db").display()
    );
    assert_eq!(database_line(&mut server).await, expected);
}

/// With PostgreSQL: `frase serve` needs the shared key, then serves from the database, saying
/// so (the password left out) and that live events come through its notifications.
#[tokio::test]
async fn on_postgres_it_needs_the_shared_key_and_says_how_events_travel() {
    let Some(database) = common::ThrowawayPostgres::create().await else {
        return;
    };
    let data = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let serve = || {
        let mut command = serve_command(data.path(), port);
        command
            .args(["--database", &database.url])
            .env("RUST_LOG", "warn")
            .env_remove("FRASE_SECRET_KEY");
        command
    };

    let keyless = serve().output().await.expect("frase runs");
    let message = String::from_utf8_lossy(&keyless.stderr);
    assert_eq!(keyless.status.code(), Some(1), "{message}");
    assert!(message.contains("needs FRASE_SECRET_KEY"), "{message}");

    let mut server = serve();
    server
        .env(
            "FRASE_SECRET_KEY",
            "a key shared by every process, 32+ characters long",
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut server = server.spawn().expect("frase starts");
    let named = database_line(&mut server).await;
    assert_eq!(
        named,
        format!(
            "Database: {}; live events: PostgreSQL notifications (LISTEN frase_changes).",
            database.url
        )
    );
    let word = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}/api/rooms/main/words"))
        .json(&serde_json::json!({"text": "hola"}))
        .send()
        .await
        .unwrap();
    assert_eq!(word.status(), 201, "a word is stored in PostgreSQL");

    server.kill().await.expect("the server stops");
    database.drop_database().await;
}
