//! The state table of draft sections 3 and 6: which commands each state accepts, and the reply
//! to a command a state refuses: 6.x "other: 510", and the readings of
//! docs/interpretations.md, NOTSEL-CMDS, NOTSEL-CODE, NOTSEL-511-510, STAT-NOTSEL, AFTER-LOGIN,
//! STATE-CODE.
//! This is the only place that decides it: the session asks `accepts` before it hands a command
//! to its handler.
//!
//! What a table cannot say stays with the session: QUIT, accepted in every state, and the checks
//! that depend on the connection (AUTH waiting for TLS, a banned client's login commands).

use crate::command::Verb;
use crate::error::AgapError;

/// The states of section 3 without their data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StateKind {
    /// 3.1 / 6.1: after the welcome and after EXIT.
    NotAuthenticated,
    /// 3.2 / 6.2: after AUTH of a mechanism proven by PASS (PLAIN, PRESENCE, STORING).
    PreAuthPassword,
    /// 3.2 / 6.3: after AUTH of a mechanism proven by HASH (MD5, SHA1 and their variants).
    PreAuthDigest,
    /// 3.4 / 6.5: logged in, nothing selected.
    NotSelected,
    /// 3.3 / 6.4: logged in with a folder selected.
    Selected,
    /// 3.5: after AUTH PRESENCE*: PNFO USER and QUIT only (the handler refuses other PNFO
    /// requests).
    Presence,
    /// 3.6: after AUTH STORING*: FSTO and QUIT only.
    Storing,
}

impl StateKind {
    /// Every state, for tests that walk the whole table.
    pub const ALL: [StateKind; 7] = [
        StateKind::NotAuthenticated,
        StateKind::PreAuthPassword,
        StateKind::PreAuthDigest,
        StateKind::NotSelected,
        StateKind::Selected,
        StateKind::Presence,
        StateKind::Storing,
    ];
}

/// Whether a state takes a command.
#[derive(Debug)]
pub enum Acceptance {
    /// The command goes to its handler.
    Accepted,
    /// The command is answered with this error and changes nothing.
    Refused(AgapError),
}

impl Acceptance {
    /// Whether the command goes to its handler.
    pub fn is_accepted(&self) -> bool {
        matches!(self, Acceptance::Accepted)
    }
}

/// Whether `state` accepts `verb`, and if not, the reply.
pub fn accepts(state: StateKind, verb: Verb) -> Acceptance {
    use Acceptance::{Accepted, Refused};
    use Verb::*;
    if verb == Quit {
        return Accepted;
    }
    match state {
        StateKind::NotAuthenticated => match verb {
            Capa | Stls | Sgzp | Auth => Accepted,
            _ => Refused(not_valid_in_this_state(verb)),
        },
        // USER for every mechanism; PASS after PLAIN, HASH after MD5 and SHA1 (the other one
        // is "other: 510").
        StateKind::PreAuthPassword => match verb {
            User | Pass => Accepted,
            _ => Refused(not_valid_in_this_state(verb)),
        },
        StateKind::PreAuthDigest => match verb {
            User | Hash => Accepted,
            _ => Refused(not_valid_in_this_state(verb)),
        },
        StateKind::NotSelected => match verb {
            // NOTSEL-CMDS: the section headings admit CHNG, MAKE and PNFO here.
            List | Slct | Make | Chng | Pnfo => Accepted,
            // STAT-NOTSEL: Fig 134.
            Stat => Refused(AgapError::out_of_order("SLCT: first select a folder")),
            // NOTSEL-511-510: Figs 78 and 139 answer 511 for DELF and SUID; NAME follows them.
            Delf | Name | Suid => Refused(AgapError::invalid("Please select first a folder")),
            // NOTSEL-CODE: everything else, item commands and NOOP included, is 510.
            _ => Refused(AgapError::unknown_command(format!("{verb} needs a selected folder"))),
        },
        StateKind::Selected => match verb {
            Noop | Exit | List | Make | Chng | Stat | Slct | Name | Delf | Suid | Find | Ftag | Fdel | Fmov | Fcpy
            | Stor | Retr | Gtag | Stag | Dele | Datt | Copy | Move | Cpyf | Movf | Spam | Pnfo => Accepted,
            // Commands of other states (6.4 "other: 510"; AFTER-LOGIN for CAPA, STLS, SGZP).
            Auth | Capa | User | Pass | Hash | Stls | Sgzp | Fsto => {
                Refused(AgapError::unknown_command(format!("{verb} is not valid after login")))
            }
            _ => Refused(AgapError::unknown_command(format!("{verb} is not supported by this gateway"))),
        },
        // STATE-CODE: "other: 510" as in every table of section 6.
        StateKind::Presence => match verb {
            Pnfo => Accepted,
            _ => Refused(not_valid_in_this_state(verb)),
        },
        // STOR-STORING: FSTO is how a sender stores; STOR is "other: 510" here.
        StateKind::Storing => match verb {
            Fsto => Accepted,
            _ => Refused(not_valid_in_this_state(verb)),
        },
    }
}

