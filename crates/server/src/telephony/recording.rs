//! Call recording: off by default (seeds 000 and 003: consent first). When
//! `RECORD_CALLS` is on, the caller is told before anything else, and both
//! sides are written as WAV files (`CALLSID-caller.wav`, `CALLSID-agent.wav`,
//! 16-bit mono at the call rate) under `RECORDINGS_DIR`; files older than
//! `RECORDING_RETENTION_DAYS` are deleted when a call ends.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use fluxion_core::audio::wav;
use fluxion_core::speech::BoxFuture;

use super::config::TelephonyConfig;
use super::Provider;
use crate::voice::{Agent, AgentReply};

/// What the caller hears first when calls are recorded.
pub const NOTICE: &str = "La informiamo che questa chiamata viene registrata.";

/// The agent, announcing the recording before its greeting when `recording`.
pub fn announce(agent: Box<dyn Agent>, recording: bool) -> Box<dyn Agent> {
    if recording {
        Box::new(Announcing(agent))
    } else {
        agent
    }
}

struct Announcing(Box<dyn Agent>);

impl Agent for Announcing {
    fn greet(&mut self) -> BoxFuture<'_, String> {
        Box::pin(async move { format!("{NOTICE} {}", self.0.greet().await) })
    }

    fn reply<'a>(&'a mut self, text: &'a str) -> BoxFuture<'a, Result<AgentReply, String>> {
        self.0.reply(text)
    }
}

/// Both sides of one call, kept in memory until the call ends.
#[derive(Debug)]
pub struct Recorder {
    dir: PathBuf,
    name: String,
    rate_hz: u32,
    retention: Duration,
    caller: Mutex<Vec<i16>>,
    agent: Mutex<Vec<i16>>,
}

impl Recorder {
    /// A recorder when `record` (this business's recording setting) is on,
    /// `None` otherwise.
    pub fn start(config: &TelephonyConfig, record: bool, provider: Provider, call_sid: &str, rate_hz: u32) -> Option<Arc<Recorder>> {
        if !record {
            return None;
        }
        let dir = config
            .recordings_dir
            .clone()
            .or_else(|| directories::ProjectDirs::from("", "", "fluxion").map(|d| d.data_dir().join("recordings")))?;
        let safe: String = call_sid.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_')).take(64).collect();
        Some(Arc::new(Recorder {
            dir,
            name: format!("{}-{safe}", provider.as_str()),
            rate_hz,
            retention: Duration::from_secs(u64::from(config.recording_retention_days) * 86_400),
            caller: Mutex::new(Vec::new()),
            agent: Mutex::new(Vec::new()),
        }))
    }

    /// Caller audio, in order.
    pub fn caller(&self, pcm: &[i16]) {
        if let Ok(mut c) = self.caller.lock() {
            c.extend_from_slice(pcm);
        }
    }

    /// Agent audio released at `at_ms` on the call's clock.
    pub fn agent(&self, at_ms: u64, pcm: &[i16]) {
        if let Ok(mut a) = self.agent.lock() {
            let at = (at_ms * u64::from(self.rate_hz) / 1000) as usize;
            if a.len() < at + pcm.len() {
                a.resize(at + pcm.len(), 0);
            }
            a[at..at + pcm.len()].copy_from_slice(pcm);
        }
    }

    /// Writes both files (mode 600) and prunes old recordings; returns the
    /// caller file's path.
    pub fn finish(&self) -> Option<String> {
        let write = || -> anyhow::Result<PathBuf> {
            crate::private_fs::create_dir_all(&self.dir)?;
            let caller_path = self.dir.join(format!("{}-caller.wav", self.name));
            for (path, pcm) in [(caller_path.clone(), &self.caller), (self.dir.join(format!("{}-agent.wav", self.name)), &self.agent)] {
                let pcm = pcm.lock().map_err(|_| anyhow::anyhow!("recording poisoned"))?;
                crate::private_fs::write(&path, &wav::wav_bytes(&pcm, self.rate_hz)?)?;
            }
            prune(&self.dir, self.retention);
            Ok(caller_path)
        };
        match write() {
            Ok(path) => Some(path.display().to_string()),
            Err(e) => {
                tracing::error!(error = %e, "could not write the call recording");
                None
            }
        }
    }
}

/// Deletes a call's recording: the caller file at `caller_path` (as
/// [`Recorder::finish`] returned it) and its agent file beside it. Files
/// already gone are not an error.
///
/// # Errors
/// A file exists and cannot be deleted.
pub fn delete(caller_path: &str) -> std::io::Result<()> {
    let agent = caller_path.strip_suffix("-caller.wav").map(|stem| format!("{stem}-agent.wav"));
    for path in std::iter::once(caller_path.to_string()).chain(agent) {
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
    }
    Ok(())
}

/// Deletes `.wav` files in `dir` older than `retention`.
fn prune(dir: &Path, retention: Duration) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let now = SystemTime::now();
    for entry in entries.flatten() {
        let path = entry.path();
        let old =
            entry.metadata().and_then(|m| m.modified()).ok().and_then(|t| now.duration_since(t).ok()).is_some_and(|age| age > retention);
        if old && path.extension().is_some_and(|e| e == "wav") {
            let _ = std::fs::remove_file(&path);
        }
    }
}
