//! What the messages of a mailbox are to AGAP: mail (MESG folders), notes (NOTE folders,
//! docs/notes.md) or configurations (CONF folders, docs/configuration.md). Both are IMAP messages with the same UIDs, flags and commands; they differ in
//! their rendering and in what a filter needs read of them.

use agap_adapter_api::query::FetchNeeds;

use crate::filter::{Filter, fetch_needs};
use crate::folder::FolderType;
use crate::format::Element;
use crate::format::configuration::render_configuration_message;
use crate::format::message::render_message;
use crate::format::note::render_note;

/// The form of a mailbox's messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailForm {
    /// `<MESSAGE>` (draft 2.11.8).
    Message,
    /// `<NOTE>` (draft 2.11.9).
    Note,
    /// `<CONFIGURATION>` (draft 2.11.3).
    Configuration,
}

impl MailForm {
    /// The form of the items of a folder of type `kind`, if they are messages.
    pub fn of(kind: FolderType) -> Option<Self> {
        match kind {
            FolderType::Mesg => Some(Self::Message),
            FolderType::Note => Some(Self::Note),
            FolderType::Conf => Some(Self::Configuration),
            _ => None,
        }
    }

    /// The folder type.
    pub fn kind(self) -> FolderType {
        match self {
            Self::Message => FolderType::Mesg,
            Self::Note => FolderType::Note,
            Self::Configuration => FolderType::Conf,
        }
    }

    /// The root element of a rendering.
    pub fn root(self) -> &'static str {
        match self {
            Self::Message => "MESSAGE",
            Self::Note => "NOTE",
            Self::Configuration => "CONFIGURATION",
        }
    }

    /// The rendering of a whole message of at most `max_size` bytes; `None` when it cannot be
    /// parsed.
    pub fn render(self, raw: &[u8], max_size: usize) -> Option<Element> {
        match self {
            Self::Message => render_message(raw),
            Self::Note => render_note(raw),
            Self::Configuration => render_configuration_message(raw, max_size),
        }
    }

    /// What checking `filter` on a message needs read. Notes and configurations are rendered
    /// from the whole message; header fields alone are read for mail only.
    pub fn fetch_needs(self, filter: &Filter) -> FetchNeeds {
        let mut needs = fetch_needs(filter);
        if self != Self::Message && !needs.header_fields.is_empty() {
            needs.header_fields.clear();
            needs.whole = true;
        }
        needs
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::parse_filter;

    #[test]
    fn a_note_filter_reads_the_whole_message_where_mail_reads_a_header() {
        let on_header = parse_filter(["IS /HEADER/subject = 'x'"], "NOTE").expect("valid");
        assert!(MailForm::Note.fetch_needs(&on_header).whole);
        let mail = MailForm::Message.fetch_needs(&on_header);
        assert!(!mail.whole && mail.header_fields == ["subject"]);
        let on_tag = parse_filter(["TAG SEEN"], "NOTE").expect("valid");
        let needs = MailForm::Note.fetch_needs(&on_tag);
        assert!(needs.tags && !needs.whole);
    }
}
