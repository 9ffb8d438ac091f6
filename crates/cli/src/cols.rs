//! Tables from JSON: aliyun's `--output cols=A,B [rows=PATH] [num=true]`, and the generic table
//! that `--output table` gives for answers without a table of their own (`call`).
//!
//! The layout is the aliyun CLI's: a header, a rule of dashes, then one line per row, with
//! cells separated by ` | `. Cells are JMESPath expressions over each row (so `cols=Zone.Id`
//! works), missing values print as empty cells, and control characters from the network are
//! escaped.

use rkvstore_blocking::core::escape::controls;
use serde_json::Value;

use crate::failure::Failure;
use crate::query::Query;

/// A parsed `cols=…` output.
#[derive(Debug)]
pub struct Cols {
    names: Vec<String>,
    cells: Vec<Query>,
    rows: Option<Query>,
    num: bool,
}

/// `key=value` fields separated by spaces, or by commas before the next `key=` (so that
/// `cols=A,B` keeps its comma and `path=X,PageSize=Y` splits).
pub fn fields(text: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for word in text.split_whitespace() {
        for part in split_before_keys(word) {
            match part.split_once('=') {
                Some((k, v)) => out.push((k.to_owned(), v.to_owned())),
                // A word without `=` continues the value before it (`cols=A, B`).
                None => match out.last_mut() {
                    Some((_, v)) => {
                        v.push(',');
                        v.push_str(part.trim_start_matches(','));
                    }
                    None => out.push((part.to_owned(), String::new())),
                },
            }
        }
    }
    out
}

fn split_before_keys(word: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    for (i, _) in word.match_indices(',') {
        let next = &word[i + 1..];
        let key_like = next.split_once('=').is_some_and(|(k, _)| {
            !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        });
        if key_like {
            parts.push(&word[start..i]);
            start = i + 1;
        }
    }
    parts.push(&word[start..]);
    parts
}

impl Cols {
    /// Parses the value of `--output` when it is `cols=…`; `None` when it is not.
    pub fn parse(text: &str) -> Option<Result<Self, Failure>> {
        let fields = fields(text);
        fields.iter().any(|(k, _)| k == "cols").then(|| {
            let mut names = Vec::new();
            let mut rows = None;
            let mut num = false;
            for (k, v) in &fields {
                match k.as_str() {
                    "cols" => {
                        names = v
                            .split(',')
                            .map(|c| c.trim().to_owned())
                            .filter(|c| !c.is_empty())
                            .collect()
                    }
                    "rows" => rows = Some(Query::parse("--output rows", v)?),
                    "num" => num = v.eq_ignore_ascii_case("true"),
                    other => {
                        return Err(Failure::Usage(format!(
                            "--output {other}= is not known: use cols=A,B [rows=PATH] [num=true]"
                        )))
                    }
                }
            }
            if names.is_empty() {
                return Err(Failure::Usage(
                    "--output cols= needs at least one column, such as cols=BackupJobID,JobMode"
                        .into(),
                ));
            }
            let cells = names
                .iter()
                .map(|n| Query::parse("--output cols", n))
                .collect::<Result<_, _>>()?;
            Ok(Cols {
                names,
                cells,
                rows,
                num,
            })
        })
    }

