//! Finding credentials, in the order the official tools look, and the providers that get them.
//!
//! The default chain, first match wins, in the official libraries' order:
//!
//! 1. Credentials or a provider given to the builder.
//! 2. Environment: `ALIBABA_CLOUD_ACCESS_KEY_ID`, `ALIBABA_CLOUD_ACCESS_KEY_SECRET` and
//!    `ALIBABA_CLOUD_SECURITY_TOKEN`, or the same names with the `ALIBABACLOUD_` and `ALICLOUD_`
//!    prefixes that the `aliyun` CLI also reads.
//! 3. OIDC from the environment, when `ALIBABA_CLOUD_ROLE_ARN`,
//!    `ALIBABA_CLOUD_OIDC_PROVIDER_ARN` and `ALIBABA_CLOUD_OIDC_TOKEN_FILE` are all set (RRSA).
//! 4. The `aliyun` CLI's `~/.aliyun/config.json`: the profile named by `ALIBABA_CLOUD_PROFILE`,
//!    else the file's `current` one, in any mode.
//! 5. The credentials file `~/.alibabacloud/credentials` (or `ALIBABA_CLOUD_CREDENTIALS_FILE`).
//! 6. The ECS instance's RAM role, only where there is evidence of an instance
//!    (`ALIBABA_CLOUD_ECS_METADATA` or `ALIBABA_CLOUD_ECS_METADATA_ENDPOINT` set, or the
//!    machine's DMI data naming Alibaba Cloud) and unless `ALIBABA_CLOUD_ECS_METADATA_DISABLED`
//!    is `true`. The official libraries always try it, which off ECS costs a timeout on every
//!    run; here it is never probed where it cannot be. When `ALIBABA_CLOUD_CREDENTIALS_URI` is
//!    set too, the URI is tried when the instance role fails.
//! 7. `ALIBABA_CLOUD_CREDENTIALS_URI`.
//!
//! A profile step (4, 5) whose profile cannot be used (an unsupported mode, a missing field,
//! a file that is not JSON) is skipped, as the official chain skips it, and named in the error
//! when nothing else works. A file that cannot be read at all (a FIFO, a device) stays an
//! error.
//!
//! Naming a profile explicitly (the builder's `profile`, the CLI's `--profile`) skips the
//! environment's keys, OIDC variables, URI and the instance role: asking for a profile means
//! that profile, and its mistakes are errors. `ALIBABA_CLOUD_PROFILE` does not name one: it
//! only picks the profile of steps 4 and 5.
//!
//! Reading the environment goes through [`Env`], so tests can supply their own `HOME` and
//! variables without touching the process's.

mod cache;
mod cli_config;
mod ecs;
mod env;
mod external;
mod http;
mod ini_file;
mod oidc;
mod provider;
mod ram_role;
mod settings;
mod sts_call;
mod uri;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rkvstore_core::Credentials;

pub use cache::CachedProvider;
pub use ecs::{EcsRamRoleProvider, DEFAULT_METADATA_ENDPOINT};
pub use external::ExternalProvider;
pub use oidc::OidcProvider;
pub use provider::{CredentialsProvider, StaticProvider};
pub use ram_role::RamRoleArnProvider;
pub use settings::ProfileSettings;
pub use uri::CredentialsUriProvider;

/// Where the process environment comes from: the real one, or a map in tests.
pub trait Env {
    /// The value of variable `name`, if set and not empty.
    fn var(&self, name: &str) -> Option<String>;

    /// `true` when this machine's DMI data says it is an Alibaba Cloud instance. Only the
    /// process environment reads the machine's; other environments (tests) say no.
    fn on_alibaba_cloud(&self) -> bool {
        false
    }
}

/// The process environment.
#[derive(Clone, Copy, Debug, Default)]
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.is_empty())
    }

    fn on_alibaba_cloud(&self) -> bool {
        // Small regular files in sysfs; reading them is local and instant, unlike probing the
        // metadata address.
        [
            "/sys/class/dmi/id/sys_vendor",
            "/sys/class/dmi/id/product_name",
        ]
        .iter()
        .any(|p| {
            crate::local_file::read_to_string(Path::new(p), 64 * 1024)
                .is_ok_and(|t| t.contains("Alibaba Cloud"))
        })
    }
}

