//! A seeded fleet of instances for audits: many instances spread over regions, architectures
//! and backup histories, the same every time for the same seed, plus `DescribeRegions` and
//! `DescribeInstances`, a count of requests in flight, and a throttling mode.
//!
//! A fleet instance answers the read actions an audit makes (`DescribeBackupPolicy`,
//! `DescribeBackups`, `DescribeBackupTasks`, `DescribeInstanceAttribute`) from its own
//! history. Histories are computed from the time of each request rather than stored, so a
//! fleet looks the same however long the emulator has run: an instance with a healthy history
//! always has a backup from a few hours ago.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rkvstore_core::{validate, Timestamp, VERSION};
use serde_json::{json, Value};

use crate::auth::Incoming;
use crate::render::Failure;
use crate::state::State;

/// The regions a fleet is spread over unless told otherwise.
pub const DEFAULT_FLEET_REGIONS: [&str; 3] = ["cn-hangzhou", "cn-shanghai", "cn-beijing"];

/// The code the emulator answers DescribeBackupTasks with for cluster and read/write-splitting
/// instances. The API reference says the action does not support them but documents no code
/// for it, so this one is made up in the service's style.
pub const UNSUPPORTED_ARCHITECTURE: &str = "InvalidArchitectureType.NotSupported";

/// What a fleet instance's backups look like, and so the verdict an audit should reach with
/// the default `--max-age` of 26 hours.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum History {
    /// A daily backup, the last one 1 to 20 hours ago.
    Healthy,
    /// Healthy, with a manual backup job running (standard instances only, since the others
    /// do not list jobs).
    Running,
    /// The last backup 2 to 4.5 days ago, none since.
    Stale,
    /// Nothing in the last 9 days.
    NoBackups,
    /// The latest backup, 1 to 12 hours ago, failed; the one before succeeded.
    Failed,
    /// Healthy backups until now, but the policy names no weekday.
    PolicyOff,
    /// Healthy, but this action answers `Forbidden.RAM`.
    Forbidden(&'static str),
}

impl History {
    /// The verdict an audit with `--max-age 26h` reaches: `OK`, `STALE`, `NO-BACKUPS`,
    /// `FAILED`, `POLICY-OFF` or `ERROR`.
    pub fn expected_verdict(&self) -> &'static str {
        match self {
            History::Healthy | History::Running => "OK",
            History::Stale => "STALE",
            History::NoBackups => "NO-BACKUPS",
            History::Failed => "FAILED",
            History::PolicyOff => "POLICY-OFF",
            History::Forbidden(_) => "ERROR",
        }
    }
}

/// One instance of a fleet, as a test sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct FleetInstance {
    /// The instance ID, such as `r-bp1…`.
    pub instance_id: String,
    /// The instance name.
    pub name: String,
    /// The region.
    pub region: String,
    /// `standard`, `cluster` or `rwsplit`.
    pub architecture: &'static str,
    /// Its backups.
    pub history: History,
    index: u64,
    hash: u64,
}

/// How to build a fleet.
///
/// ```
/// use rkvstore_emulator::{Emulator, FleetSpec};
/// let emu = Emulator::builder()
///     .access_key("LTAIdemo", "demo-secret")
///     .fleet(FleetSpec::new(40, 7))
///     .start("127.0.0.1:0")?;
/// let fleet = emu.fleet();
/// assert_eq!(fleet.len(), 40);
/// assert_eq!(fleet, Emulator::builder().fleet(FleetSpec::new(40, 7)).fleet_preview());
/// # Ok::<(), rkvstore_emulator::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FleetSpec {
    /// How many instances.
    pub size: u32,
    /// The seed: the same seed gives the same fleet.
    pub seed: u64,
    /// The regions, each getting about the same share.
    pub regions: Vec<String>,
    /// Answer `Throttling.User` when more than this many requests are in flight.
    pub throttle_above: Option<usize>,
    /// The `x-acs-retry-after` sent with throttling answers, in milliseconds.
    pub retry_after_ms: u64,
    /// Time spent on each request before answering, like the service's own processing time.
    pub latency: Duration,
    /// A region whose DescribeInstances answers `503 ServiceUnavailable`.
    pub failing_region: Option<String>,
}

impl FleetSpec {
    /// `size` instances from `seed`, over [`DEFAULT_FLEET_REGIONS`], no throttling, no latency.
    pub fn new(size: u32, seed: u64) -> Self {
        FleetSpec {
            size,
            seed,
            regions: DEFAULT_FLEET_REGIONS
                .iter()
                .map(|r| r.to_string())
                .collect(),
            throttle_above: None,
            retry_after_ms: 50,
            latency: Duration::ZERO,
            failing_region: None,
        }
    }

