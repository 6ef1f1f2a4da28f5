//! A 64-bit digest that every build computes alike (the first 8 bytes of SHA-256), for values
//! that nodes compare with each other: `std`'s hasher may change between Rust versions, so two
//! nodes of different builds — a rolling upgrade — would disagree.

use sha2::{Digest, Sha256};

/// The digest of `parts`, in order.
pub fn digest64(parts: &[&[u8]]) -> u64 {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part);
    }
    let sum = hasher.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&sum[..8]);
    u64::from_le_bytes(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_is_fixed_by_its_input_alone() {
        // SHA-256("abc") begins ba 78 16 bf 8f 01 cf ea.
        assert_eq!(digest64(&[b"abc"]), u64::from_le_bytes([0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea]));
        assert_eq!(digest64(&[b"a", b"bc"]), digest64(&[b"abc"]));
    }
}
