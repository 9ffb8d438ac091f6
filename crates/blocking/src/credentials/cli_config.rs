//! The `aliyun` CLI's `~/.aliyun/config.json`.

use std::path::Path;

use rkvstore_core::Credentials;
use serde_json::Value;

use super::{bad_file, CredentialsError, Resolved, Source};

/// Reads `profile` (or the file's current one) from the file at `path`.
pub(super) fn load(
    path: &Path,
    profile: Option<&str>,
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
    let Some(entry) = profiles
        .iter()
        .find(|p| p.get("name").and_then(Value::as_str) == Some(wanted.as_str()))
    else {
        return Ok(None);
    };
    let field = |name: &str| {
        entry
            .get(name)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let mode = field("mode").unwrap_or_else(|| "AK".to_owned());
    let need = |name: &str| {
        field(name).ok_or_else(|| {
            bad_file(
                path,
                format!("profile {wanted:?} (mode {mode}) has no {name}; run `aliyun configure --profile {wanted}`"),
            )
        })
    };
    let credentials = match mode.as_str() {
        "AK" => Credentials::new(need("access_key_id")?, need("access_key_secret")?),
        "StsToken" => Credentials::new(need("access_key_id")?, need("access_key_secret")?)
            .with_security_token(need("sts_token")?),
        _ => {
            return Err(CredentialsError::UnsupportedMode {
                profile: wanted,
                mode,
                path: path.to_owned(),
            })
        }
    };
    Ok(Some(Resolved {
        credentials,
        region: field("region_id"),
        source: Source::AliyunCli {
            path: path.to_owned(),
            profile: wanted,
        },
    }))
}