impl<F: Fn(&str) -> Option<String>> Env for F {
    fn var(&self, name: &str) -> Option<String> {
        self(name).filter(|v| !v.is_empty())
    }
}

/// Where the credentials in use were found.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Source {
    /// Given to the builder.
    Explicit,
    /// Environment variables with this prefix (`ALIBABA_CLOUD_`, …).
    Environment {
        /// The prefix.
        prefix: &'static str,
    },
    /// A profile of the `aliyun` CLI's config file.
    AliyunCli {
        /// The file.
        path: PathBuf,
        /// The profile.
        profile: String,
    },
    /// A section of the INI credentials file.
    CredentialsFile {
        /// The file.
        path: PathBuf,
        /// The section.
        profile: String,
    },
    /// OIDC variables of the environment (`ALIBABA_CLOUD_ROLE_ARN`, …).
    OidcEnvironment,
    /// `ALIBABA_CLOUD_CREDENTIALS_URI`.
    CredentialsUri,
    /// The ECS instance's RAM role.
    EcsInstance,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Explicit => f.write_str("credentials given in code"),
            Source::Environment { prefix } => write!(f, "environment variables {prefix}*"),
            Source::AliyunCli { path, profile } => {
                write!(f, "profile {profile} of {}", path.display())
            }
            Source::CredentialsFile { path, profile } => {
                write!(f, "section [{profile}] of {}", path.display())
            }
            Source::OidcEnvironment => f.write_str(
                "environment variables ALIBABA_CLOUD_ROLE_ARN, ALIBABA_CLOUD_OIDC_PROVIDER_ARN \
                 and ALIBABA_CLOUD_OIDC_TOKEN_FILE",
            ),
            Source::CredentialsUri => {
                f.write_str("environment variable ALIBABA_CLOUD_CREDENTIALS_URI")
            }
            Source::EcsInstance => f.write_str("the ECS instance's RAM role"),
        }
    }
}

/// The provider of credentials, where it was configured, and the settings found beside it.
#[derive(Clone)]
pub struct Resolved {
    /// The provider.
    pub provider: Arc<dyn CredentialsProvider>,
    /// Where it was found.
    pub source: Source,
    /// A region from the same place (a CLI profile's `region_id`), if any.
    pub region: Option<String>,
    /// The other client settings of the same place (a CLI profile's).
    pub settings: ProfileSettings,
}

impl fmt::Debug for Resolved {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Resolved")
            .field("provider", &self.provider.describe())
            .field("source", &self.source)
            .field("region", &self.region)
            .field("settings", &self.settings)
            .finish()
    }
}

impl Resolved {
    fn fixed(credentials: Credentials, source: Source, region: Option<String>) -> Self {
        let describe = match credentials.security_token() {
            Some(_) => format!("StsToken ({source})"),
            None => format!("AK ({source})"),
        };
        Resolved {
            provider: Arc::new(StaticProvider::new(credentials, describe)),
            source,
            region,
            settings: ProfileSettings::default(),
        }
    }
}

/// Why no credentials could be used.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CredentialsError {
    /// Nothing anywhere; `looked` lists each place and what was there.
    NotFound {
        /// One line per place looked.
        looked: Vec<String>,
    },
    /// A source was half set up (an ID without a secret).
    Incomplete {
        /// The source.
        source: String,
        /// What is missing.
        missing: String,
    },
    /// A file could not be read or parsed.
    BadFile {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// The profile named does not exist.
    NoSuchProfile {
        /// The profile.
        profile: String,
        /// The files looked in.
        files: Vec<PathBuf>,
    },
    /// A provider could not get credentials: which one, configured where, what went wrong and
    /// what to do. Never holds a secret or a token.
    Provider {
        /// The mode (`RamRoleArn`, `EcsRamRole`, `OIDC`, …).
        mode: String,
        /// Where it was configured, such as `profile ops of ~/.aliyun/config.json`.
        origin: String,
        /// What went wrong.
        problem: String,
        /// What to do about it.
        fix: String,
    },
    /// The profile uses a credential mode rkvstore cannot use.
    UnsupportedMode {
        /// The profile.
        profile: String,
        /// The mode (`RamRoleArn`, `EcsRamRole`, …).
        mode: String,
        /// The file.
        path: PathBuf,
    },
}

