//! Test helpers: the real server on a free port with a fresh database, clients with their own
//! sessions, and a plain streaming reader of Server-Sent Events.

#![allow(dead_code)]

pub mod html;
pub mod nginx;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use frase::domain::{RoomSettings, RoomSlug, RoomTitle};
use frase::server::config::{Limits, Settings, Storage};
use frase::server::limits::RateLimit;
use frase::server::serve::Application;
use frase::server::session::UserId;
use futures::StreamExt;
use tokio::sync::oneshot;

/// A running server, stopped when dropped.
pub struct TestApp {
    pub addr: SocketAddr,
    pub base: String,
    pub app_state: frase::server::state::AppState,
    pub data_dir: tempfile::TempDir,
    /// The app's PostgreSQL database, when the suite runs on PostgreSQL ([`suite_database`]).
    postgres: Option<ThrowawayPostgres>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl TestApp {
    /// The server as `frase serve` runs it, but with no write rate limits (as for a load
    /// test: most tests add words faster than a person would).
    pub async fn spawn() -> TestApp {
        TestApp::spawn_with(|settings| {
            settings.limits = Limits::new(
                RateLimit::Off,
                settings.limits.streams_per_address,
                settings.limits.header_timeout,
            );
        })
        .await
    }

    /// The server with `frase serve`'s defaults, changed by `configure`.
    pub async fn spawn_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
        let data_dir = tempfile::tempdir().expect("temp dir");
        let postgres = match suite_database() {
            SuiteDatabase::Sqlite => None,
            SuiteDatabase::Postgres => Some(
                ThrowawayPostgres::create()
                    .await
                    .expect("FRASE_TEST_DATABASE=postgres needs a PostgreSQL server"),
            ),
        };
        let database_url = match &postgres {
            Some(postgres) => postgres.url.clone(),
            None => format!("sqlite://{}", data_dir.path().join("frase.db").display()),
        };
        let mut settings = Settings::new(
            "127.0.0.1:0".parse().unwrap(),
            Storage {
                data_dir: data_dir.path().to_path_buf(),
                database_url,
            },
        );
        configure(&mut settings);
        let application = Application::build(&settings).await.expect("app builds");
        let addr = application.local_addr();
        let scheme = application.scheme();
        let app_state = application.state().clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            application
                .run_until(async {
                    let _ = stopped.await;
                })
                .await
                .expect("server runs");
        });
        TestApp {
            addr,
            base: format!("{scheme}://{addr}"),
            app_state,
            data_dir,
            postgres,
            stop: Some(stop),
            task: Some(task),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Creates a room directly through the service (the JSON API for rooms comes later).
    pub async fn create_room(&self, slug: &str, settings: RoomSettings) {
        self.app_state
            .rooms
            .create_room(
                &RoomSlug::parse(slug).unwrap(),
                &RoomTitle::parse(slug).unwrap(),
                &UserId::generate(),
                &settings,
            )
            .await
            .expect("room created");
    }

    /// Stops the server gracefully and waits until it has.
    /// `POST /api/rooms` as `client` (who becomes the host); the new room's state.
    pub async fn post_room(
        &self,
        client: &reqwest::Client,
        body: serde_json::Value,
    ) -> serde_json::Value {
        let response = client
            .post(self.url("/api/rooms"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201, "POST /api/rooms {body}");
        response.json().await.unwrap()
    }

    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = tokio::time::timeout(Duration::from_secs(10), task).await;
        }
        if let Some(postgres) = self.postgres.take() {
            postgres.drop_database().await;
        }
    }
}

/// The database the TestApp suites run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SuiteDatabase {
    /// SQLite in each app's data directory (the default).
    Sqlite,
    /// A throwaway PostgreSQL database per app (`FRASE_TEST_DATABASE=postgres`), on the server
    /// at `FRASE_TEST_POSTGRES_URL` (default: the machine's).
    Postgres,
}

pub fn suite_database() -> SuiteDatabase {
    match std::env::var("FRASE_TEST_DATABASE").as_deref() {
        Ok("postgres") => SuiteDatabase::Postgres,
        Ok("sqlite") | Err(_) => SuiteDatabase::Sqlite,
        Ok(other) => panic!("FRASE_TEST_DATABASE={other}: use sqlite or postgres"),
    }
}

/// The body of `GET url` as `client`, as text.
pub async fn text_of(client: &reqwest::Client, url: &str) -> String {
    client.get(url).send().await.unwrap().text().await.unwrap()
}

