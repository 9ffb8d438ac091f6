//! Request parameters: an ordered list where every key appears once.
//!
//! "Unset" and "empty" are different things to the API (`Tag.1.Value=` is a real value), so a
//! parameter is either present with a string, possibly empty, or absent. Setting a key twice is
//! an error rather than an overwrite, because a silent overwrite hides a bug in whoever built the
//! request.

use std::borrow::Cow;
use std::fmt;

pub(crate) use plain::{Charset, Decimal, Plain};

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
    /// Key and value hold only unreserved characters, so the signer copies them without
    /// scanning for characters to escape. [`Params::push_plain`] sets it from [`Plain`] values,
    /// [`Params::insert`] after checking every byte.
    plain: bool,
}

#[derive(Clone, Debug)]
enum Value {
    Static(&'static str),
    /// A range of `Params::text`.
    Text(std::ops::Range<usize>),
}

/// `true` for the signer's own names. Most names are ruled out by their first letter, which
/// no reserved name shares.
#[inline]
fn is_reserved(key: &str) -> bool {
    const FIRST: [bool; 256] = {
        let mut table = [false; 256];
        let mut i = 0;
        while i < RESERVED.len() {
            table[RESERVED[i].as_bytes()[0] as usize] = true;
            i += 1;
        }
        table
    };
    key.as_bytes()
        .first()
        .is_some_and(|&b| FIRST[usize::from(b)] && RESERVED.contains(&key))
}

/// The first allocation of [`Params::text`] when nothing sized it.
const STORE_START: usize = 64;

/// `true` when every byte of `s` is one percent-encoding leaves as it is.
#[inline]
fn unreserved(s: &str) -> bool {
    // Eight bytes a step, with no branch inside a step so that it unrolls into plain loads:
    // values are short and nearly always plain, so stopping at the first escaped byte saves
    // nothing, while a branch per byte costs on every value.
    let all = |bytes: &[u8]| {
        bytes
            .iter()
            .fold(true, |ok, &b| ok & crate::percent::is_unreserved(b))
    };
    let mut steps = s.as_bytes().chunks_exact(8);
    steps.all(all) && all(steps.remainder())
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
        if is_reserved(&key) {
            return Err(ParamError::Reserved {
                key: key.into_owned(),
            });
        }
        if self.get(&key).is_some() {
            return Err(ParamError::Duplicate {
                key: key.into_owned(),
            });
        }
        let value = value.as_ref();
        // Text that needs no escaping is marked so here, in one pass over bytes that are
        // about to be copied anyway, so that the signer copies it without scanning it twice
        // (once for the URL, once more for the string to sign).
        let plain = unreserved(&key) && unreserved(value);
        let value = self.store(value);
        self.entries.push(Entry { key, value, plain });
        Ok(self)
    }

    fn store(&mut self, value: &str) -> Value {
        if self.text.capacity() == 0 {
            // Room for a typical request's values at once, rather than growing 8, 16, 32, 64.
            self.text.reserve(value.len().max(STORE_START));
        }
        let start = self.text.len();
        self.text.push_str(value);
        Value::Text(start..self.text.len())
    }

    /// Like [`Params::insert`] for a name and a value that need no escaping. Typed operations
    /// use it for their own fields. Both halves are [`Plain`], which cannot be made without
    /// checking, so the signer can trust the entry's flag in every build. Names come from
    /// [`Plain::name`] in a `const` block, which also refuses an empty or reserved name when
    /// the crate is compiled; "not yet set" is the caller's promise, checked in debug builds
    /// only, because a typed operation sets each of its fields once and a repeat could not
    /// change what is escaped.
    pub(crate) fn insert_plain(&mut self, key: Plain<'static>, value: Plain<'_>) -> &mut Self {
        let value = self.store(value.as_str());
        self.push_plain(key, value)
    }

    /// [`Params::insert_plain`] for a constant value, which is not copied.
    pub(crate) fn insert_plain_static(
        &mut self,
        key: Plain<'static>,
        value: Plain<'static>,
    ) -> &mut Self {
        self.push_plain(key, Value::Static(value.as_str()))
    }

    fn push_plain(&mut self, key: Plain<'static>, value: Value) -> &mut Self {
        debug_assert!(self.get(key.as_str()).is_none());
        self.entries.push(Entry {
            key: Cow::Borrowed(key.as_str()),
            value,
            plain: true,
        });
        self
    }

