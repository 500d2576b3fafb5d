//! STOR (draft 4.39): after 110, an item as XML up to the empty line; composed for the
//! upstream server and stored in the selected folder. Empty content stores nothing (200);
//! invalid XML or an item of another type is 511; nothing is stored in part.

use crate::account::Account;
use crate::blocking::off_the_runtime_unless_small;
use crate::codec::{Reply, ReplyCode};
use crate::error::{AgapError, AgapResult};
use crate::folder::FolderType;
use crate::format::xml_reader::{parse_xml_keeping_encoding, parse_xml_within};
use crate::gateway::Gateway;
use crate::ids;
use crate::state::{Content, ContentKind, Selection};

/// Accepts STOR and asks for the item.
pub async fn begin(gateway: &Gateway, selection: &Selection) -> AgapResult<(Reply, Content)> {
    // A FILT folder takes a filter definition; any other folder must hold items.
    let folder = if selection.folder.kind == FolderType::Filt {
        selection.folder.clone()
    } else {
        super::item::items_folder(selection)?.clone()
    };
    if folder.tags().contains(&"READ-ONLY") {
        return Err(AgapError::invalid(format!("{} is READ-ONLY", selection.path)));
    }
    let what = folder.kind.item_noun().to_lowercase();
    let reply = Reply::new(ReplyCode::Continue, format!("Send the {what} ended with an empty line"));
    Ok((reply, Content::new(ContentKind::Stor, gateway.config.mail.max_item_size)))
}

/// Stores the item; the selection remembers its UID for SUID, and forgets it on failure
/// (docs/interpretations.md, `SUID-FAILED`: a failing STOR leaves no UID).
pub async fn finish(
    gateway: &Gateway,
    account: &Account,
    selection: &mut Selection,
    content: Content,
) -> AgapResult<Reply> {
    if selection.folder.kind == FolderType::Filt {
        let text = content.into_text()?;
        if text.is_empty() {
            return Ok(Reply::ok("OK Filter not stored as it was empty"));
        }
        return super::filt::store(gateway, account, selection, text).await;
    }
    let result = store(gateway, account, selection, content).await;
    match &result {
        Ok(Some((uid, _))) => selection.last_stored = Some(uid.clone()),
        Ok(None) => {}
        Err(_) => selection.last_stored = None,
    }
    result.map(|stored| match stored {
        Some((uid, what)) => Reply::ok(format!("OK {what} stored (UID is {uid})")),
        None => Reply::ok(format!("OK {} not stored as it was empty", selection.folder.kind.item_noun())),
    })
}

async fn store(
    gateway: &Gateway,
    account: &Account,
    selection: &Selection,
    content: Content,
) -> AgapResult<Option<(String, &'static str)>> {
    let text = content.into_text()?;
    if text.is_empty() {
        return Ok(None);
    }
    let max_item_size = gateway.config.mail.max_item_size;
    let folder = super::item::items_folder(selection)?;
    // A FILE's CONTENT is base64 unless it says utf-8: the reader must keep what it says
    // (docs/interpretations.md, FILE-ENCODING).
    let keep_encoding = folder.kind == FolderType::File;
    let tree = off_the_runtime_unless_small("parsing an item", text.len(), false, move || match keep_encoding {
        true => parse_xml_keeping_encoding(&text, max_item_size),
        false => parse_xml_within(&text, max_item_size),
    })
    .await?;
    let stored = crate::items::open(gateway, account, folder).await?.store(tree).await?;
    Ok(Some((ids::format(stored.uid), stored.noun)))
}
