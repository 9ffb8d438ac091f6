//! Auditing the backups of a whole fleet: every region, every instance, on plain threads that
//! share one [`Client`], with a bounded number of requests in flight that shrinks when the
//! service throttles and grows back afterwards.
//!
//! The rules (verdicts, their precedence, the look-back window, the pace) are the core's
//! ([`rkvstore_core::audit`]); this module only sends, waits and collects.
//!
//! ```no_run
//! use rkvstore_blocking::audit::AuditOptions;
//! use rkvstore_blocking::Client;
//!
//! let client = Client::builder().region("cn-hangzhou").build()?;
//! let mut options = AuditOptions::default();
//! options.all_regions = true;
//! let report = client.audit(&options, &|p| eprintln!("{} of {} done", p.done, p.total))?;
//! for row in &report.rows {
//!     println!("{} {} {}", row.region, row.instance_id, row.verdict);
//! }
//! println!("{}", report.summary);
//! # Ok::<(), rkvstore_blocking::Error>(())
//! ```

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rkvstore_core::audit::{
    endpoint_for_region, lookback_days, sort_rows, Admit, Findings, InstanceAudit, Outcome, Pace,
    RowError, Summary, Ticket, DEFAULT_MAX_AGE_SECS,
};
use rkvstore_core::call::{Call, CallPolicy, Retry, Step};
use rkvstore_core::pager::InstancePagerWarning;
use rkvstore_core::retry::parse_retry_after;
use rkvstore_core::{
    validate, Backup, DescribeBackupPolicy, DescribeBackupTasks, DescribeBackups,
    DescribeInstances, DescribeRegions, InstancePager, KvStoreInstance, Operation, Shape,
    Timestamp, MAX_INSTANCE_IDS,
};
use serde::Serialize;

use crate::error::Report;
use crate::{random, Client, Error, MAX_CLOCK_SKEW};

/// The most `concurrency` allowed: far more than the service's rate limits let through.
pub const MAX_CONCURRENCY: u32 = 256;

/// How many throttling answers one request may get before its row shows the error: enough to
/// ride out minutes of throttling with the pace's pauses, few enough to end a hopeless audit.
pub const MAX_THROTTLES_PER_REQUEST: u32 = 50;

/// What to audit and how hard to push.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuditOptions {
    /// The regions; empty means the client's own region (unless `all_regions`).
    pub regions: Vec<String>,
    /// Every region DescribeRegions lists.
    pub all_regions: bool,
    /// Only these instances; empty means every instance of the regions.
    pub instance_ids: Vec<String>,
    /// A last successful backup older than this is stale.
    pub max_age: Duration,
    /// The most requests in flight at once (1 to [`MAX_CONCURRENCY`]).
    pub concurrency: u32,
}

impl Default for AuditOptions {
    /// The client's region, every instance, 26 hours, 8 in flight.
    fn default() -> Self {
        AuditOptions {
            regions: Vec::new(),
            all_regions: false,
            instance_ids: Vec::new(),
            max_age: Duration::from_secs(DEFAULT_MAX_AGE_SECS),
            concurrency: 8,
        }
    }
}

/// How far an audit has got, for a progress bar.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuditProgress {
    /// Instances audited so far.
    pub done: usize,
    /// Instances to audit (0 while the regions are being listed).
    pub total: usize,
    /// Rows with the verdict `ERROR` so far.
    pub errors: usize,
}

/// A region whose instances could not be listed; the other regions are audited anyway.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct RegionFailure {
    /// The region.
    pub region: String,
    /// What failed.
    pub error: RowError,
}

/// A region whose listing stopped short: the service repeated pages or claimed more
/// instances than it gave. The instances it did list are real and are audited, so this is a
/// warning, not a [`RegionFailure`]; but the region may hold instances the audit never saw.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct RegionWarning {
    /// The region.
    pub region: String,
    /// Why its listing stopped, for people, such as `page 2 of DescribeInstances repeated
    /// instances already listed; …`.
    pub message: String,
}

