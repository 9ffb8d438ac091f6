//! `DescribeInstances`: the instances of a region, one page at a time, and
//! [`InstancePager`], which walks every page as a state machine.

use serde::{Deserialize, Serialize};

use super::{owner_params, Operation, Owner};
use crate::pager::{InstancePagerWarning, Walk, MAX_INSTANCES};
use crate::params::{Decimal, Plain};
use crate::response::lenient;
use crate::{validate, ParamError, Params};

/// The largest page the service returns.
pub const MAX_INSTANCE_PAGE_SIZE: u32 = 50;

/// The most instance IDs one request may filter on.
pub const MAX_INSTANCE_IDS: usize = 30;

/// The request. `#[non_exhaustive]`: build it with [`DescribeInstances::new`] and the setters.
///
/// ```
/// use rkvstore_core::{DescribeInstances, Operation};
/// let op = DescribeInstances::new("cn-hangzhou").instance_ids(["r-a", "r-b"]).page_size(50);
/// let p = op.params()?;
/// let got: Vec<_> = p.iter().collect();
/// assert_eq!(got, [("RegionId", "cn-hangzhou"), ("InstanceIds", "r-a,r-b"), ("PageSize", "50")]);
/// let e = DescribeInstances::new("cn-hangzhou").page_size(100).params().unwrap_err();
/// assert_eq!(e.to_string(), "invalid PageSize \"100\": use 1 to 50");
/// # Ok::<(), rkvstore_core::ParamError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DescribeInstances {
    /// `RegionId`.
    pub region_id: String,
    /// `InstanceIds`: at most 30, sent separated by commas.
    pub instance_ids: Vec<String>,
    /// `ArchitectureType`: `standard`, `cluster` or `rwsplit`.
    pub architecture_type: Option<String>,
    /// `PageNumber`, from 1.
    pub page_number: Option<u32>,
    /// `PageSize`, 1 to 50 (the service's default is 30).
    pub page_size: Option<u32>,
    /// The owner parameters.
    pub owner: Owner,
}

impl DescribeInstances {
    /// The instances of `region_id`.
    pub fn new(region_id: impl Into<String>) -> Self {
        DescribeInstances {
            region_id: region_id.into(),
            instance_ids: Vec::new(),
            architecture_type: None,
            page_number: None,
            page_size: None,
            owner: Owner::default(),
        }
    }

    /// Only these instances (at most 30).
    pub fn instance_ids<I, S>(mut self, ids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.instance_ids = ids.into_iter().map(Into::into).collect();
        self
    }

    /// Sets `PageSize` (1 to 50).
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

impl Operation for DescribeInstances {
    const ACTION: &'static str = "DescribeInstances";
    const IDEMPOTENT: bool = true;
    type Output = DescribeInstancesResponse;

