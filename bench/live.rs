//! Live fan-out benchmark (issue 19): N subscribers hold `GET /api/rooms/main/events` on the
//! release binary while words are posted at a steady rate; for each word, the time from its POST
//! to its event being parsed by every subscriber. Each run is preceded by the same subscribers
//! on a native floor (a plain tokio program writing each pre-encoded frame to every socket).
//! Prints figures; asserts nothing about time.
//!
//!   make bench                                       1,000 and 10,000 subscribers
//!   SUBSCRIBERS=18000 cargo bench --profile benchmark --features ssr --bench live
//!
//! Then the write benchmark: WRITERS connections (32) post words to one room as fast as they are
//! answered for WRITE_SECONDS (10): durable words per second, latency, words per commit.
//! Then the read benchmark (`reads.rs`): `GET` of a room's state against nginx serving the same
//! bytes, with wrk.
//!
//! With PostgreSQL (issue 20; the machine's, or FRASE_BENCH_POSTGRES_URL, a throwaway database
//! made for each run): each fan-out run again with the subscribers spread over two processes
//! (words posted to both in turn), and the write benchmark on one process and on two.
//!
//! Environment: SUBSCRIBERS (comma-separated runs, default 1000), WORDS (20), RATE (words/s, 10),
//! WRITERS, WRITE_SECONDS, READ_SECONDS (10), READ_CONNECTIONS (64), FRASE_RELEASE_BINARY
//! (default target/release/frase), FRASE_BENCH_POSTGRES_URL (default
//! postgres://postgres@127.0.0.1:5432/postgres; "off" skips the PostgreSQL rows).

mod reads;

use std::collections::HashMap;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmRSS:"))
                .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// What one subscriber saw: the version of each word event, with when it was parsed.
type Seen = Arc<Mutex<Vec<(i64, Instant)>>>;

async fn subscribe(port: u16, seen: Seen, ready: tokio::sync::mpsc::Sender<()>) {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)).await else {
        let _ = ready.send(()).await;
        return;
    };
    let request = format!(
        "GET /api/rooms/main/events HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\naccept: text/event-stream\r\n\r\n"
    );
    if stream.write_all(request.as_bytes()).await.is_err() {
        let _ = ready.send(()).await;
        return;
    }
    let mut lines = BufReader::new(stream).lines();
    let mut ready = Some(ready);
    let (mut id, mut event) = (None, String::new());
    while let Ok(Some(line)) = lines.next_line().await {
        if let Some(value) = line.strip_prefix("id: ") {
            id = value.trim().parse::<i64>().ok();
        } else if let Some(value) = line.strip_prefix("event: ") {
            event = value.trim().to_owned();
            if event == "snapshot"
                && let Some(ready) = ready.take()
            {
                let _ = ready.send(()).await;
            }
        } else if line.is_empty() {
            if event == "word"
                && let Some(version) = id
            {
                seen.lock().unwrap().push((version, Instant::now()));
            }
            (id, event) = (None, String::new());
        }
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

/// The release binary serving a fresh database on a free port, with every write and
/// connection limit off (the load comes from this one address).
struct Server {
    child: tokio::process::Child,
    base: String,
    port: u16,
    _data: tempfile::TempDir,
}

/// A loopback port nobody listens on.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Where the servers of a run keep their data.
#[derive(Debug, Clone)]
enum Database {
    /// A fresh SQLite database in the server's data directory.
    Sqlite,
    /// A PostgreSQL database (every server of the run on it, sharing one key).
    Postgres(String),
}

/// The key the processes of a PostgreSQL run share.
const SHARED_KEY: &str = "the key every frase process of this benchmark shares";

/// A throwaway PostgreSQL database on the server at `FRASE_BENCH_POSTGRES_URL`, dropped by
/// [`drop_postgres`].
async fn create_postgres(server: &str) -> Result<String, sqlx::Error> {
    use sqlx::Connection;
    let mut admin = sqlx::PgConnection::connect(server).await?;
    let name = format!(
        "frase_bench_{}_{}",
        std::process::id(),
        rand::random::<u32>()
    );
    sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await?;
    let (base, _) = server.rsplit_once('/').expect("a database URL has a path");
    Ok(format!("{base}/{name}"))
}

async fn drop_postgres(server: &str, database: &str) {
    use sqlx::Connection;
    let Some((_, name)) = database.rsplit_once('/') else {
        return;
    };
    if let Ok(mut admin) = sqlx::PgConnection::connect(server).await {
        let _ = sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut admin)
            .await;
    }
}

