//! Logs and metrics: structured tracing with phone numbers masked, and the
//! Prometheus registry behind `GET /metrics`.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

/// Turns counted by intent and layer.
pub const TURNS_TOTAL: &str = "fluxion_turns_total";
/// Whole-turn processing time, seconds.
pub const TURN_SECONDS: &str = "fluxion_turn_duration_seconds";
/// Per-layer processing time, seconds, labelled `layer`.
pub const LAYER_SECONDS: &str = "fluxion_layer_duration_seconds";
/// Bookings created, moved, cancelled; labelled `action`.
pub const BOOKINGS_TOTAL: &str = "fluxion_bookings_total";
/// L4 model calls, labelled `outcome` (ok, cached, timeout, rate_limited, circuit_open, error).
pub const LLM_REQUESTS_TOTAL: &str = "fluxion_llm_requests_total";
/// L4 turn time including tool rounds, seconds.
pub const LLM_SECONDS: &str = "fluxion_llm_duration_seconds";
/// Tokens used by L4 (prompt + completion).
pub const LLM_TOKENS_TOTAL: &str = "fluxion_llm_tokens_total";
/// HTTP requests rejected as bad input; labelled `reason`.
pub const REJECTED_TOTAL: &str = "fluxion_rejected_requests_total";

/// Masks a phone number for logs: `+393331234567` → `+39333*****67`.
pub fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.chars().collect();
    if chars.len() <= 6 {
        return "*".repeat(chars.len());
    }
    let keep_head = 6.min(chars.len() - 2);
    chars.iter().enumerate().map(|(i, c)| if i < keep_head || i >= chars.len() - 2 { *c } else { '*' }).collect()
}

/// Installs the global tracing subscriber (`RUST_LOG`, default `info`);
/// JSON lines when `json` is set. Safe to call more than once.
pub fn init_tracing(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,sqlx=warn,rmcp=warn,tantivy=warn".into());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = if json { builder.json().try_init() } else { builder.try_init() };
}

/// How often histogram samples are folded into their buckets, so memory
/// stays bounded between scrapes (per-frame histograms record 50 samples
/// per second per call).
pub const METRICS_UPKEEP_INTERVAL: std::time::Duration = std::time::Duration::from_secs(5);

/// The process-wide Prometheus recorder, installed on first use, with a
/// background thread running its upkeep every [`METRICS_UPKEEP_INTERVAL`].
pub fn metrics_handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let buckets = [0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5];
        let recorder = PrometheusBuilder::new()
            .set_buckets(&buckets)
            .map(|b| b.build_recorder())
            .unwrap_or_else(|_| PrometheusBuilder::new().build_recorder());
        let handle = recorder.handle();
        let _ = metrics::set_global_recorder(recorder);
        let upkeep = handle.clone();
        let spawned = std::thread::Builder::new().name("metrics-upkeep".to_string()).spawn(move || loop {
            std::thread::sleep(METRICS_UPKEEP_INTERVAL);
            upkeep.run_upkeep();
        });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "no metrics upkeep thread; histogram samples accumulate until scraped");
        }
        handle
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_phones() {
        assert_eq!(mask_phone("+393331234567"), "+39333*****67");
        assert_eq!(mask_phone("12345"), "*****");
    }
}
