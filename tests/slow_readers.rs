//! Issue 17, acceptance 2: clients that stop reading cost bounded memory and are dropped.
//!
//! Run against the release binary (`make build`), whose assets are embedded and served without
//! a copy per response; a debug build reads them from disk on each request. Skipped with the
//! reason where there is no release binary, a failure under `FRASE_TEST_REQUIRE=all`.

mod common;

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpSocket;

const READERS: usize = 300;
const WRITE_TIMEOUT_SECONDS: u64 = 5;

/// The server's open file descriptors (its sockets among them).
fn open_files(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .count()
}

/// The server's side of the TCP connections to `port` that are not yet closed: sockets whose
/// local port is `port`, other than the listener. Counted from /proc/net/tcp, so a keep-alive
/// connection that an earlier request left and is still closing does not blur the count.
fn server_connections(port: u16) -> usize {
    let table = std::fs::read_to_string("/proc/net/tcp").unwrap();
    let port = format!(":{port:04X}");
    table
        .lines()
        .skip(1)
        .filter(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            // fields[1] is local address:port, fields[3] the state: 0A is LISTEN, 06
            // TIME_WAIT (no socket left in the process), 07 CLOSE.
            fields.len() > 3
                && fields[1].ends_with(&port)
                && !matches!(fields[3], "0A" | "06" | "07")
        })
        .count()
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/PID/status")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readers_that_stop_reading_cost_bounded_memory_and_are_dropped() {
    let Some(binary) = common::release_binary() else {
        return;
    };
    let data_dir = tempfile::tempdir().unwrap();
    let port = common::free_port();
    let mut command = tokio::process::Command::new(binary);
    command
        .args([
            "serve",
            "--addr",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
        ])
        .arg(data_dir.path())
        .args(["--write-timeout", &WRITE_TIMEOUT_SECONDS.to_string()]);
    let mut server = common::start_server_process(command, port).await;
    let pid = server.id().unwrap();
    let page = reqwest::get(format!("http://127.0.0.1:{port}/r/main"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // The page's connection closes with its client; wait until the server has let it go.
    common::eventually(
        Duration::from_secs(5),
        "no connection left open",
        || async { server_connections(port) == 0 },
    )
    .await;
    let wasm = page
        .match_indices("/pkg/")
        .filter_map(|(at, _)| page[at..].split(['"', '\'']).next())
        .find(|name| name.ends_with(".wasm"))
        .expect("the page names its .wasm")
        .to_owned();
    let before = rss_kib(pid);
    let files_before = open_files(pid);

    // Each reader asks for the whole uncompressed .wasm, then reads one byte now and then.
    let started = Instant::now();
    let readers: Vec<_> = (0..READERS)
        .map(|_| {
            let wasm = wasm.clone();
            tokio::spawn(async move {
                let socket = TcpSocket::new_v4().unwrap();
                socket.set_recv_buffer_size(4096).unwrap();
                let mut stream = socket
                    .connect(format!("127.0.0.1:{port}").parse().unwrap())
                    .await
                    .unwrap();
                let request = format!(
                    "GET {wasm} HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\naccept-encoding: identity\r\n\r\n"
                );
                stream.write_all(request.as_bytes()).await.unwrap();
                let mut byte = [0u8; 1];
                let mut read = 0u64;
                loop {
                    match stream.read(&mut byte).await {
                        Ok(0) | Err(_) => return (read, started.elapsed()),
                        Ok(n) => read += n as u64,
                    }
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let during = rss_kib(pid);
    let files_during = open_files(pid);
    let connected = server_connections(port);
    assert_eq!(
        connected, READERS,
        "every reader is connected ({files_before} files before, {files_during} with them)"
    );
    let grown_mib = during.saturating_sub(before) / 1024;
    eprintln!("server RSS {before} KiB before, {during} KiB with {READERS} stalled readers");
    assert!(
        grown_mib <= 64,
        "{READERS} stalled readers grew the server by {grown_mib} MiB"
    );

    // The server lets go of them (and of what it queued for them) at the write timeout. The
    // client may still read what had reached its own buffer; what counts is the server's side.
    let deadline = started + Duration::from_secs(WRITE_TIMEOUT_SECONDS + 10);
    let mut files_after = open_files(pid);
    while files_after > files_before + 5 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        files_after = open_files(pid);
    }
    eprintln!(
        "server files: {files_before} before, {files_during} with {READERS} stalled readers, \
         {files_after} {:?} after they started",
        started.elapsed()
    );
    assert!(
        files_after <= files_before + 5,
        "the server still holds {} connections after {:?}",
        files_after - files_before,
        started.elapsed()
    );
    let still_open = server_connections(port);
    assert!(
        still_open <= 5,
        "{still_open} of the server's connections are still open after {:?}",
        started.elapsed()
    );
    for reader in readers {
        reader.abort();
    }
    let after = rss_kib(pid);
    eprintln!("server RSS {after} KiB once they were dropped");
    server.start_kill().unwrap();
    let _ = server.wait().await;
}
