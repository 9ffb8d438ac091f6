//! The INI credentials file `~/.alibabacloud/credentials`, with the types of the official
//! libraries: `access_key`, `sts`, `ecs_ram_role`, `ram_role_arn`, `oidc_role_arn`,
//! `credentials_uri`.

use std::path::Path;
use std::sync::Arc;

use rkvstore_core::sts::{validate_role_arn, validate_session_name};
use rkvstore_core::Credentials;

use super::settings::sts_endpoint_for;
use super::{
    bad_file, ecs_provider, CredentialsError, CredentialsProvider, CredentialsUriProvider, Env,
    OidcProvider, ProfileSettings, RamRoleArnProvider, Resolved, Source, StaticProvider,
};

/// Reads section `section` of the file at `path`.
pub(super) fn load(
    path: &Path,
    section: &str,
    env: &dyn Env,
) -> Result<Option<Resolved>, CredentialsError> {
    let text = crate::local_file::read_to_string(path, crate::local_file::CONFIG_FILE_LIMIT)
        .map_err(|e| bad_file(path, format!("cannot read it: {}", e.kind())))?;
    // Editors on Windows may start the file with a byte-order mark, which is not part of it.
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let ini = ini::Ini::load_from_str(text)
        .map_err(|e| bad_file(path, format!("it is not a valid INI file: {e}")))?;
    let Some(props) = ini.section(Some(section)) else {
        return Ok(None);
    };
    // A value may carry a trailing `# comment`, which the official libraries drop.
    let field = |name: &str| {
        props
            .get(name)
            .map(|v| v.split('#').next().unwrap_or_default().trim())
            .filter(|s| !s.is_empty())
    };
    let kind = field("type")
        .or_else(|| field("enable").map(|_| "access_key"))
        .unwrap_or("access_key");
    let need = |name: &str| {
        field(name).map(str::to_owned).ok_or_else(|| {
            bad_file(
                path,
                format!("section [{section}] (type {kind}) has no {name}"),
            )
        })
    };
    let origin = format!("section [{section}] of {}", path.display());
    let provider: Arc<dyn CredentialsProvider> = match kind {
        "access_key" => Arc::new(StaticProvider::new(
            Credentials::new(need("access_key_id")?, need("access_key_secret")?),
            format!("AK ({origin})"),
        )),
        "sts" => Arc::new(StaticProvider::new(
            Credentials::new(need("access_key_id")?, need("access_key_secret")?)
                .with_security_token(need("security_token")?),
            format!("StsToken ({origin})"),
        )),
        "ecs_ram_role" => Arc::new(ecs_provider(
            env,
            field("role_name").map(str::to_owned),
            &origin,
        )),
        "ram_role_arn" => {
            let arn = need("role_arn")?;
            validate_role_arn(&arn)
                .map_err(|e| bad_file(path, format!("section [{section}]: {e}")))?;
            let source = StaticProvider::new(
                Credentials::new(need("access_key_id")?, need("access_key_secret")?),
                format!("the key of {origin}"),
            );
            let mut role = RamRoleArnProvider::new(Arc::new(source), arn)
                .sts_endpoint(sts_endpoint_for(env, None, None, false, &origin)?)
                .described("RamRoleArn", origin.clone());
            if let Some(s) = field("role_session_name") {
                validate_session_name(s).map_err(|e| {
                    bad_file(
                        path,
                        format!("section [{section}]: fix role_session_name: {e}"),
                    )
                })?;
                role = role.session_name(s);
            }
            if let Some(p) = field("policy") {
                role = role.policy(p);
            }
            Arc::new(role)
        }
        "oidc_role_arn" => {
            let arn = need("role_arn")?;
            validate_role_arn(&arn)
                .map_err(|e| bad_file(path, format!("section [{section}]: {e}")))?;
            let mut oidc = OidcProvider::new(
                arn,
                need("oidc_provider_arn")?,
                need("oidc_token_file_path")?,
            )
            .sts_endpoint(sts_endpoint_for(env, None, None, false, &origin)?)
            .origin(origin.clone());
            if let Some(s) = field("role_session_name") {
                validate_session_name(s).map_err(|e| {
                    bad_file(
                        path,
                        format!("section [{section}]: fix role_session_name: {e}"),
                    )
                })?;
                oidc = oidc.session_name(s);
            }
            Arc::new(oidc)
        }
        "credentials_uri" => {
            Arc::new(CredentialsUriProvider::new(need("credentials_uri")?).origin(origin.clone()))
        }
        other => {
            return Err(CredentialsError::UnsupportedMode {
                profile: section.to_owned(),
                mode: format!("type = {other}"),
                path: path.to_owned(),
            })
        }
    };
    Ok(Some(Resolved {
        provider,
        region: field("region_id").map(str::to_owned),
        source: Source::CredentialsFile {
            path: path.to_owned(),
            profile: section.to_owned(),
        },
        settings: ProfileSettings::default(),
    }))
}
