//! `--cli-query`: a JMESPath expression over the JSON result, with the `jmespath` crate.
//!
//! ```text
//! $ rkvstore backup --instance-id r-demo --cli-query BackupJobID
//! 100002
//! ```

use serde_json::Value;

use crate::failure::Failure;

/// A compiled `--cli-query`.
pub struct Query {
    text: String,
    expr: jmespath::Expression<'static>,
}

impl std::fmt::Debug for Query {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Query").field(&self.text).finish()
    }
}

impl Query {
    /// Compiles `text`; a syntax error is a usage error that shows where.
    pub fn parse(flag: &str, text: &str) -> Result<Self, Failure> {
        let expr = jmespath::compile(text)
            .map_err(|e| Failure::Usage(format!("invalid {flag} {text:?}: {e}")))?;
        Ok(Query {
            text: text.to_owned(),
            expr,
        })
    }

    /// The expression's result over `value`, as JSON.
    pub fn apply(&self, value: &Value) -> Result<Value, Failure> {
        let found = self.expr.search(value).map_err(|e| {
            Failure::Usage(format!("cannot query the result with {:?}: {e}", self.text))
        })?;
        serde_json::to_value(&*found).map_err(|e| {
            Failure::Usage(format!("cannot query the result with {:?}: {e}", self.text))
        })
    }
}

/// Evaluates `text` once over `value` (for `--pager` and `--waiter` fields).
pub fn search(flag: &str, text: &str, value: &Value) -> Result<Value, Failure> {
    Query::parse(flag, text)?.apply(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn queries_select_and_project() {
        let doc = json!({"RequestId": "R", "BackupJobs": [{"BackupJobID": 1, "Status": "Finished"},
                                                        {"BackupJobID": 2, "Status": "Uploading"}]});
        let q = Query::parse(
            "--cli-query",
            "BackupJobs[?Status=='Uploading'].BackupJobID",
        )
        .unwrap();
        assert_eq!(q.apply(&doc).unwrap(), json!([2]));
        let q = Query::parse("--cli-query", "RequestId").unwrap();
        assert_eq!(q.apply(&doc).unwrap(), json!("R"));
        let q = Query::parse("--cli-query", "Nothing").unwrap();
        assert_eq!(q.apply(&doc).unwrap(), Value::Null);
        let e = Query::parse("--cli-query", "BackupJobs[").unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(
            e.render()
                .starts_with("error: invalid --cli-query \"BackupJobs[\""),
            "{}",
            e.render()
        );
    }
}
