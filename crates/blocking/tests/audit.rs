//! The fleet audit as a library: typed rows from plain threads sharing one client, one
//! credentials fetch for all of them, and the slow-down under throttling.

#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rkvstore_blocking::audit::AuditOptions;
use rkvstore_blocking::core::audit::Verdict;
use rkvstore_blocking::core::sts::TemporaryCredentials;
use rkvstore_blocking::core::{Credentials, Timestamp};
use rkvstore_blocking::credentials::{CredentialsError, CredentialsProvider};
use rkvstore_blocking::Client;
use rkvstore_emulator::{Emulator, FleetSpec};

#[path = "../../cli/tests/support/hostile.rs"]
mod hostile;

/// Issues the same temporary credentials slowly, living `life` seconds, counting its calls.
struct Counting {
    calls: AtomicU32,
    life: i64,
}

impl CredentialsProvider for Counting {
    fn fetch(&self) -> Result<TemporaryCredentials, CredentialsError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        // Slow, so that every worker asks while the first fetch is still under way.
        std::thread::sleep(Duration::from_millis(200));
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        Ok(TemporaryCredentials {
            credentials: Credentials::new("STS.audit", "sts-secret").with_security_token("tok"),
            expiration: Some(Timestamp::from_unix(now + self.life)),
        })
    }

    fn describe(&self) -> String {
        "Counting".into()
    }
}

fn options(concurrency: u32) -> AuditOptions {
    let mut o = AuditOptions::default();
    o.all_regions = true;
    o.concurrency = concurrency;
    o
}

#[test]
fn typed_rows_from_threads_sharing_one_client_and_one_credentials_fetch() {
    let emu = Emulator::builder()
        .sts("STS.audit", "sts-secret", "tok")
        .fleet(FleetSpec::new(120, 2).latency(Duration::from_millis(2)))
        .start("127.0.0.1:0")
        .unwrap();
    let provider = Arc::new(Counting {
        calls: AtomicU32::new(0),
        life: 3600,
    });
    let client = Client::builder()
        .credentials_provider(provider.clone())
        .endpoint(emu.url())
        .build()
        .unwrap();
    let calls = AtomicUsize::new(0);
    let report = client
        .audit(&options(32), &|p| {
            calls.fetch_add(1, Ordering::SeqCst);
            assert!(p.done <= p.total);
        })
        .unwrap();
    assert_eq!(
        provider.calls.load(Ordering::SeqCst),
        1,
        "refresh not single-flight"
    );
    assert_eq!(report.rows.len(), 120);
    // Two calls before the first instance (listing, then the total), one per instance.
    assert_eq!(calls.load(Ordering::SeqCst), 122);
    let fleet = emu.fleet();
    for row in &report.rows {
        let member = fleet
            .iter()
            .find(|m| m.instance_id == row.instance_id)
            .unwrap();
        assert_eq!(
            row.verdict.as_str(),
            member.history.expected_verdict(),
            "{row:?}"
        );
        assert_eq!(row.region, member.region);
    }
    assert!(report.rows.windows(2).all(|w| w[0].verdict <= w[1].verdict));
    assert_eq!(report.summary.total(), 120);
    assert!(!report.all_ok());
    assert!(report.stats.peak_in_flight <= 32);
    assert!(emu.peak_in_flight() <= 32, "{}", emu.peak_in_flight());
    assert!(
        emu.peak_in_flight() > 1,
        "the audit never ran requests in parallel"
    );
}

#[test]
fn throttling_halves_the_pace_and_no_row_fails() {
    let emu = Emulator::builder()
        .access_key("LTAIaudit", "secret")
        .fleet(
            FleetSpec::new(80, 4)
                .throttle_above(4)
                .latency(Duration::from_millis(3)),
        )
        .start("127.0.0.1:0")
        .unwrap();
    let client = Client::builder()
        .credentials(Credentials::new("LTAIaudit", "secret"))
        .endpoint(emu.url())
        .build()
        .unwrap();
    let report = client.audit(&options(24), &|_| {}).unwrap();
    assert!(report.stats.throttled > 0, "{:?}", report.stats);
    let errors: Vec<_> = report
        .rows
        .iter()
        .filter(|r| r.verdict == Verdict::Error)
        .filter(|r| r.error.as_ref().unwrap().code != "Forbidden.RAM")
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(report.rows.len(), 80);
}

