//! The ECS instance metadata service (`http://100.100.100.200` on a real instance) and a
//! credentials URI, on the emulator's listener.
//!
//! - `PUT /latest/api/token` with `X-aliyun-ecs-metadata-token-ttl-seconds` (1 to 21600)
//!   starts an IMDSv2 session and answers its token.
//! - `GET /latest/meta-data/ram/security-credentials/` lists the instance's role, and
//!   `GET /latest/meta-data/ram/security-credentials/ROLE` answers its credentials, with the
//!   session token in `X-aliyun-ecs-metadata-token`, or without one (IMDSv1) unless that is
//!   turned off.
//! - `GET /v1/credentials` is a credentials URI (`ALIBABA_CLOUD_CREDENTIALS_URI`): the same
//!   document as the metadata service's.

use std::sync::Mutex;

use serde_json::Value;

use crate::lock;
use crate::state::State;

/// The path of the credentials URI.
pub(crate) const CREDENTIALS_URI_PATH: &str = "/v1/credentials";

const CREDENTIALS_PREFIX: &str = "/latest/meta-data/ram/security-credentials/";

/// The longest metadata session, as on a real instance.
const MAX_TOKEN_TTL: u64 = 21_600;

/// How long the metadata service's credentials live unless configured otherwise: six hours,
/// as on a real instance.
const ECS_CREDENTIALS_SECS: u64 = 6 * 3600;

/// A plain answer: status, content type, body.
pub(crate) type Plain = (u16, &'static str, Vec<u8>);

fn text(status: u16, body: &str) -> Plain {
    (status, "text/plain", body.as_bytes().to_vec())
}

/// The answer for `path`, or `None` when the path is not the metadata service's nor the
/// credentials URI's (the request is then an API call).
pub(crate) fn answer(
    method: &str,
    path: &str,
    header: &dyn Fn(&str) -> Option<String>,
    state: &Mutex<State>,
) -> Option<Plain> {
    if path == CREDENTIALS_URI_PATH {
        return Some(if method == "GET" {
            credentials_document(&mut lock(state), ECS_CREDENTIALS_SECS)
        } else {
            text(405, "Method Not Allowed")
        });
    }
    if !path.starts_with("/latest/") {
        return None;
    }
    let mut st = lock(state);
    if path == "/latest/api/token" {
        return Some(start_session(method, header, &mut st));
    }
    if method != "GET" {
        return Some(text(405, "Method Not Allowed"));
    }
    if let Some(refused) = check_session(header, &st) {
        return Some(refused);
    }
    let Some(rest) = path.strip_prefix(CREDENTIALS_PREFIX) else {
        return Some(text(404, "Not Found"));
    };
    let role = st.sts.config.ecs_role.clone();
    Some(match (rest, role) {
        (_, None) => text(404, "Not Found"),
        ("", Some(role)) => text(200, &role),
        (asked, Some(role)) if asked == role => credentials_document(&mut st, ECS_CREDENTIALS_SECS),
        _ => text(404, "Not Found"),
    })
}

fn start_session(method: &str, header: &dyn Fn(&str) -> Option<String>, st: &mut State) -> Plain {
    if method != "PUT" {
        return text(405, "Method Not Allowed");
    }
    let ttl = header("x-aliyun-ecs-metadata-token-ttl-seconds")
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|t| (1..=MAX_TOKEN_TTL).contains(t));
    let Some(ttl) = ttl else {
        return text(
            400,
            "X-aliyun-ecs-metadata-token-ttl-seconds must be between 1 and 21600",
        );
    };
    let n = st.sts.next_serial();
    let token = format!("AQAEemulatorMetadataToken{n:06}");
    let expires = st.now().offset(i64::try_from(ttl).unwrap_or(i64::MAX));
    st.sts.metadata_tokens.insert(token.clone(), expires);
    text(200, &token)
}

/// Refuses a request with a bad session token, or without one when IMDSv1 is off.
fn check_session(header: &dyn Fn(&str) -> Option<String>, st: &State) -> Option<Plain> {
    match header("x-aliyun-ecs-metadata-token") {
        Some(_) if st.sts.config.imds_tokens_refused => Some(text(401, "Unauthorized")),
        Some(token) => match st.sts.metadata_tokens.get(token.trim()) {
            Some(expires) if st.now().unix() < expires.unix() => None,
            _ => Some(text(401, "Unauthorized")),
        },
        None if st.sts.config.imds_v1 => None,
        None => Some(text(
            403,
            "Forbidden: a metadata session token is required (IMDSv2)",
        )),
    }
}

fn credentials_document(st: &mut State, secs: u64) -> Plain {
    let mut doc = crate::sts::issue(st, secs);
    if let Value::Object(map) = &mut doc {
        map.insert("Code".into(), Value::String("Success".into()));
    }
    (200, "application/json", doc.to_string().into_bytes())
}
