//! One logged-in IMAP connection, with commands whose tagged outcome the adapter reads itself.
//!
//! async-imap's typed helpers flatten `NO [CODE] text` into a string and queue unsolicited
//! responses in a channel that drops entries past 100; reading the responses here keeps the
//! RFC 5530 response codes and every untagged response of the command.

use std::time::{Duration, Instant};

use agap_adapter_api::{AdapterError, AdapterErrorKind, AdapterResult, Credentials};
use async_imap::imap_proto::rfc4315::UidSetMember;
use async_imap::imap_proto::{MailboxDatum, Response, ResponseCode, Status};
use futures_util::FutureExt;
use tokio::io::AsyncWriteExt;
use tokio::time::timeout;

use crate::settings::ImapSettings;
use crate::transport::{BoxedImapStream, unavailable};

/// A logged-in IMAP session plus what the server told us about itself.
#[derive(Debug)]
pub struct ImapConnection {
    session: async_imap::Session<BoxedImapStream>,
    capabilities: Vec<String>,
    command_timeout: Duration,
    /// Set once the connection failed mid-command: it must not go back to the pool.
    broken: bool,
    /// Set from the first byte of a command until its tagged answer is read: a connection
    /// dropped in between (the AGAP client went away, the future was cancelled) still has
    /// answers on the way, which the next borrower would take for its own.
    in_flight: bool,
    /// The mailbox selected on this connection (wire name), to skip needless SELECTs.
    selected: Option<String>,
    selected_validity: u32,
    /// The FLAGS the last SELECT reported: every flag and keyword defined in the mailbox.
    selected_flags: Vec<String>,
    /// When the connection was last handed back to the pool.
    pub last_used: Instant,
}

/// A UID set as the server wrote it (RFC 4315 `uid-set`): ranges kept as ranges, so that a
/// hostile `1:4294967295` costs 8 bytes instead of 16 GiB; callers expand it lazily and only as
/// far as the UIDs they asked about.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UidSet(Vec<std::ops::RangeInclusive<u32>>);

impl UidSet {
    pub(crate) fn of(set: &[UidSetMember]) -> Self {
        Self(
            set.iter()
                .map(|member| match member {
                    UidSetMember::Uid(uid) => *uid..=*uid,
                    UidSetMember::UidRange(range) => range.clone(),
                })
                .collect(),
        )
    }

    /// The UIDs in the order the server listed them (RFC 4315 pairs source and destination
    /// sets by position).
    pub fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        self.0.iter().flat_map(|range| range.clone())
    }
}

/// The UIDPLUS results (RFC 4315) a command reported, in the order they came.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UidPlus {
    /// APPENDUID: the UIDs given to appended messages.
    Appended(UidSet),
    /// COPYUID (also sent by MOVE, RFC 6851): source UIDs and the new ones, pairwise.
    Copied(UidSet, UidSet),
}

fn uidplus_of(code: Option<&ResponseCode<'_>>) -> Option<UidPlus> {
    match code? {
        ResponseCode::AppendUid(_, uids) => Some(UidPlus::Appended(UidSet::of(uids))),
        ResponseCode::CopyUid(_, from, to) => Some(UidPlus::Copied(UidSet::of(from), UidSet::of(to))),
        _ => None,
    }
}

/// The one rule at the boundary to the IMAP server: a command line holds no CR, LF or NUL,
/// whoever built it and whatever they checked. A line break inside an argument would end the
/// command early and let the rest run as commands of its own (RFC 3501 has no escape for CR
/// and LF in a quoted string; NUL is never allowed). Refused, never stripped: a silently changed
/// argument would act on something the client did not name.
pub fn check_command_line(command: &str) -> AdapterResult<()> {
    if let Some(found) = command.bytes().find(|byte| matches!(byte, b'\r' | b'\n' | 0)) {
        let verb: String = command
            .split(' ')
            .filter(|word| !word.chars().next().is_some_and(|c| c.is_ascii_digit()))
            .take(2)
            .collect::<Vec<_>>()
            .join(" ")
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == ' ')
            .take(24)
            .collect();
        tracing::warn!(command = %verb, byte = found, "refused to send an IMAP command holding CR, LF or NUL");
        return Err(AdapterError::new(
            AdapterErrorKind::Refused,
            "an argument holds a line break or NUL, which cannot be passed to the IMAP server",
        ));
    }
    Ok(())
}

