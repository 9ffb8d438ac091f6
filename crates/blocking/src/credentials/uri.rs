//! `CredentialsURI`: temporary credentials from a URL that answers the metadata service's
//! document (a sidecar, a vault agent).

use std::time::Duration;

use rkvstore_core::sts::{parse_credentials_document, TemporaryCredentials};

use super::http::Http;
use super::{CredentialsError, CredentialsProvider};

/// Credentials from a URI.
pub struct CredentialsUriProvider {
    uri: String,
    http: Http,
    origin: String,
}

impl CredentialsUriProvider {
    /// Credentials from `uri` (`http://` or `https://`).
    pub fn new(uri: impl Into<String>) -> Self {
        CredentialsUriProvider {
            uri: uri.into(),
            http: Http::new(Duration::from_secs(5), Duration::from_secs(10)),
            origin: "code".to_owned(),
        }
    }

    pub(super) fn origin(mut self, origin: impl Into<String>) -> Self {
        self.origin = origin.into();
        self
    }
}

impl CredentialsProvider for CredentialsUriProvider {
    fn fetch(&self) -> Result<TemporaryCredentials, CredentialsError> {
        let failed = |problem: String| CredentialsError::Provider {
            mode: "CredentialsURI".to_owned(),
            origin: self.origin.clone(),
            problem,
            fix: "check the URI (ALIBABA_CLOUD_CREDENTIALS_URI or credentials_uri in the \
                  profile) and the service behind it; it must answer JSON with Code \"Success\", \
                  AccessKeyId, AccessKeySecret, SecurityToken and Expiration"
                .to_owned(),
        };
        if !(self.uri.starts_with("http://") || self.uri.starts_with("https://")) {
            return Err(failed(format!(
                "{} is not an http:// or https:// URL",
                super::http::shown_url(&self.uri)
            )));
        }
        let (status, body) = self
            .http
            .send("GET", &self.uri, &[])
            .map_err(|e| failed(e.0))?;
        parse_credentials_document(status, &body, "the credentials URI")
            .map_err(|e| failed(e.to_string()))
    }

    fn describe(&self) -> String {
        format!(
            "CredentialsURI {} ({})",
            super::http::shown_url(&self.uri),
            self.origin
        )
    }
}
