//! Login credentials, passed from the AGAP session to the upstream servers and never logged.

use std::fmt;

use rand::RngExt;
use sha2::{Digest, Sha256};

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

/// Proof that a login was accepted upstream, kept as a salted SHA-256 of the credentials so that
/// a later login with the same ones can be told apart from one with others, without keeping the
/// password itself (login and listing caches shared by a user's sessions).
#[derive(Clone)]
pub struct CredentialsProof {
    salt: [u8; 16],
    digest: [u8; 32],
}

impl CredentialsProof {
    /// The proof of `credentials` (user, master and password all count).
    pub fn of(credentials: &Credentials) -> Self {
        let salt: [u8; 16] = rand::rng().random();
        Self { digest: Self::digest(&salt, credentials), salt }
    }

    /// Whether `credentials` are the ones proven, compared in constant time.
    pub fn matches(&self, credentials: &Credentials) -> bool {
        let candidate = Self::digest(&self.salt, credentials);
        candidate.iter().zip(self.digest.iter()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
    }

    fn digest(salt: &[u8; 16], credentials: &Credentials) -> [u8; 32] {
        let mut hasher = Sha256::new();
        hasher.update(salt);
        // Lengths first, so that no two different triples hash the same bytes.
        for part in [credentials.user.as_str(), credentials.master.as_deref().unwrap_or(""), &credentials.password] {
            hasher.update((part.len() as u64).to_be_bytes());
            hasher.update(part.as_bytes());
        }
        hasher.update([u8::from(credentials.master.is_some())]);
        hasher.finalize().into()
    }
}

impl fmt::Debug for CredentialsProof {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CredentialsProof(<salted digest>)")
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

    #[test]
    fn a_proof_matches_only_the_same_credentials() {
        let proof = CredentialsProof::of(&Credentials::new("alice", "s3cret"));
        assert!(proof.matches(&Credentials::new("alice", "s3cret")));
        assert!(!proof.matches(&Credentials::new("alice", "s3cret ")));
        assert!(!proof.matches(&Credentials::new("alicE", "s3cret")));
        assert!(!proof.matches(&Credentials::on_behalf("alice", "", "s3cret")));
        // Moving bytes from one part to the next makes another proof.
        let split = CredentialsProof::of(&Credentials::new("ab", "c"));
        assert!(!split.matches(&Credentials::new("a", "bc")));
        assert!(!format!("{proof:?}").contains("s3cret"));
        // Salted: two proofs of the same credentials differ.
        assert_ne!(proof.digest, CredentialsProof::of(&Credentials::new("alice", "s3cret")).digest);
    }
}