    fn params(&self) -> Result<Params, ParamError> {
        let mut p = Params::with_capacity(6);
        p.insert_plain(
            const { Plain::name("RegionId") },
            validate::plain_region_id(&self.region_id)?,
        );
        if !self.instance_ids.is_empty() {
            if self.instance_ids.len() > MAX_INSTANCE_IDS {
                return Err(ParamError::Invalid {
                    name: "InstanceIds",
                    value: self.instance_ids.len().to_string(),
                    expected: "name at most 30 instances in one request",
                });
            }
            for id in &self.instance_ids {
                validate::instance_id(id)?;
            }
            p.insert("InstanceIds", self.instance_ids.join(","))?;
        }
        if let Some(arch) = &self.architecture_type {
            if !["standard", "cluster", "rwsplit"].contains(&arch.as_str()) {
                return Err(ParamError::Invalid {
                    name: "ArchitectureType",
                    value: arch.clone(),
                    expected: "use standard, cluster or rwsplit",
                });
            }
            p.insert("ArchitectureType", arch.as_str())?;
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
        if let Some(size) = self.page_size {
            if !(1..=MAX_INSTANCE_PAGE_SIZE).contains(&size) {
                return Err(ParamError::Invalid {
                    name: "PageSize",
                    value: size.to_string(),
                    expected: "use 1 to 50",
                });
            }
            p.insert_plain(
                const { Plain::name("PageSize") },
                Decimal::new(u64::from(size)).as_plain(),
            );
        }
        owner_params(&mut p, &self.owner)?;
        Ok(p)
    }
}

/// One page of instances. `#[non_exhaustive]`: the API adds fields over time.
///
/// ```
/// use rkvstore_core::DescribeInstancesResponse;
/// let body = r#"{"RequestId":"R1","TotalCount":1,"PageNumber":1,"PageSize":30,
///   "Instances":{"KVStoreInstance":[{"InstanceId":"r-bp1a","InstanceName":"orders",
///     "RegionId":"cn-hangzhou","ZoneId":"cn-hangzhou-h","ArchitectureType":"cluster",
///     "EngineVersion":"7.0","InstanceStatus":"Normal","Capacity":"4096","NetworkType":"VPC",
///     "Tags":{"Tag":[{"Key":"team","Value":"pay"}]}}]}}"#;
/// let page: DescribeInstancesResponse = serde_json::from_str(body).unwrap();
/// let i = &page.instances[0];
/// assert_eq!((i.instance_id.as_str(), i.capacity), ("r-bp1a", Some(4096)));
/// assert_eq!(i.tags[0].key, "team");
/// assert!(!i.supports_backup_tasks());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct DescribeInstancesResponse {
    /// `RequestId`.
    #[serde(default, deserialize_with = "lenient::string")]
    pub request_id: String,
    /// `Instances.KVStoreInstance`: the instances on this page.
    #[serde(default, deserialize_with = "lenient::list")]
    pub instances: Vec<KvStoreInstance>,
    /// `TotalCount`: instances matching in the whole region.
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
}

shape_by_request_id!(DescribeInstancesResponse);

impl DescribeInstancesResponse {
    /// A page holding `instances` (for test doubles and emulators).
    pub fn new(request_id: impl Into<String>, instances: Vec<KvStoreInstance>) -> Self {
        DescribeInstancesResponse {
            request_id: request_id.into(),
            instances,
            ..DescribeInstancesResponse::default()
        }
    }
}

/// One instance, with the fields an audit reads. `#[non_exhaustive]`: build one with
/// [`KvStoreInstance::new`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct KvStoreInstance {
    /// `InstanceId`.
    #[serde(default, deserialize_with = "lenient::string")]
    pub instance_id: String,
    /// `InstanceName`.
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub instance_name: Option<String>,
    /// `RegionId`.
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub region_id: Option<String>,
    /// `ZoneId`.
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub zone_id: Option<String>,
    /// `ArchitectureType`: `standard`, `cluster` or `rwsplit`.
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub architecture_type: Option<String>,
    /// `EngineVersion`, such as `7.0`.
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub engine_version: Option<String>,
    /// `InstanceStatus`, such as `Normal`.
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub instance_status: Option<String>,
    /// `Capacity` in MB.
    #[serde(
        default,
        deserialize_with = "capacity",
        skip_serializing_if = "Option::is_none"
    )]
    pub capacity: Option<u64>,
    /// `NetworkType`: `CLASSIC` or `VPC`.
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub network_type: Option<String>,
    /// `InstanceClass`, the specification.
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub instance_class: Option<String>,
    /// `InstanceType`: `Redis`, `Tair` or `Memcache`.
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub instance_type: Option<String>,
    /// `Tags.Tag`.
    #[serde(default, deserialize_with = "lenient::list")]
    pub tags: Vec<Tag>,
}

