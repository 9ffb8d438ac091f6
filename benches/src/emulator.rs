//! The `rkvstore-emulator` binary in a child process, for the benchmarks that measure a client
//! or a server on its own: the audit's peak memory is then the audit's alone, and the emulator
//! under load keeps its own allocator, threads and memory, as it does when a user runs it.

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// How long the emulator may take to print its URL.
const URL_WAIT: Duration = Duration::from_secs(30);

/// A running `rkvstore-emulator`, killed when dropped.
pub struct EmulatorProcess {
    child: Child,
    url: String,
}

impl EmulatorProcess {
    /// Starts the binary with this AccessKey and `args`, and waits for the URL it prints first.
    ///
    /// The binary is `$BENCH_EMULATOR` if set, else `rkvstore-emulator` in the directory above
    /// the running example's (`target/release/examples/..`), where
    /// `cargo build --release -p rkvstore-emulator` puts it.
    pub fn start(key_id: &str, secret: &str, args: &[&str]) -> Result<Self, String> {
        let binary = match std::env::var_os("BENCH_EMULATOR") {
            Some(path) => PathBuf::from(path),
            None => std::env::current_exe()
                .ok()
                .and_then(|exe| Some(exe.parent()?.parent()?.join("rkvstore-emulator")))
                .ok_or("cannot tell where the examples are; set BENCH_EMULATOR")?,
        };
        let mut child = Command::new(&binary)
            .env("ALIBABA_CLOUD_ACCESS_KEY_ID", key_id)
            .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", secret)
            // A token in the environment would make it demand one, which the clients lack.
            .env_remove("ALIBABA_CLOUD_SECURITY_TOKEN")
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| {
                format!(
                    "cannot start {}: {e} (build it with `cargo build --release -p \
                     rkvstore-emulator`, or set BENCH_EMULATOR)",
                    binary.display()
                )
            })?;
        // Both pipes are read on threads, so that a silent or stuck child cannot hang the
        // benchmark: the URL is awaited for a bounded time. Standard error, where the emulator
        // lists its other services and reports a failed start, is drained to the end (a full
        // pipe would block the child), and its beginning kept for the error message.
        let (sent, url) = mpsc::channel();
        let stdout = child.stdout.take();
        std::thread::spawn(move || {
            let mut line = String::new();
            if let Some(out) = stdout {
                let _ = BufReader::new(out).read_line(&mut line);
            }
            let _ = sent.send(line);
        });
        let stderr = child.stderr.take();
        let (told, said) = mpsc::channel();
        std::thread::spawn(move || {
            let mut kept = Vec::new();
            let mut buf = [0u8; 4096];
            if let Some(mut stderr) = stderr {
                while let Ok(n @ 1..) = stderr.read(&mut buf) {
                    let room = buf.len().saturating_sub(kept.len());
                    kept.extend_from_slice(&buf[..n.min(room)]);
                }
            }
            let _ = told.send(String::from_utf8_lossy(&kept).into_owned());
        });
        let (url, waited_out) = match url.recv_timeout(URL_WAIT) {
            Ok(line) => (line, false),
            Err(_) => (String::new(), true),
        };
        // Built before the check so that a failed start still kills the child.
        let process = Self {
            child,
            url: url.trim().to_owned(),
        };
        if process.url.starts_with("http://") {
            return Ok(process);
        }
        drop(process);
        // Killed, the child closes its end at once; a grandchild it left could hold it open.
        let said = said
            .recv_timeout(Duration::from_secs(2))
            .unwrap_or_default();
        Err(format!(
            "{} printed no URL{}{}",
            binary.display(),
            if waited_out {
                format!(" within {} s", URL_WAIT.as_secs())
            } else {
                String::new()
            },
            if said.trim().is_empty() {
                String::new()
            } else {
                format!("; it said: {}", said.trim())
            }
        ))
    }

    /// The URL it serves.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Its resident memory (`VmRSS`) in KiB, or 0 if it cannot be read.
    pub fn rss_kib(&self) -> u64 {
        memory_kib(&format!("/proc/{}/status", self.child.id()), "VmRSS").unwrap_or(0)
    }

    /// The CPU time its threads have used so far, user and system, in seconds.
    pub fn cpu_seconds(&self) -> f64 {
        cpu_seconds(&format!("/proc/{}/stat", self.child.id()))
    }
}

/// A memory figure of `/proc/PID/status` (`status`), such as `VmRSS` or `VmHWM`, in KiB.
pub fn memory_kib(status: &str, field: &str) -> Option<u64> {
    let text = std::fs::read_to_string(status).ok()?;
    let line = text.lines().find(|l| {
        l.strip_prefix(field)
            .is_some_and(|rest| rest.starts_with(':'))
    })?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The CPU time, user and system, that all threads of the process whose `/proc/PID/stat` is
/// `stat` have used, in seconds; 0 if it cannot be read.
pub fn cpu_seconds(stat: &str) -> f64 {
    // The command name in parentheses may hold blanks, so fields are counted after its `)`:
    // utime and stime are fields 14 and 15, in clock ticks of USER_HZ, which is 100 a second
    // on x86-64 and arm64 (reading the rate needs `sysconf`, which std does not expose).
    let ticks = std::fs::read_to_string(stat).ok().and_then(|s| {
        let rest = &s[s.rfind(')')? + 1..];
        let mut fields = rest.split_whitespace().skip(11);
        let user: u64 = fields.next()?.parse().ok()?;
        let system: u64 = fields.next()?.parse().ok()?;
        Some(user + system)
    });
    ticks.unwrap_or(0) as f64 / 100.0
}

impl Drop for EmulatorProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
