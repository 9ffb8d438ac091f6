//! Downloading backup files from the emulator over loopback: the server's 403 for an expired
//! URL, a resumed transfer, and a flat buffer.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use rkvstore_blocking::core::{Credentials, DescribeBackups};
use rkvstore_blocking::download::{download, DownloadError, DownloadOptions};
use rkvstore_blocking::Client;
use rkvstore_emulator::{backup_content, Emulator};

#[path = "../../cli/tests/support/hostile.rs"]
mod hostile;
use hostile::{Hostile, Reply};

fn setup() -> (Emulator, Client) {
    let emu = Emulator::builder()
        .access_key("LTAIdl", "dl-secret")
        .instance("r-dl")
        .seed_backups("r-dl", 2)
        .download_url_lifetime(Duration::from_secs(60))
        .start("127.0.0.1:0")
        .unwrap();
    let client = Client::builder()
        .credentials(Credentials::new("LTAIdl", "dl-secret"))
        .endpoint(emu.url())
        .build()
        .unwrap();
    (emu, client)
}

fn newest(client: &Client) -> rkvstore_blocking::core::Backup {
    let op = DescribeBackups::new("r-dl", "2020-01-01T00:00Z", "2099-01-01T00:00Z");
    client.describe_all_backups(&op).unwrap().backups[0].clone()
}

#[test]
fn the_servers_expired_answer_is_recognised() {
    let (emu, client) = setup();
    let b = newest(&client);
    // The URL is still valid by this machine's clock, but the server's is two minutes ahead.
    emu.set_clock_offset(120);
    let dir = tempfile::tempdir().unwrap();
    let url = b.download_url(false).unwrap();
    let e = download(url, &DownloadOptions::new(dir.path(), "b.rdb"), |_, _| {}).unwrap_err();
    assert!(matches!(e, DownloadError::Expired { .. }), "{e:?}");
    let text = e.to_string();
    assert!(
        text.contains("has expired") && !text.contains("Signature"),
        "{text}"
    );
    assert_eq!(emu.downloads()[0].status, 403);
}

#[test]
fn progress_is_reported_and_the_file_is_exact() {
    let (emu, client) = setup();
    let b = newest(&client);
    let size = b.backup_size.unwrap();
    emu.cut_downloads(70_000, 2);
    let dir = tempfile::tempdir().unwrap();
    let options = DownloadOptions::new(dir.path(), "b.rdb").expected_size(Some(size));
    let mut seen = Vec::new();
    let done = download(b.download_url(false).unwrap(), &options, |got, total| {
        seen.push((got, total));
    })
    .unwrap();
    assert_eq!((done.bytes, done.resumes), (size, 2));
    assert!(
        seen.windows(2).all(|w| w[0].0 <= w[1].0 || w[1].0 == 0),
        "{seen:?}"
    );
    assert_eq!(seen.last(), Some(&(size, Some(size))));
    let bytes = std::fs::read(dir.path().join("b.rdb")).unwrap();
    assert!(bytes
        .iter()
        .enumerate()
        .all(|(i, &x)| x == backup_content(b.backup_id, i as u64)));
    assert!(!options.partial_path().exists());
}

#[test]
fn an_object_of_another_size_than_the_backup_is_not_kept() {
    let (_emu, client) = setup();
    let b = newest(&client);
    let dir = tempfile::tempdir().unwrap();
    let options =
        DownloadOptions::new(dir.path(), "b.rdb").expected_size(Some(b.backup_size.unwrap() + 1));
    let e = download(b.download_url(false).unwrap(), &options, |_, _| {}).unwrap_err();
    // An object of another size than the backup's is not the backup: nothing of it is kept.
    assert!(matches!(e, DownloadError::NotTheBackup { .. }), "{e:?}");
    assert!(!options.partial_path().exists());
    assert!(!options.path().exists(), "never renamed into place");
}

// Partial files and a hostile or changing server: every byte kept must be the backup's.