    /// Over these regions instead.
    pub fn regions<I, S>(mut self, regions: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.regions = regions.into_iter().map(Into::into).collect();
        self
    }

    /// Throttles when more than `k` requests are in flight.
    pub fn throttle_above(mut self, k: usize) -> Self {
        self.throttle_above = Some(k);
        self
    }

    /// Spends `latency` on every request.
    pub fn latency(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }

    /// Makes DescribeInstances in `region` fail.
    pub fn failing_region(mut self, region: impl Into<String>) -> Self {
        self.failing_region = Some(region.into());
        self
    }

    pub(crate) fn check(&self) -> Result<(), String> {
        if self.regions.is_empty() {
            return Err("a fleet needs at least one region".into());
        }
        for r in &self.regions {
            validate::region_id(r).map_err(|e| e.to_string())?;
        }
        if self.size > 100_000 {
            return Err(format!(
                "a fleet holds at most 100000 instances, not {}",
                self.size
            ));
        }
        if self.throttle_above == Some(0) {
            return Err("--throttle-above must be at least 1".into());
        }
        Ok(())
    }

    /// The instances this spec makes.
    pub(crate) fn build(&self) -> Vec<FleetInstance> {
        (0..u64::from(self.size)).map(|i| self.member(i)).collect()
    }

    fn member(&self, index: u64) -> FleetInstance {
        let hash = mix(self.seed ^ mix(index.wrapping_add(0x5eed)));
        let region = self
            .regions
            .get((index % self.regions.len() as u64) as usize)
            .cloned()
            .unwrap_or_default();
        let architecture = match hash % 20 {
            0..=11 => "standard",
            12..=16 => "cluster",
            _ => "rwsplit",
        };
        // The first twenty instances take every slot once, so that even a small fleet shows
        // every history; later ones draw a slot from the hash, with the same weights.
        let slot = if index < 20 {
            (index + self.seed) % 20
        } else {
            mix(hash) % 20
        };
        let history = match slot {
            0..=8 => History::Healthy,
            9 if architecture == "standard" => History::Running,
            9 => History::Healthy,
            10..=12 => History::Stale,
            13 | 14 => History::NoBackups,
            15 | 16 => History::Failed,
            17 | 18 => History::PolicyOff,
            _ if hash % 2 == 0 => History::Forbidden("DescribeBackups"),
            _ => History::Forbidden("DescribeBackupPolicy"),
        };
        const APPS: [&str; 10] = [
            "orders",
            "sessions",
            "cart",
            "feed",
            "search",
            "payments",
            "inventory",
            "profile",
            "chat",
            "ledger",
        ];
        let app = APPS[(hash >> 8) as usize % APPS.len()];
        let env = if (hash >> 16) % 3 == 0 {
            "staging"
        } else {
            "prod"
        };
        let prefix = match region.as_str() {
            "cn-hangzhou" => "bp1",
            "cn-shanghai" => "uf6",
            "cn-beijing" => "2ze",
            _ => "gs5",
        };
        const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
        // The index makes IDs unique; the hash makes them look like the service's.
        let mut tail = String::new();
        let mut h = mix(hash);
        for _ in 0..6 {
            tail.push(char::from(ALPHABET[(h % 36) as usize]));
            h /= 36;
        }
        FleetInstance {
            instance_id: format!("r-{prefix}{tail}{index:05}"),
            name: format!("{app}-{env}-{index:03}"),
            region,
            architecture,
            history,
            index,
            hash,
        }
    }
}

/// SplitMix64's finaliser: a well-spread hash of a number, the same on every platform.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A fleet, as the state holds it.
pub(crate) struct Fleet {
    pub(crate) spec: FleetSpec,
    pub(crate) members: Vec<FleetInstance>,
}

impl Fleet {
    pub(crate) fn new(spec: FleetSpec) -> Self {
        let members = spec.build();
        Fleet { spec, members }
    }

    fn find(&self, id: &str) -> Option<&FleetInstance> {
        self.members.iter().find(|m| m.instance_id == id)
    }
}

/// Requests being handled now, and the most there ever were.
#[derive(Debug, Default)]
pub(crate) struct Gauge {
    now: AtomicUsize,
    peak: AtomicUsize,
}

