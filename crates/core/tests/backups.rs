//! Typed parsing of the backup-set answers from fixtures in both wire formats, and the pure
//! download helpers on OSS's own error body.

#![allow(clippy::unwrap_used)]

use rkvstore_core::download::is_expired_answer;
use rkvstore_core::response::parse_success;
use rkvstore_core::{
    DescribeBackupPolicyResponse, DescribeBackupsResponse, DescribeInstanceAttributeResponse,
    Format, ModifyBackupPolicy, Operation, Weekday,
};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

#[test]
fn describe_backups_reads_the_same_from_json_and_xml() {
    let json: DescribeBackupsResponse =
        parse_success(&fixture("describe-backups.json"), Format::Json).unwrap();
    let xml: DescribeBackupsResponse =
        parse_success(&fixture("describe-backups.xml"), Format::Xml).unwrap();
    assert_eq!(json, xml);
    assert_eq!(json.total_count, Some(5));
    assert_eq!(json.page_size, Some(30));
    assert_eq!(json.free_size, Some(100_000));
    let b = &json.backups[0];
    assert_eq!(b.backup_id, 111_111_111);
    assert_eq!(b.backup_size, Some(2_167_808));
    assert_eq!(b.backup_job_id, Some(10001));
    assert_eq!(b.backup_method.as_deref(), Some("Physical"));
    assert_eq!(
        b.download_url(true),
        Some("https://rdsbak-hk45-v2.oss-cn-hongkong-internal.aliyuncs.com/********")
    );
    // Serialized back, the API's own names and number types.
    let v = serde_json::to_value(b).unwrap();
    assert_eq!(v["BackupId"], 111_111_111);
    assert_eq!(v["BackupDBNames"], "all");
    assert_eq!(
        v["BackupDownloadURL"],
        "https://rdsbak-hk45-v2.oss-cn-hongkong.aliyuncs.com/********"
    );
}

#[test]
fn describe_backups_is_lenient_like_the_other_answers() {
    let shapes = [
        r#"{"RequestId":"R","TotalCount":"1","Backups":{"Backup":{"BackupId":"7","BackupSize":"10"}}}"#,
        r#"{"RequestId":"R","TotalCount":1,"Backups":[{"BackupId":7,"BackupSize":10}]}"#,
        r#"{"RequestId":"R","TotalCount":1,"Backups":{"BackupId":7,"BackupSize":10.0e0}}"#,
    ];
    let first: Result<DescribeBackupsResponse, _> =
        parse_success(shapes[0].as_bytes(), Format::Json);
    let first = first.unwrap();
    assert_eq!(first.backups[0].backup_size, Some(10));
    let second: DescribeBackupsResponse =
        parse_success(shapes[1].as_bytes(), Format::Json).unwrap();
    assert_eq!(first, second);
    // A size that is not a whole number is an error naming the field.
    let e =
        parse_success::<DescribeBackupsResponse>(shapes[2].as_bytes(), Format::Json).unwrap_err();
    assert!(e.to_string().contains("BackupSize"), "{e}");
    let e =
        parse_success::<DescribeBackupsResponse>(br#"{"Backups":[]}"#, Format::Json).unwrap_err();
    assert!(e.to_string().contains("(no RequestId)"), "{e}");
    let empty: DescribeBackupsResponse =
        parse_success(b"<R><RequestId>R</RequestId><Backups/></R>", Format::Xml).unwrap();
    assert!(empty.backups.is_empty());
}

#[test]
fn backup_policy_reads_the_same_from_json_and_xml_and_merges() {
    let json: DescribeBackupPolicyResponse =
        parse_success(&fixture("describe-backup-policy.json"), Format::Json).unwrap();
    let xml: DescribeBackupPolicyResponse =
        parse_success(&fixture("describe-backup-policy.xml"), Format::Xml).unwrap();
    assert_eq!(json, xml);
    assert!(json.backup_log_enabled());
    let op = ModifyBackupPolicy::from_policy("r-bp1zxszhcgatnx", &json)
        .unwrap()
        .retention_days(14);
    assert_eq!(
        op.preferred_backup_period,
        [Weekday::Wednesday, Weekday::Friday]
    );
    let p = op.params().unwrap();
    let got: Vec<_> = p.iter().collect();
    assert_eq!(
        got,
        [
            ("InstanceId", "r-bp1zxszhcgatnx"),
            ("PreferredBackupTime", "02:00Z-03:00Z"),
            ("PreferredBackupPeriod", "Wednesday,Friday"),
            ("BackupRetentionPeriod", "14"),
            ("EnableBackupLog", "1"),
        ]
    );
}

#[test]
fn instance_attribute_status_from_xml() {
    let r: DescribeInstanceAttributeResponse =
        parse_success(&fixture("describe-instance-attribute.xml"), Format::Xml).unwrap();
    assert_eq!(
        r.status_of("r-bp1zxszhcgatnx****"),
        Some("BackupRecovering")
    );
    let e = parse_success::<DescribeInstanceAttributeResponse>(
        br#"{"RequestId":"R","Instances":{"DBInstanceAttribute":[]}}"#,
        Format::Json,
    )
    .unwrap_err();
    assert!(e.to_string().contains("(no DBInstanceAttribute)"), "{e}");
}

#[test]
fn oss_expired_answer_fixture() {
    assert!(is_expired_answer(403, &fixture("oss-request-expired.xml")));
    assert!(!is_expired_answer(404, &fixture("oss-request-expired.xml")));
}
