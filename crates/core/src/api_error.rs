//! The service's own errors, from either wire format.

use std::fmt;

use serde_json::Value;

use crate::diagnose::{diagnose_with_token, SignatureDiagnosis};
use crate::sign::SignedRequest;

/// The longest text kept from one field of an error answer; the rest is clipped. A real
/// message, even a `SignatureDoesNotMatch` quoting a long string to sign, is far shorter.
const MAX_FIELD_CHARS: usize = 16 * 1024;

/// An error answered by the API: `{"Code": …}` in JSON, `<Error><Code>…` in XML.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ApiError {
    /// The HTTP status.
    pub http_status: u16,
    /// The error code, such as `InvalidInstanceId.NotFound`.
    pub code: String,
    /// The service's message.
    pub message: String,
    /// The request ID, for support tickets.
    pub request_id: Option<String>,
    /// The host that answered.
    pub host_id: Option<String>,
    /// A link to the troubleshooting page.
    pub recommend: Option<String>,
    /// For `NoPermission`-style errors, the RAM policy detail (as JSON text when it was an object).
    pub access_denied_detail: Option<String>,
    /// For `SignatureDoesNotMatch`, what differs between our string to sign and the server's.
    pub signature_diagnosis: Option<SignatureDiagnosis>,
}

impl ApiError {
    /// Reads the error fields from a parsed body; `None` when there is no `Code`.
    pub(crate) fn from_value(http_status: u16, value: &Value) -> Option<Self> {
        let obj = value.as_object()?;
        // Some gateways wrap the fields in an `Error` object even in JSON.
        let obj = match obj.get("Error").and_then(Value::as_object) {
            Some(inner) if !obj.contains_key("Code") => inner,
            _ => obj,
        };
        let text = |key: &str| -> Option<String> {
            match obj.get(key)? {
                Value::Null => None,
                Value::String(s) if s.is_empty() => None,
                Value::String(s) => Some(s.clone()),
                other => Some(other.to_string()),
            }
        };
        Some(ApiError {
            http_status,
            code: text("Code")?,
            message: text("Message").unwrap_or_default(),
            request_id: text("RequestId"),
            host_id: text("HostId"),
            recommend: text("Recommend"),
            access_denied_detail: text("AccessDeniedDetail"),
            signature_diagnosis: None,
        })
    }

    /// `true` for `SignatureDoesNotMatch`.
    pub fn is_signature_mismatch(&self) -> bool {
        self.code == "SignatureDoesNotMatch"
    }

    /// For a signature mismatch, compares the server's string to sign with the one `request`
    /// was signed with and records what differs. Other errors are returned unchanged.
    pub fn with_signature_check(mut self, request: &SignedRequest) -> Self {
        if self.is_signature_mismatch() {
            let ours = request.string_to_sign();
            let token = request.token().map(crate::Secret::expose);
            self.signature_diagnosis =
                Some(diagnose_with_token(&self.message, ours.as_str(), token));
        }
        self
    }

    /// The error as an answer to `request`: diagnosed ([`ApiError::with_signature_check`]),
    /// then with the request's security token hidden in every field, in every encoding, and
    /// each field clipped to a sane length.
    pub(crate) fn for_request(self, request: &SignedRequest) -> Self {
        let mut e = self.with_signature_check(request);
        let token = request.token().map(crate::Secret::expose);
        let clean = |text: &mut String| {
            if let Some(t) = token {
                *text = crate::redact::redact(text, t);
            }
            if let Some((at, _)) = text.char_indices().nth(MAX_FIELD_CHARS) {
                text.truncate(at);
                text.push('…');
            }
        };
        clean(&mut e.code);
        clean(&mut e.message);
        for field in [
            &mut e.request_id,
            &mut e.host_id,
            &mut e.recommend,
            &mut e.access_denied_detail,
        ]
        .into_iter()
        .flatten()
        {
            clean(field);
        }
        e
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Every field came from the network: control characters are shown as escapes.
        use crate::escape::controls;
        write!(
            f,
            "{}: {} (HTTP {}",
            controls(&self.code),
            controls(&self.message),
            self.http_status
        )?;
        if let Some(id) = &self.request_id {
            write!(f, ", RequestId {}", controls(id))?;
        }
        f.write_str(")")?;
        if let Some(d) = &self.signature_diagnosis {
            write!(f, "; {}", controls(&d.to_string()))?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_both_field_sets_and_objects_as_text() {
        let v = json!({"Code": "Forbidden.RAM", "Message": "no", "RequestId": "R",
                       "AccessDeniedDetail": {"PolicyType": "AccountLevelIdentityBasedPolicy"}});
        let e = ApiError::from_value(403, &v).unwrap();
        assert_eq!(
            e.access_denied_detail.as_deref(),
            Some(r#"{"PolicyType":"AccountLevelIdentityBasedPolicy"}"#)
        );
        assert_eq!(e.to_string(), "Forbidden.RAM: no (HTTP 403, RequestId R)");
        assert!(ApiError::from_value(500, &json!({"Message": "x"})).is_none());
        assert!(ApiError::from_value(500, &json!([1])).is_none());
    }
}
