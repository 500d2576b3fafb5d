//! CONF folders (draft 2.11.3): configurations kept upstream as messages of a mailbox mail
//! clients need not show, so the gateway itself stays stateless (docs/configuration.md).

use futures_util::TryStreamExt;

use crate::harness::{TestGateway, imap};

/// Figure 7 of the draft, as a client STORs it.
const FIG_7: [&str; 4] =
    ["<CONFIGURATION>", "  <CHECK-EACH-MIN>10</CHECK-EACH-MIN>", "  <QUOTA>1024</QUOTA>", "</CONFIGURATION>"];

#[tokio::test]
async fn a_configuration_survives_a_gateway_with_an_empty_store() {
    let gateway = TestGateway::start().await;
    let mut client = gateway.login("user83").await;
    let listed = client.expect("LIST /*", 200).await.lines;
    assert!(listed.contains(&"CONF /CONFIGURATION".to_owned()), "{listed:?}");
    client.expect("SLCT /CONFIGURATION", 200).await;
    let stored = client.stor(&FIG_7).await;
    assert!(stored.text.starts_with("OK Configuration stored (UID is "), "{stored:?}");
    let uid = crate::collections::stored_uid(&stored);
    let expected =
        ["<CONFIGURATION>", "<CHECK-EACH-MIN>10</CHECK-EACH-MIN>", "<QUOTA>1024</QUOTA>", "</CONFIGURATION>"];
    assert_eq!(client.expect(&format!("RETR {uid}"), 200).await.lines, expected);
    assert_eq!(client.expect(&format!("RETR {uid} /CONFIGURATION/QUOTA"), 200).await.lines, ["1024"]);
    client.expect(&format!("STAG {uid} + ROAMING"), 200).await;
    let found = client.filtered("FIND", &["IS /CONFIGURATION/QUOTA = '1024'"]).await.lines;
    assert_eq!(found, std::slice::from_ref(&uid));
    drop(client);
    drop(gateway);
    // Another gateway with a new, empty store sees the same item under the same UID.
    let restarted = TestGateway::start().await;
    let mut client = restarted.login("user83").await;
    client.expect("SLCT /CONFIGURATION", 200).await;
    assert_eq!(client.filtered("FIND", &[]).await.lines, std::slice::from_ref(&uid));
    assert_eq!(client.expect(&format!("RETR {uid}"), 200).await.lines, expected);
    assert_eq!(client.expect(&format!("GTAG {uid}"), 200).await.lines, ["ROAMING"]);
    // The mailbox exists upstream but is not subscribed: mail clients do not show it.
    let mut session = imap("user83").await;
    let subscribed: Vec<_> = session.lsub(Some(""), Some("*")).await.expect("LSUB").try_collect().await.expect("LSUB");
    let subscribed: Vec<&str> = subscribed.iter().map(|name| name.name()).collect();
    assert!(!subscribed.iter().any(|name| name.contains("Configuration")), "{subscribed:?}");
    assert!(subscribed.contains(&"Notes"), "{subscribed:?}");
}

#[tokio::test]
async fn bad_configurations_are_refused_and_nothing_is_stored() {
    let gateway = TestGateway::start_with(|config| config.mail.max_item_size = 64 * 1024).await;
    let mut client = gateway.login("user84").await;
    client.expect("MAKE CONF /Settings", 200).await;
    client.expect("SLCT /Settings", 200).await;
    let huge = format!("<CONFIGURATION><BIG>{}</BIG></CONFIGURATION>", "x".repeat(70 * 1024));
    let many: String = (0..300).map(|n| format!("<K{n}>v</K{n}>")).collect();
    let many = format!("<CONFIGURATION>{many}</CONFIGURATION>");
    let bad: [&[&str]; 6] = [
        &["<CONFIGURATION><A><B>nested</B></A></CONFIGURATION>"],
        &["<CONFIGURATION><A>1</A><A>2</A></CONFIGURATION>"],
        &["<CONFIGURATION><caf\u{e9}>x</caf\u{e9}></CONFIGURATION>"],
        &["<NOTE><SUBJECT>x</SUBJECT></NOTE>"],
        &[&huge],
        &[&many],
    ];
    for lines in bad {
        let reply = client.stor(lines).await;
        assert_eq!(reply.code, 511, "{lines:?}: {reply:?}");
    }
    assert!(client.filtered("FIND", &[]).await.lines.is_empty(), "nothing stored");
    assert_eq!(client.stor(&FIG_7).await.code, 200);
    assert_eq!(client.filtered("FIND", &[]).await.lines.len(), 1);
}
