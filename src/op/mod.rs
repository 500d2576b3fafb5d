//! One handler per command, named after it; the routing tables for the authenticated states.

pub mod auth;
pub mod capa;
pub mod chng;
pub mod copy;
pub mod cpyf;
pub mod datt;
pub mod dele;
pub mod delf;
pub mod exit;
pub mod fcpy;
pub mod fdel;
pub mod filt;
pub mod filtered;
pub mod find;
pub mod fmov;
pub mod ftag;
pub mod gtag;
pub mod hash;
pub mod item;
pub mod list;
pub mod login;
pub mod make;
pub mod r#move;
pub mod movf;
pub mod name;
pub mod noop;
pub mod pass;
pub mod retr;
pub mod sgzp;
pub mod slct;
pub mod spam;
pub mod stag;
pub mod stat;
pub mod stls;
pub mod stor;
pub mod suid;
pub mod transfer;
pub mod user;

use crate::account::Account;
use crate::codec::Reply;
use crate::command::Verb;
use crate::error::{AgapError, AgapResult};
use crate::gateway::Gateway;
use crate::session::{Content, ContentKind, Selection, State};

/// What a command of the selected state did: finished, or asked for content (110).
#[derive(Debug)]
pub enum Dispatched {
    /// The reply and the next state.
    Done(AgapResult<Reply>, State),
    /// A 110 reply; the content is collected by the session and handed to `finish_content`.
    Collect(Reply, Box<Content>, State),
}

/// Completes a command after its content.
pub async fn finish_content(
    gateway: &Gateway,
    account: &Account,
    selection: &mut Selection,
    content: Content,
) -> AgapResult<Reply> {
    match content.kind.clone() {
        ContentKind::Stor => stor::finish(gateway, account, selection, content).await,
        ContentKind::Find => find::finish(gateway, account, selection, content.into_text()?).await,
        ContentKind::Ftag(change) => ftag::finish(gateway, account, selection, &change, content.into_text()?).await,
        ContentKind::Fdel => fdel::finish(gateway, account, selection, content.into_text()?).await,
        ContentKind::Fmov(target) => fmov::finish(gateway, account, selection, &target, content.into_text()?).await,
        ContentKind::Fcpy(target) => fcpy::finish(gateway, account, selection, &target, content.into_text()?).await,
    }
}

/// Refuses an argument to a command that takes none (510: its syntax is wrong, draft 5.5.2).
pub fn expect_no_argument(verb: &str, argument: Option<&str>) -> AgapResult<()> {
    match argument {
        None => Ok(()),
        Some(_) => Err(AgapError::unknown_command(format!("{verb} takes no argument"))),
    }
}

/// Requires an argument; its absence is 510 (draft Figs 43, 59, 106, 125;
/// docs/interpretations.md, `NOARG-510-511`).
pub fn require_argument<'a>(verb: &str, argument: Option<&'a str>) -> AgapResult<&'a str> {
    argument.ok_or_else(|| AgapError::unknown_command(format!("{verb} needs an argument")))
}

/// Commands of the authenticated-selected state (6.4).
pub async fn dispatch_selected(
    gateway: &Gateway,
    account: Account,
    selection: Selection,
    verb: Verb,
    argument: Option<&str>,
) -> Dispatched {
    let is_filt = selection.folder.kind == crate::folder::FolderType::Filt;
    match verb {
        Verb::Find if is_filt => {
            let result = filt::find(gateway, &account, &selection, argument).await;
            return Dispatched::Done(result, State::Selected(account, selection));
        }
        Verb::Retr if is_filt => {
            let result = filt::retr(gateway, &account, &selection, argument).await;
            return Dispatched::Done(result, State::Selected(account, selection));
        }
        _ => {}
    }
    let begun = match verb {
        Verb::Find => Some(find::begin(gateway, &selection, argument)),
        Verb::Ftag => Some(ftag::begin(gateway, &selection, argument)),
        Verb::Fdel => Some(fdel::begin(gateway, &selection, argument)),
        Verb::Fmov => Some(fmov::begin(gateway, &account, &selection, argument).await),
        Verb::Fcpy => Some(fcpy::begin(gateway, &account, &selection, argument).await),
        Verb::Stor => Some(stor::begin(gateway, &selection, argument).await),
        _ => None,
    };
    if let Some(begun) = begun {
        return match begun {
            Ok((reply, content)) => Dispatched::Collect(reply, Box::new(content), State::Selected(account, selection)),
            Err(error) => Dispatched::Done(Err(error), State::Selected(account, selection)),
        };
    }
    if verb == Verb::Suid {
        return Dispatched::Done(suid::handle(&selection, argument), State::Selected(account, selection));
    }
    let (result, state) = dispatch_selected_simple(gateway, account, selection, verb, argument).await;
    Dispatched::Done(result, state)
}

