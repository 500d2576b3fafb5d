//! Golden transcripts: integration/transcripts/*.agap hold `C:` lines to send and `S:` lines the
//! gateway must answer, in order, against a fresh gateway and the test Dovecot. In `S:` lines,
//! `{*}` matches any text; in `C:` lines, `{password}` is the account's test password. A line
//! `# account: NAME` names the account; `# dav: yes` adds the test Radicale (calendars and
//! contacts), `# files: yes` the test file server (FILE folders), `# delivery: yes` the mail
//! server's LMTP service (AUTH STORING, FSTO), `# presence: off` switches presence off
//! (`[presence] enabled = false`). `C:` lines after a `110` reply
//! are content up to the empty `C:` line, and get no reply of their own.
//!
//! The property lines of an item (`.<VEVENT>` ... `.</VEVENT>`, VTODO, VJOURNAL, VALARM, VCARD) may
//! come in any order: each server keeps properties in an order of its own (docs/backends.md).
//!
//! AGAP_REGENERATE_TRANSCRIPTS=1 rewrites the files from what the gateway answers (keeping an
//! expected line wherever it still matches); otherwise every line is compared.
//!
//! The README's first session is integration/transcripts/first-session.agap, copied into the
//! README verbatim: `readme_first_session_is_the_golden_transcript` keeps the two identical.

use std::path::{Path, PathBuf};

use crate::harness::{Client, TestGateway, password};

/// Whether `actual` matches `expected`, where `{*}` stands for any text.
fn matches(expected: &str, actual: &str) -> bool {
    let mut parts = expected.split("{*}");
    let first = parts.next().unwrap_or("");
    let Some(mut rest) = actual.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    for (index, part) in parts.iter().enumerate() {
        if index == parts.len() - 1 {
            return rest.ends_with(part);
        }
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.is_empty()
}

/// The component an expected reply line opens whose property lines may come in any order.
fn item_opening(expected: &str) -> Option<&str> {
    let name = expected.strip_prefix(".<")?.strip_suffix('>')?;
    ["VEVENT", "VTODO", "VJOURNAL", "VALARM", "VCARD"].into_iter().find(|component| *component == name)
}

/// `None` when `actual` has the opening and closing lines of `expected` in place and each of its
/// property lines in some order; else what differs.
fn unmatched_properties(expected: &[&str], actual: &[String]) -> Option<String> {
    let (Some(first), Some(last)) = (expected.first(), expected.last()) else { return None };
    if actual.first().map(String::as_str) != Some(*first) || actual.last().map(String::as_str) != Some(*last) {
        return Some(format!("expected the item {expected:?}, got {actual:?}"));
    }
    let mut unused: Vec<&String> = actual[1..actual.len() - 1].iter().collect();
    for property in &expected[1..expected.len() - 1] {
        match unused.iter().position(|line| matches(property, line)) {
            Some(at) => {
                unused.remove(at);
            }
            None => return Some(format!("expected {property:?} in the item, got {actual:?}")),
        }
    }
    None
}

#[test]
fn item_properties_match_in_any_order_and_nothing_else_does() {
    let expected = [".<VEVENT>", ".<UID>u</UID>", ".<DTSTART>{*}</DTSTART>", ".</VEVENT>"];
    let actual = |lines: &[&str]| lines.iter().map(|l| (*l).to_owned()).collect::<Vec<_>>();
    assert_eq!(
        unmatched_properties(
            &expected,
            &actual(&[".<VEVENT>", ".<DTSTART>x</DTSTART>", ".<UID>u</UID>", ".</VEVENT>"])
        ),
        None
    );
    assert!(
        unmatched_properties(&expected, &actual(&[".<VEVENT>", ".<UID>u</UID>", ".<UID>u</UID>", ".</VEVENT>"]))
            .is_some()
    );
    assert!(
        unmatched_properties(
            &expected,
            &actual(&[".<UID>u</UID>", ".<VEVENT>", ".<DTSTART>x</DTSTART>", ".</VEVENT>"])
        )
        .is_some()
    );
    assert_eq!(item_opening(".<VCARD>"), Some("VCARD"));
    assert_eq!(item_opening(".<MESSAGE>"), None);
}

fn transcript_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("integration/transcripts");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("integration/transcripts")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "agap"))
        .collect();
    files.sort();
    files
}

