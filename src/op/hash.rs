//! HASH hash_code (draft 4.10): the hash of the prefix sent after AUTH MD5/SHA1 and the
//! user's password, checked against the credential source before any upstream login.

use std::net::SocketAddr;

use crate::auth::{Goal, Proof, UsersFile, verify_digest};
use crate::codec::Reply;
use crate::error::{AgapError, AgapResult};
use crate::gateway::Gateway;
use crate::state::{PreAuth, Transition};

/// What a wrong pair is answered with (Fig 52), whether the user exists or not.
const WRONG_PAIR: &str = "WRONG user/hash pair";

/// Checks the hash, then logs in upstream with the source's credentials (see `login`).
pub async fn handle(
    gateway: &Gateway,
    pre_auth: &PreAuth,
    hash: &str,
    peer: SocketAddr,
) -> (AgapResult<Reply>, Transition) {
    let user = match super::login::user_of(pre_auth) {
        Ok(found) => found,
        Err(error) => return (Err(error), Transition::Stay),
    };
    // The session routes HASH here only for a hashed mechanism, offered only with a source.
    let (Proof::Digest(algorithm), Some(prefix), Some(source)) =
        (pre_auth.mechanism.proof(), pre_auth.prefix.as_deref(), gateway.credentials.as_ref().map(UsersFile::current))
    else {
        return (Err(AgapError::internal("HASH without a hashed mechanism or a source")), Transition::Reset);
    };
    let password = source.password(&user);
    // An unknown user costs the same digest as a known one.
    let verified = verify_digest(algorithm, prefix, password.unwrap_or(UNKNOWN_USER_PASSWORD), hash);
    let (Some(password), true) = (password, verified) else {
        return super::login::failed(gateway, peer, &user, WRONG_PAIR).await;
    };
    // The digest proved the sender: a STORING login needs no upstream account.
    if pre_auth.mechanism.goal() == Goal::Storing {
        return super::login::storing(&user, peer);
    }
    let (imap, dav) = source.upstream_logins(&user, password);
    if pre_auth.mechanism.goal() == Goal::Presence {
        return super::login::complete_presence(gateway, &imap, peer, WRONG_PAIR).await;
    }
    super::login::complete(gateway, &imap, &dav, peer, WRONG_PAIR).await
}

/// Stands in for the password of a user the source does not know, so that the digest is
/// computed all the same; the result is never accepted.
const UNKNOWN_USER_PASSWORD: &str = "\u{0}unknown-user";
