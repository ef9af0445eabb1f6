//! Logs and metrics: structured tracing with phone numbers and e-mail
//! addresses masked in every line, whichever crate wrote it ([`Masking`]),
//! library targets lowered, and the Prometheus registry behind
//! `GET /metrics`.

use std::borrow::Cow;
use std::io::Write;
use std::sync::OnceLock;

use regex::Regex;
use tracing_subscriber::fmt::MakeWriter;

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

/// Library targets held at `warn` unless `RUST_LOG` names them: at debug
/// level they print whole requests and responses (rmcp: tool results with
/// clients' phone numbers and e-mails; hyper, sqlx: bodies and queries).
pub const QUIET_LIBRARIES: &[&str] =
    &["rmcp", "sqlx", "hyper", "hyper_util", "h2", "reqwest", "tungstenite", "tokio_tungstenite", "tantivy"];

/// The log filter: `rust_log` (default `info`) plus `warn` for each of
/// [`QUIET_LIBRARIES`] it does not name.
pub fn log_filter(rust_log: Option<&str>) -> String {
    let base = rust_log.map(str::trim).filter(|s| !s.is_empty()).unwrap_or("info");
    let mut filter = base.to_string();
    for lib in QUIET_LIBRARIES {
        let named = base.split(',').any(|d| d.trim().split(['=', '[', ':']).next() == Some(lib));
        if !named {
            filter.push_str(&format!(",{lib}=warn"));
        }
    }
    filter
}

/// Installs the global tracing subscriber (`RUST_LOG`, default `info`, see
/// [`log_filter`]) writing masked lines ([`Masking`]) to standard error;
/// JSON lines when `json` is set. Safe to call more than once.
pub fn init_tracing(json: bool) {
    let rust_log = std::env::var("RUST_LOG").ok();
    let filter = tracing_subscriber::EnvFilter::try_new(log_filter(rust_log.as_deref()))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(log_filter(None)));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(Masking(std::io::stderr));
    let _ = if json { builder.json().try_init() } else { builder.try_init() };
}

/// Phone numbers: `+` and 8–15 digits (spaces, dots or dashes between
/// them allowed), 9–15 digits standing alone (Italian numbers without
/// prefix), or groups of 2–4 digits separated by spaces that make 9–15
/// digits together (a number as a caller dictates it and the recogniser
/// writes it: `333 123 4567`). Digits inside identifiers (call SIDs, hex)
/// are not numbers.
const PHONE_PATTERN: &str = r"\+\d(?:[ .\-]?\d){7,14}\b|\b\d{9,15}\b|\b\d{2,4}(?: \d{2,4}){1,6}\b";

/// E-mail addresses.
const EMAIL_PATTERN: &str = r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}";

/// A compiled constant pattern (both compile: the masking tests run them).
fn pattern(cell: &'static OnceLock<Regex>, source: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(source).expect("constant log-masking pattern"))
}

/// Masks an e-mail address for logs: `ada.rossi@example.it` → `a***@example.it`.
pub fn mask_email(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => format!("{}***@{domain}", local.chars().next().unwrap_or('*')),
        None => "***".to_string(),
    }
}

/// `text` with every phone number ([`mask_phone`], separators dropped) and
/// e-mail address ([`mask_email`]) masked. A run of digits right after a
/// `-` (the tail of a UUID) is left alone.
pub fn mask_pii(text: &str) -> Cow<'_, str> {
    static EMAIL: OnceLock<Regex> = OnceLock::new();
    static PHONE: OnceLock<Regex> = OnceLock::new();
    let emails = pattern(&EMAIL, EMAIL_PATTERN).replace_all(text, |c: &regex::Captures<'_>| mask_email(&c[0]));
    let phones = pattern(&PHONE, PHONE_PATTERN).replace_all(&emails, |c: &regex::Captures<'_>| {
        let m = c.get(0).map_or("", |m| m.as_str());
        let start = c.get(0).map_or(0, |m| m.start());
        if !m.starts_with('+') && emails[..start].ends_with('-') {
            return m.to_string();
        }
        let compact: String = m.chars().filter(|ch| *ch == '+' || ch.is_ascii_digit()).collect();
        // Spaced groups are a number only when they make 9–15 digits.
        if !m.starts_with('+') && !(9..=15).contains(&compact.len()) {
            return m.to_string();
        }
        mask_phone(&compact)
    });
    if let Cow::Owned(masked) = phones {
        return Cow::Owned(masked);
    }
    emails
}

/// A tracing writer maker whose writers mask personal data ([`mask_pii`])
/// in each formatted line before handing it to the inner writer.
#[derive(Debug, Clone, Copy)]
pub struct Masking<M>(pub M);

