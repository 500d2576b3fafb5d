//! What a command does to the state: handlers say it, the session applies it (`State::apply`).

use super::{PreAuth, Selection, State};
use crate::account::Account;
use crate::delivery::trace::Sender;
use crate::presence::Asker;

/// The move a command asks for once it is answered.
#[derive(Debug)]
pub enum Transition {
    /// The state stays as it is (every refused or misunderstood command, most others).
    Stay,
    /// Into pre-authentication, or a new step within it (AUTH, USER).
    PreAuth(PreAuth),
    /// Logged in (PASS, HASH), with INBOX selected where it could be (3.2).
    LoggedIn(Account, Option<Selection>),
    /// Logged in with AUTH PRESENCE* (PASS, HASH): the presence state (3.5).
    Presence(Asker),
    /// A folder selected in the authenticated states (SLCT, NAME of the selected folder).
    Select(Selection),
    /// No folder selected any more (a failed SLCT, DELF of the selected folder).
    Deselect,
    /// Back to the not-authenticated state (EXIT, a failed login).
    Reset,
    /// Into the storing state (PASS, HASH after AUTH STORING*).
    Storing(Sender),
}

impl State {
    /// The state after `transition`. `Select` and `Deselect` outside the authenticated states
    /// would be a handler's fault: they leave the state as it is.
    pub fn apply(self, transition: Transition) -> State {
        match (self, transition) {
            (state, Transition::Stay) => state,
            (_, Transition::PreAuth(pre_auth)) => State::PreAuth(pre_auth),
            (_, Transition::LoggedIn(account, Some(selection))) => State::Selected(account, selection),
            (_, Transition::LoggedIn(account, None)) => State::NotSelected(account),
            (_, Transition::Presence(asker)) => State::Presence(asker),
            (State::Selected(account, _) | State::NotSelected(account), Transition::Select(selection)) => {
                State::Selected(account, selection)
            }
            (State::Selected(account, _) | State::NotSelected(account), Transition::Deselect) => {
                State::NotSelected(account)
            }
            (_, Transition::Reset) => State::NotAuthenticated,
            (_, Transition::Storing(sender)) => State::Storing(sender),
            (state, Transition::Select(_) | Transition::Deselect) => {
                tracing::error!(state = ?state.kind(), "a folder transition outside the authenticated states");
                state
            }
        }
    }
}
