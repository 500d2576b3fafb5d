//! FSTO type account (draft 4.24), in the storing state: finds the account's folder of that type
//! and stores the item sent after 110 there, like STOR. A message goes into the account's INBOX
//! through the mail server's delivery agent, an event, task, journal or contact into the
//! account's collection of that kind through a service account (`crate::delivery`); other types
//! are not delivered (docs/interpretations.md, FSTO-TYPES). The account is checked before 110
//! (Figure 95), the same way whether it is unknown or cannot be an address at all
//! (docs/interpretations.md, FSTO-ACCOUNT).

use std::net::IpAddr;
use std::time::Instant;

use crate::blocking::off_the_runtime_unless_small;
use crate::codec::{Reply, ReplyCode};
use crate::delivery::trace::Sender;
use crate::delivery::{Delivery, Destination, Envelope};
use crate::error::{AgapError, AgapResult};
use crate::folder::FolderType;
use crate::format::compose::rfc5322_date;
use crate::format::xml_reader::parse_xml_within;
use crate::gateway::Gateway;
use crate::state::{Content, ContentKind};

/// Accepts FSTO and asks for the item: 511 for a type the gateway does not deliver or an
/// unknown account, 410 past a delivery limit.
pub async fn begin(
    gateway: &Gateway,
    sender: &Sender,
    folder_type: FolderType,
    account: &str,
) -> AgapResult<(Reply, Content)> {
    let delivery = delivery(gateway)?;
    if !delivery.types().contains(&folder_type) {
        return Err(AgapError::invalid(format!(
            "INVALID folder type: this gateway does not deliver {folder_type} items"
        )));
    }
    delivery.admit(sender, account, Instant::now())?;
    let destination = delivery.destination(folder_type, account).await?;
    let what = folder_type.item_noun().to_lowercase();
    let reply = Reply::new(ReplyCode::Continue, format!("Send the {what} ended with an empty line"));
    let content = Content::new(ContentKind::Fsto(destination), gateway.config.mail.max_item_size);
    Ok((reply, content))
}

/// Delivers the item; empty content delivers nothing (200, as STOR).
pub async fn finish(
    gateway: &Gateway,
    sender: &Sender,
    client: IpAddr,
    destination: &Destination,
    content: Content,
) -> AgapResult<Reply> {
    let delivery = delivery(gateway)?;
    let text = content.into_text()?;
    if text.is_empty() {
        return Ok(Reply::ok("OK Item not stored as it was empty"));
    }
    let max_size = gateway.config.mail.max_item_size;
    let tree =
        off_the_runtime_unless_small("parsing an item", text.len(), false, move || parse_xml_within(&text, max_size))
            .await?;
    // Figure 93 names the UID; the recipient's servers do not tell it to a sender
    // (docs/interpretations.md, FSTO-REPLY).
    let reply = match destination {
        Destination::Inbox(account) => {
            let defaults = gateway.compose_defaults();
            let envelope = Envelope { client, sender, account, date: rfc5322_date(defaults.now), max_size };
            delivery.deliver_message(&envelope, tree, &defaults).await?;
            format!("OK Message stored into INBOX of {account}")
        }
        Destination::Notes(target) => {
            let defaults = gateway.compose_defaults();
            let date = rfc5322_date(defaults.now);
            let account = &target.account;
            let envelope = Envelope { client, sender, account, date, max_size };
            delivery.deliver_note(&envelope, target, tree, defaults).await?;
            format!("OK Note stored into NOTE of {account}")
        }
        Destination::Collection(target) => {
            delivery.deliver_item(target, tree).await?;
            let noun = FolderType::of_items(target.kind).item_noun();
            format!("OK {noun} stored into the {} folder of {}", FolderType::of_items(target.kind), target.account)
        }
    };
    tracing::info!(sender = %sender.limit_key(), ?destination, "FSTO delivered an item");
    Ok(Reply::ok(reply))
}

fn delivery(gateway: &Gateway) -> AgapResult<&Delivery> {
    // The storing state is only reachable with a delivery configured; this is a safeguard.
    gateway.delivery.as_deref().ok_or_else(|| AgapError::unknown_command("FSTO is not offered by this gateway"))
}
