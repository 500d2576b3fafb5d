//! Login credentials, passed from the AGAP session to the upstream servers and never logged.

use std::fmt;

/// A user name and password as given to AUTH; the password never appears in `Debug` output.
///
/// A delegated login (`on_behalf`) names a master user of the upstream server as the one who
/// proves it, with the master's password, for the account `user` (the authorization identity of
/// RFC 4616 SASL PLAIN).
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    user: String,
    password: String,
    master: Option<String>,
}

impl Credentials {
    /// Pairs a user name with its password.
    pub fn new(user: impl Into<String>, password: impl Into<String>) -> Self {
        Self { user: user.into(), password: password.into(), master: None }
    }

    /// `master` logs in with its own password to act as `user`.
    pub fn on_behalf(user: impl Into<String>, master: impl Into<String>, master_password: impl Into<String>) -> Self {
        Self { user: user.into(), password: master_password.into(), master: Some(master.into()) }
    }

    /// The master user proving a delegated login.
    pub fn master(&self) -> Option<&str> {
        self.master.as_deref()
    }

    /// The account name, as the upstream server knows it.
    pub fn user(&self) -> &str {
        &self.user
    }

    /// The clear-text password (the master's, for a delegated login); callers must keep it out
    /// of logs.
    pub fn password(&self) -> &str {
        &self.password
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .field("master", &self.master)
            .field("password", &"<redacted>")
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_the_password() {
        let shown = format!("{:?}", Credentials::new("alice", "s3cret"));
        assert!(shown.contains("alice"));
        assert!(!shown.contains("s3cret"));
        let delegated = Credentials::on_behalf("alice", "admin", "m4ster");
        assert_eq!((delegated.user(), delegated.master()), ("alice", Some("admin")));
        assert!(!format!("{delegated:?}").contains("m4ster"));
    }
}
