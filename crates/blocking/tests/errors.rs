//! The error contract: each layer's `Display` describes only its own layer and `source()`
//! returns the cause, so that printing the chain of any error never repeats a message.

#![allow(clippy::unwrap_used)] // Helpers outside #[test] functions unwrap too.

use std::time::Duration;

use rkvstore_blocking::core::call::{TransportError, TransportKind, WaitError};
use rkvstore_blocking::core::response::parse_error_body;
use rkvstore_blocking::core::{Endpoint, Format, ParamError, Params};
use rkvstore_blocking::credentials::CredentialsError;
use rkvstore_blocking::{Error, Report};

type Core = rkvstore_blocking::core::Error;

/// Every message of the chain, outermost first.
fn chain(e: &(dyn std::error::Error + 'static)) -> Vec<String> {
    let mut out = vec![e.to_string()];
    let mut cause = e.source();
    while let Some(c) = cause {
        out.push(c.to_string());
        cause = c.source();
    }
    out
}

#[track_caller]
fn assert_no_repeats(e: &(dyn std::error::Error + 'static)) {
    let messages = chain(e);
    for (i, outer) in messages.iter().enumerate() {
        assert!(!outer.is_empty(), "an empty message in {messages:#?}");
        for inner in &messages[i + 1..] {
            assert!(
                !outer.contains(inner.as_str()) && !inner.contains(outer.as_str()),
                "{outer:?} and {inner:?} repeat each other in {messages:#?}"
            );
        }
    }
    // The one-line report shows each message exactly once.
    let report = Report(e).to_string();
    assert_eq!(report, messages.join(": "));
}

fn api() -> Core {
    parse_error_body(
        503,
        br#"{"RequestId":"R","Code":"ServiceUnavailable","Message":"try later"}"#,
        Format::Json,
    )
}

fn param() -> ParamError {
    let mut p = Params::new();
    p.insert("A", "1").unwrap();
    p.insert("A", "2").unwrap_err()
}

fn core_errors() -> Vec<Core> {
    let endpoint = Endpoint::parse("http://[::1").unwrap_err();
    let parse = parse_error_body(502, b"<html>Bad Gateway</html>", Format::Json);
    let transport = Core::from(TransportError::new(
        TransportKind::Timeout,
        "read timed out",
    ));
    vec![
        Core::from(param()),
        Core::from(endpoint),
        parse.clone(),
        api(),
        transport.clone(),
        Core::ClockSkew {
            server_time: "2026-12-02T00:00:00Z".into(),
            skew_secs: 3 * 86_400,
            limit_secs: 86_400,
        },
        Core::RetriesExhausted {
            attempts: 3,
            last: Box::new(api()),
        },
        Core::RetriesExhausted {
            attempts: 2,
            last: Box::new(transport),
        },
        Core::from(WaitError::JobNotFound {
            job_id: 9,
            instance_id: "r-1".into(),
            waited: Duration::from_secs(60),
        }),
        Core::from(WaitError::TimedOut {
            job_id: 9,
            last_status: Some("Uploading".into()),
            last_percent: Some(20),
            waited: Duration::from_secs(60),
        }),
    ]
}

#[test]
fn no_core_error_repeats_a_message_in_its_chain() {
    for e in core_errors() {
        assert_no_repeats(&e);
    }
    let retried = Core::RetriesExhausted {
        attempts: 3,
        last: Box::new(api()),
    };
    assert_eq!(chain(&retried).len(), 2);
    assert_eq!(
        Report(&retried).to_string(),
        "gave up after 3 attempts: ServiceUnavailable: try later (HTTP 503, RequestId R)"
    );
}

#[test]
fn no_client_error_repeats_a_message_in_its_chain() {
    let mut errors: Vec<Error> = core_errors().into_iter().map(Error::from).collect();
    errors.extend([
        Error::Credentials(CredentialsError::NotFound {
            looked: vec!["environment: nothing".into()],
        }),
        Error::Config("no region".into()),
        Error::ResponseTooLarge { limit: 10 },
        Error::Transport {
            kind: TransportKind::NotSent,
            message: "connection refused".into(),
        },
        Error::RetriesExhausted {
            attempts: 3,
            last: Box::new(Error::RetriesExhausted {
                attempts: 2,
                last: Box::new(Error::ResponseTooLarge { limit: 10 }),
            }),
        },
    ]);
    for e in &errors {
        assert_no_repeats(e);
    }
    // Conversions keep the kinds the client has always reported.
    let kinds: Vec<String> = errors
        .iter()
        .map(|e| {
            format!("{e:?}")
                .split(['(', ' '])
                .next()
                .unwrap()
                .to_owned()
        })
        .collect();
    for kind in [
        "Param",
        "Endpoint",
        "Parse",
        "Api",
        "Transport",
        "ClockSkew",
        "RetriesExhausted",
        "JobNotFound",
        "WaitTimedOut",
    ] {
        assert!(
            kinds.iter().any(|k| k == kind),
            "{kind} missing from {kinds:?}"
        );
    }
}
