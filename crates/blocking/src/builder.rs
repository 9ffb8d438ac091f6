//! Configuring a [`Client`]: credentials, region or endpoint, signature and format, timeouts,
//! retries, limits.

use std::sync::atomic::AtomicI64;
use std::sync::Arc;
use std::time::Duration;

use rkvstore_core::retry::RetryPolicy;
use rkvstore_core::{Credentials, Endpoint, Format, Network, SignatureVersion};

use crate::client::{
    Inner, Logger, DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_READ_TIMEOUT,
};
use crate::credentials::{self, CachedProvider, CredentialsProvider, Env, ProcessEnv};
use crate::error::Error;
use crate::transport::Transport;
use crate::Client;

/// Configures a [`Client`].
#[derive(Clone, Default)]
pub struct Builder {
    credentials: Option<Credentials>,
    provider: Option<Arc<dyn CredentialsProvider>>,
    profile: Option<String>,
    region: Option<String>,
    endpoint: Option<EndpointChoice>,
    network: Network,
    signature_version: SignatureVersion,
    format: Format,
    connect_timeout: Option<Duration>,
    read_timeout: Option<Duration>,
    retry: Option<RetryPolicy>,
    user_agent: Option<String>,
    max_response_bytes: Option<u64>,
    logger: Option<Logger>,
}

/// An endpoint as given: text to parse when the client is built, or already parsed.
#[derive(Clone, Debug)]
enum EndpointChoice {
    Text(String),
    Parsed(Endpoint),
}

impl std::fmt::Debug for Builder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Builder")
            .field("credentials", &self.credentials)
            .field("profile", &self.profile)
            .field("region", &self.region)
            .field("endpoint", &self.endpoint)
            .field("signature_version", &self.signature_version)
            .field("format", &self.format)
            .finish_non_exhaustive()
    }
}