impl KvStoreInstance {
    /// Instance `instance_id` with every other field unset.
    pub fn new(instance_id: impl Into<String>) -> Self {
        KvStoreInstance {
            instance_id: instance_id.into(),
            instance_name: None,
            region_id: None,
            zone_id: None,
            architecture_type: None,
            engine_version: None,
            instance_status: None,
            capacity: None,
            network_type: None,
            instance_class: None,
            instance_type: None,
            tags: Vec::new(),
        }
    }

    /// `false` for cluster and read/write-splitting instances, for which DescribeBackupTasks
    /// is not supported; `true` for standard ones and when the architecture is not known.
    pub fn supports_backup_tasks(&self) -> bool {
        self.architecture_type
            .as_deref()
            .is_none_or(|a| a.trim().is_empty() || a.eq_ignore_ascii_case("standard"))
    }
}

/// A tag of an instance.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[non_exhaustive]
pub struct Tag {
    /// `Key`.
    #[serde(default, deserialize_with = "lenient::string")]
    pub key: String,
    /// `Value`.
    #[serde(default, deserialize_with = "lenient::string")]
    pub value: String,
}

impl Tag {
    /// The tag `key`=`value`.
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> Self {
        Tag {
            key: key.into(),
            value: value.into(),
        }
    }
}

opt_u64_fields!(
    total_count => "TotalCount",
    page_number => "PageNumber",
    page_size => "PageSize",
    capacity => "Capacity",
);

/// The most pages an [`InstancePager`] asks for: 50 a page makes this half a million
/// instances, far past any account, so reaching it means the service is repeating itself.
pub const MAX_INSTANCE_PAGES: u32 = 10_000;

/// Walks the pages of one DescribeInstances query: the caller sends each operation it gives
/// and hands back each answer. It stops when the distinct instances seen reach `TotalCount`,
/// on an empty page (so a `TotalCount` that is too high cannot loop forever), and on a short page
/// when `TotalCount` is absent. A service that lies cannot make it loop or count an instance
/// twice: instances are told apart by `InstanceId` and a repeated one is dropped
/// ([`InstancePager::take_new`]); a page that brings no instance not seen before (the same
/// page again, or a service that ignores `PageNumber`) ends the walk; and no more pages are
/// asked for than the first page's `TotalCount` needs plus a little slack, and never more than
/// [`MAX_INSTANCE_PAGES`]. Those last two stops leave an [`InstancePagerWarning`]
/// ([`InstancePager::warning`]). It shares its walking core with
/// [`crate::pager::BackupPager`], so both stop alike.
///
/// ```
/// use rkvstore_core::{DescribeInstances, DescribeInstancesResponse, InstancePager, KvStoreInstance};
/// let mut pager = InstancePager::new(DescribeInstances::new("cn-hangzhou"));
/// let mut seen = 0;
/// while let Some(op) = pager.next_operation() {
///     // Pretend the region holds 120 instances: pages of 50, 50 and 20.
///     let first = (op.page_number.unwrap_or(1) - 1) * 50;
///     let ids = (first..120.min(first + 50)).map(|n| KvStoreInstance::new(format!("r-{n}")));
///     let mut page = DescribeInstancesResponse::new("R", ids.collect());
///     page.total_count = Some(120);
///     seen += page.instances.len();
///     pager.take(&page);
/// }
/// assert_eq!((seen, pager.pages()), (120, 3));
/// assert!(pager.warning().is_none());
/// ```
#[derive(Clone, Debug)]
pub struct InstancePager {
    op: DescribeInstances,
    /// Instances are told apart by `InstanceId`.
    walk: Walk<String, InstancePagerWarning>,
}

impl InstancePager {
    /// Pages through `op` from its `PageNumber` (default 1), `PageSize` defaulting to the
    /// largest, 50, for the fewest calls.
    pub fn new(mut op: DescribeInstances) -> Self {
        let first = op.page_number.unwrap_or(1);
        let size = op.page_size.unwrap_or(MAX_INSTANCE_PAGE_SIZE);
        op.page_size = Some(size);
        InstancePager {
            op,
            walk: Walk::new(first, size, MAX_INSTANCES, MAX_INSTANCE_PAGES),
        }
    }

