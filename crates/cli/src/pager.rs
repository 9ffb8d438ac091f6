//! `call --pager`: every page of a paged action, merged, in the aliyun CLI's syntax
//! (`path=Backups.Backup,PageNumber=PageNumber,PageSize=PageSize,TotalCount=TotalCount`, or
//! `NextToken=NextToken` for token paging).
//!
//! Better than the aliyun CLI's in two ways: the result is the first page's whole answer with
//! the list at `path` holding every item (not a bare `{"Backup": [...]}`), and paging stops on
//! an empty page and after [`MAX_PAGES`], so a lying `TotalCount` cannot loop forever.

use serde_json::Value;

use crate::cols::fields;
use crate::failure::Failure;
use crate::query::search;

/// No answer is followed beyond this many pages.
pub const MAX_PAGES: u32 = 10_000;

/// A parsed `--pager`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pager {
    /// Where the list is, as a dotted path (`Backups.Backup`); `None`: the first list found.
    pub path: Option<String>,
    pub page_number: String,
    pub page_size: String,
    pub total_count: String,
    /// Token paging, with the name of the token field.
    pub next_token: Option<String>,
}

impl Pager {
    pub fn parse(text: &str) -> Result<Self, Failure> {
        let mut pager = Pager {
            path: None,
            page_number: "PageNumber".into(),
            page_size: "PageSize".into(),
            total_count: "TotalCount".into(),
            next_token: None,
        };
        for (k, v) in fields(text) {
            let v = v.trim().to_owned();
            match k.as_str() {
                "path" => pager.path = Some(v.trim_end_matches("[]").to_owned()),
                "PageNumber" => pager.page_number = v,
                "PageSize" => pager.page_size = v,
                "TotalCount" => pager.total_count = v,
                "NextToken" => pager.next_token = Some(v),
                other => {
                    return Err(Failure::Usage(format!(
                        "--pager {other}= is not known: use path=, PageNumber=, PageSize=, \
                         TotalCount= or NextToken="
                    )))
                }
            }
        }
        Ok(pager)
    }

    /// Calls `fetch` with the request parameters of each page (`(name, value)` to set) until the
    /// last, and returns the first answer with every page's items at the list's path.
    pub fn collect(
        &self,
        mut fetch: impl FnMut(Option<(&str, String)>) -> Result<Value, Failure>,
    ) -> Result<Value, Failure> {
        let mut first = fetch(None)?;
        let path = match &self.path {
            Some(p) => p.clone(),
            None => first_list_path(&first, "").ok_or_else(|| {
                Failure::Usage("--pager found no list in the answer; give path=LIST".into())
            })?,
        };
        let mut items = take_list(&mut first, &path);
        let mut page = number(&first, "PageNumber", &self.page_number).unwrap_or(1);
        let mut last = first.clone();
        for _ in 1..MAX_PAGES {
            let next = match &self.next_token {
                Some(field) => match search("--pager NextToken", field, &last)? {
                    Value::String(t) if !t.is_empty() => (last_name(field), t),
                    _ => break,
                },
                None => {
                    let size = number(&last, "PageSize", &self.page_size).unwrap_or(0);
                    let total = number(&last, "TotalCount", &self.total_count).unwrap_or(0);
                    if size == 0 || page.saturating_mul(size) >= total {
                        break;
                    }
                    page += 1;
                    (last_name(&self.page_number), page.to_string())
                }
            };
            let mut answer = fetch(Some((next.0, next.1)))?;
            let more = take_list(&mut answer, &path);
            if more.is_empty() {
                break;
            }
            items.extend(more);
            last = answer;
        }
        put_list(&mut first, &path, items);
        Ok(first)
    }
}

/// The request parameter of a response field: `PageInfo.PageNumber` pages with `PageNumber`.
fn last_name(field: &str) -> &str {
    field.rsplit('.').next().unwrap_or(field)
}

