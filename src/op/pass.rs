//! PASS password (draft 4.11): the upstream servers check the password.

use std::net::SocketAddr;

use agap_adapter_api::Credentials;

use crate::codec::Reply;
use crate::error::{AgapError, AgapResult};
use crate::gateway::Gateway;
use crate::session::{PreAuth, State};

/// Logs in upstream with the user's own password (see `login`).
pub async fn handle(
    gateway: &Gateway,
    pre_auth: PreAuth,
    argument: Option<&str>,
    peer: SocketAddr,
) -> (AgapResult<Reply>, State) {
    let password = match super::require_argument("PASS", argument) {
        Ok(password) => password,
        Err(error) => return (Err(error), State::PreAuth(pre_auth)),
    };
    let Some(user) = pre_auth.user.clone() else {
        return (Err(AgapError::out_of_order("USER")), State::PreAuth(pre_auth));
    };
    let credentials = Credentials::new(user, password);
    super::login::complete(gateway, &credentials, &credentials, peer, "WRONG user/password pair").await
}
