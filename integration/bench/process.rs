//! The gateway binary as a process of its own, so that its resident memory can be read.

use crate::harness;

/// The gateway binary as a process of its own.
pub struct GatewayProcess {
    child: std::process::Child,
    /// Where it listens.
    pub address: std::net::SocketAddr,
    _dir: tempfile::TempDir,
}

impl GatewayProcess {
    /// Starts the gateway against the test Dovecot; `extra` is appended to its configuration
    /// (TOML sections of their own). AGAP_BENCH_GATEWAY names another build of the binary to
    /// measure (an earlier commit's, say).
    pub fn start(extra: &str) -> GatewayProcess {
        Self::start_with_environment(extra, &[])
    }

    /// As `start`, with these environment variables too (`AGAP_SECTION__KEY` overrides keys of
    /// sections the configuration file already has).
    pub fn start_with_environment(extra: &str, environment: &[(&str, &str)]) -> GatewayProcess {
        use std::io::BufRead;
        let dir = tempfile::tempdir().expect("dir");
        let port = std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port();
        let config = dir.path().join("gateway.toml");
        std::fs::write(
            &config,
            format!(
                "[server]\nlisten = [\"127.0.0.1:{port}\"]\n[store]\nurl = \"sqlite://{}\"\n\
                 [imap]\nport = {}\nsecurity = \"plain\"\ncommand_timeout_secs = 120\n[log]\nfilter = \"warn\"\n{extra}\n",
                dir.path().join("store.db").display(),
                harness::mail_server().port
            ),
        )
        .expect("config");
        let binary = std::env::var("AGAP_BENCH_GATEWAY")
            .ok()
            .filter(|b| !b.is_empty())
            .unwrap_or_else(|| env!("CARGO_BIN_EXE_agap-gateway").into());
        let mut child = std::process::Command::new(binary)
            .arg("--config")
            .arg(&config)
            .envs(environment.iter().copied())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("the gateway binary");
        let stdout = child.stdout.take().expect("stdout");
        let ready = std::io::BufReader::new(stdout).lines().map_while(Result::ok).any(|l| l.contains("listening on"));
        assert!(ready, "the gateway did not start");
        GatewayProcess { child, address: std::net::SocketAddr::from(([127, 0, 0, 1], port)), _dir: dir }
    }

    /// Peak resident memory so far (VmHWM of /proc), in MiB.
    pub fn peak_rss_mib(&self) -> f64 {
        self.status_mib("VmHWM:")
    }

    /// Resident memory now (VmRSS of /proc), in MiB.
    pub fn rss_mib(&self) -> f64 {
        self.status_mib("VmRSS:")
    }

    /// CPU time the process has used so far (user and system), in seconds.
    pub fn cpu_seconds(&self) -> f64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).expect("stat");
        // Fields after the command name (which is in parentheses): utime and stime are the
        // 12th and 13th of them, in clock ticks (100 per second on Linux).
        let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
        let fields: Vec<&str> = after_name.split_whitespace().collect();
        let ticks = |index: usize| fields.get(index).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
        (ticks(11) + ticks(12)) / 100.0
    }

    fn status_mib(&self, field: &str) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).expect("status");
        let kib: f64 = status
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0.0);
        kib / 1024.0
    }
}

impl Drop for GatewayProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
