//! Request parameters: an ordered list where every key appears once.
//!
//! "Unset" and "empty" are different things to the API (`Tag.1.Value=` is a real value), so a
//! parameter is either present with a string, possibly empty, or absent. Setting a key twice is
//! an error rather than an overwrite, because a silent overwrite hides a bug in whoever built the
//! request.

use std::borrow::Cow;
use std::fmt;

/// Keys the signer writes itself; a caller who sets one gets [`ParamError::Reserved`].
pub(crate) const RESERVED: [&str; 11] = [
    "AccessKeyId",
    "Action",
    "Format",
    "SecurityToken",
    "Signature",
    "SignatureMethod",
    "SignatureNonce",
    "SignatureType",
    "SignatureVersion",
    "Timestamp",
    "Version",
];

/// A mistake in the parameters of a request.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParamError {
    /// The same key was set twice.
    Duplicate {
        /// The key.
        key: String,
    },
    /// The key is written by the signer and cannot be set by hand.
    Reserved {
        /// The key.
        key: String,
    },
    /// A key was empty.
    EmptyKey,
    /// A value failed validation.
    Invalid {
        /// The parameter's name.
        name: &'static str,
        /// The value given.
        value: String,
        /// What a valid value looks like.
        expected: &'static str,
    },
}

impl fmt::Display for ParamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamError::Duplicate { key } => {
                write!(f, "parameter `{key}` is set twice; set each parameter once")
            }
            ParamError::Reserved { key } => write!(
                f,
                "parameter `{key}` is written by the signer and cannot be set by hand; \
                 remove it (credentials, action, version, format, time and nonce are \
                 separate inputs)"
            ),
            ParamError::EmptyKey => {
                f.write_str("a parameter name is empty; every parameter needs a name")
            }
            ParamError::Invalid {
                name,
                value,
                expected,
            } => write!(f, "invalid {name} {value:?}: {expected}"),
        }
    }
}

impl std::error::Error for ParamError {}

/// The parameters of one request, in insertion order, each key once.
///
/// ```
/// use rkvstore_core::Params;
/// let mut p = Params::new();
/// p.insert("InstanceId", "r-bp1example")?;
/// p.insert_opt("JobMode", None::<String>)?;          // unset: not sent at all
/// p.insert("Description", "")?;                      // empty: sent as `Description=`
/// p.insert_pairs("Tag", [("env", "prod"), ("team", "sre")])?;
/// assert!(p.insert("InstanceId", "r-other").is_err()); // never a silent overwrite
/// let keys: Vec<&str> = p.iter().map(|(k, _)| k).collect();
/// assert_eq!(keys, ["InstanceId", "Description", "Tag.1.Key", "Tag.1.Value", "Tag.2.Key", "Tag.2.Value"]);
/// # Ok::<(), rkvstore_core::ParamError>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Params {
    entries: Vec<Entry>,
}

/// One parameter.
#[derive(Clone, Debug)]
pub(crate) struct Entry {
    pub(crate) key: Cow<'static, str>,
    pub(crate) value: Cow<'static, str>,
    /// Key and value are known to hold only unreserved characters (they were validated), so
    /// the signer copies them without scanning for characters to escape.
    pub(crate) plain: bool,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key && self.value == other.value
    }
}

impl Eq for Entry {}

impl Params {
    /// No parameters.
    pub fn new() -> Self {
        Params::default()
    }

    /// Room for `n` parameters without reallocating.
    pub fn with_capacity(n: usize) -> Self {
        Params {
            entries: Vec::with_capacity(n),
        }
    }

    /// Sets `key` to `value`; the value may be empty.
    pub fn insert(
        &mut self,
        key: impl Into<Cow<'static, str>>,
        value: impl Into<String>,
    ) -> Result<&mut Self, ParamError> {
        self.push(key.into(), Cow::Owned(value.into()), false)
    }

