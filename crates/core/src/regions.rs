//! The regions R-kvstore is known to serve, and a suggestion for a region ID that is not one
//! of them.
//!
//! The list is advice, not a gate: new regions open every year, so a caller should send a
//! request for an unknown region anyway and only mention the list when something fails. The
//! regions come from two places: the ones the official SDK (`alibabacloud-r-kvstore20150101`)
//! maps to the central endpoint ([`crate::CENTRAL_REGIONS`]), and the public regions Alibaba
//! Cloud documents for ApsaraDB for Redis ([`PUBLIC_REGIONS`]), which the SDK resolves by rule
//! to `r-kvstore.<region>.aliyuncs.com`.
//!
//! ```
//! use rkvstore_core::regions;
//! assert!(regions::is_known("cn-hangzhou"));
//! assert_eq!(regions::suggest("cn-hangzu"), Some("cn-hangzhou"));
//! assert_eq!(
//!     regions::unknown_region("cn-hangzu").as_deref(),
//!     Some("unknown region cn-hangzu; did you mean cn-hangzhou?")
//! );
//! assert_eq!(regions::unknown_region("cn-shanghai"), None);
//! ```

use crate::endpoint::CENTRAL_REGIONS;

/// The public regions of ApsaraDB for Redis, as Alibaba Cloud documents them. Suggestions are
/// drawn only from this list, because the SDK's central-endpoint regions include internal and
/// test regions that nobody means to type.
pub const PUBLIC_REGIONS: &[&str] = &[
    // Chinese mainland.
    "cn-qingdao",
    "cn-beijing",
    "cn-zhangjiakou",
    "cn-huhehaote",
    "cn-wulanchabu",
    "cn-hangzhou",
    "cn-shanghai",
    "cn-nanjing",
    "cn-fuzhou",
    "cn-shenzhen",
    "cn-heyuan",
    "cn-guangzhou",
    "cn-chengdu",
    "cn-wuhan-lr",
    // Hong Kong (China) and elsewhere.
    "cn-hongkong",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ap-south-1",
    "us-east-1",
    "us-west-1",
    "eu-west-1",
    "eu-central-1",
    "me-east-1",
    "me-central-1",
    // Finance and government clouds.
    "cn-shanghai-finance-1",
    "cn-shenzhen-finance-1",
    "cn-beijing-finance-1",
    "cn-north-2-gov-1",
];

/// `true` when `region` is one R-kvstore is known to serve.
pub fn is_known(region: &str) -> bool {
    PUBLIC_REGIONS.contains(&region) || CENTRAL_REGIONS.contains(&region)
}

/// The public region closest to `region` by edit distance, when it is close enough to be a
/// typo of it (at most 3 edits, and fewer than half the length); `None` for a known region.
pub fn suggest(region: &str) -> Option<&'static str> {
    if is_known(region) {
        return None;
    }
    let limit = 3.min(region.chars().count() / 2);
    let mut best: Option<(usize, &'static str)> = None;
    for candidate in PUBLIC_REGIONS {
        let d = distance(region, candidate);
        // Strictly less, so that the first of equally close regions wins: the list starts with
        // the busiest ones.
        if d <= limit && best.is_none_or(|(b, _)| d < b) {
            best = Some((d, candidate));
        }
    }
    best.map(|(_, r)| r)
}

/// `"unknown region X; did you mean Y?"` (or just `"unknown region X"` when nothing is close)
/// for a region that is not known; `None` for a known one.
pub fn unknown_region(region: &str) -> Option<String> {
    if is_known(region) {
        return None;
    }
    Some(match suggest(region) {
        Some(s) => format!("unknown region {region}; did you mean {s}?"),
        None => format!("unknown region {region}"),
    })
}

/// Levenshtein distance over characters: insertions, deletions and substitutions.
pub(crate) fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    // One row of the table at a time: `row[j]` is the distance between the part of `a` seen so
    // far and the first `j` characters of `b`.
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            let substitution = diagonal + usize::from(ca != *cb);
            row[j + 1] = substitution.min(above + 1).min(row[j] + 1);
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance() {
        assert_eq!(distance("", ""), 0);
        assert_eq!(distance("abc", ""), 3);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(distance("cn-hangzu", "cn-hangzhou"), 2);
        assert_eq!(distance("cn-beijing", "cn-beijing"), 0);
    }

    #[test]
    fn known_regions() {
        for r in [
            "cn-hangzhou",
            "cn-shanghai",
            "ap-southeast-1",
            "us-west-1",
            "cn-wuhan",
        ] {
            assert!(is_known(r), "{r}");
            assert_eq!(suggest(r), None, "{r}");
            assert_eq!(unknown_region(r), None, "{r}");
        }
        // Every listed region is a valid region ID, and no public one is listed twice.
        for r in PUBLIC_REGIONS.iter().chain(CENTRAL_REGIONS) {
            assert!(crate::validate::region_id(r).is_ok(), "{r}");
        }
        let mut public = PUBLIC_REGIONS.to_vec();
        public.sort_unstable();
        public.dedup();
        assert_eq!(
            public.len(),
            PUBLIC_REGIONS.len(),
            "a region is listed twice"
        );
    }

    #[test]
    fn typos_get_a_suggestion() {
        assert_eq!(suggest("cn-hangzu"), Some("cn-hangzhou"));
        assert_eq!(suggest("cn-shangai"), Some("cn-shanghai"));
        assert_eq!(suggest("ap-southeast-11"), Some("ap-southeast-1"));
        assert_eq!(suggest("us-east1"), Some("us-east-1"));
        assert_eq!(
            unknown_region("cn-hangzu").as_deref(),
            Some("unknown region cn-hangzu; did you mean cn-hangzhou?")
        );
    }

    #[test]
    fn far_or_short_names_get_none() {
        assert_eq!(suggest("xx"), None);
        assert_eq!(suggest("mars-north-1"), None);
        assert_eq!(suggest(""), None);
        assert_eq!(
            unknown_region("mars-north-1").as_deref(),
            Some("unknown region mars-north-1")
        );
    }
}
