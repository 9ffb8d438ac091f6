//! The credentials chain, with `HOME` pointed at a temporary directory.

#![allow(clippy::unwrap_used)] // Helpers outside #[test] functions unwrap too.

use std::collections::HashMap;

use rkvstore_blocking::core::Credentials;
use rkvstore_blocking::credentials::{resolve, CredentialsError, Source};
use rkvstore_blocking::{Client, Error};

struct Home {
    dir: tempfile::TempDir,
    vars: HashMap<String, String>,
}

impl Home {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut vars = HashMap::new();
        vars.insert("HOME".to_owned(), dir.path().display().to_string());
        Home { dir, vars }
    }
    fn set(mut self, k: &str, v: &str) -> Self {
        self.vars.insert(k.to_owned(), v.to_owned());
        self
    }
    fn file(self, rel: &str, text: &str) -> Self {
        let path = self.dir.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
        self
    }
    fn path(&self, rel: &str) -> std::path::PathBuf {
        self.dir.path().join(rel)
    }
    fn env(&self) -> impl Fn(&str) -> Option<String> + '_ {
        move |k: &str| self.vars.get(k).cloned()
    }
}

const CLI_CONFIG: &str = r#"{
  "current": "work",
  "profiles": [
    {"name": "default", "mode": "AK", "access_key_id": "cli-default-id", "access_key_secret": "cli-default-secret", "region_id": "cn-beijing"},
    {"name": "work", "mode": "AK", "access_key_id": "cli-work-id", "access_key_secret": "cli-work-secret", "region_id": "cn-shanghai"},
    {"name": "temp", "mode": "StsToken", "access_key_id": "STS.id", "access_key_secret": "sts-secret", "sts_token": "tok", "region_id": "ap-southeast-1"},
    {"name": "role", "mode": "RamRoleArn", "access_key_id": "x", "access_key_secret": "y", "ram_role_arn": "acs:ram::1:role/r"}
  ],
  "meta_path": ""
}"#;

const INI: &str = "[default]\ntype = access_key\naccess_key_id = ini-id\naccess_key_secret = ini-secret\n\n[other]\ntype = ecs_ram_role\nrole_name = r\n";

fn id_of(home: &Home, profile: Option<&str>) -> (String, Source, Option<String>) {
    let r = resolve(&home.env(), None, profile).unwrap();
    (
        r.provider
            .static_credentials()
            .unwrap()
            .access_key_id()
            .to_owned(),
        r.source,
        r.region,
    )
}