/// Figures about the run itself.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct AuditStats {
    /// Regions audited.
    pub regions: usize,
    /// HTTP requests sent, retries included.
    pub requests: u64,
    /// Throttling answers received.
    pub throttled: u64,
    /// The most requests that were in flight at once.
    pub peak_in_flight: u32,
}

/// The result: one row per instance, worst first, and what could not be listed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct AuditReport {
    /// One row per instance, sorted worst first, then by region and ID.
    pub rows: Vec<InstanceAudit>,
    /// Regions whose instances could not be listed.
    pub region_failures: Vec<RegionFailure>,
    /// Regions whose listing stopped short; their instances listed are audited anyway.
    pub region_warnings: Vec<RegionWarning>,
    /// The verdicts counted.
    pub summary: Summary,
    /// Figures about the run.
    pub stats: AuditStats,
}

impl AuditReport {
    /// `true` when every instance is `OK` and every region could be listed.
    pub fn all_ok(&self) -> bool {
        self.summary.all_ok() && self.region_failures.is_empty()
    }
}

/// What listing one region found: its instances, each once, and why a listing stopped short.
#[derive(Default)]
struct Listed {
    instances: Vec<KvStoreInstance>,
    warnings: Vec<InstancePagerWarning>,
}

/// The pace shared by every thread of one audit.
struct Gate {
    pace: Mutex<Pace>,
    changed: Condvar,
    origin: Instant,
    requests: AtomicU64,
}

