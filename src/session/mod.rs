//! One AGAP connection's conversation (draft section 3): the state, the commands it reads,
//! the table of `crate::state::accepts` asked before each command reaches its handler, and the
//! transition the handler asks for applied afterwards.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use crate::codec::{Line, Reply};
use crate::command::{Command, CommandLine, Presence, Verb, parse_command};
use crate::error::{AgapError, AgapResult, ErrorKind};
use crate::gateway::Gateway;
use crate::op;
pub use crate::state::Switch;
use crate::state::{Acceptance, Channel, Content, ContentKind, State, StateKind, Transition, accepts};
use crate::transport::Layers;

/// What the connection must do after a line.
#[derive(Debug)]
pub struct Step {
    /// The reply to send, if any (none while content lines are being collected).
    pub reply: Option<Reply>,
    /// Close the connection after sending it.
    pub close: bool,
    /// Put a layer on the connection after sending the reply (STLS, SGZP).
    pub switch: Option<Switch>,
}

/// One client's session.
#[derive(Debug)]
pub struct Session {
    gateway: Arc<Gateway>,
    channel: Channel,
    state: State,
    /// Content being received after a 110 reply (draft 5.2.2), up to its empty line.
    content: Option<Content>,
    /// This session's presence: its id in the store, and the account it announced (PNFO HERE,
    /// AWAY, FOR, IDLE) until the login ends.
    presence: PresenceSession,
}

/// What a session has announced of its user's presence; whatever way the login ends (QUIT,
/// EXIT, a dropped or timed-out connection, an error, a panic), the announcement ends with it
/// (docs/interpretations.md, PNFO-OFFLINE).
#[derive(Debug)]
struct PresenceSession {
    id: String,
    announced: Option<String>,
}

impl PresenceSession {
    fn new() -> Self {
        Self { id: format!("{:016x}{:016x}", rand::random::<u64>(), rand::random::<u64>()), announced: None }
    }

    /// Ends the announcement now, if there is one.
    async fn end(&mut self, gateway: &Gateway) {
        if let Some(account) = self.announced.take() {
            let ended = gateway.store.end_presence_session(&account, &self.id, gateway.clock.now()).await;
            if let Err(error) = ended {
                tracing::warn!(%account, %error, "could not end a presence announcement");
            }
        }
    }
}

impl Drop for Session {
    /// A connection that ends without QUIT or EXIT: the announcement ends in a task of its own
    /// (a drop cannot wait).
    fn drop(&mut self) {
        let Some(account) = self.presence.announced.take() else { return };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::warn!(%account, "no runtime left to end a presence announcement");
            return;
        };
        let gateway = Arc::clone(&self.gateway);
        let mut presence = PresenceSession { id: std::mem::take(&mut self.presence.id), announced: Some(account) };
        runtime.spawn(async move { presence.end(&gateway).await });
    }
}

impl Session {
    /// A new session in the not-authenticated state, on a connection with these layers
    /// already (TLS on an implicit-TLS listener).
    pub fn new(gateway: Arc<Gateway>, peer: SocketAddr, layers: Layers) -> Self {
        Self {
            gateway,
            channel: Channel { layers, peer },
            state: State::NotAuthenticated,
            content: None,
            presence: PresenceSession::new(),
        }
    }

    /// The connection as the session sees it.
    pub fn channel(&self) -> &Channel {
        &self.channel
    }

    /// The current state (for tests and logs).
    pub fn state(&self) -> &State {
        &self.state
    }

