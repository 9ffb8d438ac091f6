//! `RestoreInstance`: overwrite an instance's data with a backup set, or with its state at a
//! point in time (data flashback).

use serde::{Deserialize, Serialize};

use super::describe_backups::parse_minute_time;
use super::{owner_params, Operation, Owner};
use crate::params::Plain;
use crate::response::lenient;
use crate::{validate, ParamError, Params};

/// The request. `#[non_exhaustive]`: build it with [`RestoreInstance::from_backup`] or
/// [`RestoreInstance::to_point_in_time`] and the setters.
///
/// ```
/// use rkvstore_core::{Operation, RestoreInstance};
/// let p = RestoreInstance::from_backup("r-bp1example", "111111111").params()?;
/// let got: Vec<_> = p.iter().collect();
/// assert_eq!(got, [("InstanceId", "r-bp1example"), ("BackupId", "111111111")]);
/// let e = RestoreInstance::from_backup("r-bp1example", "latest").params().unwrap_err();
/// assert_eq!(
///     e.to_string(),
///     "invalid BackupId \"latest\": a backup ID is a number such as 111111111; list them with \
///      `rkvstore backups --instance-id ID`"
/// );
/// # Ok::<(), rkvstore_core::ParamError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RestoreInstance {
    /// `InstanceId`.
    pub instance_id: String,
    /// `BackupId`: the backup set to restore.
    pub backup_id: Option<String>,
    /// `RestoreType`: `1` restores to [`RestoreInstance::restore_time`] (data flashback).
    pub restore_type: Option<String>,
    /// `RestoreTime`, `yyyy-MM-ddTHH:mmZ` (UTC), with `RestoreType` 1.
    pub restore_time: Option<String>,
    /// `FilterKey`: only keys matching these comma-separated regular expressions.
    pub filter_key: Option<String>,
    /// `TimeShift`, `yyyy-MM-ddTHH:mmZ` (UTC): the point key expiry is counted from.
    pub time_shift: Option<String>,
    /// The owner parameters.
    pub owner: Owner,
}

impl RestoreInstance {
    /// Restores `instance_id` from backup set `backup_id`.
    pub fn from_backup(instance_id: impl Into<String>, backup_id: impl Into<String>) -> Self {
        RestoreInstance {
            instance_id: instance_id.into(),
            backup_id: Some(backup_id.into()),
            restore_type: None,
            restore_time: None,
            filter_key: None,
            time_shift: None,
            owner: Owner::default(),
        }
    }

    /// Restores `instance_id` to its state at `time` (`yyyy-MM-ddTHH:mmZ`, UTC); needs data
    /// flashback.
    pub fn to_point_in_time(instance_id: impl Into<String>, time: impl Into<String>) -> Self {
        RestoreInstance {
            instance_id: instance_id.into(),
            backup_id: None,
            restore_type: Some("1".into()),
            restore_time: Some(time.into()),
            filter_key: None,
            time_shift: None,
            owner: Owner::default(),
        }
    }

    /// Restores only keys matching `patterns` (comma-separated regular expressions).
    pub fn filter_keys(mut self, patterns: impl Into<String>) -> Self {
        self.filter_key = Some(patterns.into());
        self
    }
}

impl Operation for RestoreInstance {
    const ACTION: &'static str = "RestoreInstance";
    // A restore overwrites the instance's data: never sent again after an unclear failure.
    const IDEMPOTENT: bool = false;
    type Output = RestoreInstanceResponse;

    fn params(&self) -> Result<Params, ParamError> {
        let mut p = Params::with_capacity(6);
        p.insert_plain(
            const { Plain::name("InstanceId") },
            validate::plain_instance_id(&self.instance_id)?,
        );
        if let Some(id) = &self.backup_id {
            let digits = !id.is_empty() && id.len() <= 20 && id.bytes().all(|b| b.is_ascii_digit());
            if !digits {
                return Err(ParamError::Invalid {
                    name: "BackupId",
                    value: id.clone(),
                    expected: "a backup ID is a number such as 111111111; list them with \
                               `rkvstore backups --instance-id ID`",
                });
            }
            p.insert("BackupId", id.as_str())?;
        }
        match self.restore_type.as_deref() {
            None => {}
            Some("0") | Some("1") => {
                p.insert("RestoreType", self.restore_type.clone().unwrap_or_default())?;
            }
            Some(other) => {
                return Err(ParamError::Invalid {
                    name: "RestoreType",
                    value: other.to_owned(),
                    expected: "use 0 (from a backup set) or 1 (to a point in time, with \
                               RestoreTime)",
                })
            }
        }
        if let Some(time) = &self.restore_time {
            parse_minute_time("RestoreTime", time)?;
            p.insert("RestoreTime", time.as_str())?;
        }
        let point_in_time = self.restore_type.as_deref() == Some("1");
        if point_in_time && self.restore_time.is_none() {
            return Err(ParamError::Invalid {
                name: "RestoreTime",
                value: String::new(),
                expected: "RestoreType 1 needs the point in time as yyyy-MM-ddTHH:mmZ (UTC)",
            });
        }
        if !point_in_time && self.backup_id.is_none() {
            return Err(ParamError::Invalid {
                name: "BackupId",
                value: String::new(),
                expected: "name the backup set to restore, or a point in time with \
                           RestoreType 1 and RestoreTime",
            });
        }
        if let Some(keys) = &self.filter_key {
            p.insert("FilterKey", keys.as_str())?;
        }
        if let Some(shift) = &self.time_shift {
            parse_minute_time("TimeShift", shift)?;
            p.insert("TimeShift", shift.as_str())?;
        }
        owner_params(&mut p, &self.owner)?;
        Ok(p)
    }
}

/// The answer to `RestoreInstance`: only the request ID; follow the instance's status with
/// [`crate::instance_wait::InstanceWait`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct RestoreInstanceResponse {
    /// `RequestId`.
    #[serde(default, deserialize_with = "lenient::string")]
    pub request_id: String,
}

impl RestoreInstanceResponse {
    /// An answer (for test doubles and emulators).
    pub fn new(request_id: impl Into<String>) -> Self {
        RestoreInstanceResponse {
            request_id: request_id.into(),
        }
    }
}

shape_by_request_id!(RestoreInstanceResponse);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn point_in_time_needs_its_time() {
        let op = RestoreInstance::to_point_in_time("r-1", "2026-11-29T08:00Z");
        let p = op.params().unwrap();
        assert_eq!(p.get("RestoreType"), Some("1"));
        assert_eq!(p.get("RestoreTime"), Some("2026-11-29T08:00Z"));
        let mut bad = op.clone();
        bad.restore_time = None;
        assert!(bad.params().is_err());
        let bad = RestoreInstance::to_point_in_time("r-1", "yesterday");
        assert!(bad
            .params()
            .unwrap_err()
            .to_string()
            .contains("RestoreTime"));
        let mut none = RestoreInstance::from_backup("r-1", "1");
        none.backup_id = None;
        assert!(none.params().is_err());
        let mut odd = RestoreInstance::from_backup("r-1", "1");
        odd.restore_type = Some("2".into());
        assert!(odd.params().is_err());
    }
}
