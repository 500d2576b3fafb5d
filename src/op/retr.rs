//! RETR UID part? (draft 4.34): the item's rendering, or the value of one part of it. A header
//! part is fetched alone upstream (IMAP BODY.PEEK[HEADER.FIELDS (...)]), not the whole message.

use crate::account::Account;
use crate::codec::Reply;
use crate::error::{AgapError, AgapResult};
use crate::format::Element;
use crate::format::message::{render_header_only, render_message};
use crate::format::part::PartPath;
use crate::gateway::Gateway;
use crate::mail_uids::Messages;
use crate::session::Selection;

/// Sends a rendering or a part.
pub async fn handle(
    gateway: &Gateway,
    account: &Account,
    selection: &Selection,
    argument: Option<&str>,
) -> AgapResult<Reply> {
    if argument.is_none() {
        return Err(AgapError::unknown_command("RETR needs a UID (only FILT folders do not)"));
    }
    let super::item::UidArguments { uid, text: uid_text, rest } = super::item::uid_arguments("RETR", argument)?;
    let folder = super::item::items_folder(selection)?.clone();
    // Each data line gets a dot and an LF: 1024 characters in all (draft 2.2).
    let max_chars = gateway.config.server.max_line_length.saturating_sub(2);
    if folder.collection.is_some() {
        return super::collection::retr::handle(gateway, account, &folder, (uid, uid_text), rest, max_chars).await;
    }
    let part = if rest.is_empty() { None } else { Some(PartPath::parse(rest, "MESSAGE")?) };
    let messages = Messages::of(gateway, account, &folder).await?;
    let tree = match part.as_ref().and_then(PartPath::header_field) {
        Some(field) => render_header_only(&messages.header_fields(uid, uid_text, &[field.to_owned()]).await?),
        None => {
            let raw = messages.fetch(uid, uid_text, gateway.config.mail.max_item_size).await?;
            render_message(&raw).ok_or_else(|| AgapError::invalid(format!("message {uid_text} cannot be parsed")))?
        }
    };
    reply(tree, rest, max_chars)
}

/// The reply carrying a rendering, or the part `part` of it (empty: all of it).
///
/// The lines are made from the tree as they are written (see [`Element::into_lines`]).
pub fn reply(tree: Element, part: &str, max_chars: usize) -> AgapResult<Reply> {
    if part.is_empty() {
        return Ok(Reply::ok("OK RETR completed").with_line_stream(tree.into_lines(max_chars)));
    }
    let value = PartPath::parse(part, &tree.name)?.extract(tree, max_chars)?;
    let text = if value.base64 { "OK RETR completed (base64)" } else { "OK RETR completed" };
    Ok(Reply::ok(text).with_line_stream(value.lines))
}