/// The next response of the server (async-imap does not export its response type's name).
macro_rules! next_response {
    ($connection:expr) => {
        $connection
            .session
            .read_response()
            .await
            .map_err(|e| unavailable("connection failed", e))?
            .ok_or_else(|| unavailable("closed the connection", "mid-command"))?
    };
}

/// Runs `work` within `deadline`, and turns a panic inside it into an error: imap-proto
/// panics on some malformed input (a METADATA value that is not UTF-8, for one), and what a
/// server sends must never take down the session that asked, nor lock its user out.
async fn bounded<T>(deadline: Duration, work: impl std::future::Future<Output = AdapterResult<T>>) -> AdapterResult<T> {
    match timeout(deadline, std::panic::AssertUnwindSafe(work).catch_unwind()).await {
        Err(_) => Err(unavailable("did not answer in time", "timeout")),
        Ok(Ok(outcome)) => outcome,
        Ok(Err(_)) => {
            tracing::warn!("the IMAP response parser panicked on what the server sent; connection dropped");
            Err(AdapterError::new(AdapterErrorKind::Protocol, "IMAP server sent a response that cannot be parsed"))
        }
    }
}

/// Quotes an IMAP string argument.
pub fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// Classifies a tagged NO/BAD by its RFC 5530 response code, which imap-proto leaves in the text.
fn classify_refusal(status: &Status, text: &str) -> AdapterError {
    let code = text.strip_prefix('[').and_then(|rest| rest.split(']').next()).unwrap_or("");
    let code = code.split_whitespace().next().unwrap_or("").to_ascii_uppercase();
    let kind = match (status, code.as_str()) {
        (Status::Bad, _) => AdapterErrorKind::Protocol,
        (_, "ALREADYEXISTS") => AdapterErrorKind::AlreadyExists,
        (_, "NONEXISTENT") | (_, "TRYCREATE") => AdapterErrorKind::NotFound,
        (_, "UNAVAILABLE" | "OVERQUOTA" | "LIMIT" | "INUSE" | "SERVERBUG" | "EXPUNGEISSUED") => {
            AdapterErrorKind::Unavailable
        }
        (_, "AUTHENTICATIONFAILED" | "AUTHORIZATIONFAILED" | "EXPIRED") => AdapterErrorKind::AuthenticationFailed,
        _ => AdapterErrorKind::Refused,
    };
    AdapterError::new(kind, format!("IMAP server said: {}", text.trim()))
}

/// RFC 4616 SASL PLAIN with an authorization identity: how a master user logs in on behalf of
/// another account (Dovecot, Cyrus and others support it; no `user*master` naming convention).
struct SaslPlain<'a> {
    authorization: &'a str,
    authentication: &'a str,
    credentials: &'a Credentials,
}

impl async_imap::Authenticator for SaslPlain<'_> {
    type Response = Vec<u8>;

    fn process(&mut self, _challenge: &[u8]) -> Vec<u8> {
        let mut message = Vec::new();
        for (index, part) in [self.authorization, self.authentication, self.credentials.password()].iter().enumerate() {
            if index > 0 {
                message.push(0);
            }
            message.extend_from_slice(part.as_bytes());
        }
        message
    }
}

impl ImapConnection {
    /// Connects (with TLS or STARTTLS as the settings say), reads the greeting and logs in.
    pub async fn open(settings: &ImapSettings, credentials: &Credentials) -> AdapterResult<Self> {
        let client = crate::transport::connect(settings).await?;
        let login = async {
            match credentials.master() {
                Some(master) => {
                    let plain = SaslPlain { authorization: credentials.user(), authentication: master, credentials };
                    client.authenticate("PLAIN", plain).await
                }
                None => client.login(credentials.user(), credentials.password()).await,
            }
        };
        let login = std::panic::AssertUnwindSafe(login).catch_unwind();
        let unparsable = |what: &str| {
            tracing::warn!("the IMAP response parser panicked on the server's answer to {what}");
            AdapterError::new(
                AdapterErrorKind::Protocol,
                format!("IMAP server sent a {what} answer that cannot be parsed"),
            )
        };
        let mut session = match timeout(settings.command_timeout, login).await {
            Err(_) => return Err(unavailable("did not answer LOGIN", "timeout")),
            Ok(Err(_)) => return Err(unparsable("LOGIN")),
            Ok(Ok(Ok(session))) => session,
            Ok(Ok(Err((async_imap::error::Error::No(_), _)))) => {
                return Err(AdapterError::new(AdapterErrorKind::AuthenticationFailed, "wrong user name or password"));
            }
            Ok(Ok(Err((async_imap::error::Error::Validate(_), _)))) => {
                return Err(AdapterError::new(
                    AdapterErrorKind::AuthenticationFailed,
                    "the credentials contain a line break",
                ));
            }
            Ok(Ok(Err((error, _)))) => return Err(unavailable("failed during LOGIN", error)),
        };
        let capabilities = std::panic::AssertUnwindSafe(session.capabilities()).catch_unwind();
        let capabilities = timeout(settings.command_timeout, capabilities)
            .await
            .map_err(|_| unavailable("did not answer CAPABILITY", "timeout"))?
            .map_err(|_| unparsable("CAPABILITY"))?
            .map_err(|e| unavailable("failed CAPABILITY", e))?;
        let capabilities = capabilities
            .iter()
            .filter_map(|capability| match capability {
                async_imap::types::Capability::Atom(atom) => Some(atom.to_ascii_uppercase()),
                _ => None,
            })
            .collect();
        Ok(Self {
            session,
            capabilities,
            command_timeout: settings.command_timeout,
            broken: false,
            in_flight: false,
            selected: None,
            selected_validity: 0,
            selected_flags: Vec::new(),
            last_used: Instant::now(),
        })
    }

