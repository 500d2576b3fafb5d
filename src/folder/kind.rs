//! Folder types (draft 2.9.3, 4.28).

use std::fmt;
use std::str::FromStr;

/// The folder types of draft 2.9.3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FolderType {
    /// Messages. Emitted as `MESG` (as in CAPA, MAKE and STAT); `MMSG` and `MSG` are accepted.
    Mesg,
    /// Only subfolders.
    Fold,
    /// Events.
    Cale,
    /// Contacts.
    Addr,
    /// Tasks.
    Task,
    /// Journal entries.
    Jrnl,
    /// Notes.
    Note,
    /// Files.
    File,
    /// Configuration.
    Conf,
    /// A saved filter.
    Filt,
}

impl FolderType {
    /// The type name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mesg => "MESG",
            Self::Fold => "FOLD",
            Self::Cale => "CALE",
            Self::Addr => "ADDR",
            Self::Task => "TASK",
            Self::Jrnl => "JRNL",
            Self::Note => "NOTE",
            Self::File => "FILE",
            Self::Conf => "CONF",
            Self::Filt => "FILT",
        }
    }

    /// What one of its items is called in replies ("Event stored").
    pub fn item_noun(self) -> &'static str {
        match self {
            Self::Addr => "Contact",
            Self::Cale => "Event",
            Self::Task => "Task",
            Self::Jrnl => "Journal entry",
            Self::Filt => "Filter",
            Self::Note => "Note",
            Self::File => "File",
            Self::Conf => "Configuration",
            Self::Mesg | Self::Fold => "Message",
        }
    }

    /// Whether the folder holds items (and so has a UCID and a TOTAL, draft 4.38).
    pub fn holds_items(self) -> bool {
        // A FILT folder shows the items of other folders, none of its own.
        !matches!(self, Self::Fold | Self::Filt)
    }
}

impl fmt::Display for FolderType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for FolderType {
    type Err = ();

    /// Case-insensitive (draft 4.28); MMSG and MSG are other spellings of MESG
    /// (docs/interpretations.md, `MESG-MMSG`, `LIST-MSG`).
    fn from_str(name: &str) -> Result<Self, ()> {
        Ok(match name.to_ascii_uppercase().as_str() {
            "MESG" | "MMSG" | "MSG" => Self::Mesg,
            "FOLD" => Self::Fold,
            "CALE" => Self::Cale,
            "ADDR" => Self::Addr,
            "TASK" => Self::Task,
            "JRNL" => Self::Jrnl,
            "NOTE" => Self::Note,
            "FILE" => Self::File,
            "CONF" => Self::Conf,
            "FILT" => Self::Filt,
            _ => return Err(()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_type_has_three_spellings_and_one_output() {
        for spelling in ["MESG", "mmsg", "Msg"] {
            assert_eq!(spelling.parse(), Ok(FolderType::Mesg));
        }
        assert_eq!(FolderType::Mesg.to_string(), "MESG");
        assert_eq!("fold".parse(), Ok(FolderType::Fold));
        assert_eq!("new".parse::<FolderType>(), Err(()));
    }
}