async fn dispatch_selected_simple(
    gateway: &Gateway,
    account: Account,
    selection: Selection,
    verb: Verb,
    argument: Option<&str>,
) -> (AgapResult<Reply>, State) {
    let selected = Some(&selection.path);
    let item = &selection;
    let item_result = match verb {
        Verb::Retr => Some(retr::handle(gateway, &account, item, argument).await),
        Verb::Gtag => Some(gtag::handle(gateway, &account, item, argument).await),
        Verb::Stag => Some(stag::handle(gateway, &account, item, argument).await),
        Verb::Dele => Some(dele::handle(gateway, &account, item, argument).await),
        Verb::Datt => Some(datt::handle(gateway, &account, item, argument).await),
        Verb::Copy => Some(copy::handle(gateway, &account, item, argument).await),
        Verb::Move => Some(r#move::handle(gateway, &account, item, argument).await),
        Verb::Cpyf => Some(cpyf::handle(gateway, &account, item, argument).await),
        Verb::Movf => Some(movf::handle(gateway, &account, item, argument).await),
        Verb::Spam => Some(spam::handle(gateway, &account, item, argument).await),
        _ => None,
    };
    if let Some(result) = item_result {
        return (result, State::Selected(account, selection));
    }
    match verb {
        Verb::Noop => (noop::handle(argument), State::Selected(account, selection)),
        Verb::Exit => (exit::handle(argument), State::NotAuthenticated),
        Verb::List => (list::handle(gateway, &account, selected, argument).await, State::Selected(account, selection)),
        Verb::Make => (make::handle(gateway, &account, selected, argument).await, State::Selected(account, selection)),
        Verb::Chng => (chng::handle(gateway, &account, selected, argument).await, State::Selected(account, selection)),
        Verb::Stat => {
            (stat::handle(gateway, &account, &selection.path, argument).await, State::Selected(account, selection))
        }
        Verb::Slct => slct::handle(gateway, account, Some(selection), argument).await,
        Verb::Name => match name::handle(gateway, &account, &selection.path, argument).await {
            Ok((reply, folder)) => (Ok(reply), State::Selected(account, Selection::of(folder))),
            Err(error) => (Err(error), State::Selected(account, selection)),
        },
        Verb::Delf => match delf::handle(gateway, &account, &selection.path, argument).await {
            Ok(reply) => (Ok(reply), State::NotSelected(account)),
            Err(error) => (Err(error), State::Selected(account, selection)),
        },
        other => (Err(unsupported(other)), State::Selected(account, selection)),
    }
}

/// Commands of the not-selected state (6.5 plus the readings of docs/interpretations.md).
pub async fn dispatch_not_selected(
    gateway: &Gateway,
    account: Account,
    verb: Verb,
    argument: Option<&str>,
) -> (AgapResult<Reply>, State) {
    match verb {
        Verb::List => (list::handle(gateway, &account, None, argument).await, State::NotSelected(account)),
        Verb::Slct => slct::handle(gateway, account, None, argument).await,
        // NOTSEL-CMDS: the section headings admit CHNG and MAKE here.
        Verb::Make => (make::handle(gateway, &account, None, argument).await, State::NotSelected(account)),
        Verb::Chng => (chng::handle(gateway, &account, None, argument).await, State::NotSelected(account)),
        // STAT-NOTSEL: Fig 134.
        Verb::Stat => (Err(AgapError::out_of_order("SLCT: first select a folder")), State::NotSelected(account)),
        // NOTSEL-511-510: Figs 78 and 139 answer 511 for DELF and SUID; NAME follows them.
        Verb::Delf | Verb::Name | Verb::Suid => {
            (Err(AgapError::invalid("Please select first a folder")), State::NotSelected(account))
        }
        // docs/interpretations.md, NOTSEL-CODE: everything else, item commands and NOOP included,
        // is 510.
        other => {
            (Err(AgapError::unknown_command(format!("{other} needs a selected folder"))), State::NotSelected(account))
        }
    }
}

fn unsupported(verb: Verb) -> AgapError {
    match verb {
        // Commands of other states (6.4 "other: 510"; docs/interpretations.md, AFTER-LOGIN for
        // CAPA, STLS, SGZP).
        Verb::Auth | Verb::Capa | Verb::User | Verb::Pass | Verb::Hash | Verb::Stls | Verb::Sgzp | Verb::Fsto => {
            AgapError::unknown_command(format!("{verb} is not valid after login"))
        }
        _ => AgapError::unknown_command(format!("{verb} is not supported by this gateway")),
    }
}
