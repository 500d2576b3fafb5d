//! The states of draft section 3, each carrying its data.

use crate::account::Account;
use crate::auth::Mechanism;
use crate::folder::{FolderEntry, FolderPath};

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
}
