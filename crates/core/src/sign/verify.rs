//! Server-side signature checks, for test doubles of the service such as `rkvstore-emulator`
//! (cargo feature `verify`).
//!
//! A client never needs these: [`crate::sign`] signs a request. A stand-in for the service
//! does, because it receives parameters and headers off the wire and has to recompute the
//! signature the way the service would, from whatever it was sent. They are behind a feature
//! so that the client's API stays small and free to change.
//!
//! ```
//! use rkvstore_core::verify::v1;
//! let parts = v1::sign_params("GET", &[("Action", "DescribeRegions"), ("Note", "a b")], "secret");
//! assert_eq!(parts.canonical_query, "Action=DescribeRegions&Note=a%20b");
//! assert_eq!(parts.string_to_sign, "GET&%2F&Action%3DDescribeRegions%26Note%3Da%2520b");
//! ```

/// RPC signature 1.0 (HMAC-SHA1) from a received parameter list.
pub mod v1 {
    pub use crate::sign::v1::{sign_params, V1Parts};
}

/// ACS3-HMAC-SHA256 from a received method, path, query, headers and body hash.
pub mod v3 {
    pub use crate::sign::v3::{
        authorization, canonical_request, hex_sha256, string_to_sign, V3Parts, ALGORITHM,
        EMPTY_BODY_SHA256,
    };
}
