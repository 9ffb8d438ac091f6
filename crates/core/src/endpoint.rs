//! Where requests go: the R-kvstore endpoint for a region, or an explicit override.
//!
//! The official SDKs send a fixed list of regions to the central endpoint
//! `r-kvstore.aliyuncs.com` and every other region to `r-kvstore.<region>.aliyuncs.com`; this
//! module follows the same table (copied from `alibabacloud-r-kvstore20150101`).

use std::fmt;
use std::sync::Arc;

use crate::validate;

/// The central endpoint.
pub const CENTRAL_HOST: &str = "r-kvstore.aliyuncs.com";

/// Regions the official SDKs send to [`CENTRAL_HOST`].
pub const CENTRAL_REGIONS: &[&str] = &[
    "cn-hangzhou",
    "cn-hangzhou-finance",
    "ap-northeast-2-pop",
    "cn-beijing-finance-pop",
    "cn-beijing-gov-1",
    "cn-beijing-nu16-b01",
    "cn-edge-1",
    "cn-fujian",
    "cn-haidian-cm12-c01",
    "cn-hangzhou-bj-b01",
    "cn-hangzhou-internal-prod-1",
    "cn-hangzhou-internal-test-1",
    "cn-hangzhou-internal-test-2",
    "cn-hangzhou-internal-test-3",
    "cn-hangzhou-test-306",
    "cn-hongkong-finance-pop",
    "cn-qingdao-nebula",
    "cn-shanghai-et15-b01",
    "cn-shanghai-et2-b01",
    "cn-shanghai-inner",
    "cn-shanghai-internal-test-1",
    "cn-shenzhen-inner",
    "cn-shenzhen-st4-d01",
    "cn-shenzhen-su18-b01",
    "cn-wuhan",
    "cn-yushanfang",
    "cn-zhangbei",
    "cn-zhangbei-na61-b01",
    "cn-zhangjiakou-na62-a01",
    "cn-zhengzhou-nebula-1",
    "eu-west-1-oxs",
    "rus-west-1-pop",
];

/// URL scheme of an endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// TLS; the default for every resolved endpoint.
    Https,
    /// Plain HTTP: only when an override says `http://`, for example a local emulator.
    Http,
}

impl Scheme {
    /// `"https"` or `"http"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Https => "https",
            Scheme::Http => "http",
        }
    }
}

/// Which network the caller reaches the API from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Network {
    /// The internet.
    #[default]
    Public,
    /// Inside an Alibaba Cloud VPC: `r-kvstore-vpc.<region>.aliyuncs.com`.
    ///
    /// VPC endpoints are always regional, so unlike [`Network::Public`] no region is sent to the
    /// central host.
    Vpc,
}

/// A scheme and a host (with an optional port): everything a transport needs to connect.
///
/// ```
/// use rkvstore_core::{Endpoint, Network};
/// assert_eq!(Endpoint::resolve("cn-hangzhou", Network::Public)?.to_string(), "https://r-kvstore.aliyuncs.com");
/// assert_eq!(Endpoint::resolve("ap-southeast-1", Network::Public)?.to_string(), "https://r-kvstore.ap-southeast-1.aliyuncs.com");
/// assert_eq!(Endpoint::resolve("cn-hangzhou", Network::Vpc)?.to_string(), "https://r-kvstore-vpc.cn-hangzhou.aliyuncs.com");
/// assert_eq!(Endpoint::parse("http://127.0.0.1:8080/")?.to_string(), "http://127.0.0.1:8080");
/// # Ok::<(), rkvstore_core::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Endpoint {
    scheme: Scheme,
    // Shared, because every request holds a copy of its endpoint.
    host: Arc<str>,
}

/// Why an endpoint override was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndpointError {
    given: String,
    problem: &'static str,
}

impl fmt::Display for EndpointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid endpoint {:?}: {}; give a host such as r-kvstore.aliyuncs.com, \
             or a URL such as https://r-kvstore.aliyuncs.com or http://127.0.0.1:8080",
            self.given, self.problem
        )
    }
}

impl std::error::Error for EndpointError {}

impl Endpoint {
    /// The endpoint the official SDKs would use for `region`.
    pub fn resolve(region: &str, network: Network) -> Result<Self, crate::Error> {
        validate::region_id(region)?;
        let host = match network {
            Network::Public if CENTRAL_REGIONS.contains(&region) => CENTRAL_HOST.to_owned(),
            Network::Public => format!("r-kvstore.{region}.aliyuncs.com"),
            Network::Vpc => format!("r-kvstore-vpc.{region}.aliyuncs.com"),
        };
        Ok(Endpoint {
            scheme: Scheme::Https,
            host: host.into(),
        })
    }

