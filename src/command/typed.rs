//! Commands with typed arguments (draft section 4), parsed without I/O and without the
//! session's state: `Command::parse` is what a line says, before any state or folder is asked.
//!
//! Where a reading of the draft makes an argument's meaning depend on the selected folder
//! (RETR in a FILT folder takes none, docs/interpretations.md, FILT-READBACK), or on the folder tree
//! (paths relative to the selected folder), the argument stays text for the handler.
//! Errors are `AgapError`s carrying the code and text the handlers answer today.

use agap_adapter_api::tags::TagChange;

use super::arguments::{
    expect_no_argument, parse_mechanism, parse_tag_list, parse_uid, parse_user_name, require_argument,
    uid_and_destination, uid_arguments,
};
use super::{Verb, parse_command};
use crate::auth::Mechanism;
use crate::error::AgapError;
use crate::folder::FolderType;

/// Why a line is not a command: the AGAP code and text of the reply.
pub type ParseError = AgapError;

/// A command and its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Command {
    Auth {
        mechanism: Mechanism,
    },
    Capa,
    /// CHNG path? (the path may be relative to the selected folder).
    Chng {
        path: Option<String>,
    },
    Copy {
        uid: u32,
        destination: String,
    },
    Cpyf {
        destination: String,
    },
    Datt {
        uid: u32,
        attachment: usize,
    },
    Dele {
        uid: u32,
    },
    Delf,
    Exit,
    Fcpy {
        destination: String,
    },
    Fdel,
    Find,
    Fmov {
        destination: String,
    },
    /// FSTO type account (4.24).
    Fsto {
        folder_type: FolderType,
        account: String,
    },
    Ftag {
        change: TagChange,
    },
    Gtag {
        uid: u32,
    },
    Hash {
        digest: String,
    },
    /// LIST pattern? (the pattern is resolved against the selected folder).
    List {
        pattern: Option<String>,
    },
    /// MAKE type path (the type is checked by the handler: its replies name the supported ones).
    Make {
        folder_type: String,
        path: String,
    },
    Move {
        uid: u32,
        destination: String,
    },
    Movf {
        destination: String,
    },
    Name {
        new_name: String,
    },
    Noop,
    Pass {
        password: String,
    },
    /// PNFO request (4.33).
    Pnfo {
        request: Presence,
    },
    Quit,
    /// RETR (UID part?)?: text, since in a FILT folder any argument is refused as such.
    Retr {
        argument: Option<String>,
    },
    Sgzp,
    Slct {
        path: String,
    },
    Spam {
        uid: u32,
        reason: String,
    },
    Stag {
        uid: u32,
        change: TagChange,
    },
    Stat,
    Stls,
    Stor,
    Suid,
    User {
        name: String,
    },
}

/// The requests of PNFO (draft 4.33).
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Presence {
    Here,
    Away,
    For { amount: u32, unit: TimeUnit },
    Idle { amount: u32, unit: TimeUnit },
    Status { text: String },
    At { text: String },
    User { name: String },
}

/// The units of PNFO FOR and IDLE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum TimeUnit {
    Sec,
    Min,
    Hour,
    Day,
    Year,
}

