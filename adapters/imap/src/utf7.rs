//! Modified UTF-7 for IMAP mailbox names (RFC 3501 section 5.1.3).
//!
//! Written here on top of the `base64` crate rather than taken from `utf7-imap`, which passes
//! DEL (0x7f) through unencoded and compiles a regex on every call; the format itself is small.

use base64::Engine;
use base64::alphabet::Alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

/// The modified BASE64 alphabet of RFC 3501: `,` instead of `/`. Checked when compiling (an
/// invalid alphabet fails the build), so nothing is built per mailbox name.
const ALPHABET: Alphabet = match Alphabet::new("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,") {
    Ok(alphabet) => alphabet,
    Err(_) => panic!("the modified BASE64 alphabet is invalid"),
};

/// The modified BASE64 of RFC 3501: that alphabet, no padding.
const ENGINE: GeneralPurpose = GeneralPurpose::new(
    &ALPHABET,
    GeneralPurposeConfig::new().with_encode_padding(false).with_decode_padding_mode(DecodePaddingMode::RequireNone),
);

fn engine() -> &'static GeneralPurpose {
    &ENGINE
}

fn is_direct(c: char) -> bool {
    (' '..='~').contains(&c)
}

/// Encodes a UTF-8 mailbox name level in modified UTF-7.
pub fn encode(name: &str) -> String {
    let engine = engine();
    let mut out = String::with_capacity(name.len());
    let mut pending: Vec<u16> = Vec::new();
    let flush = |pending: &mut Vec<u16>, out: &mut String| {
        if pending.is_empty() {
            return;
        }
        let bytes: Vec<u8> = pending.iter().flat_map(|unit| unit.to_be_bytes()).collect();
        out.push('&');
        out.push_str(&engine.encode(bytes));
        out.push('-');
        pending.clear();
    };
    for c in name.chars() {
        if is_direct(c) {
            flush(&mut pending, &mut out);
            if c == '&' {
                out.push_str("&-");
            } else {
                out.push(c);
            }
        } else {
            let mut units = [0u16; 2];
            pending.extend_from_slice(c.encode_utf16(&mut units));
        }
    }
    flush(&mut pending, &mut out);
    out
}

/// Decodes a modified UTF-7 mailbox name level; `None` if it is not valid modified UTF-7.
pub fn decode(wire: &str) -> Option<String> {
    let engine = engine();
    let mut out = String::with_capacity(wire.len());
    let mut rest = wire;
    while let Some(start) = rest.find('&') {
        let (direct, encoded) = rest.split_at(start);
        if !direct.chars().all(is_direct) {
            return None;
        }
        out.push_str(direct);
        let end = encoded.find('-')?;
        let body = &encoded[1..end];
        if body.is_empty() {
            out.push('&');
        } else {
            let bytes = engine.decode(body).ok()?;
            if bytes.len() % 2 != 0 {
                return None;
            }
            let units: Vec<u16> = bytes.chunks_exact(2).map(|pair| u16::from_be_bytes([pair[0], pair[1]])).collect();
            out.push_str(&String::from_utf16(&units).ok()?);
        }
        rest = &encoded[end + 1..];
    }
    if !rest.chars().all(is_direct) {
        return None;
    }
    out.push_str(rest);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3501_example_round_trips() {
        // RFC 3501 5.1.3: "~peter/mail/台北/日本語"
        assert_eq!(encode("台北"), "&U,BTFw-");
        assert_eq!(encode("日本語"), "&ZeVnLIqe-");
        assert_eq!(decode("&U,BTFw-").as_deref(), Some("台北"));
    }

    #[test]
    fn ampersand_and_ascii_stay_readable() {
        assert_eq!(encode("Tom & Jerry"), "Tom &- Jerry");
        assert_eq!(decode("Tom &- Jerry").as_deref(), Some("Tom & Jerry"));
        assert_eq!(encode("Отправленные"), "&BB4EQgQ,BEAEMAQyBDsENQQ9BD0ESwQ1-");
    }

    #[test]
    fn delete_and_astral_characters_are_encoded() {
        let name = "a\u{7f}b😀c";
        let wire = encode(name);
        assert!(wire.chars().all(|c| (' '..='~').contains(&c)), "{wire}");
        assert_eq!(decode(&wire).as_deref(), Some(name));
    }

    #[test]
    fn every_sample_round_trips() {
        for name in ["", "INBOX", "&", "&&", "é", "Entwürfe", "a&é&b", "日本語 & 台北", "x😀😀y", "-&-"] {
            assert_eq!(decode(&encode(name)).as_deref(), Some(name), "{name}");
        }
    }

    #[test]
    fn malformed_input_is_rejected() {
        assert_eq!(decode("&U,BTFw"), None, "unterminated shift");
        assert_eq!(decode("&A-"), None, "odd number of bytes");
        assert_eq!(decode("caf\u{e9}"), None, "raw 8-bit");
    }
}
