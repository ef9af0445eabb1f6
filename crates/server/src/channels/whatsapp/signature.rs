//! `X-Hub-Signature-256`: Meta signs every webhook delivery with
//! HMAC-SHA256 of the **raw** request body, keyed with the app secret, sent
//! as `sha256=<64 lowercase hex digits>` (Meta, "Webhooks — Validate
//! payloads"). Compared in constant time.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// Why a delivery's signature was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureError {
    /// No `X-Hub-Signature-256` header (HTTP 401).
    Missing,
    /// A header that is malformed or does not match the body (HTTP 403).
    Invalid,
}

/// The header value Meta sends for `body` signed with `app_secret`.
pub fn sign(app_secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(app_secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256=");
    for b in digest {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// Checks `header` (the `X-Hub-Signature-256` value, if any) against `body`.
///
/// # Errors
/// [`SignatureError::Missing`] without a header; [`SignatureError::Invalid`]
/// when it is not `sha256=` plus 64 hex digits or does not match.
pub fn verify(app_secret: &str, body: &[u8], header: Option<&str>) -> Result<(), SignatureError> {
    let header = header.map(str::trim).filter(|h| !h.is_empty()).ok_or(SignatureError::Missing)?;
    let given = header.strip_prefix("sha256=").ok_or(SignatureError::Invalid)?.to_ascii_lowercase();
    let expected = sign(app_secret, body);
    if given.len() == 64 && bool::from(given.as_bytes().ct_eq(&expected.as_bytes()[7..])) {
        Ok(())
    } else {
        Err(SignatureError::Invalid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vector() {
        // HMAC-SHA256(key = "It's a Secret to Everybody", "Hello, World!"), the
        // example of GitHub's webhook documentation, which uses the same scheme.
        let header = sign("It's a Secret to Everybody", b"Hello, World!");
        assert_eq!(header, "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17");
        assert_eq!(verify("It's a Secret to Everybody", b"Hello, World!", Some(&header)), Ok(()));
        assert_eq!(
            verify("It's a Secret to Everybody", b"Hello, World!", Some(&header.to_uppercase().replace("SHA256", "sha256"))),
            Ok(())
        );
    }

    #[test]
    fn refusals() {
        let good = sign("k", b"body");
        assert_eq!(verify("k", b"body", None), Err(SignatureError::Missing));
        assert_eq!(verify("k", b"body", Some("")), Err(SignatureError::Missing));
        assert_eq!(verify("k", b"body!", Some(&good)), Err(SignatureError::Invalid));
        assert_eq!(verify("other", b"body", Some(&good)), Err(SignatureError::Invalid));
        assert_eq!(verify("k", b"body", Some(&good[7..])), Err(SignatureError::Invalid));
        assert_eq!(verify("k", b"body", Some("sha256=abc")), Err(SignatureError::Invalid));
        assert_eq!(verify("k", b"body", Some("sha1=".to_string().as_str())), Err(SignatureError::Invalid));
    }
}
