//! Parsing a command line (draft 4.1): a 4-letter name matched case-insensitively, then
//! optionally one space and the argument text.

pub mod arguments;
mod typed;

pub use typed::{Command, ParseError, Presence, TimeUnit};

use crate::error::{AgapError, AgapResult};

/// Every command name of the draft.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum Verb {
    Auth,
    Capa,
    Chng,
    Copy,
    Cpyf,
    Datt,
    Dele,
    Delf,
    Exit,
    Fcpy,
    Fdel,
    Find,
    Fmov,
    Fsto,
    Ftag,
    Gtag,
    Hash,
    List,
    Make,
    Move,
    Movf,
    Name,
    Noop,
    Pass,
    Pnfo,
    Quit,
    Retr,
    Sgzp,
    Slct,
    Spam,
    Stag,
    Stat,
    Stls,
    Stor,
    Suid,
    User,
}

impl std::fmt::Display for Verb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Verb {
    /// Every command name, in alphabetical order.
    pub const ALL: [Verb; 36] = {
        use Verb::*;
        [
            Auth, Capa, Chng, Copy, Cpyf, Datt, Dele, Delf, Exit, Fcpy, Fdel, Find, Fmov, Fsto, Ftag, Gtag, Hash, List,
            Make, Move, Movf, Name, Noop, Pass, Pnfo, Quit, Retr, Sgzp, Slct, Spam, Stag, Stat, Stls, Stor, Suid, User,
        ]
    };

    /// The name as written on the wire.
    pub fn as_str(self) -> &'static str {
        use Verb::*;
        match self {
            Auth => "AUTH",
            Capa => "CAPA",
            Chng => "CHNG",
            Copy => "COPY",
            Cpyf => "CPYF",
            Datt => "DATT",
            Dele => "DELE",
            Delf => "DELF",
            Exit => "EXIT",
            Fcpy => "FCPY",
            Fdel => "FDEL",
            Find => "FIND",
            Fmov => "FMOV",
            Fsto => "FSTO",
            Ftag => "FTAG",
            Gtag => "GTAG",
            Hash => "HASH",
            List => "LIST",
            Make => "MAKE",
            Move => "MOVE",
            Movf => "MOVF",
            Name => "NAME",
            Noop => "NOOP",
            Pass => "PASS",
            Pnfo => "PNFO",
            Quit => "QUIT",
            Retr => "RETR",
            Sgzp => "SGZP",
            Slct => "SLCT",
            Spam => "SPAM",
            Stag => "STAG",
            Stat => "STAT",
            Stls => "STLS",
            Stor => "STOR",
            Suid => "SUID",
            User => "USER",
        }
    }

    /// The verb named `name` in any case.
    pub fn parse(name: &str) -> Option<Verb> {
        use Verb::*;
        Some(match name.to_ascii_uppercase().as_str() {
            "AUTH" => Auth,
            "CAPA" => Capa,
            "CHNG" => Chng,
            "COPY" => Copy,
            "CPYF" => Cpyf,
            "DATT" => Datt,
            "DELE" => Dele,
            "DELF" => Delf,
            "EXIT" => Exit,
            "FCPY" => Fcpy,
            "FDEL" => Fdel,
            "FIND" => Find,
            "FMOV" => Fmov,
            "FSTO" => Fsto,
            "FTAG" => Ftag,
            "GTAG" => Gtag,
            "HASH" => Hash,
            "LIST" => List,
            "MAKE" => Make,
            "MOVE" => Move,
            "MOVF" => Movf,
            "NAME" => Name,
            "NOOP" => Noop,
            "PASS" => Pass,
            "PNFO" => Pnfo,
            "QUIT" => Quit,
            "RETR" => Retr,
            "SGZP" => Sgzp,
            "SLCT" => Slct,
            "SPAM" => Spam,
            "STAG" => Stag,
            "STAT" => Stat,
            "STLS" => Stls,
            "STOR" => Stor,
            "SUID" => Suid,
            "USER" => User,
            _ => return None,
        })
    }
}

/// One command line split into its name and argument text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandLine {
    /// Which command.
    pub verb: Verb,
    /// Everything after the first space, verbatim (passwords may contain spaces); `None` when
    /// absent or empty.
    pub argument: Option<String>,
}

/// Parses a line; an unknown name is 510.
pub fn parse_command(line: &str) -> AgapResult<CommandLine> {
    let (name, argument) = match line.split_once(' ') {
        Some((name, rest)) => (name, Some(rest)),
        None => (line, None),
    };
    let verb = Verb::parse(name).ok_or_else(|| {
        let shown: String = name.chars().take(16).collect();
        AgapError::unknown_command(if shown.is_empty() { "empty line".to_owned() } else { shown })
    })?;
    Ok(CommandLine { verb, argument: argument.filter(|a| !a.is_empty()).map(str::to_owned) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_case_insensitive_and_arguments_verbatim() {
        let command = parse_command("pass my secret  pass").expect("valid");
        assert_eq!(command.verb, Verb::Pass);
        assert_eq!(command.argument.as_deref(), Some("my secret  pass"));
        assert_eq!(parse_command("NoOp").expect("valid"), CommandLine { verb: Verb::Noop, argument: None });
        assert_eq!(parse_command("NOOP ").expect("valid").argument, None);
    }

    #[test]
    fn unknown_or_glued_names_are_510() {
        for line in ["", "HELO", "NOOPX", "LIST/INBOX", " NOOP", "NOO"] {
            assert_eq!(parse_command(line).expect_err(line).to_reply().code.number(), 510, "{line:?}");
        }
    }
}
