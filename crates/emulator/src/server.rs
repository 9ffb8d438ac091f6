//! The HTTP side: tiny_http on a background thread, one short-lived thread per request so that
//! a slow answer (an injected fault) does not hold up the others.

use std::io::Read;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;

use rkvstore_core::{percent, Format, SignatureVersion};
use tiny_http::{Header, Request, Response, Server};

use crate::auth::{authenticate, Incoming};
use crate::faults::{self, Fault};
use crate::render::{self, Failure};
use crate::state::{RequestRecord, State};
use crate::{actions, Error};

/// Bodies larger than this are refused; no R-kvstore request comes near it.
const MAX_REQUEST_BODY: u64 = 1 << 20;

pub(crate) fn bind(addr: &str) -> Result<(Arc<Server>, SocketAddr), Error> {
    let server = Server::http(addr).map_err(|e| Error::Bind {
        addr: addr.to_owned(),
        reason: e.to_string(),
    })?;
    let local = server.server_addr().to_ip().ok_or_else(|| Error::Bind {
        addr: addr.to_owned(),
        reason: "not an IP address".into(),
    })?;
    Ok((Arc::new(server), local))
}

pub(crate) fn spawn(server: Arc<Server>, state: Arc<Mutex<State>>) -> JoinHandle<()> {
    std::thread::spawn(move || {
        for request in server.incoming_requests() {
            let state = Arc::clone(&state);
            std::thread::spawn(move || handle(request, &state));
        }
    })
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

/// What to send back.
struct Answer {
    status: u16,
    format: Format,
    body: Body,
    retry_after_ms: Option<u64>,
}

enum Body {
    Bytes(Vec<u8>),
    Filler(u64),
}

fn handle(mut request: Request, state: &Mutex<State>) {
    let incoming = match read(&mut request) {
        Ok(i) => i,
        Err(failure) => {
            let request_id = lock(state).next_request_id();
            let answer = Answer {
                status: failure.status,
                format: Format::Xml,
                body: Body::Bytes(render::error(Format::Xml, &failure, &request_id)),
                retry_after_ms: None,
            };
            send(request, answer, &request_id, state);
            return;
        }
    };
    let version = incoming.signature_version();
    let format = match version {
        SignatureVersion::V3 => Format::Json,
        SignatureVersion::V1 => match incoming.param("Format") {
            Some(f) if f.eq_ignore_ascii_case("json") => Format::Json,
            _ => Format::Xml,
        },
    };
    let mut record = RequestRecord {
        method: incoming.method.clone(),
        action: incoming.action().map(str::to_owned),
        nonce: incoming.nonce().map(str::to_owned),
        signature_version: Some(version),
        format: incoming.param("Format").map(str::to_owned),
        instance_id: incoming.param("InstanceId").map(str::to_owned),
        status: 0,
        code: None,
    };

    // Authenticate and pick a fault under one lock, so that the nonce check is atomic.
    let (request_id, outcome) = {
        let mut st = lock(state);
        let request_id = st.next_request_id();
        let outcome = authenticate(&incoming, &mut st).map(|api_version| {
            let fault = faults::take(
                &mut st.faults,
                incoming.action(),
                incoming.param("InstanceId"),
            );
            (api_version.to_owned(), fault)
        });
        (request_id, outcome)
    };

    let result: Result<(Vec<u8>, Option<Fault>), Failure> = match outcome {
        Err(f) => Err(f),
        Ok((api_version, fault)) => {
            if let Some(Fault::Slow(d)) = &fault {
                std::thread::sleep(*d);
            }
            match &fault {
                Some(Fault::Throttle { retry_after_ms }) => Err(Failure {
                    retry_after_ms: *retry_after_ms,
                    ..Failure::new(
                        400,
                        "Throttling.User",
                        "Request was denied due to user flow control.",
                    )
                }),
                Some(Fault::ServerError { status }) => Err(server_error(*status)),
                Some(Fault::Malformed) => Ok((b"<<<{{ this is not a response".to_vec(), fault)),
                _ => {
                    let action = incoming.action().unwrap_or_default();
                    let ran = {
                        let mut st = lock(state);
                        actions::run(action, &api_version, &incoming, &mut st, &request_id)
                    };
                    ran.map(|value| (render::success(format, action, &value), fault))
                }
            }
        }
    };

    let answer = match result {
        Err(failure) => Answer {
            status: failure.status,
            format,
            body: Body::Bytes(render::error(format, &failure, &request_id)),
            retry_after_ms: failure.retry_after_ms,
        },
        Ok((body, fault)) => {
            let ok = |body| Answer {
                status: 200,
                format,
                body,
                retry_after_ms: None,
            };
            match fault {
                Some(Fault::ErrorAfterProcessing { status }) => {
                    let failure = server_error(status);
                    Answer {
                        status: failure.status,
                        format,
                        body: Body::Bytes(render::error(format, &failure, &request_id)),
                        retry_after_ms: None,
                    }
                }
                Some(Fault::SlowAfterProcessing(d)) => {
                    std::thread::sleep(d);
                    ok(Body::Bytes(body))
                }
                Some(Fault::Truncated) => {
                    let half = body.len() / 2;
                    ok(Body::Bytes(body.into_iter().take(half).collect()))
                }
                Some(Fault::Oversized(n)) => ok(Body::Filler(n)),
                _ => ok(Body::Bytes(body)),
            }
        }
    };
    record.status = answer.status;
    if answer.status >= 400 {
        if let Body::Bytes(b) = &answer.body {
            let v = rkvstore_core::response::to_value(b, answer.format).ok();
            record.code = v
                .as_ref()
                .and_then(|v| v.get("Code"))
                .and_then(|c| c.as_str())
                .map(str::to_owned);
        }
    }
    lock(state).record(record);
    send(request, answer, &request_id, state);
}

fn server_error(status: u16) -> Failure {
    if status == 503 {
        Failure::new(
            503,
            "ServiceUnavailable",
            "The request has failed due to a temporary failure of the server.",
        )
    } else {
        Failure::new(
            status.max(500),
            "InternalError",
            "The request processing has failed due to some unknown error.",
        )
    }
}

fn read(request: &mut Request) -> Result<Incoming, Failure> {
    let method = request.method().as_str().to_ascii_uppercase();
    let url = request.url().to_owned();
    let (path, query) = url.split_once('?').unwrap_or((&url, ""));
    let headers: Vec<(String, String)> = request
        .headers()
        .iter()
        .map(|h| {
            (
                h.field.as_str().as_str().to_ascii_lowercase(),
                h.value.as_str().to_owned(),
            )
        })
        .collect();
    let mut body = Vec::new();
    request
        .as_reader()
        .take(MAX_REQUEST_BODY + 1)
        .read_to_end(&mut body)
        .map_err(|e| {
            Failure::new(
                400,
                "InvalidParameter",
                format!("could not read the body: {e}"),
            )
        })?;
    if body.len() as u64 > MAX_REQUEST_BODY {
        return Err(Failure::new(
            413,
            "RequestTooLarge",
            "The request body is larger than 1 MiB.",
        ));
    }
    let query = parse_form(query)?;
    let is_form = headers.iter().any(|(k, v)| {
        k == "content-type"
            && v.to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
    });
    let form = if is_form {
        let text = std::str::from_utf8(&body)
            .map_err(|_| Failure::new(400, "InvalidParameter", "The form body is not UTF-8."))?;
        parse_form(text)?
    } else {
        Vec::new()
    };
    if path != "/" {
        return Err(Failure::new(
            404,
            "InvalidAction.NotFound",
            format!("Specified api is not found, please check your url and method. (path {path})"),
        ));
    }
    Ok(Incoming {
        method,
        path: path.to_owned(),
        query,
        form,
        headers,
        body,
    })
}

fn parse_form(text: &str) -> Result<Vec<(String, String)>, Failure> {
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let bad = |e: percent::DecodeError| {
                Failure::new(
                    400,
                    "InvalidParameter",
                    format!("A parameter is not valid percent-encoding: {e}."),
                )
            };
            Ok((
                percent::decode_form(k).map_err(bad)?,
                percent::decode_form(v).map_err(bad)?,
            ))
        })
        .collect()
}

fn send(request: Request, answer: Answer, request_id: &str, state: &Mutex<State>) {
    let date = lock(state).now().to_http_date();
    let mut headers = vec![
        header("Content-Type", render::content_type(answer.format)),
        header("Date", &date),
        header("x-acs-request-id", request_id),
    ];
    if let Some(ms) = answer.retry_after_ms {
        headers.push(header("x-acs-retry-after", &ms.to_string()));
    }
    let status = tiny_http::StatusCode(answer.status);
    // A client that went away (a timeout test) is not an error worth reporting.
    let _ = match answer.body {
        Body::Bytes(bytes) => {
            let len = bytes.len();
            request.respond(Response::new(
                status,
                headers,
                std::io::Cursor::new(bytes),
                Some(len),
                None,
            ))
        }
        Body::Filler(n) => {
            let len = usize::try_from(n).unwrap_or(usize::MAX);
            request.respond(Response::new(
                status,
                headers,
                std::io::repeat(b' ').take(n),
                Some(len),
                None,
            ))
        }
    };
}

fn header(name: &str, value: &str) -> Header {
    // Every name and value here is ASCII made by this module (values never echo the request).
    Header::from_bytes(name.as_bytes(), value.as_bytes()).expect("ASCII header")
}
