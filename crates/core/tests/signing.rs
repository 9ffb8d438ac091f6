//! Signing behaviour beyond the vectors: Alibaba's documented example, properties, placement
//! of parameters, and redaction.

#![allow(clippy::unwrap_used)] // Helpers outside #[test] functions unwrap too.

use proptest::prelude::*;
use rkvstore_core::verify::{v1, v3};
use rkvstore_core::{
    percent, sign, Credentials, DescribeBackupTasks, Endpoint, Format, Method, Operation, Params,
    RpcRequest, SignatureVersion, SignedRequest, SigningParams, Timestamp, REDACTED,
};

fn at(s: &str) -> Timestamp {
    Timestamp::parse_iso8601(s).unwrap()
}

fn sign_with(req: &RpcRequest, creds: &Credentials, version: SignatureVersion) -> SignedRequest {
    sign(
        req,
        &SigningParams {
            credentials: creds,
            time: at("2026-01-01T00:00:00Z"),
            nonce: "3156853299f313e23d1673dc12e1703d",
            version,
        },
    )
    .unwrap()
}

fn url_signature(signed: &SignedRequest) -> String {
    let (_, s) = signed.url().rsplit_once("&Signature=").unwrap();
    percent::decode(s).unwrap()
}

/// Alibaba's own worked example from the signature 1.0 documentation.
#[test]
fn documented_describe_regions_example() {
    let creds = Credentials::new("testid", "testsecret");
    let req = RpcRequest::new(
        Endpoint::parse("ecs.aliyuncs.com").unwrap(),
        "2014-05-26",
        "DescribeRegions",
    )
    .unwrap()
    .with_method(Method::Get)
    .with_format(Format::Xml);
    let signed = sign(
        &req,
        &SigningParams {
            credentials: &creds,
            time: at("2016-02-23T12:46:24Z"),
            nonce: "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
            version: SignatureVersion::V1,
        },
    )
    .unwrap();
    assert_eq!(
        signed.string_to_sign().as_str(),
        "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML\
         %26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf\
         %26SignatureVersion%3D1.0%26Timestamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26"
    );
    assert_eq!(url_signature(&signed), "OLeaidS1JvxuMvnyHOwuJ+uX5qY=");
    assert_eq!(
        signed.url(),
        "https://ecs.aliyuncs.com/?AccessKeyId=testid&Action=DescribeRegions&Format=XML\
         &SignatureMethod=HMAC-SHA1&SignatureNonce=3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf\
         &SignatureVersion=1.0&Timestamp=2016-02-23T12%3A46%3A24Z&Version=2014-05-26\
         &Signature=OLeaidS1JvxuMvnyHOwuJ%2BuX5qY%3D"
    );
}

#[test]
fn form_body_is_signed_like_the_query() {
    let creds = Credentials::new("id", "secret");
    let base = DescribeBackupTasks::new("r-bp1abc")
        .region("cn-hangzhou")
        .to_request(Endpoint::parse("r-kvstore.aliyuncs.com").unwrap())
        .unwrap();
    let in_query = sign_with(&base, &creds, SignatureVersion::V1);
    let in_body = sign_with(&base.clone().with_form_body(), &creds, SignatureVersion::V1);
    // Same parameters, same method: the same signature, wherever the parameters travel.
    assert_eq!(url_signature(&in_query), url_signature(&in_body));
    assert_eq!(
        in_query.string_to_sign().as_str(),
        in_body.string_to_sign().as_str()
    );
    assert_eq!(in_body.body(), b"InstanceId=r-bp1abc&RegionId=cn-hangzhou");
    assert!(!in_body.url().contains("InstanceId"), "{}", in_body.url());
    assert_eq!(
        in_body.headers().collect::<Vec<_>>(),
        [("content-type", "application/x-www-form-urlencoded")]
    );
    assert!(in_query.body().is_empty() && in_query.headers().len() == 0);
}

