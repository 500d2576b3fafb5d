//! PASS password (draft 4.11): the upstream servers check the password.

use std::net::SocketAddr;

use agap_adapter_api::Credentials;

use crate::auth::Goal;
use crate::codec::Reply;
use crate::error::AgapResult;
use crate::gateway::Gateway;
use crate::state::{PreAuth, Transition};

/// Logs in upstream with the user's own password (see `login`); after AUTH PRESENCE, `USER
/// anonymous` with an e-mail address where `[presence] anonymous` allows it.
pub async fn handle(
    gateway: &Gateway,
    pre_auth: &PreAuth,
    password: &str,
    peer: SocketAddr,
) -> (AgapResult<Reply>, Transition) {
    let user = match super::login::user_of(pre_auth) {
        Ok(found) => found,
        Err(error) => return (Err(error), Transition::Stay),
    };
    if pre_auth.mechanism.goal() == Goal::Presence {
        if gateway.config.presence.anonymous && user.eq_ignore_ascii_case("anonymous") {
            return super::login::anonymous_presence(password, peer);
        }
        let credentials = Credentials::new(user, password);
        return super::login::complete_presence(gateway, &credentials, peer, WRONG_PAIR).await;
    }
    if pre_auth.mechanism.goal() == Goal::Storing {
        return super::login::storing_with_password(gateway, &user, password, peer, WRONG_PAIR).await;
    }
    let credentials = Credentials::new(user, password);
    super::login::complete(gateway, &credentials, &credentials, peer, WRONG_PAIR).await
}

/// What a wrong pair is answered with, whether the user exists or not.
const WRONG_PAIR: &str = "WRONG user/password pair";
