//! Sites' signing secrets: made, shown once, and kept encrypted at rest.
//!
//! A site's server signs its visitors' identities with the site's secret (HMAC-SHA256), so
//! Switchboard needs the secret itself to check them: a hash would not do. The store keeps it
//! sealed with XChaCha20-Poly1305 under the node's site key (`[sites]`): a copy of the
//! database (a backup, a replica, a dump) reveals no secret without the key.

use std::fs::OpenOptions;
use std::io::{ErrorKind, Write};
use std::path::Path;
use std::sync::OnceLock;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use rand::RngCore;

use crate::config::SiteSettings;

/// How a new secret starts, so that it is recognisable in a config or a leak scanner.
pub const SECRET_PREFIX: &str = "sbs_";
/// Characters of a secret kept in clear (`secret_prefix`) for admins to tell secrets apart.
pub const SHOWN_CHARS: usize = 10;
/// Bytes of the key and of a secret's randomness.
const KEY_BYTES: usize = 32;
/// Bytes of an XChaCha20 nonce.
const NONCE_BYTES: usize = 24;

/// Why the site key could not be had.
#[derive(Debug, thiserror::Error)]
pub enum SiteKeyError {
    /// The key given is not 64 hex digits.
    #[error("{0}: the site key must be 64 hex digits")]
    Malformed(String),
    /// The key file could not be read or made.
    #[error("site key file {path}: {source}")]
    File {
        /// The file.
        path: String,
        /// What went wrong.
        source: std::io::Error,
    },
}

/// A sealed secret that does not open: made under another key, or altered.
#[derive(Debug, thiserror::Error)]
#[error("a site secret does not open with this node's site key (another key, or altered)")]
pub struct Unsealable;

/// The key that seals sites' secrets.
#[derive(Clone)]
pub struct SiteKey(XChaCha20Poly1305);

impl std::fmt::Debug for SiteKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SiteKey(***)")
    }
}

impl SiteKey {
    /// The key of `settings`: `SWITCHBOARD_SITES__KEY` when set, else the key file, which is
    /// made (with a random key, mode 0600) when missing.
    pub fn load(settings: &SiteSettings) -> Result<Self, SiteKeyError> {
        if !settings.key.is_empty() {
            return Self::from_hex(settings.key.expose(), "SWITCHBOARD_SITES__KEY");
        }
        let path = Path::new(&settings.key_file);
        let file_error = |source| SiteKeyError::File { path: settings.key_file.clone(), source };
        match std::fs::read_to_string(path) {
            Ok(text) => Self::from_hex(text.trim(), &settings.key_file),
            Err(error) if error.kind() == ErrorKind::NotFound => {
                let mut key = [0u8; KEY_BYTES];
                rand::thread_rng().fill_bytes(&mut key);
                let hex: String = key.iter().map(|byte| format!("{byte:02x}")).collect();
                match create_private(path, &hex) {
                    Ok(()) => Self::from_hex(&hex, &settings.key_file),
                    // Another node on this machine made it first: use that one.
                    Err(error) if error.kind() == ErrorKind::AlreadyExists => {
                        let text = std::fs::read_to_string(path).map_err(file_error)?;
                        Self::from_hex(text.trim(), &settings.key_file)
                    }
                    Err(error) => Err(file_error(error)),
                }
            }
            Err(error) => Err(file_error(error)),
        }
    }

    /// A key from 64 hex digits; `source` names where they came from in the error.
    pub fn from_hex(hex: &str, source: &str) -> Result<Self, SiteKeyError> {
        let malformed = || SiteKeyError::Malformed(source.to_string());
        if hex.len() != 2 * KEY_BYTES || !hex.is_ascii() {
            return Err(malformed());
        }
        let mut key = [0u8; KEY_BYTES];
        for (i, byte) in key.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|_| malformed())?;
        }
        Ok(Self(XChaCha20Poly1305::new(Key::from_slice(&key))))
    }

    /// Seals `secret` for the store: base64 of a random nonce followed by the ciphertext.
    pub fn seal(&self, secret: &str) -> String {
        let mut nonce = [0u8; NONCE_BYTES];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        // Encryption with a valid key and nonce fails only past 256 GiB of text.
        let sealed = self.0.encrypt(XNonce::from_slice(&nonce), secret.as_bytes()).unwrap_or_default();
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// The secret `sealed` holds.
    pub fn open(&self, sealed: &str) -> Result<String, Unsealable> {
        let bytes = URL_SAFE_NO_PAD.decode(sealed).map_err(|_| Unsealable)?;
        if bytes.len() <= NONCE_BYTES {
            return Err(Unsealable);
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_BYTES);
        let plain = self.0.decrypt(XNonce::from_slice(nonce), ciphertext).map_err(|_| Unsealable)?;
        String::from_utf8(plain).map_err(|_| Unsealable)
    }
}

