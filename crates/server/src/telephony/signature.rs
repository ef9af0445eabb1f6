//! Webhook signatures: proof that a request comes from Twilio or Plivo.
//!
//! - Twilio `X-Twilio-Signature`: base64 of HMAC-SHA1, keyed with the auth
//!   token, over the full request URL followed by every POST parameter sorted
//!   by name, each name immediately followed by its value. Follows Twilio's
//!   "Webhooks security" page (<https://www.twilio.com/docs/usage/webhooks/webhooks-security>)
//!   and twilio-python's `RequestValidator` (the URL is tried with and without
//!   the port; repeated parameters are sorted by value). Requests signed over a
//!   JSON body (`bodySHA256` in the query) are not handled here.
//! - Plivo `X-Plivo-Signature-V3` with `X-Plivo-Signature-V3-Nonce`: base64 of
//!   HMAC-SHA256, keyed with the auth token, over `<url>.<nonce>`, where for a
//!   POST the URL's query is sorted and the POST parameters are appended as
//!   `namevalue` pairs sorted by name. Follows Plivo's "Validate requests"
//!   guide and plivo-python's `validate_v3_signature` (`plivo/utils/signature_v3.py`);
//!   the header may carry several comma-separated signatures (one per active
//!   auth token) and any one of them matching is enough.
//!
//! Comparisons are constant-time ([`subtle`]).

use std::collections::BTreeMap;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// The `X-Twilio-Signature` Twilio computes for a request to `url` (the full
/// URL Twilio requested, query included) with the form-encoded POST `params`
/// (decoded names and values; empty for a GET): base64 of
/// HMAC-SHA1(`auth_token`, url + name₁ + value₁ + name₂ + value₂ …), names sorted,
/// a repeated name's values sorted and deduplicated as twilio-python does.
pub fn twilio_signature(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    let mut data = url.to_owned();
    for (name, values) in grouped(params) {
        let mut values = values;
        values.dedup();
        for value in values {
            data.push_str(name);
            data.push_str(value);
        }
    }
    hmac_base64::<Hmac<Sha1>>(auth_token, &data)
}

/// Whether `header` (the `X-Twilio-Signature` value) is Twilio's signature of
/// a request to `url` with POST `params`. As twilio-python does, the URL is
/// checked both without its port and with the scheme's default port added
/// (`:443` for https, `:80` otherwise), because Twilio may sign either form.
/// A missing header is `false`.
pub fn verify_twilio(auth_token: &str, url: &str, params: &[(String, String)], header: Option<&str>) -> bool {
    let Some(header) = header else { return false };
    let header = header.trim();
    let candidates = [without_port(url), with_port(url)];
    let mut ok = false;
    for candidate in candidates.iter().flatten() {
        ok |= ct_eq(&twilio_signature(auth_token, candidate, params), header);
    }
    ok
}

/// The V3 signature Plivo computes for a request to `url` (full URL, query
/// included) with `nonce` (the `X-Plivo-Signature-V3-Nonce` header), POST
/// `params` and HTTP `method` (`GET` or `POST`, any case), following
/// plivo-python's `validate_v3_signature`:
///
/// - GET: `scheme://host/path`, then `?` and the query and `params` merged
///   (a query name replaces a parameter of the same name), sorted, as
///   `name=value` joined by `&` (nothing when there are none);
/// - POST without parameters: `scheme://host/path`, then `?` and the sorted
///   query if there is one;
/// - POST with parameters: `scheme://host/path?`, the sorted query and a `.`
///   if there is a query, then every parameter as `namevalue`, sorted by name;
///
/// then `.` and the nonce, signed with HMAC-SHA256(`auth_token`) and base64-encoded.
/// Query names and values are percent-decoded first, as Python's `parse_qs` does.
pub fn plivo_v3_signature(auth_token: &str, url: &str, nonce: &str, params: &[(String, String)], method: &str) -> String {
    let (base, query) = split_query(url);
    let query = parse_query(query);
    let mut data = base.to_owned();
    if method.eq_ignore_ascii_case("GET") {
        let mut merged: BTreeMap<&str, Vec<&str>> = grouped(params);
        for (name, values) in grouped(&query) {
            merged.insert(name, values);
        }
        let sorted = query_string(&merged);
        if !sorted.is_empty() {
            data.push('?');
            data.push_str(&sorted);
        }
    } else {
        let sorted = query_string(&grouped(&query));
        if !sorted.is_empty() || !params.is_empty() {
            data.push('?');
            data.push_str(&sorted);
        }
        if !sorted.is_empty() && !params.is_empty() {
            data.push('.');
        }
        for (name, values) in grouped(params) {
            for value in values {
                data.push_str(name);
                data.push_str(value);
            }
        }
    }
    data.push('.');
    data.push_str(nonce);
    hmac_base64::<Hmac<Sha256>>(auth_token, &data)
}

