//! Downloading backup files from the emulator over loopback: the server's 403 for an expired
//! URL, a resumed transfer, and a flat buffer.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use rkvstore_blocking::core::{Credentials, DescribeBackups};
use rkvstore_blocking::download::{download, DownloadError, DownloadOptions};
use rkvstore_blocking::Client;
use rkvstore_emulator::{backup_content, Emulator};

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
fn a_wrong_expected_size_keeps_the_partial_file() {
    let (_emu, client) = setup();
    let b = newest(&client);
    let dir = tempfile::tempdir().unwrap();
    let options =
        DownloadOptions::new(dir.path(), "b.rdb").expected_size(Some(b.backup_size.unwrap() + 1));
    let e = download(b.download_url(false).unwrap(), &options, |_, _| {}).unwrap_err();
    assert!(matches!(e, DownloadError::SizeMismatch { .. }), "{e:?}");
    assert!(options.partial_path().exists());
    assert!(!options.path().exists(), "never renamed into place");
}
