//! HTTPS: the rustls configuration, from PEM files or from a development certificate that is
//! generated for this machine (its names and LAN addresses), kept in the data dir and reused.
//!
//! TLS 1.2 and 1.3 only (rustls speaks nothing older), with ALPN offering HTTP/2 first.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::{self, ServerConfig};

use crate::server::config::TlsSource;

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read the certificate {path}: {detail}")]
    Certificate { path: String, detail: String },
    #[error("cannot read the private key {path}: {detail}")]
    Key { path: String, detail: String },
    #[error("the certificate and key do not go together: {0}")]
    Config(String),
    #[error("cannot generate the development certificate: {0}")]
    Generate(String),
    #[error("cannot keep the development certificate in {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

/// HTTPS, ready to accept: the rustls configuration and, for a generated certificate, where
/// it is (to tell the user what to trust).
pub struct Tls {
    pub config: Arc<ServerConfig>,
    pub generated_certificate: Option<PathBuf>,
}

impl Tls {
    pub fn load(source: &TlsSource, data_dir: &Path, addr: SocketAddr) -> Result<Tls, TlsError> {
        match source {
            TlsSource::Files { cert, key } => Ok(Tls {
                config: server_config(cert, key)?,
                generated_certificate: None,
            }),
            TlsSource::SelfSigned => {
                let files = SelfSigned::ensure(&data_dir.join("tls"), &local_names(addr))?;
                Ok(Tls {
                    config: server_config(&files.cert, &files.key)?,
                    generated_certificate: Some(files.cert),
                })
            }
        }
    }
}

/// The rustls configuration for a certificate chain and its key.
pub fn server_config(cert_path: &Path, key_path: &Path) -> Result<Arc<ServerConfig>, TlsError> {
    let certificate_error = |detail: String| TlsError::Certificate {
        path: cert_path.display().to_string(),
        detail,
    };
    let chain = CertificateDer::pem_file_iter(cert_path)
        .map_err(|error| certificate_error(error.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| certificate_error(error.to_string()))?;
    if chain.is_empty() {
        return Err(certificate_error(
            "no PEM certificate (-----BEGIN CERTIFICATE-----) in it".to_owned(),
        ));
    }
    let key = PrivateKeyDer::from_pem_file(key_path).map_err(|error| TlsError::Key {
        path: key_path.display().to_string(),
        detail: error.to_string(),
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|error| TlsError::Config(error.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|error| TlsError::Config(error.to_string()))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// The names a development certificate covers: `localhost`, the loopback addresses, the
/// address served on when it is a specific one, and this machine's LAN addresses when it
/// listens on all of them.
pub fn local_names(addr: SocketAddr) -> Vec<String> {
    let mut names = vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
    ];
    let mut add = |ip: IpAddr| {
        let name = ip.to_string();
        if !names.contains(&name) {
            names.push(name);
        }
    };
    if addr.ip().is_unspecified() {
        for interface in if_addrs::get_if_addrs().unwrap_or_default() {
            add(interface.ip());
        }
    } else {
        add(addr.ip());
    }
    names
}

/// A generated certificate's files in the data dir.
struct SelfSigned {
    cert: PathBuf,
    key: PathBuf,
}

impl SelfSigned {
    /// The certificate in `dir` when it covers `names`; otherwise a new one for them (the
    /// old names kept too, so a laptop moving between networks keeps one certificate).
    fn ensure(dir: &Path, names: &[String]) -> Result<SelfSigned, TlsError> {
        let files = SelfSigned {
            cert: dir.join("self-signed.crt"),
            key: dir.join("self-signed.key"),
        };
        let names_path = dir.join("self-signed.names");
        let io = |path: &Path| {
            let path = path.display().to_string();
            move |source| TlsError::Io { path, source }
        };
        let mut covered: Vec<String> = std::fs::read_to_string(&names_path)
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect();
        let present = files.cert.exists() && files.key.exists();
        if present && names.iter().all(|name| covered.contains(name)) {
            return Ok(files);
        }
        for name in names {
            if !covered.contains(name) {
                covered.push(name.clone());
            }
        }
        let generated = rcgen::generate_simple_self_signed(covered.clone())
            .map_err(|error| TlsError::Generate(error.to_string()))?;
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        write_replacing(&files.key, &generated.key_pair.serialize_pem(), 0o600)
            .map_err(io(&files.key))?;
        write_replacing(&files.cert, &generated.cert.pem(), 0o644).map_err(io(&files.cert))?;
        write_replacing(&names_path, &(covered.join("\n") + "\n"), 0o644)
            .map_err(io(&names_path))?;
        tracing::info!(
            path = %files.cert.display(),
            names = %covered.join(", "),
            "generated a development certificate"
        );
        Ok(files)
    }
}

/// Writes `contents` to a temporary file with `mode` and renames it over `path`, so a reader
/// never sees half a key and the key is never readable by others, even for a moment.
fn write_replacing(path: &Path, contents: &str, mode: u32) -> std::io::Result<()> {
    use std::io::Write;
    let temporary = path.with_extension("tmp");
    let _ = std::fs::remove_file(&temporary);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut file = options.open(&temporary)?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&temporary, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_development_certificate_is_made_once_and_grows_with_new_names() {
        let dir = tempfile::tempdir().unwrap();
        let names = local_names("127.0.0.1:3000".parse().unwrap());
        assert_eq!(names, ["localhost", "127.0.0.1", "::1"]);
        let first = SelfSigned::ensure(dir.path(), &names).unwrap();
        let pem = std::fs::read_to_string(&first.cert).unwrap();
        assert!(server_config(&first.cert, &first.key).is_ok());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&first.key).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // The same names: the same certificate.
        let again = SelfSigned::ensure(dir.path(), &names).unwrap();
        assert_eq!(std::fs::read_to_string(&again.cert).unwrap(), pem);
        // A new address: a new certificate that still covers the old ones.
        let more = [names.clone(), vec!["192.168.1.20".to_owned()]].concat();
        SelfSigned::ensure(dir.path(), &more).unwrap();
        assert_ne!(std::fs::read_to_string(&again.cert).unwrap(), pem);
        let covered = std::fs::read_to_string(dir.path().join("self-signed.names")).unwrap();
        assert_eq!(covered.lines().collect::<Vec<_>>(), more);
    }

    #[test]
    fn unreadable_files_are_named_in_the_error() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.pem");
        let error = server_config(&missing, &missing).unwrap_err();
        assert!(error.to_string().contains("missing.pem"), "{error}");
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "").unwrap();
        let error = server_config(&empty, &empty).unwrap_err();
        assert!(error.to_string().contains("no PEM certificate"), "{error}");
    }
}
