//! An RPC-style API request before signing: endpoint, version, action, parameters, and how they
//! travel. It is not tied to R-kvstore: any Alibaba Cloud RPC API can be described.

use std::borrow::Cow;
use std::fmt;

use crate::{validate, Endpoint, ParamError, Params};

/// HTTP method of an RPC call.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Method {
    /// `GET`.
    Get,
    /// `POST`, which the official tools use for R-kvstore.
    #[default]
    Post,
}

impl Method {
    /// `"GET"` or `"POST"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The wire format asked of the API with the `Format` parameter.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Format {
    /// `JSON`.
    #[default]
    Json,
    /// `XML`, which is also what the service answers when no format is asked for.
    Xml,
}

impl Format {
    /// `"JSON"` or `"XML"`, as the `Format` parameter spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Json => "JSON",
            Format::Xml => "XML",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `json` or `xml`, in any case, as the `aliyun` CLI takes `--format`.
///
/// ```
/// use rkvstore_core::Format;
/// assert_eq!("xml".parse::<Format>()?, Format::Xml);
/// assert_eq!(
///     "yaml".parse::<Format>().unwrap_err().to_string(),
///     "invalid format \"yaml\": use json or xml"
/// );
/// # Ok::<(), rkvstore_core::ParamError>(())
/// ```
impl std::str::FromStr for Format {
    type Err = ParamError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.eq_ignore_ascii_case("json") {
            Ok(Format::Json)
        } else if s.eq_ignore_ascii_case("xml") {
            Ok(Format::Xml)
        } else {
            Err(ParamError::Invalid {
                name: "format",
                value: s.to_owned(),
                expected: "use json or xml",
            })
        }
    }
}

/// Where the operation's own parameters travel. Signature parameters always go in the query.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Placement {
    /// In the query string, as the official tools send R-kvstore calls.
    #[default]
    Query,
    /// In an `application/x-www-form-urlencoded` body (POST only). Signed the same way.
    FormBody,
}

/// An unsigned RPC request.
///
/// ```
/// use rkvstore_core::{Endpoint, Method, RpcRequest};
/// let req = RpcRequest::new(Endpoint::parse("ecs.aliyuncs.com")?, "2014-05-26", "DescribeRegions")?
///     .with_method(Method::Get)
///     .param("RegionId", "cn-hangzhou")?;
/// assert_eq!(req.action(), "DescribeRegions");
/// assert_eq!(req.params().get("RegionId"), Some("cn-hangzhou"));
/// # Ok::<(), rkvstore_core::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RpcRequest {
    endpoint: Endpoint,
    version: Cow<'static, str>,
    action: Cow<'static, str>,
    method: Method,
    placement: Placement,
    format: Format,
    params: Params,
}

impl RpcRequest {
    /// A POST request for `action` of API `version`, with no parameters, asking for JSON.
    pub fn new(
        endpoint: Endpoint,
        version: impl Into<Cow<'static, str>>,
        action: impl Into<Cow<'static, str>>,
    ) -> Result<Self, ParamError> {
        let version = version.into();
        let action = action.into();
        validate::token("Version", &version)?;
        validate::token("Action", &action)?;
        Ok(RpcRequest {
            endpoint,
            version,
            action,
            method: Method::default(),
            placement: Placement::default(),
            format: Format::default(),
            params: Params::new(),
        })
    }

    /// A request for a typed operation, whose version and action are constants of this crate
    /// (checked in debug builds and tests rather than on every call).
    pub(crate) fn for_operation(
        endpoint: Endpoint,
        version: &'static str,
        action: &'static str,
    ) -> Self {
        debug_assert!(validate::token("Version", version).is_ok());
        debug_assert!(validate::token("Action", action).is_ok());
        RpcRequest {
            endpoint,
            version: Cow::Borrowed(version),
            action: Cow::Borrowed(action),
            method: Method::default(),
            placement: Placement::default(),
            format: Format::default(),
            params: Params::new(),
        }
    }

    /// Uses `method`. Choosing GET also moves parameters back to the query string.
    pub fn with_method(mut self, method: Method) -> Self {
        self.method = method;
        if method == Method::Get {
            self.placement = Placement::Query;
        }
        self
    }

    /// Sends the operation's parameters in a form body; this implies POST.
    pub fn with_form_body(mut self) -> Self {
        self.method = Method::Post;
        self.placement = Placement::FormBody;
        self
    }

    /// Asks for `format` (signature 1.0 only: ACS3 responses are always JSON).
    pub fn with_format(mut self, format: Format) -> Self {
        self.format = format;
        self
    }

    /// Replaces the parameters.
    pub fn with_params(mut self, params: Params) -> Self {
        self.params = params;
        self
    }

    /// Adds one parameter (see [`Params::insert`]).
    pub fn param(
        mut self,
        key: impl Into<Cow<'static, str>>,
        value: impl AsRef<str>,
    ) -> Result<Self, ParamError> {
        self.params.insert(key, value)?;
        Ok(self)
    }

    /// The parameters, to add more.
    pub fn params_mut(&mut self) -> &mut Params {
        &mut self.params
    }

    /// The parameters.
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// The endpoint.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// The API version, such as `2015-01-01`.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The action, such as `DescribeBackupTasks`.
    pub fn action(&self) -> &str {
        &self.action
    }

    /// The HTTP method.
    pub fn method(&self) -> Method {
        self.method
    }

    /// Where the parameters travel.
    pub fn placement(&self) -> Placement {
        self.placement
    }

    /// The wire format asked for.
    pub fn format(&self) -> Format {
        self.format
    }
}