impl Gauge {
    pub(crate) fn peak(&self) -> usize {
        self.peak.load(Ordering::SeqCst)
    }

    pub(crate) fn reset_peak(&self) {
        self.peak
            .store(self.now.load(Ordering::SeqCst), Ordering::SeqCst);
    }

    fn current(&self) -> usize {
        self.now.load(Ordering::SeqCst)
    }
}

/// One request in flight, counted until dropped.
pub(crate) struct InFlight(Arc<Gauge>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.now.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Counts a request in, and says how long the fleet's latency asks the server to spend on it.
/// The server spends it outside the state's lock and without holding up other connections,
/// so that requests overlap as they do at the service.
pub(crate) fn enter(state: &Mutex<State>) -> (InFlight, Option<Duration>) {
    let (gauge, latency) = {
        let st = crate::lock(state);
        (
            Arc::clone(&st.flight),
            st.fleet.as_ref().map(|f| f.spec.latency),
        )
    };
    let n = gauge.now.fetch_add(1, Ordering::SeqCst) + 1;
    gauge.peak.fetch_max(n, Ordering::SeqCst);
    (InFlight(gauge), latency.filter(|d| !d.is_zero()))
}

/// The answer to `action` when the fleet (or the region and instance listing every emulator
/// has) handles it; `None` leaves the request to the other actions.
pub(crate) fn run(
    action: &str,
    version: &str,
    req: &Incoming,
    state: &mut State,
    request_id: &str,
) -> Option<Result<Value, Failure>> {
    let listing = matches!(action, "DescribeRegions" | "DescribeInstances");
    let member = state
        .fleet
        .as_ref()
        .and_then(|f| f.find(req.param("InstanceId")?))
        .cloned();
    if !listing && member.is_none() {
        return None;
    }
    if version != VERSION {
        return Some(Err(Failure::new(
            400,
            "InvalidVersion",
            format!(
                "Specified parameter Version {version:?} is not valid; R-kvstore uses {VERSION}."
            ),
        )));
    }
    if let Some(fleet) = &state.fleet {
        if let Some(k) = fleet.spec.throttle_above {
            if state.flight.current() > k {
                return Some(Err(Failure {
                    retry_after_ms: Some(fleet.spec.retry_after_ms),
                    ..Failure::new(
                        400,
                        "Throttling.User",
                        "Request was denied due to user flow control.",
                    )
                }));
            }
        }
    }
    let now = state.now();
    Some(match (action, member) {
        ("DescribeRegions", _) => Ok(describe_regions(state, request_id)),
        ("DescribeInstances", _) => describe_instances(req, state, request_id),
        (_, Some(m)) => {
            if let History::Forbidden(denied) = m.history {
                if denied == action {
                    return Some(Err(Failure::new(
                        403,
                        "Forbidden.RAM",
                        format!(
                            "User not authorized to operate on the specified resource, or this \
                             API does not support RAM. (action kvstore:{action} on {})",
                            m.instance_id
                        ),
                    )));
                }
            }
            match action {
                "DescribeBackupPolicy" => Ok(policy(&m, now, request_id)),
                "DescribeBackups" => backups(req, &m, now, request_id),
                "DescribeBackupTasks" => tasks(&m, now, request_id),
                "DescribeInstanceAttribute" => Ok(attribute(&m, request_id)),
                _ => Err(Failure::new(
                    400,
                    "OperationDenied",
                    format!(
                        "The emulator's fleet instances answer only the audit's read actions, \
                         not {action}."
                    ),
                )),
            }
        }
        _ => return None,
    })
}

/// The fleet's regions, or the region of the plain instances when there is no fleet.
fn describe_regions(state: &State, request_id: &str) -> Value {
    let regions: Vec<String> = match &state.fleet {
        Some(f) => f.spec.regions.clone(),
        None => vec!["cn-hangzhou".into()],
    };
    let list: Vec<Value> = regions
        .iter()
        .map(|r| {
            let host = if r == "cn-hangzhou" || r == "cn-shanghai" || r == "cn-beijing" {
                "r-kvstore.aliyuncs.com".to_owned()
            } else {
                format!("r-kvstore.{r}.aliyuncs.com")
            };
            json!({
                "RegionId": r,
                "LocalName": r,
                "RegionEndpoint": host,
                "ZoneIds": format!("{r}-h,{r}-i,{r}-j,{r}-k"),
            })
        })
        .collect();
    json!({ "RequestId": request_id, "RegionIds": { "KVStoreRegion": list } })
}

fn number(req: &Incoming, name: &str, code: &'static str) -> Result<Option<u64>, Failure> {
    match req.param(name).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v.parse().map(Some).map_err(|_| {
            Failure::new(
                400,
                code,
                format!("Specified parameter {name} {v:?} is not valid."),
            )
        }),
    }
}

