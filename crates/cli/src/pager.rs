//! `call --pager`: every page of a paged action, merged, in the aliyun CLI's syntax
//! (`path=Backups.Backup[] PageNumber=PageNumber PageSize=PageSize TotalCount=TotalCount
//! NextToken=NextToken`, each field optional and defaulting to that name, as in aliyun's
//! `openapi/pager.go`).
//!
//! The style is chosen as aliyun chooses it: the `NextToken` expression (by default
//! `NextToken`) is looked up in each answer, and an answer that has a token pages by token.
//! aliyun's code then stops PageNumber paging for every API (its `NextToken` default makes the
//! token mode always on, and an answer without a token ends it); here an answer without a token
//! string, or with an empty one next to a `TotalCount`, pages by number instead. `NextToken=`
//! given explicitly forces tokens, and `PageNumber=`, `PageSize=` or `TotalCount=` given
//! explicitly force numbers.
//!
//! The result is aliyun's `GetResponseCollection`: only the merged list, under the last two
//! names of its path (`{"Instances":{"KVStoreInstance":[…]}}`). Paging stops at a repeated
//! token, at a page that comes back with another number than the one asked for or with the
//! items of the page before (a server that ignores the page parameter), at an empty page, and
//! after [`MAX_PAGES`]; such a page is never merged, so no item appears twice.

use serde_json::{Map, Value};

use crate::cols::fields;
use crate::failure::Failure;
use crate::query::search;

/// No answer is followed beyond this many pages.
pub const MAX_PAGES: u32 = 10_000;

/// A parsed `--pager`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pager {
    /// Where the list is, as a dotted path (`Backups.Backup`); `None`: found in the answer.
    pub path: Option<String>,
    pub page_number: String,
    pub page_size: String,
    pub total_count: String,
    pub next_token: String,
    /// `NextToken=` was given: page by token whatever the answer holds.
    tokens_forced: bool,
    /// `PageNumber=`, `PageSize=` or `TotalCount=` was given: page by number.
    numbers_forced: bool,
}

impl Pager {
    pub fn parse(text: &str) -> Result<Self, Failure> {
        let mut pager = Pager {
            path: None,
            page_number: "PageNumber".into(),
            page_size: "PageSize".into(),
            total_count: "TotalCount".into(),
            next_token: "NextToken".into(),
            tokens_forced: false,
            numbers_forced: false,
        };
        let keys = ["path", "PageNumber", "PageSize", "TotalCount", "NextToken"];
        for (k, v) in fields(text, &keys) {
            let v = v.trim().to_owned();
            match k.as_str() {
                "path" | "" => {
                    let path = v.trim_end_matches("[]").to_owned();
                    pager.path = (!path.is_empty()).then_some(path);
                }
                "PageNumber" => (pager.page_number, pager.numbers_forced) = (v, true),
                "PageSize" => (pager.page_size, pager.numbers_forced) = (v, true),
                "TotalCount" => (pager.total_count, pager.numbers_forced) = (v, true),
                "NextToken" => (pager.next_token, pager.tokens_forced) = (v, true),
                other => {
                    return Err(Failure::Usage(format!(
                        "--pager {other}= is not known: use path=, PageNumber=, PageSize=, \
                         TotalCount= or NextToken="
                    )))
                }
            }
        }
        if pager.tokens_forced && pager.numbers_forced {
            return Err(Failure::Usage(
                "--pager pages either by NextToken= or by PageNumber=/PageSize=/TotalCount=, \
                 not both"
                    .into(),
            ));
        }
        for (what, expr) in [
            ("PageNumber", &pager.page_number),
            ("PageSize", &pager.page_size),
            ("TotalCount", &pager.total_count),
            ("NextToken", &pager.next_token),
        ] {
            if expr.is_empty() {
                return Err(Failure::Usage(format!(
                    "--pager {what}= needs a field name"
                )));
            }
        }
        Ok(pager)
    }

    /// The token of `answer` when it pages by token.
    fn token_of(&self, answer: &Value) -> Result<Option<String>, Failure> {
        Ok(
            match search("--pager NextToken", &self.next_token, answer)? {
                Value::String(t) => Some(t),
                _ => None,
            },
        )
    }

