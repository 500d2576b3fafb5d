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
pub mod fsto;
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
pub mod pnfo;
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
use crate::command::{Command, Verb};
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
        // FSTO's content is finished in the storing state, where no folder is selected.
        ContentKind::Fsto(_) => Err(AgapError::internal("FSTO content in the authenticated state")),
    }
}

/// Commands of the authenticated-selected state (6.4) that `accepts` let through.
pub async fn dispatch_selected(
    gateway: &Gateway,
    account: &Account,
    selection: &Selection,
    command: &Command,
) -> Dispatched {
    let is_filt = selection.folder.kind == crate::folder::FolderType::Filt;
    let begun = match command {
        Command::Find if is_filt => {
            return Dispatched::done(filt::find(gateway, account, selection).await, Transition::Stay);
        }
        Command::Retr { argument } if is_filt => {
            return Dispatched::done(
                filt::retr(gateway, account, selection, argument.as_deref()).await,
                Transition::Stay,
            );
        }
        Command::Find => find::begin(gateway, selection),
        Command::Ftag { change } => ftag::begin(gateway, selection, change.clone()),
        Command::Fdel => fdel::begin(gateway, selection),
        Command::Fmov { destination } => fmov::begin(gateway, account, selection, destination).await,
        Command::Fcpy { destination } => fcpy::begin(gateway, account, selection, destination).await,
        Command::Stor => stor::begin(gateway, selection).await,
        _ => {
            let (result, transition) = dispatch_selected_simple(gateway, account, selection, command).await;
            return Dispatched::done(result, transition);
        }
    };
    match begun {
        Ok((reply, content)) => {
            Dispatched { result: Ok(reply), transition: Transition::Stay, content: Some(Box::new(content)) }
        }
        Err(error) => Dispatched::done(Err(error), Transition::Stay),
    }
}

async fn dispatch_selected_simple(
    gateway: &Gateway,
    account: &Account,
    selection: &Selection,
    command: &Command,
) -> (AgapResult<Reply>, Transition) {
    let selected = Some(&selection.path);
    let item = selection;
    let result = match command {
        Command::Suid => suid::handle(selection),
        Command::Retr { argument } => retr::handle(gateway, account, item, argument.as_deref()).await,
        Command::Gtag { uid } => gtag::handle(gateway, account, item, *uid).await,
        Command::Stag { uid, change } => stag::handle(gateway, account, item, *uid, change).await,
        Command::Dele { uid } => dele::handle(gateway, account, item, *uid).await,
        Command::Datt { uid, attachment } => datt::handle(gateway, account, item, *uid, *attachment).await,
        Command::Copy { uid, destination } => copy::handle(gateway, account, item, *uid, destination).await,
        Command::Move { uid, destination } => r#move::handle(gateway, account, item, *uid, destination).await,
        Command::Cpyf { destination } => cpyf::handle(gateway, account, item, destination).await,
        Command::Movf { destination } => movf::handle(gateway, account, item, destination).await,
        Command::Spam { uid, reason } => spam::handle(gateway, account, item, *uid, reason).await,
        Command::Noop => noop::handle(),
        Command::Exit => return (exit::handle(), Transition::Reset),
        Command::List { pattern } => list::handle(gateway, account, selected, pattern.as_deref()).await,
        Command::Make { folder_type, path } => make::handle(gateway, account, selected, folder_type, path).await,
        Command::Chng { path } => chng::handle(gateway, account, selected, path.as_deref()).await,
        Command::Stat => stat::handle(gateway, account, &selection.path).await,
        Command::Slct { path } => return slct::handle(gateway, account, Some(selection), path).await,
        Command::Name { new_name } => {
            return match name::handle(gateway, account, &selection.path, new_name).await {
                Ok((reply, folder)) => (Ok(reply), Transition::Select(Selection::of(folder))),
                Err(error) => (Err(error), Transition::Stay),
            };
        }
        Command::Delf => {
            return match delf::handle(gateway, account, &selection.path).await {
                Ok(reply) => (Ok(reply), Transition::Deselect),
                Err(error) => (Err(error), Transition::Stay),
            };
        }
        other => Err(refused(StateKind::Selected, other.verb())),
    };
    (result, Transition::Stay)
}

/// Commands of the not-selected state (6.5 plus the readings of docs/interpretations.md) that
/// `accepts` let through.
pub async fn dispatch_not_selected(
    gateway: &Gateway,
    account: &Account,
    command: &Command,
) -> (AgapResult<Reply>, Transition) {
    match command {
        Command::List { pattern } => (list::handle(gateway, account, None, pattern.as_deref()).await, Transition::Stay),
        Command::Slct { path } => slct::handle(gateway, account, None, path).await,
        Command::Make { folder_type, path } => {
            (make::handle(gateway, account, None, folder_type, path).await, Transition::Stay)
        }
        Command::Chng { path } => (chng::handle(gateway, account, None, path.as_deref()).await, Transition::Stay),
        other => (Err(refused(StateKind::NotSelected, other.verb())), Transition::Stay),
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
