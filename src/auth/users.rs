//! The credential source behind AUTH MD5 and SHA1 (draft 4.6): a users file of `user:password`
//! lines with clear passwords, which the hash is checked against, and the upstream logins made
//! with them (the IMAP master user when configured, the file's password otherwise; the DAV
//! server always gets the file's password, since CalDAV/CardDAV have no standard delegation).
//!
//! The trade-off: the gateway holds clear passwords (README "Limits and authentication").
//!
//! The file is read again when it changes ([`UsersFile`]), so accounts come and go without a
//! restart.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use agap_adapter_api::Credentials;

use crate::config::Config;

/// Users and their clear passwords, and how to log in upstream for them.
#[derive(Clone)]
pub struct CredentialSource {
    users: HashMap<String, String>,
    /// `[imap] master_user` and its password.
    master: Option<(String, String)>,
}

impl fmt::Debug for CredentialSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let master = self.master.as_ref().map(|(user, _)| user);
        f.debug_struct("CredentialSource").field("users", &self.users.len()).field("master", &master).finish()
    }
}

/// A users file that cannot be used, with the line at fault (never its password).
#[derive(Debug, thiserror::Error)]
pub enum UsersFileError {
    /// The file cannot be read.
    #[error("[auth] users_file {path}: {error}")]
    Unreadable {
        /// The file.
        path: String,
        /// Why.
        error: std::io::Error,
    },
    /// A line is not `user:password`.
    #[error("[auth] users_file line {line}: expected user:password with a non-empty user and password")]
    Malformed {
        /// 1-based line number.
        line: usize,
    },
    /// A user appears twice.
    #[error("[auth] users_file line {line}: user {user:?} appears twice")]
    Duplicate {
        /// 1-based line number.
        line: usize,
        /// The user.
        user: String,
    },
}

/// When a file was last changed, as far as a reader can tell: its modification time and length
/// (a rewrite within the file system's time granularity mostly changes the length).
type Stamp = (SystemTime, u64);

fn stamp_of(path: &Path) -> Option<Stamp> {
    let metadata = std::fs::metadata(path).ok()?;
    Some((metadata.modified().ok()?, metadata.len()))
}

/// `[auth] users_file`, read again at the first use after it changed. A change that cannot be
/// read or parsed keeps the accounts read last (a half-written file must not lock everyone
/// out) and is logged once, with the line at fault and never a password.
pub struct UsersFile {
    path: PathBuf,
    master: Option<(String, String)>,
    loaded: RwLock<(Option<Stamp>, Arc<CredentialSource>)>,
}

impl fmt::Debug for UsersFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // What was read last: formatting must not touch the file (nor log a reload).
        let loaded = self.loaded.read().unwrap_or_else(|poisoned| poisoned.into_inner());
        f.debug_struct("UsersFile").field("path", &self.path).field("source", &loaded.1).finish()
    }
}

impl UsersFile {
    /// The file the configuration names, if any; it must parse at start.
    pub fn load(config: &Config) -> Result<Option<Self>, UsersFileError> {
        let Some(path) = &config.auth.users_file else { return Ok(None) };
        let master =
            config.imap.master_user.clone().zip(config.imap.master_password.as_ref().map(|p| p.expose().to_owned()));
        Self::open(path, master).map(Some)
    }

    /// Reads `path` now; with `master` as the IMAP master user.
    pub fn open(path: &Path, master: Option<(String, String)>) -> Result<Self, UsersFileError> {
        let stamp = stamp_of(path);
        let source = CredentialSource::parse(&read(path)?, master.clone())?;
        Ok(Self { path: path.to_owned(), master, loaded: RwLock::new((stamp, Arc::new(source))) })
    }

    /// The accounts as the file has them now (one stat per call; a read only after a change).
    pub fn current(&self) -> Arc<CredentialSource> {
        let stamp = stamp_of(&self.path);
        {
            let loaded = self.loaded.read().unwrap_or_else(|poisoned| poisoned.into_inner());
            if loaded.0 == stamp {
                return Arc::clone(&loaded.1);
            }
        }
        let mut loaded = self.loaded.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        if loaded.0 != stamp {
            // Recorded whatever comes of it, so that a bad version is reported once.
            loaded.0 = stamp;
            match read(&self.path).and_then(|text| CredentialSource::parse(&text, self.master.clone())) {
                Ok(source) => {
                    tracing::info!(users = source.users.len(), "[auth] users_file read again");
                    loaded.1 = Arc::new(source);
                }
                Err(error) => {
                    tracing::error!(%error, "[auth] users_file changed but cannot be used: keeping the accounts read before")
                }
            }
        }
        Arc::clone(&loaded.1)
    }
}

