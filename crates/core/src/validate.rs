//! Checks on identifiers the user types, so that a typo fails here with advice instead of at
//! the service with a generic error.

use crate::params::{Charset, Plain};
use crate::ParamError;

// Inlined with a constant set, so that the byte test is inline in the loop: these checks run
// on every signed request. Every set here is part of the unreserved one, so the same pass
// proves the value plain (nothing to percent-encode), and a typed operation can hand it to the
// signer's fast path without scanning it again.
#[inline(always)]
fn check<'a>(
    name: &'static str,
    value: &'a str,
    set: Charset,
    expected: &'static str,
) -> Result<Plain<'a>, ParamError> {
    // Every allowed character is ASCII, so checking bytes is exact (a multi-byte character
    // has no byte that passes).
    let plain = (!value.is_empty() && value.len() <= 64)
        .then(|| Plain::checked(value, set))
        .flatten();
    plain.ok_or_else(|| ParamError::Invalid {
        name,
        value: value.to_owned(),
        expected,
    })
}

/// An instance ID such as `r-bp1zxszhcgatnx`.
pub fn instance_id(value: &str) -> Result<(), ParamError> {
    plain_instance_id(value).map(drop)
}

/// [`instance_id`], returning the value as [`Plain`] text for the signer.
pub(crate) fn plain_instance_id(value: &str) -> Result<Plain<'_>, ParamError> {
    check(
        "InstanceId",
        value,
        Charset::Id,
        "an instance ID is 1 to 64 letters, digits, '-' or '_', such as r-bp1zxszhcgatnx; \
         list yours with the DescribeInstances action",
    )
}

/// A region ID such as `cn-hangzhou`.
pub fn region_id(value: &str) -> Result<(), ParamError> {
    plain_region_id(value).map(drop)
}

/// [`region_id`], returning the value as [`Plain`] text for the signer.
pub(crate) fn plain_region_id(value: &str) -> Result<Plain<'_>, ParamError> {
    check(
        "RegionId",
        value,
        Charset::LowerId,
        "a region ID is 1 to 64 lower-case letters, digits or '-', such as cn-hangzhou; \
         list them with the DescribeRegions action",
    )
}

/// A signature nonce: 1 to 64 characters from `A-Z a-z 0-9 - _`.
pub fn nonce(value: &str) -> Result<(), ParamError> {
    check(
        "SignatureNonce",
        value,
        Charset::Id,
        "a nonce is 1 to 64 letters, digits, '-' or '_', unique per request \
         (a random UUID or 32 hex digits)",
    )
    .map(drop)
}

/// An API action or version name, which both travel in headers for ACS3.
pub fn token(name: &'static str, value: &str) -> Result<(), ParamError> {
    check(
        name,
        value,
        Charset::Token,
        "only letters, digits, '-', '_' and '.' are allowed",
    )
    .map(drop)
}

/// Text that goes into an HTTP header: visible ASCII and spaces, no line breaks. The value is
/// not echoed back, because this also checks secrets.
pub fn header_safe(name: &'static str, value: &str) -> Result<(), ParamError> {
    if value.is_empty() || !value.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return Err(ParamError::Invalid {
            name,
            value: String::from(crate::credentials::REDACTED),
            expected: "must be non-empty printable ASCII (check for a stray line break or \
                       quote copied with it)",
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_ids() {
        assert!(instance_id("r-bp1zxszhcgatnx").is_ok());
        assert!(instance_id("r_demo-1").is_ok());
        for bad in ["", "r bp1", "r-bp1/..", "r-\u{e9}", &"r".repeat(65)] {
            assert!(instance_id(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            instance_id("r bad").unwrap_err().to_string(),
            "invalid InstanceId \"r bad\": an instance ID is 1 to 64 letters, digits, '-' or '_', \
             such as r-bp1zxszhcgatnx; list yours with the DescribeInstances action"
        );
    }

    #[test]
    fn regions() {
        assert!(region_id("cn-hangzhou").is_ok());
        assert!(region_id("CN-Hangzhou").is_err());
    }

    #[test]
    fn header_check_never_echoes_the_value() {
        let err = header_safe("SecurityToken", "tok\nen-secret").unwrap_err();
        assert!(!err.to_string().contains("secret"), "{err}");
    }
}