#[test]
fn chain_order_env_then_cli_config_then_ini() {
    let home = Home::new()
        .file(".aliyun/config.json", CLI_CONFIG)
        .file(".alibabacloud/credentials", INI)
        .set("ALIBABA_CLOUD_ACCESS_KEY_ID", "env-id")
        .set("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "env-secret");
    // Explicit beats everything.
    let explicit = Credentials::new("explicit-id", "s");
    let r = resolve(&home.env(), Some(&explicit), None).unwrap();
    assert_eq!(
        (
            r.provider.static_credentials().unwrap().access_key_id(),
            r.source
        ),
        ("explicit-id", Source::Explicit)
    );
    // Then the environment.
    let (id, source, _) = id_of(&home, None);
    assert_eq!(id, "env-id");
    assert_eq!(
        source,
        Source::Environment {
            prefix: "ALIBABA_CLOUD_"
        }
    );
    // Without it, the CLI's current profile, with its region.
    let home = Home {
        vars: home.vars.into_iter().filter(|(k, _)| k == "HOME").collect(),
        dir: home.dir,
    };
    let (id, source, region) = id_of(&home, None);
    assert_eq!(id, "cli-work-id");
    assert_eq!(region.as_deref(), Some("cn-shanghai"));
    assert_eq!(
        source,
        Source::AliyunCli {
            path: home.path(".aliyun/config.json"),
            profile: "work".into()
        }
    );
    // Without the CLI config, the INI file.
    std::fs::remove_file(home.path(".aliyun/config.json")).unwrap();
    let (id, source, _) = id_of(&home, None);
    assert_eq!(id, "ini-id");
    assert_eq!(
        source,
        Source::CredentialsFile {
            path: home.path(".alibabacloud/credentials"),
            profile: "default".into()
        }
    );
}

#[test]
fn aliases_and_sts_from_the_environment() {
    let home = Home::new()
        .set("ALICLOUD_ACCESS_KEY_ID", "alias-id")
        .set("ALICLOUD_ACCESS_KEY_SECRET", "alias-secret")
        .set("ALICLOUD_SECURITY_TOKEN", "alias-token");
    let r = resolve(&home.env(), None, None).unwrap();
    assert_eq!(
        r.provider.static_credentials().unwrap().access_key_id(),
        "alias-id"
    );
    assert_eq!(
        r.provider
            .static_credentials()
            .unwrap()
            .security_token()
            .unwrap()
            .expose(),
        "alias-token"
    );
    let half = Home::new().set("ALIBABA_CLOUD_ACCESS_KEY_ID", "x");
    let err = resolve(&half.env(), None, None).unwrap_err();
    assert!(
        err.to_string().contains("ALIBABA_CLOUD_ACCESS_KEY_SECRET"),
        "{err}"
    );
}

#[test]
fn profiles_by_name_and_their_modes() {
    let home = Home::new()
        .file(".aliyun/config.json", CLI_CONFIG)
        .set("ALIBABA_CLOUD_ACCESS_KEY_ID", "env-id")
        .set("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "env-secret");
    // A profile named explicitly wins over the environment's keys.
    let r = resolve(&home.env(), None, Some("temp")).unwrap();
    assert_eq!(
        r.provider.static_credentials().unwrap().access_key_id(),
        "STS.id"
    );
    assert_eq!(
        r.provider
            .static_credentials()
            .unwrap()
            .security_token()
            .unwrap()
            .expose(),
        "tok"
    );
    // ALIBABA_CLOUD_PROFILE picks the profile when the environment has no keys.
    let home = Home {
        vars: HashMap::from([
            ("HOME".to_owned(), home.vars["HOME"].clone()),
            ("ALIBABA_CLOUD_PROFILE".to_owned(), "default".to_owned()),
        ]),
        dir: home.dir,
    };
    assert_eq!(id_of(&home, None).0, "cli-default-id");

    // A RAM role profile resolves to a provider that assumes the role when first asked (a
    // malformed ARN is refused here, before anything is sent).
    let r = resolve(&home.env(), None, Some("role")).unwrap();
    assert!(r.provider.static_credentials().is_none());
    assert!(r
        .provider
        .describe()
        .starts_with("RamRoleArn acs:ram::1:role/r (profile role of"));

    let err = resolve(&home.env(), None, Some("nope")).unwrap_err();
    assert!(
        matches!(err, CredentialsError::NoSuchProfile { .. }),
        "{err:?}"
    );
    assert!(
        err.to_string().starts_with("no profile named \"nope\" in "),
        "{err}"
    );
}

#[test]
fn malformed_files_name_the_file_and_the_problem() {
    let home = Home::new().file(".aliyun/config.json", "{ \"profiles\": [ ");
    let err = resolve(&home.env(), None, None).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains(&home.path(".aliyun/config.json").display().to_string()),
        "{text}"
    );
    assert!(text.contains("not valid JSON"), "{text}");

    let home = Home::new().file(
        ".aliyun/config.json",
        r#"{"current":"default","profiles":[{"name":"default","mode":"AK","access_key_id":"x"}]}"#,
    );
    let err = resolve(&home.env(), None, None).unwrap_err();
    assert!(
        err.to_string().contains("has no access_key_secret"),
        "{err}"
    );

    let home = Home::new().file(".alibabacloud/credentials", "[default\naccess_key_id = x");
    let err = resolve(&home.env(), None, None).unwrap_err();
    assert!(err.to_string().contains("not a valid INI file"), "{err}");

    // An INI type the official libraries deprecated is named with what to do instead.
    let home = Home::new().file(
        ".alibabacloud/credentials",
        "[other]\ntype = rsa_key_pair\npublic_key_id = x\n",
    );
    let err = resolve(&home.env(), None, Some("other")).unwrap_err();
    assert!(
        matches!(err, CredentialsError::UnsupportedMode { .. })
            && err
                .to_string()
                .contains("type = rsa_key_pair, which Alibaba Cloud has deprecated"),
        "{err}"
    );
}

#[test]
fn nothing_found_lists_every_place_looked() {
    let home = Home::new();
    let err = resolve(&home.env(), None, None).unwrap_err();
    let text = err.to_string();
    for needle in [
        "ALIBABA_CLOUD_ACCESS_KEY_ID",
        &home.path(".aliyun/config.json").display().to_string(),
        &home.path(".alibabacloud/credentials").display().to_string(),
        "not found",
    ] {
        assert!(text.contains(needle), "{needle:?} missing from:\n{text}");
    }
    // The custom credentials-file location is honoured and listed.
    let custom = home.path("elsewhere/creds");
    let home = home.set(
        "ALIBABA_CLOUD_CREDENTIALS_FILE",
        &custom.display().to_string(),
    );
    let text = resolve(&home.env(), None, None).unwrap_err().to_string();
    assert!(text.contains("elsewhere/creds: not found"), "{text}");
    let home = home.file("elsewhere/creds", INI);
    assert_eq!(id_of(&home, None).0, "ini-id");
}

#[test]
fn builder_takes_the_region_from_the_profile_and_needs_one() {
    let home = Home::new().file(".aliyun/config.json", CLI_CONFIG);
    let c = Client::builder().build_with_env(&home.env()).unwrap();
    assert_eq!(c.region(), Some("cn-shanghai"));
    assert_eq!(
        c.endpoint().to_string(),
        "https://r-kvstore.cn-shanghai.aliyuncs.com"
    );
    let home = home.set("ALIBABA_CLOUD_REGION_ID", "cn-hangzhou");
    let c = Client::builder().build_with_env(&home.env()).unwrap();
    assert_eq!(c.endpoint().to_string(), "https://r-kvstore.aliyuncs.com");

    let bare = Home::new()
        .set("ALIBABA_CLOUD_ACCESS_KEY_ID", "a")
        .set("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "b");
    let err = Client::builder().build_with_env(&bare.env()).unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err:?}");
    assert!(err.to_string().starts_with("no region"), "{err}");
}
