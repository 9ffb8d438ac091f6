//! Every credential mode through the `rkvstore` binary, against the emulator's STS, metadata
//! service and credentials URI on loopback. HOME is a temporary directory; nothing reaches the
//! network, and the instance-role probe is always pointed at the emulator or switched off.

#![allow(clippy::unwrap_used)] // Helpers outside #[test] functions unwrap too.

use std::path::Path;
use std::time::Duration;

use assert_cmd::Command;
use rkvstore_emulator::{Emulator, JobSeed, Pace};
use support::run::Run;

mod support {
    pub mod run;
}

const ID: &str = "LTAIcredtest";
const SECRET: &str = "cred-secret-DO-NOT-PRINT";
const ROLE: &str = "acs:ram::1234567890123456:role/backup-operator";
const OTHER_ROLE: &str = "acs:ram::1234567890123456:role/restricted";
const OIDC_PROVIDER: &str = "acs:ram::1234567890123456:oidc-provider/ack-rrsa-c1";
const CANNED_TOKEN: &str = "canned-token-DO-NOT-PRINT";
const OIDC_TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.first-token.DO-NOT-PRINT";

struct Setup {
    emu: Emulator,
    home: tempfile::TempDir,
}

fn emulator(lifetime: Option<u64>, imds_v1: bool) -> Emulator {
    let mut b = Emulator::builder()
        .access_key(ID, SECRET)
        .sts("STS.canned", SECRET, CANNED_TOKEN)
        .role(ROLE)
        .role_trusting(OTHER_ROLE, ["LTAIsomebodyelse"])
        .oidc_token(OIDC_PROVIDER, ROLE, OIDC_TOKEN)
        .ecs_role("ecs-backup-role")
        .imds_v1(imds_v1)
        .instance("r-cred")
        .seed_job("r-cred", JobSeed::finished_automated())
        .pace(Pace::PerPoll(1));
    if let Some(secs) = lifetime {
        b = b.credentials_lifetime(Duration::from_secs(secs));
    }
    b.start("127.0.0.1:0").unwrap()
}

/// A manual job at its first step, moving one step per poll.
fn running() -> JobSeed {
    JobSeed {
        mode: rkvstore_blocking::core::JobMode::Manual,
        step: 0,
        frozen: false,
    }
}

fn setup() -> Setup {
    Setup {
        emu: emulator(None, true),
        home: tempfile::tempdir().unwrap(),
    }
}

impl Setup {
    fn with(emu: Emulator) -> Setup {
        Setup {
            emu,
            home: tempfile::tempdir().unwrap(),
        }
    }

    /// Writes `~/.aliyun/config.json` with these profiles, the first one current.
    fn profiles(&self, profiles: &str) -> &Self {
        let dir = self.home.path().join(".aliyun");
        std::fs::create_dir_all(&dir).unwrap();
        let text = format!(r#"{{"current": "main", "profiles": [{profiles}]}}"#);
        std::fs::write(dir.join("config.json"), text).unwrap();
        self
    }

    fn path(&self, name: &str) -> String {
        self.home.path().join(name).display().to_string()
    }

    /// `rkvstore -v --endpoint EMULATOR --region cn-hangzhou` with an empty environment of
    /// credentials, STS pointed at the emulator and the instance role off.
    fn cmd(&self) -> Command {
        let mut c = Command::cargo_bin("rkvstore").unwrap();
        for (k, _) in std::env::vars() {
            if k.starts_with("ALIBABA") || k.starts_with("ALICLOUD") {
                c.env_remove(k);
            }
        }
        c.env("HOME", self.home.path())
            .env("ALIBABA_CLOUD_STS_ENDPOINT", self.emu.sts_endpoint())
            .env("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
            .args([
                "-v",
                "--endpoint",
                &self.emu.url(),
                "--region",
                "cn-hangzhou",
            ])
            .timeout(Duration::from_secs(90));
        c
    }
}

#[track_caller]
fn run(c: &mut Command) -> Run {
    let secrets = [
        SECRET,
        OIDC_TOKEN,
        CANNED_TOKEN,
        "emulator-sts-secret",
        "CAISemulator",
        "rotated-token",
    ];
    support::run::run(c, &secrets)
}

fn tasks(s: &Setup) -> Run {
    run(s.cmd().args(["backup-tasks", "--instance-id", "r-cred"]))
}

fn ok(r: &Run) {
    assert_eq!(r.code, 0, "stdout:\n{}\nstderr:\n{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("\"BackupJobs\""), "{}", r.stdout);
}

fn fails_with(r: &Run, needles: &[&str]) {
    assert_eq!(r.code, 3, "stdout:\n{}\nstderr:\n{}", r.stdout, r.stderr);
    for n in needles {
        assert!(r.stderr.contains(n), "{n:?} not in:\n{}", r.stderr);
    }
}

fn ak_profile(name: &str) -> String {
    format!(
        r#"{{"name":"{name}","mode":"AK","access_key_id":"{ID}","access_key_secret":"{SECRET}"}}"#
    )
}

#[test]
fn ak_and_sts_token_profiles() {
    let s = setup();
    s.profiles(&ak_profile("main"));
    let r = tasks(&s);
    ok(&r);
    assert!(r.stderr.contains("via AK (profile main of"), "{}", r.stderr);
}

#[test]
fn ram_role_arn_assumes_the_role_and_says_until_when() {
    let s = setup();
    s.profiles(&format!(
        r#"{{"name":"main","mode":"ramrolearn","access_key_id":"{ID}","access_key_secret":"{SECRET}",
            "ram_role_arn":"{ROLE}","ram_session_name":"nightly"}}"#
    ));
    let r = tasks(&s);
    ok(&r);
    assert!(
        r.stderr
            .contains("RamRoleArn acs:ram::1234567890123456:role/backup-operator"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("supplied STS.NTemulator"), "{}", r.stderr);
    assert!(r.stderr.contains(", expiring 20"), "{}", r.stderr);
    let actions: Vec<String> = s
        .emu
        .requests()
        .into_iter()
        .filter_map(|r| r.action)
        .collect();
    assert_eq!(actions, ["AssumeRole", "DescribeBackupTasks"]);
}

