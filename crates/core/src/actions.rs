//! The R-kvstore (API version 2015-01-01) action names, for checking a name before it is sent.
//!
//! The list is `actions.txt` beside this file, one name a line, taken from the official Python
//! SDK `alibabacloud-r-kvstore20150101` 7.0.0: the `action` of every `*_with_options` method of
//! its `client.py`. New actions appear before any list is updated, so callers warn about an
//! unknown name rather than refuse it.
//!
//! ```
//! use rkvstore_core::actions;
//! assert!(actions::is_known("DescribeBackups"));
//! assert_eq!(actions::suggest("DescribeBackup"), Some("DescribeBackups"));
//! assert_eq!(
//!     actions::unknown_action("DescribeBakups").as_deref(),
//!     Some("unknown R-kvstore action DescribeBakups; did you mean DescribeBackups?")
//! );
//! assert_eq!(actions::unknown_action("CreateBackup"), None);
//! ```

const LIST: &str = include_str!("actions.txt");

/// Every known action name, in alphabetical order.
pub fn all() -> impl Iterator<Item = &'static str> {
    LIST.lines().map(str::trim).filter(|l| !l.is_empty())
}

/// `true` when `action` is a known R-kvstore action (the case must match, as the API's does).
pub fn is_known(action: &str) -> bool {
    all().any(|a| a == action)
}

/// The known action closest to `action`: one that differs only in case, else the closest by
/// edit distance when it is close enough to be a typo (at most 3 edits, and fewer than a third
/// of the length). `None` for a known action.
pub fn suggest(action: &str) -> Option<&'static str> {
    if is_known(action) {
        return None;
    }
    if let Some(same) = all().find(|a| a.eq_ignore_ascii_case(action)) {
        return Some(same);
    }
    let limit = 3.min(action.chars().count() / 3);
    let mut best: Option<(usize, &'static str)> = None;
    for candidate in all() {
        let d = crate::regions::distance(action, candidate);
        if d <= limit && best.is_none_or(|(b, _)| d < b) {
            best = Some((d, candidate));
        }
    }
    best.map(|(_, a)| a)
}

/// `"unknown R-kvstore action X; did you mean Y?"` (or without the suggestion when nothing is
/// close) for an unknown action; `None` for a known one.
pub fn unknown_action(action: &str) -> Option<String> {
    if is_known(action) {
        return None;
    }
    Some(match suggest(action) {
        Some(s) => format!("unknown R-kvstore action {action}; did you mean {s}?"),
        None => format!("unknown R-kvstore action {action}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_is_sorted_unique_and_holds_what_the_crate_models() {
        let list: Vec<&str> = all().collect();
        assert_eq!(list.len(), 169);
        assert!(list.windows(2).all(|w| w[0] < w[1]), "sorted and unique");
        for typed in [
            "CreateBackup",
            "DescribeBackupTasks",
            "DescribeBackups",
            "DescribeBackupPolicy",
            "ModifyBackupPolicy",
            "RestoreInstance",
            "DescribeInstanceAttribute",
            "DescribeInstances",
            "DescribeRegions",
        ] {
            assert!(is_known(typed), "{typed}");
        }
    }

    #[test]
    fn suggestions_for_case_and_typos_only() {
        assert_eq!(suggest("describebackups"), Some("DescribeBackups"));
        assert_eq!(suggest("DescribeInstance"), Some("DescribeInstances"));
        assert_eq!(suggest("Nothing"), None);
        assert_eq!(
            unknown_action("FrobnicateEverything").as_deref(),
            Some("unknown R-kvstore action FrobnicateEverything")
        );
    }
}
