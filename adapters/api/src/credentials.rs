//! Login credentials, passed from the AGAP session to the upstream servers and never logged.

use std::fmt;

/// A user name and password as given to AUTH; the password never appears in `Debug` output.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    user: String,
    password: String,
}

impl Credentials {
    /// Pairs a user name with its password.
    pub fn new(user: impl Into<String>, password: impl Into<String>) -> Self {
        Self { user: user.into(), password: password.into() }
    }

    /// The account name, as the upstream server knows it.
    pub fn user(&self) -> &str {
        &self.user
    }

    /// The clear-text password; callers must keep it out of logs.
    pub fn password(&self) -> &str {
        &self.password
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials").field("user", &self.user).field("password", &"<redacted>").finish()
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
    }
}
