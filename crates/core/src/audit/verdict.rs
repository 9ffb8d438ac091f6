//! The verdicts of an audit, their precedence, and the summary that counts them.

use std::fmt;

use serde::ser::{Serialize, SerializeMap, Serializer};

/// The backup health of one instance. The order is the precedence and the sort order, worst
/// first: `Error < NoBackups < Stale < Failed < PolicyOff < Ok`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Verdict {
    /// The instance could not be audited: an API call about it failed (no permission, …).
    Error,
    /// No successful backup set in the look-back window.
    NoBackups,
    /// The last successful backup is older than the allowed age.
    Stale,
    /// The latest backup failed.
    Failed,
    /// The automatic backup policy names no weekday, so no backup will ever be taken.
    PolicyOff,
    /// None of the above.
    Ok,
}

impl Verdict {
    /// Every verdict, worst first.
    pub const ALL: [Verdict; 6] = [
        Verdict::Error,
        Verdict::NoBackups,
        Verdict::Stale,
        Verdict::Failed,
        Verdict::PolicyOff,
        Verdict::Ok,
    ];

    /// The name shown to people and machines: `ERROR`, `NO-BACKUPS`, `STALE`, `FAILED`,
    /// `POLICY-OFF` or `OK`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Error => "ERROR",
            Verdict::NoBackups => "NO-BACKUPS",
            Verdict::Stale => "STALE",
            Verdict::Failed => "FAILED",
            Verdict::PolicyOff => "POLICY-OFF",
            Verdict::Ok => "OK",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Verdict {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// How many instances got each verdict.
///
/// ```
/// use rkvstore_core::audit::{Summary, Verdict};
/// let summary: Summary = [Verdict::Ok, Verdict::Stale, Verdict::Ok].into_iter().collect();
/// assert_eq!(summary.to_string(), "3 instances: 1 STALE, 2 OK");
/// assert!(!summary.all_ok());
/// assert_eq!(serde_json::to_string(&summary).unwrap(),
///     r#"{"instances":3,"ERROR":0,"NO-BACKUPS":0,"STALE":1,"FAILED":0,"POLICY-OFF":0,"OK":2}"#);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    counts: [u64; 6],
}

impl Summary {
    /// Counts one more `verdict`.
    pub fn add(&mut self, verdict: Verdict) {
        if let Some(n) = self.counts.get_mut(verdict.index()) {
            *n = n.saturating_add(1);
        }
    }

    /// Instances with `verdict`.
    pub fn count(&self, verdict: Verdict) -> u64 {
        self.counts.get(verdict.index()).copied().unwrap_or(0)
    }

    /// Instances counted.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// `true` when every instance counted is `OK` (and also when there are none).
    pub fn all_ok(&self) -> bool {
        self.total() == self.count(Verdict::Ok)
    }
}

impl FromIterator<Verdict> for Summary {
    fn from_iter<I: IntoIterator<Item = Verdict>>(iter: I) -> Self {
        let mut s = Summary::default();
        for v in iter {
            s.add(v);
        }
        s
    }
}

impl fmt::Display for Summary {
    /// `24 instances: 2 ERROR, 3 STALE, 19 OK`: the verdicts that occur, worst first.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let total = self.total();
        write!(f, "{total} instance{}", if total == 1 { "" } else { "s" })?;
        let mut sep = ": ";
        for v in Verdict::ALL {
            let n = self.count(v);
            if n > 0 {
                write!(f, "{sep}{n} {v}")?;
                sep = ", ";
            }
        }
        Ok(())
    }
}

impl Serialize for Summary {
    /// `{"instances": N, "ERROR": n, …, "OK": n}`, every verdict present, worst first.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(Verdict::ALL.len() + 1))?;
        map.serialize_entry("instances", &self.total())?;
        for v in Verdict::ALL {
            map.serialize_entry(v.as_str(), &self.count(v))?;
        }
        map.end()
    }
}
