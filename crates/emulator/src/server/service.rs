//! What the emulator answers: a request as hyper hands it over, turned into a response.
//!
//! Everything here runs inside a connection's future on a worker thread (see
//! [`super::worker`]). An answer that must take time (an injected delay, the fleet's service
//! time) therefore awaits a [`super::timer::sleep`] instead of sleeping, so that the worker goes
//! on serving its other connections meanwhile.

use std::convert::Infallible;
use std::future::{poll_fn, Future};
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use hyper::body::{Body as HttpBody, Bytes, Frame, Incoming as IncomingBody, SizeHint};
use hyper::header::{HeaderName, HeaderValue};
use hyper::http::request::Parts;
use hyper::{Response, StatusCode};
use rkvstore_core::{percent, Format, SignatureVersion};

use super::timer::sleep;
use crate::actions;
use crate::auth::{authenticate_shared, Incoming};
use crate::faults::{self, Fault};
use crate::lock;
use crate::render::{self, Failure};
use crate::state::{RequestRecord, State};

/// Bodies larger than this are refused; no R-kvstore request comes near it.
const MAX_REQUEST_BODY: u64 = 1 << 20;

/// hyper's view of the emulator: every request on a connection is answered from the shared
/// state. A named type (rather than a closure) so that the worker can name the connection's
/// type and ask it to shut down gracefully.
#[derive(Clone)]
pub(super) struct Service(pub(super) Arc<Mutex<State>>);

impl hyper::service::Service<hyper::Request<IncomingBody>> for Service {
    type Response = Response<OutBody>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<OutBody>, Infallible>>>>;

    fn call(&self, request: hyper::Request<IncomingBody>) -> Self::Future {
        let state = Arc::clone(&self.0);
        Box::pin(async move { Ok(handle(request, &state).await) })
    }
}

/// What to send back.
struct Answer {
    status: u16,
    format: Format,
    body: OutBody,
    retry_after_ms: Option<u64>,
}

/// A response body: some bytes, then (for the Oversized fault) filler produced as it is sent,
/// so that a huge body never sits in memory. Its exact length goes out as `Content-Length`.
pub(super) struct OutBody {
    bytes: Bytes,
    filler: u64,
    /// A backup file, made as it is sent (see [`crate::download`]).
    stream: Option<crate::download::Stream>,
}

/// The filler is sent in slices of this.
static FILLER: [u8; 16 * 1024] = [b' '; 16 * 1024];

impl OutBody {
    fn bytes(bytes: Vec<u8>) -> Self {
        OutBody {
            bytes: Bytes::from(bytes),
            filler: 0,
            stream: None,
        }
    }

    fn filler(n: u64) -> Self {
        OutBody {
            bytes: Bytes::new(),
            filler: n,
            stream: None,
        }
    }
}

impl HttpBody for OutBody {
    type Data = Bytes;
    // A download cut on purpose fails its body, which makes hyper drop the connection.
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        let this = self.get_mut();
        if !this.bytes.is_empty() {
            return Poll::Ready(Some(Ok(Frame::data(std::mem::take(&mut this.bytes)))));
        }
        if this.filler > 0 {
            let n = usize::try_from(this.filler)
                .unwrap_or(usize::MAX)
                .min(FILLER.len());
            this.filler -= n as u64;
            let slice: &'static [u8] = FILLER.get(..n).unwrap_or_default();
            return Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(slice)))));
        }
        if let Some(stream) = this.stream.as_mut() {
            return stream
                .poll_chunk(cx)
                .map(|frame| frame.map(|r| r.map(Frame::data)));
        }
        Poll::Ready(None)
    }

    fn is_end_stream(&self) -> bool {
        self.bytes.is_empty()
            && self.filler == 0
            && self.stream.as_ref().is_none_or(|s| s.remaining() == 0)
    }

    fn size_hint(&self) -> SizeHint {
        let streamed = self
            .stream
            .as_ref()
            .map_or(0, crate::download::Stream::remaining);
        SizeHint::with_exact(
            (self.bytes.len() as u64)
                .saturating_add(self.filler)
                .saturating_add(streamed),
        )
    }
}

