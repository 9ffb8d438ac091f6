//! The emulator answers as the service does: real HTTP, hand-made requests.

#![allow(clippy::unwrap_used)] // Helpers outside #[test] functions unwrap too.

mod support;
use support::now;

use rkvstore_core::{
    sign, Credentials, DescribeBackupTasks, Endpoint, Format, Method, Operation, RpcRequest,
    SignatureVersion, SigningParams, Timestamp,
};
use rkvstore_emulator::Emulator;

fn emulator() -> Emulator {
    Emulator::builder()
        .access_key("id", "secret")
        .instance("r-a")
        .start("127.0.0.1:0")
        .unwrap()
}

struct Reply {
    status: u16,
    content_type: String,
    body: String,
}

fn raw(method: &str, url: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut req = ureq::http::Request::builder().method(method).uri(url);
    for (k, v) in headers {
        if *k != "host" {
            req = req.header(*k, *v);
        }
    }
    let mut resp = agent.run(req.body(body.to_vec()).unwrap()).unwrap();
    Reply {
        status: resp.status().as_u16(),
        content_type: resp
            .headers()
            .get("content-type")
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned(),
        body: resp.body_mut().read_to_string().unwrap(),
    }
}

fn signed(
    req: RpcRequest,
    creds: &Credentials,
    time: Timestamp,
    nonce: &str,
    version: SignatureVersion,
) -> Reply {
    let s = sign(
        &req,
        &SigningParams {
            credentials: creds,
            time,
            nonce,
            version,
        },
    )
    .unwrap();
    let headers: Vec<(&str, &str)> = s.headers().collect();
    raw(s.method().as_str(), s.url(), &headers, s.body())
}

fn describe(emu: &Emulator, instance: &str) -> RpcRequest {
    DescribeBackupTasks::new(instance)
        .to_request(Endpoint::parse(&emu.url()).unwrap())
        .unwrap()
}

#[test]
fn format_decides_the_body_and_content_type() {
    let emu = emulator();
    let creds = Credentials::new("id", "secret");
    let json = signed(
        describe(&emu, "r-a"),
        &creds,
        now(),
        "n1",
        SignatureVersion::V1,
    );
    assert_eq!(
        (json.status, json.content_type.as_str()),
        (200, "application/json;charset=utf-8")
    );
    assert!(json.body.starts_with('{'), "{}", json.body);
    let xml = signed(
        describe(&emu, "r-a").with_format(Format::Xml),
        &creds,
        now(),
        "n2",
        SignatureVersion::V1,
    );
    assert_eq!(
        (xml.status, xml.content_type.as_str()),
        (200, "text/xml;charset=utf-8")
    );
    assert!(
        xml.body.contains("<DescribeBackupTasksResponse>"),
        "{}",
        xml.body
    );
    // Signature v3 answers JSON.
    let v3 = signed(
        describe(&emu, "r-a").with_format(Format::Xml),
        &creds,
        now(),
        "n3",
        SignatureVersion::V3,
    );
    assert_eq!(v3.content_type, "application/json;charset=utf-8");
    // A form body is read and signed like the query.
    let form = signed(
        describe(&emu, "r-a").with_form_body(),
        &creds,
        now(),
        "n4",
        SignatureVersion::V1,
    );
    assert_eq!(form.status, 200, "{}", form.body);
    let get = signed(
        describe(&emu, "r-a").with_method(Method::Get),
        &creds,
        now(),
        "n5",
        SignatureVersion::V1,
    );
    assert_eq!(get.status, 200, "{}", get.body);
}

#[test]
fn no_format_means_xml() {
    let emu = emulator();
    let creds = Credentials::new("id", "secret");
    let s = sign(
        &describe(&emu, "r-a"),
        &SigningParams {
            credentials: &creds,
            time: now(),
            nonce: "n1",
            version: SignatureVersion::V1,
        },
    )
    .unwrap();
    // Re-sign without Format, the way a hand-written client might send it.
    let params: Vec<(String, String)> = s
        .url()
        .split_once('?')
        .unwrap()
        .1
        .split('&')
        .map(|p| p.split_once('=').unwrap())
        .filter(|(k, _)| *k != "Format" && *k != "Signature")
        .map(|(k, v)| (k.to_owned(), rkvstore_core::percent::decode(v).unwrap()))
        .collect();
    let refs: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let parts = rkvstore_core::verify::v1::sign_params("POST", &refs, "secret");
    let url = format!(
        "{}/?{}&Signature={}",
        emu.url(),
        parts.canonical_query,
        rkvstore_core::percent::encode(&parts.signature)
    );
    let r = raw("POST", &url, &[], b"");
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.content_type.starts_with("text/xml"), "{}", r.content_type);
}

fn code_of(r: &Reply) -> String {
    match rkvstore_core::response::parse_error_body(r.status, r.body.as_bytes(), Format::Json) {
        rkvstore_core::Error::Api(api) => api.code,
        other => panic!("not an API error: {other}"),
    }
}

