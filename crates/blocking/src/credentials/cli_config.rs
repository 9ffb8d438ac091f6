//! The `aliyun` CLI's `~/.aliyun/config.json`: every mode, with the CLI's field names.

use std::path::Path;
use std::sync::Arc;

use rkvstore_core::sts::{
    validate_duration_seconds, validate_oidc_provider_arn, validate_role_arn, validate_session_name,
};
use rkvstore_core::Credentials;
use serde_json::Value;

use super::settings::{first_var, sts_endpoint_for};
use super::{
    bad_file, ecs_provider, CredentialsError, CredentialsProvider, CredentialsUriProvider, Env,
    ExternalProvider, OidcProvider, ProfileSettings, RamRoleArnProvider, Resolved, Source,
    StaticProvider,
};

/// The modes, spelled as the CLI writes them; a profile's mode matches in any case.
const MODES: [&str; 13] = [
    "AK",
    "StsToken",
    "RamRoleArn",
    "EcsRamRole",
    "RsaKeyPair",
    "RamRoleArnWithRoleName",
    "ChainableRamRoleArn",
    "External",
    "CredentialsURI",
    "OIDC",
    "CloudSSO",
    "OAuth",
    "BearerToken",
];

/// Chains of source profiles longer than this are refused even without a cycle.
const MAX_CHAIN: usize = 16;

/// Reads `profile` (or the file's current one) from the file at `path`.
pub(super) fn load(
    path: &Path,
    profile: Option<&str>,
    env: &dyn Env,
) -> Result<Option<Resolved>, CredentialsError> {
    let text = crate::local_file::read_to_string(path, crate::local_file::CONFIG_FILE_LIMIT)
        .map_err(|e| bad_file(path, format!("cannot read it: {}", e.kind())))?;
    let doc: Value = serde_json::from_str(&text)
        .map_err(|e| bad_file(path, format!("it is not valid JSON: {e}")))?;
    let profiles = doc
        .get("profiles")
        .and_then(Value::as_array)
        .ok_or_else(|| bad_file(path, "it has no \"profiles\" list"))?;
    let wanted = match profile {
        Some(p) => p.to_owned(),
        None => match doc.get("current").and_then(Value::as_str) {
            Some(c) if !c.is_empty() => c.to_owned(),
            _ => "default".to_owned(),
        },
    };
    let Some(entry) = find(profiles, &wanted) else {
        return Ok(None);
    };
    let file = File {
        path,
        profiles,
        env,
    };
    let provider = file.provider(&wanted, entry, &mut Vec::new())?;
    let p = Fields(entry);
    Ok(Some(Resolved {
        provider,
        region: p.text("region_id"),
        source: Source::AliyunCli {
            path: path.to_owned(),
            profile: wanted,
        },
        settings: ProfileSettings {
            endpoint: p.text("endpoint"),
            endpoint_type: p.text("endpoint_type"),
            retry_count: p.number("retry_count").and_then(|n| u32::try_from(n).ok()),
            connect_timeout: p.number("connect_timeout"),
            read_timeout: p
                .number("read_timeout")
                .or_else(|| p.number("retry_timeout")),
        },
    }))
}

/// The mode of a profile that names none, from its fields, by the aliyun CLI's rules
/// (`AutoModeRecognition` in its `config/profile.go`), OIDC fields filled from the environment
/// as the CLI fills them.
fn auto_mode(p: &Fields<'_>, env: &dyn Env) -> Option<String> {
    let has = |f: &str| p.text(f).is_some();
    let has_or_env = |f: &str, vars: &[&str]| has(f) || first_var(env, vars).is_some();
    let mode = if has("access_key_id") && has("access_key_secret") {
        if has("sts_token") {
            "StsToken"
        } else if has("ram_role_arn") {
            "RamRoleArn"
        } else {
            "AK"
        }
    } else if has("private_key") && has("key_pair_name") {
        "RsaKeyPair"
    } else if has("ram_role_name") {
        "EcsRamRole"
    } else if has("process_command") {
        "External"
    } else if has_or_env(
        "oidc_provider_arn",
        &[
            "ALIBABACLOUD_OIDC_PROVIDER_ARN",
            "ALIBABA_CLOUD_OIDC_PROVIDER_ARN",
        ],
    ) && has_or_env(
        "oidc_token_file",
        &[
            "ALIBABACLOUD_OIDC_TOKEN_FILE",
            "ALIBABA_CLOUD_OIDC_TOKEN_FILE",
        ],
    ) && has_or_env(
        "ram_role_arn",
        &["ALIBABACLOUD_ROLE_ARN", "ALIBABA_CLOUD_ROLE_ARN"],
    ) {
        "OIDC"
    } else if has("cloud_sso_sign_in_url") {
        "CloudSSO"
    } else {
        return None;
    };
    Some(mode.to_owned())
}

