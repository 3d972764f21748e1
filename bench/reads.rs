//! The read benchmark: `GET /api/rooms/main` (a room's state, served from memory) and
//! `GET /healthz` on frase, against nginx serving the same bytes as a static file, each driven
//! by `wrk` on this machine for `READ_SECONDS` with `READ_CONNECTIONS` connections. Skipped,
//! with the reason printed, where `wrk` or nginx is not installed.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use crate::{Database, env_or, start_server};

/// What `wrk` measured: requests per second and the 99th percentile latency.
struct Throughput {
    per_second: f64,
    p99: String,
    non_2xx: u64,
}

fn installed(candidates: &[&str]) -> Option<PathBuf> {
    candidates
        .iter()
        .map(PathBuf::from)
        .find(|path| path.is_file())
}

/// Runs `wrk` against `url` and reads its summary.
async fn wrk(wrk: &Path, url: &str, connections: usize, seconds: u64) -> Option<Throughput> {
    let output = tokio::process::Command::new(wrk)
        .args([
            "-t2",
            &format!("-c{connections}"),
            &format!("-d{seconds}s"),
            "--latency",
            url,
        ])
        .stderr(Stdio::inherit())
        .output()
        .await
        .ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    let per_second = text
        .lines()
        .find_map(|line| line.trim().strip_prefix("Requests/sec:"))?
        .trim()
        .parse()
        .ok()?;
    let p99 = text
        .lines()
        .find_map(|line| line.trim().strip_prefix("99%"))
        .map_or_else(|| "?".to_owned(), |value| value.trim().to_owned());
    let non_2xx = text
        .lines()
        .find_map(|line| line.trim().strip_prefix("Non-2xx or 3xx responses:"))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or(0);
    Some(Throughput {
        per_second,
        p99,
        non_2xx,
    })
}

/// nginx on `port`, serving `dir` (in the foreground, its files in `dir`), until dropped.
async fn start_nginx(nginx: &Path, dir: &Path, port: u16) -> Option<tokio::process::Child> {
    let config = format!(
        "worker_processes auto;\ndaemon off;\npid {dir}/nginx.pid;\nerror_log {dir}/error.log;\n\
         events {{ worker_connections 4096; }}\n\
         http {{\n  access_log off;\n  client_body_temp_path {dir};\n  proxy_temp_path {dir};\n  \
         fastcgi_temp_path {dir};\n  uwsgi_temp_path {dir};\n  scgi_temp_path {dir};\n  \
         server {{\n    listen 127.0.0.1:{port};\n    root {dir};\n    \
         location / {{ default_type application/json; }}\n  }}\n}}\n",
        dir = dir.display()
    );
    let config_path = dir.join("nginx.conf");
    std::fs::write(&config_path, config).ok()?;
    let child = tokio::process::Command::new(nginx)
        .arg("-c")
        .arg(&config_path)
        .arg("-p")
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .ok()?;
    let url = format!("http://127.0.0.1:{port}/room.json");
    for _ in 0..50 {
        if reqwest::get(&url).await.is_ok_and(|r| r.status() == 200) {
            return Some(child);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    None
}

fn row(what: &str, measured: &Option<Throughput>, nginx: Option<f64>) {
    match measured {
        Some(measured) => {
            let share = nginx.map_or_else(
                || "–".to_owned(),
                |nginx| format!("{:.0} %", 100.0 * measured.per_second / nginx),
            );
            println!(
                "| {what} | {:.0} | {} | {} | {share} |",
                measured.per_second, measured.p99, measured.non_2xx
            );
        }
        None => println!("| {what} | wrk failed | – | – | – |"),
    }
}

/// Runs the read benchmark and prints its table.
pub async fn reads(binary: &Path) {
    let seconds = env_or("READ_SECONDS", 10u64);
    let connections = env_or("READ_CONNECTIONS", 64usize);
    println!();
    println!("Reads: wrk, {connections} connections, {seconds} s each, one after the other");
    let Some(wrk_path) = installed(&["/usr/bin/wrk", "/usr/local/bin/wrk"]) else {
        println!("(skipped: wrk is not installed; apt-get install wrk)");
        return;
    };
    println!("| GET | requests/s | p99 | non-2xx | of nginx |");
    println!("|---|---|---|---|---|");
    let server = start_server(binary, &Database::Sqlite).await;
    let room_url = format!("{}/api/rooms/main", server.base);
    let body = reqwest::get(&room_url)
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();

    let nginx = match installed(&["/usr/sbin/nginx", "/usr/bin/nginx"]) {
        Some(nginx_path) => {
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join("room.json"), &body).unwrap();
            let port = crate::free_port();
            match start_nginx(&nginx_path, dir.path(), port).await {
                Some(mut child) => {
                    let url = format!("http://127.0.0.1:{port}/room.json");
                    let measured = wrk(&wrk_path, &url, connections, seconds).await;
                    let _ = child.start_kill();
                    let _ = child.wait().await;
                    row(
                        &format!("nginx, the same {} bytes as a file", body.len()),
                        &measured,
                        None,
                    );
                    measured.map(|measured| measured.per_second)
                }
                None => {
                    println!("| nginx | did not start | – | – | – |");
                    None
                }
            }
        }
        None => {
            println!("| nginx | not installed (apt-get install nginx) | – | – | – |");
            None
        }
    };
    let room = wrk(&wrk_path, &room_url, connections, seconds).await;
    row("frase /api/rooms/main", &room, nginx);
    let health_url = format!("{}/healthz", server.base);
    let health = wrk(&wrk_path, &health_url, connections, seconds).await;
    row("frase /healthz", &health, nginx);
    let mut child = server.child;
    let _ = child.start_kill();
    let _ = child.wait().await;
}
