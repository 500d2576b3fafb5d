//! What every session shares: configuration, backends and the store.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use agap_adapter_api::collection::CollectionBackend;
use agap_adapter_api::files::FileBackend;
use agap_adapter_api::mail::MailBackend;

use crate::account::ReservedChecks;
use crate::auth::{Mechanism, UsersFile};
use crate::clock::Clock;
use crate::config::Config;
use crate::delivery::Delivery;
use crate::folder::FolderType;
use crate::format::compose::Defaults;
use crate::limits::Limits;
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
    /// The backend of FILE folders, when `[files] url` is set (see `crate::files`).
    pub files: Option<Arc<dyn FileBackend>>,
    /// The gateway's own store.
    pub store: Arc<dyn GatewayStore>,
    /// The passwords behind AUTH MD5 and SHA1, when `[auth] users_file` is set.
    pub credentials: Option<UsersFile>,
    /// Per-address connection counts, failed logins and bans.
    pub limits: Arc<Limits>,
    /// The wall clock of presence times (a manual one in tests).
    pub clock: Clock,
    /// Delivery into other accounts (AUTH STORING, FSTO), when `[delivery] lmtp` is set.
    pub delivery: Option<Arc<Delivery>>,
    /// When each user's reserved folders were last made sure of.
    pub reserved_checks: ReservedChecks,
}

impl Gateway {
    /// Folder types MAKE can create: exactly those some adapter serves.
    pub fn creatable_types(&self) -> Vec<FolderType> {
        let mut types = vec![FolderType::Mesg, FolderType::Note, FolderType::Conf, FolderType::Fold, FolderType::Filt];
        if self.collections.is_some() {
            types.extend([FolderType::Cale, FolderType::Task, FolderType::Jrnl, FolderType::Addr]);
        }
        if self.files.is_some() {
            types.push(FolderType::File);
        }
        types
    }

    /// Why `mechanism` is not offered, or `None` when AUTH accepts it.
    pub fn mechanism_refusal(&self, mechanism: Mechanism) -> Option<&'static str> {
        crate::auth::refusal(
            mechanism,
            self.credentials.is_some(),
            self.config.presence.enabled,
            self.delivery.is_some(),
        )
    }

    /// CAPA lines (draft 4.7): only what works.
    pub fn capabilities(&self) -> Vec<String> {
        // MESG, NOTE and CONF (notes and configurations are messages of a mailbox): every item
        // command; FILT: saved filters; the four collection types with a CalDAV/CardDAV server;
        // FILE with a file server; PNFO unless presence is switched off.
        let mut lines: Vec<String> = ["CHNG", "CONF", "FILT", "MESG", "NOTE"].into_iter().map(String::from).collect();
        if self.collections.is_some() {
            lines.extend(["ADDR", "CALE", "JRNL", "TASK"].map(String::from));
        }
        if self.files.is_some() {
            lines.push("FILE".into());
        }
        if self.config.presence.enabled {
            lines.push("PNFO".into());
        }
        let offered = Mechanism::ALL.into_iter().filter(|mechanism| self.mechanism_refusal(*mechanism).is_none());
        lines.extend(offered.map(|mechanism| format!("AUTH-{}", mechanism.name())));
        lines.sort_unstable();
        lines
    }

    /// What composing a message fills in when the client left it out: the date, and a
    /// Message-ID under the gateway's name.
    pub fn compose_defaults(&self) -> Defaults {
        let now = self.now_ms();
        Defaults {
            now: i64::try_from(now / 1000).unwrap_or(i64::MAX),
            host: self.config.server.name.clone(),
            unique: format!("{now:x}.{:016x}", rand::random::<u64>()),
        }
    }

    /// Milliseconds since the epoch: the floor of new change ids.
    pub fn now_ms(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            .unwrap_or(0)
    }
}
