//! GTAG, STAG and FTAG on a FILE folder. Tags are a dead property of the file (RFC 4918 4.1:
//! `{http://agap-gateway.invalid/ns/}tags`, the tags separated by spaces), so every gateway
//! instance sees them and they travel with the file when another client moves or copies it.
//! A server that keeps no dead properties keeps no tags: STAG there is 511
//! (docs/interpretations.md, FILE-TAGS).

use agap_adapter_api::AdapterErrorKind;
use agap_adapter_api::tags::{Tag, TagChange};

use super::FileItems;
use crate::error::{AgapError, AgapResult};
use crate::items::invalid_uid;

/// The tags a property value holds, sorted; words that are no tags are left out.
pub fn parse_tags(value: Option<&str>) -> Vec<Tag> {
    let mut tags: Vec<Tag> =
        value.unwrap_or_default().split_whitespace().filter_map(|word| Tag::parse(word).ok()).collect();
    tags.sort_by_key(ToString::to_string);
    tags.dedup();
    tags
}

/// The property value of `tags`; `None` for no tags (the property is removed).
pub fn tags_value(tags: &[Tag]) -> Option<String> {
    let words: Vec<String> = tags.iter().map(ToString::to_string).collect();
    (!words.is_empty()).then(|| words.join(" "))
}

/// The tags of file `uid`, sorted.
pub(super) async fn get(items: &FileItems<'_>, uid: u32) -> AgapResult<Vec<Tag>> {
    let mapped = items.locate(uid).await?;
    match items.files.file_tags(&mapped.href).await {
        Ok(value) => Ok(parse_tags(value.as_deref())),
        Err(error) if error.kind() == AdapterErrorKind::NotFound => {
            items.forget(&mapped.href).await?;
            Err(invalid_uid(uid))
        }
        Err(error) => Err(error.into()),
    }
}

/// Applies `change` to the tags of file `uid`.
pub(super) async fn change(items: &FileItems<'_>, uid: u32, change: &TagChange) -> AgapResult<()> {
    let current = get(items, uid).await?;
    let mapped = items.locate(uid).await?;
    let wanted = change.apply(&current);
    let kept = items.files.set_file_tags(&mapped.href, tags_value(&wanted).as_deref()).await?;
    if !kept {
        return Err(AgapError::invalid("the file server keeps no tags on files"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_round_trip_through_the_property_and_junk_is_left_out() {
        let tags = parse_tags(Some(" SEEN  FLAG=Red\nbad=%% SEEN "));
        assert_eq!(tags.iter().map(ToString::to_string).collect::<Vec<_>>(), ["FLAG=Red", "SEEN"]);
        assert_eq!(tags_value(&tags).as_deref(), Some("FLAG=Red SEEN"));
        assert_eq!(tags_value(&[]), None);
        assert!(parse_tags(None).is_empty());
    }
}