/// The site key, had when first needed: a node with a key given (`SWITCHBOARD_SITES__KEY`) or
/// a key file already there reads it at start (a bad one stops the start); otherwise the file
/// is made only when a site is first registered, so a node nobody registers sites on (an
/// API-only node, a read-only folder) never writes one.
#[derive(Debug)]
pub struct SiteKeyCell {
    settings: SiteSettings,
    key: OnceLock<SiteKey>,
}

impl SiteKeyCell {
    /// The cell for `settings`, read at once when the key is given or its file exists.
    pub fn new(settings: &SiteSettings) -> Result<Self, SiteKeyError> {
        let cell = Self { settings: settings.clone(), key: OnceLock::new() };
        if !settings.key.is_empty() || Path::new(&settings.key_file).exists() {
            cell.get()?;
        }
        Ok(cell)
    }

    /// The key once read or made; `None` before its first use.
    pub fn loaded(&self) -> Option<&SiteKey> {
        self.key.get()
    }

    /// The key, read or made on first use (file I/O then: call it off the async workers).
    pub fn get(&self) -> Result<&SiteKey, SiteKeyError> {
        if let Some(key) = self.key.get() {
            return Ok(key);
        }
        let key = SiteKey::load(&self.settings)?;
        Ok(self.key.get_or_init(|| key))
    }
}

/// A new random signing secret: `sbs_` and 43 base64url characters (256 bits).
pub fn new_secret() -> String {
    let mut bytes = [0u8; KEY_BYTES];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!("{SECRET_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// The start of `secret` that is kept in clear.
pub fn shown_part(secret: &str) -> String {
    secret.chars().take(SHOWN_CHARS).collect()
}

/// Writes `text` to a new file only its owner may read; fails if the file exists.
fn create_private(path: &Path, text: &str) -> std::io::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: char) -> SiteKey {
        SiteKey::from_hex(&byte.to_string().repeat(64), "test").expect("key")
    }

    #[test]
    fn a_sealed_secret_opens_only_with_its_key_and_unaltered() {
        let secret = new_secret();
        let sealed = key('a').seal(&secret);
        assert!(!sealed.contains(&secret[4..]), "the secret is not in clear");
        assert_eq!(key('a').open(&sealed).expect("opens"), secret);
        assert!(key('b').open(&sealed).is_err(), "another key");
        let mut altered = sealed.into_bytes();
        let last = altered.len() - 1;
        altered[last] = if altered[last] == b'A' { b'B' } else { b'A' };
        assert!(key('a').open(&String::from_utf8(altered).expect("ascii")).is_err(), "altered");
    }

    #[test]
    fn two_seals_of_one_secret_differ() {
        assert_ne!(key('a').seal("x"), key('a').seal("x"));
    }

    #[test]
    fn a_malformed_key_is_refused() {
        assert!(SiteKey::from_hex("ab", "t").is_err());
        assert!(SiteKey::from_hex(&"g".repeat(64), "t").is_err());
        assert!(SiteKey::from_hex(&"é".repeat(32), "t").is_err());
    }

    #[test]
    fn the_key_file_is_made_once_private_and_then_reused() {
        let dir = tempfile::tempdir().expect("dir");
        let file = dir.path().join("k");
        let settings = SiteSettings { key_file: file.display().to_string(), ..SiteSettings::default() };
        let sealed = SiteKey::load(&settings).expect("made").seal("s");
        assert_eq!(SiteKey::load(&settings).expect("read").open(&sealed).expect("same key"), "s");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&file).expect("meta").permissions().mode();
            assert_eq!(mode & 0o077, 0, "only the owner may read it: {mode:o}");
        }
    }

    #[test]
    fn the_key_file_is_made_only_when_first_needed() {
        let dir = tempfile::tempdir().expect("dir");
        let file = dir.path().join("k");
        let settings = SiteSettings { key_file: file.display().to_string(), ..SiteSettings::default() };
        let cell = SiteKeyCell::new(&settings).expect("no key needed yet");
        assert!(!file.exists(), "nothing written at start");
        let sealed = cell.get().expect("made on first use").seal("s");
        assert!(file.exists());
        let again = SiteKeyCell::new(&settings).expect("read at start");
        assert_eq!(again.get().expect("key").open(&sealed).expect("same key"), "s");
        let unwritable = SiteSettings { key_file: "/nonexistent/k".into(), ..SiteSettings::default() };
        let cell = SiteKeyCell::new(&unwritable).expect("a start that needs no key");
        assert!(cell.get().is_err(), "the error comes when a key is needed");
    }

    #[test]
    fn new_secrets_are_long_random_and_marked() {
        let (a, b) = (new_secret(), new_secret());
        assert_ne!(a, b);
        assert!(a.starts_with(SECRET_PREFIX) && a.len() == 47, "{a}");
        assert_eq!(shown_part(&a).len(), SHOWN_CHARS);
    }
}
