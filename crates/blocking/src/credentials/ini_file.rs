//! The INI credentials file `~/.alibabacloud/credentials`.

use std::path::Path;

use rkvstore_core::Credentials;

use super::{bad_file, CredentialsError, Resolved, Source};

/// Reads section `section` of the file at `path`.
pub(super) fn load(path: &Path, section: &str) -> Result<Option<Resolved>, CredentialsError> {
    let text = crate::local_file::read_to_string(path, crate::local_file::CONFIG_FILE_LIMIT)
        .map_err(|e| bad_file(path, format!("cannot read it: {}", e.kind())))?;
    // Editors on Windows may start the file with a byte-order mark, which is not part of it.
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let ini = ini::Ini::load_from_str(text)
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
