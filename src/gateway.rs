//! What every session shares: configuration, backends and the store.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use agap_adapter_api::collection::CollectionBackend;
use agap_adapter_api::mail::MailBackend;

use crate::config::Config;
use crate::folder::FolderType;
use crate::store::GatewayStore;

/// The shared state of one gateway process.
#[derive(Debug)]
pub struct Gateway {
    /// The configuration it started with.
    pub config: Config,
    /// The backend of MESG folders.
    pub mail: Arc<dyn MailBackend>,
    /// The backend of CALE, TASK, JRNL and ADDR folders, when one is configured.
    pub collections: Option<Arc<dyn CollectionBackend>>,
    /// The gateway's own store.
    pub store: Arc<dyn GatewayStore>,
}

impl Gateway {
    /// Folder types MAKE can create: exactly those some adapter serves.
    pub fn creatable_types(&self) -> &'static [FolderType] {
        if self.collections.is_some() {
            &[
                FolderType::Mesg,
                FolderType::Fold,
                FolderType::Filt,
                FolderType::Cale,
                FolderType::Task,
                FolderType::Jrnl,
                FolderType::Addr,
            ]
        } else {
            &[FolderType::Mesg, FolderType::Fold, FolderType::Filt]
        }
    }

    /// CAPA lines (draft 4.7): only what works.
    pub fn capabilities(&self) -> Vec<String> {
        // MESG: every message command; FILT: saved filters over message folders; the four
        // collection types with a CalDAV/CardDAV server.
        let mut lines = vec!["AUTH-PLAIN", "CHNG", "FILT", "MESG"];
        if self.collections.is_some() {
            lines.extend(["ADDR", "CALE", "JRNL", "TASK"]);
        }
        lines.sort_unstable();
        lines.into_iter().map(String::from).collect()
    }

    /// Milliseconds since the epoch: the floor of new change ids.
    pub fn now_ms(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            .unwrap_or(0)
    }
}
