//! STAG UID tag_list (draft 4.37, 4.2).

use agap_adapter_api::tags::{Tag, TagChange};

use crate::account::Account;
use crate::codec::Reply;
use crate::error::{AgapError, AgapResult};
use crate::gateway::Gateway;
use crate::state::Selection;

/// Parses `ACTION TAG TAG=VALUE ...` (draft 4.2); the list may be empty (`= ` clears all tags).
pub fn parse_tag_list(text: &str) -> AgapResult<TagChange> {
    let invalid = || AgapError::invalid("INVALID tag list");
    let mut words = text.split(' ');
    let action = words.next().ok_or_else(invalid)?;
    let tags = words.filter(|word| !word.is_empty()).map(Tag::parse).collect::<Result<Vec<_>, _>>();
    let tags = tags.map_err(|bad| AgapError::invalid(format!("INVALID tag list: {bad}")))?;
    match action {
        "=" => Ok(TagChange::Set(tags)),
        "+" => Ok(TagChange::Add(tags)),
        "-" => Ok(TagChange::Remove(tags)),
        _ => Err(invalid()),
    }
}

/// Changes the tags of one item.
pub async fn handle(
    gateway: &Gateway,
    account: &Account,
    selection: &Selection,
    argument: Option<&str>,
) -> AgapResult<Reply> {
    let super::item::UidArguments { uid, rest: list } = super::item::uid_arguments("STAG", argument)?;
    let change = parse_tag_list(list)?;
    let folder = super::item::items_folder(selection)?;
    super::item::check_source_allows(folder, "READ-ONLY")?;
    crate::items::open(gateway, account, folder).await?.change_tags(uid, &change).await?;
    Ok(Reply::ok("OK STAG completed"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_lists_follow_section_4_2() {
        assert!(matches!(parse_tag_list("= SEEN SPAM=YES"), Ok(TagChange::Set(tags)) if tags.len() == 2));
        assert!(matches!(parse_tag_list("+ seen"), Ok(TagChange::Add(tags)) if tags[0].name() == "SEEN"));
        assert!(matches!(parse_tag_list("="), Ok(TagChange::Set(tags)) if tags.is_empty()));
        for bad in ["", "SEEN", "* SEEN", "+ SEEN bad/tag", "+ A=b c=d=e"] {
            assert_eq!(parse_tag_list(bad).expect_err(bad).to_reply().code.number(), 511, "{bad:?}");
        }
    }
}
