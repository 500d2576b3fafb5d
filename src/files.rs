//! The file server behind FILE folders (draft 2.11.5): the backend built from `[files]` at
//! start-up, and each login's account on it. The account is opened with the credentials the
//! CalDAV/CardDAV server gets (the user's own login), and finds its home lazily, on first use,
//! so a login costs no request to the file server.

use std::sync::Arc;

use agap_adapter_api::Credentials;
use agap_adapter_api::files::{FileAccount, FileBackend};
use agap_adapter_dav::DavFileBackend;

use crate::config::FilesConfig;
use crate::error::AgapResult;
use crate::gateway::Gateway;

/// Members of one directory the gateway reads: a listing past it is refused (the folder's items
/// cannot be shown, its subfolders are not), never cut short.
pub const MAX_ENTRIES: usize = 20_000;
/// FILE folders shown at most; more are logged and left out.
pub const MAX_DIRECTORIES: usize = 1_000;
/// Levels below /FILESHARE (or a FILE folder of the root) shown at most.
pub const MAX_DEPTH: usize = 32;

/// The backend of `[files]`; `None` without `[files] url`.
pub fn backend(config: &FilesConfig) -> anyhow::Result<Option<Arc<dyn FileBackend>>> {
    let Some(url) = config.checked_url()? else { return Ok(None) };
    let backend = if url.starts_with("https:") {
        let tls = crate::tls::client_config(config.ca_file.as_deref())?;
        DavFileBackend::with_tls(url, &tls)
    } else {
        DavFileBackend::new(url)
    };
    let backend = backend.map_err(|error| anyhow::anyhow!("[files] url: {}", error.reason()))?;
    Ok(Some(Arc::new(backend)))
}

/// The file account of a login with `credentials` (those of the CalDAV/CardDAV server); `None`
/// when the gateway has no file server.
pub async fn open(gateway: &Gateway, credentials: &Credentials) -> AgapResult<Option<Arc<dyn FileAccount>>> {
    match &gateway.files {
        Some(backend) => Ok(Some(backend.open(credentials).await?)),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn no_url_no_backend_and_a_template_opens_an_account_without_a_request() {
        assert!(backend(&FilesConfig::default()).expect("no url").is_none());
        let config = FilesConfig {
            // Nothing listens there: opening must not ask the server anything.
            url: Some("http://127.0.0.1:9/files/{user}/".into()),
            allow_plain: true,
            ca_file: None,
        };
        let backend = backend(&config).expect("valid").expect("a backend");
        backend.open(&Credentials::new("alice", "pw")).await.expect("opened lazily");
        let refused = FilesConfig { allow_plain: false, ..config };
        assert!(super::backend(&refused).is_err());
    }
}