    /// An explicit endpoint: `https://host[:port]`, `http://host[:port]`, or a bare host, which
    /// means HTTPS. A trailing `/` is accepted; any other path, a query or user info is not.
    pub fn parse(given: &str) -> Result<Self, EndpointError> {
        let err = |problem| EndpointError {
            given: given.to_owned(),
            problem,
        };
        let (scheme, rest) = if let Some(rest) = given.strip_prefix("https://") {
            (Scheme::Https, rest)
        } else if let Some(rest) = given.strip_prefix("http://") {
            (Scheme::Http, rest)
        } else if given.contains("://") {
            return Err(err("only https:// and http:// are supported"));
        } else {
            (Scheme::Https, given)
        };
        let host = rest.strip_suffix('/').unwrap_or(rest);
        if host.is_empty() {
            return Err(err("the host is empty"));
        }
        if host.contains(['/', '?', '#']) {
            return Err(err("an endpoint has no path or query"));
        }
        if host.contains('@') {
            return Err(err("an endpoint has no user info"));
        }
        let ok =
            |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']' | '_');
        if !host.chars().all(ok) {
            return Err(err(
                "a host has only letters, digits, '.', '-', and ':' before a port",
            ));
        }
        check_authority(host).map_err(err)?;
        Ok(Endpoint {
            scheme,
            host: host.into(),
        })
    }

    /// The scheme.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The host, with the port when one was given.
    pub fn host(&self) -> &str {
        &self.host
    }
}

/// Checks the shape of `host[:port]` or `[v6]:port`, so that an endpoint the HTTP stack would
/// refuse later (a missing bracket, a bad port) is refused here, as the usage error it is.
fn check_authority(authority: &str) -> Result<(), &'static str> {
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let Some((address, after)) = rest.split_once(']') else {
            return Err("the IPv6 address has no closing ']'");
        };
        if address.is_empty()
            || !address
                .chars()
                .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.')
        {
            return Err("brackets hold an IPv6 address, such as [::1]");
        }
        match after {
            "" => (address, None),
            _ => match after.strip_prefix(':') {
                Some(port) => (address, Some(port)),
                None => return Err("after an IPv6 address in brackets comes only ':' and a port"),
            },
        }
    } else if authority.contains(['[', ']']) {
        return Err("brackets go only around an IPv6 address, as in http://[::1]:8080");
    } else {
        match authority.split_once(':') {
            Some((_, port)) if port.contains(':') => {
                return Err("an IPv6 address goes in brackets, as in http://[::1]:8080")
            }
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err("the host is empty");
    }
    if host.starts_with(['.', '-']) || host.contains("..") {
        return Err("a host name has no empty label and does not start with '.' or '-'");
    }
    if let Some(port) = port {
        let number =
            if port.is_empty() || port.len() > 5 || !port.bytes().all(|b| b.is_ascii_digit()) {
                0
            } else {
                port.parse::<u32>().unwrap_or(0)
            };
        if !(1..=65535).contains(&number) {
            return Err("the port is not a number from 1 to 65535");
        }
    }
    Ok(())
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.scheme.as_str(), self.host)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides() {
        let e = Endpoint::parse("r-kvstore.cn-shanghai.aliyuncs.com").unwrap();
        assert_eq!(e.scheme(), Scheme::Https);
        assert_eq!(e.host(), "r-kvstore.cn-shanghai.aliyuncs.com");
        assert_eq!(
            Endpoint::parse("http://[::1]:9000").unwrap().host(),
            "[::1]:9000"
        );
        for bad in [
            "",
            "https://",
            "ftp://x",
            "https://x/path",
            "http://u@x",
            "a b",
            "x?y",
            "http://[::1",
            "http://[::1]x",
            "http://[]:80",
            "http://[::1]:",
            "http://host]:80",
            "http://::1",
            "http://host:0",
            "http://host:65536",
            "http://host:8o",
            "http://:80",
            "http://a..b",
            "http://.a",
        ] {
            assert!(Endpoint::parse(bad).is_err(), "{bad:?}");
        }
        for good in [
            "http://[::1]",
            "http://[::ffff:127.0.0.1]:80",
            "host:65535",
            "a_b.c-d",
        ] {
            assert!(Endpoint::parse(good).is_ok(), "{good:?}");
        }
        assert!(Endpoint::parse("http://[::1")
            .unwrap_err()
            .to_string()
            .contains("the IPv6 address has no closing ']'"));
        assert_eq!(
            Endpoint::parse("ftp://x").unwrap_err().to_string(),
            "invalid endpoint \"ftp://x\": only https:// and http:// are supported; give a host \
             such as r-kvstore.aliyuncs.com, or a URL such as https://r-kvstore.aliyuncs.com or \
             http://127.0.0.1:8080"
        );
    }

    #[test]
    fn every_central_region_resolves_centrally() {
        for r in CENTRAL_REGIONS {
            assert_eq!(
                Endpoint::resolve(r, Network::Public).unwrap().host(),
                CENTRAL_HOST
            );
        }
        assert_eq!(
            Endpoint::resolve("cn-beijing", Network::Public)
                .unwrap()
                .host(),
            "r-kvstore.cn-beijing.aliyuncs.com"
        );
    }

    #[test]
    fn bad_region_is_an_error() {
        assert!(Endpoint::resolve("", Network::Public).is_err());
        assert!(Endpoint::resolve("cn hangzhou", Network::Public).is_err());
    }
}