#[test]
fn acs3_request_signature_recomputes_from_what_is_sent() {
    let creds = Credentials::new("id", "secret").with_security_token("tok+en/=");
    let req = DescribeBackupTasks::new("r-bp1abc")
        .to_request(Endpoint::parse("http://127.0.0.1:9").unwrap())
        .unwrap()
        .with_form_body();
    let signed = sign_with(&req, &creds, SignatureVersion::V3);
    let headers: Vec<(&str, &str)> = signed
        .headers()
        .filter(|(k, _)| *k != "authorization")
        .collect();
    let names: Vec<&str> = headers.iter().map(|(k, _)| *k).collect();
    assert_eq!(
        names,
        [
            "host",
            "x-acs-action",
            "x-acs-version",
            "x-acs-date",
            "x-acs-signature-nonce",
            "x-acs-content-sha256",
            "x-acs-security-token",
            "x-acs-accesskey-id",
            "content-type"
        ]
    );
    let parts = v3::canonical_request("POST", "/", &[], &headers, &v3::hex_sha256(signed.body()));
    let auth = v3::authorization(
        &creds,
        &parts.signed_headers,
        &v3::string_to_sign(&parts.canonical_request),
    );
    assert_eq!(
        signed.headers().next_back().unwrap(),
        ("authorization", auth.as_str())
    );
    assert_eq!(signed.url(), "http://127.0.0.1:9/");
    assert_eq!(signed.response_format(), Format::Json);
}

#[test]
fn security_token_never_shows_in_logs_or_dry_run() {
    let token = "CAIS+secret/token==";
    let creds = Credentials::new("LTAIid", "the-secret-key").with_security_token(token);
    let req = DescribeBackupTasks::new("r-bp1abc")
        .to_request(Endpoint::parse("r-kvstore.aliyuncs.com").unwrap())
        .unwrap();
    for version in [SignatureVersion::V1, SignatureVersion::V3] {
        let signed = sign_with(&req, &creds, version);
        let encoded = percent::encode(token);
        // The real request does carry the token…
        let carried = signed.url().contains(&encoded) || signed.headers().any(|(_, v)| v == token);
        assert!(carried, "{version}: the token must be sent");
        // …and nothing meant for people shows it.
        for shown in [
            format!("{signed:?}"),
            signed.dry_run(),
            signed.redacted_url(),
            signed.canonical().redacted(),
            signed.string_to_sign().redacted(),
            format!("{:?}", signed.string_to_sign()),
            format!("{creds:?}"),
        ] {
            for form in [
                token,
                encoded.as_str(),
                &percent::encode(&encoded),
                "the-secret-key",
            ] {
                assert!(
                    !shown.contains(form),
                    "{version}: {form:?} leaked in:\n{shown}"
                );
            }
            if shown.contains("SecurityToken") || shown.contains("security-token") {
                assert!(shown.contains(REDACTED), "{shown}");
            }
        }
    }
}

#[test]
fn reserved_parameters_and_bad_nonces_are_refused() {
    let mut p = Params::new();
    assert!(p.insert("Signature", "x").is_err());
    let req = DescribeBackupTasks::new("r-1")
        .to_request(Endpoint::parse("r-kvstore.aliyuncs.com").unwrap())
        .unwrap();
    let creds = Credentials::new("id", "s");
    let err = sign(
        &req,
        &SigningParams {
            credentials: &creds,
            time: at("2026-01-01T00:00:00Z"),
            nonce: "not a nonce!",
            version: SignatureVersion::V1,
        },
    )
    .unwrap_err();
    assert!(
        err.to_string().starts_with("invalid SignatureNonce"),
        "{err}"
    );
    let bad = Credentials::new("id\r\nX-Injected: 1", "s");
    let err = sign(
        &req,
        &SigningParams {
            credentials: &bad,
            time: at("2026-01-01T00:00:00Z"),
            nonce: "n1",
            version: SignatureVersion::V3,
        },
    )
    .unwrap_err();
    assert!(err.to_string().contains("AccessKeyId"), "{err}");
}

