//! (being written)
/// Placeholder.
pub fn verify_twilio(_auth_token: &str, _url: &str, _params: &[(String, String)], _header: Option<&str>) -> bool {
    false
}
/// Placeholder.
pub fn verify_plivo_v3(
    _auth_token: &str,
    _url: &str,
    _nonce: Option<&str>,
    _params: &[(String, String)],
    _method: &str,
    _header: Option<&str>,
) -> bool {
    false
}