    /// The table of `value`.
    pub fn render(&self, value: &Value) -> Result<String, Failure> {
        let rows = match &self.rows {
            Some(q) => q.apply(value)?,
            // Without rows=, the value itself is the one row, or the rows when it is a list.
            None => value.clone(),
        };
        let rows = match rows {
            Value::Array(items) => items,
            Value::Null => Vec::new(),
            one @ Value::Object(_) => vec![one],
            other => {
                return Err(Failure::Usage(format!(
                    "--output rows= must select a list or an object, not {}",
                    kind(&other)
                )))
            }
        };
        let mut header: Vec<String> = self.names.clone();
        if self.num {
            header.insert(0, "Num".into());
        }
        let mut table = vec![header];
        for (i, row) in rows.iter().enumerate() {
            let mut line = Vec::new();
            if self.num {
                line.push(i.to_string());
            }
            for cell in &self.cells {
                line.push(text(&cell.apply(row).unwrap_or(Value::Null)));
            }
            table.push(line);
        }
        Ok(layout(table))
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "a text",
        Value::Number(_) => "a number",
        Value::Bool(_) => "a boolean",
        Value::Null => "nothing",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// A cell: text bare, null empty, anything else as compact JSON; control characters escaped.
fn text(v: &Value) -> String {
    let s = match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    controls(&s).into_owned()
}

/// Aligned columns: header, rule, rows.
fn layout(mut table: Vec<Vec<String>>) -> String {
    let columns = table.first().map_or(0, Vec::len);
    let mut widths = vec![0usize; columns];
    for row in &table {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let rule: Vec<String> = table
        .first()
        .map(|h| h.iter().map(|c| "-".repeat(c.chars().count())).collect())
        .unwrap_or_default();
    table.insert(1.min(table.len()), rule);
    let mut out = String::new();
    for row in &table {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        out.push_str(cells.join(" | ").trim_end());
        out.push('\n');
    }
    out
}

/// `--output table` for any answer: the first list of objects in it (depth first), one column
/// per field with a plain value; else one `FIELD | VALUE` line per top-level field.
pub fn generic_table(value: &Value) -> String {
    if let Some(items) = first_list(value) {
        let mut names: Vec<String> = Vec::new();
        for item in items {
            if let Value::Object(map) = item {
                for (k, v) in map {
                    if !v.is_object() && !v.is_array() && !names.contains(k) {
                        names.push(k.clone());
                    }
                }
            }
        }
        let mut table = vec![names.clone()];
        for item in items {
            table.push(
                names
                    .iter()
                    .map(|n| text(item.get(n).unwrap_or(&Value::Null)))
                    .collect(),
            );
        }
        return layout(table);
    }
    let mut table = vec![vec!["Field".to_owned(), "Value".to_owned()]];
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                table.push(vec![controls(k).into_owned(), text(v)]);
            }
        }
        other => table.push(vec![String::new(), text(other)]),
    }
    layout(table)
}

fn first_list(value: &Value) -> Option<&Vec<Value>> {
    match value {
        Value::Array(items) if items.iter().any(Value::is_object) => Some(items),
        Value::Array(items) => items.iter().find_map(first_list),
        Value::Object(map) => map.values().find_map(first_list),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fields_split_like_aliyun() {
        assert_eq!(
            fields("cols=A,B rows=Items.Item[] num=true"),
            [
                ("cols".into(), "A,B".into()),
                ("rows".into(), "Items.Item[]".into()),
                ("num".into(), "true".into())
            ]
        );
        assert_eq!(
            fields("path=Backups.Backup,PageSize=PageSize"),
            [
                ("path".into(), "Backups.Backup".into()),
                ("PageSize".into(), "PageSize".into())
            ]
        );
    }

    #[test]
    fn cols_render_an_aliyun_table() {
        let doc = json!({"Jobs": [{"ID": 1, "Mode": "Manual", "Zone": {"Id": "a"}},
                                  {"ID": 22, "Mode": "Automated\u{1b}[2J"}]});
        let cols = Cols::parse("cols=ID,Mode,Zone.Id rows=Jobs num=true")
            .unwrap()
            .unwrap();
        assert_eq!(
            cols.render(&doc).unwrap(),
            "Num | ID | Mode             | Zone.Id\n\
             --- | -- | ----             | -------\n\
             0   | 1  | Manual           | a\n\
             1   | 22 | Automated\\x1b[2J |\n"
        );
        assert!(Cols::parse("json").is_none());
        assert_eq!(
            Cols::parse("cols= rows=x")
                .unwrap()
                .unwrap_err()
                .exit_code(),
            2
        );
        let scalar = Cols::parse("cols=A rows=Jobs[0].ID").unwrap().unwrap();
        assert_eq!(scalar.render(&doc).unwrap_err().exit_code(), 2);
    }

    #[test]
    fn generic_tables() {
        let doc =
            json!({"RequestId": "R", "Items": {"Item": [{"A": 1, "B": "x"}, {"A": 2, "C": true}]}});
        assert_eq!(
            generic_table(&doc),
            "A | B | C\n- | - | -\n1 | x |\n2 |   | true\n"
        );
        assert_eq!(
            generic_table(&json!({"RequestId": "R", "Count": 2})),
            "Field     | Value\n-----     | -----\nRequestId | R\nCount     | 2\n"
        );
    }
}