    /// Handles one decoded line.
    pub async fn handle_line(&mut self, line: Line) -> Step {
        if let Some(mut content) = self.content.take() {
            let was_refused = content.refusal().is_some();
            let ended = content.push(line);
            if let (false, Some(refusal)) = (was_refused, content.refusal()) {
                // Once per content: the rest is consumed without being kept.
                tracing::warn!(client = %self.channel.peer.ip(), %refusal, "content refused");
            }
            if !ended {
                self.content = Some(content);
                return Step { reply: None, close: false, switch: None };
            }
            return self.finish_content(content).await;
        }
        let limit = self.gateway.config.server.max_line_length;
        let text = match line {
            Line::Text(text) => text,
            Line::TooLong => {
                // Never the line itself: it may hold a password.
                tracing::warn!(client = %self.channel.peer.ip(), limit, "line too long");
                return self.reply(Err(AgapError::unknown_command(format!("line longer than {limit} characters"))));
            }
            Line::InvalidUtf8 => {
                return self.reply(Err(AgapError::unknown_command("line is not valid UTF-8")));
            }
        };
        match parse_command(&text) {
            Ok(command) => self.handle_command(command).await,
            Err(error) => self.reply(Err(error)),
        }
    }

    /// The step of STLS or SGZP; the layers count as switched from here on (if the switch
    /// fails, the connection ends).
    fn switching(&mut self, handled: AgapResult<(Reply, Option<Switch>)>) -> Step {
        match handled {
            Ok((reply, switch)) => {
                match switch {
                    Some(Switch::Tls) => self.channel.layers.tls = true,
                    Some(Switch::Gzip) => self.channel.layers.gzip = true,
                    None => {}
                }
                Step { reply: Some(reply), close: false, switch }
            }
            Err(error) => self.reply(Err(error)),
        }
    }

    /// The step of a finished command; a banned client (531) is disconnected after its reply.
    /// An item over the size limit is logged here, where the client's address is known.
    fn reply(&self, result: AgapResult<Reply>) -> Step {
        if let Err(error) = &result
            && *error.kind() == ErrorKind::TooLarge
        {
            tracing::warn!(client = %self.channel.peer.ip(), %error, "item over the size limit");
        }
        let close = matches!(&result, Err(error) if *error.kind() == ErrorKind::Banned);
        Step { reply: Some(result.unwrap_or_else(|error| error.to_reply())), close, switch: None }
    }

    /// Completes the command whose content just ended.
    async fn finish_content(&mut self, content: Content) -> Step {
        let gateway = Arc::clone(&self.gateway);
        let result = match &mut self.state {
            State::Selected(account, selection) => op::finish_content(&gateway, account, selection, content).await,
            State::Storing(sender) => match content.kind.clone() {
                ContentKind::Fsto(destination) => {
                    op::fsto::finish(&gateway, sender, self.channel.peer.ip(), &destination, content).await
                }
                _ => Err(AgapError::internal("content of another command in the storing state")),
            },
            // The state cannot change while content is collected; nothing to finish otherwise.
            _ => Err(AgapError::internal("content without a selected folder")),
        };
        self.reply(result)
    }

