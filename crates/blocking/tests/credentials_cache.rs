//! The credentials cache: one fetch for many threads, and old credentials kept while a refresh
//! fails and they still work.

#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rkvstore_blocking::core::sts::TemporaryCredentials;
use rkvstore_blocking::core::{Credentials, Timestamp};
use rkvstore_blocking::credentials::{CachedProvider, CredentialsError, CredentialsProvider};

/// Issues credentials living `life` seconds, slowly, counting its calls; fails after `ok` calls.
struct Counting {
    calls: AtomicU32,
    life: i64,
    ok: u32,
}

impl CredentialsProvider for Counting {
    fn fetch(&self) -> Result<TemporaryCredentials, CredentialsError> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        std::thread::sleep(Duration::from_millis(200));
        if n > self.ok {
            return Err(CredentialsError::Provider {
                mode: "Test".into(),
                origin: "a test".into(),
                problem: "the service is down".into(),
                fix: "wait".into(),
            });
        }
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        Ok(TemporaryCredentials {
            credentials: Credentials::new(format!("STS.id{n}"), "s").with_security_token("t"),
            expiration: Some(Timestamp::from_unix(now + self.life)),
        })
    }

    fn describe(&self) -> String {
        "Test".into()
    }
}

#[test]
fn many_threads_share_one_fetch() {
    let provider = Arc::new(Counting {
        calls: AtomicU32::new(0),
        life: 3600,
        ok: u32::MAX,
    });
    let cache = Arc::new(CachedProvider::new(provider.clone(), None));
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let cache = Arc::clone(&cache);
            std::thread::spawn(move || cache.get().unwrap().access_key_id().to_owned())
        })
        .collect();
    for t in threads {
        assert_eq!(t.join().unwrap(), "STS.id1");
    }
    assert_eq!(provider.calls.load(Ordering::SeqCst), 1);
}

#[test]
fn a_failed_refresh_keeps_credentials_that_still_work_and_says_so() {
    let provider = Arc::new(Counting {
        calls: AtomicU32::new(0),
        life: 6,
        ok: 1,
    });
    let lines = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink = Arc::clone(&lines);
    let cache = CachedProvider::new(
        provider.clone(),
        Some(Arc::new(move |l: &str| {
            sink.lock().unwrap().push(l.to_owned())
        })),
    );
    assert_eq!(cache.get().unwrap().access_key_id(), "STS.id1");
    // Six-second credentials are refreshed after four; the refresh fails, the old ones stay.
    std::thread::sleep(Duration::from_millis(4200));
    assert_eq!(cache.get().unwrap().access_key_id(), "STS.id1");
    assert_eq!(provider.calls.load(Ordering::SeqCst), 2);
    let log = lines.lock().unwrap().join("\n");
    assert!(
        log.contains("refreshing failed, still using the current ones"),
        "{log}"
    );
    assert!(!log.contains("\"s\"") && !log.contains(" t "), "{log}");
    // Once they have expired, the error comes through.
    std::thread::sleep(Duration::from_millis(2500));
    let err = cache.get().unwrap_err();
    assert!(err.to_string().contains("the service is down"), "{err}");
}

#[test]
fn credentials_expired_on_arrival_are_used_and_not_fetched_per_request() {
    let provider = Arc::new(Counting {
        calls: AtomicU32::new(0),
        life: -30,
        ok: u32::MAX,
    });
    let lines = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink = Arc::clone(&lines);
    let cache = CachedProvider::new(
        provider.clone(),
        Some(Arc::new(move |l: &str| {
            sink.lock().unwrap().push(l.to_owned())
        })),
    );
    for _ in 0..50 {
        assert_eq!(cache.get().unwrap().access_key_id(), "STS.id1");
    }
    assert_eq!(provider.calls.load(Ordering::SeqCst), 1);
    let log = lines.lock().unwrap().join("\n");
    assert!(log.contains("expired 30 s ago"), "{log}");
}

#[cfg(unix)]
#[test]
fn external_output_without_expiration_is_fetched_again_after_a_while() {
    use rkvstore_blocking::credentials::ExternalProvider;
    use std::os::unix::fs::PermissionsExt;

    let dir = tempfile::tempdir().unwrap();
    let count = dir.path().join("runs");
    let path = dir.path().join("creds");
    std::fs::write(
        &path,
        format!(
            "#!/bin/sh\necho run >> '{}'\nn=$(wc -l < '{}' | tr -d ' ')\n\
             echo '{{\"mode\":\"StsToken\",\"access_key_id\":\"STS.run'$n'\",\
             \"access_key_secret\":\"s\",\"sts_token\":\"t\"}}'\n",
            count.display(),
            count.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    let provider =
        ExternalProvider::new(path.display().to_string()).reuse_for(Duration::from_secs(1));
    let cache = CachedProvider::new(Arc::new(provider), None);
    assert_eq!(cache.get().unwrap().access_key_id(), "STS.run1");
    assert_eq!(cache.get().unwrap().access_key_id(), "STS.run1");
    std::thread::sleep(Duration::from_millis(2100));
    assert_eq!(cache.get().unwrap().access_key_id(), "STS.run2");
}