impl fmt::Display for CredentialsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CredentialsError::NotFound { looked } => {
                f.write_str("no Alibaba Cloud credentials found. Looked in:")?;
                for (i, place) in looked.iter().enumerate() {
                    // One line each, whatever a file or variable held.
                    write!(
                        f,
                        "\n  {}. {}",
                        i + 1,
                        rkvstore_core::escape::controls(place)
                    )?;
                }
                f.write_str(
                    "\nSet ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET, \
                     or run `aliyun configure` to create a profile.",
                )
            }
            CredentialsError::Incomplete { source, missing } => {
                write!(
                    f,
                    "incomplete credentials in {source}: {missing} is not set"
                )
            }
            CredentialsError::BadFile { path, problem } => {
                write!(f, "cannot use {}: {problem}", path.display())
            }
            CredentialsError::NoSuchProfile { profile, files } => {
                write!(f, "no profile named {profile:?} in ")?;
                if files.is_empty() {
                    f.write_str("any credentials file (none exists)")?;
                }
                for (i, p) in files.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" or ")?;
                    }
                    write!(f, "{}", p.display())?;
                }
                f.write_str("; check the name, or create it with `aliyun configure --profile NAME`")
            }
            CredentialsError::Provider {
                mode,
                origin,
                problem,
                fix,
            } => write!(
                f,
                "cannot get credentials with mode {mode} from {origin}: {problem}; {fix}"
            ),
            CredentialsError::UnsupportedMode {
                profile,
                mode,
                path,
            } => {
                let why = match mode.to_ascii_lowercase().as_str() {
                    "cloudsso" | "oauth" => {
                        "which needs a browser sign-in that rkvstore does not do; for unattended \
                         runs use a RamRoleArn, EcsRamRole or OIDC profile, or an External \
                         profile whose process_command prints credentials"
                    }
                    "bearertoken" => {
                        "which signs requests with a bearer token that R-kvstore does not \
                         accept; use an AccessKey pair (mode AK), a RAM role (RamRoleArn, \
                         EcsRamRole or OIDC), or an External profile whose process_command \
                         prints credentials"
                    }
                    "rsakeypair" | "type = rsa_key_pair" => {
                        "which Alibaba Cloud has deprecated; create an AccessKey pair for a RAM \
                         user (mode AK) or assume a RAM role (mode RamRoleArn)"
                    }
                    _ => {
                        "which rkvstore does not know; use one of AK, StsToken, RamRoleArn, \
                         ChainableRamRoleArn, EcsRamRole, OIDC, CredentialsURI or External"
                    }
                };
                write!(
                    f,
                    "profile {profile:?} in {} uses mode {mode}, {why}",
                    path.display()
                )
            }
        }
    }
}

impl std::error::Error for CredentialsError {}