/// Skip and take for a page, checked as the service checks them.
fn page(
    req: &Incoming,
    sizes: std::ops::RangeInclusive<u64>,
    default: u64,
) -> Result<(usize, usize, u64, u64), Failure> {
    let size = number(req, "PageSize", "InvalidPageSize.Malformed")?.unwrap_or(default);
    if !sizes.contains(&size) {
        return Err(Failure::new(
            400,
            "InvalidPageSize.Malformed",
            format!(
                "Specified PageSize is not valid; use {} to {}.",
                sizes.start(),
                sizes.end()
            ),
        ));
    }
    let number = number(req, "PageNumber", "InvalidPageNumber.Malformed")?.unwrap_or(1);
    if number == 0 || number > i32::MAX as u64 {
        return Err(Failure::new(
            400,
            "InvalidPageNumber.Malformed",
            "Specified PageNumber is not valid; pages are numbered from 1.",
        ));
    }
    let skip = usize::try_from((number - 1).saturating_mul(size)).unwrap_or(usize::MAX);
    Ok((skip, size as usize, number, size))
}

fn describe_instances(req: &Incoming, state: &State, request_id: &str) -> Result<Value, Failure> {
    let region = req.param("RegionId").filter(|r| !r.is_empty());
    if let (Some(r), Some(f)) = (region, &state.fleet) {
        if f.spec.failing_region.as_deref() == Some(r) {
            return Err(Failure::new(
                503,
                "ServiceUnavailable",
                format!("The request has failed due to a temporary failure of the server in {r}."),
            ));
        }
    }
    let wanted: Option<Vec<&str>> = req
        .param("InstanceIds")
        .filter(|v| !v.is_empty())
        .map(|v| v.split(',').map(str::trim).collect());
    let arch = req.param("ArchitectureType").filter(|v| !v.is_empty());
    let (skip, take, number, size) = page(req, 1..=50, 30)?;
    let mut all: Vec<Value> = Vec::new();
    match &state.fleet {
        Some(f) => {
            for m in &f.members {
                let keep = region.is_none_or(|r| r == m.region)
                    && wanted
                        .as_ref()
                        .is_none_or(|w| w.contains(&m.instance_id.as_str()))
                    && arch.is_none_or(|a| a == m.architecture);
                if keep {
                    all.push(instance_json(m));
                }
            }
        }
        None => {
            // The plain instances: standard ones in cn-hangzhou.
            for id in state.instances.keys() {
                let keep = region.is_none_or(|r| r == "cn-hangzhou")
                    && wanted.as_ref().is_none_or(|w| w.contains(&id.as_str()))
                    && arch.is_none_or(|a| a == "standard");
                if keep {
                    all.push(json!({
                        "InstanceId": id,
                        "InstanceName": id,
                        "RegionId": "cn-hangzhou",
                        "ZoneId": "cn-hangzhou-h",
                        "ArchitectureType": "standard",
                        "EngineVersion": "7.0",
                        "InstanceStatus": "Normal",
                        "InstanceType": "Redis",
                        "Capacity": 1024,
                        "NetworkType": "VPC",
                        "Tags": { "Tag": [] },
                    }));
                }
            }
        }
    }
    let total = all.len();
    let shown: Vec<Value> = all.into_iter().skip(skip).take(take).collect();
    Ok(json!({
        "RequestId": request_id,
        "TotalCount": total,
        "PageNumber": number,
        "PageSize": size,
        "Instances": { "KVStoreInstance": shown },
    }))
}

