//! integration/demo.sh (issue 19): a SIGTERM to the script's own pid stops everything it started
//! (the gateway, Dovecot, Radicale), and a taken port is reported before anything is built.
//!
//! The script runs with ports and a state folder of its own, AGAP_DEMO_SKIP_SETUP=1 (the test
//! backends are installed already) and AGAP_DEMO_BINARY set to the debug binary Cargo built for
//! these tests: the demo's release build takes minutes on a fresh machine, and building is not
//! what this test is about.

use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("address").port()
}

fn demo(state: &Path, ports: [u16; 4]) -> Command {
    let mut command = Command::new("bash");
    command
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("integration/demo.sh"))
        .env("AGAP_DEMO_DIR", state)
        .env("AGAP_DEMO_PORT", ports[0].to_string())
        .env("AGAP_DEMO_IMAP_PORT", ports[1].to_string())
        .env("AGAP_DEMO_DAV_PORT", ports[2].to_string())
        .env("AGAP_DEMO_LMTP_PORT", ports[3].to_string())
        .env("AGAP_DEMO_SKIP_SETUP", "1")
        .env("AGAP_DEMO_BINARY", env!("CARGO_BIN_EXE_agap-gateway"))
        .env_remove("RUST_LOG")
        // Its own process group, so that the test can look for anything left in it.
        .process_group(0);
    command
}

fn alive(pid: u32) -> bool {
    // A zombie has exited; only its parent has not reaped it yet.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|stat| stat.rsplit_once(") ").is_some_and(|(_, rest)| !rest.starts_with('Z')))
}

/// The pids whose process group is `group`.
fn group_members(group: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
                let Some((_, rest)) = stat.rsplit_once(") ") else { return false };
                let fields: Vec<&str> = rest.split(' ').collect();
                fields.first() != Some(&"Z") && fields.get(2) == Some(&group.to_string().as_str())
            })
        })
        .collect()
}

fn wait_exit(child: &mut Child, within: Duration) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().expect("wait") {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    None
}

fn pid_in(file: &Path) -> Option<u32> {
    std::fs::read_to_string(file).ok()?.trim().parse().ok()
}

#[test]
fn sigterm_to_the_demo_script_stops_everything_it_started() {
    let dir = tempfile::tempdir().expect("directory");
    let state = dir.path().join("demo");
    let ports = [free_port(), free_port(), free_port(), free_port()];
    let mut script = demo(&state, ports).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("bash");
    let stdout = script.stdout.take().expect("stdout");
    let (lines_sender, lines) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = lines_sender.send(line);
        }
    });
    let mut seen = Vec::new();
    while !seen.iter().any(|line: &String| line.starts_with("agap-gateway listening on")) {
        match lines.recv_timeout(Duration::from_secs(90)) {
            Ok(line) => seen.push(line),
            Err(_) => {
                let _ = Command::new("kill").arg("-TERM").arg(script.id().to_string()).status();
                let output = script.wait_with_output().expect("output");
                panic!("the demo did not start:\n{}\n{}", seen.join("\n"), String::from_utf8_lossy(&output.stderr));
            }
        }
    }
    for port in ports {
        assert!(TcpStream::connect(("127.0.0.1", port)).is_ok(), "127.0.0.1:{port} answers while the demo runs");
    }
    let mut started = group_members(script.id());
    started.extend(pid_in(&state.join("dovecot/run/master.pid")));
    started.extend(pid_in(&state.join("radicale/radicale.pid")));
    assert!(started.len() >= 4, "script, gateway and both backends: {started:?}");

    assert!(Command::new("kill").arg("-TERM").arg(script.id().to_string()).status().expect("kill").success());
    let status = wait_exit(&mut script, Duration::from_secs(60)).expect("the script ends after SIGTERM");
    assert_eq!(status.code(), Some(143), "exit status of a SIGTERM-ed script");
    // The backends' stop commands wait for their servers; give stragglers a moment all the same.
    let deadline = Instant::now() + Duration::from_secs(10);
    let left = loop {
        let left: Vec<u32> = started.iter().copied().filter(|pid| alive(*pid)).collect();
        if left.is_empty() || Instant::now() > deadline {
            break left;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(left.is_empty(), "processes of the demo still running after SIGTERM: {left:?}");
    assert!(group_members(script.id()).is_empty(), "nothing left in the script's process group");
    for port in ports {
        assert!(TcpStream::connect(("127.0.0.1", port)).is_err(), "127.0.0.1:{port} closed after the demo");
    }
}

#[test]
fn a_taken_port_is_reported_before_anything_starts() {
    let dir = tempfile::tempdir().expect("directory");
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind");
    let ports = [free_port(), taken.local_addr().expect("address").port(), free_port(), free_port()];
    let output = demo(&dir.path().join("demo"), ports).output().expect("bash");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(&format!("127.0.0.1:{} (IMAP) is already in use", ports[1])), "{stderr}");
    assert!(stderr.contains("AGAP_DEMO_IMAP_PORT"), "says how to choose another: {stderr}");
    assert!(!dir.path().join("demo").exists(), "nothing was started or created");
}
