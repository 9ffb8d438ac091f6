//! `DescribeBackups`: the backup sets of an instance in a time window, one page at a time.
//!
//! [`crate::pager::BackupPager`] walks every page.

use serde::{Deserialize, Deserializer, Serialize};

use super::{owner_params, Operation, Owner};
use crate::params::{Decimal, Plain};
use crate::response::lenient;
use crate::{validate, ParamError, Params, Timestamp};

/// The page sizes the service accepts.
pub const PAGE_SIZES: [u32; 5] = [30, 50, 100, 200, 300];

/// The request. `StartTime` and `EndTime` are required, in UTC as `yyyy-MM-ddTHH:mmZ`.
/// `#[non_exhaustive]`: build it with [`DescribeBackups::new`] and the setters.
///
/// ```
/// use rkvstore_core::{DescribeBackups, Operation};
/// let op = DescribeBackups::new("r-bp1example", "2026-11-22T00:00Z", "2026-11-29T00:00Z").page_size(50);
/// let p = op.params()?;
/// assert_eq!(p.get("StartTime"), Some("2026-11-22T00:00Z"));
/// assert_eq!(p.get("PageSize"), Some("50"));
/// let err = DescribeBackups::new("r-bp1example", "2026-11-22T00:00Z", "2026-11-29T00:00Z")
///     .page_size(40)
///     .params()
///     .unwrap_err();
/// assert_eq!(err.to_string(), "invalid PageSize \"40\": use 30, 50, 100, 200 or 300");
/// # Ok::<(), rkvstore_core::ParamError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DescribeBackups {
    /// `InstanceId`.
    pub instance_id: String,
    /// `StartTime`, `yyyy-MM-ddTHH:mmZ` (UTC).
    pub start_time: String,
    /// `EndTime`, `yyyy-MM-ddTHH:mmZ` (UTC), later than the start.
    pub end_time: String,
    /// `RegionId`.
    pub region_id: Option<String>,
    /// `BackupId`: one backup set.
    pub backup_id: Option<u64>,
    /// `BackupJobId`: the sets made by one job, as returned by CreateBackup.
    pub backup_job_id: Option<u64>,
    /// `NeedAof`: also list AOF files.
    pub need_aof: Option<bool>,
    /// `PageSize`: 30, 50, 100, 200 or 300.
    pub page_size: Option<u32>,
    /// `PageNumber`, from 1.
    pub page_number: Option<u32>,
    /// The owner parameters.
    pub owner: Owner,
}

impl DescribeBackups {
    /// The backup sets of `instance_id` made between `start` and `end`
    /// (`yyyy-MM-ddTHH:mmZ`, UTC).
    pub fn new(
        instance_id: impl Into<String>,
        start: impl Into<String>,
        end: impl Into<String>,
    ) -> Self {
        DescribeBackups {
            instance_id: instance_id.into(),
            start_time: start.into(),
            end_time: end.into(),
            region_id: None,
            backup_id: None,
            backup_job_id: None,
            need_aof: None,
            page_size: None,
            page_number: None,
            owner: Owner::default(),
        }
    }

    /// The `days` days before `now`, to the minute.
    pub fn last_days(instance_id: impl Into<String>, now: Timestamp, days: u32) -> Self {
        let start = now.offset(-i64::from(days) * 86_400);
        DescribeBackups::new(instance_id, minute_time(start), minute_time(now.offset(60)))
    }

    /// Sets `RegionId`.
    pub fn region(mut self, region_id: impl Into<String>) -> Self {
        self.region_id = Some(region_id.into());
        self
    }

    /// Only the backup set `id`.
    pub fn backup_id(mut self, id: u64) -> Self {
        self.backup_id = Some(id);
        self
    }

    /// Only the sets of job `id`.
    pub fn job_id(mut self, id: u64) -> Self {
        self.backup_job_id = Some(id);
        self
    }

    /// Sets `PageSize` (30, 50, 100, 200 or 300).
    pub fn page_size(mut self, size: u32) -> Self {
        self.page_size = Some(size);
        self
    }

    /// Sets `PageNumber` (from 1).
    pub fn page_number(mut self, page: u32) -> Self {
        self.page_number = Some(page);
        self
    }
}

/// `time` as `yyyy-MM-ddTHH:mmZ`, the form DescribeBackups and RestoreInstance take.
pub fn minute_time(time: Timestamp) -> String {
    let full = time.to_string();
    format!("{}Z", full.get(..16).unwrap_or(&full))
}

/// Parses `yyyy-MM-ddTHH:mmZ` (UTC) for `name`, with an error that shows the form.
pub(crate) fn parse_minute_time(name: &'static str, value: &str) -> Result<Timestamp, ParamError> {
    let bad = || ParamError::Invalid {
        name,
        value: value.to_owned(),
        expected: "use UTC time as yyyy-MM-ddTHH:mmZ, such as 2026-11-29T08:00Z",
    };
    let shaped = value.len() == 17
        && value.is_char_boundary(16)
        && value.ends_with('Z')
        && value.as_bytes().get(10) == Some(&b'T');
    if !shaped {
        return Err(bad());
    }
    let minute = value.get(..16).ok_or_else(bad)?;
    Timestamp::parse_iso8601(&format!("{minute}:00Z")).ok_or_else(bad)
}

