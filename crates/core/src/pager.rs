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
//! The stops are written once, in a private walking core that [`crate::InstancePager`] shares
//! (with instances told apart by `InstanceId`, bounded by [`MAX_INSTANCES`], and its own
//! [`InstancePagerWarning`]), so that a fix to one listing's stops is a fix to both.
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

use crate::{DescribeBackups, DescribeBackupsResponse};

mod walk;
mod warning;

pub(crate) use walk::Walk;
pub use warning::{InstancePagerWarning, PagerWarning};

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

/// The most distinct instances one [`crate::InstancePager`] walk gathers:
/// [`crate::MAX_INSTANCE_PAGES`] full pages, far past any region of any account, so reaching
/// it means the service is lying; it also bounds the memory the walk's record of IDs takes.
pub const MAX_INSTANCES: u64 =
    crate::MAX_INSTANCE_PAGES as u64 * crate::MAX_INSTANCE_PAGE_SIZE as u64;

/// The page size asked for when the operation sets none: the largest, for the fewest calls.
pub const DEFAULT_PAGE_SIZE: u32 = 300;

/// Walks the pages of one DescribeBackups query.
#[derive(Clone, Debug)]
pub struct BackupPager {
    op: DescribeBackups,
    /// Sets are told apart by `BackupId`.
    walk: Walk<u64, PagerWarning>,
}

impl BackupPager {
    /// Pages through `op`, from its `PageNumber` (default 1), `PageSize` defaulting to
    /// [`DEFAULT_PAGE_SIZE`].
    pub fn new(mut op: DescribeBackups) -> Self {
        let first = op.page_number.unwrap_or(1);
        let size = op.page_size.unwrap_or(DEFAULT_PAGE_SIZE).max(1);
        op.page_size = Some(size);
        BackupPager {
            op,
            walk: Walk::new(first, size, MAX_SETS, MAX_PAGES),
        }
    }

    /// The operation for the next page; `None` once every page has been read.
    pub fn next_operation(&self) -> Option<DescribeBackups> {
        let page = self.walk.next_page()?;
        let mut op = self.op.clone();
        op.page_number = Some(page);
        Some(op)
    }

    /// Takes the answer to the operation [`BackupPager::next_operation`] gave, and returns how
    /// many of its sets were not seen before.
    pub fn take(&mut self, answer: &DescribeBackupsResponse) -> usize {
        let ids = answer.backups.iter().map(|b| b.backup_id);
        self.walk.take(ids, answer.total_count)
    }

    /// [`BackupPager::take`], returning the answer without the sets seen before (on this page
    /// or an earlier one), ready to merge.
    pub fn take_new(&mut self, mut answer: DescribeBackupsResponse) -> DescribeBackupsResponse {
        self.walk
            .take_new(&mut answer.backups, |b| b.backup_id, answer.total_count);
        answer
    }

    /// `true` once every page has been read.
    pub fn is_done(&self) -> bool {
        self.walk.next_page().is_none()
    }

    /// Pages read so far.
    pub fn pages(&self) -> u32 {
        self.walk.pages()
    }

    /// Distinct sets seen so far.
    pub fn sets(&self) -> u64 {
        self.walk.seen()
    }

    /// Why the walk stopped short of `TotalCount`, if it did.
    pub fn warning(&self) -> Option<&PagerWarning> {
        self.walk.warning()
    }
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
