//! Backup sets: made when backup jobs finish (or seeded), listed by `DescribeBackups` with the
//! service's pagination, each with a download URL the emulator itself serves
//! ([`crate::download`]).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use rkvstore_core::{Backup, DescribeBackupsResponse, JobMode, Timestamp, PAGE_SIZES};
use serde_json::{json, Value};

use crate::auth::Incoming;
use crate::jobs::STEPS;
use crate::policy::Policy;
use crate::render::Failure;
use crate::restore::Restore;
use crate::state::State;

/// How long a download URL works unless told otherwise: an hour, as the service's do.
pub const DEFAULT_URL_LIFETIME: Duration = Duration::from_secs(3600);

/// The page size when a request names none, as the service's default.
const DEFAULT_PAGE_SIZE: u64 = 30;

/// One backup set.
#[derive(Clone, Debug)]
pub(crate) struct BackupSet {
    pub(crate) id: u64,
    pub(crate) job_id: Option<u64>,
    pub(crate) mode: JobMode,
    pub(crate) start: Timestamp,
    pub(crate) end: Timestamp,
    pub(crate) size: u64,
}

/// A download that ended early on purpose, for tests of resuming.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Cut {
    pub(crate) after_bytes: u64,
    pub(crate) remaining: u32,
}

/// One download request, as it arrived.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DownloadRecord {
    /// The backup set.
    pub backup_id: u64,
    /// The `Range` header, if any.
    pub range: Option<String>,
    /// The status answered.
    pub status: u16,
}

/// Everything about backup sets, policies, restores and downloads.
#[derive(Debug)]
pub(crate) struct Store {
    pub(crate) sets: BTreeMap<String, Vec<BackupSet>>,
    synced_jobs: BTreeSet<u64>,
    next_id: u64,
    pub(crate) policies: BTreeMap<String, Policy>,
    pub(crate) restores: BTreeMap<String, Restore>,
    /// `http://IP:PORT` of this emulator, for the URLs it hands out.
    pub(crate) base_url: String,
    pub(crate) url_lifetime: Duration,
    pub(crate) cuts: Vec<Cut>,
    pub(crate) downloads: Vec<DownloadRecord>,
    /// Keys the download URLs' signatures, so that an edited URL is refused like OSS does.
    pub(crate) url_key: u64,
}

impl Default for Store {
    fn default() -> Self {
        Store {
            sets: BTreeMap::new(),
            synced_jobs: BTreeSet::new(),
            next_id: 800_000_001,
            policies: BTreeMap::new(),
            restores: BTreeMap::new(),
            base_url: String::new(),
            url_lifetime: DEFAULT_URL_LIFETIME,
            cuts: Vec::new(),
            downloads: Vec::new(),
            url_key: 0x005e_ed0f_0551,
        }
    }
}

/// The size of set `id`: between 192 KiB and about 448 KiB, different per set, so that
/// downloads take several reads yet tests stay quick.
pub(crate) fn size_of(id: u64) -> u64 {
    192 * 1024 + (id.wrapping_mul(7919) % 256) * 1024 + id % 1000
}

impl Store {
    fn add(&mut self, instance: &str, job_id: Option<u64>, mode: JobMode, start: Timestamp) -> u64 {
        let id = self.next_id;
        self.next_id = self.next_id.saturating_add(1);
        let set = BackupSet {
            id,
            job_id,
            mode,
            start,
            end: start.offset(90),
            size: size_of(id),
        };
        self.sets.entry(instance.to_owned()).or_default().push(set);
        id
    }

    /// Adds `n` finished automated sets to `instance`, spread over the six days before `now`.
    pub(crate) fn seed(&mut self, instance: &str, n: u32, now: Timestamp) {
        let spacing = (6 * 86_400 / i64::from(n.max(1))).clamp(1, 3600);
        for i in 0..n {
            let start = now.offset(-3600 - i64::from(i) * spacing);
            self.add(instance, None, JobMode::Automated, start);
        }
    }

    /// The set `id` of `instance`.
    pub(crate) fn find(&self, instance: &str, id: u64) -> Option<&BackupSet> {
        self.sets.get(instance)?.iter().find(|s| s.id == id)
    }
}

/// Makes a set for every finished job not yet turned into one: the service lists a backup set
/// once its job is done.
pub(crate) fn sync_jobs(state: &mut State, instance: &str) {
    let last = STEPS.len() - 1;
    let finished: Vec<(u64, JobMode, Timestamp)> = state
        .instances
        .get(instance)
        .map(|jobs| {
            jobs.iter()
                .filter(|j| j.step >= last)
                .map(|j| (j.id, j.mode.clone(), j.start))
                .collect()
        })
        .unwrap_or_default();
    for (job, mode, start) in finished {
        if state.backup.synced_jobs.insert(job) {
            state.backup.add(instance, Some(job), mode, start);
        }
    }
}

