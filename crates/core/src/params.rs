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
#[derive(Clone, Default)]
pub struct Params {
    entries: Vec<Entry>,
    /// Every value that is not a constant, back to back; entries point into it. One buffer for
    /// all values keeps building a typed request at two allocations however many it sets.
    text: String,
}

/// One parameter.
#[derive(Clone, Debug)]
struct Entry {
    key: Cow<'static, str>,
    value: Value,
    /// Key and value are known to hold only unreserved characters (they were validated), so
    /// the signer copies them without scanning for characters to escape.
    plain: bool,
}

#[derive(Clone, Debug)]
enum Value {
    Static(&'static str),
    /// A range of `Params::text`.
    Text(std::ops::Range<usize>),
}

impl PartialEq for Params {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for Params {}

impl fmt::Debug for Params {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl Params {
    /// No parameters.
    pub fn new() -> Self {
        Params::default()
    }

    /// Room for `n` parameters without reallocating.
    pub fn with_capacity(n: usize) -> Self {
        Params {
            entries: Vec::with_capacity(n),
            text: String::new(),
        }
    }

    /// Room for `n` parameters whose values take `bytes` bytes in all.
    pub(crate) fn with_capacity_bytes(n: usize, bytes: usize) -> Self {
        Params {
            entries: Vec::with_capacity(n),
            text: String::with_capacity(bytes),
        }
    }

    /// Sets `key` to `value`; the value may be empty.
    pub fn insert(
        &mut self,
        key: impl Into<Cow<'static, str>>,
        value: impl AsRef<str>,
    ) -> Result<&mut Self, ParamError> {
        let key = key.into();
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
        let value = self.store(value.as_ref());
        self.entries.push(Entry {
            key,
            value,
            plain: false,
        });
        Ok(self)
    }

    fn store(&mut self, value: &str) -> Value {
        let start = self.text.len();
        self.text.push_str(value);
        Value::Text(start..self.text.len())
    }

    /// Like [`Params::insert`] for a value already validated to hold only unreserved
    /// characters (`A-Z a-z 0-9 - _ . ~`), under a constant name that is not reserved and not
    /// yet set. Typed operations use it for their own fields, which meet all three by
    /// construction, so the checks run in debug builds (and every test) only.
    pub(crate) fn insert_plain(&mut self, key: &'static str, value: &str) -> &mut Self {
        let value = self.store(value);
        self.push_plain(key, value)
    }

    /// [`Params::insert_plain`] for a constant value, which is not copied.
    pub(crate) fn insert_plain_static(
        &mut self,
        key: &'static str,
        value: &'static str,
    ) -> &mut Self {
        self.push_plain(key, Value::Static(value))
    }

    /// [`Params::insert_plain`] for a number, written in decimal straight into the buffer.
    pub(crate) fn insert_plain_u64(&mut self, key: &'static str, n: u64) -> &mut Self {
        let mut digits = [0u8; 20];
        let mut at = digits.len();
        let mut n = n;
        loop {
            at -= 1;
            if let Some(d) = digits.get_mut(at) {
                *d = b'0' + (n % 10) as u8;
            }
            n /= 10;
            if n == 0 {
                break;
            }
        }
        let text = std::str::from_utf8(digits.get(at..).unwrap_or_default()).unwrap_or_default();
        let value = self.store(text);
        self.push_plain(key, value)
    }

    fn push_plain(&mut self, key: &'static str, value: Value) -> &mut Self {
        debug_assert!(!key.is_empty() && !RESERVED.contains(&key) && self.get(key).is_none());
        self.entries.push(Entry {
            key: Cow::Borrowed(key),
            value,
            plain: true,
        });
        debug_assert!(self
            .entries
            .last()
            .map(|e| self.value(e))
            .unwrap_or_default()
            .bytes()
            .chain(key.bytes())
            .all(crate::percent::is_unreserved));
        self
    }

    fn value<'a>(&'a self, e: &'a Entry) -> &'a str {
        match &e.value {
            Value::Static(s) => s,
            Value::Text(r) => self.text.get(r.clone()).unwrap_or_default(),
        }
    }

    /// Sets `key` when `value` is `Some`; `None` leaves the parameter unset.
    pub fn insert_opt(
        &mut self,
        key: impl Into<Cow<'static, str>>,
        value: Option<impl AsRef<str>>,
    ) -> Result<&mut Self, ParamError> {
        match value {
            Some(v) => self.insert(key, v),
            None => Ok(self),
        }
    }

    /// Sets a repeated parameter: `Prefix.1`, `Prefix.2`, … (1-based, as the API numbers them).
    pub fn insert_list<V: AsRef<str>>(
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
    pub fn insert_pairs<K: AsRef<str>, V: AsRef<str>>(
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
            .map(|e| self.value(e))
    }

    /// The parameters in insertion order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &str)> + '_ {
        self.entries.iter().map(|e| (e.key.as_ref(), self.value(e)))
    }

    /// Parameter `i` in insertion order: key, value, and whether both are known to need no
    /// escaping. For the signer, which sorts indices.
    pub(crate) fn entry(&self, i: usize) -> Option<(&str, &str, bool)> {
        let e = self.entries.get(i)?;
        Some((&e.key, self.value(e), e.plain))
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
