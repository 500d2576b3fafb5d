//! The reserved folders of draft 2.9.4 that live in the mail backend: the message folders, NOTE
//! (notes are messages of a mailbox, docs/notes.md) and CONFIGURATION (docs/configuration.md).

use agap_adapter_api::mail::SpecialUse;

/// A reserved folder of the mail backend in the root of every account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReservedFolder {
    /// New mail.
    Inbox,
    /// Copies of sent mail.
    Sent,
    /// Drafts and templates.
    Draft,
    /// Deleted mail; the only one of these that may have subfolders (draft 2.9.2).
    Trash,
    /// Spam.
    Junk,
    /// Mail waiting to be sent.
    Outbox,
    /// Notes, as the messages of a notes mailbox ("Notes", as Apple Notes keeps them).
    Note,
    /// The client's roaming configuration, as messages of a mailbox mail clients need not show,
    /// or as annotations with no mailbox (docs/configuration.md).
    Configuration,
}

impl ReservedFolder {
    /// All of them, in the order they are created.
    pub const ALL: [ReservedFolder; 8] =
        [Self::Inbox, Self::Sent, Self::Draft, Self::Trash, Self::Junk, Self::Outbox, Self::Note, Self::Configuration];

    /// The AGAP name in the root.
    pub fn agap_name(self) -> &'static str {
        match self {
            Self::Inbox => "INBOX",
            Self::Sent => "SENT",
            Self::Draft => "DRAFT",
            Self::Trash => "TRASH",
            Self::Junk => "JUNK",
            Self::Outbox => "OUTBOX",
            Self::Note => "NOTE",
            Self::Configuration => "CONFIGURATION",
        }
    }

    /// Its folder type.
    pub fn kind(self) -> crate::folder::FolderType {
        match self {
            Self::Note => crate::folder::FolderType::Note,
            Self::Configuration => crate::folder::FolderType::Conf,
            _ => crate::folder::FolderType::Mesg,
        }
    }

    /// Whether its mailbox is left unsubscribed, so that mail clients do not show it.
    pub fn hidden(self) -> bool {
        self == Self::Configuration
    }

    /// The RFC 6154 role that marks the upstream mailbox, where one exists.
    pub fn special_use(self) -> Option<SpecialUse> {
        match self {
            Self::Sent => Some(SpecialUse::Sent),
            Self::Draft => Some(SpecialUse::Drafts),
            Self::Trash => Some(SpecialUse::Trash),
            Self::Junk => Some(SpecialUse::Junk),
            Self::Inbox | Self::Outbox | Self::Note | Self::Configuration => None,
        }
    }

    /// Whether a user may create folders inside it (draft 2.9.2; docs/interpretations.md,
    /// TRASH-SUBFOLDERS).
    pub fn accepts_subfolders(self) -> bool {
        self == Self::Trash
    }

    /// The reserved folder with this root name (case-sensitive, draft 2.9.1 and FOLDER-CASE).
    pub fn from_agap_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|reserved| reserved.agap_name() == name)
    }

    /// Whether `name` is the name of any reserved folder of draft 2.9.4, including those of
    /// backends this gateway does not serve yet: a user can never create them in the root.
    pub fn is_reserved_root_name(name: &str) -> bool {
        const ALL_RESERVED: [&str; 13] = [
            "CALENDAR",
            "CONFIGURATION",
            "CONTACT",
            "DRAFT",
            "FILESHARE",
            "INBOX",
            "JOURNAL",
            "JUNK",
            "NOTE",
            "OUTBOX",
            "SENT",
            "TASK",
            "TRASH",
        ];
        ALL_RESERVED.contains(&name)
    }
}