/// A room's version as `client` reads it.
pub async fn version_of(client: &reqwest::Client, app: &TestApp, room: &str) -> i64 {
    let state: serde_json::Value = client
        .get(app.url(&format!("/api/rooms/{room}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    state["version"].as_i64().unwrap()
}

/// A client with its own cookie jar: its own session, so its own user.
pub fn user() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// A client for event streams that stay open longer than [`user`]'s 30 s request timeout.
pub fn viewer() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .connect_timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

/// `POST /api/rooms/{room}/words` as `client`.
pub async fn add_word(
    client: &reqwest::Client,
    app: &TestApp,
    room: &str,
    text: &str,
) -> reqwest::Response {
    client
        .post(app.url(&format!("/api/rooms/{room}/words")))
        .json(&serde_json::json!({ "text": text }))
        .send()
        .await
        .unwrap()
}

/// A new user who has chosen `name` (so has a session cookie); the client and the user's id.
pub async fn named_user(app: &TestApp, name: &str) -> (reqwest::Client, String) {
    named_user_at(&app.base, name).await
}

/// [`named_user`] on the server at `base` (one started as its own process).
pub async fn named_user_at(base: &str, name: &str) -> (reqwest::Client, String) {
    let client = user();
    let response = client
        .patch(format!("{base}/api/me"))
        .json(&serde_json::json!({ "name": name }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "PATCH /api/me {name}");
    let me: serde_json::Value = response.json().await.unwrap();
    (client, me["id"].as_str().unwrap().to_owned())
}

/// Settings with the turn rule off, so one user may add consecutive words.
pub fn free_settings() -> RoomSettings {
    RoomSettings {
        no_double_turn: false,
        ..RoomSettings::default()
    }
}

/// One parsed Server-Sent Event.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub id: Option<i64>,
    pub event: String,
    pub data: String,
}

/// Reads events from a `text/event-stream` body, line by line.
pub struct EventReader {
    stream: futures::stream::BoxStream<'static, reqwest::Result<bytes::Bytes>>,
    buffer: Vec<u8>,
    pub retry: Option<u64>,
}

impl EventReader {
    pub async fn open(
        client: &reqwest::Client,
        url: &str,
        last_event_id: Option<i64>,
    ) -> EventReader {
        match EventReader::try_open(client, url, last_event_id).await {
            Ok(reader) => reader,
            Err(error) => panic!("the event stream opens: {error}"),
        }
    }

    /// Opens a stream as `EventSource` does, saying why it did not open (the request failed,
    /// or the answer was not a 200 event stream).
    pub async fn try_open(
        client: &reqwest::Client,
        url: &str,
        last_event_id: Option<i64>,
    ) -> Result<EventReader, String> {
        let mut request = client.get(url);
        if let Some(id) = last_event_id {
            request = request.header("Last-Event-ID", id.to_string());
        }
        let response = request.send().await.map_err(|error| error.to_string())?;
        let content_type = response.headers().get("content-type").cloned();
        if response.status() != 200
            || content_type
                .as_ref()
                .is_none_or(|t| t != "text/event-stream")
        {
            return Err(format!(
                "event stream status {}, content type {content_type:?}",
                response.status()
            ));
        }
        Ok(EventReader {
            stream: response.bytes_stream().boxed(),
            buffer: Vec::new(),
            retry: None,
        })
    }

    /// The next event, `Ok(None)` if none came `within`, or `Err(())` when the stream ended.
    pub async fn next_or_end(&mut self, within: Duration) -> Result<Option<Event>, ()> {
        match tokio::time::timeout(within, self.next_event()).await {
            Ok(Some(event)) => Ok(Some(event)),
            Ok(None) => Err(()),
            Err(_) => Ok(None),
        }
    }

    /// The next event (comments and `retry:` lines are consumed on the way).
    pub async fn next(&mut self, within: Duration) -> Option<Event> {
        tokio::time::timeout(within, self.next_event())
            .await
            .ok()
            .flatten()
    }

    async fn next_event(&mut self) -> Option<Event> {
        loop {
            if let Some(end) = find_frame_end(&self.buffer) {
                let frame: Vec<u8> = self.buffer.drain(..end + 2).collect();
                let text = String::from_utf8(frame).expect("utf-8 frame");
                let mut event = Event {
                    id: None,
                    event: "message".into(),
                    data: String::new(),
                };
                let mut has_data = false;
                for line in text.lines() {
                    if line.starts_with(':') || line.is_empty() {
                        continue;
                    }
                    let (field, value) = line.split_once(':').unwrap_or((line, ""));
                    let value = value.strip_prefix(' ').unwrap_or(value);
                    match field {
                        "id" => event.id = value.parse().ok(),
                        "event" => event.event = value.to_owned(),
                        "data" => {
                            if has_data {
                                event.data.push('\n');
                            }
                            event.data.push_str(value);
                            has_data = true;
                        }
                        "retry" => self.retry = value.parse().ok(),
                        _ => {}
                    }
                }
                if has_data {
                    return Some(event);
                }
                continue;
            }
            match self.stream.next().await {
                Some(Ok(chunk)) => self.buffer.extend_from_slice(&chunk),
                _ => return None,
            }
        }
    }

    /// Reads until a `word` event with this version has arrived; returns the word events seen.
    pub async fn words_until(
        &mut self,
        version: i64,
        within: Duration,
    ) -> Vec<(i64, serde_json::Value)> {
        let deadline = tokio::time::Instant::now() + within;
        let mut words = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let Some(event) = self.next(left).await else {
                panic!(
                    "stream ended or timed out waiting for version {version}; got {} words",
                    words.len()
                );
            };
            if event.event == "word" {
                let id = event.id.expect("word events have an id");
                words.push((id, serde_json::from_str(&event.data).expect("word JSON")));
                if id >= version {
                    return words;
                }
            }
        }
    }
}

fn find_frame_end(buffer: &[u8]) -> Option<usize> {
    buffer.windows(2).position(|pair| pair == b"\n\n")
}

/// What a browser with JavaScript off sends when the word form of `room`'s page is submitted
/// (`csrf`: the token the page carried, if any).
pub async fn submit_word_form(
    client: &reqwest::Client,
    app: &TestApp,
    room: &str,
    text: &str,
    csrf: Option<&str>,
) -> reqwest::Response {
    let mut form = vec![("room", room), ("text", text)];
    if let Some(token) = csrf {
        form.push(("csrf", token));
    }
    client
        .post(app.url("/api/fn/add_word"))
        .header("accept", "text/html,application/xhtml+xml")
        .header("referer", app.url(&format!("/r/{room}")))
        .form(&form)
        .send()
        .await
        .unwrap()
}

/// The CSRF token of `client`'s forms on `room`'s page.
pub async fn page_csrf_token(client: &reqwest::Client, app: &TestApp, room: &str) -> String {
    csrf_token(&text_of(client, &app.url(&format!("/r/{room}"))).await)
}

/// The CSRF token in a page's forms (`<input type="hidden" name="csrf" value="...">`).
pub fn csrf_token(html: &str) -> String {
    let field = html
        .find(r#"name="csrf""#)
        .expect("the page has a csrf field");
    let value = html[field..]
        .find("value=\"")
        .expect("the field has a value")
        + field
        + 7;
    let end = html[value..].find('"').unwrap() + value;
    let token = html[value..end].to_owned();
    assert_eq!(token.len(), 32, "a token: {token:?}");
    token
}

/// The path of the built `frase` binary (for tests that need a separate process).
pub fn frase_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_frase"))
}

/// The release binary (`make build`, or `FRASE_RELEASE_BINARY`), for the tests whose figures
/// only mean something there. `None` (the test skips, saying why) where there is none; a
/// failure under `FRASE_TEST_REQUIRE=all`.
pub fn release_binary() -> Option<PathBuf> {
    let path = std::env::var_os("FRASE_RELEASE_BINARY")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/release/frase"));
    if path.is_file() {
        return Some(path);
    }
    skip(&format!(
        "no release binary at {} (make build)",
        path.display()
    ));
    None
}

/// A test that cannot run here says so and returns: it is skipped, saying why, or under
/// `FRASE_TEST_REQUIRE=all` (CI) it fails, since there nothing a test needs may be missing.
pub fn skip(reason: &str) {
    assert!(
        std::env::var("FRASE_TEST_REQUIRE").as_deref() != Ok("all"),
        "{reason} (FRASE_TEST_REQUIRE=all: .ci/run installs and starts what the tests need)"
    );
    eprintln!("skipped: {reason}");
}

/// A free port on 127.0.0.1, for a server started as its own process.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `frase serve` (the debug binary) on `127.0.0.1:port` with its data in `data_dir`, killed
/// when dropped; more arguments may follow.
pub fn serve_command(data_dir: &std::path::Path, port: u16) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(frase_binary());
    command
        .args([
            "serve",
            "--addr",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
        ])
        .arg(data_dir)
        .kill_on_drop(true);
    command
}

/// `frase serve` (the debug binary) on `port` with its data in `data_dir`, `extra` arguments
/// after; waits until it answers.
pub async fn start_frase(
    data_dir: &std::path::Path,
    port: u16,
    extra: &[&str],
) -> tokio::process::Child {
    let mut command = serve_command(data_dir, port);
    command.args(extra);
    start_server_process(command, port).await
}

/// The line where a starting `frase serve` (its stdout piped) names its database.
pub async fn database_line(server: &mut tokio::process::Child) -> String {
    use tokio::io::AsyncBufReadExt;
    let stdout = server.stdout.take().expect("stdout piped");
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if line.starts_with("Database: ") {
                return line;
            }
        }
        panic!("frase serve ended without naming its database");
    })
    .await
    .expect("frase serve names its database")
}

