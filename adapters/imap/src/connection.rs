//! One logged-in IMAP connection, with commands whose tagged outcome the adapter reads itself.
//!
//! async-imap's typed helpers flatten `NO [CODE] text` into a string and queue unsolicited
//! responses in a channel that drops entries past 100; reading the responses here keeps the
//! RFC 5530 response codes and every untagged response of the command.

use std::time::{Duration, Instant};

use agap_adapter_api::{AdapterError, AdapterErrorKind, AdapterResult, Credentials};
use async_imap::imap_proto::rfc4315::UidSetMember;
use async_imap::imap_proto::{MailboxDatum, Response, ResponseCode, Status};
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
    /// The mailbox selected on this connection (wire name), to skip needless SELECTs.
    selected: Option<String>,
    selected_validity: u32,
    /// The FLAGS the last SELECT reported: every flag and keyword defined in the mailbox.
    selected_flags: Vec<String>,
    /// When the connection was last handed back to the pool.
    pub last_used: Instant,
}

/// The UIDPLUS results (RFC 4315) a command reported, in the order they came.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UidPlus {
    /// APPENDUID: the UIDs given to appended messages.
    Appended(Vec<u32>),
    /// COPYUID (also sent by MOVE, RFC 6851): source UIDs and the new ones, pairwise.
    Copied(Vec<u32>, Vec<u32>),
}

fn expand(set: &[UidSetMember]) -> Vec<u32> {
    let mut uids = Vec::new();
    for member in set {
        match member {
            UidSetMember::Uid(uid) => uids.push(*uid),
            // Bounded by what the server reported for our own command.
            UidSetMember::UidRange(range) => uids.extend(range.clone()),
        }
    }
    uids
}

fn uidplus_of(code: Option<&ResponseCode<'_>>) -> Option<UidPlus> {
    match code? {
        ResponseCode::AppendUid(_, uids) => Some(UidPlus::Appended(expand(uids))),
        ResponseCode::CopyUid(_, from, to) => Some(UidPlus::Copied(expand(from), expand(to))),
        _ => None,
    }
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

async fn bounded<T>(deadline: Duration, work: impl std::future::Future<Output = AdapterResult<T>>) -> AdapterResult<T> {
    timeout(deadline, work).await.map_err(|_| unavailable("did not answer in time", "timeout")).and_then(|inner| inner)
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
        let mut session = match timeout(settings.command_timeout, login).await {
            Err(_) => return Err(unavailable("did not answer LOGIN", "timeout")),
            Ok(Ok(session)) => session,
            Ok(Err((async_imap::error::Error::No(_), _))) => {
                return Err(AdapterError::new(AdapterErrorKind::AuthenticationFailed, "wrong user name or password"));
            }
            Ok(Err((async_imap::error::Error::Validate(_), _))) => {
                return Err(AdapterError::new(
                    AdapterErrorKind::AuthenticationFailed,
                    "the credentials contain a line break",
                ));
            }
            Ok(Err((error, _))) => return Err(unavailable("failed during LOGIN", error)),
        };
        let capabilities = timeout(settings.command_timeout, session.capabilities())
            .await
            .map_err(|_| unavailable("did not answer CAPABILITY", "timeout"))?
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
        let deadline = self.command_timeout;
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
                            codes.clear();
                            Err(classify_refusal(other, outcome.information.as_deref().unwrap_or("")))
                        }
                    });
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

    /// Records a connection-level failure (I/O, timeout, BYE): the session state is unknown, so
    /// the connection must not be reused.
    fn settle<T>(&mut self, result: AdapterResult<T>) -> AdapterResult<T> {
        if result.is_err() {
            self.broken = true;
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
        self.broken
    }

    /// Logs out politely; errors do not matter any more.
    pub async fn logout(mut self) {
        let _ = timeout(Duration::from_secs(2), self.session.logout()).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
