//! One handler per command, named after it; the routing of the authenticated states to them
//! (which commands a state accepts is `crate::state::accepts`, asked before these are).

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

pub use crate::command::arguments::{expect_no_argument, require_argument};

use crate::account::Account;
use crate::codec::Reply;
use crate::command::Verb;
use crate::error::{AgapError, AgapResult};
use crate::gateway::Gateway;
use crate::state::{Acceptance, Content, ContentKind, Selection, StateKind, Transition, accepts};

/// What a command of the selected state did: its reply and the move it asks for, and, after a
/// 110 reply, the content the session collects and hands to `finish_content` (the state stays
/// while it is).
#[derive(Debug)]
pub struct Dispatched {
    /// The reply.
    pub result: AgapResult<Reply>,
    /// The move.
    pub transition: Transition,
    /// Content to collect, after a 110 reply.
    pub content: Option<Box<Content>>,
}

impl Dispatched {
    fn done(result: AgapResult<Reply>, transition: Transition) -> Self {
        Self { result, transition, content: None }
    }
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

/// Commands of the authenticated-selected state (6.4) that `accepts` let through.
pub async fn dispatch_selected(
    gateway: &Gateway,
    account: &Account,
    selection: &Selection,
    verb: Verb,
    argument: Option<&str>,
) -> Dispatched {
    let is_filt = selection.folder.kind == crate::folder::FolderType::Filt;
    match verb {
        Verb::Find if is_filt => {
            return Dispatched::done(filt::find(gateway, account, selection, argument).await, Transition::Stay);
        }
        Verb::Retr if is_filt => {
            return Dispatched::done(filt::retr(gateway, account, selection, argument).await, Transition::Stay);
        }
        _ => {}
    }
    let begun = match verb {
        Verb::Find => Some(find::begin(gateway, selection, argument)),
        Verb::Ftag => Some(ftag::begin(gateway, selection, argument)),
        Verb::Fdel => Some(fdel::begin(gateway, selection, argument)),
        Verb::Fmov => Some(fmov::begin(gateway, account, selection, argument).await),
        Verb::Fcpy => Some(fcpy::begin(gateway, account, selection, argument).await),
        Verb::Stor => Some(stor::begin(gateway, selection, argument).await),
        _ => None,
    };
    if let Some(begun) = begun {
        return match begun {
            Ok((reply, content)) => {
                Dispatched { result: Ok(reply), transition: Transition::Stay, content: Some(Box::new(content)) }
            }
            Err(error) => Dispatched::done(Err(error), Transition::Stay),
        };
    }
    let (result, transition) = dispatch_selected_simple(gateway, account, selection, verb, argument).await;
    Dispatched::done(result, transition)
}

async fn dispatch_selected_simple(
    gateway: &Gateway,
    account: &Account,
    selection: &Selection,
    verb: Verb,
    argument: Option<&str>,
) -> (AgapResult<Reply>, Transition) {
    let selected = Some(&selection.path);
    let item = selection;
    let item_result = match verb {
        Verb::Suid => Some(suid::handle(selection, argument)),
        Verb::Retr => Some(retr::handle(gateway, account, item, argument).await),
        Verb::Gtag => Some(gtag::handle(gateway, account, item, argument).await),
        Verb::Stag => Some(stag::handle(gateway, account, item, argument).await),
        Verb::Dele => Some(dele::handle(gateway, account, item, argument).await),
        Verb::Datt => Some(datt::handle(gateway, account, item, argument).await),
        Verb::Copy => Some(copy::handle(gateway, account, item, argument).await),
        Verb::Move => Some(r#move::handle(gateway, account, item, argument).await),
        Verb::Cpyf => Some(cpyf::handle(gateway, account, item, argument).await),
        Verb::Movf => Some(movf::handle(gateway, account, item, argument).await),
        Verb::Spam => Some(spam::handle(gateway, account, item, argument).await),
        _ => None,
    };
    if let Some(result) = item_result {
        return (result, Transition::Stay);
    }
    match verb {
        Verb::Noop => (noop::handle(argument), Transition::Stay),
        // Even with a stray argument: the account is dropped (as it always was).
        Verb::Exit => (exit::handle(argument), Transition::Reset),
        Verb::List => (list::handle(gateway, account, selected, argument).await, Transition::Stay),
        Verb::Make => (make::handle(gateway, account, selected, argument).await, Transition::Stay),
        Verb::Chng => (chng::handle(gateway, account, selected, argument).await, Transition::Stay),
        Verb::Stat => (stat::handle(gateway, account, &selection.path, argument).await, Transition::Stay),
        Verb::Slct => slct::handle(gateway, account, Some(selection), argument).await,
        Verb::Name => match name::handle(gateway, account, &selection.path, argument).await {
            Ok((reply, folder)) => (Ok(reply), Transition::Select(Selection::of(folder))),
            Err(error) => (Err(error), Transition::Stay),
        },
        Verb::Delf => match delf::handle(gateway, account, &selection.path, argument).await {
            Ok(reply) => (Ok(reply), Transition::Deselect),
            Err(error) => (Err(error), Transition::Stay),
        },
        other => (Err(refused(StateKind::Selected, other)), Transition::Stay),
    }
}

/// Commands of the not-selected state (6.5 plus the readings of docs/interpretations.md) that
/// `accepts` let through.
pub async fn dispatch_not_selected(
    gateway: &Gateway,
    account: &Account,
    verb: Verb,
    argument: Option<&str>,
) -> (AgapResult<Reply>, Transition) {
    match verb {
        Verb::List => (list::handle(gateway, account, None, argument).await, Transition::Stay),
        Verb::Slct => slct::handle(gateway, account, None, argument).await,
        Verb::Make => (make::handle(gateway, account, None, argument).await, Transition::Stay),
        Verb::Chng => (chng::handle(gateway, account, None, argument).await, Transition::Stay),
        other => (Err(refused(StateKind::NotSelected, other)), Transition::Stay),
    }
}

/// The table's reply to a command no handler here takes (the session asks the table first, so
/// this is only reached if the two disagree).
fn refused(state: StateKind, verb: Verb) -> AgapError {
    match accepts(state, verb) {
        Acceptance::Refused(error) => error,
        Acceptance::Accepted => AgapError::internal(format!("{verb} is accepted in {state:?} but has no handler")),
    }
}
