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

/// The conversions between a walk's [`Stop`] and a pager's public warning, whose count field is
/// named for what the pager lists, and the `Display` that words it with `$words`.
macro_rules! warning_from_stop {
    ($warning:ident, $count:ident, $words:expr) => {
        impl From<Stop> for $warning {
            fn from(stop: Stop) -> Self {
                match stop {
                    Stop::Repeated { page, seen, total } => $warning::Repeated {
                        page,
                        $count: seen,
                        total,
                    },
                    Stop::Capped { pages, seen, total } => $warning::Capped {
                        pages,
                        $count: seen,
                        total,
                    },
                }
            }
        }

        impl fmt::Display for $warning {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let stop = match *self {
                    $warning::Repeated {
                        page,
                        $count,
                        total,
                    } => Stop::Repeated {
                        page,
                        seen: $count,
                        total,
                    },
                    $warning::Capped {
                        pages,
                        $count,
                        total,
                    } => Stop::Capped {
                        pages,
                        seen: $count,
                        total,
                    },
                };
                stop.describe(f, &$words)
            }
        }
    };
}

warning_from_stop!(PagerWarning, sets, BACKUP_WORDS);

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

warning_from_stop!(InstancePagerWarning, instances, INSTANCE_WORDS);