    #[inline]
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
    #[inline]
    pub(crate) fn entry(&self, i: usize) -> Option<(&str, &str, bool)> {
        let e = self.entries.get(i)?;
        Some((&e.key, self.value(e), e.plain))
    }

    /// How many parameters are set.
    #[inline]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// `true` when no parameter is set.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Text proven to need no percent-encoding. A module of its own so that the proof cannot be
/// skipped: `Plain`'s field is private here, and every way to make one checks its bytes, at
/// compile time for constants and in one pass otherwise.
mod plain {
    use super::RESERVED;

    /// Text whose every byte is unreserved (`A-Z a-z 0-9 - _ . ~`), which percent-encoding
    /// leaves as it is, so the signer copies it without scanning.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub(crate) struct Plain<'a>(&'a str);

    /// The characters a validated value may hold. Each set is part of the unreserved one, so
    /// checking a value against a set both validates it and proves it plain, in one test per
    /// byte that costs no more than the validation alone (an extra "and is unreserved" test
    /// per byte is not free: the compiler does not drop it).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub(crate) enum Charset {
        /// `A-Z a-z 0-9 - _`: instance IDs, nonces.
        Id,
        /// `a-z 0-9 -`: region IDs.
        LowerId,
        /// `A-Z a-z 0-9 - _ .`: action and version names.
        Token,
        /// `A-Z a-z 0-9 - _ . ~`: everything percent-encoding leaves as it is.
        Unreserved,
    }

    impl Charset {
        /// This set's bit in [`SETS`].
        #[inline(always)]
        const fn bit(self) -> u8 {
            match self {
                Charset::Id => 1,
                Charset::LowerId => 2,
                Charset::Token => 4,
                Charset::Unreserved => 8,
            }
        }

        /// The rule that builds [`SETS`].
        const fn rule(self, b: u8) -> bool {
            match self {
                Charset::Id => b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'),
                Charset::LowerId => b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-',
                Charset::Token => b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'),
                Charset::Unreserved => {
                    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~')
                }
            }
        }

        /// `true` when `b` is in the set: one load and one test, where the rule's ranges and
        /// alternatives cost a compare and a branch each per byte.
        #[inline(always)]
        pub(crate) const fn allows(self, b: u8) -> bool {
            SETS[b as usize] & self.bit() != 0
        }
    }

    /// For every byte, one bit per [`Charset`] that holds it.
    const SETS: [u8; 256] = {
        let mut table = [0u8; 256];
        let mut b = 0;
        while b < 256 {
            let mut bits = 0;
            let sets = [
                Charset::Id,
                Charset::LowerId,
                Charset::Token,
                Charset::Unreserved,
            ];
            let mut i = 0;
            while i < sets.len() {
                if sets[i].rule(b as u8) {
                    bits |= sets[i].bit();
                }
                i += 1;
            }
            table[b] = bits;
            b += 1;
        }
        table
    };

    const fn same(a: &str, b: &str) -> bool {
        let (a, b) = (a.as_bytes(), b.as_bytes());
        if a.len() != b.len() {
            return false;
        }
        let mut i = 0;
        while i < a.len() {
            if a[i] != b[i] {
                return false;
            }
            i += 1;
        }
        true
    }

    impl<'a> Plain<'a> {
        /// `text` when every byte is in `set`. A validator passes its own set, so that
        /// validating a value and proving it plain are one pass.
        #[inline(always)]
        pub(crate) fn checked(text: &'a str, set: Charset) -> Option<Self> {
            // A plain loop rather than `Iterator::all`, which the compiler may keep out of line,
            // and then tests which set it was given on every byte.
            for &b in text.as_bytes() {
                if !set.allows(b) {
                    return None;
                }
            }
            Some(Plain(text))
        }

