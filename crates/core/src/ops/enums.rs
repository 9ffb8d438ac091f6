//! The API's enumerations. Each keeps values it does not know in `Other`, because the service
//! adds states over time and a client must not fail on them.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::ParamError;

macro_rules! string_enum {
    (
        $(#[$meta:meta])*
        $name:ident, $param:literal, $expected:literal {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value this version does not know, kept as sent.
            Other(String),
        }

        impl $name {
            /// The API's spelling.
            pub fn as_str(&self) -> &str {
                match self {
                    $( $name::$variant => $text, )+
                    $name::Other(s) => s,
                }
            }

            /// The API's spelling of a known value; `None` for `Other`.
            pub fn as_static(&self) -> Option<&'static str> {
                match self {
                    $( $name::$variant => Some($text), )+
                    $name::Other(_) => None,
                }
            }

            /// [`Self::as_static`] as text the signer copies without escaping; every known
            /// spelling is checked when the crate is compiled.
            #[allow(dead_code)] // Not every enumeration is a request parameter.
            pub(crate) fn as_plain(&self) -> Option<crate::params::Plain<'static>> {
                match self {
                    $( $name::$variant => Some(const { crate::params::Plain::constant($text) }), )+
                    $name::Other(_) => None,
                }
            }

            /// The value for API text, keeping unknown text in `Other`.
            pub fn from_api(s: &str) -> Self {
                match s {
                    $( $text => $name::$variant, )+
                    other => $name::Other(other.to_owned()),
                }
            }

            /// Parses what a user typed: the known values, in any case.
            pub fn parse(s: &str) -> Result<Self, ParamError> {
                $( if s.eq_ignore_ascii_case($text) { return Ok($name::$variant); } )+
                Err(ParamError::Invalid { name: $param, value: s.to_owned(), expected: $expected })
            }
        }

        /// [`Self::parse`]: the known values, in any case.
        impl std::str::FromStr for $name {
            type Err = ParamError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $name::parse(s)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                // Read in place: a known value costs no allocation.
                crate::response::lenient::map_str(d, $name::from_api)
            }
        }
    };
}

string_enum! {
    /// Whether a backup was taken by the automatic policy or on request.
    JobMode, "JobMode", "expected Automated or Manual" {
        /// Taken by the automatic backup policy.
        Automated = "Automated",
        /// Taken on request (CreateBackup).
        Manual = "Manual",
    }
}

string_enum! {
    /// Where a backup job is.
    BackupStatus, "BackupProgressStatus",
    "expected NoStart, Preparing, Waiting, Uploading, Checking or Finished" {
        /// Not started.
        NoStart = "NoStart",
        /// Being prepared.
        Preparing = "Preparing",
        /// Waiting to run.
        Waiting = "Waiting",
        /// Uploading the backup file.
        Uploading = "Uploading",
        /// Checking the uploaded file.
        Checking = "Checking",
        /// Done.
        Finished = "Finished",
    }
}

impl BackupStatus {
    /// `true` once the job will not change any more.
    pub fn is_terminal(&self) -> bool {
        matches!(self, BackupStatus::Finished)
    }
}

string_enum! {
    /// What started a backup job.
    TaskAction, "TaskAction", "expected TempBackupTask or NormalBackupTask" {
        /// A manual backup.
        TempBackupTask = "TempBackupTask",
        /// An automatic backup.
        NormalBackupTask = "NormalBackupTask",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_values_are_kept_and_user_input_is_checked() {
        assert_eq!(
            BackupStatus::from_api("Frozen"),
            BackupStatus::Other("Frozen".into())
        );
        assert_eq!(BackupStatus::from_api("Frozen").to_string(), "Frozen");
        assert_eq!(JobMode::parse("manual").unwrap(), JobMode::Manual);
        assert_eq!("AUTOMATED".parse::<JobMode>().unwrap(), JobMode::Automated);
        assert_eq!(
            JobMode::parse("weekly").unwrap_err().to_string(),
            "invalid JobMode \"weekly\": expected Automated or Manual"
        );
    }
}
