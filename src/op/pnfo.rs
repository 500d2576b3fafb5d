//! PNFO (draft 4.33): a logged-in session announces its user's presence (HERE, AWAY, FOR, IDLE)
//! and texts (STATUS, AT); any session asks about an account (USER), which in the presence state
//! (3.5) is all it may do. Replies as Fig 118 words them.

use crate::codec::Reply;
use crate::command::Presence;
use crate::error::{AgapError, AgapResult};
use crate::gateway::Gateway;
use crate::presence::{Answer, Asker, checked_text, in_words, may_see, seconds};
use crate::store::{Availability, PresenceText, SessionPresence};

/// Who sends the PNFO.
#[derive(Debug, Clone, Copy)]
pub enum Sender<'a> {
    /// A session of the authenticated states: its account key and the session's id.
    Account {
        /// The account key (`presence::account_key`).
        account: &'a str,
        /// This session's id in the store.
        session: &'a str,
    },
    /// A session of the presence state.
    PresenceState(&'a Asker),
}

/// Answers one PNFO request. An announcement (HERE, AWAY, FOR, IDLE) from more sessions of the
/// user than `[presence] max_sessions_per_user` is 410.
pub async fn handle(gateway: &Gateway, sender: Sender<'_>, request: &Presence) -> AgapResult<Reply> {
    let now = gateway.clock.now();
    let (account, session) = match sender {
        Sender::Account { account, session } => (account, session),
        Sender::PresenceState(asker) => {
            return match request {
                Presence::User { name } => ask(gateway, asker, name, now).await,
                // docs/interpretations.md, PNFO-PRESENCE-STATE.
                _ => Err(AgapError::invalid("UNSUPPORTED argument: only PNFO USER in the presence state")),
            };
        }
    };
    let announce = |availability, since, expires| SessionPresence { availability, since, expires };
    let (presence, reply) = match request {
        Presence::User { name } => return ask(gateway, &Asker::User(account.to_owned()), name, now).await,
        Presence::Status { text } => return set_text(gateway, account, PresenceText::Status, text).await,
        Presence::At { text } => return set_text(gateway, account, PresenceText::Location, text).await,
        Presence::Here => (announce(Availability::Here, now, None), "OK You are online and not idle".to_owned()),
        Presence::Away => (announce(Availability::Away, now, None), "OK You are no more online".to_owned()),
        Presence::For { amount, unit } => (
            announce(Availability::Here, now, Some(now.saturating_add(seconds(*amount, *unit)))),
            format!("OK You are now online. Expecting an update in {}.", in_words(*amount, *unit)),
        ),
        // Idle since before the epoch is idle since the epoch (PNFO-TIMESTAMP).
        Presence::Idle { amount, unit } => (
            announce(Availability::Idle, now.saturating_sub(seconds(*amount, *unit)).max(0), None),
            format!("OK You are idle since {}", in_words(*amount, *unit)),
        ),
    };
    let limit = gateway.config.presence.max_sessions_per_user;
    if !gateway.store.announce(account, session, &presence, limit, now).await? {
        return Err(AgapError::limit_reached(format!("presence is kept for at most {limit} sessions of a user")));
    }
    Ok(Reply::ok(reply))
}

/// PNFO USER: what the asker may know of `name`; UNKNOWN for everyone else, exactly as for an
/// account that does not exist.
async fn ask(gateway: &Gateway, asker: &Asker, name: &str, now: i64) -> AgapResult<Reply> {
    let subject = crate::presence::account_key(name);
    let answer = if may_see(&gateway.config.presence, asker, &subject) {
        Answer::from_record(gateway.store.presence(&subject).await?, now)
    } else {
        Answer::Unknown
    };
    let text = match answer {
        Answer::Unknown => "OK USER not found",
        Answer::Known { .. } => "OK USER found",
    };
    Ok(Reply::ok(text).with_lines(answer.lines()))
}

async fn set_text(gateway: &Gateway, account: &str, which: PresenceText, text: &str) -> AgapResult<Reply> {
    let text = checked_text(text, gateway.config.presence.max_text_length)?;
    gateway.store.set_presence_text(account, which, text.as_deref()).await?;
    Ok(Reply::ok(match which {
        PresenceText::Status => "OK You changed your status text",
        PresenceText::Location => "OK You changed your location text",
    }))
}
