//! The `rkvstore-emulator` binary: prints its URL first, serves, takes keys from the environment.

#![allow(clippy::unwrap_used)] // Helpers outside #[test] functions unwrap too.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

use rkvstore_core::{
    sign, Credentials, DescribeBackupTasks, Endpoint, Operation, SignatureVersion, SigningParams,
    Timestamp,
};

struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn prints_its_url_and_serves_keys_from_the_environment() {
    let child = Command::new(env!("CARGO_BIN_EXE_rkvstore-emulator"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--instance",
            "r-bin",
            "--step-seconds",
            "0",
        ])
        .env("ALIBABA_CLOUD_ACCESS_KEY_ID", "env-id")
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "env-secret")
        .env_remove("ALIBABA_CLOUD_SECURITY_TOKEN")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut child = Killed(child);
    let mut line = String::new();
    BufReader::new(child.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line.trim();
    assert!(url.starts_with("http://127.0.0.1:"), "{url:?}");

    let req = DescribeBackupTasks::new("r-bin")
        .to_request(Endpoint::parse(url).unwrap())
        .unwrap();
    let creds = Credentials::new("env-id", "env-secret");
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let signed = sign(
        &req,
        &SigningParams {
            credentials: &creds,
            time: Timestamp::from_unix(now),
            nonce: "bin-1",
            version: SignatureVersion::V1,
        },
    )
    .unwrap();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut resp = agent.post(signed.url()).send_empty().unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let body = resp.body_mut().read_to_string().unwrap();
    // Each instance starts with one finished automated backup.
    assert!(body.contains("\"JobMode\":\"Automated\""), "{body}");
}

#[test]
fn a_bad_flag_is_a_usage_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_rkvstore-emulator"))
        .args([
            "--access-key-id",
            "a",
            "--access-key-secret",
            "b",
            "--step-seconds=-1",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--step-seconds must be 0 or more"), "{err}");
}

/// Signs `op` for the key `env-id`/`env-secret` and returns the answer's body.
fn call(agent: &ureq::Agent, url: &str, op: &impl Operation, nonce: &str) -> String {
    let req = op.to_request(Endpoint::parse(url).unwrap()).unwrap();
    let creds = Credentials::new("env-id", "env-secret");
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let signed = sign(
        &req,
        &SigningParams {
            credentials: &creds,
            time: Timestamp::from_unix(now),
            nonce,
            version: SignatureVersion::V1,
        },
    )
    .unwrap();
    let mut resp = agent.post(signed.url()).send_empty().unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    resp.body_mut().read_to_string().unwrap()
}

#[test]
fn seeds_backups_and_honours_the_download_flags() {
    let child = Command::new(env!("CARGO_BIN_EXE_rkvstore-emulator"))
        .args([
            "--instance",
            "r-bin",
            "--backups",
            "40",
            "--download-url-lifetime",
            "120",
            "--cut-downloads-after",
            "1000:1",
        ])
        .env("ALIBABA_CLOUD_ACCESS_KEY_ID", "env-id")
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "env-secret")
        .env_remove("ALIBABA_CLOUD_SECURITY_TOKEN")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut child = Killed(child);
    let mut line = String::new();
    BufReader::new(child.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line.trim();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let op = rkvstore_core::DescribeBackups::new("r-bin", "2000-01-01T00:00Z", "2099-01-01T00:00Z")
        .page_size(300);
    let body = call(&agent, url, &op, "bin-2");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let sets = v["Backups"]["Backup"].as_array().unwrap();
    assert!(sets.len() >= 40, "{}", sets.len());
    let link = sets[0]["BackupDownloadURL"].as_str().unwrap();
    let expires: i64 = link
        .split("Expires=")
        .nth(1)
        .and_then(|e| e.split('&').next())
        .unwrap()
        .parse()
        .unwrap();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!((110..=125).contains(&(expires - now)), "{}", expires - now);
    // The first download is cut after 1000 bytes of its body; the next one is whole.
    let size = sets[0]["BackupSize"].as_u64().unwrap() as usize;
    let first = agent.get(link).call().map(|mut r| {
        let mut buf = Vec::new();
        let _ = std::io::Read::read_to_end(&mut r.body_mut().as_reader(), &mut buf);
        buf.len()
    });
    assert_eq!(first.unwrap_or(0), 1000);
    let mut second = agent.get(link).call().unwrap();
    let whole = second
        .body_mut()
        .with_config()
        .limit(u64::MAX)
        .read_to_vec()
        .unwrap();
    assert_eq!(whole.len(), size);
}
