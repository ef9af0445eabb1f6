//! Credentials: random tokens (API tokens, session ids, CSRF tokens), their
//! SHA-256 digests (what the store keeps), and Argon2id password hashes
//! (PHC strings, the `argon2` crate's defaults: m = 19 MiB, t = 2, p = 1,
//! OWASP's recommendation).

use std::sync::OnceLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::Engine as _;
use sha2::{Digest, Sha256};

/// Prefix of API tokens, so they are recognisable in configuration files.
pub const TOKEN_PREFIX: &str = "flx_";

/// Shortest accepted password, characters.
pub const MIN_PASSWORD_CHARS: usize = 8;

/// A failure to make a credential.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// The operating system's random source failed.
    #[error("no randomness available: {0}")]
    Random(String),
    /// Hashing failed.
    #[error("password hashing failed: {0}")]
    Hash(String),
    /// The password is too short.
    #[error("the password must have at least {MIN_PASSWORD_CHARS} characters")]
    TooShort,
}

fn random_bytes<const N: usize>() -> Result<[u8; N], SecretError> {
    let mut buf = [0u8; N];
    getrandom::getrandom(&mut buf).map_err(|e| SecretError::Random(e.to_string()))?;
    Ok(buf)
}

/// A new random token: `prefix` followed by 32 random bytes, base64url
/// without padding (256 bits).
///
/// # Errors
/// No randomness.
pub fn random_token(prefix: &str) -> Result<String, SecretError> {
    Ok(format!("{prefix}{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes::<32>()?)))
}

/// SHA-256 of a token, lower-case hex: how tokens and session ids are
/// stored and looked up (they carry 256 random bits, so a fast hash is
/// enough).
pub fn digest(token: &str) -> String {
    Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// Hashes a password with Argon2id and a random 16-byte salt.
///
/// # Errors
/// Shorter than [`MIN_PASSWORD_CHARS`], no randomness, or hashing fails.
pub fn hash_password(password: &str) -> Result<String, SecretError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(SecretError::TooShort);
    }
    let salt = SaltString::encode_b64(&random_bytes::<16>()?).map_err(|e| SecretError::Hash(e.to_string()))?;
    Ok(Argon2::default().hash_password(password.as_bytes(), &salt).map_err(|e| SecretError::Hash(e.to_string()))?.to_string())
}

/// Whether `password` matches the PHC string `hash` (false for a malformed
/// hash).
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// Spends the time of one verification, for unknown user names, so that
/// timing does not tell which names exist.
pub fn verify_nothing(password: &str) {
    static DUMMY: OnceLock<Option<String>> = OnceLock::new();
    if let Some(hash) = DUMMY.get_or_init(|| hash_password("not a real password").ok()) {
        let _ = verify_password(password, hash);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let h = hash_password("correct horse").expect("hash");
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("correct horsf", &h));
        assert!(!verify_password("correct horse", "not a hash"));
        assert!(matches!(hash_password("short"), Err(SecretError::TooShort)));
    }

    #[test]
    fn tokens_are_random_and_stored_as_digests() {
        let a = random_token(TOKEN_PREFIX).expect("token");
        let b = random_token(TOKEN_PREFIX).expect("token");
        assert_ne!(a, b);
        assert!(a.starts_with(TOKEN_PREFIX) && a.len() == TOKEN_PREFIX.len() + 43, "{a}");
        assert_eq!(digest("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