async fn replay(path: &Path, regenerate: bool) -> Vec<String> {
    let text = std::fs::read_to_string(path).expect("transcript");
    let account = text
        .lines()
        .find_map(|line| line.strip_prefix("# account: "))
        .unwrap_or_else(|| panic!("{}: no '# account:' line", path.display()))
        .trim()
        .to_owned();
    let with_dav = text.lines().any(|line| line.trim() == "# dav: yes");
    let with_files = text.lines().any(|line| line.trim() == "# files: yes");
    let presence_off = text.lines().any(|line| line.trim() == "# presence: off");
    let with_delivery = text.lines().any(|line| line.trim() == "# delivery: yes");
    let gateway = TestGateway::start_with(|config| {
        if with_dav {
            crate::harness::with_dav(config);
        }
        if with_files {
            crate::harness::with_files(config);
        }
        if with_delivery {
            crate::harness::with_delivery(config);
        }
        if presence_off {
            config.presence.enabled = false;
        }
    })
    .await;
    let (mut client, welcome) = Client::connect(gateway.address()).await;
    let mut pending_welcome = Some(welcome);
    let mut output = Vec::new();
    let mut failures = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    let mut index = 0;
    // Inside STOR or FIND content (after a 110): lines are sent without a reply until the empty one.
    let mut in_content = false;
    while index < lines.len() {
        let line = lines[index];
        index += 1;
        // `C:` alone is the empty line that ends a content.
        if let Some(command) = line.strip_prefix("C: ").or((line == "C:").then_some("")) {
            output.push(line.to_owned());
            client.send(&command.replace("{password}", &password(&account))).await;
            if in_content {
                in_content = !command.is_empty();
                if in_content {
                    continue;
                }
            }
            if regenerate {
                // Take the whole reply, then skip the expected S: lines it replaces.
                loop {
                    let actual = client.read_line().await.unwrap_or_default();
                    let expected = lines.get(index).and_then(|l| l.strip_prefix("S: "));
                    let keep = expected.filter(|e| matches(e, &actual)).map(str::to_owned);
                    output.push(format!("S: {}", keep.unwrap_or_else(|| actual.clone())));
                    if expected.is_some() {
                        index += 1;
                    }
                    in_content = actual.starts_with("110 ");
                    if !actual.starts_with('.') {
                        break;
                    }
                }
                while lines.get(index).is_some_and(|l| l.starts_with("S: ")) {
                    index += 1;
                }
            }
        } else if let Some(expected) = line.strip_prefix("S: ")
            && !regenerate
            && let Some(component) = item_opening(expected)
        {
            // An item's properties come in the order its server keeps them in (docs/backends.md):
            // compared as a set, one actual line for each expected one.
            let close = format!(".</{component}>");
            let end =
                index + lines[index..].iter().position(|l| l.strip_prefix("S: ") == Some(close.as_str())).unwrap_or(0);
            let expected: Vec<&str> = lines[index - 1..=end].iter().filter_map(|l| l.strip_prefix("S: ")).collect();
            let mut actual = Vec::new();
            for _ in 0..expected.len() {
                actual.push(client.read_line().await.unwrap_or_else(|| "<connection closed>".into()));
            }
            if let Some(mismatch) = unmatched_properties(&expected, &actual) {
                failures.push(format!("{}:{index}: {mismatch}", path.display()));
                break;
            }
            index = end + 1;
        } else if let Some(expected) = line.strip_prefix("S: ") {
            let actual = match pending_welcome.take() {
                Some(welcome) => welcome,
                None => client.read_line().await.unwrap_or_else(|| "<connection closed>".into()),
            };
            in_content = actual.starts_with("110 ");
            if regenerate {
                output.push(format!("S: {}", if matches(expected, &actual) { expected.to_owned() } else { actual }));
            } else if !matches(expected, &actual) {
                failures.push(format!("{}:{index}: expected {expected:?}, got {actual:?}", path.display()));
                break;
            }
        } else {
            output.push(line.to_owned());
        }
    }
    if regenerate {
        std::fs::write(path, output.join("\n") + "\n").expect("rewrite transcript");
    }
    failures
}

#[tokio::test]
async fn golden_transcripts_replay_exactly() {
    let regenerate = std::env::var_os("AGAP_REGENERATE_TRANSCRIPTS").is_some();
    let files = transcript_files();
    assert!(files.len() >= 4, "transcripts missing: {files:?}");
    let mut failures = Vec::new();
    for file in &files {
        failures.extend(replay(file, regenerate).await);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The README's "First session" block: the fenced block after the line naming the golden file.
#[test]
fn readme_first_session_is_the_golden_transcript() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    let golden_name = "integration/transcripts/first-session.agap";
    let golden = std::fs::read_to_string(root.join(golden_name)).expect("the golden transcript");
    let marker = format!("<!-- {golden_name} -->");
    let after = &readme[readme.find(&marker).expect("the README names the golden file") + marker.len()..];
    let block = after.trim_start().strip_prefix("```text\n").expect("a ```text block follows the marker");
    let block = &block[..block.find("```\n").expect("the block ends")];
    assert!(
        block == golden,
        "the README's first session differs from {golden_name}: copy the file into the README\n{}",
        block
            .lines()
            .zip(golden.lines())
            .find(|(a, b)| a != b)
            .map(|(a, b)| format!("README: {a}\ngolden: {b}"))
            .unwrap_or_default()
    );
}

#[test]
fn wildcards_match_any_text() {
    assert!(matches("200 Welcome {*}", "200 Welcome gw [127.0.0.1]"));
    assert!(matches(".{*} /INBOX", ".1700000000000 /INBOX"));
    assert!(matches("a{*}b{*}c", "a-b-c"));
    assert!(!matches("a{*}b", "a-c"));
    assert!(!matches("200 OK", "200 OK more"));
    assert!(matches("{*}", ""));
}
