//! `DescribeBackupTasks`: the backup jobs of an instance and how far each has got.

use serde::{Deserialize, Deserializer, Serialize};

use super::{owner_params, BackupStatus, JobMode, Operation, Owner, TaskAction};
use crate::params::{Decimal, Plain};
use crate::response::lenient;
use crate::{validate, ParamError, Params};

/// The request. Only the instance is required. `#[non_exhaustive]`: build it with
/// [`DescribeBackupTasks::new`] and the setters.
///
/// ```
/// use rkvstore_core::{DescribeBackupTasks, JobMode, Operation};
/// let op = DescribeBackupTasks::new("r-bp1example").job_id(1162).mode(JobMode::Manual);
/// let p = op.params()?;
/// let got: Vec<_> = p.iter().collect();
/// assert_eq!(got, [("InstanceId", "r-bp1example"), ("BackupJobId", "1162"), ("JobMode", "Manual")]);
/// # Ok::<(), rkvstore_core::ParamError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DescribeBackupTasks {
    /// `InstanceId`.
    pub instance_id: String,
    /// `RegionId`.
    pub region_id: Option<String>,
    /// `BackupJobId`: one job, as returned by CreateBackup.
    pub backup_job_id: Option<u64>,
    /// `JobMode`: only automated or only manual jobs.
    pub job_mode: Option<JobMode>,
    /// The owner parameters.
    pub owner: Owner,
}

impl DescribeBackupTasks {
    /// All backup jobs of `instance_id`.
    pub fn new(instance_id: impl Into<String>) -> Self {
        DescribeBackupTasks {
            instance_id: instance_id.into(),
            region_id: None,
            backup_job_id: None,
            job_mode: None,
            owner: Owner::default(),
        }
    }

    /// Sets `RegionId`.
    pub fn region(mut self, region_id: impl Into<String>) -> Self {
        self.region_id = Some(region_id.into());
        self
    }

    /// Only the job `id`.
    pub fn job_id(mut self, id: u64) -> Self {
        self.backup_job_id = Some(id);
        self
    }

    /// Only jobs of `mode`.
    pub fn mode(mut self, mode: JobMode) -> Self {
        self.job_mode = Some(mode);
        self
    }
}

impl Operation for DescribeBackupTasks {
    const ACTION: &'static str = "DescribeBackupTasks";
    const IDEMPOTENT: bool = true;
    type Output = DescribeBackupTasksResponse;

    fn params(&self) -> Result<Params, ParamError> {
        let instance_id = validate::plain_instance_id(&self.instance_id)?;
        let region = self
            .region_id
            .as_deref()
            .map(validate::plain_region_id)
            .transpose()?;
        let region_len = region.map_or(0, |r| r.as_str().len());
        let mut p = Params::with_capacity_bytes(4, self.instance_id.len() + region_len + 20);
        // Validated IDs, digits and enum names hold nothing to escape, and their types say so.
        p.insert_plain(const { Plain::name("InstanceId") }, instance_id);
        if let Some(region) = region {
            p.insert_plain(const { Plain::name("RegionId") }, region);
        }
        if let Some(id) = self.backup_job_id {
            p.insert_plain(
                const { Plain::name("BackupJobId") },
                Decimal::new(id).as_plain(),
            );
        }
        if let Some(mode) = &self.job_mode {
            // An `Other` value is only sent if it is a known mode in another spelling.
            let mode = match mode.as_plain() {
                Some(known) => known,
                None => JobMode::parse(mode.as_str())?
                    .as_plain()
                    .unwrap_or(const { Plain::constant("") }),
            };
            p.insert_plain_static(const { Plain::name("JobMode") }, mode);
        }
        owner_params(&mut p, &self.owner)?;
        Ok(p)
    }
}

