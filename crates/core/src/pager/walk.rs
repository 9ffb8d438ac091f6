//! The walking core every pager shares: which page comes next, when the walk ends, and why it
//! ended short. A pager only says how its answers name their items and what its warning is
//! called; the stops live here once, so that no listing can lose one of them.
//!
//! The walk stops when the distinct items seen reach `TotalCount`, on an empty page, and on a
//! short page when `TotalCount` is absent. A service that lies cannot make it loop or grow
//! without bound: items are told apart by their ID and a repeated one is dropped; a page that
//! brings no item not seen before (the same page again, or a service that ignores
//! `PageNumber`) ends the walk with [`Stop::Repeated`]; and no more pages are asked for than
//! the pager's bound on items (or the first page's `TotalCount`, if smaller) needs, plus
//! [`SLACK_PAGES`], after which the walk ends with [`Stop::Capped`].

use std::collections::HashSet;
use std::fmt;
use std::hash::Hash;

use super::SLACK_PAGES;

/// Why a walk ended before `TotalCount` was reached, whatever it lists. Each pager turns it
/// into its own public warning, whose fields name what it lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stop {
    /// Page `page` held only items already seen.
    Repeated {
        page: u32,
        seen: u64,
        total: Option<u64>,
    },
    /// The walk read `pages` pages, its bound, with `TotalCount` still unreached.
    Capped {
        pages: u32,
        seen: u64,
        total: Option<u64>,
    },
}

/// The words a warning uses for one listing, so that each names its own action and items.
pub(crate) struct Words {
    /// The API action, such as `DescribeInstances`.
    pub(crate) action: &'static str,
    /// The items, short: `sets`.
    pub(crate) items: &'static str,
    /// The items, in full: `backup sets`.
    pub(crate) items_in_full: &'static str,
    /// What holds the items, for the bound: `instance`.
    pub(crate) holder: &'static str,
    /// The most items a walk gathers.
    pub(crate) most: u64,
}

impl Stop {
    /// The warning text, in `words`.
    pub(crate) fn describe(self, f: &mut fmt::Formatter<'_>, words: &Words) -> fmt::Result {
        let claimed = |f: &mut fmt::Formatter<'_>, total: Option<u64>| match total {
            Some(t) => write!(f, " although TotalCount says {t}"),
            None => Ok(()),
        };
        let Words {
            action,
            items,
            items_in_full,
            holder,
            most,
        } = words;
        match self {
            Stop::Repeated { page, seen, total } => {
                write!(
                    f,
                    "page {page} of {action} repeated {items} already listed; stopped at \
                     {seen} distinct {items_in_full}"
                )?;
                claimed(f, total)?;
                f.write_str(" (the service repeats pages or ignores PageNumber)")
            }
            Stop::Capped { pages, seen, total } => {
                write!(
                    f,
                    "stopped after {pages} pages of {action} at {seen} distinct {items_in_full}"
                )?;
                claimed(f, total)?;
                write!(f, " (no {holder} holds more than {most})")
            }
        }
    }
}

/// One walk over the pages of a listing whose items are told apart by an ID of type `K`; `W`
/// is the pager's public warning.
#[derive(Clone, Debug)]
pub(crate) struct Walk<K, W> {
    next_page: Option<u32>,
    size: u32,
    /// The ID of every item seen: at most `most` of them, which bounds the memory a walk takes.
    ids: HashSet<K>,
    most: u64,
    pages: u32,
    /// The most pages this walk asks for, lowered once the first `TotalCount` is known.
    max_pages: u32,
    total: Option<u64>,
    warning: Option<W>,
}

impl<K: Eq + Hash, W: From<Stop>> Walk<K, W> {
    /// A walk from page `first` (0 is read as 1), pages of `size`, gathering at most `most`
    /// items and asking for at most `max_pages` pages.
    pub(crate) fn new(first: u32, size: u32, most: u64, max_pages: u32) -> Self {
        let size = size.max(1);
        Walk {
            next_page: Some(first.max(1)),
            size,
            ids: HashSet::new(),
            most,
            pages: 0,
            max_pages: pages_for(most, size).min(max_pages),
            total: None,
            warning: None,
        }
    }

    /// The page to ask for next; `None` once the walk is over.
    pub(crate) fn next_page(&self) -> Option<u32> {
        self.next_page
    }

    /// Takes a page whose items have the IDs `ids`, and returns how many were not seen before.
    pub(crate) fn take<I: IntoIterator<Item = K>>(&mut self, ids: I, total: Option<u64>) -> usize {
        let mut got = 0;
        let mut fresh = 0;
        for id in ids {
            got += 1;
            if self.remember(id) {
                fresh += 1;
            }
        }
        self.advance(got, fresh, total);
        fresh
    }

    /// Takes a page, keeping in `items` only those not seen before (on this page or an
    /// earlier one); `id` reads an item's ID.
    pub(crate) fn take_new<T>(
        &mut self,
        items: &mut Vec<T>,
        id: impl Fn(&T) -> K,
        total: Option<u64>,
    ) {
        let got = items.len();
        items.retain(|item| self.remember(id(item)));
        self.advance(got, items.len(), total);
    }

    /// Records `id`; `false` when it was seen before, when the bound is reached, or once the
    /// walk is over (an answer taken then adds nothing).
    fn remember(&mut self, id: K) -> bool {
        if self.ids.len() as u64 >= self.most || self.next_page.is_none() {
            return false;
        }
        self.ids.insert(id)
    }

    /// Decides, from a page of `got` items of which `fresh` were new, whether another page
    /// follows.
    fn advance(&mut self, got: usize, fresh: usize, total: Option<u64>) {
        let Some(page) = self.next_page else {
            return;
        };
        self.pages = self.pages.saturating_add(1);
        if self.total.is_none() {
            if let Some(t) = total {
                // What the first answer claims bounds the walk, itself bounded by `most`, so
                // that a huge TotalCount cannot buy a lying service thousands of pages.
                self.total = Some(t);
                let bound = pages_for(t.min(self.most), self.size).saturating_add(SLACK_PAGES);
                self.max_pages = self.max_pages.min(bound);
            }
        }
        let seen = self.seen();
        let claimed = total.or(self.total);
        let more = match claimed {
            _ if got == 0 => false,
            Some(t) => seen < t,
            None => got as u64 >= u64::from(self.size),
        };
        self.next_page = None;
        if !more {
            return;
        }
        if fresh == 0 {
            // Nothing new: the next page number would most likely bring the same again.
            self.warning = Some(W::from(Stop::Repeated {
                page,
                seen,
                total: claimed,
            }));
        } else if self.pages >= self.max_pages || seen >= self.most {
            self.warning = Some(W::from(Stop::Capped {
                pages: self.pages,
                seen,
                total: claimed,
            }));
        } else {
            self.next_page = page.checked_add(1);
        }
    }

    /// Pages read so far.
    pub(crate) fn pages(&self) -> u32 {
        self.pages
    }

    /// Distinct items seen so far.
    pub(crate) fn seen(&self) -> u64 {
        self.ids.len() as u64
    }

    /// Why the walk stopped short of `TotalCount`, if it did.
    pub(crate) fn warning(&self) -> Option<&W> {
        self.warning.as_ref()
    }
}

/// Pages of `size` that hold `items`.
fn pages_for(items: u64, size: u32) -> u32 {
    u32::try_from(items.div_ceil(u64::from(size.max(1)))).unwrap_or(u32::MAX)
}