fn instance_json(m: &FleetInstance) -> Value {
    const CAPACITIES: [u64; 5] = [1024, 2048, 4096, 8192, 16_384];
    const ENGINES: [&str; 3] = ["5.0", "6.0", "7.0"];
    const ZONES: [&str; 4] = ["h", "i", "j", "k"];
    const TEAMS: [&str; 4] = ["checkout", "growth", "platform", "risk"];
    let h = m.hash;
    let env = if m.name.contains("-staging-") {
        "staging"
    } else {
        "prod"
    };
    json!({
        "InstanceId": m.instance_id,
        "InstanceName": m.name,
        "RegionId": m.region,
        "ZoneId": format!("{}-{}", m.region, ZONES[(h >> 20) as usize % 4]),
        "ArchitectureType": m.architecture,
        "EngineVersion": ENGINES[(h >> 24) as usize % 3],
        "InstanceStatus": "Normal",
        "InstanceType": "Redis",
        "InstanceClass": "redis.shard.small.2.ce",
        "Capacity": CAPACITIES[(h >> 28) as usize % 5],
        "NetworkType": "VPC",
        "ChargeType": "PrePaid",
        "Tags": { "Tag": [
            { "Key": "env", "Value": env },
            { "Key": "team", "Value": TEAMS[(h >> 32) as usize % 4] },
        ] },
    })
}

/// The policy: daily in a window drawn from the hash, or no day at all when it is off.
fn policy(m: &FleetInstance, now: Timestamp, request_id: &str) -> Value {
    let hour = (m.hash >> 36) % 24;
    let window = format!("{hour:02}:00Z-{:02}:00Z", (hour + 1) % 24);
    let off = m.history == History::PolicyOff;
    let period = if off {
        ""
    } else {
        "Monday,Tuesday,Wednesday,Thursday,Friday,Saturday,Sunday"
    };
    let retention = if (m.hash >> 40) % 2 == 0 { 7 } else { 30 };
    let mut v = json!({
        "RequestId": request_id,
        "PreferredBackupTime": window,
        "PreferredBackupPeriod": period,
        "BackupRetentionPeriod": retention.to_string(),
        "EnableBackupLog": 0,
        "DbsInstance": "0",
    });
    if !off {
        // The next window start, tomorrow at the latest.
        let day = now.unix().div_euclid(86_400) * 86_400;
        let mut next = day + hour as i64 * 3600;
        if next <= now.unix() {
            next += 86_400;
        }
        v["PreferredNextBackupTime"] =
            json!(rkvstore_core::minute_time(Timestamp::from_unix(next)));
    }
    v
}

/// The backup sets: (ID, end time, succeeded), newest first.
fn sets(m: &FleetInstance, now: Timestamp) -> Vec<(u64, Timestamp, bool)> {
    let hour = 3600_i64;
    let day = 24 * hour;
    let first_hours = 1 + (m.hash >> 44) as i64 % 20;
    let base_id = 900_000_000 + m.index * 16;
    // Hours ago of the newest set, and whether it failed.
    let (newest, failed_first) = match m.history {
        History::Stale => (50 + (m.hash >> 48) as i64 % 60, false),
        History::NoBackups => (9 * 24 + 2, false),
        History::Failed => (1 + (m.hash >> 44) as i64 % 12, true),
        _ => (first_hours, false),
    };
    let mut out = Vec::with_capacity(10);
    if failed_first {
        out.push((base_id, now.offset(-newest * hour), false));
        // The one before succeeded twelve hours earlier, still within 26 hours.
        for k in 0..8 {
            let ago = (newest + 12) * hour + k * day;
            out.push((base_id + 1 + k as u64, now.offset(-ago), true));
        }
    } else {
        for k in 0..9 {
            let ago = newest * hour + k * day;
            out.push((base_id + k as u64, now.offset(-ago), true));
        }
    }
    out
}

fn minute(req: &Incoming, name: &'static str) -> Result<Timestamp, Failure> {
    let bad = || {
        Failure::new(
            400,
            if name == "StartTime" {
                "InvalidStartTime.Malformed"
            } else {
                "InvalidEndTime.Malformed"
            },
            format!("Specified {name} is not valid; use yyyy-MM-ddTHH:mmZ in UTC."),
        )
    };
    let v = req.param(name).filter(|v| !v.is_empty()).ok_or_else(|| {
        Failure::new(
            400,
            if name == "StartTime" {
                "MissingStartTime"
            } else {
                "MissingEndTime"
            },
            format!("{name} is mandatory for this action."),
        )
    })?;
    let minute = v
        .strip_suffix('Z')
        .filter(|m| m.len() == 16)
        .ok_or_else(bad)?;
    Timestamp::parse_iso8601(&format!("{minute}:00Z")).ok_or_else(bad)
}

