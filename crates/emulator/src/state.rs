//! What the emulator remembers: keys, instances, jobs, used nonces, and a log of requests.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use rkvstore_core::{validate, Secret, SignatureVersion, Timestamp};

use crate::faults::FaultRule;
use crate::jobs::{Job, JobSeed, Pace, STEPS};

/// Nonces are remembered this long at most (the timestamp window makes older ones useless).
const NONCE_MEMORY: usize = 100_000;

/// The request log keeps this many records, so that a long-running emulator does not grow.
const LOG_MEMORY: usize = 10_000;

#[derive(Clone, Debug)]
pub(crate) struct AccessKey {
    pub(crate) id: String,
    pub(crate) secret: Secret,
    pub(crate) token: Option<Secret>,
}

/// One request as it arrived, for tests to inspect.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestRecord {
    /// `GET` or `POST`.
    pub method: String,
    /// The action, from the `Action` parameter or the `x-acs-action` header.
    pub action: Option<String>,
    /// The signature nonce.
    pub nonce: Option<String>,
    /// The signature version, when one was recognised.
    pub signature_version: Option<SignatureVersion>,
    /// The `Format` asked for.
    pub format: Option<String>,
    /// The instance, if named.
    pub instance_id: Option<String>,
    /// The HTTP status answered.
    pub status: u16,
    /// The error code answered, if any.
    pub code: Option<String>,
}

pub(crate) struct State {
    pub(crate) keys: Vec<AccessKey>,
    pub(crate) instances: BTreeMap<String, Vec<Job>>,
    pub(crate) pace: Pace,
    pub(crate) clock_offset: i64,
    pub(crate) faults: Vec<FaultRule>,
    pub(crate) log: VecDeque<RequestRecord>,
    /// Backup sets, policies, restores and downloads.
    pub(crate) backup: crate::backups::Store,
    /// STS, the metadata service and the credentials URI: their configuration and what they
    /// issued.
    pub(crate) sts: crate::sts::StsState,
    /// The seeded fleet, if any ([`crate::fleet`]).
    pub(crate) fleet: Option<crate::fleet::Fleet>,
    /// Requests being handled, counted outside the lock.
    pub(crate) flight: std::sync::Arc<crate::fleet::Gauge>,
    next_job: u64,
    next_request: u64,
    nonces: HashSet<String>,
    nonce_order: VecDeque<String>,
}

impl State {
    pub(crate) fn new(keys: Vec<AccessKey>, pace: Pace, clock_offset: i64) -> Self {
        State {
            keys,
            instances: BTreeMap::new(),
            pace,
            clock_offset,
            faults: Vec::new(),
            log: VecDeque::new(),
            backup: crate::backups::Store::default(),
            sts: crate::sts::StsState::default(),
            fleet: None,
            flight: std::sync::Arc::default(),
            next_job: 100_001,
            next_request: 1,
            nonces: HashSet::new(),
            nonce_order: VecDeque::new(),
        }
    }

    /// The server's clock.
    pub(crate) fn now(&self) -> Timestamp {
        // Saturating all the way: neither a strange system clock nor an offset can overflow.
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        Timestamp::from_unix(secs.saturating_add(self.clock_offset))
    }

    pub(crate) fn add_instance(&mut self, id: &str) -> Result<(), String> {
        validate::instance_id(id).map_err(|e| e.to_string())?;
        self.instances.entry(id.to_owned()).or_default();
        Ok(())
    }

    pub(crate) fn seed_job(&mut self, instance: &str, seed: JobSeed) -> Result<u64, String> {
        let start = self.now().offset(-3600);
        let id = self.next_job_id();
        let jobs = self
            .instances
            .get_mut(instance)
            .ok_or_else(|| format!("no instance {instance} to seed a job on; add it first"))?;
        jobs.push(Job {
            id,
            mode: seed.mode,
            start,
            step: seed.step.min(STEPS.len() - 1),
            frozen: seed.frozen,
            created: Instant::now(),
            polls: 0,
        });
        Ok(id)
    }

    pub(crate) fn next_job_id(&mut self) -> u64 {
        let id = self.next_job;
        self.next_job = self.next_job.saturating_add(1);
        id
    }

    /// A request ID in the service's shape, unique within this emulator.
    pub(crate) fn next_request_id(&mut self) -> String {
        let n = self.next_request;
        self.next_request = self.next_request.wrapping_add(1);
        format!("{:08X}-E3A1-4C00-8000-{:012X}", n >> 16, n)
    }

    /// Records `nonce`; `false` when it was used before.
    pub(crate) fn use_nonce(&mut self, nonce: &str) -> bool {
        if !self.nonces.insert(nonce.to_owned()) {
            return false;
        }
        self.nonce_order.push_back(nonce.to_owned());
        if self.nonce_order.len() > NONCE_MEMORY {
            if let Some(old) = self.nonce_order.pop_front() {
                self.nonces.remove(&old);
            }
        }
        true
    }

    /// Appends to the request log, dropping the oldest record past its limit.
    pub(crate) fn record(&mut self, record: RequestRecord) {
        if self.log.len() == LOG_MEMORY {
            self.log.pop_front();
        }
        self.log.push_back(record);
    }

    pub(crate) fn key(&self, id: &str) -> Option<&AccessKey> {
        self.keys.iter().find(|k| k.id == id)
    }
}