/// A count from the answer, whether the API sent it as a number or as text (XML).
fn number(answer: &Value, what: &str, expr: &str) -> Option<u64> {
    match search(&format!("--pager {what}"), expr, answer).ok()? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn first_list_path(value: &Value, at: &str) -> Option<String> {
    match value {
        Value::Array(_) => Some(at.to_owned()),
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            let here = if at.is_empty() {
                k.clone()
            } else {
                format!("{at}.{k}")
            };
            first_list_path(v, &here)
        }),
        _ => None,
    }
}

/// Removes the list at `path` from `answer` and returns its items (a lone object, as an XML
/// answer gives a list of one, counts as one item).
fn take_list(answer: &mut Value, path: &str) -> Vec<Value> {
    let mut at = answer;
    for key in path.split('.') {
        match at.get_mut(key) {
            Some(next) => at = next,
            None => return Vec::new(),
        }
    }
    match at.take() {
        Value::Array(items) => items,
        Value::Null => Vec::new(),
        Value::String(s) if s.is_empty() => Vec::new(),
        one => vec![one],
    }
}

fn put_list(answer: &mut Value, path: &str, items: Vec<Value>) {
    let mut at = answer;
    for key in path.split('.') {
        let Some(map) = at.as_object_mut() else {
            return;
        };
        at = map.entry(key.to_owned()).or_insert(Value::Null);
    }
    *at = Value::Array(items);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pages_until_the_total_and_merge_in_place() {
        let pages = [
            json!({"RequestId": "A", "TotalCount": 5, "PageSize": 2, "PageNumber": 1, "Backups": {"Backup": [{"Id": 1}, {"Id": 2}]}}),
            json!({"RequestId": "B", "TotalCount": 5, "PageSize": 2, "PageNumber": 2, "Backups": {"Backup": [{"Id": 3}, {"Id": 4}]}}),
            json!({"RequestId": "C", "TotalCount": "5", "PageSize": "2", "PageNumber": "3", "Backups": {"Backup": {"Id": 5}}}),
        ];
        let mut asked = Vec::new();
        let pager = Pager::parse("path=Backups.Backup").unwrap();
        let all = pager
            .collect(|p| {
                asked.push(p.clone().map(|(k, v)| format!("{k}={v}")));
                Ok(pages[asked.len() - 1].clone())
            })
            .unwrap();
        assert_eq!(
            asked,
            [
                None,
                Some("PageNumber=2".into()),
                Some("PageNumber=3".into())
            ]
        );
        assert_eq!(all["RequestId"], "A");
        assert_eq!(
            all["Backups"]["Backup"],
            json!([{"Id": 1}, {"Id": 2}, {"Id": 3}, {"Id": 4}, {"Id": 5}])
        );
    }

    #[test]
    fn a_lying_total_stops_at_an_empty_page_and_tokens_page_too() {
        let mut n = 0;
        let all = Pager::parse("")
            .unwrap()
            .collect(|_| {
                n += 1;
                Ok(if n == 1 {
                    json!({"TotalCount": 1000, "PageSize": 1, "Items": [n]})
                } else {
                    json!({"TotalCount": 1000, "PageSize": 1, "Items": []})
                })
            })
            .unwrap();
        assert_eq!((n, all["Items"].clone()), (2, json!([1])));
        let mut n = 0;
        let all = Pager::parse("path=Items,NextToken=NextToken")
            .unwrap()
            .collect(|p| {
                n += 1;
                Ok(match p.map(|(_, v)| v).as_deref() {
                    None => json!({"NextToken": "t2", "Items": ["a"]}),
                    Some("t2") => json!({"NextToken": "", "Items": ["b"]}),
                    other => panic!("{other:?}"),
                })
            })
            .unwrap();
        assert_eq!(all["Items"], json!(["a", "b"]));
        assert_eq!(Pager::parse("Bogus=1").unwrap_err().exit_code(), 2);
    }
}
