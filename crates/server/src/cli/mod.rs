//! The `fluxion` command line: `serve` ([`serve`]), `chat`, `mcp`, `nlu
//! parse|eval`, the database commands in [`db`]: `db init|seed`, `tenant
//! add|list`, the operating commands in [`ops`]: `backup`, `restore`,
//! `service install|uninstall|print`, and the voice commands in [`voice`]:
//! `stt`, `tts`, `call`, `doctor`.

pub mod auth;
pub mod check;
pub mod db;
pub mod ops;
pub mod serve;
pub mod setup;
pub mod voice;

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use jiff::tz::TimeZone;

use fluxion_core::booking::{Channel, Repository, Vertical};
use fluxion_core::nlu::l1_intent::{cross_validate, parse_examples, TrainConfig, TRAINING_DATA};
use fluxion_core::nlu::{Pipeline, PipelineConfig};

use crate::app;
use crate::clock::{parse_now, Clock};
use crate::seed::SeedData;
pub use db::{DbArgs, DbCommand, TenantCommand};

/// Fluxion: an offline Italian AI receptionist.
#[derive(Debug, Parser)]
#[command(name = "fluxion", version, about)]
pub struct Cli {
    /// Configuration file (TOML; its keys are the environment variables,
    /// which override it) [default: FLUXION_CONFIG, ./fluxion.toml, or
    /// ~/.config/fluxion/fluxion.toml].
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the HTTP server. On an empty database it starts in set-up mode
    /// (create the business in the browser or with `fluxion setup`) unless
    /// --vertical asks for a demo business.
    Serve(serve::ServeArgs),
    /// Serve MCP (Model Context Protocol) over standard input/output for a
    /// local MCP client (seeds a demo business into an empty database).
    Mcp {
        #[command(flatten)]
        db: DbArgs,
        /// Vertical of the demo business seeded into an empty database.
        #[arg(long, default_value = "salone")]
        vertical: Vertical,
        /// Fixed "now" (RFC 3339).
        #[arg(long)]
        now: Option<String>,
    },
    /// Talk to the receptionist in the terminal.
    Chat {
        #[command(flatten)]
        db: DbArgs,
        /// Caller's phone number (identifies a known client).
        #[arg(long)]
        phone: Option<String>,
        /// Vertical of the demo business seeded into an empty database.
        #[arg(long, default_value = "salone")]
        vertical: Vertical,
        /// Fixed "now" (RFC 3339).
        #[arg(long)]
        now: Option<String>,
    },
    /// The NLU pipeline on its own.
    Nlu {
        /// What to do.
        #[command(subcommand)]
        command: NluCommand,
    },
    /// Database maintenance.
    Db {
        /// What to do.
        #[command(subcommand)]
        command: DbCommand,
    },
    /// Create your own business on an empty database: name, vertical,
    /// address, numbers, time zone, hours, services, operators, FAQ
    /// templates and the owner's account (asks for what flags do not give).
    Setup(setup::SetupArgs),
    /// Console accounts.
    User {
        /// What to do.
        #[command(subcommand)]
        command: auth::UserCommand,
    },
    /// API tokens for machine clients.
    Token {
        /// What to do.
        #[command(subcommand)]
        command: auth::TokenCommand,
    },
    /// The businesses of a deployment (tenants).
    Tenant {
        /// What to do.
        #[command(subcommand)]
        command: TenantCommand,
    },
    /// Transcribe a WAV file with the configured speech-to-text engine
    /// (`STT_ENGINE`, default local Whisper).
    Stt {
        /// The recording (WAV, mono or stereo, 8–96 kHz).
        file: PathBuf,
        /// Print JSON {engine, text, confidence, audio_ms, elapsed_ms}.
        #[arg(long)]
        json: bool,
    },
    /// Speak Italian text into a WAV file with the configured voice
    /// (`TTS_ENGINE`, `TTS_FALLBACK`).
    Tts {
        /// The text.
        text: String,
        /// Output WAV file.
        #[arg(long)]
        out: PathBuf,
        /// Output rate in Hz [default: the engine's own].
        #[arg(long)]
        rate: Option<u32>,
    },
    /// Run a whole simulated phone call from a recording of the caller:
    /// prints each turn with its timings and writes the agent's side.
    Call {
        #[command(flatten)]
        db: DbArgs,
        /// The caller's side (WAV of any supported rate).
        #[arg(long = "in")]
        input: PathBuf,
        /// Where to write the agent's side (WAV at the call rate).
        #[arg(long = "out")]
        output: PathBuf,
        /// Caller ID (E.164); a known client is greeted by name.
        #[arg(long)]
        phone: Option<String>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        /// Play the recording in real time (talking over the agent is a
        /// barge-in) instead of waiting for the agent at each turn.
        #[arg(long)]
        realtime: bool,
        /// Call audio rate in Hz: 8000 (phone) or 16000.
        #[arg(long, default_value_t = 8000)]
        rate: u32,
        /// Do not recognise speech: give each detected turn the next line of
        /// this file (the scripted recogniser, for trying without a model).
        #[arg(long)]
        script: Option<PathBuf>,
        /// Vertical of the demo business seeded into an empty database.
        #[arg(long, default_value = "salone")]
        vertical: Vertical,
        /// Fixed "now" (RFC 3339).
        #[arg(long)]
        now: Option<String>,
    },
    /// Play a WAV into a running Fluxion as a phone provider would (its
    /// media-stream messages, 20 ms frames in real time), print what the
    /// agent said with timings, and write the agent's audio to a WAV.
    SimulateCall {
        /// twilio, plivo or exotel.
        #[arg(long)]
        provider: crate::telephony::Provider,
        /// The caller's recording (WAV of any supported rate).
        #[arg(long)]
        wav: PathBuf,
        /// The server's base URL [default: http://127.0.0.1:3002]. The call is
        /// set up through its webhook, signed with this environment's
        /// PUBLIC_URL and TWILIO_AUTH_TOKEN / PLIVO_AUTH_TOKEN /
        /// EXOTEL_WEBHOOK_USER and EXOTEL_WEBHOOK_PASSWORD, as the provider does.
        #[arg(long)]
        url: Option<String>,
        /// Where to write the agent's audio (8000 Hz WAV).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Caller ID (E.164).
        #[arg(long)]
        caller: Option<String>,
        /// Playback speed (1 = real time).
        #[arg(long, default_value_t = 1.0)]
        speed: f64,
        /// Play the recording straight through instead of waiting for the
        /// agent between its lines (talking over the agent is a barge-in).
        #[arg(long)]
        no_turn_taking: bool,
        /// Keypad digits to press after the recording (e.g. "1").
        #[arg(long, default_value = "")]
        dtmf: String,
    },
    /// Start an outbound call through Twilio (a callback or a confirmation)
    /// that joins the same media stream as incoming calls.
    CallOut {
        /// Number to call (E.164).
        #[arg(long)]
        to: String,
        /// Why: callback or confirmation.
        #[arg(long, default_value = "callback")]
        purpose: String,
        /// Caller ID to call from (a Twilio number) [env: TWILIO_FROM_NUMBER].
        #[arg(long, env = "TWILIO_FROM_NUMBER")]
        from: String,
    },
    /// Back the SQLite database up now: a consistent copy (taken while the
    /// server writes), checked, mode 600, named by date; the last 7 are kept.
    /// (`serve` does it daily unless BACKUP_DAILY=0.)
    Backup(ops::BackupArgs),
    /// Replace the SQLite database with a backup, after checking its
    /// integrity (stop the server first); the replaced file is kept as
    /// `<db>.pre-restore`.
    Restore(ops::RestoreArgs),
    /// Run Fluxion as a service: the systemd unit (Linux) or the LaunchAgent (macOS).
    Service {
        /// What to do.
        #[command(subcommand)]
        command: ops::ServiceCommand,
    },
    /// Configuration: `fluxion config check` lists every problem at once.
    Config {
        /// What to do.
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Local speech models: list the catalogue or download one.
    Models {
        /// What to do.
        #[command(subcommand)]
        command: ModelsCommand,
    },
    /// Check every configured component (database, VAD, speech-to-text,
    /// text-to-speech, cloud keys) and print a health report.
    Doctor {
        #[command(flatten)]
        db: DbArgs,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `fluxion nlu …`.
#[derive(Debug, Subcommand)]
pub enum NluCommand {
    /// Print one JSON object {intent, confidence, layer, slots} per sentence
    /// (TEXT, or one sentence per line of standard input).
    Parse {
        /// Use the services, operators, FAQs and time zone of the business in
        /// this database instead of the demo data of `--vertical`.
        #[command(flatten)]
        db: DbArgs,
        /// Reference "now" (RFC 3339; without offset it is local time in
        /// Europe/Rome) [default: the system clock].
        #[arg(long)]
        now: Option<String>,
        /// Vertical whose demo services, operators and FAQs are used.
        #[arg(long, default_value = "salone")]
        vertical: Vertical,
        /// The sentence; omitted: read standard input.
        text: Vec<String>,
    },
    /// k-fold held-out accuracy of the intent classifier (L1 alone, and L0+L1).
    Eval {
        /// Number of folds.
        #[arg(long, default_value_t = 5)]
        folds: usize,
    },
}

/// `fluxion config …`.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Check the configuration file and environment: engine names, model
    /// files and keys, numbers, provider settings.
    Check,
}

/// `fluxion models …`.
#[derive(Debug, Subcommand)]
pub enum ModelsCommand {
    /// The downloadable models, and which are present in FLUXION_MODELS_DIR.
    List,
    /// Download a model (e.g. base-q5_1, tiny-q5_1) into FLUXION_MODELS_DIR,
    /// checking its size and SHA-256.
    Download {
        /// Catalogue name.
        name: String,
        /// Target directory [default: FLUXION_MODELS_DIR, or ./models].
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Copy a Whisper model file (ggml .bin) into FLUXION_MODELS_DIR, for
    /// machines without network: SHA-256 checked against the catalogue when
    /// it is a known upstream file, accepted with a warning otherwise.
    Import {
        /// The model file.
        file: PathBuf,
        /// Target directory [default: FLUXION_MODELS_DIR, or ./models].
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Write a Whisper model with the real tiny or base tensor shapes and
    /// generated (random) weights, to try the whole pipeline and measure its
    /// speed without downloading: it loads and runs like a real model but
    /// hears nonsense. Select it with WHISPER_MODEL=FILE.
    StandIn {
        /// tiny or base.
        #[arg(long, default_value = "tiny")]
        shape: String,
        /// Target directory [default: FLUXION_MODELS_DIR, or ./models].
        #[arg(long)]
        dir: Option<PathBuf>,
    },
}

async fn open_seeded(db: &DbArgs, vertical: Vertical) -> anyhow::Result<crate::store::Store> {
    db.open_seeded(vertical).await
}

fn clock(now: Option<&str>) -> anyhow::Result<Clock> {
    match now {
        None => Ok(Clock::System),
        Some(s) => Ok(Clock::Fixed(parse_now(s, &TimeZone::get("Europe/Rome")?).map_err(anyhow::Error::msg)?)),
    }
}

/// Runs the command with the configuration file already applied to the
/// environment (see `main`).
///
/// # Errors
/// Anything that stops the command; printed by `main`.
pub async fn run(cli: Cli, config: crate::config::ConfigFile) -> anyhow::Result<()> {
    match cli.command {
        Command::Config { command: ConfigCommand::Check } => check::check(&config),
        Command::Serve(args) => serve::serve(args).await,
        Command::Mcp { db, vertical, now } => {
            crate::observability::init_tracing(false);
            let store = open_seeded(&db, vertical).await?;
            let tenant = store.default_tenant().await?.context("no business")?;
            let engine = Arc::new(app::build_engine(tenant, Channel::Staff).await?);
            crate::mcp::serve_stdio(engine, clock(now.as_deref())?).await?;
            Ok(())
        }
        Command::Chat { db, phone, vertical, now } => chat(db, phone, vertical, now).await,
        Command::Nlu { command: NluCommand::Parse { db, now, vertical, text } } => nlu_parse(db, now, vertical, text).await,
        Command::Nlu { command: NluCommand::Eval { folds } } => {
            let ex = parse_examples(TRAINING_DATA)?;
            let l1 = cross_validate(&ex, folds, TrainConfig::default(), false);
            let l01 = cross_validate(&ex, folds, TrainConfig::default(), true);
            println!("examples: {}  folds: {folds}", ex.len());
            println!("L1 alone held-out accuracy: {:.3} ({}/{})", l1.accuracy(), l1.correct, l1.total);
            println!("L0+L1 held-out accuracy:   {:.3} ({}/{})", l01.accuracy(), l01.correct, l01.total);
            Ok(())
        }
        Command::Db { command } => db::db(command).await,
        Command::Backup(args) => ops::backup(args).await,
        Command::Restore(args) => ops::restore(args).await,
        Command::Service { command } => ops::service(command),
        Command::Tenant { command } => db::tenant(command).await,
        Command::User { command } => auth::user(command).await,
        Command::Setup(args) => setup::setup(args).await,
        Command::Token { command } => auth::token(command).await,
        Command::Stt { file, json } => voice::stt(&file, json).await,
        Command::Tts { text, out, rate } => voice::tts(&text, &out, rate).await,
        Command::Call { db, input, output, phone, json, realtime, rate, script, vertical, now } => {
            voice::call(voice::CallArgs { input, output, phone, json, realtime, rate_hz: rate, script, db, vertical, now }).await
        }
        Command::Doctor { db, json } => voice::doctor(&db, json).await,
        Command::SimulateCall { provider, wav, url, out, caller, speed, no_turn_taking, dtmf } => {
            voice::simulate_call(provider, &wav, url, out, caller, speed, !no_turn_taking, dtmf.chars().collect()).await
        }
        Command::CallOut { to, purpose, from } => voice::call_out(&to, &purpose, &from).await,
        Command::Models { command: ModelsCommand::List } => voice::models_list(),
        Command::Models { command: ModelsCommand::Download { name, dir } } => voice::models_download(&name, dir).await,
        Command::Models { command: ModelsCommand::Import { file, dir } } => voice::models_import(&file, dir).await,
        Command::Models { command: ModelsCommand::StandIn { shape, dir } } => voice::models_stand_in(&shape, dir),
    }
}

async fn nlu_parse(db: DbArgs, now: Option<String>, vertical: Vertical, text: Vec<String>) -> anyhow::Result<()> {
    let with_db = db.db.is_some() || std::env::var("DATABASE_URL").is_ok_and(|u| !u.trim().is_empty());
    let (pipeline, tz) = match with_db {
        true => {
            let store = db.open().await?;
            let tenant = store.default_tenant().await?.context("the database holds no business (run `fluxion db seed`)")?;
            let b = tenant.business().await?;
            let p = Pipeline::new(
                b.vertical,
                &tenant.services().await?,
                &tenant.operators().await?,
                &tenant.faqs().await?,
                PipelineConfig::default(),
            )?;
            (p, TimeZone::get(&b.timezone)?)
        }
        false => {
            let seed = SeedData::demo(vertical)?;
            let p = Pipeline::new(vertical, &seed.services(), &seed.operators(), &seed.faqs(), PipelineConfig::default())?;
            (p, TimeZone::get("Europe/Rome")?)
        }
    };
    let now = match now.as_deref() {
        Some(s) => parse_now(s, &tz).map_err(anyhow::Error::msg)?,
        None => jiff::Timestamp::now(),
    }
    .to_zoned(tz)
    .datetime();
    let print = |line: &str, out: &mut dyn Write| -> anyhow::Result<()> {
        let r = pipeline.parse(line, now);
        let json = serde_json::json!({
            "text": line,
            "intent": r.intent,
            "confidence": (f64::from(r.confidence) * 1000.0).round() / 1000.0,
            "layer": r.layer,
            "slots": r.slots,
        });
        writeln!(out, "{json}")?;
        Ok(())
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if text.is_empty() {
        for line in std::io::stdin().lock().lines() {
            let line = line?;
            if line.trim().is_empty() {
                continue;
            }
            print(line.trim(), &mut out)?;
        }
    } else {
        print(&text.join(" "), &mut out)?;
    }
    Ok(())
}

async fn chat(db: DbArgs, phone: Option<String>, vertical: Vertical, now: Option<String>) -> anyhow::Result<()> {
    crate::observability::init_tracing(false);
    let store = open_seeded(&db, vertical).await?;
    let tenant = store.default_tenant().await?.context("no business")?;
    let engine = Arc::new(app::build_engine(tenant, Channel::Chat).await?);
    let clock = clock(now.as_deref())?;
    let phone = phone.as_deref().map(crate::api::voice::caller_phone).transpose().map_err(|e| anyhow::anyhow!("{e}"))?;
    let session = format!("chat-{}", jiff::Timestamp::now().as_second());
    let mut dialogue = engine.dialogue_for(phone.as_deref()).await;
    let name = dialogue.client().map(|c| c.name.split_whitespace().next().unwrap_or("").to_string());
    let greeting = match name {
        Some(n) => format!("Buongiorno {n}, sono l'assistente di {}. Come posso aiutarla?", engine.info().business.name),
        None => format!("Buongiorno, sono l'assistente di {}. Come posso aiutarla?", engine.info().business.name),
    };
    println!("Fluxion: {greeting}");
    let stdin = std::io::stdin();
    let mut line = String::new();
    loop {
        print!("Tu: ");
        std::io::stdout().flush()?;
        line.clear();
        if stdin.lock().read_line(&mut line)? == 0 {
            println!();
            break;
        }
        let text = line.trim();
        if text.is_empty() {
            continue;
        }
        if text.chars().count() > crate::api::voice::MAX_TEXT_CHARS {
            println!("Fluxion: Il messaggio è troppo lungo, può riassumere?");
            continue;
        }
        let report = engine.turn(&mut dialogue, &session, text, clock.now()).await?;
        println!("Fluxion: {}", report.reply);
        if report.ended {
            break;
        }
    }
    Ok(())
}