/// `GET url` as `client`, its body as JSON.
pub async fn get_json(client: &reqwest::Client, url: &str) -> serde_json::Value {
    let response = client.get(url).send().await.unwrap();
    response.json().await.unwrap()
}

/// Every word of a room, from its words listing (`url`, …/api/rooms/{slug}/words), page by
/// page.
pub async fn every_word(url: &str) -> Vec<serde_json::Value> {
    let client = user();
    let mut all = Vec::new();
    let mut after = 0;
    loop {
        let page = get_json(&client, &format!("{url}?after={after}")).await;
        let words = page["words"].as_array().unwrap();
        let Some(last) = words.last() else {
            return all;
        };
        after = last["version"].as_i64().unwrap();
        all.extend(words.iter().cloned());
    }
}

/// Starts a server process (`command`, quiet, killed with the test) and waits until it answers
/// `/healthz` on `port`.
pub async fn start_server_process(
    mut command: tokio::process::Command,
    port: u16,
) -> tokio::process::Child {
    let child = command
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("frase starts");
    let health = format!("http://127.0.0.1:{port}/healthz");
    eventually(Duration::from_secs(30), "the server answers", || {
        let health = health.clone();
        async move {
            matches!(reqwest::get(&health).await, Ok(response) if response.status() == 200)
        }
    })
    .await;
    child
}

