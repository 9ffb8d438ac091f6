//! Responses and errors: the shared fixtures, both wire formats, hostile bodies.

#![allow(clippy::unwrap_used)] // Helpers outside #[test] functions unwrap too.

use proptest::prelude::*;
use rkvstore_core::diagnose::{Difference, SignatureDiagnosis};
use rkvstore_core::response::{parse_error_body, parse_response};
use rkvstore_core::{
    sign, ApiError, BackupStatus, CreateBackupResponse, Credentials, DescribeBackupTasks,
    DescribeBackupTasksResponse, Endpoint, Error, Format, JobMode, Operation, ParseErrorKind,
    SignatureVersion, SigningParams, TaskAction, Timestamp,
};

const JSON_OK: &[u8] = include_bytes!("fixtures/describe-backup-tasks.json");
const XML_OK: &[u8] = include_bytes!("fixtures/describe-backup-tasks.xml");
const XML_NOT_FOUND: &[u8] = include_bytes!("fixtures/error-instance-not-found.xml");
const JSON_SIGNATURE: &[u8] = include_bytes!("fixtures/error-signature-mismatch.json");

fn describe(status: u16, body: &[u8], hint: Format) -> Result<DescribeBackupTasksResponse, Error> {
    parse_response(status, body, hint)
}

#[test]
fn fixture_json_and_xml_give_equal_values() {
    let from_json = describe(200, JSON_OK, Format::Json).unwrap();
    let from_xml = describe(200, XML_OK, Format::Xml).unwrap();
    assert_eq!(from_json, from_xml);
    assert_eq!(from_json.request_id, "BB73740C-23E2-4392-9DA4-2660C74C****");
    assert_eq!(from_json.instance_id, "r-bp1zxszhcgatnx****");
    let job = &from_json.backup_jobs[0];
    assert_eq!(from_json.backup_jobs.len(), 1);
    assert_eq!(job.backup_job_id, 8_491_111);
    assert_eq!(job.backup_progress_status, Some(BackupStatus::NoStart));
    assert_eq!(job.job_mode, Some(JobMode::Automated));
    assert_eq!(job.task_action, Some(TaskAction::NormalBackupTask));
    assert_eq!(job.start_time.as_deref(), Some("2021-01-05T19:24:00Z"));
    assert_eq!(job.process.as_deref(), Some("0"));
    assert_eq!(job.percent(), Some(0));
    assert!(!job.is_finished());
}

#[test]
fn typed_output_uses_the_api_names_and_types() {
    let from_xml = describe(200, XML_OK, Format::Xml).unwrap();
    let out = serde_json::to_value(&from_xml).unwrap();
    assert_eq!(
        out,
        serde_json::json!({
            "RequestId": "BB73740C-23E2-4392-9DA4-2660C74C****",
            "InstanceId": "r-bp1zxszhcgatnx****",
            "BackupJobs": [{
                "BackupJobID": 8491111,
                "BackupProgressStatus": "NoStart",
                "JobMode": "Automated",
                "Process": "0",
                "Progress": "0",
                "StartTime": "2021-01-05T19:24:00Z",
                "TaskAction": "NormalBackupTask"
            }]
        })
    );
}

#[test]
fn fixture_xml_error_is_typed() {
    let err = describe(404, XML_NOT_FOUND, Format::Xml).unwrap_err();
    let Error::Api(api) = err else {
        panic!("{err:?}")
    };
    assert_eq!(api.http_status, 404);
    assert_eq!(api.code, "InvalidInstanceId.NotFound");
    assert_eq!(api.message, "The Specified InstanceId is not found.");
    assert_eq!(
        api.request_id.as_deref(),
        Some("0D0A1B2C-3D4E-5F60-7182-93A4B5C6D7E8")
    );
    assert_eq!(api.host_id.as_deref(), Some("r-kvstore.aliyuncs.com"));
    assert_eq!(
        api.recommend.as_deref(),
        Some("https://api.aliyun.com/troubleshoot?q=InvalidInstanceId.NotFound&product=R-kvstore")
    );
    assert_eq!(
        api.to_string(),
        "InvalidInstanceId.NotFound: The Specified InstanceId is not found. (HTTP 404, \
         RequestId 0D0A1B2C-3D4E-5F60-7182-93A4B5C6D7E8)"
    );
    // The same error in a 200 (some gateways do that) is still an error.
    assert!(matches!(
        describe(200, XML_NOT_FOUND, Format::Xml),
        Err(Error::Api(_))
    ));
}