impl Gate {
    fn new(concurrency: u32) -> Self {
        Gate {
            pace: Mutex::new(Pace::new(concurrency)),
            changed: Condvar::new(),
            origin: Instant::now(),
            requests: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Pace> {
        // The pace is a few numbers always left consistent, so a poisoned lock is used as is.
        self.pace.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits until a request may start.
    fn admit(&self) -> Ticket {
        let mut pace = self.lock();
        loop {
            let now = self.origin.elapsed();
            let wait = match pace.admit(now) {
                Admit::Go(ticket) => {
                    self.requests.fetch_add(1, Ordering::Relaxed);
                    return ticket;
                }
                Admit::WaitUntil(at) => at.saturating_sub(now),
                // A finishing request notifies; the timeout only guards against a lost wakeup.
                Admit::WaitForSlot => Duration::from_secs(1),
            };
            pace = self
                .changed
                .wait_timeout(pace, wait)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    fn done(&self, ticket: Ticket, outcome: Outcome) {
        self.lock().done(ticket, self.origin.elapsed(), outcome);
        self.changed.notify_all();
    }
}

/// This machine's clock.
fn local_now() -> Timestamp {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    Timestamp::from_unix(secs)
}

/// The row's account of a failed call: the API code when there is one, else the kind.
fn row_error(action: &str, e: &Error) -> RowError {
    let code = match (e.api(), e.root()) {
        (Some(api), _) => api.code.clone(),
        (None, Error::Transport { .. }) => "Transport".into(),
        (None, Error::Parse(_)) => "Parse".into(),
        (None, Error::Credentials(_)) => "Credentials".into(),
        (None, Error::ResponseTooLarge { .. }) => "ResponseTooLarge".into(),
        (None, Error::ClockSkew { .. }) => "ClockSkew".into(),
        (None, _) => "Error".into(),
    };
    let message = match e.api() {
        Some(api) => api.message.clone(),
        None => Report(e).to_string(),
    };
    RowError::new(action, code, message)
}

/// Throttling as the retry policy sees it: a throttling code or HTTP 429, even with a body
/// that is not an API error.
fn is_throttled(e: &rkvstore_core::Error) -> bool {
    e.answer().is_some_and(|f| f.is_throttled())
}

impl Client {
    /// Audits the backups of every instance of the regions `options` names, `options.
    /// concurrency` requests at most in flight, calling `on_progress` after each instance.
    /// One instance's failure is its row's `ERROR`; one region's failure is a
    /// [`RegionFailure`]; only a failure to find the regions at all (DescribeRegions, or no
    /// region known) or bad options fail the whole audit.
    pub fn audit(
        &self,
        options: &AuditOptions,
        on_progress: &(dyn Fn(&AuditProgress) + Sync),
    ) -> Result<AuditReport, Error> {
        if !(1..=MAX_CONCURRENCY).contains(&options.concurrency) {
            return Err(Error::Config(format!(
                "the concurrency must be 1 to {MAX_CONCURRENCY}, not {}",
                options.concurrency
            )));
        }
        for id in &options.instance_ids {
            validate::instance_id(id)?;
        }
        let max_age = options.max_age.as_secs();
        let gate = Gate::new(options.concurrency);
        let regions = self.audit_regions(options, &gate)?;
        on_progress(&AuditProgress::default());

        // Every region is listed on its own thread (the gate bounds the requests), so that a
        // slow or failing region holds up no other.
        let listed: Vec<(String, Result<Listed, RowError>)> = std::thread::scope(|s| {
            let handles: Vec<_> = regions
                .iter()
                .map(|region| {
                    let gate = &gate;
                    s.spawn(move || {
                        let found = self.list_instances(gate, region, &options.instance_ids);
                        (region.clone(), found)
                    })
                })
                .collect();
            handles
                .into_iter()
                .zip(&regions)
                .map(|(h, region)| {
                    h.join().unwrap_or_else(|_| {
                        let e = RowError::new(
                            "DescribeInstances",
                            "Internal",
                            "listing the region's instances stopped unexpectedly",
                        );
                        (region.clone(), Err(e))
                    })
                })
                .collect()
        });

        let mut work: Vec<(String, KvStoreInstance)> = Vec::new();
        let mut region_failures = Vec::new();
        let mut region_warnings = Vec::new();
        for (region, found) in listed {
            match found {
                Ok(Listed {
                    instances,
                    warnings,
                }) => {
                    region_warnings.extend(warnings.into_iter().map(|w| RegionWarning {
                        region: region.clone(),
                        message: w.to_string(),
                    }));
                    for instance in instances {
                        // The same instance listed twice (a page boundary that moved) is
                        // audited once.
                        if !work
                            .iter()
                            .any(|(_, w)| w.instance_id == instance.instance_id)
                        {
                            work.push((region.clone(), instance));
                        }
                    }
                }
                Err(error) => region_failures.push(RegionFailure { region, error }),
            }
        }
        let mut rows: Vec<InstanceAudit> = Vec::with_capacity(work.len());
        // An instance missing from a listing that failed or stopped short may exist all the
        // same, so it is called not found only when every listing was whole.
        if region_failures.is_empty() && region_warnings.is_empty() {
            for id in &options.instance_ids {
                if !work.iter().any(|(_, w)| &w.instance_id == id) {
                    rows.push(InstanceAudit::not_found(&regions.join(","), id));
                }
            }
        }

        let total = work.len();
        let next = AtomicUsize::new(0);
        let done = AtomicUsize::new(0);
        let errors = AtomicUsize::new(rows.len());
        let results = Mutex::new(rows);
        let workers = usize::try_from(options.concurrency)
            .unwrap_or(1)
            .min(total.max(1));
        on_progress(&AuditProgress {
            done: 0,
            total,
            errors: errors.load(Ordering::SeqCst),
        });
        std::thread::scope(|s| {
            for _ in 0..workers {
                s.spawn(|| {
                    while let Some((region, instance)) =
                        work.get(next.fetch_add(1, Ordering::SeqCst))
                    {
                        let row = self.audit_instance(&gate, region, instance, max_age);
                        if row.verdict == rkvstore_core::audit::Verdict::Error {
                            errors.fetch_add(1, Ordering::SeqCst);
                        }
                        results.lock().unwrap_or_else(|e| e.into_inner()).push(row);
                        let progress = AuditProgress {
                            done: done.fetch_add(1, Ordering::SeqCst) + 1,
                            total,
                            errors: errors.load(Ordering::SeqCst),
                        };
                        on_progress(&progress);
                    }
                });
            }
        });
        let mut rows = results.into_inner().unwrap_or_else(|e| e.into_inner());
        sort_rows(&mut rows);
        let summary: Summary = rows.iter().map(|r| r.verdict).collect();
        let pace = gate.lock().clone();
        Ok(AuditReport {
            rows,
            region_failures,
            region_warnings,
            summary,
            stats: AuditStats {
                regions: regions.len(),
                requests: gate.requests.load(Ordering::Relaxed),
                throttled: pace.throttled(),
                peak_in_flight: pace.peak(),
            },
        })
    }

    /// The regions to audit, checked.
    fn audit_regions(&self, options: &AuditOptions, gate: &Gate) -> Result<Vec<String>, Error> {
        let mut regions: Vec<String> = if options.all_regions {
            let answer = self.paced(gate, None, &DescribeRegions::new())?;
            answer.region_ids().into_iter().map(str::to_owned).collect()
        } else if !options.regions.is_empty() {
            options.regions.clone()
        } else if let Some(own) = self.region() {
            vec![own.to_owned()]
        } else {
            return Err(Error::Config(
                "no region to audit: name regions, or ask for all of them".into(),
            ));
        };
        for r in &regions {
            validate::region_id(r)?;
        }
        let mut seen = Vec::with_capacity(regions.len());
        regions.retain(|r| {
            let new = !seen.contains(r);
            seen.push(r.clone());
            new
        });
        Ok(regions)
    }

    /// Every instance of `region` (only those of `ids`, when some are named), every page,
    /// each once, and why a listing stopped short, if one did.
    fn list_instances(
        &self,
        gate: &Gate,
        region: &str,
        ids: &[String],
    ) -> Result<Listed, RowError> {
        let queries: Vec<DescribeInstances> = if ids.is_empty() {
            vec![DescribeInstances::new(region)]
        } else {
            ids.chunks(MAX_INSTANCE_IDS)
                .map(|chunk| DescribeInstances::new(region).instance_ids(chunk.iter().cloned()))
                .collect()
        };
        let mut out = Listed::default();
        for query in queries {
            let mut pager = InstancePager::new(query);
            while let Some(op) = pager.next_operation() {
                let page = self
                    .paced(gate, Some(region), &op)
                    .map_err(|e| row_error("DescribeInstances", &e))?;
                out.instances.extend(pager.take_new(page).instances);
            }
            out.warnings.extend(pager.warning().cloned());
        }
        Ok(out)
    }

    /// One instance's row: its policy, its backup sets, its running jobs, and the verdict.
    fn audit_instance(
        &self,
        gate: &Gate,
        region: &str,
        instance: &KvStoreInstance,
        max_age: u64,
    ) -> InstanceAudit {
        let id = instance.instance_id.as_str();
        let mut findings = Findings::default();
        let note = |findings: &mut Findings, action: &str, e: &Error| {
            if findings.error.is_none() {
                findings.error = Some(row_error(action, e));
            }
        };
        match self.paced(gate, Some(region), &DescribeBackupPolicy::new(id)) {
            Ok(p) => findings.policy = Some(p),
            Err(e) => note(&mut findings, "DescribeBackupPolicy", &e),
        }
        let now = local_now().offset(self.clock_skew());
        let window = DescribeBackups::last_days(id, now, lookback_days(max_age)).region(region);
        match self.paced_backups(gate, region, window) {
            Ok(sets) => findings.backups = Some(sets),
            Err(e) => note(&mut findings, "DescribeBackups", &e),
        }
        if instance.supports_backup_tasks() {
            let op = DescribeBackupTasks::new(id).region(region);
            match self.paced(gate, Some(region), &op) {
                Ok(t) => findings.jobs = Some(t.backup_jobs),
                Err(e) => note(&mut findings, "DescribeBackupTasks", &e),
            }
        } else {
            findings.tasks_skipped = true;
        }
        let now = local_now().offset(self.clock_skew());
        InstanceAudit::assess(region, instance, findings, now, max_age)
    }

    /// A line for `--verbose`, built only when someone listens.
    fn audit_log(&self, line: impl FnOnce() -> String) {
        if let Some(logger) = &self.inner.logger {
            logger(&line());
        }
    }

    fn paced_backups(
        &self,
        gate: &Gate,
        region: &str,
        op: DescribeBackups,
    ) -> Result<Vec<Backup>, Error> {
        let mut pager = rkvstore_core::pager::BackupPager::new(op);
        let mut sets = Vec::new();
        while let Some(page) = pager.next_operation() {
            let answer = self.paced(gate, Some(region), &page)?;
            // A set listed twice (a repeated page) counts once, as in `rkvstore backups`.
            sets.extend(pager.take_new(answer).backups);
        }
        Ok(sets)
    }

    /// Sends `op` (to `region`'s endpoint, when the client resolves endpoints by region) as
    /// the gate allows. A throttling answer slows the whole audit down and starts the call
    /// afresh, so that throttling never uses up the retries meant for other failures.
    fn paced<O: Operation>(
        &self,
        gate: &Gate,
        region: Option<&str>,
        op: &O,
    ) -> Result<O::Output, Error>
    where
        O::Output: Shape,
    {
        let endpoint = match region {
            Some(r) => endpoint_for_region(&self.inner.endpoint, self.region(), r)?,
            None => self.inner.endpoint.clone(),
        };
        self.paced_request(
            gate,
            op.to_request(endpoint)?.with_format(self.inner.format),
        )
    }

    fn paced_request<T: Shape>(
        &self,
        gate: &Gate,
        request: rkvstore_core::RpcRequest,
    ) -> Result<T, Error> {
        let policy = CallPolicy::default()
            .retry(self.inner.retry)
            .signature(self.inner.version)
            .max_clock_skew(MAX_CLOCK_SKEW);
        let mut throttles = 0_u32;
        'call: loop {
            let mut call =
                Call::<T>::new(request.clone(), true, &policy).clock_skew(self.clock_skew());
            loop {
                let ticket = gate.admit();
                let credentials = match self.inner.credentials.get() {
                    Ok(c) => c,
                    Err(e) => {
                        gate.done(ticket, Outcome::Failed);
                        return Err(e.into());
                    }
                };
                let signed = match call.next_request(&credentials, local_now(), &random::nonce()) {
                    Ok(s) => s.clone(),
                    Err(e) => {
                        gate.done(ticket, Outcome::Failed);
                        return Err(e.into());
                    }
                };
                self.audit_log(|| {
                    format!(
                        "→ {} {} (attempt {})",
                        signed.method(),
                        signed.redacted_url(),
                        call.attempts()
                    )
                });
                let (step, retry_after) = match self.inner.transport.send(&signed) {
                    Ok(got) => {
                        self.audit_log(|| {
                            format!("← HTTP {} ({} bytes)", got.status, got.body.len())
                        });
                        let hint = got.retry_after.as_deref().and_then(parse_retry_after);
                        (call.answer(got.answer(), random::unit()), hint)
                    }
                    Err(e) => {
                        self.audit_log(|| format!("← {}", signed.redact(&e.to_string())));
                        let step = call.transport_failed(e, random::unit());
                        gate.done(ticket, Outcome::Failed);
                        match step {
                            Step::Done(v) => return Ok(v),
                            Step::Failed(e) => return Err(e.into()),
                            Step::Again { delay, .. } => {
                                std::thread::sleep(delay);
                                continue;
                            }
                        }
                    }
                };
                let throttled = match &step {
                    Step::Again {
                        because: Retry::Failed(e),
                        ..
                    } => is_throttled(e),
                    Step::Failed(e) => is_throttled(e),
                    _ => false,
                };
                let outcome = if throttled {
                    Outcome::Throttled { retry_after }
                } else {
                    Outcome::Success
                };
                gate.done(ticket, outcome);
                if throttled && throttles < MAX_THROTTLES_PER_REQUEST {
                    throttles += 1;
                    self.audit_log(|| {
                        format!(
                            "throttled; the audit slows down to {} in flight",
                            gate.lock().limit()
                        )
                    });
                    // The gate holds this request back with every other until the pause is
                    // over; a fresh call keeps the retries for failures throttling is not.
                    continue 'call;
                }
                match step {
                    Step::Done(v) => return Ok(v),
                    Step::Failed(e) => return Err(e.into()),
                    Step::Again { delay, because } => {
                        if let Retry::ClockSkew(skew) = because {
                            self.inner.skew.store(skew, Ordering::Relaxed);
                        }
                        std::thread::sleep(delay);
                    }
                }
            }
        }
    }
}
