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
    DescribeBackupsResponse, DescribeInstanceAttributeResponse, DescribeInstancesResponse,
    DescribeRegionsResponse, ModifyBackupPolicyResponse, RestoreInstanceResponse,
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
        "DescribeInstances" => model::<DescribeInstancesResponse>(doc),
        "DescribeRegions" => model::<DescribeRegionsResponse>(doc),
        "ModifyBackupPolicy" => model::<ModifyBackupPolicyResponse>(doc),
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
            // A lone item of a list, when it looks like the model's items.
            if alike(g, m) {
                let mut one = g.take();
                if let Some(first) = m.first() {
                    merge(&mut one, first);
                }
                *g = Value::Array(vec![one]);
                return;
            }
            // The model flattens a wrapper such as `Backups.Backup` into a list: the list is
            // the wrapper's one field (`{"Backup": …}`), which takes the model's list shape.
            let Some(map) = g.as_object_mut() else {
                return;
            };
            if map.len() != 1 {
                return;
            }
            let Some(inner) = map.values_mut().next() else {
                return;
            };
            match inner {
                Value::String(s) if s.is_empty() => *inner = Value::Array(Vec::new()),
                Value::Array(items) => {
                    for (gv, mv) in items.iter_mut().zip(m) {
                        merge(gv, mv);
                    }
                }
                one @ Value::Object(_) if alike(one, m) => {
                    let mut item = one.take();
                    if let Some(first) = m.first() {
                        merge(&mut item, first);
                    }
                    *one = Value::Array(vec![item]);
                }
                _ => {}
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

/// `generic` (an object) looks like an item of the model's list `m`: they share a field.
fn alike(generic: &Value, m: &[Value]) -> bool {
    let Some(item) = m.first().and_then(Value::as_object) else {
        return false;
    };
    generic
        .as_object()
        .is_some_and(|o| o.keys().any(|k| item.contains_key(k)))
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
