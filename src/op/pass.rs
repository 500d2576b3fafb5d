//! PASS password (draft 4.11): logs in upstream and selects INBOX (section 3.2).

use std::net::SocketAddr;

use agap_adapter_api::{AdapterErrorKind, Credentials};

use crate::account::Account;
use crate::codec::Reply;
use crate::error::{AgapError, AgapResult};
use crate::folder::FolderPath;
use crate::gateway::Gateway;
use crate::session::{PreAuth, Selection, State};

/// Checks the password by logging in to the mail backend. A wrong pair returns to the
/// not-authenticated state (3.2); so does an unreachable backend (410), since the client must
/// start over with AUTH either way.
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
    let credentials = Credentials::new(user.clone(), password);
    let mail = match gateway.mail.login(&credentials).await {
        Ok(mail) => mail,
        Err(error) if error.kind() == AdapterErrorKind::AuthenticationFailed => {
            tracing::info!(%user, client = %peer.ip(), "login failed");
            return (Err(AgapError::invalid("WRONG user/password pair")), State::NotAuthenticated);
        }
        Err(error) => return (Err(error.into()), State::NotAuthenticated),
    };
    let collections = match &gateway.collections {
        Some(backend) => match backend.open(&credentials).await {
            Ok(collections) => Some(collections),
            Err(error) => return (Err(error.into()), State::NotAuthenticated),
        },
        None => None,
    };
    tracing::info!(%user, client = %peer.ip(), "logged in");
    let account = Account { user, mail, collections };
    let inbox_path = FolderPath::root().child("INBOX");
    let inbox = match account.ensure_reserved_folders(gateway).await {
        Ok(tree) => tree.get(&inbox_path).filter(|entry| entry.selectable).cloned(),
        Err(error) => {
            // Logged in all the same: the client lands in the not-selected state (3.2).
            tracing::warn!(user = %account.user, ?error, "could not read the folder tree after login");
            None
        }
    };
    let reply = Reply::ok(format!("OK User {} authenticated", account.user));
    let inbox = match inbox {
        Some(inbox) => account.with_rights(&inbox).await.ok(),
        None => None,
    };
    match inbox {
        Some(inbox) => (Ok(reply), State::Selected(account, Selection::of(inbox))),
        None => (Ok(reply), State::NotSelected(account)),
    }
}
