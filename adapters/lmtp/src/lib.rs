//! Delivery into another account through the mail server's LMTP service (RFC 2033): the path
//! mail from outside takes, so the recipient's Sieve rules, quota and duplicate checks apply to
//! what FSTO delivers exactly as to any incoming message. Dovecot (`lmtp`) and Cyrus (`lmtpd`)
//! both offer it; one connection per delivery, as LMTP clients of a mail server usually do.

mod bounded;

use std::time::Duration;

use agap_adapter_api::delivery::{MailDelivery, check_address};
use agap_adapter_api::{AdapterError, AdapterErrorKind, AdapterResult};
use async_trait::async_trait;
use mail_send::{Credentials, SmtpClient};
use smtp_proto::Response;
use tokio::net::TcpStream;

use bounded::Bounded;

/// The most bytes of replies the server may send in one delivery: LMTP replies are lines of a few
/// dozen bytes, so this only stops a server that talks without end.
const MAX_REPLY_BYTES: u64 = 64 * 1024;

/// Where and how to reach the LMTP service.
#[derive(Clone)]
pub struct LmtpSettings {
    /// `host:port` of the service.
    pub address: String,
    /// The name the gateway gives in LHLO.
    pub client_name: String,
    /// AUTH PLAIN as this user and password where the service asks for it (Cyrus's `lmtpd` on
    /// TCP admits authenticated admins only).
    pub login: Option<(String, String)>,
    /// The longest a whole delivery may take, connection included.
    pub timeout: Duration,
}

impl std::fmt::Debug for LmtpSettings {
    /// Without the password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LmtpSettings")
            .field("address", &self.address)
            .field("client_name", &self.client_name)
            .field("login", &self.login.as_ref().map(|(user, _)| user))
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// The [`MailDelivery`] of a mail server with an LMTP service.
#[derive(Debug)]
pub struct LmtpDelivery {
    settings: LmtpSettings,
}

impl LmtpDelivery {
    /// A delivery agent talking to `settings.address`; nothing is connected until a delivery.
    pub fn new(settings: LmtpSettings) -> Self {
        Self { settings }
    }

    /// A connection past LHLO (and AUTH where configured).
    async fn open(&self) -> AdapterResult<SmtpClient<Bounded<TcpStream>>> {
        let stream = TcpStream::connect(&self.settings.address)
            .await
            .map_err(|error| unavailable(format!("cannot reach the LMTP service: {error}")))?;
        let mut client = SmtpClient { stream: Bounded::new(stream, MAX_REPLY_BYTES), timeout: self.settings.timeout };
        let greeting = client.read().await.map_err(|error| failed("greeting", error))?;
        if greeting.code / 100 != 2 {
            return Err(by_reply("greeting", &greeting));
        }
        let capabilities = client.lhlo(&self.settings.client_name).await.map_err(|error| failed("LHLO", error))?;
        if let Some((username, secret)) = &self.settings.login {
            let credentials = Credentials::Plain { username: username.as_str(), secret: secret.as_str() };
            client.authenticate(&credentials, &capabilities).await.map_err(|error| failed("AUTH", error))?;
        }
        Ok(client)
    }

    /// MAIL FROM and RCPT TO on an open connection.
    async fn envelope(client: &mut SmtpClient<Bounded<TcpStream>>, sender: &str, recipient: &str) -> AdapterResult<()> {
        let none = mail_send::smtp::message::Parameters::default();
        client.mail_from(sender, &none).await.map_err(|error| failed("MAIL FROM", error))?;
        client.rcpt_to(recipient, &none).await.map_err(|error| match error {
            // RFC 3463 X.1.1 / RFC 5321 550, 551, 553: no such mailbox. Said as "unknown", never
            // with the server's text, which may tell more about the account than FSTO may.
            mail_send::Error::UnexpectedReply(reply) if is_unknown_mailbox(&reply) => {
                AdapterError::new(AdapterErrorKind::NotFound, "unknown account")
            }
            other => failed("RCPT TO", other),
        })
    }

    async fn session(&self, sender: &str, recipient: &str, message: &[u8]) -> AdapterResult<()> {
        let mut client = self.open().await?;
        Self::envelope(&mut client, sender, recipient).await?;
        // The transparency procedure ends the data with CR LF "." CR LF itself: a message ending
        // in CR LF would gain an empty line.
        let message = message.strip_suffix(b"\r\n").unwrap_or(message);
        client.data(message).await.map_err(|error| failed("DATA", error))?;
        // The message is delivered: a failing QUIT changes nothing.
        let _ = client.quit().await;
        Ok(())
    }

    /// RCPT TO without DATA: the server says whether the mailbox exists, nothing is delivered.
    async fn probe(&self, recipient: &str) -> AdapterResult<()> {
        let mut client = self.open().await?;
        Self::envelope(&mut client, "", recipient).await?;
        let _ = client.rset().await;
        let _ = client.quit().await;
        Ok(())
    }

    /// `work` within the delivery's time bound.
    async fn bounded<T>(&self, work: impl std::future::Future<Output = AdapterResult<T>>) -> AdapterResult<T> {
        match tokio::time::timeout(self.settings.timeout, work).await {
            Ok(result) => result,
            Err(_) => Err(unavailable("the LMTP service did not answer in time")),
        }
    }
}

#[async_trait]
impl MailDelivery for LmtpDelivery {
    async fn deliver(&self, sender: &str, recipient: &str, message: &[u8]) -> AdapterResult<()> {
        if !sender.is_empty() {
            check_address(sender)?;
        }
        check_address(recipient)?;
        self.bounded(self.session(sender, recipient, message)).await
    }

    async fn verify(&self, recipient: &str) -> AdapterResult<()> {
        check_address(recipient)?;
        self.bounded(self.probe(recipient)).await
    }
}

/// Whether a RCPT reply says the mailbox does not exist.
fn is_unknown_mailbox(reply: &Response<String>) -> bool {
    matches!(reply.code, 550 | 551 | 553) || reply.esc == [5, 1, 1]
}

/// The error of a reply that is not a success: permanent (5xx) refusals are the message's or the
/// account's, temporary (4xx) ones the server's.
fn by_reply(step: &str, reply: &Response<String>) -> AdapterError {
    let text: String = reply.message.chars().filter(|c| !c.is_control()).take(200).collect();
    let kind = if reply.code / 100 == 5 { AdapterErrorKind::Refused } else { AdapterErrorKind::Unavailable };
    AdapterError::new(kind, format!("the LMTP service refused {step}: {} {text}", reply.code))
}

fn failed(step: &str, error: mail_send::Error) -> AdapterError {
    match error {
        mail_send::Error::UnexpectedReply(reply) | mail_send::Error::AuthenticationFailed(reply) => {
            by_reply(step, &reply)
        }
        mail_send::Error::Timeout => unavailable(format!("the LMTP service did not answer {step} in time")),
        mail_send::Error::Io(error) => unavailable(format!("the LMTP connection broke at {step}: {error}")),
        mail_send::Error::UnsupportedAuthMechanism => AdapterError::new(
            AdapterErrorKind::Unsupported,
            "the LMTP service offers no AUTH mechanism the gateway can use",
        ),
        other => AdapterError::new(AdapterErrorKind::Protocol, format!("LMTP {step}: {other}")),
    }
}

fn unavailable(reason: impl Into<String>) -> AdapterError {
    AdapterError::new(AdapterErrorKind::Unavailable, reason)
}

#[cfg(test)]
mod tests;
