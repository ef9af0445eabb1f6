//! `fluxion serve`: the HTTP server (API, console, telephony, WhatsApp), the
//! MCP HTTP server, the daily retention purge and backup, the relay of
//! live announcements between instances on PostgreSQL, and the graceful
//! shutdown of [`crate::lifecycle`] on SIGTERM or Ctrl-C.

use std::net::IpAddr;
use std::sync::Arc;

use anyhow::{bail, Context};
use clap::Args;

use fluxion_core::booking::{Channel, Vertical};

use super::{clock, open_seeded, DbArgs};
use crate::app::{self, AppState};

/// `fluxion serve`'s options.
#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    db: DbArgs,
    /// Address to bind; 127.0.0.1 unless told otherwise.
    #[arg(long, env = "FLUXION_HOST", default_value = "127.0.0.1")]
    host: IpAddr,
    /// Port (seed 000: 3002).
    #[arg(long, env = "FLUXION_PORT", default_value_t = 3002)]
    port: u16,
    /// Seed this vertical's demo business into an empty database
    /// (salone, wellness, medical, auto); without it an empty database
    /// starts in set-up mode.
    #[arg(long)]
    vertical: Option<Vertical>,
    /// Fixed "now" (RFC 3339), for demos and tests.
    #[arg(long)]
    now: Option<String>,
    /// Log JSON lines instead of text.
    #[arg(long)]
    log_json: bool,
    /// Address of the MCP HTTP server (`/mcp`); a non-loopback address
    /// needs `MCP_TOKEN`.
    #[arg(long, env = "MCP_HOST", default_value = "127.0.0.1")]
    mcp_host: IpAddr,
    /// Port of the MCP HTTP server (seed 000: 5000).
    #[arg(long, env = "MCP_PORT", default_value_t = crate::mcp::DEFAULT_PORT)]
    mcp_port: u16,
    /// Do not start the MCP HTTP server.
    #[arg(long)]
    no_mcp: bool,
}

