//! The API's types for `call`'s generic answers, from the core's typed models.
//!
//! An XML answer has neither types nor list markers: `<BackupJobID>100001</BackupJobID>` is
//! text, and a list of one `<BackupJobs>` looks like an object. For the actions the core models,
//! the model knows better: the answer is read into it, written back as JSON, and where the two
//! disagree on a field the model's shape wins (a number for text that holds one, a list around
//! a lone item). Fields the model does not know stay as they came, in their order, so nothing
//! is lost; the result is the JSON answer the API would have given.

use rkvstore_blocking::core::response::Document;
use rkvstore_blocking::core::{
    CreateBackupResponse, DescribeBackupPolicyResponse, DescribeBackupTasksResponse,
    DescribeBackupsResponse, DescribeInstanceAttributeResponse, RestoreInstanceResponse,
};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

/// Gives `value` (the generic reading of `doc`) the types of `action`'s model, if it has one.
pub fn restore(action: &str, doc: &Document, value: &mut Value) {
    let model = match action {
        "DescribeBackupTasks" => model::<DescribeBackupTasksResponse>(doc),
        "DescribeBackups" => model::<DescribeBackupsResponse>(doc),
        "DescribeBackupPolicy" => model::<DescribeBackupPolicyResponse>(doc),
        "DescribeInstanceAttribute" => model::<DescribeInstanceAttributeResponse>(doc),
        "CreateBackup" => model::<CreateBackupResponse>(doc),
        "RestoreInstance" => model::<RestoreInstanceResponse>(doc),
        _ => None,
    };
    if let Some(model) = model {
        merge(value, &model);
    }
}

fn model<T: DeserializeOwned + Serialize>(doc: &Document) -> Option<Value> {
    let typed: T = serde_json::to_value(doc)
        .and_then(serde_json::from_value)
        .ok()?;
    serde_json::to_value(typed).ok()
}

/// Makes `generic` take `model`'s types where both have a field.
fn merge(generic: &mut Value, model: &Value) {
    match (generic, model) {
        (Value::Object(g), Value::Object(m)) => {
            for (k, gv) in g.iter_mut() {
                if let Some(mv) = m.get(k) {
                    merge(gv, mv);
                }
            }
        }
        (g @ Value::String(_), Value::Array(m))
            if matches!(&*g, Value::String(s) if s.is_empty()) && m.is_empty() =>
        {
            // `<List></List>`: an empty list.
            *g = Value::Array(Vec::new());
        }
        (Value::Array(g), Value::Array(m)) => {
            for (gv, mv) in g.iter_mut().zip(m) {
                merge(gv, mv);
            }
        }
        (g @ Value::Object(_), Value::Array(m)) => {
            // A lone item of a list, when it looks like the model's items (a model may also
            // flatten a wrapper such as `Backups.Backup` into a list, which must stay as is).
            let Some(item) = m.first().and_then(Value::as_object) else {
                return;
            };
            let alike = g
                .as_object()
                .is_some_and(|o| o.keys().any(|k| item.contains_key(k)));
            if alike {
                let mut one = g.take();
                merge(&mut one, &m[0]);
                *g = Value::Array(vec![one]);
            }
        }
        (g @ Value::String(_), m @ (Value::Number(_) | Value::Bool(_))) => {
            // Only when the text is that value, so a model's default never replaces data.
            if let Value::String(s) = &*g {
                if *s.trim() == *m.to_string() {
                    *g = m.clone();
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_model_gives_types_and_lists_and_keeps_the_rest() {
        let mut g = json!({"RequestId": "R", "InstanceId": "r-1", "Extra": "7",
                           "BackupJobs": {"BackupJobID": "100001", "Process": "100"}});
        let m = json!({"RequestId": "R", "InstanceId": "r-1",
                       "BackupJobs": [{"BackupJobID": 100001, "Process": "100"}]});
        merge(&mut g, &m);
        assert_eq!(
            g.to_string(),
            r#"{"RequestId":"R","InstanceId":"r-1","Extra":"7","BackupJobs":[{"BackupJobID":100001,"Process":"100"}]}"#
        );
        let mut g = json!({"Count": "x", "L": ""});
        merge(&mut g, &json!({"Count": 0, "L": []}));
        assert_eq!(g, json!({"Count": "x", "L": []}));
    }
}
