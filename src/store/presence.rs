//! What the store keeps of presence (draft 4.33): one row per session that announced its user
//! (PNFO HERE, AWAY, FOR, IDLE), and per account the STATUS and AT texts and when its last
//! announcing session ended. Rows only; what they mean together is `crate::presence`.
//! In the store so that every gateway instance sharing it sees the same presence.

use async_trait::async_trait;

use super::StoreResult;

/// What one session says of its user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Availability {
    /// Online and not idle (HERE; FOR until it expires).
    Here,
    /// Online, idle since `since` (IDLE).
    Idle,
    /// Not online (AWAY).
    Away,
}

impl Availability {
    /// The keyword of PNFO and of the store's rows.
    pub fn as_str(self) -> &'static str {
        match self {
            Availability::Here => "HERE",
            Availability::Idle => "IDLE",
            Availability::Away => "AWAY",
        }
    }

    /// The availability of a keyword.
    pub fn parse(text: &str) -> Option<Availability> {
        [Availability::Here, Availability::Idle, Availability::Away].into_iter().find(|a| a.as_str() == text)
    }
}

/// One session's announcement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionPresence {
    /// What it said.
    pub availability: Availability,
    /// When it was set (HERE, AWAY), or when idleness began (IDLE); seconds since the epoch.
    pub since: i64,
    /// When a FOR runs out; `None` for the others, valid until changed.
    pub expires: Option<i64>,
}

/// What the store knows of one account.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PresenceRecord {
    /// The announcements of its sessions, expired ones included.
    pub sessions: Vec<SessionPresence>,
    /// Its STATUS text.
    pub status: Option<String>,
    /// Its AT text.
    pub location: Option<String>,
    /// When its last announcing session ended (QUIT, EXIT, a dropped connection).
    pub offline_since: Option<i64>,
}

/// Which of the two texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PresenceText {
    /// PNFO STATUS.
    Status,
    /// PNFO AT.
    Location,
}

/// Presence rows, shared by every gateway instance on the store.
#[async_trait]
pub trait PresenceStore: Send + Sync {
    /// Records `presence` for `session` of `account`, replacing the session's earlier one and
    /// dropping the account's announcements that expired by `now`. Refused (false, nothing
    /// changed) when the account already has `max_sessions` other announcing sessions.
    async fn announce(
        &self,
        account: &str,
        session: &str,
        presence: &SessionPresence,
        max_sessions: usize,
        now: i64,
    ) -> StoreResult<bool>;

    /// Sets (or with `None` clears) one text of `account`.
    async fn set_presence_text(&self, account: &str, which: PresenceText, text: Option<&str>) -> StoreResult<()>;

    /// `session` of `account` ended at `now`: its announcement goes, and the account counts as
    /// offline since `now` once no other session announces it.
    async fn end_presence_session(&self, account: &str, session: &str, now: i64) -> StoreResult<()>;

    /// Everything kept about `account`.
    async fn presence(&self, account: &str) -> StoreResult<PresenceRecord>;
}
