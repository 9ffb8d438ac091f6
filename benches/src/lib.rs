//! What the benchmarks share: the request and responses they measure, the naive signer they
//! are compared with, and the emulator in a child process.

pub mod emulator;

use std::collections::BTreeMap;

use base64::Engine;
use hmac::{Hmac, Mac};
use rkvstore_core::{
    Credentials, DescribeBackupTasks, Endpoint, JobMode, Params, RpcRequest, SignatureVersion,
    SigningParams, Timestamp,
};
use sha1::Sha1;
use sha2::{Digest, Sha256};

/// The value after `name` on the command line, or `default`: the examples' few flags.
pub fn flag(name: &str, default: &str) -> String {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
        .unwrap_or_else(|| default.to_owned())
}

/// The AccessKey of every benchmark.
pub const KEY_ID: &str = "LTAI5tBenchmarkKeyId0001";
/// Its secret.
pub const SECRET: &str = "BenchmarkSecretValue0123456789ab";
/// The fixed nonce.
pub const NONCE: &str = "3156853299f313e23d1673dc12e1703d";
/// The fixed time, 2026-01-01T00:00:00Z.
pub const TIME: Timestamp = Timestamp::from_unix(1_767_225_600);

/// The benchmark's credentials.
pub fn credentials() -> Credentials {
    Credentials::new(KEY_ID, SECRET)
}

/// The typed request: with the common parameters it makes 12 (AccessKeyId, Action, Format,
/// InstanceId, RegionId, JobMode, BackupJobId, SignatureMethod, SignatureNonce,
/// SignatureVersion, Timestamp, Version).
pub fn operation() -> DescribeBackupTasks {
    DescribeBackupTasks::new("r-bp1zxszhcgatnx")
        .region("cn-hangzhou")
        .mode(JobMode::Manual)
        .job_id(116_234_567)
}

/// The endpoint.
pub fn endpoint() -> Endpoint {
    Endpoint::resolve("cn-hangzhou", rkvstore_core::Network::Public)
        .unwrap_or_else(|_| unreachable_endpoint())
}

fn unreachable_endpoint() -> Endpoint {
    // `cn-hangzhou` always resolves; this keeps the helper free of `unwrap`.
    Endpoint::parse("r-kvstore.aliyuncs.com").unwrap_or_else(|e| panic!("{e}"))
}

/// Signing parameters for `version`.
pub fn signing(creds: &Credentials, version: SignatureVersion) -> SigningParams<'_> {
    SigningParams {
        credentials: creds,
        time: TIME,
        nonce: NONCE,
        version,
    }
}