#[test]
fn chainable_ram_role_arn_follows_source_profiles_and_refuses_cycles() {
    let s = setup();
    s.profiles(&format!(
        r#"{{"name":"main","mode":"ChainableRamRoleArn","source_profile":"middle","ram_role_arn":"{ROLE}"}},
           {{"name":"middle","mode":"ChainableRamRoleArn","source_profile":"base","ram_role_arn":"{ROLE}"}},
           {},
           {{"name":"loop-a","mode":"ChainableRamRoleArn","source_profile":"loop-b","ram_role_arn":"{ROLE}"}},
           {{"name":"loop-b","mode":"ChainableRamRoleArn","source_profile":"loop-a","ram_role_arn":"{ROLE}"}}"#,
        ak_profile("base")
    ));
    ok(&tasks(&s));
    let assumed = s
        .emu
        .requests()
        .iter()
        .filter(|r| r.action.as_deref() == Some("AssumeRole"))
        .count();
    assert_eq!(assumed, 2, "one AssumeRole per link of the chain");

    let r = run(s.cmd().args([
        "--profile",
        "loop-a",
        "backup-tasks",
        "--instance-id",
        "r-cred",
    ]));
    fails_with(
        &r,
        &[
            "profile loop-b of",
            "ChainableRamRoleArn",
            "loop-a -> loop-b -> loop-a",
        ],
    );
}

#[test]
fn sts_errors_are_one_clear_error_with_exit_3() {
    let s = setup();
    s.profiles(&format!(
        r#"{{"name":"main","mode":"RamRoleArn","access_key_id":"{ID}","access_key_secret":"{SECRET}","ram_role_arn":"acs:ram::1234567890123456:role/nobody"}},
           {{"name":"denied","mode":"RamRoleArn","access_key_id":"{ID}","access_key_secret":"{SECRET}","ram_role_arn":"{OTHER_ROLE}"}},
           {{"name":"typo","mode":"RamRoleArn","access_key_id":"{ID}","access_key_secret":"{SECRET}","ram_role_arn":"arn:acs:role/x"}}"#
    ));
    fails_with(
        &tasks(&s),
        &[
            "EntityNotExist.Role",
            "profile main of",
            "RamRoleArn",
            "check the role name",
        ],
    );
    let r = run(s.cmd().args([
        "--profile",
        "denied",
        "backup-tasks",
        "--instance-id",
        "r-cred",
    ]));
    fails_with(&r, &["NoPermission", "profile denied of", "trust policy"]);
    let r = run(s.cmd().args([
        "--profile",
        "typo",
        "backup-tasks",
        "--instance-id",
        "r-cred",
    ]));
    fails_with(
        &r,
        &[
            "invalid RoleArn \"arn:acs:role/x\"",
            "profile typo of",
            "aliyun configure --profile typo",
        ],
    );
    // The malformed ARN never reached STS.
    assert!(!s
        .emu
        .requests()
        .iter()
        .any(|r| r.code.as_deref() == Some("InvalidParameter.RoleArn")));
}