impl Builder {
    /// Uses these credentials instead of looking for them.
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = Some(credentials);
        self
    }

    /// Gets credentials from `provider` (a RAM role, the instance role, …) instead of looking
    /// for them; the client caches what it returns until shortly before it expires.
    pub fn credentials_provider(mut self, provider: Arc<dyn CredentialsProvider>) -> Self {
        self.provider = Some(provider);
        self
    }

    /// Uses this profile of `~/.aliyun/config.json` or `~/.alibabacloud/credentials`.
    pub fn profile(mut self, name: impl Into<String>) -> Self {
        self.profile = Some(name.into());
        self
    }

    /// The region, such as `cn-hangzhou`. Without one, `ALIBABA_CLOUD_REGION_ID` or the
    /// profile's `region_id` is used.
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// An explicit endpoint: `https://host`, `http://host:port` or a bare host (HTTPS),
    /// parsed by [`Endpoint::parse`] when the client is built.
    pub fn endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(EndpointChoice::Text(endpoint.into()));
        self
    }

    /// An explicit endpoint already parsed, for a caller that checked the user's text itself
    /// (to report it as a usage error, say): it is not checked again.
    pub fn parsed_endpoint(mut self, endpoint: Endpoint) -> Self {
        self.endpoint = Some(EndpointChoice::Parsed(endpoint));
        self
    }

    /// Reach the API through the VPC endpoint.
    pub fn network(mut self, network: Network) -> Self {
        self.network = network;
        self
    }

    /// Signature 1.0 (the default) or ACS3.
    pub fn signature_version(mut self, version: SignatureVersion) -> Self {
        self.signature_version = version;
        self
    }

    /// The wire format asked of the API (JSON by default). ACS3 answers are always JSON.
    pub fn format(mut self, format: Format) -> Self {
        self.format = format;
        self
    }

    /// How long to wait for a connection (5 s by default).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// How long to wait for an answer once connected (10 s by default).
    pub fn read_timeout(mut self, timeout: Duration) -> Self {
        self.read_timeout = Some(timeout);
        self
    }

    /// The retry policy (three attempts by default).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
    }

    /// Retries after the first attempt: `0` sends each request once.
    pub fn retries(mut self, retries: u32) -> Self {
        let mut policy = self.retry.unwrap_or_default();
        policy.max_attempts = retries.saturating_add(1);
        self.retry = Some(policy);
        self
    }

    /// Text added to the `User-Agent` header.
    pub fn user_agent(mut self, extra: impl Into<String>) -> Self {
        self.user_agent = Some(extra.into());
        self
    }

    /// The largest response body accepted (16 MiB by default).
    pub fn max_response_bytes(mut self, limit: u64) -> Self {
        self.max_response_bytes = Some(limit);
        self
    }

    /// Receives a redacted line for every attempt, answer and retry.
    pub fn logger(mut self, logger: Logger) -> Self {
        self.logger = Some(logger);
        self
    }

    /// Finds credentials and the endpoint, from the process environment.
    pub fn build(self) -> Result<Client, Error> {
        self.build_with_env(&ProcessEnv)
    }

    /// Like [`Builder::build`], reading variables (and `HOME`) from `env`.
    pub fn build_with_env(self, env: &dyn Env) -> Result<Client, Error> {
        // The region is checked here and only here (a command line passes what the user typed).
        // A region given or in the environment is checked before credentials are looked for,
        // so that a typo is reported as one even where credentials are missing too.
        let given = self
            .region
            .clone()
            .or_else(|| credentials::region_from_env(env));
        if let Some(r) = &given {
            rkvstore_core::validate::region_id(r)?;
        }
        let resolved = match self.provider.clone() {
            Some(provider) => credentials::Resolved {
                provider,
                source: credentials::Source::Explicit,
                region: None,
                settings: credentials::ProfileSettings::default(),
            },
            None => credentials::resolve(env, self.credentials.as_ref(), self.profile.as_deref())?,
        };
        // The profile's settings apply where the builder (and so the command line) left a
        // setting unset; ALIBABA_CLOUD_ENDPOINT comes between the two for the endpoint.
        let settings = &resolved.settings;
        let endpoint_choice = self.endpoint.clone().or_else(|| {
            env.var("ALIBABA_CLOUD_ENDPOINT")
                .or_else(|| settings.endpoint.clone())
                .map(EndpointChoice::Text)
        });
        let network = match settings.endpoint_type.as_deref() {
            Some(t) if t.eq_ignore_ascii_case("vpc") && self.network == Network::Public => {
                Network::Vpc
            }
            _ => self.network,
        };
        let connect_timeout = self
            .connect_timeout
            .or(settings.connect_timeout.map(Duration::from_secs));
        let read_timeout = self
            .read_timeout
            .or(settings.read_timeout.map(Duration::from_secs));
        let retry = self.retry.or_else(|| {
            settings.retry_count.map(|n| RetryPolicy {
                max_attempts: n.saturating_add(1),
                ..RetryPolicy::default()
            })
        });
        let region = match given {
            Some(r) => Some(r),
            None => {
                if let Some(r) = &resolved.region {
                    rkvstore_core::validate::region_id(r)?;
                }
                resolved.region.clone()
            }
        };
        // A region the service is not known to have is sent anyway (new regions appear), but
        // when its host then does not resolve, the error says which region was meant.
        let unresolved_hint = match (&endpoint_choice, &region) {
            (None, Some(r)) => rkvstore_core::regions::unknown_region(r),
            _ => None,
        };
        let endpoint = match (endpoint_choice, &region) {
            (Some(EndpointChoice::Parsed(e)), _) => e,
            (Some(EndpointChoice::Text(e)), _) => {
                Endpoint::parse(&e).map_err(rkvstore_core::Error::from)?
            }
            (None, Some(r)) => Endpoint::resolve(r, network)?,
            (None, None) => {
                return Err(Error::Config(
                    "no region: pass one (--region cn-hangzhou), set ALIBABA_CLOUD_REGION_ID, \
                     or set region_id in your aliyun profile"
                        .into(),
                ))
            }
        };
        let mut ua = format!("rkvstore/{} (Rust; ureq)", env!("CARGO_PKG_VERSION"));
        if let Some(extra) = &self.user_agent {
            ua.push(' ');
            ua.push_str(extra);
        }
        let timeouts = (
            connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT),
            read_timeout.unwrap_or(DEFAULT_READ_TIMEOUT),
        );
        let transport = Transport::new(
            timeouts.0,
            timeouts.1,
            &ua,
            self.max_response_bytes
                .unwrap_or(DEFAULT_MAX_RESPONSE_BYTES),
        )
        .unresolved_hint(unresolved_hint);
        Ok(Client {
            inner: Arc::new(Inner {
                credentials: CachedProvider::new(resolved.provider, self.logger.clone()),
                source: resolved.source,
                region,
                endpoint,
                version: self.signature_version,
                format: self.format,
                retry: retry.unwrap_or_default(),
                transport,
                skew: AtomicI64::new(0),
                timeouts,
                logger: self.logger,
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// No variables at all, so no credentials can be found.
    struct Empty;

    impl Env for Empty {
        fn var(&self, _: &str) -> Option<String> {
            None
        }
    }

    #[test]
    fn a_bad_region_is_reported_before_missing_credentials() {
        let err = Builder::default()
            .region("CN_Hangzhou")
            .build_with_env(&Empty)
            .err();
        assert!(matches!(err, Some(Error::Param(_))), "{err:?}");
    }

    #[test]
    fn a_parsed_endpoint_is_used_as_it_is() {
        let endpoint = Endpoint::parse("http://127.0.0.1:9").map_err(|e| e.to_string());
        let client = endpoint.map(|e| {
            Builder::default()
                .credentials(Credentials::new("id", "secret"))
                .parsed_endpoint(e)
                .build_with_env(&Empty)
        });
        let shown = match client {
            Ok(Ok(c)) => c.endpoint().to_string(),
            other => panic!("{other:?}"),
        };
        assert_eq!(shown, "http://127.0.0.1:9");
    }
}