/// The same 12 parameters as owned strings, as a naive client holds them.
pub fn naive_params() -> BTreeMap<String, String> {
    [
        ("AccessKeyId", KEY_ID),
        ("Action", "DescribeBackupTasks"),
        ("Format", "JSON"),
        ("InstanceId", "r-bp1zxszhcgatnx"),
        ("RegionId", "cn-hangzhou"),
        ("JobMode", "Manual"),
        ("BackupJobId", "116234567"),
        ("SignatureMethod", "HMAC-SHA1"),
        ("SignatureNonce", NONCE),
        ("SignatureVersion", "1.0"),
        ("Timestamp", "2026-01-01T00:00:00Z"),
        ("Version", "2015-01-01"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// Alibaba-style encoding the way most existing crates do it: form-urlencode, then patch the
/// three characters where form encoding and the signature's encoding disagree.
fn naive_encode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
        .replace('*', "%2A")
        .replace("%7E", "~")
}

/// Signs the way existing crates sign: a `BTreeMap<String, String>`, `format!`, encoding
/// with string replaces, a fresh HMAC key every time. Returns the finished query string.
pub fn naive_sign(params: &BTreeMap<String, String>, method: &str, secret: &str) -> String {
    let canonical = params
        .iter()
        .map(|(k, v)| format!("{}={}", naive_encode(k), naive_encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let string_to_sign = format!(
        "{}&{}&{}",
        method,
        naive_encode("/"),
        naive_encode(&canonical)
    );
    let key = format!("{secret}&");
    let mut mac = <Hmac<Sha1> as Mac>::new_from_slice(key.as_bytes())
        .unwrap_or_else(|_| panic!("HMAC takes any key"));
    mac.update(string_to_sign.as_bytes());
    let signature = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    format!("{canonical}&Signature={}", naive_encode(&signature))
}

/// HMAC-SHA1 of `string_to_sign` with a freshly keyed MAC, then base64: the work no signer can
/// avoid.
pub fn hmac_floor(string_to_sign: &str, secret: &str) -> String {
    let mut key = String::with_capacity(secret.len() + 1);
    key.push_str(secret);
    key.push('&');
    let mut mac = <Hmac<Sha1> as Mac>::new_from_slice(key.as_bytes())
        .unwrap_or_else(|_| panic!("HMAC takes any key"));
    mac.update(string_to_sign.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// [`hmac_floor`] with the key schedule done once, as a signer that keeps its key does: the
/// least any signer can do per request.
pub fn hmac_floor_prekeyed(keyed: &Hmac<Sha1>, string_to_sign: &str) -> String {
    let mut mac = keyed.clone();
    mac.update(string_to_sign.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// The MAC keyed for [`hmac_floor_prekeyed`].
pub fn prekeyed(secret: &str) -> Hmac<Sha1> {
    <Hmac<Sha1> as Mac>::new_from_slice(format!("{secret}&").as_bytes())
        .unwrap_or_else(|_| panic!("HMAC takes any key"))
}

/// Lower-case hex, the form ACS3 writes hashes in.
fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = Vec::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(HEX[usize::from(b >> 4)]);
        out.push(HEX[usize::from(b & 0x0F)]);
    }
    String::from_utf8(out).unwrap_or_default()
}

/// The work no ACS3 signer can avoid, on the same inputs as `sign_v3`: hex SHA-256 of the body,
/// hex SHA-256 of the canonical request, and hex HMAC-SHA256 (keyed per call, as in
/// [`hmac_floor`]) of the string to sign.
pub fn acs3_floor(
    body: &[u8],
    canonical_request: &str,
    string_to_sign: &str,
    secret: &str,
) -> (String, String, String) {
    let body_hash = hex(&Sha256::digest(body));
    let request_hash = hex(&Sha256::digest(canonical_request.as_bytes()));
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| panic!("HMAC takes any key"));
    mac.update(string_to_sign.as_bytes());
    (body_hash, request_hash, hex(&mac.finalize().into_bytes()))
}

/// [`acs3_floor`] with the HMAC key schedule done once (`keyed` from [`prekeyed_v3`]), as the
/// signer's credentials keep it: the least any ACS3 signer can do per request.
pub fn acs3_floor_prekeyed(
    keyed: &Hmac<Sha256>,
    body: &[u8],
    canonical_request: &str,
    string_to_sign: &str,
) -> (String, String, String) {
    let body_hash = hex(&Sha256::digest(body));
    let request_hash = hex(&Sha256::digest(canonical_request.as_bytes()));
    let mut mac = keyed.clone();
    mac.update(string_to_sign.as_bytes());
    (body_hash, request_hash, hex(&mac.finalize().into_bytes()))
}

/// The MAC keyed for [`acs3_floor_prekeyed`].
pub fn prekeyed_v3(secret: &str) -> Hmac<Sha256> {
    <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| panic!("HMAC takes any key"))
}

/// The typed request's parameters set through the generic API, [`Params::insert`], as
/// `rkvstore call` builds them.
pub fn generic_request(endpoint: Endpoint) -> Result<RpcRequest, rkvstore_core::ParamError> {
    let mut params = Params::new();
    params
        .insert("InstanceId", "r-bp1zxszhcgatnx")?
        .insert("RegionId", "cn-hangzhou")?
        .insert("BackupJobId", "116234567")?
        .insert("JobMode", "Manual")?;
    Ok(RpcRequest::new(endpoint, "2015-01-01", "DescribeBackupTasks")?.with_params(params))
}

/// A DescribeBackupTasks JSON body with `n` jobs.
pub fn jobs_json(n: usize) -> Vec<u8> {
    let jobs: Vec<String> = (0..n)
        .map(|i| {
            format!(
                r#"{{"JobMode":"Manual","TaskAction":"TempBackupTask","StartTime":"2026-01-01T00:{:02}:00Z","BackupProgressStatus":"Uploading","Process":"{p}","Progress":"{p}","BackupJobID":{}}}"#,
                i % 60,
                100_000 + i,
                p = i % 100
            )
        })
        .collect();
    format!(
        r#"{{"RequestId":"BB73740C-23E2-4392-9DA4-2660C74C0001","InstanceId":"r-bp1zxszhcgatnx","BackupJobs":[{}]}}"#,
        jobs.join(",")
    )
    .into_bytes()
}

/// The same response in XML.
pub fn jobs_xml(n: usize) -> Vec<u8> {
    let mut s = String::from("<?xml version='1.0' encoding='UTF-8'?><DescribeBackupTasksResponse><RequestId>BB73740C-23E2-4392-9DA4-2660C74C0001</RequestId><InstanceId>r-bp1zxszhcgatnx</InstanceId>");
    for i in 0..n {
        s.push_str(&format!(
            "<BackupJobs><JobMode>Manual</JobMode><TaskAction>TempBackupTask</TaskAction><StartTime>2026-01-01T00:{:02}:00Z</StartTime><BackupProgressStatus>Uploading</BackupProgressStatus><Process>{p}</Process><Progress>{p}</Progress><BackupJobID>{}</BackupJobID></BackupJobs>",
            i % 60,
            100_000 + i,
            p = i % 100
        ));
    }
    s.push_str("</DescribeBackupTasksResponse>");
    s.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rkvstore_core::{sign, Operation};

    /// The baseline must compute the same thing, or the comparison means nothing.
    #[test]
    fn naive_baseline_and_floor_agree_with_the_signer() {
        let creds = credentials();
        let req = operation().to_request(endpoint()).unwrap();
        let signed = sign(&req, &signing(&creds, SignatureVersion::V1)).unwrap();
        let query = signed.url().split_once('?').unwrap().1;
        assert_eq!(naive_sign(&naive_params(), "POST", SECRET), query);
        let sig = query.rsplit_once("&Signature=").unwrap().1;
        let floor = hmac_floor(signed.string_to_sign().as_str(), SECRET);
        assert_eq!(rkvstore_core::percent::encode(&floor), sig);
    }

    #[test]
    fn generic_request_signs_like_the_typed_one() {
        let creds = credentials();
        let typed = operation().to_request(endpoint()).unwrap();
        let generic = generic_request(endpoint()).unwrap();
        for version in [SignatureVersion::V1, SignatureVersion::V3] {
            let a = sign(&typed, &signing(&creds, version)).unwrap();
            let b = sign(&generic, &signing(&creds, version)).unwrap();
            assert_eq!(a.url(), b.url());
            assert_eq!(
                a.headers().collect::<Vec<_>>(),
                b.headers().collect::<Vec<_>>()
            );
        }
    }

    #[test]
    fn acs3_floor_computes_the_signature() {
        let creds = credentials();
        let req = operation().to_request(endpoint()).unwrap();
        let signed = sign(&req, &signing(&creds, SignatureVersion::V3)).unwrap();
        let (body, request, signature) = acs3_floor(
            signed.body(),
            signed.canonical().as_str(),
            signed.string_to_sign().as_str(),
            SECRET,
        );
        assert!(signed.canonical().as_str().ends_with(&body));
        assert!(signed.string_to_sign().as_str().ends_with(&request));
        assert!(signed
            .headers()
            .get("authorization")
            .unwrap()
            .ends_with(&signature));
    }

    #[test]
    fn bodies_parse_to_the_same_jobs() {
        use rkvstore_core::{response::parse_success, DescribeBackupTasksResponse, Format};
        let j: DescribeBackupTasksResponse = parse_success(&jobs_json(3), Format::Json).unwrap();
        let x: DescribeBackupTasksResponse = parse_success(&jobs_xml(3), Format::Xml).unwrap();
        assert_eq!(j, x);
        assert_eq!(j.backup_jobs.len(), 3);
    }
}