    async fn handle_command(&mut self, command: CommandLine) -> Step {
        let CommandLine { verb, argument } = command;
        let argument = argument.as_deref();
        let gateway = Arc::clone(&self.gateway);
        let gateway = gateway.as_ref();
        if verb == Verb::Quit {
            // Before the reply: whoever asks after seeing it finds the user offline.
            self.presence.end(gateway).await;
            return Step { reply: Some(Reply::ok("OK Bye")), close: true, switch: None };
        }
        let kind = self.state.kind();
        // What the table cannot know: the connection's layers and the client's failed logins.
        if kind == StateKind::NotAuthenticated && verb == Verb::Auth && self.channel.auth_needs_tls(&gateway.config) {
            return self
                .reply(Err(AgapError::tls_required("AUTH needs an encrypted channel from a client on another host")));
        }
        // A ban that started after this connection was welcomed (failed logins elsewhere).
        if matches!(kind, StateKind::NotAuthenticated | StateKind::PreAuthPassword | StateKind::PreAuthDigest)
            && matches!(verb, Verb::Auth | Verb::User | Verb::Pass | Verb::Hash)
            && gateway.limits.is_banned(self.channel.peer.ip(), Instant::now())
        {
            tracing::warn!(client = %self.channel.peer.ip(), "banned client tried to log in: closing");
            return self.reply(Err(AgapError::banned("too many failed logins from your address, retry later")));
        }
        if let Acceptance::Refused(error) = accepts(kind, verb) {
            return self.reply(Err(error));
        }
        // Fig 119, whatever the arguments: presence switched off in the configuration
        // (docs/interpretations.md, PNFO-DISABLED).
        if verb == Verb::Pnfo && !gateway.config.presence.enabled {
            return self.reply(Err(AgapError::unknown_command("Presence is not supported")));
        }
        let command = match Command::with_arguments(verb, argument) {
            Ok(command) => command,
            // EXIT drops the account even when its syntax is wrong (as it always has).
            Err(error) if verb == Verb::Exit => {
                self.state = State::NotAuthenticated;
                self.presence.end(gateway).await;
                return self.reply(Err(error));
            }
            Err(error) => return self.reply(Err(error)),
        };
        match command {
            Command::Stls => return self.switching(op::stls::handle(gateway, &self.channel)),
            Command::Sgzp => return self.switching(op::sgzp::handle(gateway, &self.channel)),
            _ => {}
        }
        let peer = self.channel.peer;
        let (result, transition) = match (&self.state, &command) {
            (State::NotAuthenticated, Command::Capa) => (op::capa::handle(gateway, &self.channel), Transition::Stay),
            (State::NotAuthenticated, Command::Auth { mechanism }) => match op::auth::handle(gateway, *mechanism) {
                Ok((reply, pre_auth)) => (Ok(reply), Transition::PreAuth(pre_auth)),
                Err(error) => (Err(error), Transition::Stay),
            },
            (State::PreAuth(pre_auth), Command::User { name }) => op::user::handle(pre_auth, name),
            (State::PreAuth(pre_auth), Command::Pass { password }) => {
                op::pass::handle(gateway, pre_auth, password, peer).await
            }
            (State::PreAuth(pre_auth), Command::Hash { digest }) => {
                op::hash::handle(gateway, pre_auth, digest, peer).await
            }
            (State::Selected(account, _) | State::NotSelected(account), Command::Pnfo { request }) => {
                let account = crate::presence::account_key(&account.user);
                let sender = op::pnfo::Sender::Account { account: &account, session: &self.presence.id };
                let result = op::pnfo::handle(gateway, sender, request).await;
                let announces =
                    !matches!(request, Presence::User { .. } | Presence::Status { .. } | Presence::At { .. });
                if announces && result.is_ok() {
                    self.presence.announced = Some(account);
                }
                (result, Transition::Stay)
            }
            (State::Presence(asker), Command::Pnfo { request }) => {
                (op::pnfo::handle(gateway, op::pnfo::Sender::PresenceState(asker), request).await, Transition::Stay)
            }
            (State::Selected(account, selection), command) => {
                let dispatched = op::dispatch_selected(gateway, account, selection, command).await;
                self.content = dispatched.content.map(|content| *content);
                (dispatched.result, dispatched.transition)
            }
            (State::NotSelected(account), command) => op::dispatch_not_selected(gateway, account, command).await,
            (State::Storing(sender), Command::Fsto { folder_type, account }) => {
                match op::fsto::begin(gateway, sender, *folder_type, account).await {
                    Ok((reply, content)) => {
                        self.content = Some(content);
                        (Ok(reply), Transition::Stay)
                    }
                    Err(error) => (Err(error), Transition::Stay),
                }
            }
            (_, _) => (
                Err(AgapError::internal(format!("{verb} is accepted in {kind:?} but has no handler"))),
                Transition::Stay,
            ),
        };
        if !matches!(transition, Transition::Stay) {
            let state = std::mem::replace(&mut self.state, State::NotAuthenticated);
            self.state = state.apply(transition);
            if matches!(self.state.kind(), StateKind::NotAuthenticated) {
                self.presence.end(gateway).await;
            }
        }
        self.reply(result)
    }
}
