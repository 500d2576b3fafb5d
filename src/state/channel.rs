//! What a session knows of its connection: which layers are on (TLS, gzip) and where the
//! client is; it decides what STLS, SGZP, CAPA and AUTH may do (draft 4.7-4.9).

use std::net::SocketAddr;

use crate::config::Config;
use crate::transport::Layers;

/// A layer to put on the connection once the reply is out (draft 4.8, 4.9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Switch {
    /// TLS: the server side of a handshake follows the 200 line.
    Tls,
    /// gzip in both directions from the next byte on.
    Gzip,
}

/// The session's view of its connection.
#[derive(Debug, Clone, Copy)]
pub struct Channel {
    /// The layers in use.
    pub layers: Layers,
    /// The client's address.
    pub peer: SocketAddr,
}

impl Channel {
    /// Whether STLS can start TLS: a certificate is configured and TLS is not on yet.
    pub fn can_start_tls(&self, config: &Config) -> bool {
        config.tls.files().is_some() && !self.layers.tls
    }

    /// Whether SGZP can start compression: it is enabled and not on yet.
    pub fn can_start_gzip(&self, config: &Config) -> bool {
        config.server.compression && !self.layers.gzip
    }

    /// Whether AUTH must wait for STLS: the switch is on, the channel is in clear, and the
    /// client is not on this host. A loopback client's traffic never leaves the machine (a
    /// local TLS-terminating proxy included), so requiring TLS there protects nothing.
    pub fn auth_needs_tls(&self, config: &Config) -> bool {
        config.tls.require_for_auth && !self.layers.tls && !self.peer.ip().to_canonical().is_loopback()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn channel(peer: &str, tls: bool) -> Channel {
        Channel { layers: Layers { tls, gzip: false }, peer: peer.parse().expect("address") }
    }

    #[test]
    fn auth_needs_tls_only_in_clear_from_another_host_and_while_switched_on() {
        let mut config = Config::default();
        assert!(channel("192.0.2.7:5000", false).auth_needs_tls(&config));
        assert!(channel("[2001:db8::1]:5000", false).auth_needs_tls(&config));
        assert!(!channel("192.0.2.7:5000", true).auth_needs_tls(&config));
        assert!(!channel("127.0.0.1:5000", false).auth_needs_tls(&config));
        assert!(!channel("[::1]:5000", false).auth_needs_tls(&config));
        assert!(!channel("[::ffff:127.0.0.1]:5000", false).auth_needs_tls(&config));
        config.tls.require_for_auth = false;
        assert!(!channel("192.0.2.7:5000", false).auth_needs_tls(&config));
    }

    #[test]
    fn stls_and_sgzp_are_offered_once_and_only_when_configured() {
        let mut config = Config::default();
        let plain = channel("127.0.0.1:5000", false);
        assert!(!plain.can_start_tls(&config), "no certificate");
        assert!(plain.can_start_gzip(&config));
        config.tls.certificate = Some("cert.pem".into());
        config.tls.key = Some("key.pem".into());
        assert!(plain.can_start_tls(&config));
        assert!(!channel("127.0.0.1:5000", true).can_start_tls(&config));
        let zipped = Channel { layers: Layers { tls: false, gzip: true }, ..plain };
        assert!(!zipped.can_start_gzip(&config));
        config.server.compression = false;
        assert!(!plain.can_start_gzip(&config));
    }
}
