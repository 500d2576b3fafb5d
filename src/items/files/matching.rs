//! Finding the files of a FILE folder that match a filter. One listing answers UIDs, tags and
//! `/FILE/NAME`; only a filter that reads CONTENT reads files, one at a time, each bounded by the
//! item limit (a larger one matches no content condition, logged).

use std::collections::HashMap;

use agap_adapter_api::AdapterErrorKind;
use agap_adapter_api::files::FileEntry;

use super::FileItems;
use super::tags::parse_tags;
use crate::error::AgapResult;
use crate::filter::{Filter, ItemView, matches};
use crate::format::Element;
use crate::format::file::{FileEncoding, render_file};
use crate::ids;
use crate::items::wire_uid;

/// What checking a filter needs of each file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Needs {
    /// UIDs and tags: the listing has them.
    Listing,
    /// The name too: the listing has it.
    Name,
    /// The content: each file is read.
    Content,
}

fn needs(filter: &Filter) -> Needs {
    match filter {
        Filter::All | Filter::Uid { .. } | Filter::Tag { .. } => Needs::Listing,
        Filter::And(children) | Filter::Or(children) => children.iter().map(needs).max().unwrap_or(Needs::Listing),
        Filter::Not(child) => needs(child),
        Filter::Is { path, .. } | Filter::Regex { path, .. } => {
            if path.names.len() == 1 && path.names[0].eq_ignore_ascii_case("NAME") {
                Needs::Name
            } else {
                Needs::Content
            }
        }
    }
}

/// The AGAP UIDs of the files that match `filter`, ascending.
pub(super) async fn matching_files(items: &FileItems<'_>, filter: &Filter) -> AgapResult<Vec<u32>> {
    let (map, listed) = items.sync().await?;
    let uids: HashMap<&str, u64> = map.items.iter().map(|item| (item.href.as_str(), item.uid)).collect();
    let needs = needs(filter);
    let mut matching = Vec::new();
    for entry in &listed {
        let Some(uid) = uids.get(entry.file.href.as_str()) else { continue };
        let tags = parse_tags(entry.tags.as_deref());
        let tree = match needs {
            Needs::Listing => None,
            Needs::Name => Some(Element::parent("FILE", vec![Element::text("NAME", entry.name.clone())])),
            Needs::Content => content_tree(items, entry).await?,
        };
        let text = ids::format(*uid);
        if matches(filter, &ItemView { uid: &text, tags: &tags, tree: tree.as_ref() }) {
            matching.push(wire_uid(*uid));
        }
    }
    matching.sort_unstable();
    Ok(matching)
}

/// The rendering of a listed file with its content as text where it is UTF-8 (so that text
/// conditions can compare it); without content when it is too large or gone meanwhile.
async fn content_tree(items: &FileItems<'_>, entry: &FileEntry) -> AgapResult<Option<Element>> {
    let limit = items.gateway.config.mail.max_item_size;
    let name_only = || Some(Element::parent("FILE", vec![Element::text("NAME", entry.name.clone())]));
    if entry.size.is_some_and(|size| size > limit as u64) {
        tracing::warn!(href = %entry.file.href, limit, "a file larger than the item limit matches no content condition");
        return Ok(name_only());
    }
    match items.files.get_file(&entry.file.href, limit).await {
        Ok(Some(data)) => Ok(Some(render_file(&entry.name, data.body, FileEncoding::Utf8))),
        Ok(None) => Ok(None),
        Err(error) if error.kind() == AdapterErrorKind::TooLarge => {
            tracing::warn!(href = %entry.file.href, limit, "a file larger than the item limit matches no content condition");
            Ok(name_only())
        }
        Err(error) => Err(error.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::parse_filter;

    fn parsed(text: &str) -> Filter {
        parse_filter(text.lines(), "FILE").expect("valid")
    }

    #[test]
    fn names_and_tags_come_from_the_listing_and_only_content_is_read() {
        assert_eq!(needs(&Filter::All), Needs::Listing);
        assert_eq!(needs(&parsed("TAG SEEN")), Needs::Listing);
        assert_eq!(needs(&parsed("IS /FILE/NAME = 'a.txt'")), Needs::Name);
        assert_eq!(needs(&parsed("IS NAME = 'a.txt'")), Needs::Name);
        assert_eq!(needs(&parsed("IS /FILE/CONTENT = 'x'")), Needs::Content);
    }
}