    /// The operation for the next page; `None` once every page has been read.
    pub fn next_operation(&self) -> Option<DescribeInstances> {
        let page = self.walk.next_page()?;
        let mut op = self.op.clone();
        op.page_number = Some(page);
        Some(op)
    }

    /// Takes the answer to the operation [`InstancePager::next_operation`] gave. Use
    /// [`InstancePager::take_new`] to keep only the instances not seen before.
    pub fn take(&mut self, answer: &DescribeInstancesResponse) {
        let ids = answer.instances.iter().map(|i| i.instance_id.clone());
        self.walk.take(ids, answer.total_count);
    }

    /// [`InstancePager::take`], returning the answer without the instances seen before (on
    /// this page or an earlier one), so that none is counted or audited twice.
    pub fn take_new(&mut self, mut answer: DescribeInstancesResponse) -> DescribeInstancesResponse {
        self.walk.take_new(
            &mut answer.instances,
            |i| i.instance_id.clone(),
            answer.total_count,
        );
        answer
    }

    /// `true` once every page has been read.
    pub fn is_done(&self) -> bool {
        self.walk.next_page().is_none()
    }

    /// Pages read so far.
    pub fn pages(&self) -> u32 {
        self.walk.pages()
    }

    /// Distinct instances seen so far.
    pub fn instances(&self) -> u64 {
        self.walk.seen()
    }