impl Command {
    /// The command's name.
    pub fn verb(&self) -> Verb {
        match self {
            Command::Auth { .. } => Verb::Auth,
            Command::Capa => Verb::Capa,
            Command::Chng { .. } => Verb::Chng,
            Command::Copy { .. } => Verb::Copy,
            Command::Cpyf { .. } => Verb::Cpyf,
            Command::Datt { .. } => Verb::Datt,
            Command::Dele { .. } => Verb::Dele,
            Command::Delf => Verb::Delf,
            Command::Exit => Verb::Exit,
            Command::Fcpy { .. } => Verb::Fcpy,
            Command::Fdel => Verb::Fdel,
            Command::Find => Verb::Find,
            Command::Fmov { .. } => Verb::Fmov,
            Command::Fsto { .. } => Verb::Fsto,
            Command::Ftag { .. } => Verb::Ftag,
            Command::Gtag { .. } => Verb::Gtag,
            Command::Hash { .. } => Verb::Hash,
            Command::List { .. } => Verb::List,
            Command::Make { .. } => Verb::Make,
            Command::Move { .. } => Verb::Move,
            Command::Movf { .. } => Verb::Movf,
            Command::Name { .. } => Verb::Name,
            Command::Noop => Verb::Noop,
            Command::Pass { .. } => Verb::Pass,
            Command::Pnfo { .. } => Verb::Pnfo,
            Command::Quit => Verb::Quit,
            Command::Retr { .. } => Verb::Retr,
            Command::Sgzp => Verb::Sgzp,
            Command::Slct { .. } => Verb::Slct,
            Command::Spam { .. } => Verb::Spam,
            Command::Stag { .. } => Verb::Stag,
            Command::Stat => Verb::Stat,
            Command::Stls => Verb::Stls,
            Command::Stor => Verb::Stor,
            Command::Suid => Verb::Suid,
            Command::User { .. } => Verb::User,
        }
    }

    /// Parses a whole line: the name (510 when unknown), then its arguments.
    pub fn parse(line: &str) -> Result<Command, ParseError> {
        let line = parse_command(line)?;
        Command::with_arguments(line.verb, line.argument.as_deref())
    }

    /// Parses the arguments of `verb`.
    pub fn with_arguments(verb: Verb, argument: Option<&str>) -> Result<Command, ParseError> {
        let name = verb.as_str();
        let none = |command: Command| expect_no_argument(name, argument).map(|()| command);
        let text = || require_argument(name, argument).map(str::to_owned);
        Ok(match verb {
            Verb::Auth => Command::Auth { mechanism: parse_mechanism(argument)? },
            Verb::Capa => none(Command::Capa)?,
            Verb::Chng => Command::Chng { path: argument.map(str::to_owned) },
            Verb::Copy => {
                let (uid, destination) = uid_and_destination(name, argument)?;
                Command::Copy { uid, destination: destination.to_owned() }
            }
            Verb::Cpyf => Command::Cpyf { destination: text()? },
            Verb::Datt => {
                let arguments = uid_arguments(name, argument)?;
                let number_text = arguments.rest;
                let attachment = number_text
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| AgapError::invalid(format!("INVALID Attachment number {number_text:?}")))?;
                Command::Datt { uid: arguments.uid, attachment }
            }
            Verb::Dele => Command::Dele { uid: parse_uid(require_argument(name, argument)?)? },
            Verb::Delf => none(Command::Delf)?,
            Verb::Exit => none(Command::Exit)?,
            Verb::Fcpy => Command::Fcpy { destination: text()? },
            Verb::Fdel => none(Command::Fdel)?,
            Verb::Find => none(Command::Find)?,
            Verb::Fmov => Command::Fmov { destination: text()? },
            // Figure 94: without both arguments FSTO is 510; Figure 95: a type that is none is
            // 511 (docs/interpretations.md, NOARG-510-511).
            Verb::Fsto => {
                let argument = require_argument(name, argument)?;
                let (folder_type, account) = argument
                    .split_once(' ')
                    .filter(|(_, account)| !account.is_empty())
                    .ok_or_else(|| AgapError::unknown_command("FSTO needs a folder type and an account"))?;
                let folder_type =
                    folder_type.parse::<FolderType>().map_err(|()| AgapError::invalid("INVALID folder type"))?;
                Command::Fsto { folder_type, account: account.to_owned() }
            }
            Verb::Ftag => Command::Ftag { change: parse_tag_list(require_argument(name, argument)?)? },
            Verb::Gtag => Command::Gtag { uid: parse_uid(require_argument(name, argument)?)? },
            Verb::Hash => Command::Hash { digest: text()? },
            Verb::List => Command::List { pattern: argument.map(str::to_owned) },
            Verb::Make => {
                let argument = require_argument(name, argument)?;
                // docs/interpretations.md, MAKE-ONE-ARG: MAKE with one argument is 511 (Fig 107).
                let (folder_type, path) =
                    argument.split_once(' ').ok_or_else(|| AgapError::invalid("Missing folder name"))?;
                Command::Make { folder_type: folder_type.to_owned(), path: path.to_owned() }
            }
            Verb::Move => {
                let (uid, destination) = uid_and_destination(name, argument)?;
                Command::Move { uid, destination: destination.to_owned() }
            }
            Verb::Movf => Command::Movf { destination: text()? },
            Verb::Name => Command::Name { new_name: text()? },
            Verb::Noop => none(Command::Noop)?,
            Verb::Pass => Command::Pass { password: text()? },
            Verb::Pnfo => Command::Pnfo { request: Presence::parse(argument)? },
            // QUIT ends the conversation whatever follows it.
            Verb::Quit => Command::Quit,
            Verb::Retr => Command::Retr { argument: argument.map(str::to_owned) },
            Verb::Sgzp => none(Command::Sgzp)?,
            Verb::Slct => Command::Slct { path: text()? },
            Verb::Spam => {
                let arguments = uid_arguments(name, argument)?;
                if arguments.rest.chars().any(char::is_control) {
                    return Err(AgapError::invalid("invalid reason"));
                }
                Command::Spam { uid: arguments.uid, reason: arguments.rest.to_owned() }
            }
            Verb::Stag => {
                let arguments = uid_arguments(name, argument)?;
                Command::Stag { uid: arguments.uid, change: parse_tag_list(arguments.rest)? }
            }
            Verb::Stat => none(Command::Stat)?,
            Verb::Stls => none(Command::Stls)?,
            Verb::Stor => none(Command::Stor)?,
            Verb::Suid => none(Command::Suid)?,
            Verb::User => Command::User { name: parse_user_name(argument)?.to_owned() },
        })
    }
}

