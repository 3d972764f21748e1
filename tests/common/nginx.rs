//! nginx in front of frase processes, configured by the repository's own `deploy/nginx.conf`
//! (its upstream and port rewritten), so the tests exercise what operators deploy.

use std::path::{Path, PathBuf};
use std::time::Duration;

/// A running nginx, stopped when dropped. It runs as one process (`master_process off`): a
/// test that ends however it ends leaves no worker behind.
pub struct Nginx {
    /// Where it listens, on 127.0.0.1.
    pub port: u16,
    process: tokio::process::Child,
    _prefix: tempfile::TempDir,
}

impl Nginx {
    /// nginx on a free port proxying to frase on each of `upstream_ports`. `None` (the test
    /// skips, saying why) where nginx is not installed; a failure under `FRASE_TEST_REQUIRE=all`.
    pub async fn start(upstream_ports: &[u16]) -> Option<Nginx> {
        let Some(binary) = nginx_binary() else {
            super::skip("no nginx (apt-get install nginx; scripts/bootstrap.sh test installs it)");
            return None;
        };
        let prefix = tempfile::tempdir().expect("a directory for nginx");
        let port = super::free_port();
        let configuration = configuration(prefix.path(), port, upstream_ports);
        let path = prefix.path().join("nginx.conf");
        std::fs::write(&path, configuration).expect("nginx.conf is written");
        let process = tokio::process::Command::new(binary)
            .arg("-p")
            .arg(prefix.path())
            .arg("-e")
            .arg(prefix.path().join("error.log"))
            .arg("-c")
            .arg(&path)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("nginx starts");
        let mut nginx = Nginx {
            port,
            process,
            _prefix: prefix,
        };
        let address = format!("127.0.0.1:{port}");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while tokio::net::TcpStream::connect(&address).await.is_err() {
            if let Ok(Some(status)) = nginx.process.try_wait() {
                let log = std::fs::read_to_string(nginx._prefix.path().join("error.log"))
                    .unwrap_or_default();
                panic!("nginx exited ({status}): {log}");
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "nginx listens on {address}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Some(nginx)
    }

    /// Its base URL.
    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

fn nginx_binary() -> Option<PathBuf> {
    ["/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/bin/nginx"]
        .into_iter()
        .map(PathBuf::from)
        .find(|path| path.is_file())
}

/// `deploy/nginx.conf` with these upstream servers and this port, in a main configuration that
/// keeps every file nginx writes under `prefix`.
fn configuration(prefix: &Path, port: u16, upstream_ports: &[u16]) -> String {
    let site =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/nginx.conf"))
            .expect("deploy/nginx.conf");
    let upstreams: String = upstream_ports
        .iter()
        .map(|port| format!("    server 127.0.0.1:{port};\n"))
        .collect();
    let mut rewritten = String::new();
    for line in site.lines() {
        match line {
            "    server 127.0.0.1:3000;" => rewritten.push_str(&upstreams),
            "    # server 127.0.0.1:3001;" | "    listen [::]:80;" => {}
            "    listen 80;" => rewritten.push_str(&format!("    listen 127.0.0.1:{port};\n")),
            _ => {
                rewritten.push_str(line);
                rewritten.push('\n');
            }
        }
    }
    assert!(
        rewritten.contains(&upstreams) && rewritten.contains(&format!("listen 127.0.0.1:{port}")),
        "deploy/nginx.conf still has the upstream and listen lines this test rewrites"
    );
    let prefix = prefix.display();
    format!(
        "daemon off;\nmaster_process off;\npid {prefix}/nginx.pid;\nerror_log {prefix}/error.log;\n\
         events {{}}\n\
         http {{\n  access_log off;\n  client_body_temp_path {prefix}/body;\n  \
         proxy_temp_path {prefix}/proxy;\n  fastcgi_temp_path {prefix}/fastcgi;\n  \
         uwsgi_temp_path {prefix}/uwsgi;\n  scgi_temp_path {prefix}/scgi;\n{rewritten}}}\n"
    )
}
