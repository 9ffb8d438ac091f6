//! The service's own errors, from either wire format.

use std::fmt;

use serde_json::Value;

use crate::diagnose::{diagnose, SignatureDiagnosis};
use crate::sign::SignedRequest;

/// An error answered by the API: `{"Code": …}` in JSON, `<Error><Code>…` in XML.
#[derive(Clone, Debug, PartialEq, Eq)]
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
    pub fn from_value(http_status: u16, value: &Value) -> Option<Self> {
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
            self.signature_diagnosis = Some(diagnose(&self.message, ours.as_str()));
        }
        self
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} (HTTP {}",
            self.code, self.message, self.http_status
        )?;
        if let Some(id) = &self.request_id {
            write!(f, ", RequestId {id}")?;
        }
        f.write_str(")")?;
        if let Some(d) = &self.signature_diagnosis {
            write!(f, "; {d}")?;
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