/// Signs the request the signature-mismatch fixture quotes, with `region`.
fn fixture_request(region: &str) -> rkvstore_core::SignedRequest {
    let creds = Credentials::new("testid", "whatever");
    let req = DescribeBackupTasks::new("r-bp1abc")
        .region(region)
        .to_request(Endpoint::parse("r-kvstore.aliyuncs.com").unwrap())
        .unwrap();
    sign(
        &req,
        &SigningParams {
            credentials: &creds,
            time: Timestamp::parse_iso8601("2026-01-01T00:00:00Z").unwrap(),
            nonce: "3156853299f313e23d1673dc12e1703d",
            version: SignatureVersion::V1,
        },
    )
    .unwrap()
}

fn api_error(body: &[u8], status: u16) -> ApiError {
    match parse_error_body(status, body, Format::Json) {
        Error::Api(api) => *api,
        other => panic!("{other:?}"),
    }
}

#[test]
fn signature_mismatch_with_equal_strings_blames_the_secret() {
    let api = api_error(JSON_SIGNATURE, 400).with_signature_check(&fixture_request("cn-hangzhou"));
    assert_eq!(
        api.signature_diagnosis,
        Some(SignatureDiagnosis::SecretMismatch)
    );
    assert!(
        api.to_string().contains("the AccessKey secret is wrong"),
        "{api}"
    );
}

#[test]
fn signature_mismatch_names_the_differing_parameter() {
    let api = api_error(JSON_SIGNATURE, 400).with_signature_check(&fixture_request("cn-beijing"));
    assert_eq!(
        api.signature_diagnosis,
        Some(SignatureDiagnosis::Differs(vec![Difference::Value {
            name: "RegionId".into(),
            ours: "cn-beijing".into(),
            server: "cn-hangzhou".into(),
        }]))
    );
    assert!(
        api.to_string().contains(
            "parameter RegionId is \"cn-beijing\" here but \"cn-hangzhou\" at the server"
        ),
        "{api}"
    );
}

#[test]
fn create_backup_in_both_formats() {
    let j: CreateBackupResponse = parse_response(
        200,
        br#"{"BackupJobID":"10000,10001","RequestId":"R"}"#,
        Format::Json,
    )
    .unwrap();
    let x: CreateBackupResponse = parse_response(
        200,
        b"<CreateBackupResponse><BackupJobID>10000,10001</BackupJobID><RequestId>R</RequestId></CreateBackupResponse>",
        Format::Xml,
    )
    .unwrap();
    assert_eq!(j, x);
    assert_eq!(j.job_ids(), Some(vec![10000, 10001]));
}

#[test]
fn xml_details_cdata_entities_and_unknown_fields() {
    let body = br#"<?xml version="1.0" encoding="UTF-8"?>
<DescribeBackupTasksResponse>
  <RequestId><![CDATA[R-1]]></RequestId>
  <InstanceId>r-a&amp;b</InstanceId>
  <Unknown><Deep><Er>1</Er></Deep></Unknown>
  <BackupJobs>
    <BackupJobID>1</BackupJobID><BackupProgressStatus>Uploading</BackupProgressStatus><Progress>40</Progress>
  </BackupJobs>
  <BackupJobs>
    <BackupJobID>2</BackupJobID><BackupProgressStatus>Hibernating</BackupProgressStatus>
  </BackupJobs>
</DescribeBackupTasksResponse>"#;
    let r = describe(200, body, Format::Xml).unwrap();
    assert_eq!(r.request_id, "R-1");
    assert_eq!(r.instance_id, "r-a&b");
    assert_eq!(r.backup_jobs.len(), 2);
    assert_eq!(r.backup_jobs[0].percent(), Some(40));
    assert_eq!(
        r.backup_jobs[1].backup_progress_status,
        Some(BackupStatus::Other("Hibernating".into()))
    );
}

