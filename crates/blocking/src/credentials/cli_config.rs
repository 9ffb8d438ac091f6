//! The `aliyun` CLI's `~/.aliyun/config.json`: every mode, with the CLI's field names.

use std::path::Path;
use std::sync::Arc;

use rkvstore_core::sts::{validate_oidc_provider_arn, validate_role_arn};
use rkvstore_core::Credentials;
use serde_json::Value;

use super::settings::sts_endpoint_for;
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
        let raw_mode = p.text("mode").unwrap_or_else(|| "AK".to_owned());
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
        let bad_param = |e: rkvstore_core::ParamError| CredentialsError::Provider {
            mode: mode.to_owned(),
            origin: origin.clone(),
            problem: e.to_string(),
            fix: format!("correct it with `aliyun configure --profile {name} --mode {mode}`"),
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
            let arn = need("ram_role_arn")?;
            validate_role_arn(&arn).map_err(bad_param)?;
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
            if let Some(s) = p
                .text("ram_session_name")
                .or_else(|| p.text("role_session_name"))
            {
                role = role.session_name(s);
            }
            if let Some(secs) = p.number("expired_seconds") {
                role = role.duration_seconds(u32::try_from(secs).unwrap_or(u32::MAX));
            }
            if let Some(policy) = p.text("policy") {
                role = role.policy(policy);
            }
            if let Some(id) = p.text("external_id") {
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
                let arn = need("ram_role_arn")?;
                validate_role_arn(&arn).map_err(bad_param)?;
                let provider_arn = need("oidc_provider_arn")?;
                validate_oidc_provider_arn(&provider_arn).map_err(bad_param)?;
                let mut oidc = OidcProvider::new(arn, provider_arn, need("oidc_token_file")?)
                    .sts_endpoint(sts()?)
                    .origin(origin.clone());
                if let Some(s) = p
                    .text("ram_session_name")
                    .or_else(|| p.text("role_session_name"))
                {
                    oidc = oidc.session_name(s);
                }
                if let Some(secs) = p.number("expired_seconds") {
                    oidc = oidc.duration_seconds(u32::try_from(secs).unwrap_or(u32::MAX));
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