#[test]
fn a_wait_outlives_two_refreshes_of_short_lived_role_credentials() {
    let s = Setup::with(emulator(Some(3), true));
    s.profiles(&format!(
        r#"{{"name":"main","mode":"RamRoleArn","access_key_id":"{ID}","access_key_secret":"{SECRET}","ram_role_arn":"{ROLE}"}}"#
    ));
    // Eight polls a second apart: credentials living three seconds are refreshed on the way.
    let job = s.emu.seed_job("r-cred", running()).unwrap();
    let r = run(s.cmd().args([
        "backup-tasks",
        "--instance-id",
        "r-cred",
        "--job-id",
        &job.to_string(),
        "--wait",
        "--interval",
        "1",
    ]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let assumed = s
        .emu
        .requests()
        .iter()
        .filter(|r| r.action.as_deref() == Some("AssumeRole"))
        .count();
    assert!(
        assumed >= 3,
        "expected two refreshes, saw {assumed} AssumeRole calls:\n{}",
        r.stderr
    );
    assert!(
        !s.emu
            .requests()
            .iter()
            .any(|r| r.code.as_deref() == Some("InvalidSecurityToken.Expired")),
        "an expired token was sent"
    );
}

#[test]
fn oidc_from_the_environment_rereads_the_rotating_token_file() {
    let s = Setup::with(emulator(Some(3), true));
    let file = s.home.path().join("token");
    std::fs::write(&file, OIDC_TOKEN).unwrap();
    let job = s.emu.seed_job("r-cred", running()).unwrap();
    // The token rotates shortly after the run starts; the refreshes must use the new one.
    let rotate = {
        let file = file.clone();
        let url = s.emu.url();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(500));
            std::fs::write(&file, "eyJ.rotated-token.DO-NOT-PRINT").unwrap();
            url
        })
    };
    let mut c = s.cmd();
    c.env("ALIBABA_CLOUD_ROLE_ARN", ROLE)
        .env("ALIBABA_CLOUD_OIDC_PROVIDER_ARN", OIDC_PROVIDER)
        .env("ALIBABA_CLOUD_OIDC_TOKEN_FILE", &file)
        .args([
            "backup-tasks",
            "--instance-id",
            "r-cred",
            "--job-id",
            &job.to_string(),
            "--wait",
            "--interval",
            "1",
        ]);
    let emu = &s.emu;
    let handle = std::thread::scope(|scope| {
        let t = scope.spawn(|| {
            std::thread::sleep(Duration::from_millis(400));
            emu.rotate_oidc_token(OIDC_PROVIDER, ROLE, "eyJ.rotated-token.DO-NOT-PRINT");
        });
        let r = run(&mut c);
        t.join().unwrap();
        r
    });
    rotate.join().unwrap();
    assert_eq!(handle.code, 0, "{}", handle.stderr);
    assert!(
        handle.stderr.contains("via OIDC acs:ram::"),
        "{}",
        handle.stderr
    );
    let oidc = s
        .emu
        .requests()
        .iter()
        .filter(|r| r.action.as_deref() == Some("AssumeRoleWithOIDC") && r.status == 200)
        .count();
    assert!(
        oidc >= 2,
        "expected refreshes with the rotated token, saw {oidc}"
    );
}

#[test]
fn oidc_bad_inputs() {
    let s = setup();
    let missing = s.path("no-such-token");
    let mut c = s.cmd();
    c.env("ALIBABA_CLOUD_ROLE_ARN", ROLE)
        .env("ALIBABA_CLOUD_OIDC_PROVIDER_ARN", OIDC_PROVIDER)
        .env("ALIBABA_CLOUD_OIDC_TOKEN_FILE", &missing)
        .args(["backup-tasks", "--instance-id", "r-cred"]);
    fails_with(
        &run(&mut c),
        &[
            "mode OIDC",
            "does not exist",
            "ALIBABA_CLOUD_OIDC_TOKEN_FILE",
        ],
    );

    let wrong = s.home.path().join("wrong");
    std::fs::write(&wrong, "eyJ.some-other-token").unwrap();
    s.profiles(&format!(
        r#"{{"name":"main","mode":"OIDC","ram_role_arn":"{ROLE}","oidc_provider_arn":"{OIDC_PROVIDER}","oidc_token_file":"{}"}}"#,
        wrong.display()
    ));
    fails_with(
        &tasks(&s),
        &[
            "AuthenticationFail.OIDCToken.Invalid",
            "profile main of",
            "token",
        ],
    );
}

fn ecs_cmd(s: &Setup) -> Command {
    let mut c = s.cmd();
    c.env_remove("ALIBABA_CLOUD_ECS_METADATA_DISABLED").env(
        "ALIBABA_CLOUD_ECS_METADATA_ENDPOINT",
        s.emu.metadata_endpoint(),
    );
    c
}

#[test]
fn ecs_ram_role_with_imdsv2_discovers_the_role() {
    let s = Setup::with(emulator(None, false));
    let r = run(ecs_cmd(&s).args(["backup-tasks", "--instance-id", "r-cred"]));
    ok(&r);
    assert!(
        r.stderr
            .contains("EcsRamRole (the ECS instance (ALIBABA_CLOUD_ECS_METADATA_ENDPOINT is set))"),
        "{}",
        r.stderr
    );
    let paths: Vec<(String, String)> = s
        .emu
        .requests()
        .into_iter()
        .map(|r| (r.method, r.action.unwrap_or_default()))
        .collect();
    assert_eq!(paths[0], ("PUT".into(), "/latest/api/token".into()));
    assert_eq!(paths[1].1, "/latest/meta-data/ram/security-credentials/");
    assert_eq!(
        paths[2].1,
        "/latest/meta-data/ram/security-credentials/ecs-backup-role"
    );
}