#[test]
fn authentication_failures_use_the_service_codes() {
    let emu = emulator();
    let good = Credentials::new("id", "secret");
    let cases: Vec<(Reply, u16, &str)> = vec![
        (
            signed(
                describe(&emu, "r-a"),
                &Credentials::new("nobody", "secret"),
                now(),
                "a1",
                SignatureVersion::V1,
            ),
            404,
            "InvalidAccessKeyId.NotFound",
        ),
        (
            signed(
                describe(&emu, "r-a"),
                &Credentials::new("id", "wrong"),
                now(),
                "a2",
                SignatureVersion::V1,
            ),
            400,
            "SignatureDoesNotMatch",
        ),
        (
            signed(
                describe(&emu, "r-a"),
                &Credentials::new("id", "wrong"),
                now(),
                "a3",
                SignatureVersion::V3,
            ),
            400,
            "SignatureDoesNotMatch",
        ),
        (
            signed(
                describe(&emu, "r-a"),
                &good,
                now().offset(-16 * 60),
                "a4",
                SignatureVersion::V1,
            ),
            400,
            "InvalidTimeStamp.Expired",
        ),
        (
            signed(
                describe(&emu, "r-a"),
                &good,
                now().offset(16 * 60),
                "a5",
                SignatureVersion::V3,
            ),
            400,
            "InvalidTimeStamp.Expired",
        ),
        (
            signed(
                describe(&emu, "r-nosuch"),
                &good,
                now(),
                "a6",
                SignatureVersion::V1,
            ),
            404,
            "InvalidInstanceId.NotFound",
        ),
        (
            signed(
                RpcRequest::new(
                    Endpoint::parse(&emu.url()).unwrap(),
                    "2015-01-01",
                    "DescribeBackupTasks",
                )
                .unwrap(),
                &good,
                now(),
                "a7",
                SignatureVersion::V1,
            ),
            400,
            "MissingInstanceId",
        ),
        (
            signed(
                RpcRequest::new(
                    Endpoint::parse(&emu.url()).unwrap(),
                    "2015-01-01",
                    "FlushAll",
                )
                .unwrap(),
                &good,
                now(),
                "a8",
                SignatureVersion::V1,
            ),
            404,
            "InvalidAction.NotFound",
        ),
        (
            signed(
                RpcRequest::new(
                    Endpoint::parse(&emu.url()).unwrap(),
                    "2014-05-26",
                    "DescribeBackupTasks",
                )
                .unwrap()
                .param("InstanceId", "r-a")
                .unwrap(),
                &good,
                now(),
                "a9",
                SignatureVersion::V1,
            ),
            400,
            "InvalidVersion",
        ),
        (
            raw(
                "POST",
                &format!("{}/?Action=DescribeBackupTasks&Format=JSON", emu.url()),
                &[],
                b"",
            ),
            400,
            "IncompleteSignature",
        ),
    ];
    for (i, (reply, status, code)) in cases.iter().enumerate() {
        assert_eq!(
            (reply.status, code_of(reply).as_str()),
            (*status, *code),
            "case {i}: {}",
            reply.body
        );
    }
    // The mismatch quotes the server's string to sign, as the service does.
    assert!(
        cases[1]
            .0
            .body
            .contains("server string to sign is:POST&%2F&AccessKeyId%3Did"),
        "{}",
        cases[1].0.body
    );
    assert!(
        cases[2]
            .0
            .body
            .contains("server string to sign is:ACS3-HMAC-SHA256\\n"),
        "{}",
        cases[2].0.body
    );
}

#[test]
fn a_nonce_is_accepted_once() {
    let emu = emulator();
    let creds = Credentials::new("id", "secret");
    let first = signed(
        describe(&emu, "r-a"),
        &creds,
        now(),
        "same-nonce",
        SignatureVersion::V1,
    );
    assert_eq!(first.status, 200);
    let again = signed(
        describe(&emu, "r-a"),
        &creds,
        now(),
        "same-nonce",
        SignatureVersion::V1,
    );
    assert_eq!(
        (again.status, code_of(&again).as_str()),
        (400, "SignatureNonceUsed")
    );
}

#[test]
fn errors_in_xml_have_the_error_shape() {
    let emu = emulator();
    let creds = Credentials::new("id", "secret");
    let r = signed(
        describe(&emu, "r-nosuch").with_format(Format::Xml),
        &creds,
        now(),
        "x1",
        SignatureVersion::V1,
    );
    assert_eq!(r.status, 404);
    assert!(
        r.body
            .starts_with("<?xml version='1.0' encoding='UTF-8'?><Error><RequestId>"),
        "{}",
        r.body
    );
    let e =
        match rkvstore_core::response::parse_error_body(r.status, r.body.as_bytes(), Format::Xml) {
            rkvstore_core::Error::Api(e) => e,
            other => panic!("{other:?}"),
        };
    assert_eq!(e.code, "InvalidInstanceId.NotFound");
    assert!(e
        .recommend
        .unwrap()
        .contains("q=InvalidInstanceId.NotFound"));
}
