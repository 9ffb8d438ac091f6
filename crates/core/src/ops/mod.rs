//! Typed R-kvstore operations.

/// Deserializers of optional integers for response fields, each naming its own field in
/// errors (serde's `deserialize_with` takes a function, not a closure with the name).
macro_rules! opt_u64_fields {
    ($($fn_name:ident => $field:literal),* $(,)?) => {$(
        fn $fn_name<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
            crate::response::lenient::u64_named(d, $field)
        }
    )*};
}

/// `impl Shape` for answers whose only mark of being the answer is a `RequestId` with text.
macro_rules! shape_by_request_id {
    ($($answer:ty),+ $(,)?) => {$(
        impl crate::Shape for $answer {
            fn lacks(&self) -> Option<&'static str> {
                self.request_id.trim().is_empty().then_some("no RequestId")
            }
        }
    )+};
}

mod backup_policy;
mod create_backup;
mod describe_backup_tasks;
mod describe_backups;
mod describe_instance_attribute;
mod describe_instances;
mod describe_regions;
mod enums;
mod restore_instance;

pub use backup_policy::{
    check_backup_time, DescribeBackupPolicy, DescribeBackupPolicyResponse, ModifyBackupPolicy,
    ModifyBackupPolicyResponse, Weekday, WEEK,
};
pub use create_backup::{CreateBackup, CreateBackupResponse};
pub use describe_backup_tasks::{BackupJob, DescribeBackupTasks, DescribeBackupTasksResponse};
pub use describe_backups::{
    minute_time, Backup, DescribeBackups, DescribeBackupsResponse, PAGE_SIZES,
};
pub use describe_instance_attribute::{
    DescribeInstanceAttribute, DescribeInstanceAttributeResponse, InstanceAttribute, NORMAL,
};
pub use describe_instances::{
    DescribeInstances, DescribeInstancesResponse, InstancePager, KvStoreInstance, Tag,
    MAX_INSTANCE_IDS, MAX_INSTANCE_PAGES, MAX_INSTANCE_PAGE_SIZE,
};
pub use describe_regions::{DescribeRegions, DescribeRegionsResponse, KvStoreRegion};
pub use enums::{BackupStatus, JobMode, TaskAction};
pub use restore_instance::{RestoreInstance, RestoreInstanceResponse};

use crate::{Endpoint, ParamError, Params, RpcRequest};

/// The product code of ApsaraDB for Redis.
pub const PRODUCT: &str = "R-kvstore";

/// The API version every R-kvstore action is called with.
pub const VERSION: &str = "2015-01-01";

/// An R-kvstore action with typed input and output.
pub trait Operation {
    /// The action name, such as `DescribeBackupTasks`.
    const ACTION: &'static str;
    /// `true` when sending the request twice has the same effect as once, so that a retry after
    /// an unclear failure is safe. Actions that start work (a backup) are not idempotent.
    const IDEMPOTENT: bool;
    /// The parsed response.
    type Output: crate::Shape;

    /// The parameters, validated.
    fn params(&self) -> Result<Params, ParamError>;

    /// The unsigned request for `endpoint`.
    fn to_request(&self, endpoint: Endpoint) -> Result<RpcRequest, ParamError> {
        Ok(RpcRequest::for_operation(endpoint, VERSION, Self::ACTION).with_params(self.params()?))
    }
}

/// Adds the four owner parameters every R-kvstore action accepts.
fn owner_params(p: &mut Params, owner: &Owner) -> Result<(), ParamError> {
    p.insert_opt("OwnerId", owner.owner_id.map(|v| v.to_string()))?;
    p.insert_opt("OwnerAccount", owner.owner_account.clone())?;
    p.insert_opt(
        "ResourceOwnerId",
        owner.resource_owner_id.map(|v| v.to_string()),
    )?;
    p.insert_opt("ResourceOwnerAccount", owner.resource_owner_account.clone())?;
    Ok(())
}

/// The owner parameters (`OwnerId`, `OwnerAccount`, `ResourceOwnerId`,
/// `ResourceOwnerAccount`), used by resellers and multi-account setups; most callers leave
/// them unset.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Owner {
    /// `OwnerId`.
    pub owner_id: Option<u64>,
    /// `OwnerAccount`.
    pub owner_account: Option<String>,
    /// `ResourceOwnerId`.
    pub resource_owner_id: Option<u64>,
    /// `ResourceOwnerAccount`.
    pub resource_owner_account: Option<String>,
}