/// The writer of one log line: collects it, masks it when dropped.
#[derive(Debug)]
pub struct MaskedLine<W: Write> {
    inner: W,
    line: Vec<u8>,
}

impl<'a, M: MakeWriter<'a>> MakeWriter<'a> for Masking<M> {
    type Writer = MaskedLine<M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        MaskedLine { inner: self.0.make_writer(), line: Vec::with_capacity(256) }
    }

    fn make_writer_for(&'a self, meta: &tracing::Metadata<'_>) -> Self::Writer {
        MaskedLine { inner: self.0.make_writer_for(meta), line: Vec::with_capacity(256) }
    }
}

impl<W: Write> Write for MaskedLine<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.line.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.line.is_empty() {
            return self.inner.flush();
        }
        let text = String::from_utf8_lossy(&self.line);
        let masked = mask_pii(&text);
        self.inner.write_all(masked.as_bytes())?;
        self.line.clear();
        self.inner.flush()
    }
}

impl<W: Write> Drop for MaskedLine<W> {
    fn drop(&mut self) {
        // A log line that cannot be written is dropped; there is nowhere to report it.
        let _ = self.flush();
    }
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

    /// Collects everything written, for the masking test.
    #[derive(Clone, Default)]
    struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().map_err(|_| std::io::Error::other("poisoned"))?.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Captured {
        type Writer = Captured;
        fn make_writer(&'a self) -> Captured {
            self.clone()
        }
    }

    #[test]
    fn every_log_line_is_masked_at_every_level() {
        let captured = Captured::default();
        for json in [false, true] {
            let builder = tracing_subscriber::fmt().with_max_level(tracing::Level::TRACE).with_writer(Masking(captured.clone()));
            let dispatch = if json { tracing::Dispatch::new(builder.json().finish()) } else { tracing::Dispatch::new(builder.finish()) };
            tracing::dispatcher::with_default(&dispatch, || {
                tracing::debug!(target: "rmcp::service", "response: {{\"telefono\":\"+393331234567\",\"email\":\"ada.rossi@example.it\"}}");
                tracing::trace!(caller = "+39 333 765 4321", "stream started");
                tracing::info!(phone = "3471112222", sid = "CA0123456789abcdef0123456789abcdef", "call from a known client");
            });
        }
        let out = String::from_utf8(captured.0.lock().expect("lock").clone()).expect("utf-8");
        for raw in ["+393331234567", "ada.rossi@example.it", "333 765 4321", "3337654321", "3471112222"] {
            assert!(!out.contains(raw), "{raw} unmasked in:\n{out}");
        }
        assert!(out.contains("+39333*****67"), "{out}");
        assert!(out.contains("a***@example.it"), "{out}");
        assert!(out.contains("CA0123456789abcdef0123456789abcdef"), "identifiers stay readable: {out}");
        assert_eq!(out.lines().count(), 6, "one line per event: {out}");
    }

    #[test]
    fn masks_text_and_keeps_other_numbers() {
        assert_eq!(mask_pii("chiama il 3331234567 o +39 02 1234 5678"), "chiama il 333123**67 o +39021*****78");
        assert_eq!(
            mask_pii("id 550e8400-e29b-41d4-a716-446655440000 took 1234 ms"),
            "id 550e8400-e29b-41d4-a716-446655440000 took 1234 ms"
        );
        assert!(matches!(mask_pii("nothing here 2027-03-10T10:00:00Z"), Cow::Borrowed(_)));
        // Dictated numbers, as Whisper writes them.
        assert_eq!(mask_pii("transcript: il mio numero è 333 123 4567."), "transcript: il mio numero è 333123**67.");
        assert_eq!(mask_pii("sono 347 44 55 667 grazie"), "sono 347445**67 grazie");
        assert_eq!(mask_pii("alle 10 30 del 12, 3 persone, 250 ms"), "alle 10 30 del 12, 3 persone, 250 ms");
        assert_eq!(mask_pii("sample rate 16000 8000 320 frames"), "sample rate 16000 8000 320 frames");
    }

    #[test]
    fn quiets_libraries_not_named() {
        assert_eq!(
            log_filter(None),
            "info,rmcp=warn,sqlx=warn,hyper=warn,hyper_util=warn,h2=warn,reqwest=warn,tungstenite=warn,tokio_tungstenite=warn,tantivy=warn"
        );
        let f = log_filter(Some("debug,sqlx=debug"));
        assert!(f.starts_with("debug,sqlx=debug,rmcp=warn"), "{f}");
        assert!(!f.contains("sqlx=warn"), "{f}");
    }

    #[test]
    fn masks_phones() {
        assert_eq!(mask_phone("+393331234567"), "+39333*****67");
        assert_eq!(mask_phone("12345"), "*****");
    }
}
