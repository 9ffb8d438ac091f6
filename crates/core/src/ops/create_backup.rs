//! `CreateBackup`: start a manual backup.

use serde::{Deserialize, Serialize};

use super::{owner_params, Operation, Owner};
use crate::params::{Decimal, Plain};
use crate::response::lenient;
use crate::{validate, ParamError, Params};

/// The request.
///
/// ```
/// use rkvstore_core::{CreateBackup, Operation};
/// let p = CreateBackup::new("r-bp1example").retention_days(7).params()?;
/// assert_eq!(p.get("BackupRetentionPeriod"), Some("7"));
/// assert!(CreateBackup::new("r-bp1example").retention_days(3).params().is_err());
/// # Ok::<(), rkvstore_core::ParamError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CreateBackup {
    /// `InstanceId`.
    pub instance_id: String,
    /// `BackupRetentionPeriod` in days: 7 to 730, or -1 to keep the backup for the instance's
    /// lifetime. Unset follows the automatic backup policy.
    pub backup_retention_period: Option<i32>,
    /// The owner parameters.
    pub owner: Owner,
}

impl CreateBackup {
    /// A manual backup of `instance_id`.
    pub fn new(instance_id: impl Into<String>) -> Self {
        CreateBackup {
            instance_id: instance_id.into(),
            backup_retention_period: None,
            owner: Owner::default(),
        }
    }

    /// Keep the backup `days` days (7 to 730, or -1 for the instance's lifetime).
    pub fn retention_days(mut self, days: i32) -> Self {
        self.backup_retention_period = Some(days);
        self
    }
}

impl Operation for CreateBackup {
    const ACTION: &'static str = "CreateBackup";
    const IDEMPOTENT: bool = false;
    type Output = CreateBackupResponse;

    fn params(&self) -> Result<Params, ParamError> {
        let instance_id = validate::plain_instance_id(&self.instance_id)?;
        let mut p = Params::with_capacity(2);
        p.insert_plain(const { Plain::name("InstanceId") }, instance_id);
        if let Some(days) = self.backup_retention_period {
            if days != -1 && !(7..=730).contains(&days) {
                return Err(ParamError::Invalid {
                    name: "BackupRetentionPeriod",
                    value: days.to_string(),
                    expected: "retention is 7 to 730 days, or -1 to keep the backup as long as \
                               the instance exists",
                });
            }
            p.insert_plain(
                const { Plain::name("BackupRetentionPeriod") },
                Decimal::signed(days).as_plain(),
            );
        }
        owner_params(&mut p, &self.owner)?;
        Ok(p)
    }
}

/// The response. `#[non_exhaustive]`: the API adds fields over time.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct CreateBackupResponse {
    /// `RequestId`.
    #[serde(default, deserialize_with = "lenient::string")]
    pub request_id: String,
    /// `BackupJobID`: one job ID, or for cluster instances created before December 2023 a
    /// comma-separated list, one per shard. Use [`CreateBackupResponse::job_ids`].
    #[serde(rename = "BackupJobID", default, deserialize_with = "lenient::string")]
    pub backup_job_id: String,
}

impl crate::Shape for CreateBackupResponse {
    fn lacks(&self) -> Option<&'static str> {
        if self.request_id.trim().is_empty() {
            Some("no RequestId")
        } else if self.job_ids().is_none() {
            Some("no backup job ID")
        } else {
            None
        }
    }
}

impl CreateBackupResponse {
    /// An answer naming the job started (for test doubles and emulators).
    pub fn new(request_id: impl Into<String>, backup_job_id: impl Into<String>) -> Self {
        CreateBackupResponse {
            request_id: request_id.into(),
            backup_job_id: backup_job_id.into(),
        }
    }

    /// The job IDs in `BackupJobID`, or `None` if any part is not a number.
    pub fn job_ids(&self) -> Option<Vec<u64>> {
        self.backup_job_id
            .split(',')
            .map(|part| part.trim().parse().ok())
            .collect::<Option<Vec<u64>>>()
            .filter(|ids| !ids.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_ids() {
        let r = |s: &str| CreateBackupResponse {
            request_id: String::new(),
            backup_job_id: s.into(),
        };
        assert_eq!(r("1162").job_ids(), Some(vec![1162]));
        assert_eq!(r("10000, 10001").job_ids(), Some(vec![10000, 10001]));
        assert_eq!(r("").job_ids(), None);
        assert_eq!(r("x").job_ids(), None);
    }
}