/// `processes` servers on a fresh database: SQLite (one process), or a throwaway PostgreSQL
/// database made on `postgres` (the server URL) and dropped with [`stop_servers`].
async fn start_servers(
    binary: &std::path::Path,
    postgres: Option<&str>,
    processes: usize,
) -> Option<(Vec<Server>, Database)> {
    let database = match postgres {
        None => Database::Sqlite,
        Some(server) => match create_postgres(server).await {
            Ok(url) => Database::Postgres(url),
            Err(error) => {
                eprintln!("no PostgreSQL database for this run ({server}): {error}");
                return None;
            }
        },
    };
    let mut servers = Vec::with_capacity(processes);
    for _ in 0..processes {
        servers.push(start_server(binary, &database).await);
    }
    Some((servers, database))
}

async fn stop_servers(servers: Vec<Server>, database: Database, postgres: Option<&str>) {
    for mut server in servers {
        let _ = server.child.start_kill();
        let _ = server.child.wait().await;
    }
    if let (Database::Postgres(url), Some(server)) = (database, postgres) {
        drop_postgres(server, &url).await;
    }
}

async fn start_server(binary: &std::path::Path, database: &Database) -> Server {
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut command = tokio::process::Command::new(binary);
    command
        .args([
            "serve",
            "--addr",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
        ])
        .arg(data.path());
    if let Database::Postgres(url) = database {
        command
            .args(["--database", url])
            .env("FRASE_SECRET_KEY", SHARED_KEY);
    }
    let child = command
        .args([
            "--rate-limit",
            "off",
            "--streams-per-address",
            "0",
            "--connections-per-address",
            "0",
        ])
        .env("RUST_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("the release binary starts");
    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    for _ in 0..100 {
        if client.get(format!("{base}/healthz")).send().await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Server {
        child,
        base,
        port,
        _data: data,
    }
}

/// Opens `subscribers` streams on `port` and waits until each has its snapshot (or failed):
/// what each sees, their tasks, and how long opening them all took.
async fn open_subscribers(
    ports: &[u16],
    subscribers: usize,
) -> (Vec<Seen>, Vec<tokio::task::JoinHandle<()>>, Duration) {
    let opened = Instant::now();
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel(subscribers.max(1));
    let seen: Vec<Seen> = (0..subscribers).map(|_| Seen::default()).collect();
    let tasks: Vec<_> = seen
        .iter()
        .enumerate()
        .map(|(n, seen)| {
            let port = ports[n % ports.len()];
            tokio::spawn(subscribe(port, seen.clone(), ready_tx.clone()))
        })
        .collect();
    drop(ready_tx);
    for _ in 0..subscribers {
        if ready_rx.recv().await.is_none() {
            break;
        }
    }
    (seen, tasks, opened.elapsed())
}

/// Events lost (of every word sent × subscribers), doubled or out of order, and every
/// latency from a word's sending to its event being parsed, sorted.
fn tally(seen: &[Seen], sent: &HashMap<i64, Instant>) -> (usize, usize, Vec<Duration>) {
    let (mut lost, mut disorder, mut latencies) = (0usize, 0usize, Vec::new());
    for seen in seen {
        let seen = seen.lock().unwrap();
        let versions: Vec<i64> = seen.iter().map(|(v, _)| *v).collect();
        disorder += versions.windows(2).filter(|w| w[1] <= w[0]).count();
        for (version, at) in seen.iter() {
            if let Some(sent) = sent.get(version) {
                latencies.push(at.duration_since(*sent));
            }
        }
        lost += sent
            .keys()
            .filter(|version| !versions.contains(version))
            .count();
    }
    latencies.sort();
    (lost, disorder, latencies)
}

/// The native floor: a plain tokio program, in a process of its own (this benchmark started
/// again with `FRASE_BENCH_FLOOR_PORT`), that answers each connection with an event-stream head
/// and a snapshot, then writes every pre-encoded word frame to every socket — what the fan-out
/// costs with nothing else in the way. Each line on its standard input is the version of a word
/// to send. Same listen backlog as the server.
async fn floor_process(port: u16) {
    use tokio::io::AsyncReadExt;
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_reuseaddr(true).unwrap();
    socket
        .bind(std::net::SocketAddr::from(([127, 0, 0, 1], port)))
        .unwrap();
    let listener = socket.listen(16_384).unwrap();
    let (frames, _) = tokio::sync::broadcast::channel::<bytes::Bytes>(1024);
    let sender = frames.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            };
            let mut receiver = sender.subscribe();
            tokio::spawn(async move {
                let mut head = [0u8; 1024];
                let _ = socket.read(&mut head).await;
                let opening = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\r\n\
                    event: snapshot\ndata: {}\n\n";
                if socket.write_all(opening).await.is_err() {
                    return;
                }
                while let Ok(frame) = receiver.recv().await {
                    if socket.write_all(&frame).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    // Until its standard input closes: each line, a word to send.
    let _ = tokio::task::spawn_blocking(move || {
        use std::io::BufRead;
        for line in std::io::stdin().lock().lines() {
            let Ok(version) = line.unwrap_or_default().trim().parse::<i64>() else {
                continue;
            };
            let frame =
                format!("id: {version}\nevent: word\ndata: {{\"text\":\"w{version}\"}}\n\n");
            let _ = frames.send(bytes::Bytes::from(frame));
        }
    })
    .await;
}

/// The floor's run: the same subscribers and words, sent through the floor process.
async fn run_floor(subscribers: usize, words: usize, rate: f64) {
    let port = free_port();
    let mut floor = tokio::process::Command::new(std::env::current_exe().unwrap())
        .env("FRASE_BENCH_FLOOR_PORT", port.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("the floor starts");
    let control = floor.stdin.take().unwrap().into_owned_fd().unwrap();
    for _ in 0..100 {
        if TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (seen, tasks, open_time) = open_subscribers(&[port], subscribers).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    // Kept open until the floor is stopped: it exits when its standard input closes.
    let (sent, _control) = tokio::task::spawn_blocking(move || {
        use std::io::Write;
        let mut control = std::fs::File::from(control);
        let mut sent: HashMap<i64, Instant> = HashMap::new();
        let interval = Duration::from_secs_f64(1.0 / rate);
        for i in 0..words {
            let started = Instant::now();
            let version = i as i64 + 1;
            sent.insert(version, started);
            writeln!(control, "{version}").unwrap();
            std::thread::sleep(interval.saturating_sub(started.elapsed()));
        }
        (sent, control)
    })
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_secs(5)).await;
    let (lost, disorder, latencies) = tally(&seen, &sent);
    println!(
        "| {subscribers}, floor | {lost} of {} | {disorder} | {:?} | {:?} | – | – | {:.1} s |",
        sent.len() * subscribers,
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
        open_time.as_secs_f64(),
    );
    for task in tasks {
        task.abort();
    }
    floor.start_kill().unwrap();
    let _ = floor.wait().await;
}

/// frase's run: `subscribers` spread over `servers` (in turn), words posted to each in turn.
/// `label` names the setup in the table's first column.
async fn run(servers: &[Server], label: &str, subscribers: usize, words: usize, rate: f64) {
    let pids: Vec<u32> = servers
        .iter()
        .filter_map(|server| server.child.id())
        .collect();
    let rss = || pids.iter().map(|&pid| rss_kib(pid)).sum::<u64>();
    let rss_before = rss();
    let ports: Vec<u16> = servers.iter().map(|server| server.port).collect();
    let (seen, tasks, open_time) = open_subscribers(&ports, subscribers).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_open = rss();

    let bases: Vec<String> = servers.iter().map(|server| server.base.clone()).collect();
    let (sent, mut post_times) =
        tokio::task::spawn_blocking(move || post_words(&bases, words, rate))
            .await
            .unwrap();
    tokio::time::sleep(Duration::from_secs(5)).await;

    let (lost, disorder, latencies) = tally(&seen, &sent);
    post_times.sort();
    let per_stream = (rss_open.saturating_sub(rss_before)) as f64 / subscribers.max(1) as f64;
    println!(
        "| {label} | {lost} of {} | {disorder} | {:?} | {:?} | {:?} | {:.1} KiB | {:.1} s |",
        sent.len() * subscribers,
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
        percentile(&post_times, 0.99),
        per_stream,
        open_time.as_secs_f64(),
    );
    for task in tasks {
        task.abort();
    }
}

/// Posts `words` words one after another at `rate`, to `bases` in turn, each remembered with
/// its version and send time; returns those and each `POST`'s time.
///
/// On a thread and a runtime of its own, like the floor's sender: the subscribers' tasks share
/// the benchmark's runtime, and with 18,000 of them each word keeps its threads busy for tens of
/// milliseconds. A `POST` driven by that runtime could wait in the same queue to be written and
/// to have its answer read, and that wait, the benchmark's own, would count as the server's, in
/// the `POST`'s time and in every event's latency. (Side by side with the shared runtime the
/// figures moved within the runs' noise: bench/README.md.)
fn post_words(bases: &[String], words: usize, rate: f64) -> (HashMap<i64, Instant>, Vec<Duration>) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut sent: HashMap<i64, Instant> = HashMap::new();
        let mut post_times = Vec::new();
        let interval = Duration::from_secs_f64(1.0 / rate);
        let users: Vec<reqwest::Client> = (0..2)
            .map(|_| {
                reqwest::Client::builder()
                    .cookie_store(true)
                    .build()
                    .unwrap()
            })
            .collect();
        for i in 0..words {
            let started = Instant::now();
            let base = &bases[i % bases.len()];
            let response = users[i % 2]
                .post(format!("{base}/api/rooms/main/words"))
                .json(&serde_json::json!({ "text": format!("w{i}") }))
                .send()
                .await
                .unwrap();
            post_times.push(started.elapsed());
            let word: serde_json::Value = response.json().await.unwrap();
            if let Some(version) = word["version"].as_i64() {
                sent.insert(version, started);
            }
            tokio::time::sleep(interval.saturating_sub(started.elapsed())).await;
        }
        (sent, post_times)
    })
}

/// A counter from the server's `/metrics`.
async fn metric(base: &str, name: &str) -> u64 {
    let text = reqwest::get(format!("{base}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.trim().parse().ok())
        .unwrap_or(0)
}

/// CPU time (user and system) of process `pid` so far, from `/proc` (`self` for this one).
fn cpu_time(pid: &str) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The fields after the command's name (in parentheses, which may hold spaces); utime and
    // stime are the 14th and 15th fields, in clock ticks (100 per second on Linux).
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i)?.parse::<u64>().ok())
        .sum();
    Duration::from_millis(ticks * 10)
}

/// One writer's connection: keep-alive HTTP/1.1 written and read by hand, so that the client
/// costs the machine (which the server shares) as little as it can, as wrk would.
struct RawClient {
    stream: BufReader<TcpStream>,
    host: String,
    cookies: Vec<String>,
}

impl RawClient {
    async fn connect(port: u16) -> std::io::Result<RawClient> {
        let stream = TcpStream::connect(("127.0.0.1", port)).await?;
        stream.set_nodelay(true)?;
        Ok(RawClient {
            stream: BufReader::new(stream),
            host: format!("127.0.0.1:{port}"),
            cookies: Vec::new(),
        })
    }

    /// POSTs `json` to `path` and returns the response's status, keeping the cookies it sets.
    async fn post_json(&mut self, path: &str, json: &str) -> std::io::Result<u16> {
        let cookie = if self.cookies.is_empty() {
            String::new()
        } else {
            format!("cookie: {}\r\n", self.cookies.join("; "))
        };
        let request = format!(
            "POST {path} HTTP/1.1\r\nhost: {}\r\ncontent-type: application/json\r\n\
             content-length: {}\r\n{cookie}\r\n{json}",
            self.host,
            json.len()
        );
        self.stream.get_mut().write_all(request.as_bytes()).await?;
        let mut line = String::new();
        self.stream.read_line(&mut line).await?;
        let status = line
            .split_whitespace()
            .nth(1)
            .and_then(|code| code.parse().ok())
            .ok_or_else(|| std::io::Error::other(format!("no status line: {line:?}")))?;
        let (mut length, mut chunked) = (0usize, false);
        loop {
            line.clear();
            if self.stream.read_line(&mut line).await? == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            let Some((name, value)) = header.split_once(':') else {
                continue;
            };
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                length = value.parse().unwrap_or(0);
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = value.eq_ignore_ascii_case("chunked");
            } else if name.eq_ignore_ascii_case("set-cookie") {
                let pair = value.split(';').next().unwrap_or("").to_owned();
                let name = pair.split('=').next().unwrap_or("").to_owned();
                self.cookies
                    .retain(|kept| kept.split('=').next() != Some(name.as_str()));
                self.cookies.push(pair);
            }
        }
        if chunked {
            loop {
                line.clear();
                self.stream.read_line(&mut line).await?;
                let size = usize::from_str_radix(line.trim(), 16).unwrap_or(0);
                let mut chunk = vec![0; size + 2];
                self.stream.read_exact(&mut chunk).await?;
                if size == 0 {
                    break;
                }
            }
        } else {
            let mut body = vec![0; length];
            self.stream.read_exact(&mut body).await?;
        }
        Ok(status)
    }
}

