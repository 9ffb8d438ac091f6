//! Feeding a MAC through a small stack buffer.
//!
//! The string to sign is built piece by piece (a few bytes at a time around every escape), and
//! handing each piece to the hash separately costs more than the copying. Batching into a
//! 256-byte buffer keeps the MAC's own bookkeeping out of the loop and allocates nothing.

use hmac::Mac;

pub(crate) struct MacFeed<M> {
    mac: M,
    buf: [u8; 256],
    len: usize,
}

impl<M: Mac> MacFeed<M> {
    pub(crate) fn new(mac: M) -> Self {
        MacFeed {
            mac,
            buf: [0; 256],
            len: 0,
        }
    }

    #[inline]
    pub(crate) fn push(&mut self, bytes: &[u8]) {
        let end = self.len + bytes.len();
        if let Some(slot) = self.buf.get_mut(self.len..end) {
            super::bytes::copy(slot, bytes);
            self.len = end;
        } else {
            self.push_slow(bytes);
        }
    }

    /// Fills the buffer to the brim before handing it on, so that the MAC always receives
    /// whole 64-byte blocks it can hash in place rather than copy.
    #[cold]
    fn push_slow(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            let room = self.buf.len() - self.len;
            let (now, later) = bytes.split_at(room.min(bytes.len()));
            if let Some(slot) = self.buf.get_mut(self.len..self.len + now.len()) {
                slot.copy_from_slice(now);
            }
            self.len += now.len();
            if self.len == self.buf.len() {
                self.flush();
            }
            bytes = later;
        }
    }

    fn flush(&mut self) {
        self.mac
            .update(self.buf.get(..self.len).unwrap_or_default());
        self.len = 0;
    }

    /// The MAC of everything pushed. Works in place: moving the state and the buffer out by
    /// value would cost a copy of half a kilobyte.
    pub(crate) fn finish(&mut self) -> hmac::digest::Output<M>
    where
        M: hmac::digest::FixedOutputReset,
    {
        self.flush();
        self.mac.finalize_reset().into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hmac::Hmac;
    use sha1::Sha1;

    #[test]
    fn batching_gives_the_same_mac_as_one_update() {
        let data: Vec<u8> = (0..2000u32).map(|i| (i * 7 % 251) as u8).collect();
        let mut whole = <Hmac<Sha1> as Mac>::new_from_slice(b"key&").unwrap();
        whole.update(&data);
        let expected = whole.finalize().into_bytes();
        for chunk in [1, 3, 255, 256, 257, 700] {
            let mut feed = MacFeed::new(<Hmac<Sha1> as Mac>::new_from_slice(b"key&").unwrap());
            for piece in data.chunks(chunk) {
                feed.push(piece);
            }
            assert_eq!(feed.finish(), expected, "chunk {chunk}");
        }
    }
}
