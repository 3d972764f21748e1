//! The `frase` command as people and cargo-leptos run it (issue 18): alone it prints its help;
//! under `cargo leptos watch` (its `LEPTOS_*` environment) it serves for development.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::{eventually, frase_binary};

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

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
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