impl CredentialSource {
    /// Parses `user:password` lines; blank lines and lines starting with `#` are skipped. The
    /// password is everything after the first colon (it may contain colons; spaces count).
    pub fn parse(text: &str, master: Option<(String, String)>) -> Result<Self, UsersFileError> {
        let mut users = HashMap::new();
        for (index, line) in text.lines().enumerate() {
            let line = line.strip_suffix('\r').unwrap_or(line);
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let number = index + 1;
            let Some((user, password)) = line.split_once(':') else {
                return Err(UsersFileError::Malformed { line: number });
            };
            if user.is_empty() || password.is_empty() || user.trim() != user {
                return Err(UsersFileError::Malformed { line: number });
            }
            if users.insert(user.to_owned(), password.to_owned()).is_some() {
                return Err(UsersFileError::Duplicate { line: number, user: user.to_owned() });
            }
        }
        Ok(Self { users, master })
    }

    /// The clear password of `user`.
    pub fn password(&self, user: &str) -> Option<&str> {
        self.users.get(user).map(String::as_str)
    }

    /// The logins to make upstream for `user`, whose proof was checked against `password`:
    /// IMAP (as the master user on behalf of `user` when one is configured) and DAV.
    pub fn upstream_logins(&self, user: &str, password: &str) -> (Credentials, Credentials) {
        let own = Credentials::new(user, password);
        let imap = match &self.master {
            Some((master, master_password)) => Credentials::on_behalf(user, master, master_password),
            None => own.clone(),
        };
        (imap, own)
    }
}

fn read(path: &Path) -> Result<String, UsersFileError> {
    std::fs::read_to_string(path)
        .map_err(|error| UsersFileError::Unreadable { path: path.display().to_string(), error })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_comments_and_colons_in_passwords() {
        let source = CredentialSource::parse("# accounts\n\nalice:a:b c\r\nbob:pw\n", None).expect("parses");
        assert_eq!(source.password("alice"), Some("a:b c"));
        assert_eq!(source.password("bob"), Some("pw"));
        assert_eq!(source.password("carol"), None);
        assert!(!format!("{source:?}").contains("pw"), "no password in Debug output");
    }

    #[test]
    fn malformed_and_duplicate_lines_are_refused_by_number() {
        let error = CredentialSource::parse("alice:x\nnocolon\n", None).expect_err("malformed");
        assert!(matches!(error, UsersFileError::Malformed { line: 2 }));
        assert!(matches!(CredentialSource::parse(":pw\n", None), Err(UsersFileError::Malformed { line: 1 })));
        assert!(matches!(CredentialSource::parse("bob:\n", None), Err(UsersFileError::Malformed { line: 1 })));
        let error = CredentialSource::parse("bob:1\nbob:2\n", None).expect_err("duplicate");
        assert!(matches!(error, UsersFileError::Duplicate { line: 2, .. }));
    }

    #[test]
    fn the_file_is_read_again_after_a_change_and_a_broken_change_keeps_the_old_accounts() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("users");
        std::fs::write(&path, "alice:one\n").expect("write");
        let file = UsersFile::open(&path, None).expect("opens");
        assert_eq!(file.current().password("alice"), Some("one"));
        // A different length, so that the change shows even within one mtime tick.
        std::fs::write(&path, "alice:two2\nbob:pw\n").expect("write");
        assert_eq!(file.current().password("alice"), Some("two2"));
        assert_eq!(file.current().password("bob"), Some("pw"));
        std::fs::write(&path, "alice:three\nbob:pw\nbroken line\n").expect("write");
        assert_eq!(file.current().password("alice"), Some("two2"), "a broken file keeps the accounts");
        std::fs::remove_file(&path).expect("remove");
        assert_eq!(file.current().password("bob"), Some("pw"), "so does a missing one");
        assert!(UsersFile::open(&path, None).is_err(), "but the gateway does not start without it");
    }

    #[test]
    fn upstream_logins_use_the_master_for_imap_only() {
        let plain = CredentialSource::parse("alice:pw\n", None).expect("parses");
        let (imap, dav) = plain.upstream_logins("alice", "pw");
        assert_eq!((imap.master(), imap.password(), dav.password()), (None, "pw", "pw"));
        let master = Some(("admin".to_owned(), "m".to_owned()));
        let delegated = CredentialSource::parse("alice:pw\n", master).expect("parses");
        let (imap, dav) = delegated.upstream_logins("alice", "pw");
        assert_eq!((imap.user(), imap.master(), imap.password()), ("alice", Some("admin"), "m"));
        assert_eq!((dav.user(), dav.master(), dav.password()), ("alice", None, "pw"));
    }
}