    /// Calls `fetch` with the request parameters of each page (`(name, value)` to set) until the
    /// last, and returns the merged list as aliyun does.
    pub fn collect(
        &self,
        mut fetch: impl FnMut(Option<(&str, String)>) -> Result<Value, Failure>,
    ) -> Result<Value, Failure> {
        let first = fetch(None)?;
        let path = match &self.path {
            Some(p) => p.clone(),
            None => first_list_path(&first, "").ok_or_else(|| {
                Failure::Usage(
                    "--pager found no list in the answer; give path=LIST, such as \
                     path=Backups.Backup"
                        .into(),
                )
            })?,
        };
        let mut items = list_at(&first, &path);
        let token = self.token_of(&first)?;
        let total = number(&first, "TotalCount", &self.total_count)?;
        let by_token = !self.numbers_forced
            && (self.tokens_forced
                || matches!(&token, Some(t) if !t.is_empty() || total.is_none()));
        if by_token {
            let mut seen = std::collections::HashSet::new();
            let mut token = token.unwrap_or_default();
            let mut previous = items.clone();
            for _ in 1..MAX_PAGES {
                if token.is_empty() || !seen.insert(token.clone()) {
                    break;
                }
                let answer = fetch(Some((last_name(&self.next_token), token.clone())))?;
                let more = list_at(&answer, &path);
                if more.is_empty() || more == previous {
                    break;
                }
                items.extend(more.iter().cloned());
                previous = more;
                token = self.token_of(&answer)?.unwrap_or_default();
            }
        } else {
            let mut page = number(&first, "PageNumber", &self.page_number)?.unwrap_or(1);
            let size = number(&first, "PageSize", &self.page_size)?.unwrap_or(0);
            let total = total.unwrap_or(0);
            let pages = if size == 0 { 0 } else { total.div_ceil(size) };
            let mut previous = items.clone();
            while page < pages && page < u64::from(MAX_PAGES) {
                page += 1;
                let answer = fetch(Some((last_name(&self.page_number), page.to_string())))?;
                let answered = number(&answer, "PageNumber", &self.page_number)?;
                let more = list_at(&answer, &path);
                if answered.is_some_and(|n| n != page) || more.is_empty() || more == previous {
                    break;
                }
                items.extend(more.iter().cloned());
                previous = more;
            }
        }
        Ok(collection(&path, items))
    }
}

/// aliyun's `GetResponseCollection`: the list under the last two names of its path.
fn collection(path: &str, items: Vec<Value>) -> Value {
    let names: Vec<&str> = path.split('.').collect();
    let mut inner = Map::new();
    inner.insert(
        names.last().copied().unwrap_or_default().to_owned(),
        Value::Array(items),
    );
    match names.len() {
        0 | 1 => Value::Object(inner),
        n => {
            let mut root = Map::new();
            root.insert(names[n - 2].to_owned(), Value::Object(inner));
            Value::Object(root)
        }
    }
}

/// The request parameter of a response field: `PageInfo.PageNumber` pages with `PageNumber`.
fn last_name(field: &str) -> &str {
    field.rsplit('.').next().unwrap_or(field)
}

/// A count from the answer, whether the API sent it as a number or as text (XML).
fn number(answer: &Value, what: &str, expr: &str) -> Result<Option<u64>, Failure> {
    Ok(match search(&format!("--pager {what}"), expr, answer)? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    })
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

