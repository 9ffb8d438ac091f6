//! Answers in the service's two formats.

use quick_xml::escape::escape;
use rkvstore_core::Format;
use serde_json::Value;

/// An error answer.
#[derive(Clone, Debug)]
pub(crate) struct Failure {
    pub(crate) status: u16,
    pub(crate) code: &'static str,
    pub(crate) message: String,
    pub(crate) retry_after_ms: Option<u64>,
}

impl Failure {
    pub(crate) fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        Failure {
            status,
            code,
            message: message.into(),
            retry_after_ms: None,
        }
    }
}

pub(crate) const HOST_ID: &str = "r-kvstore.aliyuncs.com";

pub(crate) fn content_type(format: Format) -> &'static str {
    match format {
        Format::Json => "application/json;charset=utf-8",
        Format::Xml => "text/xml;charset=utf-8",
    }
}

/// A success body: `value` is the response object; XML wraps it in `<{action}Response>`.
pub(crate) fn success(format: Format, action: &str, value: &Value) -> Vec<u8> {
    match format {
        Format::Json => value.to_string().into_bytes(),
        Format::Xml => {
            let mut out = String::from("<?xml version='1.0' encoding='UTF-8'?>");
            element(&mut out, &format!("{action}Response"), value);
            out.into_bytes()
        }
    }
}

/// An error body, shaped as the service shapes them.
pub(crate) fn error(format: Format, failure: &Failure, request_id: &str) -> Vec<u8> {
    let recommend = format!(
        "https://api.aliyun.com/troubleshoot?q={}&product=R-kvstore&requestId={request_id}",
        failure.code
    );
    match format {
        Format::Json => serde_json::json!({
            "RequestId": request_id,
            "HostId": HOST_ID,
            "Code": failure.code,
            "Message": failure.message,
            "Recommend": recommend,
        })
        .to_string()
        .into_bytes(),
        Format::Xml => format!(
            "<?xml version='1.0' encoding='UTF-8'?><Error><RequestId>{}</RequestId>\
             <HostId>{HOST_ID}</HostId><Code>{}</Code><Message>{}</Message>\
             <Recommend><![CDATA[{}]]></Recommend></Error>",
            escape(request_id),
            escape(failure.code),
            escape(failure.message.as_str()),
            recommend.replace("]]>", "]]&gt;"),
        )
        .into_bytes(),
    }
}

/// Writes `value` as `<name>…</name>`; an array repeats the element once per item, which is how
/// the service renders lists.
fn element(out: &mut String, name: &str, value: &Value) {
    match value {
        Value::Array(items) => {
            for item in items {
                element(out, name, item);
            }
            if items.is_empty() {
                out.push_str(&format!("<{name}></{name}>"));
            }
        }
        Value::Object(map) => {
            out.push_str(&format!("<{name}>"));
            for (k, v) in map {
                element(out, k, v);
            }
            out.push_str(&format!("</{name}>"));
        }
        Value::Null => {}
        Value::String(s) => out.push_str(&format!("<{name}>{}</{name}>", escape(s.as_str()))),
        other => out.push_str(&format!("<{name}>{other}</{name}>")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lists_repeat_and_text_is_escaped() {
        let body = success(
            Format::Xml,
            "X",
            // Keys in sorted order, so the test holds whether or not serde_json keeps insertion
            // order (the CLI turns on `preserve_order`, and features unify in a workspace build).
            &json!({"A": "a<b", "E": [], "L": [{"N": 1}, {"N": 2}]}),
        );
        assert_eq!(
            String::from_utf8(body).unwrap(),
            "<?xml version='1.0' encoding='UTF-8'?><XResponse><A>a&lt;b</A><E></E>\
             <L><N>1</N></L><L><N>2</N></L></XResponse>"
        );
    }
}