/// The response. `#[non_exhaustive]`: the API adds fields over time.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct DescribeBackupTasksResponse {
    /// `RequestId`.
    #[serde(default, deserialize_with = "lenient::string")]
    pub request_id: String,
    /// `InstanceId`.
    #[serde(default, deserialize_with = "lenient::string")]
    pub instance_id: String,
    /// `BackupJobs`, in the order the service listed them.
    #[serde(default, deserialize_with = "lenient::list")]
    pub backup_jobs: Vec<BackupJob>,
}

shape_by_request_id!(DescribeBackupTasksResponse);

/// One backup job. `#[non_exhaustive]`: the API adds fields over time; build one with
/// [`BackupJob::new`] and set the fields.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct BackupJob {
    /// `BackupJobID`.
    #[serde(rename = "BackupJobID", deserialize_with = "backup_job_id")]
    pub backup_job_id: u64,
    /// `BackupProgressStatus`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_progress_status: Option<BackupStatus>,
    /// `JobMode`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_mode: Option<JobMode>,
    /// `NodeId` (reserved by the API; usually absent).
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub node_id: Option<String>,
    /// `Process`: progress in percent, as text.
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub process: Option<String>,
    /// `Progress`: progress in percent, as text.
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub progress: Option<String>,
    /// `StartTime`, `yyyy-MM-ddTHH:mm:ssZ`.
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub start_time: Option<String>,
    /// `TaskAction`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_action: Option<TaskAction>,
}

fn backup_job_id<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    lenient::u64_named(d, "BackupJobID")?
        .ok_or_else(|| serde::de::Error::custom("BackupJobID: expected a job ID, found nothing"))
}

impl DescribeBackupTasksResponse {
    /// An answer listing `backup_jobs` of `instance_id` (for test doubles and emulators).
    pub fn new(
        request_id: impl Into<String>,
        instance_id: impl Into<String>,
        backup_jobs: Vec<BackupJob>,
    ) -> Self {
        DescribeBackupTasksResponse {
            request_id: request_id.into(),
            instance_id: instance_id.into(),
            backup_jobs,
        }
    }
}

impl BackupJob {
    /// Job `backup_job_id` with every other field unset.
    pub fn new(backup_job_id: u64) -> Self {
        BackupJob {
            backup_job_id,
            backup_progress_status: None,
            job_mode: None,
            node_id: None,
            process: None,
            progress: None,
            start_time: None,
            task_action: None,
        }
    }

    /// Progress in percent (0 to 100) from `Progress`, else `Process`; `None` when neither is a
    /// number. Accepts `45`, `45%` and `45.5`.
    pub fn percent(&self) -> Option<u8> {
        [&self.progress, &self.process]
            .into_iter()
            .flatten()
            .find_map(|text| {
                let t = text.trim().trim_end_matches('%').trim();
                let v: f64 = t.parse().ok()?;
                v.is_finite().then(|| v.clamp(0.0, 100.0) as u8)
            })
    }