#[test]
fn broken_bodies_are_errors_that_say_what_and_where() {
    let cases: &[(&[u8], Format, ParseErrorKind, &str)] = &[
        (
            &JSON_OK[..JSON_OK.len() / 2],
            Format::Json,
            ParseErrorKind::Truncated,
            "line",
        ),
        (
            &XML_OK[..XML_OK.len() / 2],
            Format::Xml,
            ParseErrorKind::Truncated,
            "ends inside <",
        ),
        (
            b"{\"RequestId\": }",
            Format::Json,
            ParseErrorKind::Syntax,
            "column",
        ),
        (
            b"<A><B></A>",
            Format::Xml,
            ParseErrorKind::Syntax,
            "at byte",
        ),
        (
            b"",
            Format::Json,
            ParseErrorKind::Empty,
            "empty JSON response",
        ),
        (
            br#"{"RequestId":"R","BackupJobs":[{"BackupJobID":true}]}"#,
            Format::Json,
            ParseErrorKind::Shape,
            "BackupJobID",
        ),
        (
            br#"{"RequestId":"R","BackupJobs":"yes"}"#,
            Format::Json,
            ParseErrorKind::Shape,
            "expected a list",
        ),
    ];
    for (body, hint, kind, needle) in cases {
        match describe(200, body, *hint) {
            Err(Error::Parse(e)) => {
                assert_eq!(e.kind, *kind, "{e}");
                assert!(e.to_string().contains(needle), "{e} lacks {needle:?}");
            }
            other => panic!("{:?}: {other:?}", String::from_utf8_lossy(body)),
        }
    }
    // Deep nesting in a field the model reads is refused…
    let deep_json = format!(
        "{{\"BackupJobs\":{}1{}}}",
        "{\"a\":".repeat(5000),
        "}".repeat(5000)
    );
    let deep_xml = "<a>".repeat(10_000);
    for (body, hint) in [
        (deep_json.as_bytes(), Format::Json),
        (deep_xml.as_bytes(), Format::Xml),
    ] {
        match describe(200, body, hint) {
            Err(Error::Parse(e)) => assert_eq!(e.kind, ParseErrorKind::TooDeep, "{e}"),
            other => panic!("{other:?}"),
        }
    }
    // …and so is deep nesting in a field the model does not know: serde_json would skip it
    // without any limit, and 200,000 nested objects used to parse as a success.
    let deep_unknown = format!(
        "{{\"RequestId\":\"R\",\"X\":{}1{}}}",
        "{\"a\":".repeat(200_000),
        "}".repeat(200_000)
    );
    match describe(200, deep_unknown.as_bytes(), Format::Json) {
        Err(Error::Parse(e)) => {
            assert_eq!(e.kind, ParseErrorKind::TooDeep, "{e}");
            assert_eq!(
                e.to_string(),
                "too deeply nested JSON response at byte 336: values nest deeper than 64 levels"
            );
        }
        other => panic!("{other:?}"),
    }
}

proptest! {
    #[test]
    fn arbitrary_bodies_never_panic(body in prop::collection::vec(any::<u8>(), 0..512), status in 100u16..600) {
        let _ = describe(status, &body, Format::Json);
        let _ = describe(status, &body, Format::Xml);
        let _ = parse_response::<CreateBackupResponse>(status, &body, Format::Json);
    }

    #[test]
    fn mutated_fixtures_never_panic(cut in 0usize..500, byte in any::<u8>(), at in 0usize..500) {
        for fixture in [JSON_OK, XML_OK, XML_NOT_FOUND, JSON_SIGNATURE] {
            let mut body = fixture[..cut.min(fixture.len())].to_vec();
            if !body.is_empty() {
                let i = at % body.len();
                body[i] = byte;
            }
            let _ = describe(200, &body, Format::Json);
            let _ = describe(400, &body, Format::Xml);
        }
    }
}
