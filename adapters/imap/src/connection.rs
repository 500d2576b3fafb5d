//! One logged-in IMAP connection, with commands whose tagged outcome the adapter reads itself.
//!
//! async-imap's typed helpers flatten `NO [CODE] text` into a string and queue unsolicited
//! responses in a channel that drops entries past 100; reading the responses here keeps the
//! RFC 5530 response codes and every untagged response of the command.

use std::time::{Duration, Instant};

use agap_adapter_api::{AdapterError, AdapterErrorKind, AdapterResult, Credentials};
use async_imap::imap_proto::{Response, Status};
use tokio::net::TcpStream;
use tokio::time::timeout;

use crate::settings::ImapSettings;

/// A logged-in IMAP session plus what the server told us about itself.
#[derive(Debug)]
pub struct ImapConnection {
    session: async_imap::Session<TcpStream>,
    capabilities: Vec<String>,
    command_timeout: Duration,
    /// Set once the connection failed mid-command: it must not go back to the pool.
    broken: bool,
    /// When the connection was last handed back to the pool.
    pub last_used: Instant,
}

/// Reads an IMAP quoted string argument.
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

fn unavailable(what: &str, error: impl std::fmt::Display) -> AdapterError {
    AdapterError::new(AdapterErrorKind::Unavailable, format!("IMAP server {what}: {error}"))
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

impl ImapConnection {
    /// Connects, reads the greeting and logs in.
    pub async fn open(settings: &ImapSettings, credentials: &Credentials) -> AdapterResult<Self> {
        let address = (settings.host.as_str(), settings.port);
        let stream = timeout(settings.connect_timeout, TcpStream::connect(address))
            .await
            .map_err(|_| {
                unavailable("did not accept the connection in time", format!("{}:{}", settings.host, settings.port))
            })?
            .map_err(|e| unavailable("is unreachable", e))?;
        let mut client = async_imap::Client::new(stream);
        let greeting = timeout(settings.connect_timeout, client.read_response())
            .await
            .map_err(|_| unavailable("sent no greeting", "timeout"))?
            .map_err(|e| unavailable("greeting failed", e))?
            .ok_or_else(|| unavailable("closed the connection", "before its greeting"))?;
        if let Response::Data { status: Status::Bye, .. } = greeting.parsed() {
            return Err(unavailable("refused the connection", "BYE"));
        }
        let login = timeout(settings.command_timeout, client.login(credentials.user(), credentials.password()));
        let mut session = match login.await {
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
            last_used: Instant::now(),
        })
    }

    /// Whether the server advertised `capability` (upper case).
    pub fn has_capability(&self, capability: &str) -> bool {
        self.capabilities.iter().any(|c| c == capability)
    }

    /// Runs one command, showing each untagged response to `on_untagged`; returns the refusal it
    /// ended with, if any.
    pub async fn execute_with<F>(&mut self, command: &str, mut on_untagged: F) -> AdapterResult<()>
    where
        F: FnMut(&Response<'_>) + Send,
    {
        let mut outcomes = self.execute_pipelined(&[command.to_owned()], |_, response| on_untagged(response)).await?;
        outcomes.pop().unwrap_or_else(|| Err(AdapterError::new(AdapterErrorKind::Protocol, "no outcome")))
    }

    /// Runs one command whose untagged responses do not matter.
    pub async fn execute(&mut self, command: &str) -> AdapterResult<()> {
        self.execute_with(command, |_| {}).await
    }

    /// Sends several commands before reading any answer (RFC 3501 5.5) and returns, per command,
    /// success or its refusal. Each untagged response goes to `on_untagged` with the index of the
    /// command whose tagged answer follows it; commands whose data names its object (STATUS,
    /// LIST) are safe to pipeline this way.
    pub async fn execute_pipelined<F>(
        &mut self,
        commands: &[String],
        mut on_untagged: F,
    ) -> AdapterResult<Vec<AdapterResult<()>>>
    where
        F: FnMut(usize, &Response<'_>) + Send,
    {
        let deadline = self.command_timeout;
        let work = async {
            let mut tags = Vec::with_capacity(commands.len());
            for command in commands {
                tags.push(self.session.run_command(command).await.map_err(|e| unavailable("connection failed", e))?);
            }
            let mut outcomes = Vec::with_capacity(commands.len());
            while outcomes.len() < tags.len() {
                let response = self
                    .session
                    .read_response()
                    .await
                    .map_err(|e| unavailable("connection failed", e))?
                    .ok_or_else(|| unavailable("closed the connection", "mid-command"))?;
                match response.parsed() {
                    Response::Done { tag, status, outcome } if tags.contains(tag) => {
                        outcomes.push(match status {
                            Status::Ok => Ok(()),
                            other => Err(classify_refusal(other, outcome.information.as_deref().unwrap_or(""))),
                        });
                    }
                    Response::Data { status: Status::Bye, outcome } => {
                        return Err(unavailable(
                            "closed the connection",
                            outcome.information.as_deref().unwrap_or("BYE"),
                        ));
                    }
                    other => on_untagged(outcomes.len(), other),
                }
            }
            Ok(outcomes)
        };
        let result = timeout(deadline, work).await.map_err(|_| unavailable("did not answer in time", "timeout"));
        // Any failure here is at connection level (I/O, timeout, BYE): the session state is unknown.
        let result = result.and_then(|inner| inner);
        if result.is_err() {
            self.broken = true;
        }
        result
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