#[test]
fn credentials_expiring_during_the_audit_are_refreshed_once_at_a_time() {
    // Credentials living 2 s (1 to 2 s, since expiry times are whole seconds) are refreshed
    // after two thirds of their life. With 100 ms of service time a request, about 390
    // requests 16 at a time take at least 2.4 s, so refreshes happen while 16 threads ask for
    // credentials before every request.
    let emu = Emulator::builder()
        .sts("STS.audit", "sts-secret", "tok")
        .fleet(FleetSpec::new(150, 6).latency(Duration::from_millis(100)))
        .start("127.0.0.1:0")
        .unwrap();
    let provider = Arc::new(Counting {
        calls: AtomicU32::new(0),
        life: 2,
    });
    let client = Client::builder()
        .credentials_provider(provider.clone())
        .endpoint(emu.url())
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    let report = client.audit(&options(16), &|_| {}).unwrap();
    let elapsed = started.elapsed().as_secs_f64();
    let fetches = provider.calls.load(Ordering::SeqCst);
    assert!(elapsed > 2.0, "the service time was not spent: {elapsed} s");
    // One fetch at the start, then at most one per two thirds of a second (the shortest life
    // two thirds of 1 s), whatever the number of threads; not one per thread or request.
    let most = 2 + (elapsed * 1.5).ceil() as u32;
    assert!(
        (2..=most).contains(&fetches),
        "{fetches} fetches in {elapsed} s"
    );
    assert!(report.stats.requests > 300, "{:?}", report.stats);
    let errors: Vec<_> = report
        .rows
        .iter()
        .filter(|r| r.verdict == Verdict::Error)
        .filter(|r| r.error.as_ref().unwrap().code != "Forbidden.RAM")
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
}

#[test]
fn a_region_that_repeats_its_first_page_is_a_warning_not_a_loop_nor_a_failure() {
    // Every answer is the same page claiming a billion instances, whatever was asked: the
    // listing stops at page 2, which brought nothing new, and the report says so.
    let page = r#"{"RequestId":"R1","TotalCount":1000000000,"Instances":{"KVStoreInstance":[{"InstanceId":"r-repeat","ArchitectureType":"cluster"}]}}"#;
    let server = hostile::Hostile::start(vec![hostile::Reply::new(200, page)]);
    let client = Client::builder()
        .credentials(Credentials::new("LTAIaudit", "audit-secret"))
        .endpoint(server.url())
        .region("cn-hangzhou")
        .retries(0)
        .build()
        .unwrap();
    let mut o = AuditOptions::default();
    o.concurrency = 1;
    // A second instance named but never listed: the listing stopped short, so the audit cannot
    // tell that it does not exist, and does not claim so.
    o.instance_ids = vec!["r-repeat".into(), "r-unlisted".into()];
    let report = client.audit(&o, &|_| {}).unwrap();
    let listings = server
        .requests()
        .iter()
        .filter(|r| r.contains("DescribeInstances"))
        .count();
    assert_eq!(listings, 2);
    assert!(report.region_failures.is_empty());
    assert_eq!(report.region_warnings.len(), 1);
    let w = &report.region_warnings[0];
    assert_eq!(w.region, "cn-hangzhou");
    assert!(
        w.message
            .starts_with("page 2 of DescribeInstances repeated instances already listed"),
        "{}",
        w.message
    );
    let ids: Vec<&str> = report.rows.iter().map(|r| r.instance_id.as_str()).collect();
    assert_eq!(ids, ["r-repeat"]);
}

#[test]
fn a_429_is_throttling_even_when_its_body_is_not_an_api_error() {
    // A gateway's own 429 page, then the listing: the retry policy resends it as throttling,
    // and the audit slows down for it as for a throttling code.
    let page = r#"{"RequestId":"R1","TotalCount":1,"Instances":{"KVStoreInstance":[{"InstanceId":"r-one","ArchitectureType":"standard"}]}}"#;
    let server = hostile::Hostile::start(vec![
        hostile::Reply::new(429, "<html><body>Too Many Requests</body></html>"),
        hostile::Reply::new(200, page),
    ]);
    let client = Client::builder()
        .credentials(Credentials::new("LTAIaudit", "audit-secret"))
        .endpoint(server.url())
        .region("cn-hangzhou")
        .build()
        .unwrap();
    let mut o = AuditOptions::default();
    o.concurrency = 1;
    o.instance_ids = vec!["r-one".into()];
    let report = client.audit(&o, &|_| {}).unwrap();
    assert_eq!(report.stats.throttled, 1, "{:?}", report.stats);
    assert!(
        report.region_failures.is_empty(),
        "{:?}",
        report.region_failures
    );
}
