//! Small copies without a call into `memcpy`.
//!
//! Signing copies dozens of short pieces (a key, `%3D`, a value) into two buffers. For pieces
//! of unknown length the compiler calls `memcpy`, whose call overhead dwarfs copying eight
//! bytes; [`copy`] instead uses two overlapping fixed-size moves for anything up to 32 bytes,
//! which compile to a handful of register moves.

/// Copies `src` into `dst`; the two have the same length.
#[inline(always)]
pub(crate) fn copy(dst: &mut [u8], src: &[u8]) {
    let n = src.len();
    if n > 32 || n != dst.len() {
        dst.copy_from_slice(src);
    } else if n >= 16 {
        overlapping::<16>(dst, src);
    } else if n >= 8 {
        overlapping::<8>(dst, src);
    } else if n >= 4 {
        overlapping::<4>(dst, src);
    } else {
        for (d, s) in dst.iter_mut().zip(src) {
            *d = *s;
        }
    }
}

/// Copies the first `N` and the last `N` bytes, which together cover `N..=2N` bytes.
#[inline(always)]
fn overlapping<const N: usize>(dst: &mut [u8], src: &[u8]) {
    if let (Some(d), Some(s)) = (dst.first_chunk_mut::<N>(), src.first_chunk::<N>()) {
        *d = *s;
    }
    if let (Some(d), Some(s)) = (dst.last_chunk_mut::<N>(), src.last_chunk::<N>()) {
        *d = *s;
    }
}

/// A byte buffer written front to back with [`copy`], turned into a `String` at the end.
pub(crate) struct Out {
    buf: Vec<u8>,
    len: usize,
}

impl Out {
    /// A buffer that holds `capacity` bytes; writing more grows it.
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Out {
            buf: vec![0; capacity],
            len: 0,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    #[inline(always)]
    pub(crate) fn push(&mut self, bytes: &[u8]) {
        let end = self.len + bytes.len();
        if end > self.buf.len() {
            self.buf.resize(end.max(self.buf.len() * 2), 0);
        }
        if let Some(dst) = self.buf.get_mut(self.len..end) {
            copy(dst, bytes);
        }
        self.len = end;
    }

    /// Bytes already written, `range` of them.
    pub(crate) fn get(&self, range: std::ops::Range<usize>) -> &[u8] {
        self.buf
            .get(..self.len)
            .and_then(|b| b.get(range))
            .unwrap_or_default()
    }

    /// Appends a copy of `range` of what is already written.
    pub(crate) fn repeat(&mut self, range: std::ops::Range<usize>) {
        if range.end > self.len {
            return;
        }
        let end = self.len + range.len();
        if end > self.buf.len() {
            self.buf.resize(end.max(self.buf.len() * 2), 0);
        }
        self.buf.copy_within(range, self.len);
        self.len = end;
    }

    /// The text written. Everything pushed is ASCII, so the check cannot fail; it is kept
    /// because it is cheap and makes that a fact rather than a promise.
    pub(crate) fn into_string(mut self) -> String {
        self.buf.truncate(self.len);
        String::from_utf8(self.buf).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_every_length() {
        let src: Vec<u8> = (0..80u8).collect();
        for n in 0..=80 {
            let mut dst = vec![0xFFu8; n];
            copy(&mut dst, &src[..n]);
            assert_eq!(dst, &src[..n], "{n}");
        }
    }

    #[test]
    fn out_grows_past_its_capacity() {
        let mut out = Out::with_capacity(4);
        for _ in 0..10 {
            out.push(b"abc");
        }
        assert_eq!(out.len(), 30);
        assert_eq!(out.into_string(), "abc".repeat(10));
    }
}