fn backups(
    req: &Incoming,
    m: &FleetInstance,
    now: Timestamp,
    request_id: &str,
) -> Result<Value, Failure> {
    let start = minute(req, "StartTime")?;
    let end = minute(req, "EndTime")?;
    let (skip, take, number, size) = page(req, 1..=300, 30)?;
    let matching: Vec<(u64, Timestamp, bool)> = sets(m, now)
        .into_iter()
        .filter(|(_, t, _)| {
            let started = t.offset(-300).unix();
            started >= start.unix() && started <= end.unix()
        })
        .collect();
    let total = matching.len();
    let engine = ["5.0", "6.0", "7.0"][(m.hash >> 24) as usize % 3];
    let shown: Vec<Value> = matching
        .into_iter()
        .skip(skip)
        .take(take)
        .map(|(id, t, ok)| {
            json!({
                "BackupId": id,
                "BackupStatus": if ok { "Success" } else { "Failed" },
                "BackupStartTime": t.offset(-300).to_string(),
                "BackupEndTime": t.to_string(),
                "BackupType": "FullBackup",
                "BackupMethod": "Physical",
                "BackupMode": "Automated",
                "BackupSize": if ok { 200_000 + (id % 1000) * 1024 } else { 0 },
                "NodeInstanceId": format!("{}-db-0", m.instance_id),
                "EngineVersion": engine,
                "BackupDBNames": "0",
            })
        })
        .collect();
    Ok(json!({
        "RequestId": request_id,
        "PageNumber": number,
        "PageSize": size,
        "TotalCount": total,
        "Backups": { "Backup": shown },
    }))
}

fn tasks(m: &FleetInstance, now: Timestamp, request_id: &str) -> Result<Value, Failure> {
    if m.architecture != "standard" {
        return Err(Failure::new(
            400,
            UNSUPPORTED_ARCHITECTURE,
            format!(
                "DescribeBackupTasks supports only standard instances; {} is a {} instance.",
                m.instance_id, m.architecture
            ),
        ));
    }
    let mut jobs = Vec::new();
    if m.history == History::Running {
        jobs.push(json!({
            "BackupJobID": 700_000_000 + m.index * 2 + 1,
            "BackupProgressStatus": "Uploading",
            "JobMode": "Manual",
            "Process": "55",
            "Progress": "55",
            "StartTime": now.offset(-120).to_string(),
            "TaskAction": "TempBackupTask",
        }));
    }
    if let Some((_, t, _)) = sets(m, now).first() {
        jobs.push(json!({
            "BackupJobID": 700_000_000 + m.index * 2,
            // A job that ends with a failed set is still over: the set says how it went.
            "BackupProgressStatus": "Finished",
            "JobMode": "Automated",
            "Process": "100",
            "Progress": "100",
            "StartTime": t.offset(-300).to_string(),
            "TaskAction": "NormalBackupTask",
        }));
    }
    Ok(json!({
        "RequestId": request_id,
        "InstanceId": m.instance_id,
        "BackupJobs": jobs,
    }))
}

fn attribute(m: &FleetInstance, request_id: &str) -> Value {
    json!({
        "RequestId": request_id,
        "Instances": { "DBInstanceAttribute": [{
            "InstanceId": m.instance_id,
            "InstanceName": m.name,
            "InstanceStatus": "Normal",
            "InstanceType": "Redis",
            "ArchitectureType": m.architecture,
            "RegionId": m.region,
        }] },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_fleet_and_every_history_appears() {
        let a = FleetSpec::new(60, 3).build();
        assert_eq!(a, FleetSpec::new(60, 3).build());
        assert_ne!(a, FleetSpec::new(60, 4).build());
        for verdict in ["OK", "STALE", "NO-BACKUPS", "FAILED", "POLICY-OFF", "ERROR"] {
            assert!(
                a[..20]
                    .iter()
                    .any(|m| m.history.expected_verdict() == verdict),
                "{verdict}"
            );
        }
        let mut ids: Vec<_> = a.iter().map(|m| m.instance_id.clone()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 60);
        for m in &a {
            assert!(
                validate::instance_id(&m.instance_id).is_ok(),
                "{}",
                m.instance_id
            );
        }
        for arch in ["standard", "cluster", "rwsplit"] {
            assert!(a.iter().any(|m| m.architecture == arch), "{arch}");
        }
    }

    #[test]
    fn a_failed_history_has_a_recent_success_before_the_failure() {
        let m = FleetSpec::new(40, 1)
            .build()
            .into_iter()
            .find(|m| m.history == History::Failed)
            .unwrap();
        let now = Timestamp::from_unix(1_800_000_000);
        let s = sets(&m, now);
        assert!(!s[0].2);
        assert!(s[1].2);
        assert!(now.seconds_since(s[1].1).unwrap() < 26 * 3600);
    }
}