/// "other: 510" of every state.
fn not_valid_in_this_state(verb: Verb) -> AgapError {
    AgapError::unknown_command(format!("{verb} is not valid in this state"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The refusal's code, and its reply text from `reason` on (the text starts with the
    /// code's keyword).
    fn refusal(state: StateKind, verb: Verb, reason: &str) -> (u16, String) {
        match accepts(state, verb) {
            Acceptance::Accepted => panic!("{verb} accepted in {state:?}"),
            Acceptance::Refused(error) => {
                let reply = error.to_reply();
                let at = reply.text.find(reason).unwrap_or(0);
                (reply.code.number(), reply.text[at..].to_owned())
            }
        }
    }

    fn accepted(state: StateKind) -> Vec<Verb> {
        Verb::ALL.into_iter().filter(|verb| accepts(state, *verb).is_accepted()).collect()
    }

    #[test]
    fn quit_is_accepted_everywhere() {
        for state in StateKind::ALL {
            assert!(accepts(state, Verb::Quit).is_accepted(), "{state:?}");
        }
    }

    #[test]
    fn each_state_accepts_the_commands_of_its_section() {
        use Verb::*;
        assert_eq!(accepted(StateKind::NotAuthenticated), [Auth, Capa, Quit, Sgzp, Stls]);
        assert_eq!(accepted(StateKind::PreAuthPassword), [Pass, Quit, User]);
        assert_eq!(accepted(StateKind::PreAuthDigest), [Hash, Quit, User]);
        assert_eq!(accepted(StateKind::NotSelected), [Chng, List, Make, Pnfo, Quit, Slct]);
        assert_eq!(accepted(StateKind::Presence), [Pnfo, Quit]);
        assert_eq!(accepted(StateKind::Storing), [Fsto, Quit]);
        let selected = accepted(StateKind::Selected);
        for verb in [Auth, Capa, User, Pass, Hash, Stls, Sgzp, Fsto] {
            assert!(!selected.contains(&verb), "{verb}");
        }
        assert!(selected.contains(&Pnfo));
        assert_eq!(selected.len(), Verb::ALL.len() - 8);
    }

    #[test]
    fn refusals_keep_the_codes_and_texts_of_the_readings() {
        assert_eq!(
            refusal(StateKind::NotAuthenticated, Verb::List, "LIST is not valid in this state"),
            (510, "LIST is not valid in this state".into())
        );
        assert_eq!(
            refusal(StateKind::PreAuthPassword, Verb::Hash, "HASH is not valid in this state"),
            (510, "HASH is not valid in this state".into())
        );
        assert_eq!(
            refusal(StateKind::PreAuthDigest, Verb::Pass, "PASS is not valid in this state"),
            (510, "PASS is not valid in this state".into())
        );
        assert_eq!(
            refusal(StateKind::NotSelected, Verb::Stat, "SLCT: first select a folder"),
            (512, "SLCT: first select a folder".into())
        );
        assert_eq!(
            refusal(StateKind::NotSelected, Verb::Suid, "Please select first a folder"),
            (511, "Please select first a folder".into())
        );
        assert_eq!(
            refusal(StateKind::NotSelected, Verb::Noop, "NOOP needs a selected folder"),
            (510, "NOOP needs a selected folder".into())
        );
        assert_eq!(
            refusal(StateKind::Selected, Verb::Capa, "CAPA is not valid after login"),
            (510, "CAPA is not valid after login".into())
        );
        assert_eq!(
            refusal(StateKind::Selected, Verb::Fsto, "FSTO is not valid after login"),
            (510, "FSTO is not valid after login".into())
        );
        assert_eq!(
            refusal(StateKind::Presence, Verb::Retr, "RETR is not valid in this state"),
            (510, "RETR is not valid in this state".into())
        );
        assert_eq!(
            refusal(StateKind::Storing, Verb::Pnfo, "PNFO is not valid in this state"),
            (510, "PNFO is not valid in this state".into())
        );
    }
}
