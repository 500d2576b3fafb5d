//! Presence (draft 4.33): what the rows of the store (`crate::store::PresenceRecord`) say about a
//! user, who may ask about whom (`[presence]`), and the bounds on what a client can make the
//! gateway keep and show to others.

use crate::config::{PresenceConfig, PresenceVisibility};
use crate::error::AgapError;
use crate::store::{Availability, PresenceRecord};

/// Who is asking with PNFO USER.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Asker {
    /// A logged-in user (any mechanism), by account key (`account_key`).
    User(String),
    /// `USER anonymous` of AUTH PRESENCE, with the e-mail address given as PASS.
    Anonymous(String),
}

/// The key presence is kept under: the account name in lower case, since mail servers treat
/// account names and domains without regard to case (docs/interpretations.md, PNFO-ACCOUNT-CASE).
pub fn account_key(name: &str) -> String {
    name.to_lowercase()
}

/// The domain of an account name: what follows its last `@`, if anything does.
fn domain(name: &str) -> Option<&str> {
    name.rsplit_once('@').map(|(_, domain)| domain).filter(|domain| !domain.is_empty())
}

/// Whether `asker` may learn the presence of `subject` (both keys). Anyone else is answered
/// UNKNOWN, as for an account that does not exist (docs/interpretations.md, PNFO-VISIBILITY).
pub fn may_see(config: &PresenceConfig, asker: &Asker, subject: &str) -> bool {
    match asker {
        Asker::User(user) if user == subject => true,
        Asker::User(user) => match config.visibility {
            PresenceVisibility::Everyone => true,
            PresenceVisibility::SelfOnly => false,
            PresenceVisibility::SameDomain => domain(user) == domain(subject),
        },
        Asker::Anonymous(_) => config.anonymous_domains.iter().any(|allowed| {
            allowed == "*" || domain(subject).is_some_and(|domain| domain.eq_ignore_ascii_case(allowed))
        }),
    }
}

/// The answer to PNFO USER.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Nothing the gateway can tell (unknown account, not visible, never announced, FOR ran out).
    Unknown,
    /// One of HERE, IDLE, AWAY with its time, and the texts that are set.
    Known {
        /// The availability.
        availability: Availability,
        /// When it was set, or for IDLE when idleness began.
        at: i64,
        /// The STATUS text.
        status: Option<String>,
        /// The AT text.
        location: Option<String>,
    },
}

impl Answer {
    /// What the rows say at `now` (docs/interpretations.md, PNFO-SESSIONS): the best of the live
    /// announcements (HERE over IDLE over AWAY; of two alike, the latest); with only announcements
    /// whose FOR ran out, unknown (4.33); with none, AWAY since the last announcing session ended;
    /// never announced, unknown.
    pub fn from_record(record: PresenceRecord, now: i64) -> Answer {
        let rank = |availability: Availability| match availability {
            Availability::Here => 2,
            Availability::Idle => 1,
            Availability::Away => 0,
        };
        let best = record
            .sessions
            .iter()
            .filter(|session| session.expires.is_none_or(|expires| expires > now))
            .max_by_key(|session| (rank(session.availability), session.since));
        let (availability, at) = match (best, record.sessions.is_empty(), record.offline_since) {
            (Some(session), _, _) => (session.availability, session.since),
            (None, false, _) | (None, true, None) => return Answer::Unknown,
            (None, true, Some(offline)) => (Availability::Away, offline),
        };
        Answer::Known { availability, at, status: record.status, location: record.location }
    }

    /// The data lines of the reply (Fig 118).
    pub fn lines(&self) -> Vec<String> {
        match self {
            Answer::Unknown => vec!["UNKNOWN".into()],
            Answer::Known { availability, at, status, location } => {
                let mut lines = vec![format!("{} {}", availability.as_str(), timestamp(*at))];
                lines.extend(status.as_ref().map(|text| format!("STATUS {text}")));
                lines.extend(location.as_ref().map(|text| format!("AT {text}")));
                lines
            }
        }
    }
}

/// A time as Figs 118 and 160 show it, in UTC: `2011-05-27 18:00:00 +0000`
/// (docs/interpretations.md, PNFO-TIMESTAMP).
pub fn timestamp(seconds: i64) -> String {
    chrono::DateTime::from_timestamp(seconds, 0).unwrap_or_default().format("%Y-%m-%d %H:%M:%S +0000").to_string()
}

/// Seconds in `amount` units of PNFO FOR and IDLE (a year is 365 days).
pub fn seconds(amount: u32, unit: crate::command::TimeUnit) -> i64 {
    use crate::command::TimeUnit;
    let unit_seconds = match unit {
        TimeUnit::Sec => 1,
        TimeUnit::Min => 60,
        TimeUnit::Hour => 3_600,
        TimeUnit::Day => 86_400,
        TimeUnit::Year => 365 * 86_400,
    };
    i64::from(amount) * unit_seconds
}

/// `amount unit` in words, for the replies of Fig 118 ("5 minutes").
pub fn in_words(amount: u32, unit: crate::command::TimeUnit) -> String {
    use crate::command::TimeUnit;
    let word = match unit {
        TimeUnit::Sec => "second",
        TimeUnit::Min => "minute",
        TimeUnit::Hour => "hour",
        TimeUnit::Day => "day",
        TimeUnit::Year => "year",
    };
    format!("{amount} {word}{}", if amount == 1 { "" } else { "s" })
}

