//! `DescribeInstanceAttribute`: an instance's attributes, above all its status, which a restore
//! takes from `Normal` through `BackupRecovering` and back.

use serde::{Deserialize, Serialize};

use super::{owner_params, Operation, Owner};
use crate::params::Plain;
use crate::response::lenient;
use crate::{validate, ParamError, Params};

/// The status of an instance that serves normally.
pub const NORMAL: &str = "Normal";

/// The request.
///
/// ```
/// use rkvstore_core::{DescribeInstanceAttribute, Operation};
/// let p = DescribeInstanceAttribute::new("r-bp1example").params()?;
/// assert_eq!(p.get("InstanceId"), Some("r-bp1example"));
/// # Ok::<(), rkvstore_core::ParamError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DescribeInstanceAttribute {
    /// `InstanceId`.
    pub instance_id: String,
    /// The owner parameters.
    pub owner: Owner,
}

impl DescribeInstanceAttribute {
    /// The attributes of `instance_id`.
    pub fn new(instance_id: impl Into<String>) -> Self {
        DescribeInstanceAttribute {
            instance_id: instance_id.into(),
            owner: Owner::default(),
        }
    }
}

impl Operation for DescribeInstanceAttribute {
    const ACTION: &'static str = "DescribeInstanceAttribute";
    const IDEMPOTENT: bool = true;
    type Output = DescribeInstanceAttributeResponse;

    fn params(&self) -> Result<Params, ParamError> {
        let mut p = Params::with_capacity(1);
        p.insert_plain(
            const { Plain::name("InstanceId") },
            validate::plain_instance_id(&self.instance_id)?,
        );
        owner_params(&mut p, &self.owner)?;
        Ok(p)
    }
}

/// The response: `Instances.DBInstanceAttribute`, one entry for the instance asked about.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct DescribeInstanceAttributeResponse {
    /// `RequestId`.
    #[serde(default, deserialize_with = "lenient::string")]
    pub request_id: String,
    /// `Instances.DBInstanceAttribute`.
    #[serde(default, deserialize_with = "lenient::list")]
    pub instances: Vec<InstanceAttribute>,
}

impl crate::Shape for DescribeInstanceAttributeResponse {
    fn lacks(&self) -> Option<&'static str> {
        if self.request_id.trim().is_empty() {
            Some("no RequestId")
        } else if self.instances.is_empty() {
            Some("no DBInstanceAttribute")
        } else {
            None
        }
    }
}

impl DescribeInstanceAttributeResponse {
    /// An answer about one instance (for test doubles and emulators).
    pub fn new(request_id: impl Into<String>, instance: InstanceAttribute) -> Self {
        DescribeInstanceAttributeResponse {
            request_id: request_id.into(),
            instances: vec![instance],
        }
    }

    /// The status of `instance_id`, if listed.
    pub fn status_of(&self, instance_id: &str) -> Option<&str> {
        self.instances
            .iter()
            .find(|i| i.instance_id == instance_id)
            .or(self.instances.first())
            .and_then(|i| i.instance_status.as_deref())
    }
}

/// The attributes this client reads. `#[non_exhaustive]`: build one with
/// [`InstanceAttribute::new`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct InstanceAttribute {
    /// `InstanceId`.
    #[serde(default, deserialize_with = "lenient::string")]
    pub instance_id: String,
    /// `InstanceStatus`, such as `Normal` or `BackupRecovering`.
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub instance_status: Option<String>,
    /// `InstanceName`.
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub instance_name: Option<String>,
    /// `EngineVersion`.
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub engine_version: Option<String>,
    /// `InstanceType`, such as `Redis`.
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub instance_type: Option<String>,
    /// `ArchitectureType`, such as `standard` or `cluster`.
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub architecture_type: Option<String>,
    /// `RegionId`.
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub region_id: Option<String>,
}

impl InstanceAttribute {
    /// Instance `instance_id` in `status`.
    pub fn new(instance_id: impl Into<String>, status: impl Into<String>) -> Self {
        InstanceAttribute {
            instance_id: instance_id.into(),
            instance_status: Some(status.into()),
            instance_name: None,
            engine_version: None,
            instance_type: None,
            architecture_type: None,
            region_id: None,
        }
    }
}
