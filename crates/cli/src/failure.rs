//! What can go wrong in a command, how it is shown, and the exit status it gives.

use std::fmt::Write as _;

use rkvstore_blocking::core::escape::controls;
use rkvstore_blocking::core::ApiError;
use rkvstore_blocking::{Error, Report};

/// A failed command.
#[derive(Debug)]
pub enum Failure {
    /// The command line is wrong (exit 2).
    Usage(String),
    /// The configuration cannot work (exit 3).
    Config(String),
    /// The client failed.
    Client(Error),
    /// Stdout could not be written for a reason other than a closed pipe, such as a full disk
    /// (exit 1). A closed pipe is no failure: the reader has what it wanted.
    Output(std::io::Error),
    /// A failure with its own exit status and message (the message is escaped when shown).
    Exit {
        /// The exit status.
        code: u8,
        /// What went wrong and what to do.
        message: String,
    },
    /// A failure with advice on what to do next, printed after it (`hint: …`).
    Hinted {
        /// The failure.
        failure: Box<Failure>,
        /// What to do next; already safe to print.
        hint: String,
    },
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Client(e)
    }
}

impl From<rkvstore_blocking::core::ParamError> for Failure {
    fn from(e: rkvstore_blocking::core::ParamError) -> Self {
        Failure::Usage(e.to_string())
    }
}

impl Failure {
    /// 0 ok; 1 API, network or parse error; 2 usage; 3 configuration or credentials; 4 wait
    /// timed out.
    pub fn exit_code(&self) -> u8 {
        match self {
            Failure::Usage(_) => 2,
            Failure::Config(_) => 3,
            Failure::Output(_) => 1,
            Failure::Exit { code, .. } => *code,
            Failure::Hinted { failure, .. } => failure.exit_code(),
            Failure::Client(e) => match e.root() {
                Error::Param(_) | Error::Endpoint(_) => 2,
                Error::Credentials(_) | Error::Config(_) => 3,
                Error::WaitTimedOut { .. } => 4,
                _ => 1,
            },
        }
    }

    /// The block printed on stderr. Text that came from the network (or from the user) is
    /// shown with its control characters escaped, so that it cannot drive the terminal.
    pub fn render(&self) -> String {
        match self {
            // A usage error may quote a parser's message of several lines (a JMESPath error
            // points at the column on a line of its own): each line escaped, the breaks kept.
            Failure::Usage(m) => format!("error: {}\n", lines(m)),
            Failure::Exit { message: m, .. } => format!("error: {}\n", controls(m)),
            // Our own messages, such as the list of places credentials were looked for, keep
            // their lines.
            Failure::Config(m) => format!("error: {}\n", lines(m)),
            Failure::Output(e) => format!("error: cannot write the output: {e}\n"),
            Failure::Client(e @ Error::Credentials(_)) => {
                format!("error: {}\n", lines(&Report(e).to_string()))
            }
            Failure::Client(e) => match e.api() {
                Some(api) => render_api(api, e),
                // The whole chain: "gave up after 3 attempts: timed out: …".
                None => format!("error: {}\n", controls(&Report(e).to_string())),
            },
            Failure::Hinted { failure, hint } => {
                format!("{}  hint: {}\n", failure.render(), controls(hint))
            }
        }
    }
}

/// A message of our own, shown line by line: the control characters inside each line are
/// escaped, the line breaks kept.
fn lines(text: &str) -> String {
    text.split('\n')
        .map(|line| controls(line).into_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

fn render_api(api: &ApiError, whole: &Error) -> String {
    let mut out = format!("error: {}\n", controls(&api.code));
    let mut row = |label: &str, value: &str| {
        let _ = writeln!(out, "  {label:<12} {}", controls(value));
    };
    row("message:", &api.message);
    if let Some(id) = &api.request_id {
        row("request id:", id);
    }
    row("http status:", &api.http_status.to_string());
    if let Some(r) = &api.recommend {
        row("recommend:", r);
    }
    if let Some(d) = &api.access_denied_detail {
        row("denied:", d);
    }
    if let Some(d) = &api.signature_diagnosis {
        row("diagnosis:", &d.to_string());
    }
    if let Error::RetriesExhausted { attempts, .. } = whole {
        row("attempts:", &attempts.to_string());
    }
    out
}