    /// `true` when the job is finished.
    pub fn is_finished(&self) -> bool {
        self.backup_progress_status
            .as_ref()
            .is_some_and(BackupStatus::is_terminal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{response::parse_success, Error, Format};

    fn xml(body: &str) -> Result<DescribeBackupTasksResponse, Error> {
        parse_success(body.as_bytes(), Format::Xml)
    }
    fn json(body: &str) -> Result<DescribeBackupTasksResponse, Error> {
        parse_success(body.as_bytes(), Format::Json)
    }

    #[test]
    fn params_validate() {
        assert!(DescribeBackupTasks::new("bad id").params().is_err());
        assert!(DescribeBackupTasks::new("r-1")
            .region("Bad Region")
            .params()
            .is_err());
        let err = DescribeBackupTasks::new("r-1")
            .mode(JobMode::Other("Weekly".into()))
            .params()
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid JobMode \"Weekly\": expected Automated or Manual"
        );
    }

    #[test]
    fn list_shapes_agree() {
        let one = r#"{"RequestId":"R","InstanceId":"r-1","BackupJobs":[{"BackupJobID":7}]}"#;
        let expected = json(one).unwrap();
        assert_eq!(expected.backup_jobs.len(), 1);
        for other in [
            r#"{"RequestId":"R","InstanceId":"r-1","BackupJobs":{"BackupJobID":"7"}}"#,
            r#"{"RequestId":"R","InstanceId":"r-1","BackupJobs":{"BackupJob":[{"BackupJobID":7}]}}"#,
            r#"{"RequestId":"R","InstanceId":"r-1","BackupJobs":{"BackupJob":{"BackupJobID":7}}}"#,
        ] {
            assert_eq!(json(other).unwrap(), expected, "{other}");
        }
        for other in [
            "<R><RequestId>R</RequestId><InstanceId>r-1</InstanceId><BackupJobs><BackupJobID>7</BackupJobID></BackupJobs></R>",
            "<R><RequestId>R</RequestId><InstanceId>r-1</InstanceId><BackupJobs><BackupJob><BackupJobID>7</BackupJobID></BackupJob></BackupJobs></R>",
        ] {
            assert_eq!(xml(other).unwrap(), expected, "{other}");
        }
    }

    #[test]
    fn empty_and_absent_lists() {
        for body in [
            r#"{"RequestId":"R","InstanceId":"r-1"}"#,
            r#"{"RequestId":"R","InstanceId":"r-1","BackupJobs":[]}"#,
            r#"{"RequestId":"R","InstanceId":"r-1","BackupJobs":null}"#,
            r#"{"RequestId":"R","InstanceId":"r-1","BackupJobs":{"BackupJob":[]}}"#,
        ] {
            assert!(json(body).unwrap().backup_jobs.is_empty(), "{body}");
        }
        let x = xml("<R><RequestId>R</RequestId><InstanceId>r-1</InstanceId><BackupJobs/></R>")
            .unwrap();
        assert!(x.backup_jobs.is_empty());
        assert_eq!(x, json(r#"{"RequestId":"R","InstanceId":"r-1"}"#).unwrap());
    }

    #[test]
    fn bad_numbers_name_the_field() {
        let e =
            json(r#"{"RequestId":"R","BackupJobs":[{"BackupJobID":"99999999999999999999999"}]}"#)
                .unwrap_err();
        assert!(
            e.to_string()
                .contains("BackupJobID: expected a non-negative integer, found a number too large"),
            "{e}"
        );
        let e = xml("<R><RequestId>R</RequestId><BackupJobs><BackupJobID>abc</BackupJobID></BackupJobs></R>").unwrap_err();
        assert!(
            e.to_string()
                .contains("BackupJobID: expected a non-negative integer, found text"),
            "{e}"
        );
        let e = json(r#"{"RequestId":"R","BackupJobs":[{"BackupJobID":1e30}]}"#).unwrap_err();
        assert!(e.to_string().contains("BackupJobID"), "{e}");
    }

    #[test]
    fn an_answer_without_request_id_is_not_a_success() {
        for body in [r#"{}"#, r#"{"BackupJobs":[]}"#, r#"{"RequestId":""}"#] {
            let e = json(body).unwrap_err();
            assert!(e.to_string().contains("(no RequestId)"), "{body}: {e}");
        }
        let e = xml("<html><body>Welcome</body></html>").unwrap_err();
        assert_eq!(
            e.to_string(),
            "unexpected XML response: HTTP status 200 with a body that is not the operation's \
             answer (no RequestId): \"<html><body>Welcome</body></html>\""
        );
    }

    #[test]
    fn numbers_as_strings_and_the_reverse() {
        let r = json(r#"{"RequestId":"R","BackupJobs":[{"BackupJobID":"12","Process":45,"Progress":"45%","NewField":{"x":1}}]}"#).unwrap();
        let job = &r.backup_jobs[0];
        assert_eq!(job.backup_job_id, 12);
        assert_eq!(job.process.as_deref(), Some("45"));
        assert_eq!(job.percent(), Some(45));
    }
}