/// Runs the server until a shutdown signal (then drains the calls in
/// progress, see [`crate::lifecycle`]) or a failure.
///
/// # Errors
/// Bad settings, the database, a port that cannot be bound, or a server failure.
pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let ServeArgs { db, host, port, vertical, now, log_json, mcp_host, mcp_port, no_mcp } = args;
    crate::observability::init_tracing(log_json);
    let mcp_token = std::env::var("MCP_TOKEN").ok().filter(|t| !t.is_empty());
    if !no_mcp && !mcp_host.is_loopback() && mcp_token.is_none() {
        bail!(
            "--mcp-host {mcp_host} is not a loopback address: set MCP_TOKEN (clients send Authorization: Bearer <token>) or pass --no-mcp"
        );
    }
    let guard = crate::guard::HttpGuard::from_env()?;
    let retention_days =
        crate::store::retention::retention_days(std::env::var("DATA_RETENTION_DAYS").ok().as_deref()).map_err(anyhow::Error::msg)?;
    let drain = crate::lifecycle::drain_from(std::env::var("SHUTDOWN_DRAIN_MS").ok().as_deref()).map_err(anyhow::Error::msg)?;
    let backup_daily = crate::store::backup::daily_enabled(std::env::var("BACKUP_DAILY").ok().as_deref()).map_err(anyhow::Error::msg)?;
    let db_url = db.url()?;
    let store = match vertical {
        Some(v) => open_seeded(&db, v).await?,
        None => db.open().await?,
    };
    let clock = clock(now.as_deref())?;
    let listener = tokio::net::TcpListener::bind((host, port)).await.with_context(|| format!("binding {host}:{port}"))?;
    let Some(listener) = setup_mode_until_done(listener, &store).await? else { return Ok(()) };
    let state = AppState::new(store, clock).await?;
    let addr = listener.local_addr()?;
    let mcp = if no_mcp {
        None
    } else {
        let l = tokio::net::TcpListener::bind((mcp_host, mcp_port)).await.with_context(|| format!("binding MCP {mcp_host}:{mcp_port}"))?;
        Some((l, Arc::new(app::build_engine(state.engines.default_tenant(), Channel::Staff).await?)))
    };
    let business = state.engine().info().business.name.clone();
    tracing::info!(%addr, %business, database = state.store.dialect().as_str(), "Fluxion listening");
    println!("Fluxion listening on http://{addr} ({business})");
    if let Some(hint) = crate::speech::models::missing_model_hint(&crate::speech::models_dir()) {
        println!("{hint}");
    }
    let (stop, _) = tokio::sync::watch::channel(false);
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    // Either server ending (signal or failure) stops the other.
    let telephony = crate::telephony::Telephony::from_env(state.clone()).await?;
    // Voice notes are heard by the engine phone calls use.
    let voice_notes = telephony.speech.as_ref().ok().map(|kit| kit.stt.clone());
    let whatsapp = crate::channels::whatsapp::WhatsApp::from_env(state.clone(), voice_notes)?;
    let notify_config = crate::notify::NotifyConfig::from_env().map_err(anyhow::Error::msg)?;
    let sender = crate::notify::Sender::new(&notify_config, &whatsapp.config).map_err(anyhow::Error::msg)?;
    crate::notify::start(&state.store, notify_config, sender, state.clock, || stopped(stop.subscribe()));
    let routes = app::router(state.clone()).merge(crate::telephony::router(telephony)).merge(crate::channels::whatsapp::router(whatsapp));
    tokio::spawn(crate::store::retention::run_daily(state.store.clone(), state.clock, retention_days, stopped(stop.subscribe())));
    // PostgreSQL: the console's live view also shows the other instances' writes.
    let relay_store = state.store.clone();
    let relay_stop = stopped(stop.subscribe());
    tokio::spawn(async move { relay_store.relay_events(relay_stop).await });
    match (&db_url, backup_daily) {
        (crate::store::DatabaseUrl::Sqlite(path), true) => {
            let dir = std::env::var_os("BACKUP_DIR").filter(|d| !d.is_empty()).map(std::path::PathBuf::from);
            let dir = dir.unwrap_or_else(|| crate::store::backup::default_dir(path));
            tracing::info!(dir = %dir.display(), keep = crate::store::backup::KEEP_DAILY, "daily backups on");
            tokio::spawn(crate::store::backup::run_daily(state.store.clone(), dir, state.clock, stopped(stop.subscribe())));
        }
        (crate::store::DatabaseUrl::Sqlite(_), false) => tracing::info!("daily backups off (BACKUP_DAILY=0)"),
        (crate::store::DatabaseUrl::Postgres(_), _) => tracing::info!("PostgreSQL: back it up with pg_dump (see the README)"),
    }
    let api = async {
        let r = app::serve_guarded(listener, routes, &guard, stopped(stop.subscribe())).await;
        stop.send_replace(true);
        r
    };
    let mcp = async {
        let r = match mcp {
            Some((l, engine)) => {
                let mcp_addr = l.local_addr()?;
                tracing::info!(addr = %mcp_addr, auth = mcp_token.is_some(), "MCP listening");
                println!("MCP listening on http://{mcp_addr}{}", crate::mcp::HTTP_PATH);
                crate::mcp::serve_http(l, engine, clock, mcp_token, stopped(stop.subscribe())).await
            }
            None => return Ok(()),
        };
        stop.send_replace(true);
        r
    };
    let signal = async {
        tokio::select! {
            _ = shutdown_signal() => {
                drain_calls(&state.lifecycle, drain).await;
                stop.send_replace(true);
            }
            _ = stopped(stop.subscribe()) => {}
        }
    };
    let (api, mcp, ()) = tokio::join!(api, mcp, signal);
    api?;
    mcp.context("MCP server")?;
    Ok(())
}

/// Serves set-up mode while `store` holds no business; the listener back
/// once it does, `None` when a signal stopped the server meanwhile.
async fn setup_mode_until_done(
    listener: tokio::net::TcpListener,
    store: &crate::store::Store,
) -> anyhow::Result<Option<tokio::net::TcpListener>> {
    if store.is_seeded().await? {
        return Ok(Some(listener));
    }
    let addr = listener.local_addr()?;
    tracing::info!(%addr, "set-up mode: the database holds no business yet");
    println!("Fluxion in set-up mode on http://{addr}: create your business in the browser, or run `fluxion setup` (demo data: `fluxion serve --vertical salone`)");
    Ok(crate::setup::http::serve(listener, store.clone(), crate::web::setup_router(), shutdown_signal()).await?)
}

/// After a shutdown signal: starts draining (`/ready` false, new calls
/// turned away) and waits for the calls in progress, up to `deadline` or a
/// second signal.
async fn drain_calls(lifecycle: &crate::lifecycle::Lifecycle, deadline: std::time::Duration) {
    lifecycle.start_draining();
    let calls = lifecycle.gate().calls();
    tracing::info!(calls, deadline_ms = deadline.as_millis() as u64, "shutdown requested: draining (new calls are refused)");
    println!("Fluxion is shutting down: {calls} call(s) in progress, waiting up to {} s", deadline.as_secs());
    tokio::select! {
        outcome = lifecycle.drained(deadline) => match outcome {
            crate::lifecycle::Drained::Idle(after) => {
                tracing::info!(waited_ms = after.as_millis() as u64, "drained: no call in progress; stopping");
            }
            crate::lifecycle::Drained::DeadlineReached { streams_left } => {
                tracing::warn!(streams_left, "drain deadline reached; stopping with calls still open");
            }
        },
        _ = shutdown_signal() => tracing::warn!("second shutdown signal: stopping now"),
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
