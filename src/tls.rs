//! TLS settings built from PEM files: the server side of STLS and of implicit-TLS listeners
//! (draft 4.9), and the client side of the upstream connections (IMAPS, IMAP STARTTLS, https).
//!
//! One crypto provider (aws-lc-rs, the one reqwest's rustls feature already brings) for every
//! side, so the binary carries one TLS implementation and no OpenSSL.

use std::path::Path;
use std::sync::Arc;

use tokio_rustls::rustls::crypto::CryptoProvider;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::{self, ClientConfig, RootCertStore, ServerConfig};

/// A TLS setting that cannot be used, with the file and the reason.
#[derive(Debug, thiserror::Error)]
#[error("TLS: {0}")]
pub struct TlsConfigError(String);

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// Reads every certificate of a PEM file; a file without one is an error.
fn read_certificates(path: &Path, what: &str) -> Result<Vec<CertificateDer<'static>>, TlsConfigError> {
    let certificates = CertificateDer::pem_file_iter(path)
        .and_then(|iter| iter.collect::<Result<Vec<_>, _>>())
        .map_err(|e| TlsConfigError(format!("{what} {}: {e}", path.display())))?;
    if certificates.is_empty() {
        return Err(TlsConfigError(format!("{what} {}: no PEM certificate in it", path.display())));
    }
    Ok(certificates)
}

/// The server side: the certificate chain (leaf first) and its private key (PKCS#8, PKCS#1 or
/// SEC1), both PEM.
pub fn server_config(certificate: &Path, key: &Path) -> Result<Arc<ServerConfig>, TlsConfigError> {
    let chain = read_certificates(certificate, "certificate")?;
    let key =
        PrivateKeyDer::from_pem_file(key).map_err(|e| TlsConfigError(format!("private key {}: {e}", key.display())))?;
    let config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsConfigError(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| TlsConfigError(format!("certificate {} and its key: {e}", certificate.display())))?;
    Ok(Arc::new(config))
}

/// The client side for upstream servers, with verified certificates: the roots are the
/// certificates of `ca_file` alone when it is given (a private CA, as curl's `--cacert`), else
/// the system's store (`/etc/ssl/certs` and the like, honouring `SSL_CERT_FILE`).
pub fn client_config(ca_file: Option<&Path>) -> Result<ClientConfig, TlsConfigError> {
    let mut roots = RootCertStore::empty();
    match ca_file {
        Some(path) => {
            for certificate in read_certificates(path, "CA file")? {
                roots.add(certificate).map_err(|e| TlsConfigError(format!("CA file {}: {e}", path.display())))?;
            }
        }
        None => {
            let system = rustls_native_certs::load_native_certs();
            for error in &system.errors {
                tracing::warn!(%error, "a system CA certificate could not be read");
            }
            roots.add_parsable_certificates(system.certs);
            if roots.is_empty() {
                // Every handshake would fail; say why now rather than at the first login.
                return Err(TlsConfigError(
                    "no trusted root certificate in the system store: install ca-certificates or set ca_file".into(),
                ));
            }
        }
    }
    let config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsConfigError(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, contents: &str) -> std::path::PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, contents).expect("write");
        path
    }

    fn self_signed() -> (String, String) {
        let certified = rcgen::generate_simple_self_signed(vec!["localhost".into()]).expect("certificate");
        (certified.cert.pem(), certified.signing_key.serialize_pem())
    }

    #[test]
    fn a_certificate_and_its_key_make_a_server_config() {
        let dir = tempfile::tempdir().expect("dir");
        let (cert, key) = self_signed();
        let cert = write(dir.path(), "cert.pem", &cert);
        let key = write(dir.path(), "key.pem", &key);
        assert!(server_config(&cert, &key).is_ok());
    }

    #[test]
    fn missing_or_mismatched_files_are_errors_naming_the_file() {
        let dir = tempfile::tempdir().expect("dir");
        let (cert, _) = self_signed();
        let (_, other_key) = self_signed();
        let cert = write(dir.path(), "cert.pem", &cert);
        let other_key = write(dir.path(), "other-key.pem", &other_key);
        let error = server_config(&cert, &other_key).expect_err("mismatched key").to_string();
        assert!(error.contains("cert.pem"), "{error}");
        let error = server_config(&dir.path().join("none.pem"), &other_key).expect_err("missing").to_string();
        assert!(error.contains("none.pem"), "{error}");
        let empty = write(dir.path(), "empty.pem", "");
        assert!(client_config(Some(&empty)).expect_err("empty CA file").to_string().contains("no PEM certificate"));
    }

    #[test]
    fn a_ca_file_is_the_only_trust_anchor() {
        let dir = tempfile::tempdir().expect("dir");
        let (cert, _) = self_signed();
        let ca = write(dir.path(), "ca.pem", &cert);
        assert!(client_config(Some(&ca)).is_ok());
    }
}