/// Waits until `condition` holds, polling; panics after `within`.
pub async fn eventually<F, Fut>(within: Duration, what: &str, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + within;
    while tokio::time::Instant::now() < deadline {
        if condition().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for: {what}");
}

/// A PostgreSQL database made for one test and dropped after it.
pub struct ThrowawayPostgres {
    /// Its URL.
    pub url: String,
    server: String,
    name: String,
}

impl ThrowawayPostgres {
    /// A new empty database on the PostgreSQL server at `FRASE_TEST_POSTGRES_URL` (default:
    /// the machine's, `postgres://postgres@127.0.0.1:5432/postgres`). `None` (the test skips,
    /// saying why) where that server cannot be reached; a failure under
    /// `FRASE_TEST_REQUIRE=all`.
    pub async fn create() -> Option<ThrowawayPostgres> {
        use sqlx::Connection;
        let server = std::env::var("FRASE_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
        let mut admin = match sqlx::PgConnection::connect(&server).await {
            Ok(admin) => admin,
            Err(error) => {
                skip(&format!("no PostgreSQL at {server}: {error}"));
                return None;
            }
        };
        sweep_stale_databases(&mut admin).await;
        let name = format!(
            "frase_test_{}_{}",
            std::process::id(),
            rand::random::<u32>()
        );
        sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .expect("a throwaway database is created");
        let _ = admin.close().await;
        let (base, _) = server.rsplit_once('/').expect("a database URL has a path");
        Some(ThrowawayPostgres {
            url: format!("{base}/{name}"),
            server,
            name,
        })
    }

    /// Drops the database (and any connection still on it).
    pub async fn drop_database(self) {
        use sqlx::Connection;
        let mut admin = sqlx::PgConnection::connect(&self.server)
            .await
            .expect("PostgreSQL still answers");
        let drop = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        sqlx::Executor::execute(&mut admin, drop.as_str())
            .await
            .expect("the throwaway database is dropped");
    }
}

/// Drops the throwaway databases of test processes that have ended (a test that panicked, or
/// an app dropped without `stop`, leaves its database behind): once per test process.
async fn sweep_stale_databases(admin: &mut sqlx::PgConnection) {
    static SWEPT: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
    SWEPT
        .get_or_init(|| async {
            let names: Vec<String> = sqlx::query_scalar(
                "SELECT datname::text FROM pg_database WHERE datname LIKE 'frase_test_%'",
            )
            .fetch_all(&mut *admin)
            .await
            .unwrap_or_default();
            for name in names {
                let pid = name
                    .split('_')
                    .nth(2)
                    .and_then(|pid| pid.parse::<u32>().ok());
                let ended =
                    pid.is_some_and(|pid| !std::path::Path::new(&format!("/proc/{pid}")).exists());
                if ended {
                    let _ = sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(&mut *admin)
                        .await;
                }
            }
        })
        .await;
}
