//! Walking every page of `DescribeBackups`, as a state machine: the caller sends each
//! operation the pager gives and hands back each answer.
//!
//! The pager stops when the distinct sets seen reach `TotalCount`, on an empty page, on a short
//! page when `TotalCount` is absent. A service that lies cannot make it loop or grow without
//! bound: sets are told apart by `BackupId` and a repeated one is dropped
//! ([`BackupPager::take_new`]), so the merged answer never holds a set twice; a page that brings
//! no set not seen before (the same page again, or a service that ignores `PageNumber`) ends the
//! walk; and no more pages are asked for than [`MAX_SETS`] (or the first page's `TotalCount`, if
//! smaller) needs, plus a little slack for sets that move between pages while they are read.
//!
//! Those three stops end the walk with a [`PagerWarning`] rather than an error: the sets
//! gathered are real and distinct, a listing is read-only, and the caller (the CLI prints the
//! warning on stderr) can still show and use them; an error would hide them.
//!
//! ```
//! use rkvstore_core::pager::BackupPager;
//! use rkvstore_core::{Backup, DescribeBackups, DescribeBackupsResponse};
//!
//! let op = DescribeBackups::new("r-demo", "2026-11-22T00:00Z", "2026-11-29T00:00Z").page_size(30);
//! let mut pager = BackupPager::new(op);
//! let mut seen = Vec::new();
//! while let Some(page_op) = pager.next_operation() {
//!     // Pretend the service holds 70 sets: pages of 30, 30 and 10.
//!     let page = page_op.page_number.unwrap_or(1);
//!     let first = u64::from(page - 1) * 30;
//!     let ids: Vec<Backup> = (first..70.min(first + 30)).map(Backup::new).collect();
//!     let mut answer = DescribeBackupsResponse::new(format!("R{page}"), ids);
//!     answer.total_count = Some(70);
//!     seen.extend(answer.backups.iter().map(|b| b.backup_id));
//!     pager.take(&answer);
//! }
//! assert_eq!(seen.len(), 70);
//! assert_eq!(pager.pages(), 3);
//! ```

use std::collections::HashSet;
use std::fmt;

use crate::{DescribeBackups, DescribeBackupsResponse};

/// The most distinct sets one walk gathers: far past any instance (a set a day per shard of a
/// 256-shard cluster for the 730 days retention allows is under 190,000; real instances hold
/// a few hundred), so reaching it means the service is lying; it also bounds the memory a walk
/// takes.
pub const MAX_SETS: u64 = 200_000;

/// The most pages a pager asks for, whatever the page size (30 a page, [`MAX_SETS`] takes
/// 6,667 pages): a bound that holds even before the first answer says anything.
pub const MAX_PAGES: u32 = 10_000;

/// Pages asked for beyond what `TotalCount` needs, for sets that move between pages as new ones
/// appear during the walk.
pub const SLACK_PAGES: u32 = 3;

/// The page size asked for when the operation sets none: the largest, for the fewest calls.
pub const DEFAULT_PAGE_SIZE: u32 = 300;

/// Why a walk stopped before `TotalCount` was reached.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PagerWarning {
    /// Page `page` held only sets already seen: the service repeats pages (or ignores
    /// `PageNumber`).
    Repeated {
        /// The page number asked for.
        page: u32,
        /// Distinct sets gathered.
        sets: u64,
        /// The `TotalCount` the service claimed.
        total: Option<u64>,
    },
    /// The walk reached its page bound with `TotalCount` still unreached.
    Capped {
        /// Pages read.
        pages: u32,
        /// Distinct sets gathered.
        sets: u64,
        /// The `TotalCount` the service claimed.
        total: Option<u64>,
    },
}

impl fmt::Display for PagerWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let claimed = |f: &mut fmt::Formatter<'_>, total: &Option<u64>| match total {
            Some(t) => write!(f, " although TotalCount says {t}"),
            None => Ok(()),
        };
        match self {
            PagerWarning::Repeated { page, sets, total } => {
                write!(
                    f,
                    "page {page} of DescribeBackups repeated sets already listed; stopped at \
                     {sets} distinct backup sets"
                )?;
                claimed(f, total)?;
                f.write_str(" (the service repeats pages or ignores PageNumber)")
            }
            PagerWarning::Capped { pages, sets, total } => {
                write!(
                    f,
                    "stopped after {pages} pages of DescribeBackups at {sets} distinct backup sets"
                )?;
                claimed(f, total)?;
                write!(f, " (no instance holds more than {MAX_SETS})")
            }
        }
    }
}