/// Reads a `yyyy-MM-ddTHH:mmZ` parameter.
fn minute_param(req: &Incoming, name: &'static str) -> Result<Timestamp, Failure> {
    let missing = match name {
        "StartTime" => "MissingStartTime",
        _ => "MissingEndTime",
    };
    let malformed = match name {
        "StartTime" => "InvalidStartTime.Malformed",
        _ => "InvalidEndTime.Malformed",
    };
    let value = req.param(name).filter(|v| !v.is_empty()).ok_or_else(|| {
        Failure::new(
            400,
            missing,
            format!("{name} is mandatory for this action."),
        )
    })?;
    let parsed = (value.len() == 17 && value.ends_with('Z'))
        .then(|| value.get(..16))
        .flatten()
        .and_then(|m| Timestamp::parse_iso8601(&format!("{m}:00Z")));
    parsed.ok_or_else(|| {
        Failure::new(
            400,
            malformed,
            format!("Specified {name} is not valid; use the yyyy-MM-ddTHH:mmZ format in UTC."),
        )
    })
}

fn number_param(req: &Incoming, name: &str, code: &'static str) -> Result<Option<u64>, Failure> {
    match req.param(name).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v.parse().map(Some).map_err(|_| {
            Failure::new(
                400,
                code,
                format!("Specified parameter {name} is not valid."),
            )
        }),
    }
}

/// `DescribeBackups`.
pub(crate) fn describe_backups(
    req: &Incoming,
    state: &mut State,
    instance: &str,
    request_id: &str,
) -> Result<Value, Failure> {
    let start = minute_param(req, "StartTime")?;
    let end = minute_param(req, "EndTime")?;
    if end.unix() <= start.unix() {
        return Err(Failure::new(
            400,
            "InvalidEndTime.Malformed",
            "Specified EndTime must be later than StartTime.",
        ));
    }
    let page_size =
        number_param(req, "PageSize", "InvalidPageSize.Malformed")?.unwrap_or(DEFAULT_PAGE_SIZE);
    if !PAGE_SIZES.iter().any(|&s| u64::from(s) == page_size) {
        return Err(Failure::new(
            400,
            "InvalidPageSize.Malformed",
            "Specified PageSize is not valid; use 30, 50, 100, 200 or 300.",
        ));
    }
    let page = number_param(req, "PageNumber", "InvalidPageNumber.Malformed")?.unwrap_or(1);
    if page == 0 || page > i32::MAX as u64 {
        return Err(Failure::new(
            400,
            "InvalidPageNumber.Malformed",
            "Specified PageNumber is not valid; pages are numbered from 1.",
        ));
    }
    let backup_id = number_param(req, "BackupId", "InvalidBackupId.Malformed")?;
    let job_id = number_param(req, "BackupJobId", "InvalidBackupJobId.Malformed")?;
    sync_jobs(state, instance);
    let now = state.now();
    let store = &state.backup;
    let mut matching: Vec<&BackupSet> = store
        .sets
        .get(instance)
        .map(|sets| {
            sets.iter()
                .filter(|s| s.start.unix() >= start.unix() && s.start.unix() <= end.unix())
                .filter(|s| backup_id.is_none_or(|id| s.id == id))
                .filter(|s| job_id.is_none_or(|id| s.job_id == Some(id)))
                .collect()
        })
        .unwrap_or_default();
    // Newest first, as the service lists them.
    matching.sort_by_key(|s| std::cmp::Reverse((s.start.unix(), s.id)));
    let total = matching.len() as u64;
    let skip = usize::try_from((page - 1).saturating_mul(page_size)).unwrap_or(usize::MAX);
    let shown: Vec<Backup> = matching
        .iter()
        .skip(skip)
        .take(page_size as usize)
        .map(|s| view(store, instance, s, now))
        .collect();
    let full: u64 = store
        .sets
        .get(instance)
        .map(|sets| sets.iter().map(|s| s.size).sum())
        .unwrap_or(0);
    let mut answer = DescribeBackupsResponse::new(request_id, shown);
    answer.total_count = Some(total);
    answer.page_number = Some(page);
    answer.page_size = Some(page_size);
    answer.full_storage_size = Some(full);
    answer.log_storage_size = Some(0);
    answer.free_size = Some(1 << 30);
    let mut value = serde_json::to_value(answer)
        .map_err(|e| Failure::new(500, "InternalError", e.to_string()))?;
    // The service wraps the list: `"Backups": {"Backup": [...]}`.
    if let Some(list) = value.get_mut("Backups").map(Value::take) {
        value["Backups"] = json!({ "Backup": list });
    }
    Ok(value)
}

fn view(store: &Store, instance: &str, s: &BackupSet, now: Timestamp) -> Backup {
    let url = crate::download::url(store, instance, s, now);
    let mut b = Backup::new(s.id);
    b.backup_status = Some("Success".into());
    b.backup_start_time = Some(s.start.to_string());
    b.backup_end_time = Some(s.end.to_string());
    b.backup_type = Some("FullBackup".into());
    b.backup_method = Some("Physical".into());
    b.backup_mode = Some(
        match s.mode {
            JobMode::Manual => "Manual",
            _ => "Automated",
        }
        .into(),
    );
    b.backup_size = Some(s.size);
    b.backup_intranet_download_url = Some(url.clone());
    b.backup_download_url = Some(url);
    b.node_instance_id = Some(format!("{instance}-db-0"));
    b.engine_version = Some("7.0".into());
    b.backup_db_names = Some("all".into());
    b.backup_job_id = s.job_id;
    b.expect_expire_time = Some(s.start.offset(7 * 86_400).to_string());
    b.recover_config_mode = Some("Default".into());
    b
}