/// The items of the list at `path` in `answer` (a lone object, as an XML answer gives a list of
/// one, counts as one item).
fn list_at(answer: &Value, path: &str) -> Vec<Value> {
    let mut at = answer;
    for key in path.split('.') {
        match at.get(key) {
            Some(next) => at = next,
            None => return Vec::new(),
        }
    }
    match at {
        Value::Array(items) => items.clone(),
        Value::Null => Vec::new(),
        Value::String(s) if s.is_empty() => Vec::new(),
        one => vec![one.clone()],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pages_of(pager: &str, pages: &[Value]) -> (Vec<Option<String>>, Value) {
        let mut asked = Vec::new();
        let all = Pager::parse(pager)
            .unwrap()
            .collect(|p| {
                asked.push(p.map(|(k, v)| format!("{k}={v}")));
                Ok(pages[(asked.len() - 1).min(pages.len() - 1)].clone())
            })
            .unwrap();
        (asked, all)
    }

    #[test]
    fn pages_until_the_total_and_return_the_collection() {
        let pages = [
            json!({"RequestId": "A", "TotalCount": 5, "PageSize": 2, "PageNumber": 1, "Backups": {"Backup": [{"Id": 1}, {"Id": 2}]}}),
            json!({"RequestId": "B", "TotalCount": 5, "PageSize": 2, "PageNumber": 2, "Backups": {"Backup": [{"Id": 3}, {"Id": 4}]}}),
            json!({"RequestId": "C", "TotalCount": "5", "PageSize": "2", "PageNumber": "3", "Backups": {"Backup": {"Id": 5}}}),
        ];
        let (asked, all) = pages_of("path=Backups.Backup[]", &pages);
        assert_eq!(
            asked,
            [
                None,
                Some("PageNumber=2".into()),
                Some("PageNumber=3".into())
            ]
        );
        assert_eq!(
            all,
            json!({"Backups": {"Backup": [{"Id": 1}, {"Id": 2}, {"Id": 3}, {"Id": 4}, {"Id": 5}]}})
        );
        // A bare --pager finds the list; a one-level path gives a one-level collection.
        assert_eq!(
            pages_of("", &pages).1["Backups"]["Backup"][4],
            json!({"Id": 5})
        );
        let (_, all) = pages_of(
            "path=Items",
            &[json!({"TotalCount": 1, "PageSize": 1, "Items": [1]})],
        );
        assert_eq!(all, json!({"Items": [1]}));
        let (_, all) = pages_of("path=A.B.C", &[json!({"A": {"B": {"C": [1]}}})]);
        assert_eq!(all, json!({"B": {"C": [1]}}));
    }

    #[test]
    fn a_bare_pager_follows_next_tokens() {
        let pages = [
            json!({"NextToken": "t2", "MaxResults": 1, "Items": {"Item": ["a"]}}),
            json!({"NextToken": "t3", "MaxResults": 1, "Items": {"Item": ["b"]}}),
            json!({"NextToken": "", "MaxResults": 1, "Items": {"Item": ["c"]}}),
        ];
        let (asked, all) = pages_of("", &pages);
        assert_eq!(
            asked,
            [
                None,
                Some("NextToken=t2".into()),
                Some("NextToken=t3".into())
            ]
        );
        assert_eq!(all, json!({"Items": {"Item": ["a", "b", "c"]}}));
        // An empty token next to a total: page numbers.
        let pages = [
            json!({"NextToken": "", "TotalCount": 2, "PageSize": 1, "PageNumber": 1, "L": {"I": [1]}}),
            json!({"NextToken": "", "TotalCount": 2, "PageSize": 1, "PageNumber": 2, "L": {"I": [2]}}),
        ];
        let (asked, all) = pages_of("", &pages);
        assert_eq!(asked, [None, Some("PageNumber=2".into())]);
        assert_eq!(all, json!({"L": {"I": [1, 2]}}));
    }

    #[test]
    fn duplicate_pages_are_never_merged() {
        // A server that ignores PageNumber and answers page 1 again and again.
        let same = json!({"TotalCount": 6, "PageSize": 2, "PageNumber": 1, "L": {"I": [1, 2]}});
        let (asked, all) = pages_of("", std::slice::from_ref(&same));
        assert_eq!(asked.len(), 2);
        assert_eq!(all, json!({"L": {"I": [1, 2]}}));
        // The same without a PageNumber in the answer: caught by its items.
        let same = json!({"TotalCount": 6, "PageSize": 2, "L": {"I": [1, 2]}});
        let (asked, all) = pages_of("", std::slice::from_ref(&same));
        assert_eq!(asked.len(), 2);
        assert_eq!(all, json!({"L": {"I": [1, 2]}}));
        // A token that comes back is not followed twice.
        let looping = json!({"NextToken": "t", "L": {"I": [1]}});
        let (asked, all) = pages_of("", std::slice::from_ref(&looping));
        assert_eq!(asked, [None, Some("NextToken=t".into())]);
        assert_eq!(all, json!({"L": {"I": [1]}}));
        // A lying total stops at an empty page.
        let pages = [
            json!({"TotalCount": 1000, "PageSize": 1, "PageNumber": 1, "Items": [1]}),
            json!({"TotalCount": 1000, "PageSize": 1, "PageNumber": 2, "Items": []}),
        ];
        let (asked, all) = pages_of("", &pages);
        assert_eq!((asked.len(), all), (2, json!({"Items": [1]})));
        assert_eq!(Pager::parse("Bogus=1").unwrap_err().exit_code(), 2);
        assert_eq!(
            Pager::parse("NextToken=T,PageSize=S")
                .unwrap_err()
                .exit_code(),
            2
        );
    }
}
