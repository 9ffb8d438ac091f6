//! The one error type of the core, with a typed error for each way things fail.

use std::fmt;

use crate::{ApiError, EndpointError, ParamError, ParseError};

/// Everything the core can report.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A request was built wrongly: a bad or repeated parameter, a bad identifier.
    Param(ParamError),
    /// An endpoint override could not be used.
    Endpoint(EndpointError),
    /// A response could not be read.
    Parse(ParseError),
    /// The service answered with an error.
    Api(Box<ApiError>),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Param(e) => e.fmt(f),
            Error::Endpoint(e) => e.fmt(f),
            Error::Parse(e) => e.fmt(f),
            Error::Api(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Param(e) => Some(e),
            Error::Endpoint(e) => Some(e),
            Error::Parse(e) => Some(e),
            Error::Api(e) => Some(e.as_ref()),
        }
    }
}

impl From<ParamError> for Error {
    fn from(e: ParamError) -> Self {
        Error::Param(e)
    }
}

impl From<EndpointError> for Error {
    fn from(e: EndpointError) -> Self {
        Error::Endpoint(e)
    }
}

impl From<ParseError> for Error {
    fn from(e: ParseError) -> Self {
        Error::Parse(e)
    }
}

impl From<ApiError> for Error {
    fn from(e: ApiError) -> Self {
        Error::Api(Box::new(e))
    }
}
