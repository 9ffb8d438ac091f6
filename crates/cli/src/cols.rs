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
    /// `cols=name:0,id:1`: the array index of each column, for rows that are arrays.
    indexes: Option<Vec<usize>>,
    rows: Option<Query>,
    num: bool,
}

/// Separates the shell words of a field flag once [`crate::raw_args`] has joined them into
/// one value: a NUL, which no command-line argument can hold.
pub const WORD_SEPARATOR: char = '\0';

/// The `key=value` fields of a field flag, aliyun style: each shell word is one field, split at
/// its first `=`, its value taken as it is (spaces and all). As an extension, a word may hold
/// several fields separated by a comma before one of the flag's own `keys`, so that
/// `cols=A,B` keeps its comma and `path=X,PageSize=Y` splits. A word without `=` continues the
/// value before it (`cols=A, B`), or is the value of the nameless field (`--pager LIST[]`).
pub fn fields(text: &str, keys: &[&str]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for word in text.split(WORD_SEPARATOR).filter(|w| !w.is_empty()) {
        for part in split_before_keys(word, keys) {
            match part.split_once('=') {
                Some((k, v)) if is_key(k) => out.push((k.to_owned(), v.to_owned())),
                _ => match out.last_mut() {
                    Some((_, v)) => {
                        v.push(',');
                        v.push_str(part.trim_start_matches(','));
                    }
                    None => out.push((String::new(), part.to_owned())),
                },
            }
        }
    }
    out
}

fn is_key(k: &str) -> bool {
    !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn split_before_keys<'a>(word: &'a str, keys: &[&str]) -> Vec<&'a str> {
    let mut parts = Vec::new();
    let mut start = 0;
    for (i, _) in word.match_indices(',') {
        let next = &word[i + 1..];
        let known = next.split_once('=').is_some_and(|(k, _)| keys.contains(&k));
        if known {
            parts.push(&word[start..i]);
            start = i + 1;
        }
    }
    parts.push(&word[start..]);
    parts
}

/// aliyun's `UnquoteString`: `"A,B"` is `A,B` (for a shell that passed the quotes through).
fn unquote(s: &str) -> &str {
    if s.len() >= 2 && s.starts_with('"') && s.ends_with('"') {
        &s[1..s.len() - 1]
    } else {
        s
    }
}

impl Cols {
    /// Parses the value of `--output` when it is `cols=…`; `None` when it is not.
    pub fn parse(text: &str) -> Option<Result<Self, Failure>> {
        let fields = fields(text, &["cols", "rows", "num"]);
        fields.iter().any(|(k, _)| k == "cols").then(|| {
            let mut names = Vec::new();
            let mut rows = None;
            let mut num = false;
            for (k, v) in &fields {
                match k.as_str() {
                    "cols" => {
                        names = unquote(v)
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
            // aliyun's `name:0` columns index rows that are arrays; parsed as JMESPath only
            // when they are not all of that form.
            let indexes: Option<Vec<usize>> = names
                .iter()
                .map(|n| {
                    let (_, i) = n.split_once(':')?;
                    (!i.is_empty() && i.bytes().all(|b| b.is_ascii_digit()))
                        .then(|| i.parse().ok())
                        .flatten()
                })
                .collect();
            let cells = match indexes {
                Some(_) => Vec::new(),
                None => names
                    .iter()
                    .map(|n| Query::parse("--output cols", n))
                    .collect::<Result<_, _>>()?,
            };
            if indexes.is_some() {
                for n in &mut names {
                    if let Some((name, _)) = n.split_once(':') {
                        *n = name.to_owned();
                    }
                }
            }
            Ok(Cols {
                names,
                cells,
                indexes,
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
        let arrays = rows.first().is_some_and(Value::is_array);
        if arrays && self.indexes.is_none() {
            return Err(Failure::Usage(format!(
                "--output rows= selects lists, so each column must be NAME:INDEX, such as \
                 cols={}",
                self.names
                    .iter()
                    .enumerate()
                    .map(|(i, n)| format!("{n}:{i}"))
                    .collect::<Vec<_>>()
                    .join(",")
            )));
        }
        for (i, row) in rows.iter().enumerate() {
            let mut line = Vec::new();
            if self.num {
                line.push(i.to_string());
            }
            match &self.indexes {
                Some(indexes) => {
                    for &at in indexes {
                        line.push(text(row.get(at).unwrap_or(&Value::Null)));
                    }
                }
                None => {
                    for cell in &self.cells {
                        line.push(text(&cell.apply(row).unwrap_or(Value::Null)));
                    }
                }
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
        let keys = ["cols", "rows", "num", "path", "PageSize"];
        assert_eq!(
            fields("cols=A,B\0rows=Items.Item[]\0num=true", &keys),
            [
                ("cols".into(), "A,B".into()),
                ("rows".into(), "Items.Item[]".into()),
                ("num".into(), "true".into())
            ]
        );
        assert_eq!(
            fields("path=Backups.Backup,PageSize=PageSize", &keys),
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
        let cols = Cols::parse("cols=ID,Mode,Zone.Id\0rows=Jobs\0num=true")
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
            Cols::parse("cols=\0rows=x")
                .unwrap()
                .unwrap_err()
                .exit_code(),
            2
        );
        let scalar = Cols::parse("cols=A\0rows=Jobs[0].ID").unwrap().unwrap();
        assert_eq!(scalar.render(&doc).unwrap_err().exit_code(), 2);
    }

    #[test]
    fn words_keep_their_spaces_and_array_rows_take_indexes() {
        assert_eq!(
            fields("expr=A | [0].B\0to=Normal Later", &["expr", "to"]),
            [
                ("expr".into(), "A | [0].B".into()),
                ("to".into(), "Normal Later".into())
            ]
        );
        let doc = json!({"I": {"K": [{"Id": "r-1", "Name": "a b", "Arch": "cluster"},
                                     {"Id": "r-2", "Name": "c", "Arch": "standard"}]}});
        let cols = Cols::parse("cols=Id\0rows=I.K[?Arch == 'cluster']")
            .unwrap()
            .unwrap();
        assert_eq!(cols.render(&doc).unwrap(), "Id\n--\nr-1\n");
        let cols = Cols::parse("cols=id:0,name:1\0rows=I.K[].[Id,Name]")
            .unwrap()
            .unwrap();
        assert_eq!(
            cols.render(&doc).unwrap(),
            "id  | name\n--  | ----\nr-1 | a b\nr-2 | c\n"
        );
        let quoted = Cols::parse("cols=\"Id,Name\"\0rows=I.K").unwrap().unwrap();
        assert_eq!(quoted.names, ["Id", "Name"]);
        let unindexed = Cols::parse("cols=Id\0rows=I.K[].[Id]").unwrap().unwrap();
        assert_eq!(unindexed.render(&doc).unwrap_err().exit_code(), 2);
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