/// Runs the chain. `explicit` wins; `profile` is a profile named by the caller (the CLI's
/// `--profile`), which means that profile and nothing else. `ALIBABA_CLOUD_PROFILE` only picks
/// the profile the chain's profile steps read, after the environment's keys and OIDC, as in the
/// official libraries. No provider is called yet: this only decides which one will be, reading
/// local files and variables.
pub fn resolve(
    env: &dyn Env,
    explicit: Option<&Credentials>,
    profile: Option<&str>,
) -> Result<Resolved, CredentialsError> {
    if let Some(c) = explicit {
        return Ok(Resolved::fixed(c.clone(), Source::Explicit, None));
    }
    let mut looked = vec!["explicit credentials: none given".to_owned()];
    let named = profile.is_some();

    if named {
        looked.push("environment variables: skipped because a profile was named".to_owned());
    } else {
        match env::from_env(env)? {
            Some(found) => return Ok(found),
            None => looked.push(format!(
                "environment variables {}: not set",
                env::ID_VARS.join(", ")
            )),
        }
        match env::oidc_from_env(env)? {
            Some(found) => return Ok(found),
            None => looked.push(
                "OIDC variables ALIBABA_CLOUD_ROLE_ARN, ALIBABA_CLOUD_OIDC_PROVIDER_ARN, \
                 ALIBABA_CLOUD_OIDC_TOKEN_FILE: not all set"
                    .to_owned(),
            ),
        }
    }

    let profile = profile
        .map(str::to_owned)
        .or_else(|| env.var("ALIBABA_CLOUD_PROFILE"));
    // Outside a named profile, a profile step that cannot be used is noted and the chain goes
    // on, as the official chain does; the note is in the error if nothing else works.
    let step = |looked: &mut Vec<String>,
                found: Result<Option<Resolved>, CredentialsError>,
                missing: String|
     -> Result<Option<Resolved>, CredentialsError> {
        match found {
            Ok(Some(found)) => Ok(Some(found)),
            Ok(None) => {
                looked.push(missing);
                Ok(None)
            }
            // A file that cannot be read at all (a FIFO, a device, a link loop) is a hazard to
            // report, not a profile to skip.
            Err(e) if named || unreadable(&e) => Err(e),
            Err(e) => {
                looked.push(format!("{e} (skipped)"));
                Ok(None)
            }
        }
    };
    let home = home(env);
    let cli_path = home.as_ref().map(|h| h.join(".aliyun").join("config.json"));
    let mut files_with_profiles = Vec::new();
    let cli_disabled = settings::is_true(env.var("ALIBABA_CLOUD_CLI_PROFILE_DISABLED"));
    match &cli_path {
        _ if cli_disabled => {
            looked.push("~/.aliyun/config.json: ALIBABA_CLOUD_CLI_PROFILE_DISABLED=true".to_owned())
        }
        Some(path) if crate::local_file::exists(path) => {
            files_with_profiles.push(path.clone());
            let missing = format!(
                "{}: no profile {}",
                path.display(),
                profile.as_deref().unwrap_or("marked current")
            );
            if let Some(found) = step(
                &mut looked,
                cli_config::load(path, profile.as_deref(), env),
                missing,
            )? {
                return Ok(found);
            }
        }
        Some(path) => looked.push(format!("{}: not found", path.display())),
        None => looked.push("~/.aliyun/config.json: HOME is not set".to_owned()),
    }

    let ini_path = env
        .var("ALIBABA_CLOUD_CREDENTIALS_FILE")
        .map(PathBuf::from)
        .or_else(|| {
            home.as_ref()
                .map(|h| h.join(".alibabacloud").join("credentials"))
        });
    let section = profile.clone().unwrap_or_else(|| "default".to_owned());
    match &ini_path {
        Some(path) if crate::local_file::exists(path) => {
            files_with_profiles.push(path.clone());
            let missing = format!("{}: no section [{section}]", path.display());
            if let Some(found) = step(&mut looked, ini_file::load(path, &section, env), missing)? {
                return Ok(found);
            }
        }
        Some(path) => looked.push(format!("{}: not found", path.display())),
        None => looked.push("~/.alibabacloud/credentials: HOME is not set".to_owned()),
    }

    // A profile that was asked for by name and exists nowhere is a mistake worth naming.
    if named {
        return Err(CredentialsError::NoSuchProfile {
            profile: profile.unwrap_or_default(),
            files: files_with_profiles,
        });
    }
    let uri = env.var("ALIBABA_CLOUD_CREDENTIALS_URI").map(|uri| {
        CredentialsUriProvider::new(uri)
            .origin("environment variable ALIBABA_CLOUD_CREDENTIALS_URI")
    });
    match ecs_evidence(env) {
        Ok(why) => {
            let ecs = ecs_provider(env, None, &format!("the ECS instance ({why})"));
            // The official chain tries the instance role, then the URI when that fails.
            let provider: Arc<dyn CredentialsProvider> = match uri {
                Some(uri) => Arc::new(provider::Fallback::new(Arc::new(ecs), Arc::new(uri))),
                None => Arc::new(ecs),
            };
            return Ok(Resolved {
                provider,
                source: Source::EcsInstance,
                region: None,
                settings: ProfileSettings::default(),
            });
        }
        Err(why) => looked.push(format!("ECS instance RAM role: {why}")),
    }
    match uri {
        Some(provider) => Ok(Resolved {
            provider: Arc::new(provider),
            source: Source::CredentialsUri,
            region: None,
            settings: ProfileSettings::default(),
        }),
        None => {
            looked.push("ALIBABA_CLOUD_CREDENTIALS_URI: not set".to_owned());
            Err(CredentialsError::NotFound { looked })
        }
    }
}