impl Presence {
    /// `HERE`, `AWAY`, `FOR n unit`, `IDLE n unit`, `STATUS text?`, `AT text?`, `USER name`
    /// (keywords and units in any case). PNFO without an argument and an unknown keyword are 511
    /// as Fig 120 shows (docs/interpretations.md, NOARG-510-511); a STATUS or AT without text
    /// clears the text (4.33); `n` is a positive 32-bit number (2.3).
    fn parse(argument: Option<&str>) -> Result<Presence, ParseError> {
        let text = argument.ok_or_else(|| AgapError::invalid("Missing argument"))?;
        let (keyword, rest) = text.split_once(' ').unwrap_or((text, ""));
        let malformed = |what: &str| AgapError::invalid(format!("INVALID {}: {what}", keyword.to_ascii_uppercase()));
        let duration = || -> Result<(u32, TimeUnit), ParseError> {
            let expected = "a positive number and sec, min, hour, day or year";
            let (amount, unit) = rest.split_once(' ').ok_or_else(|| malformed(expected))?;
            let amount = amount
                .parse::<u32>()
                .ok()
                .filter(|n| amount.bytes().all(|b| b.is_ascii_digit()) && (1..=i32::MAX as u32).contains(n))
                .ok_or_else(|| malformed(expected))?;
            Ok((amount, TimeUnit::parse(unit).ok_or_else(|| malformed(expected))?))
        };
        let nothing_more =
            |request: Presence| if rest.is_empty() { Ok(request) } else { Err(malformed("no argument")) };
        Ok(match keyword.to_ascii_uppercase().as_str() {
            "HERE" => nothing_more(Presence::Here)?,
            "AWAY" => nothing_more(Presence::Away)?,
            "FOR" => {
                let (amount, unit) = duration()?;
                Presence::For { amount, unit }
            }
            "IDLE" => {
                let (amount, unit) = duration()?;
                Presence::Idle { amount, unit }
            }
            "STATUS" => Presence::Status { text: rest.to_owned() },
            "AT" => Presence::At { text: rest.to_owned() },
            "USER" if !rest.is_empty() => Presence::User { name: rest.to_owned() },
            "USER" => return Err(malformed("an account name")),
            _ => {
                let shown: String = keyword.chars().filter(|c| !c.is_control()).take(32).collect();
                return Err(AgapError::invalid(format!("UNKNOWN argument {shown}")));
            }
        })
    }
}

