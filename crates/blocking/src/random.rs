//! Randomness for nonces and backoff jitter, from the operating system.

/// 32 hex digits from 16 random bytes, the form the official SDKs use.
pub(crate) fn nonce() -> String {
    let mut bytes = [0u8; 16];
    fill(&mut bytes);
    rkvstore_core::nonce_from_bytes(bytes)
}

/// A number in `[0, 1)`.
pub(crate) fn unit() -> f64 {
    let mut bytes = [0u8; 8];
    fill(&mut bytes);
    (u64::from_le_bytes(bytes) >> 11) as f64 / (1u64 << 53) as f64
}

fn fill(buf: &mut [u8]) {
    if getrandom::fill(buf).is_err() {
        // Without OS randomness, fall back on the clock and a counter: nonces stay unique per
        // process, which is what the service checks.
        use std::sync::atomic::{AtomicU64, Ordering};
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        let mix = t ^ COUNTER.fetch_add(1, Ordering::Relaxed).rotate_left(32);
        for (i, b) in buf.iter_mut().enumerate() {
            *b = (mix.rotate_left(i as u32 * 8) & 0xff) as u8 ^ (i as u8);
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn nonces_are_hex_and_distinct() {
        let a = super::nonce();
        let b = super::nonce();
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
        let u = super::unit();
        assert!((0.0..1.0).contains(&u));
    }
}
