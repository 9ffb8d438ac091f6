//! `RestoreInstance` and the instance status it changes, which `DescribeInstanceAttribute`
//! reports: `Normal`, then `BackupRecovering` for a few polls (or steps of wall time), then
//! `Normal` again.

use std::time::Instant;

use rkvstore_core::{DescribeInstanceAttributeResponse, InstanceAttribute, NORMAL};
use serde_json::{json, Value};

use crate::auth::Incoming;
use crate::jobs::Pace;
use crate::render::Failure;
use crate::state::State;

/// The status an instance shows while a backup is restored into it.
pub(crate) const RECOVERING: &str = "BackupRecovering";

/// How many polls (or steps of wall time) a restore takes.
const RESTORE_STEPS: u32 = 3;

/// A restore under way.
#[derive(Clone, Debug)]
pub(crate) struct Restore {
    started: Instant,
    polls: u32,
    /// The backup set restored, for tests that look.
    pub(crate) backup_id: u64,
}

impl Restore {
    /// `true` once the restore is over, counting this poll.
    fn observe(&mut self, pace: Pace) -> bool {
        self.polls = self.polls.saturating_add(1);
        match pace {
            Pace::PerPoll(n) => self.polls > RESTORE_STEPS.saturating_mul(n.max(1)),
            Pace::WallTime(step) => self.started.elapsed() >= step * RESTORE_STEPS,
        }
    }
}

/// `RestoreInstance`.
pub(crate) fn restore(
    req: &Incoming,
    state: &mut State,
    instance: &str,
    request_id: &str,
) -> Result<Value, Failure> {
    if state.backup.restores.contains_key(instance) {
        return Err(Failure::new(
            403,
            "IncorrectDBInstanceState",
            "Current DB instance state does not support this operation.",
        ));
    }
    let restore_type = req.param("RestoreType").filter(|v| !v.is_empty());
    if restore_type == Some("1") {
        return Err(Failure::new(
            403,
            "IncorrectEngineVersion",
            "The instance does not have data flashback enabled; restore from a backup set.",
        ));
    }
    let id = req
        .param("BackupId")
        .filter(|v| !v.is_empty())
        .ok_or_else(|| {
            Failure::new(
                400,
                "MissingBackupId",
                "BackupId is mandatory for this action.",
            )
        })?;
    crate::backups::sync_jobs(state, instance);
    let set = id
        .parse::<u64>()
        .ok()
        .and_then(|id| state.backup.find(instance, id))
        .ok_or_else(|| {
            Failure::new(
                404,
                "InvalidBackupId.NotFound",
                "The Specified BackupId is not found.",
            )
        })?;
    let backup_id = set.id;
    state.backup.restores.insert(
        instance.to_owned(),
        Restore {
            started: Instant::now(),
            polls: 0,
            backup_id,
        },
    );
    Ok(json!({ "RequestId": request_id }))
}

/// `DescribeInstanceAttribute`.
pub(crate) fn describe_instance(
    state: &mut State,
    instance: &str,
    request_id: &str,
) -> Result<Value, Failure> {
    let pace = state.pace;
    let over = state
        .backup
        .restores
        .get_mut(instance)
        .map(|r| r.observe(pace));
    let status = match over {
        Some(true) => {
            state.backup.restores.remove(instance);
            NORMAL
        }
        Some(false) => RECOVERING,
        None => NORMAL,
    };
    let mut attr = InstanceAttribute::new(instance, status);
    attr.instance_type = Some("Redis".into());
    attr.engine_version = Some("7.0".into());
    attr.architecture_type = Some("standard".into());
    attr.instance_name = Some(instance.to_owned());
    let answer = DescribeInstanceAttributeResponse::new(request_id, attr);
    let mut value = serde_json::to_value(answer)
        .map_err(|e| Failure::new(500, "InternalError", e.to_string()))?;
    // The service wraps the list: `"Instances": {"DBInstanceAttribute": [...]}`.
    if let Some(list) = value.get_mut("Instances").map(Value::take) {
        value["Instances"] = json!({ "DBInstanceAttribute": list });
    }
    Ok(value)
}
