//! The INI credentials file `~/.alibabacloud/credentials`.

use std::path::Path;

use rkvstore_core::Credentials;

use super::{bad_file, CredentialsError, Resolved, Source};

/// Reads section `section` of the file at `path`.
pub(super) fn load(path: &Path, section: &str) -> Result<Option<Resolved>, CredentialsError> {
    let ini = ini::Ini::load_from_file(path)
        .map_err(|e| bad_file(path, format!("it is not a valid INI file: {e}")))?;
    let Some(props) = ini.section(Some(section)) else {
        return Ok(None);
    };
    let field = |name: &str| props.get(name).map(str::trim).filter(|s| !s.is_empty());
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
    let credentials = match kind {
        "access_key" => Credentials::new(need("access_key_id")?, need("access_key_secret")?),
        other => {
            return Err(CredentialsError::UnsupportedMode {
                profile: section.to_owned(),
                mode: format!("type = {other}"),
                path: path.to_owned(),
            })
        }
    };
    Ok(Some(Resolved {
        credentials,
        region: field("region_id").map(str::to_owned),
        source: Source::CredentialsFile {
            path: path.to_owned(),
            profile: section.to_owned(),
        },
    }))
}
