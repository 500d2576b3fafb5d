//! FSTO type account (draft 4.24), in the storing state: finds the account's folder of that type
//! and stores the item sent after 110 there, like STOR. A message goes into the account's INBOX
//! through the mail server's delivery agent (`crate::delivery`); other types are not delivered
//! by this gateway (docs/interpretations.md, FSTO-TYPES). The account is checked before 110
//! (Figure 95), the same way whether it is unknown or cannot be an address at all
//! (docs/interpretations.md, FSTO-ACCOUNT).

use std::net::IpAddr;
use std::time::Instant;

use crate::blocking::off_the_runtime;
use crate::codec::{Reply, ReplyCode};
use crate::delivery::trace::Sender;
use crate::delivery::{Delivery, Envelope};
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
    if folder_type != FolderType::Mesg {
        return Err(AgapError::invalid(format!(
            "INVALID folder type: FSTO delivers MESG items only, not {folder_type}"
        )));
    }
    delivery.admit(sender, account, Instant::now())?;
    delivery.check_account(account).await?;
    let reply = Reply::new(ReplyCode::Continue, "Send the message ended with an empty line");
    let content = Content::new(ContentKind::Fsto(account.to_owned()), gateway.config.mail.max_item_size);
    Ok((reply, content))
}

/// Delivers the message; empty content delivers nothing (200, as STOR).
pub async fn finish(
    gateway: &Gateway,
    sender: &Sender,
    client: IpAddr,
    account: &str,
    content: Content,
) -> AgapResult<Reply> {
    let delivery = delivery(gateway)?;
    let text = content.into_text()?;
    if text.is_empty() {
        return Ok(Reply::ok("OK Message not stored as it was empty"));
    }
    let max_size = gateway.config.mail.max_item_size;
    let tree = off_the_runtime("parsing an item", move || parse_xml_within(&text, max_size)).await?;
    let defaults = gateway.compose_defaults();
    let envelope = Envelope { client, sender, account, date: rfc5322_date(defaults.now), max_size };
    delivery.deliver_message(&envelope, tree, &defaults).await?;
    tracing::info!(sender = %sender.limit_key(), recipient = %account, "FSTO delivered a message");
    // Figure 93 names the UID; LMTP does not tell it (docs/interpretations.md, FSTO-REPLY).
    Ok(Reply::ok(format!("OK Message stored into INBOX of {account}")))
}

fn delivery(gateway: &Gateway) -> AgapResult<&Delivery> {
    // The storing state is only reachable with a delivery configured; this is a safeguard.
    gateway.delivery.as_deref().ok_or_else(|| AgapError::unknown_command("FSTO is not offered by this gateway"))
}
