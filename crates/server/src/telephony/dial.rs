//! The provider's side of setting up a call, for the caller simulator, the
//! load tool and the tests: it calls the webhook as the provider does
//! (signed with the account's auth token, or with Exotel's HTTP Basic
//! credentials), reads the stream URL and parameters from the answer, and
//! opens the media-stream WebSocket with the upgrade signed as the provider
//! signs it. A stream opened this way carries a valid token; nothing else does.
//!
//! - Twilio: `POST /twilio/voice` (form `CallSid`, `From`, `To`, `CallStatus`,
//!   `Direction`, `X-Twilio-Signature`) → TwiML `<Stream url>` and its
//!   `<Parameter>`s; the upgrade carries `X-Twilio-Signature` over the `wss://` URL.
//! - Plivo: `POST /plivo/answer` (form `CallUUID`, `From`, `To`,
//!   `X-Plivo-Signature-V3`) → `<Stream extraHeaders>`URL`</Stream>`; the upgrade
//!   carries a V3 signature (method GET) over the URL.
//! - Exotel: `GET /exotel/stream?CallSid&CallFrom&CallTo` with HTTP Basic → `{"url"}`.

use anyhow::{bail, Context};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{HeaderName, HeaderValue};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::signature::{plivo_v3_signature, twilio_signature};
use super::{Provider, TelephonyConfig};

/// The call as the provider announces it.
#[derive(Debug, Clone, Default)]
pub struct CallFacts {
    /// The provider's call id.
    pub call_sid: String,
    /// Caller number (E.164), if shown.
    pub caller: Option<String>,
    /// Called number (E.164).
    pub called: Option<String>,
}

/// Where and how to open the media stream the webhook answer asked for.
#[derive(Debug, Clone)]
pub struct Ticket {
    /// The WebSocket URL to connect to: the server's own address with the
    /// path and query the answer named.
    pub url: String,
    /// Headers of the upgrade request (the provider's signature).
    pub headers: Vec<(String, String)>,
    /// Parameters the provider echoes in `start` (Twilio `<Parameter>`s,
    /// Plivo `extraHeaders`), in order.
    pub params: Vec<(String, String)>,
}

/// An open media-stream WebSocket.
pub type Stream = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Calls `provider`'s webhook on the server at `server` (`http://127.0.0.1:3002`)
/// as the provider would, signing for `config.public_url` (the server's own
/// `PUBLIC_URL`; `server` when unset) with the credentials in `config`.
///
/// # Errors
/// Missing credentials, an unreachable server, a refusal (403, 503), or an
/// answer without a stream (the busy message), with the server's answer.
pub async fn answer(
    http: &reqwest::Client,
    server: &str,
    config: &TelephonyConfig,
    provider: Provider,
    call: &CallFacts,
) -> anyhow::Result<Ticket> {
    let server = server.trim_end_matches('/');
    let public = config.public_url.as_deref().unwrap_or(server).trim_end_matches('/');
    let caller = call.caller.as_deref().unwrap_or_default();
    let called = call.called.as_deref().unwrap_or_default();
    let (stream_url, params, headers) = match provider {
        Provider::Twilio => {
            let token = config.twilio_auth_token.as_deref().context("TWILIO_AUTH_TOKEN is needed to sign the webhook")?;
            let path = "/twilio/voice";
            let form = pairs(&[
                ("CallSid", &call.call_sid),
                ("From", caller),
                ("To", called),
                ("CallStatus", "ringing"),
                ("Direction", "inbound"),
            ]);
            let signature = twilio_signature(token, &format!("{public}{path}"), &form);
            let body = post(http.post(format!("{server}{path}")).header("X-Twilio-Signature", signature).form(&form)).await?;
            let (url, params) = twiml_stream(&body).with_context(|| format!("the server answered without a stream: {body}"))?;
            let headers = vec![("X-Twilio-Signature".to_string(), twilio_signature(token, &url, &[]))];
            (url, params, headers)
        }
        Provider::Plivo => {
            let token = config.plivo_auth_token.as_deref().context("PLIVO_AUTH_TOKEN is needed to sign the webhook")?;
            let path = "/plivo/answer";
            let form = pairs(&[("CallUUID", &call.call_sid), ("From", caller), ("To", called), ("Direction", "inbound")]);
            let nonce = format!("{}{}", call.call_sid, jiff::Timestamp::now().as_nanosecond());
            let signature = plivo_v3_signature(token, &format!("{public}{path}"), &nonce, &form, "POST");
            let request =
                http.post(format!("{server}{path}")).header("X-Plivo-Signature-V3", signature).header("X-Plivo-Signature-V3-Nonce", &nonce);
            let body = post(request.form(&form)).await?;
            let (url, params) = plivo_stream(&body).with_context(|| format!("the server answered without a stream: {body}"))?;
            let signature = plivo_v3_signature(token, &url, &nonce, &[], "GET");
            let headers = vec![("X-Plivo-Signature-V3".to_string(), signature), ("X-Plivo-Signature-V3-Nonce".to_string(), nonce)];
            (url, params, headers)
        }
        Provider::Exotel => {
            let (Some(user), Some(password)) = (&config.exotel_webhook_user, &config.exotel_webhook_password) else {
                bail!("EXOTEL_WEBHOOK_USER and EXOTEL_WEBHOOK_PASSWORD are needed to ask for the stream URL");
            };
            let query = [("CallSid", call.call_sid.as_str()), ("CallFrom", caller), ("CallTo", called), ("Direction", "incoming")];
            let request = http.get(format!("{server}/exotel/stream")).basic_auth(user, Some(password)).query(&query);
            let body = post(request).await?;
            let json: serde_json::Value = serde_json::from_str(&body).with_context(|| format!("not JSON: {body}"))?;
            let url = json.get("url").and_then(|u| u.as_str()).with_context(|| format!("no url in {body}"))?.to_string();
            (url, Vec::new(), Vec::new())
        }
    };
    let public_ws = ws_base(public);
    let path = stream_url.strip_prefix(&public_ws).with_context(|| format!("stream URL {stream_url} is not under {public_ws}"))?;
    Ok(Ticket { url: format!("{}{path}", ws_base(server)), headers, params })
}