    /// Like [`Params::insert`] for a value already validated to hold only unreserved
    /// characters (`A-Z a-z 0-9 - _ . ~`), under a constant name that is not reserved and not
    /// yet set. Typed operations use it for their own fields, which meet all three by
    /// construction, so the checks run in debug builds (and every test) only.
    pub(crate) fn insert_plain(
        &mut self,
        key: &'static str,
        value: impl Into<Cow<'static, str>>,
    ) -> &mut Self {
        let value = value.into();
        debug_assert!(key
            .bytes()
            .chain(value.bytes())
            .all(crate::percent::is_unreserved));
        debug_assert!(!key.is_empty() && !RESERVED.contains(&key) && self.get(key).is_none());
        self.entries.push(Entry {
            key: Cow::Borrowed(key),
            value,
            plain: true,
        });
        self
    }

    fn push(
        &mut self,
        key: Cow<'static, str>,
        value: Cow<'static, str>,
        plain: bool,
    ) -> Result<&mut Self, ParamError> {
        if key.is_empty() {
            return Err(ParamError::EmptyKey);
        }
        if RESERVED.contains(&key.as_ref()) {
            return Err(ParamError::Reserved {
                key: key.into_owned(),
            });
        }
        if self.get(&key).is_some() {
            return Err(ParamError::Duplicate {
                key: key.into_owned(),
            });
        }
        self.entries.push(Entry { key, value, plain });
        Ok(self)
    }

    /// Sets `key` when `value` is `Some`; `None` leaves the parameter unset.
    pub fn insert_opt(
        &mut self,
        key: impl Into<Cow<'static, str>>,
        value: Option<impl Into<String>>,
    ) -> Result<&mut Self, ParamError> {
        match value {
            Some(v) => self.insert(key, v),
            None => Ok(self),
        }
    }

    /// Sets a repeated parameter: `Prefix.1`, `Prefix.2`, … (1-based, as the API numbers them).
    pub fn insert_list<V: Into<String>>(
        &mut self,
        prefix: &str,
        values: impl IntoIterator<Item = V>,
    ) -> Result<&mut Self, ParamError> {
        for (i, v) in values.into_iter().enumerate() {
            self.insert(format!("{prefix}.{}", i + 1), v)?;
        }
        Ok(self)
    }

    /// Sets a list of key/value pairs: `Prefix.1.Key`, `Prefix.1.Value`, … (1-based).
    pub fn insert_pairs<K: Into<String>, V: Into<String>>(
        &mut self,
        prefix: &str,
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Result<&mut Self, ParamError> {
        for (i, (k, v)) in pairs.into_iter().enumerate() {
            let n = i + 1;
            self.insert(format!("{prefix}.{n}.Key"), k)?;
            self.insert(format!("{prefix}.{n}.Value"), v)?;
        }
        Ok(self)
    }

    /// The value of `key`, if set.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|e| e.key == key)
            .map(|e| e.value.as_ref())
    }

    /// The parameters in insertion order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &str)> + '_ {
        self.entries
            .iter()
            .map(|e| (e.key.as_ref(), e.value.as_ref()))
    }

    /// The entries, for the signer's index sort.
    pub(crate) fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// How many parameters are set.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// `true` when no parameter is set.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_and_empty_keys_are_refused() {
        let mut p = Params::new();
        assert_eq!(
            p.insert("Timestamp", "x").unwrap_err(),
            ParamError::Reserved {
                key: "Timestamp".into()
            }
        );
        assert_eq!(p.insert("", "x").unwrap_err(), ParamError::EmptyKey);
        assert!(p.is_empty());
    }

    #[test]
    fn duplicate_is_an_error_and_keeps_the_first_value() {
        let mut p = Params::new();
        p.insert("A", "1").unwrap();
        let err = p.insert("A", "2").unwrap_err();
        assert_eq!(
            err.to_string(),
            "parameter `A` is set twice; set each parameter once"
        );
        assert_eq!(p.get("A"), Some("1"));
    }

    #[test]
    fn lists_are_one_based() {
        let mut p = Params::new();
        p.insert_list("InstanceIds", ["a", "b"]).unwrap();
        assert_eq!(p.get("InstanceIds.1"), Some("a"));
        assert_eq!(p.get("InstanceIds.2"), Some("b"));
        assert_eq!(p.get("InstanceIds.0"), None);
    }
}