    /// Whether the server advertised `capability` (upper case).
    pub fn has_capability(&self, capability: &str) -> bool {
        self.capabilities.iter().any(|c| c == capability)
    }

    /// Runs one command, showing each untagged response to `on_untagged`; returns the UIDPLUS
    /// results it reported, or the refusal it ended with.
    pub async fn execute_with<F>(&mut self, command: &str, mut on_untagged: F) -> AdapterResult<Vec<UidPlus>>
    where
        F: FnMut(&Response<'_>) + Send,
    {
        let mut outcomes = self.execute_pipelined(&[command.to_owned()], |_, response| on_untagged(response)).await?;
        outcomes.pop().unwrap_or_else(|| Err(AdapterError::new(AdapterErrorKind::Protocol, "no outcome")))
    }

    /// Runs one command whose untagged responses do not matter.
    pub async fn execute(&mut self, command: &str) -> AdapterResult<Vec<UidPlus>> {
        self.execute_with(command, |_| {}).await
    }

    /// Sends several commands before reading any answer (RFC 3501 5.5) and returns, per command,
    /// its UIDPLUS results or its refusal. Each untagged response goes to `on_untagged` with the
    /// index of the command whose tagged answer follows it; commands whose data names its object
    /// (STATUS, LIST) are safe to pipeline this way.
    pub async fn execute_pipelined<F>(
        &mut self,
        commands: &[String],
        on_untagged: F,
    ) -> AdapterResult<Vec<AdapterResult<Vec<UidPlus>>>>
    where
        F: FnMut(usize, &Response<'_>) + Send,
    {
        for command in commands {
            check_command_line(command)?;
        }
        let deadline = self.command_timeout;
        self.in_flight = true;
        let work = async {
            let mut tags = Vec::with_capacity(commands.len());
            for command in commands {
                tags.push(self.session.run_command(command).await.map_err(|e| unavailable("connection failed", e))?);
            }
            self.collect_outcomes(&tags, on_untagged).await
        };
        let result = bounded(deadline, work).await;
        self.settle(result)
    }

    /// APPEND with a synchronizing literal (RFC 3501 6.3.11), which every server accepts.
    pub async fn append(&mut self, wire: &str, flags: &[String], message: &[u8]) -> AdapterResult<Vec<UidPlus>> {
        let deadline = self.command_timeout;
        let command = format!("APPEND {} ({}) {{{}}}", quote(wire), flags.join(" "), message.len());
        // The message itself is a literal and may hold any line ends; the command line may not.
        check_command_line(&command)?;
        self.in_flight = true;
        let work = async {
            let tag = self.session.run_command(&command).await.map_err(|e| unavailable("connection failed", e))?;
            loop {
                let response = next_response!(self);
                match response.parsed() {
                    Response::Continue { .. } => break,
                    Response::Done { tag: done, status, outcome } if *done == tag => {
                        let refusal = classify_refusal(status, outcome.information.as_deref().unwrap_or(""));
                        return Ok(vec![Err(refusal)]);
                    }
                    _ => {}
                }
            }
            // The codec flushed the command line; the literal goes straight to the socket.
            let socket = self.session.get_mut();
            socket.write_all(message).await.map_err(|e| unavailable("connection failed", e))?;
            socket.write_all(b"\r\n").await.map_err(|e| unavailable("connection failed", e))?;
            socket.flush().await.map_err(|e| unavailable("connection failed", e))?;
            self.collect_outcomes(std::slice::from_ref(&tag), |_, _| {}).await
        };
        let result = bounded(deadline, work).await;
        let mut outcomes = self.settle(result)?;
        outcomes.pop().unwrap_or_else(|| Err(AdapterError::new(AdapterErrorKind::Protocol, "no outcome")))
    }

    async fn collect_outcomes<F>(
        &mut self,
        tags: &[async_imap::imap_proto::RequestId],
        mut on_untagged: F,
    ) -> AdapterResult<Vec<AdapterResult<Vec<UidPlus>>>>
    where
        F: FnMut(usize, &Response<'_>) + Send,
    {
        let mut outcomes = Vec::with_capacity(tags.len());
        let mut codes = Vec::new();
        while outcomes.len() < tags.len() {
            let response = next_response!(self);
            match response.parsed() {
                Response::Done { tag, status, outcome } if tags.contains(tag) => {
                    outcomes.push(match status {
                        Status::Ok => {
                            codes.extend(uidplus_of(outcome.code.as_ref()));
                            Ok(std::mem::take(&mut codes))
                        }
                        other => {
                            // A BAD means the server did not read our line as we meant it: what
                            // it does with what follows is unknown, so the connection is not
                            // lent again.
                            if *other == Status::Bad {
                                self.broken = true;
                            }
                            codes.clear();
                            Err(classify_refusal(other, outcome.information.as_deref().unwrap_or("")))
                        }
                    });
                }
                // A tagged answer to a command we did not send, or a continuation we did not
                // ask for: the stream is out of step with our commands, and whatever answers
                // follow may belong to something else. Never guess; drop the connection.
                Response::Done { .. } => {
                    return Err(AdapterError::new(
                        AdapterErrorKind::Protocol,
                        "IMAP server answered a command that was not sent",
                    ));
                }
                Response::Continue { .. } => {
                    return Err(AdapterError::new(
                        AdapterErrorKind::Protocol,
                        "IMAP server asked for a continuation that no command needs",
                    ));
                }
                Response::Data { status: Status::Bye, outcome } => {
                    return Err(unavailable("closed the connection", outcome.information.as_deref().unwrap_or("BYE")));
                }
                // MOVE reports COPYUID in an untagged OK (RFC 6851 4.3); SELECT its UIDVALIDITY.
                data @ Response::Data { status: Status::Ok, outcome } => {
                    codes.extend(uidplus_of(outcome.code.as_ref()));
                    on_untagged(outcomes.len(), data);
                }
                other => on_untagged(outcomes.len(), other),
            }
        }
        Ok(outcomes)
    }

    /// Records a connection-level failure (I/O, timeout, BYE, an answer out of step): the
    /// session state is unknown, so the connection must not be reused.
    fn settle<T>(&mut self, result: AdapterResult<T>) -> AdapterResult<T> {
        match result {
            Ok(_) => self.in_flight = false,
            Err(_) => self.broken = true,
        }
        result
    }

    /// Selects `wire` (read-write) unless it already is.
    pub async fn select(&mut self, wire: &str) -> AdapterResult<()> {
        if self.selected.as_deref() == Some(wire) {
            return Ok(());
        }
        self.reselect(wire).await
    }

    /// Selects `wire` even if it already is, to learn its current FLAGS.
    pub async fn reselect(&mut self, wire: &str) -> AdapterResult<()> {
        self.reselect_then(wire, None, |_| {}).await.map(drop)
    }

    /// Selects `wire` even if it already is and sends `follow_up` right behind the SELECT, before
    /// its answer (RFC 3501 5.5): the follow-up sees the mailbox state the FLAGS describe or a
    /// newer one, for one round trip instead of two. Returns the follow-up's outcome, or the
    /// SELECT's refusal.
    pub async fn reselect_then<F>(
        &mut self,
        wire: &str,
        follow_up: Option<&str>,
        mut on_untagged: F,
    ) -> AdapterResult<Vec<UidPlus>>
    where
        F: FnMut(&Response<'_>) + Send,
    {
        self.selected = None;
        let mut uid_validity = 0;
        let mut flags = Vec::new();
        let mut commands = vec![format!("SELECT {}", quote(wire))];
        commands.extend(follow_up.map(str::to_owned));
        let mut outcomes = self
            .execute_pipelined(&commands, |index, response| match (index, response) {
                (0, Response::Data { outcome, .. }) => {
                    if let Some(ResponseCode::UidValidity(value)) = outcome.code {
                        uid_validity = value;
                    }
                }
                (0, Response::MailboxData(MailboxDatum::Flags(found))) => {
                    flags = found.iter().map(|f| f.to_string()).collect()
                }
                (0, _) => {}
                (_, other) => on_untagged(other),
            })
            .await?
            .into_iter();
        let selected =
            outcomes.next().unwrap_or_else(|| Err(AdapterError::new(AdapterErrorKind::Protocol, "no outcome")));
        selected?;
        self.selected = Some(wire.to_owned());
        self.selected_validity = uid_validity;
        self.selected_flags = flags;
        outcomes.next().unwrap_or(Ok(Vec::new()))
    }

    /// The flags and keywords the selected mailbox defines (as of its last SELECT).
    pub fn selected_flags(&self) -> &[String] {
        &self.selected_flags
    }

    /// UIDVALIDITY of the selected mailbox (0 if the server did not say).
    pub fn selected_validity(&self) -> u32 {
        self.selected_validity
    }

    /// Forgets the selection (after the mailbox may have been renamed or deleted).
    pub fn forget_selection(&mut self) {
        self.selected = None;
    }

    /// Whether the connection failed and must be dropped rather than reused.
    pub fn is_broken(&self) -> bool {
        self.broken || self.in_flight
    }

    /// Logs out politely; errors do not matter any more.
    pub async fn logout(mut self) {
        let _ = timeout(Duration::from_secs(2), self.session.logout()).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scripted::scripted_server;

    async fn connect_to(port: u16) -> ImapConnection {
        let settings = ImapSettings {
            port,
            command_timeout: Duration::from_secs(5),
            max_item_size: 1000,
            ..ImapSettings::default()
        };
        ImapConnection::open(&settings, &Credentials::new("user", "password")).await.expect("login")
    }

    #[tokio::test]
    async fn a_command_line_with_a_line_break_is_refused_before_anything_is_sent() {
        let (port, mut lines) = scripted_server(|tag, _| format!("{tag} OK fine\r\n")).await;
        let mut connection = connect_to(port).await;
        for injected in ["x\r\nA9 CREATE injected", "x\nCREATE injected", "x\rCREATE", "x\0y"] {
            let command = format!("UID FETCH 1 (BODY.PEEK[HEADER.FIELDS ({})])", quote(injected));
            let refused = connection.execute(&command).await.expect_err("refused");
            assert_eq!(refused.kind(), AdapterErrorKind::Refused);
            let refused = connection.append(injected, &[], b"x").await.expect_err("refused");
            assert_eq!(refused.kind(), AdapterErrorKind::Refused);
        }
        assert!(!connection.is_broken(), "nothing was sent, so the connection is as good as before");
        connection.execute("NOOP").await.expect("still usable");
        drop(connection);
        let mut received = Vec::new();
        while let Ok(line) = lines.try_recv() {
            received.push(line);
        }
        assert!(received.iter().all(|line| !line.contains("injected") && !line.contains("CREATE")), "{received:?}");
        assert!(received.iter().any(|line| line.ends_with("NOOP")), "{received:?}");
    }

    #[tokio::test]
    async fn a_bad_answer_breaks_the_connection() {
        let (port, _lines) = scripted_server(|tag, _| format!("{tag} BAD what?\r\n")).await;
        let mut connection = connect_to(port).await;
        let refused = connection.execute("NOOP").await.expect_err("BAD");
        assert_eq!(refused.kind(), AdapterErrorKind::Protocol);
        assert!(connection.is_broken(), "a BAD answer must keep the connection out of the pool");
    }

    #[tokio::test]
    async fn a_no_answer_keeps_the_connection() {
        let (port, _lines) = scripted_server(|tag, _| format!("{tag} NO [NONEXISTENT] no such thing\r\n")).await;
        let mut connection = connect_to(port).await;
        assert_eq!(connection.execute("NOOP").await.expect_err("NO").kind(), AdapterErrorKind::NotFound);
        assert!(!connection.is_broken());
    }

    #[tokio::test]
    async fn an_answer_to_a_command_not_sent_breaks_the_connection() {
        let (port, _lines) =
            scripted_server(|tag, _| format!("ZZ9 OK not yours\r\n* 1 EXISTS\r\n{tag} OK done\r\n")).await;
        let mut connection = connect_to(port).await;
        assert_eq!(connection.execute("NOOP").await.expect_err("out of step").kind(), AdapterErrorKind::Protocol);
        assert!(connection.is_broken());
    }

    #[tokio::test]
    async fn an_unasked_continuation_breaks_the_connection() {
        let (port, _lines) = scripted_server(|_, _| "+ send more\r\n".to_owned()).await;
        let mut connection = connect_to(port).await;
        assert_eq!(connection.execute("NOOP").await.expect_err("continuation").kind(), AdapterErrorKind::Protocol);
        assert!(connection.is_broken());
    }

    #[tokio::test]
    async fn a_literal_over_the_item_limit_is_never_buffered() {
        let (port, _lines) =
            scripted_server(|tag, _| format!("* 1 FETCH (UID 1 BODY[] {{2000000000}}\r\nxxxx\r\n{tag} OK done\r\n"))
                .await;
        let mut connection = connect_to(port).await;
        let failed = connection.execute("UID FETCH 1 (UID BODY.PEEK[])").await.expect_err("refused");
        assert_eq!(failed.kind(), AdapterErrorKind::Unavailable);
        assert!(failed.reason().contains("2000000000"), "{failed}");
        assert!(connection.is_broken());
    }

    #[tokio::test]
    async fn copyuid_ranges_stay_ranges() {
        let (port, _lines) =
            scripted_server(|tag, _| format!("{tag} OK [COPYUID 7 1:4294967295 1:4294967295] copied\r\n")).await;
        let mut connection = connect_to(port).await;
        let codes = connection.execute("UID COPY 5 Other").await.expect("copied");
        match codes.as_slice() {
            [UidPlus::Copied(from, to)] => {
                assert_eq!(from.iter().take(3).collect::<Vec<_>>(), vec![1, 2, 3]);
                assert_eq!(to.iter().nth(4), Some(5));
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_response_the_parser_panics_on_is_an_error_not_a_crash() {
        // imap-proto 0.17 panics on a METADATA value that is not UTF-8; a user can store one.
        let (port, _lines) = scripted_server(|tag, _| {
            let mut reply = b"* METADATA \"INBOX\" (/private/comment {1}\r\n\xff)\r\n".to_vec();
            reply.extend_from_slice(format!("{tag} OK done\r\n").as_bytes());
            reply
        })
        .await;
        let mut connection = connect_to(port).await;
        let outcome = connection.execute("GETMETADATA \"INBOX\" (/private/comment)").await;
        let failed = outcome.expect_err("the parser cannot take it");
        assert_eq!(failed.kind(), AdapterErrorKind::Protocol);
        assert!(connection.is_broken(), "a connection whose parser gave up is not lent again");
    }

    #[tokio::test]
    async fn a_command_abandoned_before_its_answer_keeps_the_connection_out_of_the_pool() {
        let (port, _lines) = scripted_server(|_, _| String::new()).await; // never answers
        let mut connection = connect_to(port).await;
        let abandoned = tokio::time::timeout(Duration::from_millis(100), connection.execute("NOOP")).await;
        assert!(abandoned.is_err(), "the command was still waiting");
        assert!(connection.is_broken(), "its answer may still come and must not reach the next borrower");
    }

    #[test]
    fn the_boundary_check_refuses_exactly_cr_lf_and_nul() {
        assert!(check_command_line("UID SEARCH HEADER \"subject\" \"Grüße \\\" ok\"").is_ok());
        for bad in ["A\rB", "A\nB", "A\0B", "\r\n"] {
            assert_eq!(check_command_line(bad).map_err(|e| e.kind()), Err(AdapterErrorKind::Refused));
        }
    }

    #[test]
    fn quoting_escapes_quotes_and_backslashes() {
        assert_eq!(quote(r#"a"b\c"#), r#""a\"b\\c""#);
    }

    #[test]
    fn response_codes_decide_the_kind() {
        assert_eq!(
            classify_refusal(&Status::No, "[ALREADYEXISTS] Mailbox already exists").kind(),
            AdapterErrorKind::AlreadyExists
        );
        assert_eq!(
            classify_refusal(&Status::No, "[NONEXISTENT] Mailbox doesn't exist").kind(),
            AdapterErrorKind::NotFound
        );
        assert_eq!(classify_refusal(&Status::No, "[OVERQUOTA] Quota exceeded").kind(), AdapterErrorKind::Unavailable);
        assert_eq!(classify_refusal(&Status::No, "Mailbox has children").kind(), AdapterErrorKind::Refused);
        assert_eq!(classify_refusal(&Status::Bad, "[NONEXISTENT] x").kind(), AdapterErrorKind::Protocol);
    }
}
