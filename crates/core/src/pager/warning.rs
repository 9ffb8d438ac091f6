//! The warnings a pager leaves when it stops short of `TotalCount`: one type per listing, so
//! that each names its own items in its fields, and one wording (the walk's) for all.

use std::fmt;

use super::walk::{Stop, Words};
use super::{MAX_INSTANCES, MAX_SETS};

/// Why a [`super::BackupPager`] walk stopped before `TotalCount` was reached.
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

/// How a backup-set warning words itself.
const BACKUP_WORDS: Words = Words {
    action: "DescribeBackups",
    items: "sets",
    items_in_full: "backup sets",
    holder: "instance",
    most: MAX_SETS,
};

impl From<Stop> for PagerWarning {
    fn from(stop: Stop) -> Self {
        match stop {
            Stop::Repeated { page, seen, total } => PagerWarning::Repeated {
                page,
                sets: seen,
                total,
            },
            Stop::Capped { pages, seen, total } => PagerWarning::Capped {
                pages,
                sets: seen,
                total,
            },
        }
    }
}

impl fmt::Display for PagerWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let stop = match *self {
            PagerWarning::Repeated { page, sets, total } => Stop::Repeated {
                page,
                seen: sets,
                total,
            },
            PagerWarning::Capped { pages, sets, total } => Stop::Capped {
                pages,
                seen: sets,
                total,
            },
        };
        stop.describe(f, &BACKUP_WORDS)
    }
}

/// How an instance warning words itself.
const INSTANCE_WORDS: Words = Words {
    action: "DescribeInstances",
    items: "instances",
    items_in_full: "instances",
    holder: "region",
    most: MAX_INSTANCES,
};

/// Why an [`InstancePager`] stopped before `TotalCount` was reached. The instances gathered
/// are real and distinct, so it is a warning, not an error: the caller can still use them.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum InstancePagerWarning {
    /// Page `page` held only instances already seen: the service repeats pages (or ignores
    /// `PageNumber`).
    Repeated {
        /// The page number asked for.
        page: u32,
        /// Distinct instances gathered.
        instances: u64,
        /// The `TotalCount` the service claimed.
        total: Option<u64>,
    },
    /// The walk reached its page bound with `TotalCount` still unreached.
    Capped {
        /// Pages read.
        pages: u32,
        /// Distinct instances gathered.
        instances: u64,
        /// The `TotalCount` the service claimed.
        total: Option<u64>,
    },
}

impl From<Stop> for InstancePagerWarning {
    fn from(stop: Stop) -> Self {
        match stop {
            Stop::Repeated { page, seen, total } => InstancePagerWarning::Repeated {
                page,
                instances: seen,
                total,
            },
            Stop::Capped { pages, seen, total } => InstancePagerWarning::Capped {
                pages,
                instances: seen,
                total,
            },
        }
    }
}

impl fmt::Display for InstancePagerWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let stop = match *self {
            InstancePagerWarning::Repeated {
                page,
                instances,
                total,
            } => Stop::Repeated {
                page,
                seen: instances,
                total,
            },
            InstancePagerWarning::Capped {
                pages,
                instances,
                total,
            } => Stop::Capped {
                pages,
                seen: instances,
                total,
            },
        };
        stop.describe(f, &INSTANCE_WORDS)
    }
}