/// `true` for a credentials file that could not be read, as opposed to one whose content is
/// unusable.
fn unreadable(e: &CredentialsError) -> bool {
    matches!(e, CredentialsError::BadFile { problem, .. } if problem.starts_with("cannot read it"))
}

/// Why this looks like an ECS instance, or why the instance role is not tried.
fn ecs_evidence(env: &dyn Env) -> Result<&'static str, &'static str> {
    if settings::is_true(env.var("ALIBABA_CLOUD_ECS_METADATA_DISABLED")) {
        return Err("ALIBABA_CLOUD_ECS_METADATA_DISABLED=true");
    }
    if env.var("ALIBABA_CLOUD_ECS_METADATA").is_some() {
        return Ok("ALIBABA_CLOUD_ECS_METADATA is set");
    }
    if env.var("ALIBABA_CLOUD_ECS_METADATA_ENDPOINT").is_some() {
        return Ok("ALIBABA_CLOUD_ECS_METADATA_ENDPOINT is set");
    }
    if env.on_alibaba_cloud() {
        return Ok("the machine's DMI data names Alibaba Cloud");
    }
    Err(
        "not an ECS instance (no ALIBABA_CLOUD_ECS_METADATA, and the DMI data does not name \
         Alibaba Cloud), so the metadata service is not probed",
    )
}

/// The instance-role provider, configured from the environment: the role from `role` or
/// `ALIBABA_CLOUD_ECS_METADATA`, the endpoint from `ALIBABA_CLOUD_ECS_METADATA_ENDPOINT`, and
/// `ALIBABA_CLOUD_IMDSV1_DISABLED`.
fn ecs_provider(env: &dyn Env, role: Option<String>, origin: &str) -> EcsRamRoleProvider {
    let role = role.or_else(|| env.var("ALIBABA_CLOUD_ECS_METADATA"));
    let mut provider = EcsRamRoleProvider::new(role)
        .imds_v1_disabled(settings::is_true(env.var("ALIBABA_CLOUD_IMDSV1_DISABLED")))
        .origin(origin);
    if let Some(url) = env.var("ALIBABA_CLOUD_ECS_METADATA_ENDPOINT") {
        provider = provider.endpoint(url);
    }
    provider
}

/// The region from the environment, if set: `ALIBABA_CLOUD_REGION_ID` and its aliases.
pub fn region_from_env(env: &dyn Env) -> Option<String> {
    [
        "ALIBABA_CLOUD_REGION_ID",
        "ALIBABACLOUD_REGION_ID",
        "ALICLOUD_REGION_ID",
    ]
    .iter()
    .find_map(|name| env.var(name))
}

fn home(env: &dyn Env) -> Option<PathBuf> {
    env.var("HOME")
        .or_else(|| env.var("USERPROFILE"))
        .map(PathBuf::from)
}

fn bad_file(path: &Path, problem: impl Into<String>) -> CredentialsError {
    CredentialsError::BadFile {
        path: path.to_owned(),
        problem: problem.into(),
    }
}