async fn handle(request: hyper::Request<IncomingBody>, state: &Mutex<State>) -> Response<OutBody> {
    let (parts, body) = request.into_parts();
    let body = read_body(body).await;
    if let Some(plain) = metadata_answer(&parts, state) {
        return plain;
    }
    if let Some(file) = download_answer(&parts, state) {
        return file;
    }
    // Counted until the response is built, for the fleet's peak and its throttling mode.
    let (_in_flight, latency) = crate::fleet::enter(state);
    if let Some(d) = latency {
        sleep(d).await;
    }
    let (answer, request_id) = answer(&parts, body, state).await;
    respond(answer, &request_id, state)
}

/// A backup file download (`GET /download/…`, see [`crate::download`]), answered as OSS would.
fn download_answer(parts: &Parts, state: &Mutex<State>) -> Option<Response<OutBody>> {
    let reply = crate::download::serve(parts, state)?;
    let mut response = Response::new(OutBody {
        bytes: Bytes::from(reply.body),
        filler: 0,
        stream: reply.stream,
    });
    *response.status_mut() =
        StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let date = lock(state).now().to_http_date();
    for (name, value) in reply.headers.into_iter().chain([("date", date)]) {
        if let Ok(value) = HeaderValue::try_from(value) {
            response
                .headers_mut()
                .append(HeaderName::from_static(name), value);
        }
    }
    Some(response)
}

/// The metadata service's and the credentials URI's plain answers (see [`crate::metadata`]),
/// logged like API calls with the method and path in place of the action.
fn metadata_answer(parts: &Parts, state: &Mutex<State>) -> Option<Response<OutBody>> {
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    };
    let method = parts.method.as_str();
    let path = parts.uri.path();
    let (status, content_type, body) = crate::metadata::answer(method, path, &header, state)?;
    lock(state).record(RequestRecord {
        method: method.to_owned(),
        action: Some(path.to_owned()),
        nonce: None,
        signature_version: None,
        format: None,
        instance_id: None,
        status,
        code: None,
    });
    let mut response = Response::new(OutBody::bytes(body));
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().append(
        HeaderName::from_static("content-type"),
        HeaderValue::from_static(content_type),
    );
    Some(response)
}

/// Reads the whole body, refusing one past [`MAX_REQUEST_BODY`] as soon as that is known.
async fn read_body(mut body: IncomingBody) -> Result<Vec<u8>, Failure> {
    let too_large = || {
        Failure::new(
            413,
            "RequestTooLarge",
            "The request body is larger than 1 MiB.",
        )
    };
    if body.size_hint().lower() > MAX_REQUEST_BODY {
        return Err(too_large());
    }
    let mut out = Vec::new();
    while let Some(frame) = poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
        let frame = frame.map_err(|e| {
            Failure::new(
                400,
                "InvalidParameter",
                format!("could not read the body: {e}"),
            )
        })?;
        if let Ok(data) = frame.into_data() {
            out.extend_from_slice(&data);
            if out.len() as u64 > MAX_REQUEST_BODY {
                return Err(too_large());
            }
        }
    }
    Ok(out)
}

