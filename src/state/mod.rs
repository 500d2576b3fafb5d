//! The states of draft section 3, each carrying its data; which commands each accepts
//! (`table`); how a command moves between them (`transition`); what the session knows of its
//! connection (`channel`) and of content after a 110 reply (`content`). Both the session and
//! the command handlers (`op`) build on this module; neither imports the other's internals
//! the other way round (the session calls `op`, `op` never calls the session).

mod channel;
mod content;
mod table;
mod transition;

pub use channel::{Channel, Switch};
pub use content::{Content, ContentKind};
pub use table::{Acceptance, StateKind, accepts};
pub use transition::Transition;

use crate::account::Account;
use crate::auth::{Mechanism, Proof};
use crate::delivery::trace::Sender;
use crate::folder::{FolderEntry, FolderPath};
use crate::presence::Asker;

/// Between AUTH and a successful PASS or HASH.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreAuth {
    /// The chosen mechanism (one the gateway offers).
    pub mechanism: Mechanism,
    /// The account name once USER was accepted.
    pub user: Option<String>,
    /// The prefix sent after AUTH MD5/SHA1, which HASH covers; `None` for PLAIN.
    pub prefix: Option<String>,
}

/// The selected folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    /// Its absolute path.
    pub path: FolderPath,
    /// The folder as it was when selected: item commands use it without listing the folders
    /// again (if another client removed it meanwhile, the upstream server says so).
    pub folder: FolderEntry,
    /// The UID the last successful STOR in this selection got (draft 4.40); a new SLCT, even
    /// of the same folder, starts without one.
    pub last_stored: Option<String>,
}

impl Selection {
    /// A fresh selection of `folder`.
    pub fn of(folder: FolderEntry) -> Self {
        Self { path: folder.path.clone(), folder, last_stored: None }
    }
}

/// Where the conversation is.
#[derive(Debug)]
pub enum State {
    /// 3.1: after the welcome and after EXIT.
    NotAuthenticated,
    /// 3.2: AUTH was accepted.
    PreAuth(PreAuth),
    /// 3.4: logged in, nothing selected.
    NotSelected(Account),
    /// 3.3: logged in with a folder selected.
    Selected(Account, Selection),
    /// 3.5: logged in with AUTH PRESENCE*: PNFO USER only, asked by this asker.
    Presence(Asker),
    /// 3.6: logged in to deliver into other accounts (FSTO), as this sender.
    Storing(Sender),
}

impl State {
    /// The state without its data, as the table of `accepts` knows it.
    pub fn kind(&self) -> StateKind {
        match self {
            State::NotAuthenticated => StateKind::NotAuthenticated,
            State::PreAuth(pre_auth) => match pre_auth.mechanism.proof() {
                Proof::Password => StateKind::PreAuthPassword,
                Proof::Digest(_) => StateKind::PreAuthDigest,
            },
            State::NotSelected(_) => StateKind::NotSelected,
            State::Selected(..) => StateKind::Selected,
            State::Presence(_) => StateKind::Presence,
            State::Storing(_) => StateKind::Storing,
        }
    }
}