/// Whether `header` (the `X-Plivo-Signature-V3` value, possibly several
/// signatures separated by commas) holds Plivo's V3 signature of the request
/// described as for [`plivo_v3_signature`]. A missing header or nonce is `false`.
pub fn verify_plivo_v3(
    auth_token: &str,
    url: &str,
    nonce: Option<&str>,
    params: &[(String, String)],
    method: &str,
    header: Option<&str>,
) -> bool {
    let (Some(nonce), Some(header)) = (nonce, header) else { return false };
    let expected = plivo_v3_signature(auth_token, url, nonce, params, method);
    let mut ok = false;
    for candidate in header.split(',') {
        ok |= ct_eq(&expected, candidate.trim());
    }
    ok
}

/// Base64 of the HMAC of `data` keyed with `key` (HMAC takes keys of any
/// length, so the empty string for a refused key cannot happen in practice).
fn hmac_base64<M: Mac + KeyInit>(key: &str, data: &str) -> String {
    match <M as KeyInit>::new_from_slice(key.as_bytes()) {
        Ok(mut mac) => {
            mac.update(data.as_bytes());
            BASE64.encode(mac.finalize().into_bytes())
        }
        Err(_) => String::new(),
    }
}

/// Constant-time string equality (lengths are not secret); an empty expected value never matches.
fn ct_eq(expected: &str, given: &str) -> bool {
    !expected.is_empty() && expected.len() == given.len() && bool::from(expected.as_bytes().ct_eq(given.as_bytes()))
}

/// Parameters grouped by name (sorted by code point, as Python sorts
/// strings), each name's values sorted.
fn grouped(params: &[(String, String)]) -> BTreeMap<&str, Vec<&str>> {
    let mut map: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (name, value) in params {
        map.entry(name.as_str()).or_default().push(value.as_str());
    }
    for values in map.values_mut() {
        values.sort_unstable();
    }
    map
}

/// `name=value` pairs joined by `&`, in map order.
fn query_string(map: &BTreeMap<&str, Vec<&str>>) -> String {
    let pairs: Vec<String> = map.iter().flat_map(|(name, values)| values.iter().map(move |value| format!("{name}={value}"))).collect();
    pairs.join("&")
}

/// The URL without fragment and query, and the query (empty when none).
fn split_query(url: &str) -> (&str, &str) {
    let url = url.split_once('#').map_or(url, |(before, _)| before);
    url.split_once('?').unwrap_or((url, ""))
}

/// A query string's `name=value` pairs, percent-decoded with `+` as space;
/// a pair without `=` has an empty value (Python's `parse_qs(keep_blank_values=True)`).
fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(name), percent_decode(value))
        })
        .collect()
}

/// Decodes `%XX` escapes and `+`; malformed escapes stay as written and bad
/// UTF-8 becomes U+FFFD, as Python's `unquote_plus` does.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() && hex(bytes[i + 1]).is_some() && hex(bytes[i + 2]).is_some() => {
                out.push(hex(bytes[i + 1]).unwrap_or(0) * 16 + hex(bytes[i + 2]).unwrap_or(0));
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// `scheme://authority` split from the rest of the URL, and the authority's
/// host part and port (if any); `None` for a URL without `://`.
fn authority(url: &str) -> Option<(&str, &str, Option<&str>, &str)> {
    let (scheme, rest) = url.split_once("://")?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let host_start = authority.rfind('@').map_or(0, |at| at + 1);
    let host_port = &authority[host_start..];
    // A port follows the last ':' unless that ':' is inside an IPv6 literal.
    let port = host_port.rfind(':').filter(|&colon| !host_port[colon..].contains(']')).map(|colon| &host_port[colon + 1..]);
    let host_end = match port {
        Some(p) => authority.len() - p.len() - 1,
        None => authority.len(),
    };
    Some((scheme, &authority[..host_end], port, tail))
}