/// The text of STATUS or AT as kept: `None` clears it (4.33: no text deletes the previous one).
/// Refused with 511: control characters and the bidirectional overrides (they would reach other
/// users' screens and could rewrite what is shown there) and more than `[presence]
/// max_text_length` characters (docs/interpretations.md, PNFO-TEXT).
pub fn checked_text(text: &str, max_length: usize) -> Result<Option<String>, AgapError> {
    let text = text.trim();
    let bidi_control = |c: char| matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
    if text.chars().any(|c| c.is_control() || bidi_control(c)) {
        return Err(AgapError::invalid("INVALID text: control characters"));
    }
    if text.chars().count() > max_length {
        return Err(AgapError::invalid(format!("INVALID text: longer than {max_length} characters")));
    }
    Ok(Some(text.to_owned()).filter(|text| !text.is_empty()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::TimeUnit;
    use crate::store::SessionPresence;

    fn session(availability: Availability, since: i64, expires: Option<i64>) -> SessionPresence {
        SessionPresence { availability, since, expires }
    }

    fn answer(sessions: Vec<SessionPresence>, offline_since: Option<i64>, now: i64) -> Answer {
        Answer::from_record(PresenceRecord { sessions, offline_since, ..PresenceRecord::default() }, now)
    }

    fn known(availability: Availability, at: i64) -> Answer {
        Answer::Known { availability, at, status: None, location: None }
    }

    #[test]
    fn the_best_live_announcement_wins_and_an_expired_for_is_unknown() {
        use Availability::*;
        assert_eq!(answer(vec![], None, 100), Answer::Unknown);
        assert_eq!(answer(vec![], Some(50), 100), known(Away, 50));
        let idle = session(Idle, 40, None);
        let for_until_90 = session(Here, 60, Some(90));
        assert_eq!(answer(vec![idle.clone(), for_until_90.clone()], None, 89), known(Here, 60));
        assert_eq!(answer(vec![idle.clone(), for_until_90.clone()], None, 90), known(Idle, 40));
        assert_eq!(answer(vec![for_until_90.clone()], Some(10), 90), Answer::Unknown);
        assert_eq!(answer(vec![session(Away, 70, None), session(Away, 80, None)], None, 90), known(Away, 80));
        assert_eq!(answer(vec![session(Idle, 10, None), session(Idle, 30, None)], None, 90), known(Idle, 30));
    }

    #[test]
    fn answers_are_the_lines_of_fig_118() {
        let answer = Answer::Known {
            availability: Availability::Idle,
            at: 1_306_519_200,
            status: Some("Today I am doing HomeOffice".into()),
            location: None,
        };
        assert_eq!(answer.lines(), ["IDLE 2011-05-27 18:00:00 +0000", "STATUS Today I am doing HomeOffice"]);
        assert_eq!(Answer::Unknown.lines(), ["UNKNOWN"]);
    }

    #[test]
    fn durations_and_their_words() {
        assert_eq!(seconds(5, TimeUnit::Min), 300);
        assert_eq!(seconds(i32::MAX as u32, TimeUnit::Year), i64::from(i32::MAX) * 31_536_000);
        assert_eq!(in_words(5, TimeUnit::Min), "5 minutes");
        assert_eq!(in_words(1, TimeUnit::Hour), "1 hour");
    }

    #[test]
    fn texts_are_bounded_and_free_of_control_characters() {
        assert_eq!(checked_text("At Home", 10).expect("fits"), Some("At Home".into()));
        assert_eq!(checked_text("", 10).expect("clears"), None);
        assert_eq!(checked_text("ääääääääää", 10).expect("characters, not bytes"), Some("ääääääääää".into()));
        assert!(checked_text("elevenchars", 10).is_err());
        for bad in ["a\u{1b}[2J", "tab\there", "bell\u{7}", "del\u{7f}", "c1\u{85}x", "rtl\u{202e}gnp.exe"] {
            assert!(checked_text(bad, 100).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn visibility_follows_the_setting() {
        let mut config = PresenceConfig::default();
        let alice = Asker::User("alice@example.com".into());
        assert!(may_see(&config, &alice, "bob@example.com"));
        assert!(!may_see(&config, &alice, "bob@example.org"));
        assert!(!may_see(&config, &alice, "bob"));
        let local = Asker::User("user66".into());
        assert!(may_see(&config, &local, "user67"), "users without a domain form one group");
        assert!(!may_see(&config, &local, "user67@example.com"));
        config.visibility = PresenceVisibility::SelfOnly;
        assert!(!may_see(&config, &local, "user67") && may_see(&config, &local, "user66"));
        config.visibility = PresenceVisibility::Everyone;
        assert!(may_see(&config, &alice, "bob"));
        let anonymous = Asker::Anonymous("someone@elsewhere.net".into());
        assert!(!may_see(&config, &anonymous, "bob@example.com"), "anonymous askers see nothing by default");
        config.anonymous_domains = vec!["Example.com".into()];
        assert!(may_see(&config, &anonymous, "bob@example.com") && !may_see(&config, &anonymous, "bob"));
        config.anonymous_domains = vec!["*".into()];
        assert!(may_see(&config, &anonymous, "bob"));
    }
}