    /// Why the walk stopped short of `TotalCount`, if it did.
    pub fn warning(&self) -> Option<&InstancePagerWarning> {
        self.walk.warning()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pager::InstancePagerWarning;

    #[test]
    fn checks() {
        let too_many: Vec<String> = (0..31).map(|n| format!("r-{n}")).collect();
        let e = DescribeInstances::new("cn-hangzhou")
            .instance_ids(too_many)
            .params()
            .unwrap_err();
        assert!(e.to_string().contains("at most 30"), "{e}");
        assert!(DescribeInstances::new("CN HANGZHOU").params().is_err());
        assert!(DescribeInstances::new("cn-hangzhou")
            .instance_ids(["r-a,b"])
            .params()
            .is_err());
        assert!(DescribeInstances::new("cn-hangzhou")
            .page_number(0)
            .params()
            .is_err());
    }

    #[test]
    fn a_lying_total_stops_at_the_empty_page() {
        let mut pager = InstancePager::new(DescribeInstances::new("cn-hangzhou"));
        let full = |n: usize| {
            let mut p = DescribeInstancesResponse::new(
                "R",
                (0..n)
                    .map(|i| KvStoreInstance::new(format!("r-{i}")))
                    .collect(),
            );
            p.total_count = Some(1_000_000);
            p
        };
        pager.take(&full(50));
        assert_eq!(pager.next_operation().unwrap().page_number, Some(2));
        pager.take(&full(0));
        assert!(pager.next_operation().is_none());
        let mut pager = InstancePager::new(DescribeInstances::new("cn-hangzhou"));
        let mut short = full(49);
        short.total_count = None;
        pager.take(&short);
        assert!(pager.next_operation().is_none());
    }

    /// A page of `n` instances numbered from `first`, claiming `total`.
    fn instances(first: usize, n: usize, total: Option<u64>) -> DescribeInstancesResponse {
        let ids = (first..first + n).map(|i| KvStoreInstance::new(format!("r-{i}")));
        let mut p = DescribeInstancesResponse::new("R", ids.collect());
        p.total_count = total;
        p
    }

    #[test]
    fn the_same_page_again_stops_with_a_warning_and_no_duplicates() {
        let mut pager = InstancePager::new(DescribeInstances::new("cn-hangzhou"));
        let mut kept = Vec::new();
        while pager.next_operation().is_some() {
            assert!(pager.pages() < 10, "the walk goes on");
            kept.extend(pager.take_new(instances(0, 50, Some(1_000_000))).instances);
        }
        assert_eq!(kept.len(), 50);
        assert_eq!((pager.pages(), pager.instances()), (2, 50));
        assert_eq!(
            pager.warning(),
            Some(&InstancePagerWarning::Repeated {
                page: 2,
                instances: 50,
                total: Some(1_000_000),
            })
        );
        let text = pager.warning().unwrap().to_string();
        assert_eq!(
            text,
            "page 2 of DescribeInstances repeated instances already listed; stopped at 50 \
             distinct instances although TotalCount says 1000000 (the service repeats pages or \
             ignores PageNumber)"
        );
    }

    #[test]
    fn a_lying_total_with_an_empty_page_stops_without_a_warning() {
        let mut pager = InstancePager::new(DescribeInstances::new("cn-hangzhou"));
        pager.take(&instances(0, 50, Some(u64::MAX)));
        pager.take(&instances(50, 0, Some(u64::MAX)));
        assert!(pager.is_done());
        assert_eq!(pager.next_operation(), None);
        // An empty page is an honest end: nothing was lost, so nothing to warn about.
        assert_eq!(pager.warning(), None);
    }

    #[test]
    fn overlapping_pages_keep_each_instance_once_and_go_on() {
        // An instance created during the walk pushes page 1's last one onto page 2.
        let mut pager = InstancePager::new(DescribeInstances::new("cn-hangzhou").page_size(30));
        let first = pager.take_new(instances(0, 30, Some(50)));
        assert_eq!(pager.next_operation().unwrap().page_number, Some(2));
        let second = pager.take_new(instances(20, 30, Some(50)));
        assert_eq!(first.instances.len() + second.instances.len(), 50);
        assert_eq!(second.instances[0].instance_id, "r-30");
        assert!(pager.is_done());
        assert_eq!(pager.warning(), None);
    }

    #[test]
    fn a_total_that_never_fills_is_capped_by_what_it_claims() {
        // One new instance a page, TotalCount 100: 2 pages of 50 plus the slack, not 10,000.
        let mut pager = InstancePager::new(DescribeInstances::new("cn-hangzhou"));
        let mut n = 0;
        while pager.next_operation().is_some() {
            pager.take(&instances(n, 1, Some(100)));
            n += 1;
        }
        assert_eq!(n, 2 + crate::pager::SLACK_PAGES as usize);
        assert!(matches!(
            pager.warning(),
            Some(InstancePagerWarning::Capped {
                pages: 5,
                instances: 5,
                total: Some(100)
            })
        ));
        let text = pager.warning().unwrap().to_string();
        assert!(
            text.starts_with("stopped after 5 pages of DescribeInstances at 5 distinct instances"),
            "{text}"
        );
        assert!(!text.contains("backup"), "{text}");
    }

    #[test]
    fn a_huge_total_is_capped_by_the_page_bound() {
        let mut pager = InstancePager::new(DescribeInstances::new("cn-hangzhou"));
        let mut n = 0;
        while pager.next_operation().is_some() {
            pager.take(&instances(n, 1, Some(u64::MAX)));
            n += 1;
        }
        assert_eq!(n, MAX_INSTANCE_PAGES as usize);
        assert!(matches!(
            pager.warning(),
            Some(InstancePagerWarning::Capped { .. })
        ));
    }

    #[test]
    fn architectures() {
        let mut i = KvStoreInstance::new("r-1");
        assert!(i.supports_backup_tasks());
        for (arch, ok) in [("standard", true), ("Standard", true), ("cluster", false)] {
            i.architecture_type = Some(arch.into());
            assert_eq!(i.supports_backup_tasks(), ok, "{arch}");
        }
        i.architecture_type = Some("rwsplit".into());
        assert!(!i.supports_backup_tasks());
    }
}
