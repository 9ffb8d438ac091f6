//! Walking every page of `DescribeBackups`, as a state machine: the caller sends each
//! operation the pager gives and hands back each answer.
//!
//! The pager stops when the sets seen reach `TotalCount`, on an empty page (so a `TotalCount`
//! that is too high cannot loop forever), on a short page when `TotalCount` is absent, and in
//! any case after [`MAX_PAGES`] pages.
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

/// The most pages a pager asks for: 300 sets a page makes this three million sets, far past
/// any instance, so reaching it means the service is repeating itself.
pub const MAX_PAGES: u32 = 10_000;

/// The page size asked for when the operation sets none: the largest, for the fewest calls.
pub const DEFAULT_PAGE_SIZE: u32 = 300;

/// Walks the pages of one DescribeBackups query.
#[derive(Clone, Debug)]
pub struct BackupPager {
    op: DescribeBackups,
    next_page: Option<u32>,
    seen: u64,
    pages: u32,
}

impl BackupPager {
    /// Pages through `op`, from its `PageNumber` (default 1), `PageSize` defaulting to
    /// [`DEFAULT_PAGE_SIZE`].
    pub fn new(mut op: DescribeBackups) -> Self {
        let first = op.page_number.unwrap_or(1).max(1);
        op.page_size = Some(op.page_size.unwrap_or(DEFAULT_PAGE_SIZE));
        BackupPager {
            op,
            next_page: Some(first),
            seen: 0,
            pages: 0,
        }
    }

    /// The operation for the next page; `None` once every page has been read.
    pub fn next_operation(&self) -> Option<DescribeBackups> {
        let page = self.next_page?;
        let mut op = self.op.clone();
        op.page_number = Some(page);
        Some(op)
    }

    /// Takes the answer to the operation [`BackupPager::next_operation`] gave.
    pub fn take(&mut self, answer: &DescribeBackupsResponse) {
        let Some(page) = self.next_page else {
            return;
        };
        self.pages = self.pages.saturating_add(1);
        let got = answer.backups.len() as u64;
        self.seen = self.seen.saturating_add(got);
        let size = u64::from(self.op.page_size.unwrap_or(DEFAULT_PAGE_SIZE));
        let more = match answer.total_count {
            _ if got == 0 => false,
            Some(total) => self.seen < total,
            None => got >= size,
        };
        self.next_page = (more && self.pages < MAX_PAGES)
            .then(|| page.checked_add(1))
            .flatten();
    }

    /// `true` once every page has been read.
    pub fn is_done(&self) -> bool {
        self.next_page.is_none()
    }

    /// Pages read so far.
    pub fn pages(&self) -> u32 {
        self.pages
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

    #[test]
    fn a_total_that_never_fills_is_capped() {
        let mut pager = BackupPager::new(op());
        let mut n = 0;
        while pager.next_operation().is_some() {
            pager.take(&page(1, Some(u64::MAX)));
            n += 1;
        }
        assert_eq!(n, MAX_PAGES);
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