async fn answer(
    parts: &Parts,
    body: Result<Vec<u8>, Failure>,
    state: &Mutex<State>,
) -> (Answer, String) {
    let incoming = match body.and_then(|body| parse(parts, body)) {
        Ok(i) => i,
        Err(failure) => {
            let request_id = lock(state).next_request_id();
            let answer = Answer {
                status: failure.status,
                format: Format::Xml,
                body: OutBody::bytes(render::error(Format::Xml, &failure, &request_id)),
                retry_after_ms: None,
            };
            return (answer, request_id);
        }
    };
    let version = incoming.signature_version();
    if crate::sts::is_sts(&incoming) {
        return sts_answer(&incoming, state);
    }
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

    // The lock is taken for the state's parts of the check (the nonce is spent under it, so
    // a replay is still refused atomically), not while the signature is recomputed.
    let request_id = lock(state).next_request_id();
    let outcome = authenticate_shared(&incoming, state).map(|api_version| {
        let fault = faults::take(
            &mut lock(state).faults,
            incoming.action(),
            incoming.param("InstanceId"),
        );
        (api_version.to_owned(), fault)
    });

    let result: Result<(Vec<u8>, Option<Fault>), Failure> = match outcome {
        Err(f) => Err(f),
        Ok((api_version, fault)) => {
            if let Some(Fault::Slow(d)) = &fault {
                sleep(*d).await;
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
            body: OutBody::bytes(render::error(format, &failure, &request_id)),
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
                        body: OutBody::bytes(render::error(format, &failure, &request_id)),
                        retry_after_ms: None,
                    }
                }
                Some(Fault::SlowAfterProcessing(d)) => {
                    sleep(d).await;
                    ok(OutBody::bytes(body))
                }
                Some(Fault::Truncated) => {
                    let half = body.len() / 2;
                    ok(OutBody::bytes(body.into_iter().take(half).collect()))
                }
                Some(Fault::Oversized(n)) => ok(OutBody::filler(n)),
                _ => ok(OutBody::bytes(body)),
            }
        }
    };
    record.status = answer.status;
    if answer.status >= 400 {
        record.code = match rkvstore_core::response::parse_error_body(
            answer.status,
            &answer.body.bytes,
            answer.format,
        ) {
            rkvstore_core::Error::Api(api) => Some(api.code),
            _ => None,
        };
    }
    lock(state).record(record);
    (answer, request_id)
}

/// An STS call ([`crate::sts`]): JSON unless XML is asked for, logged like any other.
fn sts_answer(incoming: &Incoming, state: &Mutex<State>) -> (Answer, String) {
    let format = match incoming.param("Format") {
        Some(f) if f.eq_ignore_ascii_case("xml") => Format::Xml,
        _ => Format::Json,
    };
    let action = incoming.action().unwrap_or_default().to_owned();
    let mut st = lock(state);
    let request_id = st.next_request_id();
    let result = crate::sts::run(incoming, &mut st, &request_id);
    let (status, body, code) = match result {
        Ok(value) => (200, render::success(format, &action, &value), None),
        Err(failure) => (
            failure.status,
            render::error(format, &failure, &request_id),
            Some(failure.code.to_owned()),
        ),
    };
    st.record(RequestRecord {
        method: incoming.method.clone(),
        action: Some(action),
        nonce: incoming.nonce().map(str::to_owned),
        signature_version: Some(incoming.signature_version()),
        format: incoming.param("Format").map(str::to_owned),
        instance_id: None,
        status,
        code,
    });
    let answer = Answer {
        status,
        format,
        body: OutBody::bytes(body),
        retry_after_ms: None,
    };
    (answer, request_id)
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

/// The request as the rest of the emulator sees it.
fn parse(parts: &Parts, body: Vec<u8>) -> Result<Incoming, Failure> {
    let method = parts.method.as_str().to_ascii_uppercase();
    let path = parts.uri.path();
    let headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_ascii_lowercase(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    let query = parse_form(parts.uri.query().unwrap_or_default())?;
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
            Ok((decode_part(k).map_err(bad)?, decode_part(v).map_err(bad)?))
        })
        .collect()
}

/// One form-encoded key or value, decoded. Most carry no escape and no `+`, and then the
/// decoded text is the text itself: copying it makes one exact allocation where the decoder
/// grows a buffer, which for a dozen parameters per request is a good part of the server's
/// allocator traffic under load.
fn decode_part(part: &str) -> Result<String, percent::DecodeError> {
    if part.bytes().any(|b| b == b'%' || b == b'+') {
        percent::decode_form(part)
    } else {
        Ok(part.to_owned())
    }
}

fn respond(answer: Answer, request_id: &str, state: &Mutex<State>) -> Response<OutBody> {
    let date = lock(state).now().to_http_date();
    let mut response = Response::new(answer.body);
    *response.status_mut() =
        StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    headers.append(
        HeaderName::from_static("content-type"),
        HeaderValue::from_static(render::content_type(answer.format)),
    );
    // Every other value here is ASCII made by this module (values never echo the request), so
    // none is dropped in practice.
    let mut add = |name: &'static str, value: &str| {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.append(HeaderName::from_static(name), value);
        }
    };
    add("date", &date);
    add("x-acs-request-id", request_id);
    if let Some(ms) = answer.retry_after_ms {
        add("x-acs-retry-after", &ms.to_string());
    }
    response
}