#[test]
fn many_parameters_sign_like_the_reference() {
    // More parameters than fit the signer's stack array: the heap path must agree.
    let creds = Credentials::new("id", "secret");
    let mut req = RpcRequest::new(Endpoint::parse("h").unwrap(), "2015-01-01", "X").unwrap();
    let values: Vec<String> = (0..150).map(|i| format!("v {i} ü*")).collect();
    req.params_mut()
        .insert_list("Item", values.iter().cloned())
        .unwrap();
    let signed = sign_with(&req, &creds, SignatureVersion::V1);
    let mut all: Vec<(String, String)> = req
        .params()
        .iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    for (k, v) in [
        ("AccessKeyId", "id"),
        ("Action", "X"),
        ("Format", "JSON"),
        ("SignatureMethod", "HMAC-SHA1"),
        ("SignatureNonce", "3156853299f313e23d1673dc12e1703d"),
        ("SignatureVersion", "1.0"),
        ("Timestamp", "2026-01-01T00:00:00Z"),
        ("Version", "2015-01-01"),
    ] {
        all.push((k.into(), v.into()));
    }
    let refs: Vec<(&str, &str)> = all.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let reference = v1::sign_params("POST", &refs, "secret");
    assert_eq!(signed.canonical().as_str(), reference.canonical_query);
    assert_eq!(url_signature(&signed), reference.signature);
}

fn signature_of(pairs: &[(String, String)], secret: &str) -> String {
    let creds = Credentials::new("id", secret);
    let mut req = RpcRequest::new(Endpoint::parse("h").unwrap(), "2015-01-01", "X").unwrap();
    for (k, v) in pairs {
        req.params_mut().insert(k.clone(), v.clone()).unwrap();
    }
    url_signature(&sign_with(&req, &creds, SignatureVersion::V1))
}

fn unique_params() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::btree_map("[A-Z][A-Za-z0-9.]{0,12}", any::<String>(), 1..12)
        .prop_map(|m| {
            m.into_iter()
                .filter(|(k, _)| k != "Format" && k != "Action" && k != "Version")
                .collect::<Vec<_>>()
        })
        .prop_filter("non-empty", |v| !v.is_empty())
}

proptest! {
    #[test]
    fn decode_inverts_encode(s in any::<String>()) {
        prop_assert_eq!(percent::decode(&percent::encode(&s)).unwrap(), s.clone());
        let encoded = percent::encode(&s);
        prop_assert!(encoded.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.~%".contains(&b)));
    }

    #[test]
    fn signature_ignores_insertion_order(params in unique_params(), seed in any::<u64>()) {
        let mut shuffled = params.clone();
        // A deterministic shuffle driven by the seed.
        let n = shuffled.len();
        for i in (1..n).rev() {
            let j = (seed.wrapping_mul(i as u64 + 1).rotate_left(17) % (i as u64 + 1)) as usize;
            shuffled.swap(i, j);
        }
        prop_assert_eq!(signature_of(&params, "s"), signature_of(&shuffled, "s"));
    }

    #[test]
    fn any_change_changes_the_signature(params in unique_params(), idx in any::<prop::sample::Index>(), extra in "[a-z]{1,3}") {
        let base = signature_of(&params, "secret");
        let i = idx.index(params.len());
        let mut changed = params.clone();
        changed[i].1.push_str(&extra);
        prop_assert_ne!(&base, &signature_of(&changed, "secret"));
        prop_assert_ne!(&base, &signature_of(&params, &format!("secret{extra}")));
        let mut fewer = params.clone();
        fewer.remove(i);
        prop_assert_ne!(&base, &signature_of(&fewer, "secret"));
    }
}

#[test]
fn the_official_endpoint_example_signs_for_get() {
    let creds = Credentials::new("id", "secret");
    let req = DescribeBackupTasks::new("r-1")
        .to_request(Endpoint::parse("r-kvstore.aliyuncs.com").unwrap())
        .unwrap()
        .with_method(Method::Get);
    let signed = sign_with(&req, &creds, SignatureVersion::V1);
    assert!(signed.string_to_sign().as_str().starts_with("GET&%2F&"));
    assert_eq!(signed.method(), Method::Get);
}
