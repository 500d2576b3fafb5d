//! The binary as a newcomer meets it (issue 19): `--help` says what runs without `--config`; the
//! log written to a pipe carries no colour codes; one "listening on" line per listener.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

#[test]
fn help_says_what_runs_without_a_config() {
    let output = Command::new(env!("CARGO_BIN_EXE_agap-gateway")).arg("--help").output().expect("the gateway binary");
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).expect("UTF-8");
    for expected in [
        "Optional: without it the built-in defaults apply",
        "listens for AGAP on 127.0.0.1:4110",
        "the SQLite file agap-gateway.db in the current directory (created if missing)",
        "--check-config",
    ] {
        assert!(help.contains(expected), "--help lacks {expected:?}:\n{help}");
    }
}

#[test]
fn a_piped_log_has_no_colour_and_each_listener_is_announced_once() {
    let dir = tempfile::tempdir().expect("directory");
    let config = dir.path().join("gateway.toml");
    let store = dir.path().join("store.db");
    std::fs::write(
        &config,
        format!(
            "[server]\nlisten = [\"127.0.0.1:0\", \"127.0.0.1:0\"]\n[store]\nurl = \"sqlite://{}\"\n[log]\nfilter = \"debug\"\n",
            store.display()
        ),
    )
    .expect("config");
    let mut child = Command::new(env!("CARGO_BIN_EXE_agap-gateway"))
        .arg("--config")
        .arg(&config)
        .env_remove("RUST_LOG")
        .env_remove("NO_COLOR")
        .stdout(Stdio::piped())
        .spawn()
        .expect("the gateway binary");
    let stdout = child.stdout.take().expect("stdout");
    let (lines_sender, lines) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = lines_sender.send(line);
        }
    });
    let mut output = Vec::new();
    while output.iter().filter(|line: &&String| line.contains("listening on")).count() < 2 {
        output.push(lines.recv_timeout(Duration::from_secs(30)).expect("the gateway starts"));
    }
    // SIGTERM: the gateway logs its shutdown (a log line written to the pipe) and exits.
    let terminated = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status().expect("kill");
    assert!(terminated.success());
    let status = child.wait().expect("exit");
    reader.join().expect("reader");
    output.extend(lines.try_iter());
    let text = output.join("\n");
    assert!(status.success(), "the gateway ends cleanly on SIGTERM:\n{text}");
    assert!(text.contains("shutting down"), "a log line was written:\n{text}");
    assert!(!text.contains('\u{1b}'), "no ANSI escape in a piped log:\n{text}");
    let announced: Vec<&String> = output.iter().filter(|line| line.contains("listening")).collect();
    assert_eq!(announced.len(), 2, "one line per listener:\n{text}");
    assert_ne!(announced[0], announced[1], "two different listeners:\n{text}");
}