/// The write benchmark: `writers` connections (each its own user) post words to one room as
/// fast as the servers answer (each writer on one of `servers`, in turn), for `seconds`. Every
/// 201 is a durable word (`synchronous=FULL` on SQLite, a committed transaction on PostgreSQL).
/// Also prints the CPU time the servers and this client used per word: on a small machine the
/// client's share is taken from the servers'.
async fn writes(servers: &[Server], label: &str, writers: usize, seconds: u64) {
    let host = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let room: serde_json::Value = host
        .post(format!("{}/api/rooms", servers[0].base))
        .json(&serde_json::json!({ "title": "bench", "settings": { "no_double_turn": false } }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let slug = room["slug"].as_str().unwrap().to_owned();
    let commits = || async {
        let mut total = 0;
        for server in servers {
            total += metric(&server.base, "frase_store_commits_total").await;
        }
        total
    };
    let server_cpu = || {
        servers
            .iter()
            .filter_map(|server| server.child.id())
            .map(|pid| cpu_time(&pid.to_string()))
            .sum::<Duration>()
    };
    let commits_before = commits().await;
    let (server_before, client_before) = (server_cpu(), cpu_time("self"));
    let started = Instant::now();
    let until = started + Duration::from_secs(seconds);
    let tasks: Vec<_> = (0..writers)
        .map(|writer| {
            let port = servers[writer % servers.len()].port;
            let path = format!("/api/rooms/{slug}/words");
            tokio::spawn(async move {
                let (mut times, mut refused) = (Vec::new(), 0usize);
                let mut client = None;
                let mut i = 0;
                while Instant::now() < until {
                    if client.is_none() {
                        client = RawClient::connect(port).await.ok();
                    }
                    let Some(connection) = client.as_mut() else {
                        refused += 1;
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        continue;
                    };
                    let sent = Instant::now();
                    let json = format!("{{\"text\":\"w{writer}n{i}\"}}");
                    match connection.post_json(&path, &json).await {
                        Ok(201) => times.push(sent.elapsed()),
                        Ok(_) => refused += 1,
                        Err(_) => {
                            // Connect again, keeping the user: its session cookie goes along.
                            let cookies = client.take().map(|old| old.cookies).unwrap_or_default();
                            client = RawClient::connect(port).await.ok().map(|mut new| {
                                new.cookies = cookies;
                                new
                            });
                            refused += 1;
                        }
                    }
                    i += 1;
                }
                (times, refused)
            })
        })
        .collect();
    let (mut times, mut refused) = (Vec::new(), 0);
    for task in tasks {
        let (mine, not) = task.await.unwrap();
        times.extend(mine);
        refused += not;
    }
    let elapsed = started.elapsed();
    let (server_used, client_used) = (
        server_cpu().saturating_sub(server_before),
        cpu_time("self").saturating_sub(client_before),
    );
    let commits = commits().await - commits_before;
    times.sort();
    let per_word = |cpu: Duration| cpu.as_secs_f64() * 1e6 / times.len().max(1) as f64;
    println!(
        "| {label} | {writers} | {} | {:.0} | {refused} | {:?} | {:?} | {:.1} | {:.0} µs | {:.0} µs |",
        times.len(),
        times.len() as f64 / elapsed.as_secs_f64(),
        percentile(&times, 0.5),
        percentile(&times, 0.99),
        times.len() as f64 / commits.max(1) as f64,
        per_word(server_used),
        per_word(client_used),
    );
}

fn main() {
    if let Some(port) = std::env::var("FRASE_BENCH_FLOOR_PORT")
        .ok()
        .and_then(|port| port.parse().ok())
    {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(floor_process(port));
        return;
    }
    let binary = std::env::var_os("FRASE_RELEASE_BINARY")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/release/frase")
        });
    assert!(
        binary.is_file(),
        "no release binary at {} (make build)",
        binary.display()
    );
    let runs: Vec<usize> = std::env::var("SUBSCRIBERS")
        .unwrap_or_else(|_| "1000".into())
        .split(',')
        .filter_map(|n| n.trim().parse().ok())
        .collect();
    let words = env_or("WORDS", 20usize);
    let rate = env_or("RATE", 10.0f64);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    println!("{words} words at {rate}/s; latency = POST sent → event parsed by a subscriber");
    println!(
        "| subscribers | lost events | doubled / out of order | p50 | p99 | POST p99 | server RSS per stream | all open after |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let postgres = std::env::var("FRASE_BENCH_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    let postgres = (postgres != "off").then_some(postgres);
    let postgres = postgres.as_deref();
    // Each setup: a label, whether on PostgreSQL, and how many processes.
    let setups: Vec<(&str, bool, usize)> = [
        ("SQLite", false, 1),
        ("PostgreSQL, 1 process", true, 1),
        ("PostgreSQL, 2 processes", true, 2),
    ]
    .into_iter()
    .filter(|(_, on_postgres, _)| !on_postgres || postgres.is_some())
    .collect();
    for subscribers in runs {
        runtime.block_on(run_floor(subscribers, words, rate));
        for (label, on_postgres, processes) in &setups {
            // Fan-out over PostgreSQL: the two-process spread (one process is the SQLite row's
            // hub fed by notifications instead).
            if *on_postgres && *processes == 1 {
                continue;
            }
            let label = format!("{subscribers}, {label}");
            runtime.block_on(async {
                let database = on_postgres.then_some(()).and(postgres);
                if let Some((servers, made)) = start_servers(&binary, database, *processes).await {
                    run(&servers, &label, subscribers, words, rate).await;
                    stop_servers(servers, made, database).await;
                }
            });
        }
    }

    let writers = env_or("WRITERS", 32usize);
    let seconds = env_or("WRITE_SECONDS", 10u64);
    println!();
    println!("Writes: {writers} connections posting words to one room for {seconds} s");
    println!(
        "| database | writers | durable words | words/s | refused | p50 | p99 | words per commit | server CPU per word | client CPU per word |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for (label, on_postgres, processes) in &setups {
        runtime.block_on(async {
            let database = on_postgres.then_some(()).and(postgres);
            if let Some((servers, made)) = start_servers(&binary, database, *processes).await {
                writes(&servers, label, writers, seconds).await;
                stop_servers(servers, made, database).await;
            }
        });
    }
    runtime.block_on(reads::reads(&binary));
}