/// Opens the ticket's WebSocket with its upgrade headers (4 KiB read buffer).
///
/// # Errors
/// The server refused the upgrade (403, 503) or is unreachable.
pub async fn connect(ticket: &Ticket) -> anyhow::Result<Stream> {
    let mut request = ticket.url.as_str().into_client_request()?;
    for (name, value) in &ticket.headers {
        request.headers_mut().insert(HeaderName::from_bytes(name.as_bytes())?, HeaderValue::from_str(value)?);
    }
    let config = WebSocketConfig::default().read_buffer_size(4 * 1024);
    let (ws, _) = tokio_tungstenite::connect_async_with_config(request, Some(config), true)
        .await
        .with_context(|| format!("connecting to {}", ticket.url))?;
    Ok(ws)
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// Sends the request; the body of a 2xx answer.
async fn post(request: reqwest::RequestBuilder) -> anyhow::Result<String> {
    let response = request.send().await.context("calling the webhook")?;
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    if !status.is_success() {
        bail!("the webhook answered {status}: {body}");
    }
    Ok(body)
}

/// `https://h` → `wss://h`, `http://h` → `ws://h`.
fn ws_base(base: &str) -> String {
    match base.strip_prefix("https://") {
        Some(rest) => format!("wss://{rest}"),
        None => base.replacen("http://", "ws://", 1),
    }
}

/// The stream URL and `<Parameter>`s of a TwiML `<Connect><Stream>`.
fn twiml_stream(twiml: &str) -> Option<(String, Vec<(String, String)>)> {
    let stream = &twiml[twiml.find("<Stream")?..];
    let url = attribute(stream, "url")?;
    let params = stream.split("<Parameter").skip(1).filter_map(|p| Some((attribute(p, "name")?, attribute(p, "value")?))).collect();
    Some((url, params))
}

/// The stream URL and `extraHeaders` pairs of a Plivo `<Stream>`.
fn plivo_stream(xml: &str) -> Option<(String, Vec<(String, String)>)> {
    let stream = &xml[xml.find("<Stream")?..];
    let open_end = stream.find('>')?;
    let url = unescape(&stream[open_end + 1..stream.find("</Stream>")?]);
    let extra = attribute(&stream[..open_end], "extraHeaders").unwrap_or_default();
    let params =
        extra.split([',', ';']).filter_map(|kv| kv.split_once('=')).map(|(k, v)| (k.trim().to_string(), v.trim().to_string())).collect();
    Some((url.trim().to_string(), params))
}

/// The value of `name="…"` in a tag's text, unescaped.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let tag = &tag[..tag.find('>').unwrap_or(tag.len())];
    let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    let len = tag[start..].find('"')?;
    Some(unescape(&tag[start..start + len]))
}

fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"").replace("&apos;", "'").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_answers() {
        let twiml = super::super::twilio::twiml_connect_stream("wss://h.example/twilio/media", &[("token", "a.b_c-d"), ("purpose", "x&y")]);
        let (url, params) = twiml_stream(&twiml).expect("stream");
        assert_eq!(url, "wss://h.example/twilio/media");
        assert_eq!(params, pairs(&[("token", "a.b_c-d"), ("purpose", "x&y")]));
        let xml = super::super::plivo::answer_xml("wss://h.example/plivo/media", "token=t.1");
        assert_eq!(plivo_stream(&xml), Some(("wss://h.example/plivo/media".to_string(), pairs(&[("token", "t.1")]))));
        assert_eq!(twiml_stream(&super::super::twilio::twiml_say_hangup("occupato")), None);
        assert_eq!(ws_base("https://h.example"), "wss://h.example");
    }
}