/// The URL without an explicit port (unchanged when it has none).
fn without_port(url: &str) -> Option<String> {
    let (scheme, host, port, tail) = authority(url)?;
    Some(match port {
        Some(_) => format!("{scheme}://{host}{tail}"),
        None => url.to_owned(),
    })
}

/// The URL with the scheme's default port added when it has none (443 for https, 80 otherwise).
fn with_port(url: &str) -> Option<String> {
    let (scheme, host, port, tail) = authority(url)?;
    Some(match port {
        Some(_) => url.to_owned(),
        None => {
            let default = if scheme.eq_ignore_ascii_case("https") { 443 } else { 80 };
            format!("{scheme}://{host}:{default}{tail}")
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    /// Twilio's documented example ("Webhooks security"): auth token 12345.
    fn twilio_example() -> Vec<(String, String)> {
        pairs(&[
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+12349013030"),
            ("Digits", "1234"),
            ("From", "+12349013030"),
            ("To", "+18005551212"),
        ])
    }
    const TWILIO_URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";
    const TWILIO_SIGNATURE: &str = "0/KCTR6DLpKmkAf8muzZqo1nDgQ=";

    #[test]
    fn twilio_documented_vector() {
        assert_eq!(twilio_signature("12345", TWILIO_URL, &twilio_example()), TWILIO_SIGNATURE);
        // The order the parameters arrive in does not matter.
        let mut shuffled = twilio_example();
        shuffled.reverse();
        assert!(verify_twilio("12345", TWILIO_URL, &shuffled, Some(TWILIO_SIGNATURE)));
    }

    #[test]
    fn twilio_rejects_tampering() {
        let mut tampered = twilio_example();
        tampered[2].1 = "1235".into();
        assert!(!verify_twilio("12345", TWILIO_URL, &tampered, Some(TWILIO_SIGNATURE)));
        assert!(!verify_twilio("12346", TWILIO_URL, &twilio_example(), Some(TWILIO_SIGNATURE)));
        assert!(!verify_twilio("12345", "https://mycompany.com/myapp.php?foo=1&bar=3", &twilio_example(), Some(TWILIO_SIGNATURE)));
        assert!(!verify_twilio("12345", TWILIO_URL, &twilio_example(), None));
        assert!(!verify_twilio("12345", TWILIO_URL, &twilio_example(), Some("")));
    }

    #[test]
    fn twilio_port_variants() {
        let params = twilio_example();
        // Signed without the port, received with it, and the other way round.
        let signed_plain = twilio_signature("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", &params);
        assert!(verify_twilio("12345", "https://mycompany.com:443/myapp.php?foo=1&bar=2", &params, Some(&signed_plain)));
        let signed_port = twilio_signature("12345", "https://mycompany.com:443/myapp.php?foo=1&bar=2", &params);
        assert!(verify_twilio("12345", TWILIO_URL, &params, Some(&signed_port)));
        let signed_http = twilio_signature("12345", "http://example.com:80/voice", &[]);
        assert!(verify_twilio("12345", "http://example.com/voice", &[], Some(&signed_http)));
        assert_eq!(with_port("https://user:pw@h.example/a?b=c"), Some("https://user:pw@h.example:443/a?b=c".into()));
        assert_eq!(without_port("https://[::1]:8443/a"), Some("https://[::1]/a".into()));
        assert_eq!(with_port("https://[::1]/a"), Some("https://[::1]:443/a".into()));
        assert_eq!(without_port("no scheme"), None);
    }

    #[test]
    fn twilio_repeated_parameters_sort_by_value() {
        let a = pairs(&[("Media", "b"), ("Media", "a"), ("Body", "x")]);
        let b = pairs(&[("Body", "x"), ("Media", "a"), ("Media", "b")]);
        assert_eq!(twilio_signature("t", "https://h/x", &a), twilio_signature("t", "https://h/x", &b));
    }

    // Plivo vectors: computed by running plivo-python's signature_v3.py algorithm
    // (construct_get_url / construct_post_url / get_signature_v3, Python 3) on these inputs.
    // The signed strings were, in order: `https://fluxion.example/plivo/answer?CallUUIDabc-123From393331234567To390612345678`,
    // `…/answer?a=1&b=x y.CallUUIDabc-123From393331234567To390612345678`, `…/hangup`,
    // `…/answer?CallUUID=abc-123&From=393331234567&To=390612345678&z=%`, each followed by `.` + nonce.

    #[test]
    fn plivo_signed_strings() {
        let params = pairs(&[("To", "390612345678"), ("CallUUID", "abc-123"), ("From", "393331234567")]);
        // POST with parameters and no query: `url?` + sorted namevalue pairs.
        let expected = "+E/4SCvqHSmh+CNl3APmU0Pm8G+ctxMU+jI/CeYH7Ag=";
        assert_eq!(plivo_v3_signature("token", "https://fluxion.example/plivo/answer", "nonce1", &params, "POST"), expected);
        // POST with a query: sorted query, '.', then the pairs.
        let expected = "0S8AZBXqFxdtJuZYKBX5NBVmEa7+XjnI29KYaF0Ci+8=";
        assert_eq!(plivo_v3_signature("token", "https://fluxion.example/plivo/answer?b=x+y&a=1", "n", &params, "post"), expected);
        // POST without parameters: the URL alone.
        let expected = "U0F6L+Mh4z8BnZse6ae0XBjPNsFELNgDSAVHuuzeybY=";
        assert_eq!(plivo_v3_signature("token", "https://fluxion.example/plivo/hangup", "n", &[], "POST"), expected);
        // GET: query and parameters merged and sorted as name=value&….
        let expected = "UHD+cZ7mLvFxGd83qcnxvvhZdvP5dL4cZP40lPSaHTA=";
        let url = "https://fluxion.example/plivo/answer?z=%25&From=393331234567";
        let get_params = pairs(&[("To", "390612345678"), ("CallUUID", "abc-123")]);
        assert_eq!(plivo_v3_signature("token", url, "n", &get_params, "GET"), expected);
    }

    #[test]
    fn plivo_python_vector() {
        // Computed with plivo-python's algorithm (signature_v3.py, reproduced in Python 3):
        // validate_v3_signature("POST", "https://answer.url?a=1", "12345", "my_auth_token", sig, {"b": "2", "c": "3"}).
        let params = pairs(&[("c", "3"), ("b", "2")]);
        let sig = plivo_v3_signature("my_auth_token", "https://answer.url?a=1", "12345", &params, "POST");
        assert_eq!(sig, PLIVO_PYTHON_SIGNATURE);
        assert!(verify_plivo_v3("my_auth_token", "https://answer.url?a=1", Some("12345"), &params, "POST", Some(PLIVO_PYTHON_SIGNATURE)));
        let several = format!("bm90LXRoaXMtb25l, {PLIVO_PYTHON_SIGNATURE}");
        assert!(verify_plivo_v3("my_auth_token", "https://answer.url?a=1", Some("12345"), &params, "POST", Some(&several)));
    }

    #[test]
    fn plivo_rejects_tampering() {
        let params = pairs(&[("c", "3"), ("b", "2")]);
        let url = "https://answer.url?a=1";
        let tampered = pairs(&[("c", "3"), ("b", "4")]);
        assert!(!verify_plivo_v3("my_auth_token", url, Some("12345"), &tampered, "POST", Some(PLIVO_PYTHON_SIGNATURE)));
        assert!(!verify_plivo_v3("my_auth_token", url, Some("12346"), &params, "POST", Some(PLIVO_PYTHON_SIGNATURE)));
        assert!(!verify_plivo_v3("other", url, Some("12345"), &params, "POST", Some(PLIVO_PYTHON_SIGNATURE)));
        assert!(!verify_plivo_v3("my_auth_token", url, None, &params, "POST", Some(PLIVO_PYTHON_SIGNATURE)));
        assert!(!verify_plivo_v3("my_auth_token", url, Some("12345"), &params, "POST", None));
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%20b+c%zz%4"), "a b c%zz%4");
        assert_eq!(percent_decode("%C3%A8"), "è");
        assert_eq!(parse_query("a=1&b&&c="), pairs(&[("a", "1"), ("b", ""), ("c", "")]));
    }

    const PLIVO_PYTHON_SIGNATURE: &str = "QnL/J11+UAQ7bsjV09RGQigHuJ7NSOPDHl+SkLKrwCs=";
}
