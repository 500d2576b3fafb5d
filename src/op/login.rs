//! The end of pre-authentication shared by PASS and HASH (draft 3.2): the upstream logins, the
//! account and its INBOX (or for AUTH PRESENCE*, the presence state), or a failure counted
//! against the client's address (`limits`).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use agap_adapter_api::mail::MailAccount;
use agap_adapter_api::{AdapterErrorKind, Credentials};

use agap_adapter_api::delivery::check_address;

use crate::account::Account;
use crate::codec::Reply;
use crate::delivery::trace::Sender;
use crate::error::{AgapError, AgapResult};
use crate::folder::FolderTree;
use crate::gateway::Gateway;
use crate::presence::{Asker, account_key};
use crate::state::{PreAuth, Selection, Transition};

/// The user named by USER, which PASS and HASH need: 512 before USER.
pub fn user_of(pre_auth: &PreAuth) -> AgapResult<String> {
    pre_auth.user.clone().ok_or_else(|| AgapError::out_of_order("USER"))
}

/// Logs in to the mail backend with `imap` and to the collection backend with `dav`, then
/// selects INBOX. A refused login is a failure (`wrong_pair` tells the client); an unreachable
/// backend is 410. Either way the client must start over with AUTH (3.2).
pub async fn complete(
    gateway: &Gateway,
    imap: &Credentials,
    dav: &Credentials,
    peer: SocketAddr,
    wrong_pair: &str,
) -> (AgapResult<Reply>, Transition) {
    let user = imap.user().to_owned();
    let mail = match mail_login(gateway, imap, peer, wrong_pair).await {
        Ok(mail) => mail,
        Err(refused) => return refused,
    };
    let collections = match &gateway.collections {
        Some(backend) => match backend.open(dav).await {
            Ok(collections) => Some(collections),
            Err(error) => return (Err(error.into()), Transition::Reset),
        },
        None => None,
    };
    let files = match crate::files::open(gateway, dav).await {
        Ok(files) => files,
        Err(error) => return (Err(error), Transition::Reset),
    };
    tracing::info!(%user, client = %peer.ip(), "logged in");
    let account = Account::new(user, mail, collections, files);
    // Nothing else is asked upstream at login: the INBOX exists on every IMAP server (RFC 9051
    // 5.1), the rest of the tree is read by the first command that needs it.
    let inbox = FolderTree::inbox();
    let reply = Reply::ok(format!("OK User {} authenticated", account.user));
    let inbox = match account.with_rights(&inbox).await {
        Ok(inbox) => Some(inbox),
        Err(error) => {
            // Logged in all the same: the client lands in the not-selected state (3.2).
            tracing::warn!(user = %account.user, ?error, "could not read the rights on INBOX after login");
            None
        }
    };
    match inbox {
        Some(inbox) => (Ok(reply), Transition::LoggedIn(account, Some(Selection::of(inbox)))),
        None => (Ok(reply), Transition::LoggedIn(account, None)),
    }
}

/// The end of AUTH PRESENCE* (3.5): the same upstream check of the credentials as a login to
/// the account (and the same count of failures), then the presence state. The mail handle is
/// dropped at once: that state reads nothing of the account (docs/interpretations.md,
/// PRESENCE-LOGIN).
pub async fn complete_presence(
    gateway: &Gateway,
    imap: &Credentials,
    peer: SocketAddr,
    wrong_pair: &str,
) -> (AgapResult<Reply>, Transition) {
    if let Err(refused) = mail_login(gateway, imap, peer, wrong_pair).await {
        return refused;
    }
    let user = imap.user();
    tracing::info!(%user, client = %peer.ip(), "logged in for presence");
    (Ok(Reply::ok(format!("OK User {user} authenticated"))), Transition::Presence(Asker::User(account_key(user))))
}

/// `USER anonymous` of AUTH PRESENCE with `[presence] anonymous` on (draft 4.6): the password is
/// the asker's e-mail address, which is logged and otherwise unchecked beyond its form
/// (docs/interpretations.md, PRESENCE-ANONYMOUS).
pub fn anonymous_presence(address: &str, peer: SocketAddr) -> (AgapResult<Reply>, Transition) {
    if !is_plausible_address(address) {
        return (Err(AgapError::invalid("INVALID e-mail address for anonymous presence")), Transition::Reset);
    }
    tracing::info!(address, client = %peer.ip(), "anonymous presence login");
    (Ok(Reply::ok("OK User anonymous authenticated")), Transition::Presence(Asker::Anonymous(address.to_owned())))
}