impl TimeUnit {
    fn parse(text: &str) -> Option<TimeUnit> {
        Some(match text.to_ascii_lowercase().as_str() {
            "sec" => TimeUnit::Sec,
            "min" => TimeUnit::Min,
            "hour" => TimeUnit::Hour,
            "day" => TimeUnit::Day,
            "year" => TimeUnit::Year,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(line: &str) -> (u16, String) {
        let reply = Command::parse(line).expect_err(line).to_reply();
        (reply.code.number(), reply.text)
    }

    #[test]
    fn commands_without_arguments_refuse_one_with_510() {
        for (line, command) in [
            ("CAPA", Command::Capa),
            ("noop", Command::Noop),
            ("STAT", Command::Stat),
            ("SUID", Command::Suid),
            ("DELF", Command::Delf),
            ("FIND", Command::Find),
            ("FDEL", Command::Fdel),
            ("STOR", Command::Stor),
            ("EXIT", Command::Exit),
            ("STLS", Command::Stls),
            ("SGZP", Command::Sgzp),
        ] {
            assert_eq!(Command::parse(line).expect(line), command);
            assert_eq!(refused(&format!("{line} x")).0, 510, "{line}");
        }
        assert_eq!(Command::parse("QUIT whatever").expect("quit"), Command::Quit);
    }

    #[test]
    fn item_commands_take_a_uid_missing_is_510_malformed_511() {
        assert_eq!(Command::parse("GTAG 42").expect("gtag"), Command::Gtag { uid: 42 });
        assert_eq!(Command::parse("DELE 7").expect("dele"), Command::Dele { uid: 7 });
        assert_eq!(refused("GTAG"), (510, "UNKNOWN command: GTAG needs an argument".into()));
        assert_eq!(refused("DELE 042").0, 511);
        assert_eq!(
            Command::parse("COPY 3 /INBOX/Archive").expect("copy"),
            Command::Copy { uid: 3, destination: "/INBOX/Archive".into() }
        );
        assert_eq!(refused("MOVE 3").0, 511, "a UID without a destination");
        assert_eq!(Command::parse("DATT 5 2").expect("datt"), Command::Datt { uid: 5, attachment: 2 });
        assert_eq!(refused("DATT 5 0").0, 511);
        assert_eq!(refused("DATT 5").0, 511);
        assert_eq!(
            Command::parse("SPAM 9 junk mail").expect("spam"),
            Command::Spam { uid: 9, reason: "junk mail".into() }
        );
        assert_eq!(refused("SPAM 9 bad\u{7}").0, 511);
        assert_eq!(
            Command::parse("STAG 4 + SEEN").expect("stag"),
            Command::Stag {
                uid: 4,
                change: TagChange::Add(vec![agap_adapter_api::tags::Tag::parse("SEEN").expect("tag")])
            }
        );
        assert_eq!(refused("STAG 4 * SEEN").0, 511);
        assert_eq!(Command::parse("RETR 4 1.2").expect("retr"), Command::Retr { argument: Some("4 1.2".into()) });
        assert_eq!(Command::parse("RETR").expect("retr"), Command::Retr { argument: None });
    }

    #[test]
    fn login_commands() {
        assert_eq!(Command::parse("AUTH md5").expect("auth"), Command::Auth { mechanism: Mechanism::Md5 });
        assert_eq!(refused("AUTH").0, 510);
        assert_eq!(refused("AUTH KERBEROS").0, 511);
        assert_eq!(Command::parse("USER alice").expect("user"), Command::User { name: "alice".into() });
        assert_eq!(refused("USER  alice").0, 511);
        assert_eq!(Command::parse("PASS two  words").expect("pass"), Command::Pass { password: "two  words".into() });
        assert_eq!(refused("PASS").0, 510);
        assert_eq!(refused("HASH").0, 510);
    }

    #[test]
    fn folder_commands() {
        assert_eq!(
            Command::parse("MAKE CALE /Work").expect("make"),
            Command::Make { folder_type: "CALE".into(), path: "/Work".into() }
        );
        assert_eq!(refused("MAKE CALE").0, 511);
        assert_eq!(refused("MAKE").0, 510);
        assert_eq!(refused("SLCT").0, 510);
        assert_eq!(refused("NAME").0, 510);
        assert_eq!(Command::parse("LIST").expect("list"), Command::List { pattern: None });
        assert_eq!(Command::parse("CHNG /INBOX").expect("chng"), Command::Chng { path: Some("/INBOX".into()) });
        assert_eq!(refused("FTAG").0, 510);
        assert_eq!(refused("FMOV").0, 510);
    }

    #[test]
    fn presence_and_delivery_requests() {
        assert_eq!(Command::parse("PNFO here").expect("here"), Command::Pnfo { request: Presence::Here });
        assert_eq!(
            Command::parse("PNFO FOR 10 min").expect("for"),
            Command::Pnfo { request: Presence::For { amount: 10, unit: TimeUnit::Min } }
        );
        assert_eq!(
            Command::parse("PNFO USER bob@example.com").expect("user"),
            Command::Pnfo { request: Presence::User { name: "bob@example.com".into() } }
        );
        assert_eq!(
            Command::parse("PNFO status").expect("clears"),
            Command::Pnfo { request: Presence::Status { text: String::new() } }
        );
        assert_eq!(
            Command::parse("PNFO AT Headquarter, 1010 Vienna").expect("at"),
            Command::Pnfo { request: Presence::At { text: "Headquarter, 1010 Vienna".into() } }
        );
        assert_eq!(
            Command::parse("PNFO idle 2147483647 YEAR").expect("largest"),
            Command::Pnfo { request: Presence::Idle { amount: i32::MAX as u32, unit: TimeUnit::Year } }
        );
        assert_eq!(refused("PNFO"), (511, "ERROR Missing argument".into()));
        assert_eq!(refused("PNFO WRONG"), (511, "ERROR UNKNOWN argument WRONG".into()));
        for bad in [
            "PNFO HERE now",
            "PNFO FOR ten min",
            "PNFO IDLE 5 weeks",
            "PNFO FOR +5 sec",
            "PNFO FOR 0 sec",
            "PNFO FOR 2147483648 sec",
            "PNFO IDLE 5",
            "PNFO USER",
        ] {
            assert_eq!(refused(bad).0, 511, "{bad}");
        }
        assert_eq!(
            Command::parse("FSTO MESG bob@example.com").expect("fsto"),
            Command::Fsto { folder_type: FolderType::Mesg, account: "bob@example.com".into() }
        );
        assert_eq!(refused("FSTO").0, 510);
        assert_eq!(refused("FSTO BLOB bob").0, 511);
        assert_eq!(refused("FSTO MESG").0, 510);
    }

    #[test]
    fn every_verb_parses_from_some_line() {
        for verb in Verb::ALL {
            let argument = match verb {
                Verb::Auth => Some("PLAIN"),
                Verb::Copy | Verb::Move => Some("1 /INBOX"),
                Verb::Datt => Some("1 1"),
                Verb::Dele | Verb::Gtag => Some("1"),
                Verb::Stag | Verb::Ftag => Some(if verb == Verb::Stag { "1 + SEEN" } else { "+ SEEN" }),
                Verb::Spam => Some("1 spam"),
                Verb::Make | Verb::Fsto => Some("MESG x"),
                Verb::Pnfo => Some("HERE"),
                Verb::Cpyf | Verb::Movf | Verb::Fcpy | Verb::Fmov | Verb::Slct | Verb::Name => Some("/x"),
                Verb::Pass | Verb::Hash | Verb::User => Some("x"),
                _ => None,
            };
            let command = Command::with_arguments(verb, argument).unwrap_or_else(|error| panic!("{verb}: {error}"));
            assert_eq!(command.verb(), verb);
        }
    }
}
