//! The states of draft section 3, each carrying its data.

use crate::account::Account;
use crate::folder::FolderPath;

/// Authentication mechanisms this gateway offers (draft 4.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mechanism {
    /// USER then PASS in clear text.
    Plain,
}

/// Between AUTH and a successful PASS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreAuth {
    /// The chosen mechanism.
    pub mechanism: Mechanism,
    /// The account name once USER was accepted.
    pub user: Option<String>,
}

/// The selected folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    /// Its absolute path.
    pub path: FolderPath,
    /// The UID the last successful STOR in this selection got (draft 4.40); a new SLCT, even
    /// of the same folder, starts without one.
    pub last_stored: Option<String>,
}

impl Selection {
    /// A fresh selection of `path`.
    pub fn of(path: FolderPath) -> Self {
        Self { path, last_stored: None }
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
