//! The actions the emulator implements.

use rkvstore_core::{
    validate, BackupJob, CreateBackupResponse, DescribeBackupTasksResponse, JobMode, VERSION,
};
use serde_json::Value;

use crate::auth::Incoming;
use crate::jobs::Job;
use crate::render::Failure;
use crate::state::State;

/// Runs `action`; the request is already authenticated.
pub(crate) fn run(
    action: &str,
    version: &str,
    req: &Incoming,
    state: &mut State,
    request_id: &str,
) -> Result<Value, Failure> {
    // Listing regions and instances, and the fleet's instances (see `crate::fleet`).
    if let Some(answer) = crate::fleet::run(action, version, req, state, request_id) {
        return answer;
    }
    let known = matches!(
        action,
        "DescribeBackupTasks"
            | "CreateBackup"
            | "DescribeBackups"
            | "DescribeBackupPolicy"
            | "ModifyBackupPolicy"
            | "RestoreInstance"
            | "DescribeInstanceAttribute"
    );
    if !known {
        return Err(Failure::new(
            404,
            "InvalidAction.NotFound",
            format!(
                "Specified api is not found, please check your url and method. (action {action})"
            ),
        ));
    }
    if version != VERSION {
        return Err(Failure::new(
            400,
            "InvalidVersion",
            format!(
                "Specified parameter Version {version:?} is not valid; R-kvstore uses {VERSION}."
            ),
        ));
    }
    let instance = instance(req, state)?;
    match action {
        "DescribeBackupTasks" => describe_backup_tasks(req, state, &instance, request_id),
        "DescribeBackups" => crate::backups::describe_backups(req, state, &instance, request_id),
        "DescribeBackupPolicy" => crate::policy::describe(state, &instance, request_id),
        "ModifyBackupPolicy" => crate::policy::modify(req, state, &instance, request_id),
        "RestoreInstance" => crate::restore::restore(req, state, &instance, request_id),
        "DescribeInstanceAttribute" => {
            crate::restore::describe_instance(state, &instance, request_id)
        }
        _ => create_backup(req, state, &instance, request_id),
    }
}

fn instance(req: &Incoming, state: &State) -> Result<String, Failure> {
    let id = req
        .param("InstanceId")
        .filter(|v| !v.is_empty())
        .ok_or_else(|| {
            Failure::new(
                400,
                "MissingInstanceId",
                "InstanceId is mandatory for this action.",
            )
        })?;
    if validate::instance_id(id).is_err() || !state.instances.contains_key(id) {
        return Err(Failure::new(
            404,
            "InvalidInstanceId.NotFound",
            "The Specified InstanceId is not found.",
        ));
    }
    Ok(id.to_owned())
}

fn describe_backup_tasks(
    req: &Incoming,
    state: &mut State,
    instance: &str,
    request_id: &str,
) -> Result<Value, Failure> {
    let job_id = match req.param("BackupJobId").filter(|v| !v.is_empty()) {
        None => None,
        Some(v) => Some(v.parse::<u64>().map_err(|_| {
            Failure::new(
                400,
                "InvalidBackupJobId.Malformed",
                format!("Specified BackupJobId {v:?} is not valid."),
            )
        })?),
    };
    let mode = match req.param("JobMode").filter(|v| !v.is_empty()) {
        None => None,
        Some("Automated") => Some(JobMode::Automated),
        Some("Manual") => Some(JobMode::Manual),
        Some(other) => {
            return Err(Failure::new(
                400,
                "InvalidJobMode",
                format!("Specified JobMode {other:?} is not valid; use Automated or Manual."),
            ))
        }
    };
    let pace = state.pace;
    let jobs: Vec<BackupJob> = state
        .instances
        .get_mut(instance)
        .map(|jobs| {
            jobs.iter_mut()
                .filter(|j| job_id.is_none_or(|id| j.id == id))
                .filter(|j| mode.as_ref().is_none_or(|m| &j.mode == m))
                .map(|j| {
                    // The answer shows the state before this poll moved it on, so the first
                    // poll after CreateBackup sees the job at its start.
                    let view = j.view();
                    j.observe(pace);
                    view
                })
                .collect()
        })
        .unwrap_or_default();
    let response = DescribeBackupTasksResponse::new(request_id, instance, jobs);
    serde_json::to_value(response).map_err(|e| Failure::new(500, "InternalError", e.to_string()))
}

fn create_backup(
    req: &Incoming,
    state: &mut State,
    instance: &str,
    request_id: &str,
) -> Result<Value, Failure> {
    if let Some(days) = req.param("BackupRetentionPeriod").filter(|v| !v.is_empty()) {
        let ok = days
            .parse::<i32>()
            .is_ok_and(|d| d == -1 || (7..=730).contains(&d));
        if !ok {
            return Err(Failure::new(
                400,
                "InvalidBackupRetentionPeriod",
                format!(
                    "Specified BackupRetentionPeriod {days:?} is not valid; use 7 to 730, or -1."
                ),
            ));
        }
    }
    let id = state.next_job_id();
    let start = state.now();
    if let Some(jobs) = state.instances.get_mut(instance) {
        jobs.push(Job {
            id,
            mode: JobMode::Manual,
            start,
            step: 0,
            frozen: false,
            created: std::time::Instant::now(),
            polls: 0,
        });
    }
    let response = CreateBackupResponse::new(request_id, id.to_string());
    serde_json::to_value(response).map_err(|e| Failure::new(500, "InternalError", e.to_string()))
}
