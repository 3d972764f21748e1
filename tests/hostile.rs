//! Issue 17: one hostile address against a real server process (the built binary).

mod common;

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{frase_binary, free_port, start_server_process};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

/// The server (the release binary where there is one: the figures are its), limited to `files`
/// open files (1,024 like many a default machine).
async fn start_limited(data_dir: &std::path::Path, port: u16, files: u32) -> tokio::process::Child {
    let binary = std::env::var_os("FRASE_RELEASE_BINARY")
        .map(std::path::PathBuf::from)
        .or_else(|| {
            let release =
                std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/release/frase");
            release.is_file().then_some(release)
        })
        .unwrap_or_else(frase_binary);
    let command_line = format!(
        "ulimit -n {files} && exec '{}' serve --addr 127.0.0.1:{port} --data-dir '{}'",
        binary.display(),
        data_dir.display()
    );
    let mut command = tokio::process::Command::new("sh");
    command.args(["-c", &command_line]);
    start_server_process(command, port).await
}

/// Acceptance 3: 1,100 connections from one address, each trickling a request body a byte at
/// a time (and coming back when closed), against a server with 1,024 open files: the room API
/// keeps answering other addresses within a second throughout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_trickling_bodies_cannot_starve_the_room_api() {
    const ATTACKERS: usize = 1100;
    const ATTACK: Duration = Duration::from_secs(12);
    let data_dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut server = start_limited(data_dir.path(), port, 1024).await;
    let stop = Arc::new(AtomicBool::new(false));
    let open = Arc::new(AtomicUsize::new(0));

    let attackers: Vec<_> = (0..ATTACKERS)
        .map(|_| {
            let (stop, open) = (stop.clone(), open.clone());
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)).await else {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    };
                    let head = format!(
                        "POST /api/rooms/main/words HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\n\
                         content-type: application/json\r\ncontent-length: 4000\r\n\r\n"
                    );
                    if stream.write_all(head.as_bytes()).await.is_err() {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                    open.fetch_add(1, Ordering::Relaxed);
                    while !stop.load(Ordering::Relaxed) && stream.write_all(b" ").await.is_ok() {
                        tokio::time::sleep(Duration::from_millis(500)).await;
                    }
                    open.fetch_sub(1, Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            })
        })
        .collect();

    // Probes from another loopback address, as another machine on the network would be.
    let probe = reqwest::Client::builder()
        .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)))
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}/api/rooms/main");
    let started = Instant::now();
    let mut slow = Vec::new();
    let mut probes = 0;
    while started.elapsed() < ATTACK {
        tokio::time::sleep(Duration::from_millis(400)).await;
        probes += 1;
        let sent = Instant::now();
        match probe.get(&url).send().await {
            Ok(response) if response.status() == 200 => {}
            Ok(response) => slow.push(format!("{} after {:?}", response.status(), sent.elapsed())),
            Err(error) => slow.push(format!("{error} after {:?}", sent.elapsed())),
        }
    }
    let held = open.load(Ordering::Relaxed);
    stop.store(true, Ordering::Relaxed);
    for attacker in attackers {
        attacker.abort();
    }
    eprintln!("{probes} probes; the attacker held {held} connections at the end");
    assert!(
        slow.is_empty(),
        "{} of {probes} probes missed a second: {slow:?}",
        slow.len()
    );
    server.start_kill().unwrap();
    let _ = server.wait().await;
}

/// Issue 19: past what the open-files limit leaves room for, a connection is answered 503 with
/// `Retry-After` (not left unaccepted), and the server serves again once connections close.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_past_the_open_files_limit_get_503_with_retry_after() {
    const FILES: usize = 150;
    // `open_files::RESERVED`: the server keeps 64 descriptors for itself.
    const ROOM: usize = FILES - 64;
    let data_dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut server = start_limited(data_dir.path(), port, FILES as u32).await;

    // Connections that each got an answer and stay open (kept alive).
    let mut held = Vec::new();
    let busy = loop {
        assert!(held.len() <= FILES, "no connection was refused");
        let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nhost: frase\r\n\r\n")
            .await
            .unwrap();
        let mut answer = vec![0u8; 4096];
        let read = tokio::time::timeout(
            Duration::from_secs(5),
            tokio::io::AsyncReadExt::read(&mut stream, &mut answer),
        )
        .await
        .expect("every connection is answered")
        .unwrap();
        let answer = String::from_utf8_lossy(&answer[..read]).into_owned();
        if answer.starts_with("HTTP/1.1 200") {
            held.push(stream);
            continue;
        }
        break answer;
    };
    eprintln!("refused after {} connections: {busy}", held.len());
    assert!(busy.starts_with("HTTP/1.1 503"), "{busy}");
    assert!(busy.contains("retry-after: 5"), "{busy}");
    assert!(busy.contains("application/problem+json"), "{busy}");
    assert!(
        (ROOM - 3..=ROOM).contains(&held.len()),
        "{} connections held before the first 503 (room for {ROOM})",
        held.len()
    );

    drop(held);
    common::eventually(
        Duration::from_secs(10),
        "the server answers again",
        || async {
            matches!(
                reqwest::get(format!("http://127.0.0.1:{port}/healthz")).await,
                Ok(response) if response.status() == 200
            )
        },
    )
    .await;
    server.start_kill().unwrap();
    let _ = server.wait().await;
}