/// Walks the pages of one DescribeBackups query.
#[derive(Clone, Debug)]
pub struct BackupPager {
    op: DescribeBackups,
    next_page: Option<u32>,
    /// The `BackupId` of every set seen: at most [`MAX_SETS`] of them.
    ids: HashSet<u64>,
    pages: u32,
    /// The most pages this walk asks for, lowered once the first `TotalCount` is known.
    max_pages: u32,
    total: Option<u64>,
    warning: Option<PagerWarning>,
}

impl BackupPager {
    /// Pages through `op`, from its `PageNumber` (default 1), `PageSize` defaulting to
    /// [`DEFAULT_PAGE_SIZE`].
    pub fn new(mut op: DescribeBackups) -> Self {
        let first = op.page_number.unwrap_or(1).max(1);
        let size = op.page_size.unwrap_or(DEFAULT_PAGE_SIZE).max(1);
        op.page_size = Some(size);
        BackupPager {
            op,
            next_page: Some(first),
            ids: HashSet::new(),
            pages: 0,
            max_pages: pages_for(MAX_SETS, size).min(MAX_PAGES),
            total: None,
            warning: None,
        }
    }

    /// The operation for the next page; `None` once every page has been read.
    pub fn next_operation(&self) -> Option<DescribeBackups> {
        let page = self.next_page?;
        let mut op = self.op.clone();
        op.page_number = Some(page);
        Some(op)
    }

    /// Takes the answer to the operation [`BackupPager::next_operation`] gave, and returns how
    /// many of its sets were not seen before.
    pub fn take(&mut self, answer: &DescribeBackupsResponse) -> usize {
        let mut fresh = 0;
        let got = answer.backups.len();
        for b in &answer.backups {
            if self.remember(b.backup_id) {
                fresh += 1;
            }
        }
        self.advance(got, fresh, answer.total_count);
        fresh
    }

    /// [`BackupPager::take`], returning the answer without the sets seen before (on this page
    /// or an earlier one), ready to merge.
    pub fn take_new(&mut self, mut answer: DescribeBackupsResponse) -> DescribeBackupsResponse {
        let got = answer.backups.len();
        answer.backups.retain(|b| self.remember(b.backup_id));
        self.advance(got, answer.backups.len(), answer.total_count);
        answer
    }

    /// Records `id`; `false` when it was seen before, or when the bound is reached.
    fn remember(&mut self, id: u64) -> bool {
        if self.ids.len() as u64 >= MAX_SETS || self.next_page.is_none() {
            return false;
        }
        self.ids.insert(id)
    }

    fn advance(&mut self, got: usize, fresh: usize, total: Option<u64>) {
        let Some(page) = self.next_page else {
            return;
        };
        self.pages = self.pages.saturating_add(1);
        let size = self.op.page_size.unwrap_or(DEFAULT_PAGE_SIZE).max(1);
        if self.total.is_none() {
            if let Some(t) = total {
                // What the first answer claims bounds the walk, itself bounded by MAX_SETS.
                self.total = Some(t);
                let bound = pages_for(t.min(MAX_SETS), size).saturating_add(SLACK_PAGES);
                self.max_pages = self.max_pages.min(bound);
            }
        }
        let sets = self.ids.len() as u64;
        let claimed = total.or(self.total);
        let more = match claimed {
            _ if got == 0 => false,
            Some(t) => sets < t,
            None => got as u64 >= u64::from(size),
        };
        self.next_page = None;
        if !more {
            return;
        }
        if fresh == 0 {
            self.warning = Some(PagerWarning::Repeated {
                page,
                sets,
                total: claimed,
            });
        } else if self.pages >= self.max_pages || sets >= MAX_SETS {
            self.warning = Some(PagerWarning::Capped {
                pages: self.pages,
                sets,
                total: claimed,
            });
        } else {
            self.next_page = page.checked_add(1);
        }
    }

    /// `true` once every page has been read.
    pub fn is_done(&self) -> bool {
        self.next_page.is_none()
    }

    /// Pages read so far.
    pub fn pages(&self) -> u32 {
        self.pages
    }

    /// Distinct sets seen so far.
    pub fn sets(&self) -> u64 {
        self.ids.len() as u64
    }

    /// Why the walk stopped short of `TotalCount`, if it did.
    pub fn warning(&self) -> Option<&PagerWarning> {
        self.warning.as_ref()
    }
}

/// Pages of `size` that hold `sets`.
fn pages_for(sets: u64, size: u32) -> u32 {
    u32::try_from(sets.div_ceil(u64::from(size.max(1)))).unwrap_or(u32::MAX)
}