#[test]
fn ecs_ram_role_profile_falls_back_to_imdsv1_unless_disabled() {
    // A metadata service that refuses sessions: v1 is used, unless it is turned off.
    let hostile = Hostile::refusing_sessions();
    let s = setup();
    s.profiles(r#"{"name":"main","mode":"EcsRamRole","ram_role_name":"ecs-backup-role"}"#);
    let mut c = s.cmd();
    c.env("ALIBABA_CLOUD_ECS_METADATA_ENDPOINT", hostile.url(&s.emu))
        .args(["backup-tasks", "--instance-id", "r-cred"]);
    ok(&run(&mut c));
    let mut c = s.cmd();
    c.env("ALIBABA_CLOUD_ECS_METADATA_ENDPOINT", hostile.url(&s.emu))
        .env("ALIBABA_CLOUD_IMDSV1_DISABLED", "true")
        .args(["backup-tasks", "--instance-id", "r-cred"]);
    fails_with(
        &run(&mut c),
        &[
            "mode EcsRamRole",
            "profile main of",
            "ALIBABA_CLOUD_IMDSV1_DISABLED=true",
        ],
    );
}

#[test]
fn ecs_metadata_that_answers_404_or_html_or_nothing_is_a_clear_error() {
    let s = setup();
    s.profiles(r#"{"name":"main","mode":"EcsRamRole","ram_role_name":"no-such-role"}"#);
    let mut c = s.cmd();
    c.env(
        "ALIBABA_CLOUD_ECS_METADATA_ENDPOINT",
        s.emu.metadata_endpoint(),
    )
    .args(["backup-tasks", "--instance-id", "r-cred"]);
    fails_with(
        &run(&mut c),
        &["HTTP 404", "no role \"no-such-role\" is attached"],
    );

    let html = Hostile::html();
    let mut c = s.cmd();
    c.env("ALIBABA_CLOUD_ECS_METADATA_ENDPOINT", html.url(&s.emu))
        .args(["backup-tasks", "--instance-id", "r-cred"]);
    fails_with(&run(&mut c), &["HTML page", "mode EcsRamRole"]);

    // Nothing listening: fails fast, never hangs.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let started = std::time::Instant::now();
    let mut c = s.cmd();
    c.env("ALIBABA_CLOUD_ECS_METADATA_ENDPOINT", &url).args([
        "backup-tasks",
        "--instance-id",
        "r-cred",
    ]);
    fails_with(&run(&mut c), &["mode EcsRamRole", "connection refused"]);
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn off_ecs_the_default_chain_never_probes_the_metadata_service() {
    let s = setup();
    let mut c = s.cmd();
    c.env_remove("ALIBABA_CLOUD_ECS_METADATA_DISABLED").args([
        "backup-tasks",
        "--instance-id",
        "r-cred",
    ]);
    let started = std::time::Instant::now();
    let r = run(&mut c);
    // Either this machine is not an instance (the usual case: a clear "not found"), or its
    // DMI data says it is; in neither case does the run wait on the network.
    if !Path::new("/sys/class/dmi/id/sys_vendor").exists()
        || !std::fs::read_to_string("/sys/class/dmi/id/sys_vendor")
            .unwrap_or_default()
            .contains("Alibaba Cloud")
    {
        fails_with(
            &r,
            &[
                "no Alibaba Cloud credentials found",
                "metadata service is not probed",
            ],
        );
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}

#[test]
fn credentials_uri_from_the_environment_and_the_profile() {
    let s = setup();
    let mut c = s.cmd();
    c.env("ALIBABA_CLOUD_CREDENTIALS_URI", s.emu.credentials_uri())
        .args(["backup-tasks", "--instance-id", "r-cred"]);
    let r = run(&mut c);
    ok(&r);
    assert!(r.stderr.contains("via CredentialsURI"), "{}", r.stderr);

    s.profiles(&format!(
        r#"{{"name":"main","mode":"CredentialsURI","credentials_uri":"{}"}}"#,
        s.emu.credentials_uri()
    ));
    ok(&tasks(&s));

    let garbage = Hostile::garbage();
    s.profiles(&format!(
        r#"{{"name":"main","mode":"CredentialsURI","credentials_uri":"{}/creds"}}"#,
        garbage.url(&s.emu)
    ));
    fails_with(
        &tasks(&s),
        &["mode CredentialsURI", "not JSON", "profile main of"],
    );
}

#[cfg(unix)]
fn script(dir: &Path, name: &str, body: &str) -> String {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path.display().to_string()
}

#[cfg(unix)]
#[test]
fn external_process_command() {
    let s = setup();
    let good = script(
        s.home.path(),
        "creds",
        &format!(r#"echo '{{"mode":"AK","access_key_id":"{ID}","access_key_secret":"{SECRET}"}}'"#),
    );
    let failing = script(s.home.path(), "fails", "echo 'vault is sealed' >&2; exit 7");
    let junk = script(s.home.path(), "junk", "echo 'hello, not json'");
    s.profiles(&format!(
        r#"{{"name":"main","mode":"External","process_command":"{good} --role ops"}},
           {{"name":"failing","mode":"external","process_command":"{failing}"}},
           {{"name":"junk","mode":"External","process_command":"{junk}"}}"#
    ));
    let r = tasks(&s);
    ok(&r);
    assert!(r.stderr.contains("via External"), "{}", r.stderr);
    let r = run(s.cmd().args([
        "--profile",
        "failing",
        "backup-tasks",
        "--instance-id",
        "r-cred",
    ]));
    fails_with(
        &r,
        &[
            "exited with status 7",
            "vault is sealed",
            "profile failing of",
        ],
    );
    let r = run(s.cmd().args([
        "--profile",
        "junk",
        "backup-tasks",
        "--instance-id",
        "r-cred",
    ]));
    fails_with(&r, &["not JSON", "hello, not json", "process_command"]);
}

#[test]
fn browser_and_deprecated_modes_say_what_to_do_instead() {
    let s = setup();
    s.profiles(
        r#"{"name":"main","mode":"CloudSSO","cloud_sso_sign_in_url":"https://signin"},
           {"name":"oauth","mode":"OAuth"},
           {"name":"rsa","mode":"RsaKeyPair","private_key":"x","key_pair_name":"y"}"#,
    );
    fails_with(
        &tasks(&s),
        &["mode CloudSSO", "browser sign-in", "External"],
    );
    let r = run(s.cmd().args([
        "--profile",
        "oauth",
        "backup-tasks",
        "--instance-id",
        "r-cred",
    ]));
    fails_with(&r, &["mode OAuth", "browser sign-in"]);
    let r = run(s.cmd().args([
        "--profile",
        "rsa",
        "backup-tasks",
        "--instance-id",
        "r-cred",
    ]));
    fails_with(&r, &["mode RsaKeyPair", "deprecated"]);
}

#[test]
fn ini_file_types_map_onto_the_same_providers() {
    let s = setup();
    let dir = s.home.path().join(".alibabacloud");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("credentials"),
        format!(
            "[default]\ntype = ram_role_arn\naccess_key_id = {ID}\naccess_key_secret = {SECRET}\n\
             role_arn = {ROLE}\n\n[uri]\ntype = credentials_uri\ncredentials_uri = {}\n",
            s.emu.credentials_uri()
        ),
    )
    .unwrap();
    let r = tasks(&s);
    ok(&r);
    assert!(r.stderr.contains("RamRoleArn"), "{}", r.stderr);
    let r = run(s.cmd().args([
        "--profile",
        "uri",
        "backup-tasks",
        "--instance-id",
        "r-cred",
    ]));
    ok(&r);
}

#[test]
fn the_profile_settings_are_honoured_and_flags_win() {
    let s = setup();
    s.profiles(&format!(
        r#"{{"name":"main","mode":"AK","access_key_id":"{ID}","access_key_secret":"{SECRET}",
            "region_id":"cn-shanghai","endpoint":"{}","retry_count":0,"connect_timeout":3,"read_timeout":4}}"#,
        s.emu.url()
    ));
    let mut c = Command::cargo_bin("rkvstore").unwrap();
    for (k, _) in std::env::vars() {
        if k.starts_with("ALIBABA") || k.starts_with("ALICLOUD") {
            c.env_remove(k);
        }
    }
    c.env("HOME", s.home.path())
        .env("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
        .args(["-v", "backup-tasks", "--instance-id", "r-cred"]);
    let r = run(&mut c);
    ok(&r);
    assert!(
        r.stderr.contains(&format!("endpoint {}", s.emu.url())),
        "{}",
        r.stderr
    );
}

/// A tiny HTTP server on loopback that answers every request with one canned reply, the way
/// a proxy, a captive portal or a broken service would.
struct Hostile {
    addr: std::net::SocketAddr,
}

impl Hostile {
    fn start(reply: fn(&str) -> (u16, &'static str, String)) -> Hostile {
        use std::io::{BufRead, BufReader, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let Ok(clone) = stream.try_clone() else {
                    continue;
                };
                let mut reader = BufReader::new(clone);
                let mut first = String::new();
                if reader.read_line(&mut first).is_err() {
                    continue;
                }
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line.trim() != "" {
                    line.clear();
                }
                let method = first
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_owned();
                let (status, ctype, body) = reply(&method);
                let mut s = stream;
                let _ = write!(
                    s,
                    "HTTP/1.1 {status} X\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\n\
                     Connection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        Hostile { addr }
    }

    fn html() -> Hostile {
        Hostile::start(|_| {
            (
                200,
                "text/html",
                "<html><body>Sign in to continue</body></html>".into(),
            )
        })
    }

    fn garbage() -> Hostile {
        Hostile::start(|_| (200, "application/json", "{{{ garbage".into()))
    }

    /// A metadata service that refuses IMDSv2 sessions and answers credentials without one.
    fn refusing_sessions() -> Hostile {
        Hostile::start(|method| {
            if method == "PUT" {
                (403, "text/plain", "Forbidden".into())
            } else {
                let body = format!(
                    r#"{{"Code":"Success","AccessKeyId":"STS.canned","AccessKeySecret":"{SECRET}","SecurityToken":"{CANNED_TOKEN}","Expiration":"2099-01-01T00:00:00Z"}}"#
                );
                (200, "application/json", body)
            }
        })
    }

    fn url(&self, _emu: &Emulator) -> String {
        format!("http://{}", self.addr)
    }
}

// ---- Regressions found in review ----

#[cfg(unix)]
#[test]
fn secrets_in_answers_that_do_not_parse_are_never_shown() {
    let s = setup();
    // JSON followed by a log line is not JSON, and the excerpt must not show the secret.
    let noisy = script(
        s.home.path(),
        "noisy",
        &format!(
            r#"echo '{{"mode":"StsToken","access_key_id":"{ID}","access_key_secret":"{SECRET}","sts_token":"{CANNED_TOKEN}"}}'; echo 'INFO fetched'"#
        ),
    );
    s.profiles(&format!(
        r#"{{"name":"main","mode":"External","process_command":"{noisy}"}}"#
    ));
    let r = tasks(&s);
    fails_with(&r, &["not JSON", "***", "mode External"]);

    // A URI that cannot become a request is shown without its user info or query.
    let mut c = s.cmd();
    c.env(
        "ALIBABA_CLOUD_CREDENTIALS_URI",
        "http://user:PASSWORDSECRET@127.0.0.1:1/ bad?token=TOKENSECRET",
    )
    .env("ALIBABA_CLOUD_CLI_PROFILE_DISABLED", "true")
    .args(["backup-tasks", "--instance-id", "r-cred"]);
    let r = run(&mut c);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.stderr.contains("mode CredentialsURI"), "{}", r.stderr);
    assert!(
        !r.stderr.contains("PASSWORDSECRET") && !r.stderr.contains("TOKENSECRET"),
        "{}",
        r.stderr
    );
}

#[test]
fn alibaba_cloud_profile_only_picks_the_profile_the_chain_reads() {
    let s = setup();
    // The environment's keys come first; the variable names a profile that does not exist.
    let mut c = s.cmd();
    c.env("ALIBABA_CLOUD_ACCESS_KEY_ID", ID)
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET)
        .env("ALIBABA_CLOUD_PROFILE", "prod")
        .args(["backup-tasks", "--instance-id", "r-cred"]);
    let r = run(&mut c);
    ok(&r);
    assert!(
        r.stderr
            .contains("AK (environment variables ALIBABA_CLOUD_*)"),
        "{}",
        r.stderr
    );

    // Without keys in the environment, it picks the profile.
    s.profiles(&format!(
        r#"{{"name":"main","mode":"AK","access_key_id":"LTAInobody","access_key_secret":"x"}},{}"#,
        ak_profile("prod")
    ));
    let mut c = s.cmd();
    c.env("ALIBABA_CLOUD_PROFILE", "prod")
        .args(["backup-tasks", "--instance-id", "r-cred"]);
    let r = run(&mut c);
    ok(&r);
    assert!(r.stderr.contains("profile prod of"), "{}", r.stderr);

    // The flag still means that profile and nothing else.
    let mut c = s.cmd();
    c.env("ALIBABA_CLOUD_ACCESS_KEY_ID", ID)
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET)
        .args([
            "--profile",
            "nosuch",
            "backup-tasks",
            "--instance-id",
            "r-cred",
        ]);
    fails_with(&run(&mut c), &["no profile named \"nosuch\""]);
}

#[cfg(unix)]
#[test]
fn profiles_without_a_mode_are_recognised_from_their_fields() {
    let s = setup();
    let token_file = s.path("oidc-token");
    std::fs::write(&token_file, OIDC_TOKEN).unwrap();
    let creds = script(
        s.home.path(),
        "creds",
        &format!(r#"echo '{{"access_key_id":"{ID}","access_key_secret":"{SECRET}"}}'"#),
    );
    s.profiles(&format!(
        r#"{},
           {{"name":"ak","access_key_id":"{ID}","access_key_secret":"{SECRET}"}},
           {{"name":"sts","access_key_id":"STS.canned","access_key_secret":"{SECRET}","sts_token":"{CANNED_TOKEN}"}},
           {{"name":"role","access_key_id":"{ID}","access_key_secret":"{SECRET}","ram_role_arn":"{ROLE}"}},
           {{"name":"ecs","ram_role_name":"ecs-backup-role"}},
           {{"name":"ext","process_command":"{creds}"}},
           {{"name":"oidc","ram_role_arn":"{ROLE}","oidc_provider_arn":"{OIDC_PROVIDER}","oidc_token_file":"{token_file}"}},
           {{"name":"sso","cloud_sso_sign_in_url":"https://signin-cn-shanghai.alibabacloudsso.com/x/login"}},
           {{"name":"keypair","private_key":"k","key_pair_name":"p"}},
           {{"name":"empty","region_id":"cn-hangzhou"}}"#,
        ak_profile("main")
    ));
    let with = |profile: &str| {
        let mut c = s.cmd();
        c.env(
            "ALIBABA_CLOUD_ECS_METADATA_ENDPOINT",
            s.emu.metadata_endpoint(),
        )
        .args([
            "--profile",
            profile,
            "backup-tasks",
            "--instance-id",
            "r-cred",
        ]);
        run(&mut c)
    };
    for (profile, via) in [
        ("ak", "via AK (profile ak of"),
        ("sts", "via StsToken (profile sts of"),
        (
            "role",
            "via RamRoleArn acs:ram::1234567890123456:role/backup-operator (profile role",
        ),
        ("ecs", "via EcsRamRole ecs-backup-role (profile ecs of"),
        ("ext", "via External (profile ext of"),
        ("oidc", "via OIDC"),
    ] {
        let r = with(profile);
        ok(&r);
        assert!(
            r.stderr.contains(via),
            "{profile}: {via:?} not in\n{}",
            r.stderr
        );
    }
    fails_with(&with("sso"), &["uses mode CloudSSO", "browser sign-in"]);
    fails_with(&with("keypair"), &["uses mode RsaKeyPair", "deprecated"]);
    fails_with(
        &with("empty"),
        &["has no mode", "aliyun configure --profile empty"],
    );
}

#[test]
fn configuration_mistakes_are_named_before_anything_is_sent() {
    let s = setup();
    let role = |extra: &str| {
        format!(
            r#"{{"name":"main","mode":"RamRoleArn","access_key_id":"{ID}","access_key_secret":"{SECRET}",
                "ram_role_arn":"{ROLE}"{extra}}}"#
        )
    };
    for (extra, field) in [
        (r#","expired_seconds":100"#, "expired_seconds"),
        (r#","expired_seconds":50000"#, "expired_seconds"),
        (r#","expired_seconds":"an hour""#, "expired_seconds"),
        (r#","ram_session_name":"x""#, "ram_session_name"),
        (r#","ram_session_name":"has spaces""#, "ram_session_name"),
    ] {
        s.profiles(&role(extra));
        let r = tasks(&s);
        fails_with(
            &r,
            &[
                &format!("fix the profile's {field}"),
                "nothing was sent to STS",
            ],
        );
    }
    s.profiles(&format!(
        r#"{{"name":"main","mode":"RamRoleArn","access_key_id":"{ID}","access_key_secret":"{SECRET}",
            "ram_role_arn":"arn:aws:iam::123456789012:role/backup"}}"#
    ));
    fails_with(&tasks(&s), &["fix the profile's ram_role_arn", "RoleArn"]);

    // The same from the environment, for OIDC.
    let token_file = s.path("oidc-token");
    std::fs::write(&token_file, OIDC_TOKEN).unwrap();
    let mut c = s.cmd();
    c.env("ALIBABA_CLOUD_ROLE_ARN", "acs:ram::123:role")
        .env("ALIBABA_CLOUD_OIDC_PROVIDER_ARN", OIDC_PROVIDER)
        .env("ALIBABA_CLOUD_OIDC_TOKEN_FILE", &token_file)
        .args(["backup-tasks", "--instance-id", "r-cred"]);
    fails_with(&run(&mut c), &["fix the variable ALIBABA_CLOUD_ROLE_ARN"]);
    assert!(
        s.emu.requests().is_empty(),
        "something was sent: {:?}",
        s.emu.requests()
    );
}

#[test]
fn no_credentials_found_lists_each_place_on_its_own_line() {
    let s = setup();
    let r = tasks(&s);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(!r.stderr.contains("\\n"), "{}", r.stderr);
    assert!(r.stderr.contains("Looked in:\n  1. "), "{}", r.stderr);
    assert!(
        r.stderr
            .lines()
            .any(|l| l.starts_with("  7. ALIBABA_CLOUD_CREDENTIALS_URI: not set")),
        "{}",
        r.stderr
    );
}

#[test]
fn unusable_profiles_are_skipped_as_the_official_chain_does_and_named_if_nothing_works() {
    let s = setup();
    // A CloudSSO current profile: the credentials file's default section is used instead.
    s.profiles(r#"{"name":"main","mode":"CloudSSO"}"#);
    let ini = s.home.path().join(".alibabacloud");
    std::fs::create_dir_all(&ini).unwrap();
    std::fs::write(
        ini.join("credentials"),
        format!(
            "[default]\ntype = access_key\naccess_key_id = {ID}\naccess_key_secret = {SECRET}\n"
        ),
    )
    .unwrap();
    let r = tasks(&s);
    ok(&r);
    assert!(r.stderr.contains("section [default]"), "{}", r.stderr);

    // Nothing else: the error names the unusable profile, and a file that is not JSON.
    std::fs::remove_file(ini.join("credentials")).unwrap();
    fails_with(
        &tasks(&s),
        &["no Alibaba Cloud credentials found", "uses mode CloudSSO"],
    );
    std::fs::write(s.home.path().join(".aliyun/config.json"), "{ not json").unwrap();
    fails_with(
        &tasks(&s),
        &["no Alibaba Cloud credentials found", "not valid JSON"],
    );
}

#[test]
fn an_oidc_profile_takes_what_it_lacks_from_the_environment() {
    let s = setup();
    let token_file = s.path("oidc-token");
    std::fs::write(&token_file, OIDC_TOKEN).unwrap();
    s.profiles(&format!(
        r#"{{"name":"main","mode":"OIDC","ram_role_arn":"{ROLE}"}}"#
    ));
    let mut c = s.cmd();
    c.env("ALIBABA_CLOUD_OIDC_PROVIDER_ARN", OIDC_PROVIDER)
        .env("ALIBABA_CLOUD_OIDC_TOKEN_FILE", &token_file)
        .args(["backup-tasks", "--instance-id", "r-cred"]);
    let r = run(&mut c);
    ok(&r);
    assert!(r.stderr.contains("profile main of"), "{}", r.stderr);
}

#[test]
fn the_credentials_uri_is_tried_when_the_instance_role_fails() {
    let s = setup();
    let html = Hostile::html();
    let mut c = s.cmd();
    c.env_remove("ALIBABA_CLOUD_ECS_METADATA_DISABLED")
        .env("ALIBABA_CLOUD_ECS_METADATA_ENDPOINT", html.url(&s.emu))
        .env("ALIBABA_CLOUD_CREDENTIALS_URI", s.emu.credentials_uri())
        .args(["backup-tasks", "--instance-id", "r-cred"]);
    let r = run(&mut c);
    ok(&r);
    assert!(r.stderr.contains("supplied STS."), "{}", r.stderr);
}

#[test]
fn ecs_falls_back_to_imdsv1_when_requests_with_the_token_fail() {
    let emu = Emulator::builder()
        .access_key(ID, SECRET)
        .ecs_role("ecs-backup-role")
        .imds_tokens_refused(true)
        .instance("r-cred")
        .seed_job("r-cred", JobSeed::finished_automated())
        .start("127.0.0.1:0")
        .unwrap();
    let s = Setup::with(emu);
    let r = run(ecs_cmd(&s).args(["backup-tasks", "--instance-id", "r-cred"]));
    ok(&r);
    let statuses: Vec<u16> = s.emu.requests().iter().map(|r| r.status).collect();
    assert!(statuses.contains(&401), "{statuses:?}");
    let mut c = ecs_cmd(&s);
    c.env("ALIBABA_CLOUD_IMDSV1_DISABLED", "true").args([
        "backup-tasks",
        "--instance-id",
        "r-cred",
    ]);
    fails_with(&run(&mut c), &["mode EcsRamRole", "401"]);
}

#[test]
fn bearer_token_profiles_say_what_to_use_instead() {
    let s = setup();
    s.profiles(r#"{"name":"main","mode":"BearerToken","bearer_token":"x"}"#);
    let r = run(s.cmd().args([
        "--profile",
        "main",
        "backup-tasks",
        "--instance-id",
        "r-cred",
    ]));
    fails_with(
        &r,
        &["uses mode BearerToken", "use an AccessKey pair (mode AK)"],
    );
}

#[cfg(unix)]
#[test]
fn process_command_is_split_like_the_aliyun_cli_and_reads_our_stdin() {
    let s = setup();
    let dir = s.home.path().join("my tools");
    std::fs::create_dir_all(&dir).unwrap();
    // The command asks for a code on its standard input, as an MFA prompt would.
    let path = script(
        &dir,
        "creds",
        &format!(
            r#"read code; [ "$code" = "123456" ] || {{ echo "no code: $code" >&2; exit 9; }}
[ "$1" = 'a\b' ] || {{ echo "bad argument: $1" >&2; exit 8; }}
echo '{{"access_key_id":"{ID}","access_key_secret":"{SECRET}"}}'"#
        ),
    );
    // Inside double quotes a backslash before an ordinary character is kept.
    let command = format!(r#""{path}" "a\b""#);
    let profile =
        serde_json::json!({"name": "main", "mode": "External", "process_command": command});
    s.profiles(&profile.to_string());
    let r = run(s
        .cmd()
        .args(["backup-tasks", "--instance-id", "r-cred"])
        .write_stdin("123456\n"));
    ok(&r);
}

/// Starts a loopback "STS" that keeps every request it gets (line, headers and body) and
/// answers each with an STS error.
fn recording_sts() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use std::io::{BufRead, BufReader, Read, Write};
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let sink = std::sync::Arc::clone(&seen);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut text = String::new();
            let mut length = 0usize;
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line.trim() != "" {
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                text.push_str(&line);
                line.clear();
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            text.push_str(&String::from_utf8_lossy(&body));
            sink.lock().unwrap().push(text);
            let answer = r#"{"RequestId":"r","Code":"NoPermission","Message":"recorded"}"#;
            let mut s = stream;
            let _ = write!(
                s,
                "HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n{answer}",
                answer.len()
            );
        }
    });
    (format!("http://{addr}"), seen)
}

#[test]
fn role_profiles_take_the_external_id_and_session_name_from_the_environment() {
    let s = setup();
    let (sts, seen) = recording_sts();
    s.profiles(&format!(
        r#"{{"name":"main","mode":"RamRoleArn","access_key_id":"{ID}","access_key_secret":"{SECRET}",
            "ram_role_arn":"{ROLE}"}}"#
    ));
    let mut c = s.cmd();
    c.env("ALIBABA_CLOUD_STS_ENDPOINT", &sts)
        .env("ALIBABA_CLOUD_EXTERNAL_ID", "ext-4242")
        .env("ALIBABA_CLOUD_ROLE_SESSION_NAME", "from-env-session")
        .args(["backup-tasks", "--instance-id", "r-cred"]);
    fails_with(&run(&mut c), &["NoPermission", "recorded"]);
    let seen = seen.lock().unwrap().join("\n");
    assert!(seen.contains("ExternalId=ext-4242"), "{seen}");
    assert!(seen.contains("RoleSessionName=from-env-session"), "{seen}");
}