fn content(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

fn url_of(server: &Hostile) -> String {
    format!(
        "{}/r-dl/hins_7.rdb?Expires=4102444800&OSSAccessKeyId=k&Signature=s",
        server.url()
    )
}

fn object(body: &[u8], etag: &str) -> Reply {
    Reply::bare(200, body.to_vec())
        .header("Content-Type", "application/octet-stream")
        .header("ETag", etag)
}

fn part(body: &[u8], from: usize, etag: &str) -> Reply {
    Reply::bare(206, body.get(from..).unwrap().to_vec())
        .header("Content-Type", "application/octet-stream")
        .header("ETag", etag)
        .header(
            "Content-Range",
            &format!("bytes {from}-{}/{}", body.len() - 1, body.len()),
        )
}

fn header_of<'a>(request: &'a str, name: &str) -> Option<&'a str> {
    request.lines().find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

#[test]
fn a_portal_page_is_never_kept_as_a_partial_file() {
    let body = content(1000, 1);
    let portal =
        Hostile::start(vec![Reply::bare(200, "<html>login</html>")
            .header("Content-Type", "text/html; charset=utf-8")]);
    let dir = tempfile::tempdir().unwrap();
    let options = DownloadOptions::new(dir.path(), "hins_7.rdb").expected_size(Some(1000));
    let e = download(&url_of(&portal), &options, |_, _| {}).unwrap_err();
    assert!(
        matches!(e, DownloadError::NotTheBackup { status: 200, .. }),
        "{e:?}"
    );
    assert!(e.to_string().contains("text/html"), "{e}");
    assert!(!options.partial_path().exists());
    // The real server next: the whole file from the start, no Range.
    let real = Hostile::start(vec![object(&body, "\"e1\"")]);
    download(&url_of(&real), &options, |_, _| {}).unwrap();
    assert_eq!(std::fs::read(options.path()).unwrap(), body);
    assert_eq!(header_of(&real.requests()[0], "range"), None);
}

#[test]
fn a_partial_file_without_its_record_starts_over() {
    // The 18-byte page an earlier version kept: no record of where it came from.
    let body = content(1000, 2);
    let dir = tempfile::tempdir().unwrap();
    let options = DownloadOptions::new(dir.path(), "hins_7.rdb").expected_size(Some(1000));
    std::fs::write(options.partial_path(), "<html>login</html>").unwrap();
    let real = Hostile::start(vec![part(&body, 18, "\"e1\""), object(&body, "\"e1\"")]);
    download(&url_of(&real), &options, |_, _| {}).unwrap();
    assert_eq!(std::fs::read(options.path()).unwrap(), body);
    assert_eq!(header_of(&real.requests()[0], "range"), None, "not resumed");
    assert!(!options.meta_path().exists());
}

#[test]
fn a_resume_sends_if_range_with_the_first_answers_validator() {
    let body = content(1000, 3);
    let dir = tempfile::tempdir().unwrap();
    let options = DownloadOptions::new(dir.path(), "hins_7.rdb")
        .expected_size(Some(1000))
        .resumes(0);
    let cut = Hostile::start(vec![object(&body, "\"e1\"").cut_after(400)]);
    let e = download(&url_of(&cut), &options, |_, _| {}).unwrap_err();
    assert!(
        matches!(e, DownloadError::Interrupted { got: 400, .. }),
        "{e:?}"
    );
    assert!(std::fs::read_to_string(options.meta_path())
        .unwrap()
        .contains("\"e1\""));
    let rest = Hostile::start(vec![part(&body, 400, "\"e1\"")]);
    let done = download(&url_of(&rest), &options, |_, _| {}).unwrap();
    assert_eq!(done.resumed_from, 400);
    let request = &rest.requests()[0];
    assert_eq!(header_of(request, "range"), Some("bytes=400-"));
    assert_eq!(header_of(request, "if-range"), Some("\"e1\""));
    assert_eq!(std::fs::read(options.path()).unwrap(), body);
    assert!(!options.meta_path().exists());
}

#[test]
fn a_changed_object_starts_over_instead_of_being_spliced() {
    let old = content(1000, 4);
    let new = content(1000, 5);
    let dir = tempfile::tempdir().unwrap();
    let options = DownloadOptions::new(dir.path(), "hins_7.rdb")
        .expected_size(Some(1000))
        .resumes(0);
    let cut = Hostile::start(vec![object(&old, "\"old\"").cut_after(400)]);
    download(&url_of(&cut), &options, |_, _| {}).unwrap_err();
    // If-Range did not match: the server sends the whole new object.
    let changed = Hostile::start(vec![object(&new, "\"new\"")]);
    download(&url_of(&changed), &options, |_, _| {}).unwrap();
    assert_eq!(std::fs::read(options.path()).unwrap(), new);

    // A server that ignores If-Range and sends the range of another object: started over.
    std::fs::remove_file(options.path()).unwrap();
    let cut = Hostile::start(vec![object(&old, "\"old\"").cut_after(400)]);
    download(&url_of(&cut), &options, |_, _| {}).unwrap_err();
    let liar = Hostile::start(vec![part(&new, 400, "\"new\""), object(&new, "\"new\"")]);
    let options = options.resumes(1);
    download(&url_of(&liar), &options, |_, _| {}).unwrap();
    assert_eq!(std::fs::read(options.path()).unwrap(), new);
    assert_eq!(header_of(&liar.requests()[1], "range"), None);
}