/// Merges pages into one answer: every set in order, the totals and request ID of the last
/// page, and `PageNumber`/`PageSize` cleared since they describe no single page any more.
pub fn merge(pages: impl IntoIterator<Item = DescribeBackupsResponse>) -> DescribeBackupsResponse {
    let mut out = DescribeBackupsResponse::default();
    for page in pages {
        out.request_id = page.request_id;
        out.backups.extend(page.backups);
        out.total_count = page.total_count.or(out.total_count);
        out.full_storage_size = page.full_storage_size.or(out.full_storage_size);
        out.log_storage_size = page.log_storage_size.or(out.log_storage_size);
        out.free_size = page.free_size.or(out.free_size);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Backup;

    fn page(n: usize, total: Option<u64>) -> DescribeBackupsResponse {
        let mut r = DescribeBackupsResponse::new("R", (0..n as u64).map(Backup::new).collect());
        r.total_count = total;
        r
    }

    fn op() -> DescribeBackups {
        DescribeBackups::new("r-1", "2026-11-22T00:00Z", "2026-11-29T00:00Z").page_size(30)
    }

    #[test]
    fn a_lying_total_stops_at_the_empty_page() {
        let mut pager = BackupPager::new(op());
        pager.take(&page(30, Some(1_000_000)));
        assert_eq!(pager.next_operation().unwrap().page_number, Some(2));
        pager.take(&page(0, Some(1_000_000)));
        assert!(pager.is_done());
        assert_eq!(pager.warning(), None);
        assert_eq!(pager.next_operation(), None);
    }

    #[test]
    fn without_a_total_a_short_page_is_the_last() {
        let mut pager = BackupPager::new(op());
        pager.take(&page(30, None));
        assert!(!pager.is_done());
        pager.take(&page(29, None));
        assert!(pager.is_done());
    }

    /// `n` sets numbered from `first`.
    fn sets(first: u64, n: u64, total: Option<u64>) -> DescribeBackupsResponse {
        let mut r =
            DescribeBackupsResponse::new("R", (first..first + n).map(Backup::new).collect());
        r.total_count = total;
        r
    }

    #[test]
    fn the_same_page_again_stops_with_a_warning_and_no_duplicates() {
        let mut pager = BackupPager::new(op().page_size(300));
        let mut merged = Vec::new();
        while pager.next_operation().is_some() {
            merged.push(pager.take_new(sets(0, 300, Some(1_000_000_000_000))));
        }
        let merged = merge(merged);
        assert_eq!(merged.backups.len(), 300);
        assert_eq!(pager.pages(), 2);
        assert!(matches!(
            pager.warning(),
            Some(PagerWarning::Repeated {
                page: 2,
                sets: 300,
                ..
            })
        ));
        assert!(pager.warning().unwrap().to_string().contains("repeat"));
    }

    #[test]
    fn a_total_that_never_fills_is_capped_by_what_it_claims() {
        // One new set a page, TotalCount 90: at most 3 pages of 30, plus the slack.
        let mut pager = BackupPager::new(op());
        let mut n = 0;
        while pager.next_operation().is_some() {
            pager.take(&sets(n, 1, Some(90)));
            n += 1;
        }
        assert_eq!(n, 3 + u64::from(SLACK_PAGES));
        assert!(matches!(pager.warning(), Some(PagerWarning::Capped { .. })));
    }

    #[test]
    fn a_huge_total_is_capped_by_the_plausible_bound() {
        let mut pager = BackupPager::new(op());
        let mut n = 0u64;
        while pager.next_operation().is_some() {
            pager.take(&sets(n * 30, 30, Some(u64::MAX)));
            n += 1;
        }
        assert_eq!(pager.sets(), MAX_SETS);
        assert!(n <= u64::from(MAX_PAGES));
        assert!(matches!(pager.warning(), Some(PagerWarning::Capped { .. })));
    }

    #[test]
    fn overlapping_pages_keep_each_set_once_and_go_on() {
        let mut pager = BackupPager::new(op());
        let first = pager.take_new(sets(0, 30, Some(50)));
        let second = pager.take_new(sets(20, 30, Some(50)));
        assert_eq!(first.backups.len() + second.backups.len(), 50);
        assert!(pager.is_done());
        assert_eq!(pager.warning(), None);
    }

    #[test]
    fn the_default_page_size_is_the_largest() {
        let pager = BackupPager::new(DescribeBackups::new(
            "r-1",
            "2026-11-22T00:00Z",
            "2026-11-29T00:00Z",
        ));
        assert_eq!(pager.next_operation().unwrap().page_size, Some(300));
        let merged = merge([page(2, Some(3)), page(1, Some(3))]);
        assert_eq!(merged.backups.len(), 3);
        assert_eq!(merged.total_count, Some(3));
        assert_eq!(merged.page_number, None);
    }
}