/// Whether the password of an anonymous login (PRESENCE or STORING) can be the e-mail address
/// 4.6 asks for: `local@domain` of the characters an envelope address may hold, since it goes
/// to the log and, for FSTO, into the envelope and the trace field. A malformed one is 511 and
/// not a counted failure (it guesses no password); `anonymous` where anonymous logins are off is
/// a wrong pair like any other.
fn is_plausible_address(address: &str) -> bool {
    check_address(address).is_ok()
        && address.rsplit_once('@').is_some_and(|(local, domain)| !local.is_empty() && !domain.is_empty())
}

/// Logs in to the mail backend: a refused login is a counted failure (`wrong_pair`), an
/// unreachable backend 410; either way back to the not-authenticated state.
async fn mail_login(
    gateway: &Gateway,
    imap: &Credentials,
    peer: SocketAddr,
    wrong_pair: &str,
) -> Result<Arc<dyn MailAccount>, (AgapResult<Reply>, Transition)> {
    match gateway.mail.login(imap).await {
        Ok(mail) => Ok(mail),
        Err(error) if error.kind() == AdapterErrorKind::AuthenticationFailed => {
            Err(failed(gateway, peer, imap.user(), wrong_pair).await)
        }
        Err(error) => Err((Err(error.into()), Transition::Reset)),
    }
}

/// A STORING login with a password (draft 4.6): the mail server checks it, and no account is
/// opened, since FSTO writes only into other accounts. `anonymous` with an address as password
/// is a sender who says who they are, accepted only where `[delivery] anonymous` allows it and
/// the address is one (else a failed login like any other). docs/interpretations.md,
/// STORING-LOGIN and STORING-ANONYMOUS.
pub async fn storing_with_password(
    gateway: &Gateway,
    user: &str,
    password: &str,
    peer: SocketAddr,
    wrong_pair: &str,
) -> (AgapResult<Reply>, Transition) {
    if user.eq_ignore_ascii_case("anonymous") {
        let allowed = gateway.delivery.as_ref().is_some_and(|delivery| delivery.allows_anonymous());
        if !allowed {
            return failed(gateway, peer, user, wrong_pair).await;
        }
        if !is_plausible_address(password) {
            return (Err(AgapError::invalid("INVALID e-mail address for an anonymous sender")), Transition::Reset);
        }
        tracing::info!(address = %password, client = %peer.ip(), "anonymous sender logged in to deliver");
        let reply = Reply::ok(format!("OK Anonymous sender {password} accepted"));
        return (Ok(reply), Transition::Storing(Sender::Anonymous(password.to_owned())));
    }
    match gateway.mail.login(&Credentials::new(user, password)).await {
        // The password is right; the session needs nothing of the account.
        Ok(_) => storing(user, peer),
        Err(error) if error.kind() == AdapterErrorKind::AuthenticationFailed => {
            failed(gateway, peer, user, wrong_pair).await
        }
        Err(error) => (Err(error.into()), Transition::Reset),
    }
}

/// The end of a STORING login whose proof was checked.
pub fn storing(user: &str, peer: SocketAddr) -> (AgapResult<Reply>, Transition) {
    tracing::info!(%user, client = %peer.ip(), "logged in to deliver");
    (
        Ok(Reply::ok(format!("OK User {user} authenticated"))),
        Transition::Storing(Sender::Authenticated(user.to_owned())),
    )
}

/// A wrong user/password or user/hash pair: counted against the client's address, answered
/// (511) after the delay that count earns, back in the not-authenticated state. A failure that
/// starts a ban is logged once; the ban itself is enforced at the next AUTH and welcome.
pub async fn failed(
    gateway: &Gateway,
    peer: SocketAddr,
    user: &str,
    wrong_pair: &str,
) -> (AgapResult<Reply>, Transition) {
    let verdict = gateway.limits.record_failure(peer.ip(), Instant::now());
    tracing::info!(%user, client = %peer.ip(), "login failed");
    if verdict.ban_started {
        let limits = &gateway.config.limits;
        tracing::warn!(
            client = %peer.ip(),
            failures = limits.failed_logins_before_ban,
            ban_secs = limits.ban_secs,
            "too many failed logins: address banned"
        );
    }
    if !verdict.delay.is_zero() {
        tracing::warn!(client = %peer.ip(), delay_ms = verdict.delay.as_millis(), "repeated failed logins: reply delayed");
        tokio::time::sleep(verdict.delay).await;
    }
    (Err(AgapError::invalid(wrong_pair)), Transition::Reset)
}