impl Operation for DescribeBackups {
    const ACTION: &'static str = "DescribeBackups";
    const IDEMPOTENT: bool = true;
    type Output = DescribeBackupsResponse;

    fn params(&self) -> Result<Params, ParamError> {
        let instance_id = validate::plain_instance_id(&self.instance_id)?;
        let start = parse_minute_time("StartTime", &self.start_time)?;
        let end = parse_minute_time("EndTime", &self.end_time)?;
        if end.unix() <= start.unix() {
            return Err(ParamError::Invalid {
                name: "EndTime",
                value: self.end_time.clone(),
                expected: "the end of the window must be later than its start (StartTime)",
            });
        }
        let mut p = Params::with_capacity(10);
        p.insert_plain(const { Plain::name("InstanceId") }, instance_id);
        if let Some(region) = self.region_id.as_deref() {
            p.insert_plain(
                const { Plain::name("RegionId") },
                validate::plain_region_id(region)?,
            );
        }
        p.insert("StartTime", self.start_time.as_str())?;
        p.insert("EndTime", self.end_time.as_str())?;
        if let Some(id) = self.backup_id {
            p.insert_plain(
                const { Plain::name("BackupId") },
                Decimal::new(id).as_plain(),
            );
        }
        if let Some(id) = self.backup_job_id {
            p.insert_plain(
                const { Plain::name("BackupJobId") },
                Decimal::new(id).as_plain(),
            );
        }
        if let Some(aof) = self.need_aof {
            p.insert("NeedAof", if aof { "1" } else { "0" })?;
        }
        if let Some(size) = self.page_size {
            if !PAGE_SIZES.contains(&size) {
                return Err(ParamError::Invalid {
                    name: "PageSize",
                    value: size.to_string(),
                    expected: "use 30, 50, 100, 200 or 300",
                });
            }
            p.insert_plain(
                const { Plain::name("PageSize") },
                Decimal::new(u64::from(size)).as_plain(),
            );
        }
        if let Some(page) = self.page_number {
            if page == 0 {
                return Err(ParamError::Invalid {
                    name: "PageNumber",
                    value: page.to_string(),
                    expected: "pages are numbered from 1",
                });
            }
            p.insert_plain(
                const { Plain::name("PageNumber") },
                Decimal::new(u64::from(page)).as_plain(),
            );
        }
        owner_params(&mut p, &self.owner)?;
        Ok(p)
    }
}

/// The response: one page. `#[non_exhaustive]`: the API adds fields over time.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct DescribeBackupsResponse {
    /// `RequestId`.
    #[serde(default, deserialize_with = "lenient::string")]
    pub request_id: String,
    /// `Backups.Backup`: the sets on this page.
    #[serde(default, deserialize_with = "lenient::list")]
    pub backups: Vec<Backup>,
    /// `TotalCount`: sets in the whole window.
    #[serde(
        default,
        deserialize_with = "total_count",
        skip_serializing_if = "Option::is_none"
    )]
    pub total_count: Option<u64>,
    /// `PageNumber`.
    #[serde(
        default,
        deserialize_with = "page_number",
        skip_serializing_if = "Option::is_none"
    )]
    pub page_number: Option<u64>,
    /// `PageSize`.
    #[serde(
        default,
        deserialize_with = "page_size",
        skip_serializing_if = "Option::is_none"
    )]
    pub page_size: Option<u64>,
    /// `FullStorageSize`: bytes of all valid full backups of the instance.
    #[serde(
        default,
        deserialize_with = "full_storage_size",
        skip_serializing_if = "Option::is_none"
    )]
    pub full_storage_size: Option<u64>,
    /// `LogStorageSize`: bytes of log backups (data flashback).
    #[serde(
        default,
        deserialize_with = "log_storage_size",
        skip_serializing_if = "Option::is_none"
    )]
    pub log_storage_size: Option<u64>,
    /// `FreeSize`: the free backup quota in bytes.
    #[serde(
        default,
        deserialize_with = "free_size",
        skip_serializing_if = "Option::is_none"
    )]
    pub free_size: Option<u64>,
}

shape_by_request_id!(DescribeBackupsResponse);

impl DescribeBackupsResponse {
    /// A page holding `backups` (for test doubles and emulators).
    pub fn new(request_id: impl Into<String>, backups: Vec<Backup>) -> Self {
        DescribeBackupsResponse {
            request_id: request_id.into(),
            backups,
            ..DescribeBackupsResponse::default()
        }
    }
}

