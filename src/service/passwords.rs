//! Password hashes: argon2id with the crate's defaults (19 MiB, 2 passes, 1 lane: OWASP's
//! minimum), in PHC form, computed over working memory that each hashing thread keeps.
//!
//! argon2 allocates its 19 MiB afresh for every hash and frees it after. Freed, that block is
//! carved up by other threads' small allocations, so the next hash takes fresh memory, and the
//! server grew by 19 MiB with every agent created (measured: 12 creations one after another,
//! +19.5 MB each). Each thread that hashes (`auth.hashing_threads` of them) now allocates the
//! memory once and reuses it: argon2 overwrites every block it reads, so nothing of one
//! password's hash reaches the next.

use std::cell::RefCell;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{
    self, Decimal, Ident, Output, ParamsString, PasswordHash, PasswordHasher, PasswordVerifier, Salt,
    SaltString,
};
use argon2::{Algorithm, Argon2, Block, Params, Version};

use super::ServiceError;
use crate::store::StoreError;

thread_local! {
    /// This thread's argon2 working memory, kept between hashes.
    static MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// argon2 over the calling thread's kept memory; the PHC encoding and the verification of
/// `password_hash` (constant-time comparison included) come with the trait.
#[derive(Default)]
struct KeptMemoryArgon2 {
    algorithm: Algorithm,
    version: Version,
    params: Params,
}

impl PasswordHasher for KeptMemoryArgon2 {
    type Params = Params;

    fn hash_password<'a>(
        &self,
        password: &[u8],
        salt: impl Into<Salt<'a>>,
    ) -> password_hash::Result<PasswordHash<'a>> {
        let salt = salt.into();
        let mut salt_bytes = [0u8; 64];
        let salt_bytes = salt.decode_b64(&mut salt_bytes)?;
        let argon2 = Argon2::new(self.algorithm, self.version, self.params.clone());
        let blocks = self.params.block_count();
        let output_len = self.params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
        let output = Output::init_with(output_len, |out| {
            MEMORY.with_borrow_mut(|memory| {
                if memory.len() < blocks {
                    memory.resize(blocks, Block::new());
                }
                argon2.hash_password_into_with_memory(password, salt_bytes, out, &mut memory[..blocks])
            })?;
            Ok(())
        })?;
        Ok(PasswordHash {
            algorithm: self.algorithm.ident(),
            version: Some(self.version.into()),
            params: ParamsString::try_from(&self.params)?,
            salt: Some(salt),
            hash: Some(output),
        })
    }

    fn hash_password_customized<'a>(
        &self,
        password: &[u8],
        algorithm: Option<Ident<'a>>,
        version: Option<Decimal>,
        params: Params,
        salt: impl Into<Salt<'a>>,
    ) -> password_hash::Result<PasswordHash<'a>> {
        let algorithm = algorithm.map(Algorithm::try_from).transpose()?.unwrap_or_default();
        let version = version.map(Version::try_from).transpose()?.unwrap_or_default();
        KeptMemoryArgon2 { algorithm, version, params }.hash_password(password, salt)
    }
}

/// An argon2id hash of `password` in PHC form.
pub fn hash_password(password: &str) -> Result<String, ServiceError> {
    let salt = SaltString::generate(&mut OsRng);
    KeptMemoryArgon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| ServiceError::Store(StoreError::Corrupt(format!("cannot hash password: {e}"))))
}

/// Whether `password` matches `phc_hash` (any argon2 variant and parameters it names).
pub fn verify_password(password: &str, phc_hash: &str) -> bool {
    PasswordHash::new(phc_hash)
        .is_ok_and(|hash| KeptMemoryArgon2::default().verify_password(password.as_bytes(), &hash).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_verifies_against_its_own_hash_only() {
        let hash = hash_password("correct horse").expect("hashes");
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("wrong horse", &hash));
        assert!(!verify_password("correct horse", "not a hash"));
    }

    #[test]
    fn hashes_are_argon2id_at_owasp_s_minimum() {
        let hash = hash_password("correct horse").expect("hashes");
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
    }

    /// Stored hashes made before (by argon2's own allocating hasher) still verify, and argon2's
    /// own verifier accepts ours: the same algorithm, only the memory differs.
    #[test]
    fn hashes_agree_with_argon2_s_own_hasher_both_ways() {
        let salt = SaltString::generate(&mut OsRng);
        let theirs = Argon2::default().hash_password(b"correct horse", &salt).expect("hashes").to_string();
        assert!(verify_password("correct horse", &theirs));
        assert!(!verify_password("wrong horse", &theirs));
        let ours = hash_password("correct horse").expect("hashes");
        let parsed = PasswordHash::new(&ours).expect("PHC");
        assert!(Argon2::default().verify_password(b"correct horse", &parsed).is_ok());
        assert!(Argon2::default().verify_password(b"wrong horse", &parsed).is_err());
    }

    /// One thread, its memory reused: each hash is still its password's alone, and a hash with
    /// other parameters (more memory) works on the same thread before and after.
    #[test]
    fn kept_memory_carries_nothing_from_one_hash_to_the_next() {
        let first = hash_password("first password").expect("hashes");
        let salt = SaltString::generate(&mut OsRng);
        let bigger = Params::new(24_576, 3, 1, None).expect("params");
        let other = Argon2::new(Algorithm::Argon2id, Version::V0x13, bigger)
            .hash_password(b"second password", &salt)
            .expect("hashes")
            .to_string();
        assert!(verify_password("second password", &other));
        let third = hash_password("third password").expect("hashes");
        for (password, hash) in [("first password", &first), ("third password", &third)] {
            assert!(verify_password(password, hash), "{password}");
        }
        assert!(!verify_password("first password", &third));
        let salt = SaltString::generate(&mut OsRng);
        let again = KeptMemoryArgon2::default().hash_password(b"first password", &salt).expect("hashes");
        let fresh = Argon2::default().hash_password(b"first password", &salt).expect("hashes");
        assert_eq!(again.hash, fresh.hash, "same password and salt, same hash, reused memory or not");
    }
}