fn find<'a>(profiles: &'a [Value], name: &str) -> Option<&'a Value> {
    profiles
        .iter()
        .find(|p| p.get("name").and_then(Value::as_str) == Some(name))
}

/// A profile's fields.
struct Fields<'a>(&'a Value);

impl Fields<'_> {
    fn text(&self, name: &str) -> Option<String> {
        self.0
            .get(name)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    }

    /// A number written as a number or as text; 0 means unset, as in the CLI.
    fn number(&self, name: &str) -> Option<u64> {
        match self.0.get(name)? {
            Value::Number(n) => n.as_u64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
        .filter(|n| *n > 0)
    }

    fn flag(&self, name: &str) -> bool {
        match self.0.get(name) {
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
            _ => false,
        }
    }
}

struct File<'a> {
    path: &'a Path,
    profiles: &'a [Value],
    env: &'a dyn Env,
}

impl File<'_> {
    fn origin(&self, name: &str) -> String {
        format!("profile {name} of {}", self.path.display())
    }

    /// The provider of profile `name`; `chain` holds the profiles that led here, to find cycles.
    fn provider(
        &self,
        name: &str,
        entry: &Value,
        chain: &mut Vec<String>,
    ) -> Result<Arc<dyn CredentialsProvider>, CredentialsError> {
        let p = Fields(entry);
        let Some(raw_mode) = p.text("mode").or_else(|| auto_mode(&p, self.env)) else {
            return Err(CredentialsError::Provider {
                mode: "(none)".to_owned(),
                origin: self.origin(name),
                problem: "the profile has no mode, and its fields do not tell one (no \
                          access_key_id and access_key_secret, ram_role_name, process_command, \
                          OIDC fields or cloud_sso_sign_in_url)"
                    .to_owned(),
                fix: format!("set it up with `aliyun configure --profile {name}`"),
            });
        };
        let mode = MODES
            .iter()
            .find(|m| m.eq_ignore_ascii_case(&raw_mode))
            .copied()
            .unwrap_or(raw_mode.as_str());
        let origin = self.origin(name);
        let need = |field: &str| {
            p.text(field).ok_or_else(|| CredentialsError::Provider {
                mode: mode.to_owned(),
                origin: origin.clone(),
                problem: format!("the profile has no {field}"),
                fix: format!("set it with `aliyun configure --profile {name} --mode {mode}`"),
            })
        };
        // A field STS would refuse is the profile's mistake: found here, before anything is
        // sent, and named.
        let bad_field = |field: &str, problem: String| CredentialsError::Provider {
            mode: mode.to_owned(),
            origin: origin.clone(),
            problem: format!("its {field} is not valid: {problem}"),
            fix: format!(
                "fix the profile's {field} (`aliyun configure --profile {name} --mode {mode}`); \
                 nothing was sent to STS"
            ),
        };
        // A field of the profile, else the first of these variables, as the aliyun CLI fills
        // an incomplete profile from the environment.
        let field_or_env =
            |field: &str, vars: &[&str]| -> Result<(String, String), CredentialsError> {
                if let Some(v) = p.text(field) {
                    return Ok((v, field.to_owned()));
                }
                if let Some((var, v)) = vars.iter().find_map(|v| self.env.var(v).map(|x| (*v, x))) {
                    return Ok((v, format!("{field} (from {var})")));
                }
                Err(CredentialsError::Provider {
                    mode: mode.to_owned(),
                    origin: origin.clone(),
                    problem: format!("the profile has no {field}"),
                    fix: format!(
                        "set it with `aliyun configure --profile {name} --mode {mode}`{}",
                        vars.first()
                            .map(|v| format!(", or set {v}"))
                            .unwrap_or_default()
                    ),
                })
            };
        let role_arn = || -> Result<String, CredentialsError> {
            let (arn, field) = field_or_env(
                "ram_role_arn",
                &["ALIBABA_CLOUD_ROLE_ARN", "ALIBABACLOUD_ROLE_ARN"],
            )?;
            validate_role_arn(&arn).map_err(|e| bad_field(&field, e.to_string()))?;
            Ok(arn)
        };
        let session_name = || -> Result<Option<String>, CredentialsError> {
            let found = ["ram_session_name", "role_session_name"]
                .iter()
                .find_map(|f| p.text(f).map(|v| (v, (*f).to_owned())))
                .or_else(|| {
                    self.env.var("ALIBABA_CLOUD_ROLE_SESSION_NAME").map(|v| {
                        (
                            v,
                            "ram_session_name (from ALIBABA_CLOUD_ROLE_SESSION_NAME)".to_owned(),
                        )
                    })
                });
            match found {
                Some((v, field)) => {
                    validate_session_name(&v).map_err(|e| bad_field(&field, e.to_string()))?;
                    Ok(Some(v))
                }
                None => Ok(None),
            }
        };
        let duration = || -> Result<Option<u32>, CredentialsError> {
            const FIELD: &str = "expired_seconds";
            let secs = match entry.get(FIELD) {
                None | Some(Value::Null) => return Ok(None),
                Some(Value::Number(n)) => n.as_u64(),
                Some(Value::String(t)) if t.trim().is_empty() => return Ok(None),
                Some(Value::String(t)) => t.trim().parse::<u64>().ok(),
                Some(_) => None,
            };
            let Some(secs) = secs else {
                return Err(bad_field(
                    FIELD,
                    format!("{} is not a whole number of seconds", entry[FIELD]),
                ));
            };
            // 0 means unset, as in the CLI.
            if secs == 0 {
                return Ok(None);
            }
            let secs = u32::try_from(secs).unwrap_or(u32::MAX);
            validate_duration_seconds(secs).map_err(|e| bad_field(FIELD, e.to_string()))?;
            Ok(Some(secs))
        };
        let pair = || -> Result<Credentials, CredentialsError> {
            Ok(Credentials::new(
                need("access_key_id")?,
                need("access_key_secret")?,
            ))
        };
        let sts = || {
            sts_endpoint_for(
                self.env,
                p.text("sts_endpoint").as_deref(),
                p.text("sts_region").as_deref(),
                p.flag("enable_vpc"),
                &origin,
            )
        };
        let assume = |source: Arc<dyn CredentialsProvider>| -> Result<_, CredentialsError> {
            let arn = role_arn()?;
            let session = session_name()?;
            let secs = duration()?;
            let mut role = RamRoleArnProvider::new(source, arn)
                .sts_endpoint(sts()?)
                .described(
                    if mode == "ChainableRamRoleArn" {
                        "ChainableRamRoleArn"
                    } else {
                        "RamRoleArn"
                    },
                    origin.clone(),
                );
            if let Some(s) = session {
                role = role.session_name(s);
            }
            if let Some(secs) = secs {
                role = role.duration_seconds(secs);
            }
            if let Some(policy) = p.text("policy") {
                role = role.policy(policy);
            }
            // The aliyun CLI fills a missing external_id from ALIBABACLOUD_EXTERNAL_ID.
            if let Some(id) = p.text("external_id").or_else(|| {
                first_var(
                    self.env,
                    &["ALIBABA_CLOUD_EXTERNAL_ID", "ALIBABACLOUD_EXTERNAL_ID"],
                )
            }) {
                role = role.external_id(id);
            }
            Ok(Arc::new(role) as Arc<dyn CredentialsProvider>)
        };
        Ok(match mode {
            "AK" => Arc::new(StaticProvider::new(pair()?, format!("AK ({origin})"))),
            "StsToken" => Arc::new(StaticProvider::new(
                pair()?.with_security_token(need("sts_token")?),
                format!("StsToken ({origin})"),
            )),
            "RamRoleArn" => {
                let mut source = pair()?;
                if let Some(token) = p.text("sts_token") {
                    source = source.with_security_token(token);
                }
                let described = format!("the key of {origin}");
                assume(Arc::new(StaticProvider::new(source, described)))?
            }
            "ChainableRamRoleArn" => {
                let source_name = need("source_profile")?;
                chain.push(name.to_owned());
                if chain.contains(&source_name) || chain.len() > MAX_CHAIN {
                    chain.push(source_name);
                    return Err(CredentialsError::Provider {
                        mode: mode.to_owned(),
                        origin,
                        problem: format!("source_profile makes a cycle: {}", chain.join(" -> ")),
                        fix: "point source_profile at a profile with its own credentials (AK, \
                              StsToken, EcsRamRole, …)"
                            .to_owned(),
                    });
                }
                let Some(source_entry) = find(self.profiles, &source_name) else {
                    return Err(CredentialsError::Provider {
                        mode: mode.to_owned(),
                        origin,
                        problem: format!("its source_profile {source_name:?} does not exist"),
                        fix: format!(
                            "create it with `aliyun configure --profile {source_name}`, or \
                             correct source_profile"
                        ),
                    });
                };
                let source = self.provider(&source_name, source_entry, chain)?;
                assume(source)?
            }
            "EcsRamRole" => Arc::new(ecs_provider(self.env, p.text("ram_role_name"), &origin)),
            "RamRoleArnWithRoleName" => {
                let ecs = ecs_provider(self.env, p.text("ram_role_name"), &origin);
                assume(Arc::new(ecs))?
            }
            "OIDC" => {
                let arn = role_arn()?;
                let (provider_arn, field) = field_or_env(
                    "oidc_provider_arn",
                    &[
                        "ALIBABA_CLOUD_OIDC_PROVIDER_ARN",
                        "ALIBABACLOUD_OIDC_PROVIDER_ARN",
                    ],
                )?;
                validate_oidc_provider_arn(&provider_arn)
                    .map_err(|e| bad_field(&field, e.to_string()))?;
                let (token_file, _) = field_or_env(
                    "oidc_token_file",
                    &[
                        "ALIBABA_CLOUD_OIDC_TOKEN_FILE",
                        "ALIBABACLOUD_OIDC_TOKEN_FILE",
                    ],
                )?;
                let session = session_name()?;
                let secs = duration()?;
                let mut oidc = OidcProvider::new(arn, provider_arn, token_file)
                    .sts_endpoint(sts()?)
                    .origin(origin.clone());
                if let Some(s) = session {
                    oidc = oidc.session_name(s);
                }
                if let Some(secs) = secs {
                    oidc = oidc.duration_seconds(secs);
                }
                if let Some(policy) = p.text("policy") {
                    oidc = oidc.policy(policy);
                }
                Arc::new(oidc)
            }
            "CredentialsURI" => {
                let uri = p
                    .text("credentials_uri")
                    .or_else(|| self.env.var("ALIBABA_CLOUD_CREDENTIALS_URI"))
                    .ok_or_else(|| CredentialsError::Provider {
                        mode: mode.to_owned(),
                        origin: origin.clone(),
                        problem: "the profile has no credentials_uri".to_owned(),
                        fix: format!(
                            "set it with `aliyun configure --profile {name} --mode \
                             CredentialsURI`, or set ALIBABA_CLOUD_CREDENTIALS_URI"
                        ),
                    })?;
                Arc::new(CredentialsUriProvider::new(uri).origin(origin))
            }
            "External" => Arc::new(ExternalProvider::new(need("process_command")?).origin(origin)),
            other => {
                return Err(CredentialsError::UnsupportedMode {
                    profile: name.to_owned(),
                    mode: other.to_owned(),
                    path: self.path.to_owned(),
                })
            }
        })
    }
}