/// One backup set. `#[non_exhaustive]`: build one with [`Backup::new`] and set the fields.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct Backup {
    /// `BackupId`.
    #[serde(deserialize_with = "backup_id")]
    pub backup_id: u64,
    /// `BackupStatus`: `Success` or `Failed`.
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub backup_status: Option<String>,
    /// `BackupStartTime`, `yyyy-MM-ddTHH:mm:ssZ`.
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub backup_start_time: Option<String>,
    /// `BackupEndTime`, `yyyy-MM-ddTHH:mm:ssZ`.
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub backup_end_time: Option<String>,
    /// `BackupType`: `FullBackup` or `IncrementalBackup`.
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub backup_type: Option<String>,
    /// `BackupMethod`: `Physical` or `Logical`.
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub backup_method: Option<String>,
    /// `BackupMode`: `Automated` or `Manual`.
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub backup_mode: Option<String>,
    /// `BackupSize` in bytes.
    #[serde(
        default,
        deserialize_with = "backup_size",
        skip_serializing_if = "Option::is_none"
    )]
    pub backup_size: Option<u64>,
    /// `BackupDownloadURL`: the public download URL (pre-signed, expires).
    #[serde(
        rename = "BackupDownloadURL",
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub backup_download_url: Option<String>,
    /// `BackupIntranetDownloadURL`: the download URL inside the VPC.
    #[serde(
        rename = "BackupIntranetDownloadURL",
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub backup_intranet_download_url: Option<String>,
    /// `NodeInstanceId`: the node the set was taken from.
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub node_instance_id: Option<String>,
    /// `EngineVersion`.
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub engine_version: Option<String>,
    /// `BackupDBNames`.
    #[serde(
        rename = "BackupDBNames",
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub backup_db_names: Option<String>,
    /// `BackupJobID`.
    #[serde(
        rename = "BackupJobID",
        default,
        deserialize_with = "backup_job_id",
        skip_serializing_if = "Option::is_none"
    )]
    pub backup_job_id: Option<u64>,
    /// `ExpectExpireTime`: when the set is deleted.
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub expect_expire_time: Option<String>,
    /// `RecoverConfigMode`.
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub recover_config_mode: Option<String>,
}

impl Backup {
    /// Backup set `backup_id` with every other field unset.
    pub fn new(backup_id: u64) -> Self {
        Backup {
            backup_id,
            backup_status: None,
            backup_start_time: None,
            backup_end_time: None,
            backup_type: None,
            backup_method: None,
            backup_mode: None,
            backup_size: None,
            backup_download_url: None,
            backup_intranet_download_url: None,
            node_instance_id: None,
            engine_version: None,
            backup_db_names: None,
            backup_job_id: None,
            expect_expire_time: None,
            recover_config_mode: None,
        }
    }

    /// The download URL: the VPC one when `intranet`, else the public one; `None` when the
    /// answer has none (or an empty one).
    pub fn download_url(&self, intranet: bool) -> Option<&str> {
        let url = if intranet {
            &self.backup_intranet_download_url
        } else {
            &self.backup_download_url
        };
        url.as_deref().map(str::trim).filter(|u| !u.is_empty())
    }
}

opt_u64_fields!(
    total_count => "TotalCount",
    page_number => "PageNumber",
    page_size => "PageSize",
    full_storage_size => "FullStorageSize",
    log_storage_size => "LogStorageSize",
    free_size => "FreeSize",
    backup_size => "BackupSize",
    backup_job_id => "BackupJobID",
);

fn backup_id<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    lenient::u64_named(d, "BackupId")?
        .ok_or_else(|| serde::de::Error::custom("BackupId: expected a backup ID, found nothing"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_checked() {
        let op = |s: &str, e: &str| DescribeBackups::new("r-1", s, e).params();
        assert!(op("2026-11-22T00:00Z", "2026-11-29T00:00Z").is_ok());
        let e = op("2026-11-22 00:00", "2026-11-29T00:00Z").unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid StartTime \"2026-11-22 00:00\": use UTC time as yyyy-MM-ddTHH:mmZ, such as \
             2026-11-29T08:00Z"
        );
        assert!(op("2026-11-22T00:00:00Z", "2026-11-29T00:00Z").is_err());
        assert!(op("2026-13-22T00:00Z", "2026-11-29T00:00Z").is_err());
        assert!(op("2026-11-22T00:00Z", "2026-11-2\u{e9}T00:0Z").is_err());
        let e = op("2026-11-29T00:00Z", "2026-11-22T00:00Z").unwrap_err();
        assert!(e.to_string().contains("later than its start"), "{e}");
        let e = DescribeBackups::new("r-1", "2026-11-22T00:00Z", "2026-11-29T00:00Z")
            .page_number(0)
            .params()
            .unwrap_err();
        assert!(e.to_string().contains("numbered from 1"), "{e}");
    }

    #[test]
    fn last_days_is_a_minute_window() {
        let now = Timestamp::parse_iso8601("2026-11-29T15:05:09Z").unwrap();
        let op = DescribeBackups::last_days("r-1", now, 7);
        assert_eq!(op.start_time, "2026-11-22T15:05Z");
        assert_eq!(op.end_time, "2026-11-29T15:06Z");
        assert!(op.params().is_ok());
    }
}
