//! Provider REST calls made during a call: transfer to a person (Twilio:
//! update the live call with `<Dial>`; Plivo: transfer the A leg to an XML
//! that dials), and outbound calls (Twilio: create a call whose answer URL
//! is our `/twilio/voice`). Without a `TRANSFER_NUMBER` (or credentials) a
//! transfer becomes a callback request in the database.

use anyhow::{bail, Context};
use fluxion_core::booking::Repository;
use fluxion_core::history::CallbackRequest;

use super::{Provider, Telephony, TelephonyConfig};
use crate::observability::mask_phone;
use crate::store::Tenant;

/// Hands the caller to a person, or records a callback request when that
/// is not possible. Never fails the call: errors are logged.
pub async fn transfer(t: &Telephony, tenant: &Tenant, provider: Provider, call_sid: &str, caller: Option<&str>) {
    let number = t.config.for_tenant(tenant).await.transfer_number;
    let result = match (&number, provider) {
        (Some(number), Provider::Twilio) => twilio_transfer(t, call_sid, number).await,
        (Some(number), Provider::Plivo) => plivo_transfer(t, call_sid, number).await,
        (Some(_), Provider::Exotel) => Err(anyhow::anyhow!("Exotel streams cannot be transferred through the API")),
        (None, _) => Err(anyhow::anyhow!("no transfer number configured (settings or TRANSFER_NUMBER)")),
    };
    match result {
        Ok(()) => tracing::info!(call_sid, provider = provider.as_str(), "call transferred"),
        Err(e) => {
            tracing::warn!(call_sid, error = %e, "transfer not possible; recording a callback request");
            record_callback(t, tenant, call_sid, caller, "richiesta di parlare con una persona").await;
        }
    }
}

/// Records that the business should call `caller` back (`reason` in Italian,
/// for the staff). Errors are logged.
pub async fn record_callback(t: &Telephony, tenant: &Tenant, call_sid: &str, caller: Option<&str>, reason: &str) {
    let request = CallbackRequest {
        kind: fluxion_core::history::RequestKind::Callback,
        name: None,
        client_id: None,
        phone: caller.map(str::to_string),
        session_id: call_sid.to_string(),
        reason: reason.to_string(),
        created_at: t.app.clock.now(),
    };
    if let Err(e) = tenant.add_callback_request(&request).await {
        tracing::error!(call_sid, error = %e, "could not record the callback request");
    }
}

fn twilio_credentials(config: &TelephonyConfig) -> anyhow::Result<(&str, &str)> {
    match (&config.twilio_account_sid, &config.twilio_auth_token) {
        (Some(sid), Some(token)) => Ok((sid, token)),
        _ => bail!("TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are needed"),
    }
}

async fn twilio_transfer(t: &Telephony, call_sid: &str, number: &str) -> anyhow::Result<()> {
    let (sid, token) = twilio_credentials(&t.config)?;
    let url = format!("{}/2010-04-01/Accounts/{sid}/Calls/{call_sid}.json", t.config.twilio_api_base);
    let twiml = super::twilio::twiml_dial(number);
    let response = t.http.post(&url).basic_auth(sid, Some(token)).form(&[("Twiml", twiml.as_str())]).send().await.context("Twilio API")?;
    if !response.status().is_success() {
        bail!("Twilio API answered HTTP {}", response.status().as_u16());
    }
    Ok(())
}

async fn plivo_transfer(t: &Telephony, call_uuid: &str, number: &str) -> anyhow::Result<()> {
    let (Some(id), Some(token)) = (&t.config.plivo_auth_id, &t.config.plivo_auth_token) else {
        bail!("PLIVO_AUTH_ID and PLIVO_AUTH_TOKEN are needed");
    };
    let Some(aleg_url) = t.config.public("/plivo/transfer") else { bail!("PUBLIC_URL is needed for a Plivo transfer") };
    let url = format!("{}/v1/Account/{id}/Call/{call_uuid}/", t.config.plivo_api_base);
    let body = serde_json::json!({ "legs": "aleg", "aleg_url": aleg_url, "aleg_method": "POST" });
    let response = t.http.post(&url).basic_auth(id, Some(token)).json(&body).send().await.context("Plivo API")?;
    if !response.status().is_success() {
        bail!("Plivo API answered HTTP {}", response.status().as_u16());
    }
    tracing::debug!(number = %mask_phone(number), "Plivo transfer requested");
    Ok(())
}

/// Starts an outbound call to `to` through Twilio; when answered, Twilio
/// fetches `/twilio/voice?purpose=…` and the call joins the media stream
/// like any other. Returns the new call SID.
///
/// # Errors
/// Missing credentials, `PUBLIC_URL` or `from`; a Twilio API error.
pub async fn twilio_call_out_with(
    config: &TelephonyConfig,
    http: &reqwest::Client,
    to: &str,
    from: &str,
    purpose: &str,
) -> anyhow::Result<String> {
    let (sid, token) = twilio_credentials(config)?;
    let Some(answer_url) = config.public(&format!("/twilio/voice?purpose={purpose}")) else {
        bail!("PUBLIC_URL is needed for outbound calls")
    };
    let status_url = config.public("/twilio/status").unwrap_or_default();
    let url = format!("{}/2010-04-01/Accounts/{sid}/Calls.json", config.twilio_api_base);
    let form = [("To", to), ("From", from), ("Url", answer_url.as_str()), ("StatusCallback", status_url.as_str())];
    let response = http.post(&url).basic_auth(sid, Some(token)).form(&form).send().await.context("Twilio API")?;
    let status = response.status();
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    if !status.is_success() {
        bail!("Twilio API answered HTTP {}: {}", status.as_u16(), body.get("message").and_then(|m| m.as_str()).unwrap_or(""));
    }
    body.get("sid").and_then(|s| s.as_str()).map(str::to_string).context("Twilio API answer without a call sid")
}