        /// The text.
        #[inline]
        pub(crate) fn as_str(self) -> &'a str {
            self.0
        }
    }

    impl Plain<'static> {
        /// A constant. Use it in a `const` block (`const { Plain::constant("Manual") }`), where
        /// text that needs escaping stops the build instead of reaching a request.
        pub(crate) const fn constant(text: &'static str) -> Self {
            let bytes = text.as_bytes();
            let mut i = 0;
            while i < bytes.len() {
                assert!(
                    Charset::Unreserved.allows(bytes[i]),
                    "this constant needs percent-encoding"
                );
                i += 1;
            }
            Plain(text)
        }

        /// A parameter name: a [`Plain::constant`] that is also non-empty and not one of the
        /// names the signer writes itself. Use it in a `const` block too.
        pub(crate) const fn name(text: &'static str) -> Self {
            assert!(!text.is_empty(), "a parameter name is empty");
            let mut r = 0;
            while r < RESERVED.len() {
                assert!(
                    !same(text, RESERVED[r]),
                    "this parameter name is the signer's"
                );
                r += 1;
            }
            Plain::constant(text)
        }
    }

    /// An integer written in decimal on the stack: digits and perhaps a minus sign, all
    /// unreserved, so [`Decimal::as_plain`] needs no scan.
    pub(crate) struct Decimal {
        digits: [u8; 20],
        start: usize,
    }

    impl Decimal {
        /// `n` in decimal.
        pub(crate) fn new(n: u64) -> Self {
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
            Decimal { digits, start: at }
        }

        /// `n` in decimal, with a minus sign when negative.
        pub(crate) fn signed(n: i32) -> Self {
            let mut d = Decimal::new(u64::from(n.unsigned_abs()));
            if n < 0 {
                // An `i32` has at most 10 digits, so there is room for the sign.
                d.start -= 1;
                if let Some(sign) = d.digits.get_mut(d.start) {
                    *sign = b'-';
                }
            }
            d
        }

        /// The text, which holds only digits and `-`.
        pub(crate) fn as_plain(&self) -> Plain<'_> {
            let text = self.digits.get(self.start..).unwrap_or_default();
            Plain(std::str::from_utf8(text).unwrap_or_default())
        }
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
    fn one_escaped_byte_anywhere_makes_a_value_not_plain() {
        // Every length across the eight-byte steps and their remainder, with the escaped byte
        // at every position: the first, inside a step, at a step's end, in the remainder.
        for len in 0..=33 {
            let plain = "aZ0-._~9".repeat(5)[..len].to_owned();
            assert!(unreserved(&plain), "{plain:?}");
            for at in 0..len {
                for bad in [" ", "/", "%", "\u{e9}", "\0"] {
                    let mut text = plain.clone();
                    text.replace_range(at..=at, bad);
                    assert!(!unreserved(&text), "{text:?}");
                }
            }
        }
    }

    #[test]
    fn each_charset_holds_exactly_its_characters() {
        let alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        let sets = [
            (Charset::Id, format!("{alnum}-_")),
            (
                Charset::LowerId,
                String::from("abcdefghijklmnopqrstuvwxyz0123456789-"),
            ),
            (Charset::Token, format!("{alnum}-_.")),
            (Charset::Unreserved, format!("{alnum}-_.~")),
        ];
        for (set, chars) in sets {
            for b in 0..=255u8 {
                let listed = chars.as_bytes().contains(&b);
                assert_eq!(set.allows(b), listed, "{set:?} {b:#x}");
            }
        }
    }

    #[test]
    fn every_charset_is_part_of_the_unreserved_set() {
        use crate::percent::is_unreserved;
        for b in 0..=255u8 {
            assert_eq!(Charset::Unreserved.allows(b), is_unreserved(b), "{b:#x}");
            for set in [Charset::Id, Charset::LowerId, Charset::Token] {
                assert!(!set.allows(b) || is_unreserved(b), "{set:?} {b:#x}");
            }
        }
    }

    #[test]
    fn plain_text_is_checked_and_decimals_are_exact() {
        assert!(Plain::checked("r-bp1_x.y~", Charset::Unreserved).is_some());
        for bad in ["a b", "a/b", "a%", "\u{e9}"] {
            assert!(
                Plain::checked(bad, Charset::Unreserved).is_none(),
                "{bad:?}"
            );
        }
        assert!(Plain::checked("r-bp1.x", Charset::Id).is_none());
        assert!(Plain::checked("cn-Hangzhou", Charset::LowerId).is_none());
        for n in [0, 7, 116_234_567, u64::MAX] {
            assert_eq!(Decimal::new(n).as_plain().as_str(), n.to_string());
        }
        for n in [0, -1, 730, i32::MIN, i32::MAX] {
            assert_eq!(Decimal::signed(n).as_plain().as_str(), n.to_string());
        }
        const NAME: Plain<'static> = Plain::name("InstanceId");
        let mut p = Params::new();
        p.insert_plain(NAME, Decimal::new(5).as_plain());
        assert_eq!(p.entry(0), Some(("InstanceId", "5", true)));
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
