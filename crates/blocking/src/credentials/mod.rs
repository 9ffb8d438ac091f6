//! Finding credentials, in the order the official tools look.
//!
//! 1. Credentials given to the builder.
//! 2. Environment: `ALIBABA_CLOUD_ACCESS_KEY_ID`, `ALIBABA_CLOUD_ACCESS_KEY_SECRET` and
//!    `ALIBABA_CLOUD_SECURITY_TOKEN`, or the same names with the `ALIBABACLOUD_` and `ALICLOUD_`
//!    prefixes that the `aliyun` CLI also reads.
//! 3. The `aliyun` CLI's `~/.aliyun/config.json`: the profile named by `--profile` /
//!    `ALIBABA_CLOUD_PROFILE`, else the file's `current` one; modes `AK` and `StsToken`.
//! 4. The credentials file `~/.alibabacloud/credentials` (or `ALIBABA_CLOUD_CREDENTIALS_FILE`),
//!    an INI file whose `[default]` (or named) section has `type = access_key`.
//!
//! Naming a profile explicitly (the builder's `profile`, the CLI's `--profile`) skips the
//! environment's keys: asking for a profile means that profile.
//!
//! Reading the environment goes through [`Env`], so tests can supply their own `HOME` and
//! variables without touching the process's.

mod cli_config;
mod env;
mod ini_file;

use std::fmt;
use std::path::{Path, PathBuf};

use rkvstore_core::Credentials;

/// Where the process environment comes from: the real one, or a map in tests.
pub trait Env {
    /// The value of variable `name`, if set and not empty.
    fn var(&self, name: &str) -> Option<String>;
}

/// The process environment.
#[derive(Clone, Copy, Debug, Default)]
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.is_empty())
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
        }
    }
}

/// Credentials, where they came from, and the default region found beside them.
#[derive(Clone, Debug)]
pub struct Resolved {
    /// The credentials.
    pub credentials: Credentials,
    /// Where they were found.
    pub source: Source,
    /// A region from the same place (a CLI profile's `region_id`), if any.
    pub region: Option<String>,
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
    /// The profile uses a credential mode this version does not support.
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
                    write!(f, "\n  {}. {place}", i + 1)?;
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
            CredentialsError::UnsupportedMode {
                profile,
                mode,
                path,
            } => write!(
                f,
                "profile {profile:?} in {} uses mode {mode}, which rkvstore does not support yet; \
                 use a profile with mode AK or StsToken, or set ALIBABA_CLOUD_ACCESS_KEY_ID and \
                 ALIBABA_CLOUD_ACCESS_KEY_SECRET",
                path.display()
            ),
        }
    }
}

impl std::error::Error for CredentialsError {}

/// Runs the chain. `explicit` wins; `profile` is a profile named by the caller.
pub fn resolve(
    env: &dyn Env,
    explicit: Option<&Credentials>,
    profile: Option<&str>,
) -> Result<Resolved, CredentialsError> {
    if let Some(c) = explicit {
        return Ok(Resolved {
            credentials: c.clone(),
            source: Source::Explicit,
            region: None,
        });
    }
    let mut looked = vec!["explicit credentials: none given".to_owned()];

    if profile.is_none() {
        match env::from_env(env)? {
            Some(found) => return Ok(found),
            None => looked.push(format!(
                "environment variables {}: not set",
                env::ID_VARS.join(", ")
            )),
        }
    } else {
        looked.push("environment variables: skipped because a profile was named".to_owned());
    }

    let profile = profile
        .map(str::to_owned)
        .or_else(|| env.var("ALIBABA_CLOUD_PROFILE"));
    let home = home(env);
    let cli_path = home.as_ref().map(|h| h.join(".aliyun").join("config.json"));
    let mut files_with_profiles = Vec::new();
    match &cli_path {
        Some(path) if crate::local_file::exists(path) => {
            files_with_profiles.push(path.clone());
            if let Some(found) = cli_config::load(path, profile.as_deref())? {
                return Ok(found);
            }
            looked.push(format!(
                "{}: no profile {}",
                path.display(),
                profile.as_deref().unwrap_or("marked current")
            ));
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
            if let Some(found) = ini_file::load(path, &section)? {
                return Ok(found);
            }
            looked.push(format!("{}: no section [{section}]", path.display()));
        }
        Some(path) => looked.push(format!("{}: not found", path.display())),
        None => looked.push("~/.alibabacloud/credentials: HOME is not set".to_owned()),
    }

    // A profile that was asked for by name and exists nowhere is a mistake worth naming.
    if let Some(profile) = profile {
        return Err(CredentialsError::NoSuchProfile {
            profile,
            files: files_with_profiles,
        });
    }
    Err(CredentialsError::NotFound { looked })
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