#[test]
fn a_content_range_that_does_not_start_at_the_partial_end_starts_over() {
    let body = content(1000, 6);
    let dir = tempfile::tempdir().unwrap();
    let options = DownloadOptions::new(dir.path(), "hins_7.rdb")
        .expected_size(Some(1000))
        .resumes(0);
    let cut = Hostile::start(vec![object(&body, "\"e\"").cut_after(400)]);
    download(&url_of(&cut), &options, |_, _| {}).unwrap_err();
    let off = Hostile::start(vec![part(&body, 300, "\"e\""), object(&body, "\"e\"")]);
    let options = options.resumes(1);
    download(&url_of(&off), &options, |_, _| {}).unwrap();
    assert_eq!(std::fs::read(options.path()).unwrap(), body);
}

#[test]
fn writing_stops_before_the_body_passes_the_backups_size() {
    // No Content-Length: the body runs until the connection closes, longer than the backup.
    let long = content(3000, 7);
    let server = Hostile::start(vec![Reply::bare(200, long)
        .header("Content-Type", "application/octet-stream")
        .no_length()]);
    let dir = tempfile::tempdir().unwrap();
    let options = DownloadOptions::new(dir.path(), "hins_7.rdb").expected_size(Some(1000));
    let mut most = 0;
    let e = download(&url_of(&server), &options, |got, _| most = most.max(got)).unwrap_err();
    assert!(matches!(e, DownloadError::NotTheBackup { .. }), "{e:?}");
    assert!(most <= 1000, "{most}");
    assert!(!options.partial_path().exists() && !options.path().exists());
}

#[test]
fn a_stalled_body_ends_after_the_idle_timeout_and_keeps_the_partial_file() {
    let body = content(100_000, 8);
    let server = Hostile::start(vec![object(&body, "\"e\"").stall_after(5000)]);
    let dir = tempfile::tempdir().unwrap();
    let options = DownloadOptions::new(dir.path(), "hins_7.rdb")
        .expected_size(Some(100_000))
        .timeouts(Duration::from_secs(2), Duration::from_millis(300))
        .resumes(1);
    let started = std::time::Instant::now();
    let e = download(&url_of(&server), &options, |_, _| {}).unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(
        matches!(e, DownloadError::Stalled { got: 5000, .. }),
        "{e:?}"
    );
    let text = e.to_string();
    assert!(
        text.contains("stalled") && text.contains("run the same command again"),
        "{text}"
    );
    assert_eq!(
        std::fs::metadata(options.partial_path()).unwrap().len(),
        5000
    );
}

#[test]
fn the_expiry_check_uses_the_services_clock() {
    let server = Hostile::start(vec![object(b"x", "\"e\"")]);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let url = |expires: u64| {
        format!(
            "{}/r-dl/x.rdb?Expires={expires}&OSSAccessKeyId=k&Signature=s",
            server.url()
        )
    };
    let dir = tempfile::tempdir().unwrap();
    // Valid by this machine's clock, but the service's is two hours ahead: refused unsent.
    let ahead = DownloadOptions::new(dir.path(), "a.rdb").clock_skew(7200);
    let e = download(&url(now + 3600), &ahead, |_, _| {}).unwrap_err();
    assert!(matches!(e, DownloadError::Expired { .. }), "{e:?}");
    assert_eq!(server.hits(), 0);
    // Expired by this machine's clock, which is two hours fast: still valid, so it is sent.
    let behind = DownloadOptions::new(dir.path(), "b.rdb").clock_skew(-7200);
    download(&url(now - 3600), &behind, |_, _| {}).unwrap();
    assert_eq!(server.hits(), 1);
}
