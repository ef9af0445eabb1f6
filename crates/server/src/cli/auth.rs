//! `fluxion user add` and `fluxion token create|list|revoke`: console
//! accounts and API tokens, per business (the default business unless
//! `--tenant` names another).

use std::io::{BufRead, IsTerminal, Write};

use anyhow::{bail, Context};
use clap::Subcommand;

use fluxion_core::booking::Id;

use super::db::DbArgs;
use crate::store::{Role, Store, Tenant};

/// `fluxion user …`.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a console account. The password is read from standard input
    /// (first line) with --password-stdin, else asked for.
    Add {
        #[command(flatten)]
        db: DbArgs,
        /// Login name (an e-mail address or any name).
        #[arg(long)]
        username: Option<String>,
        /// Login name, as a positional argument.
        #[arg(conflicts_with = "username")]
        name: Option<String>,
        /// owner (everything) or staff (calendar and clients).
        #[arg(long, default_value = "owner")]
        role: Role,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
        /// Business id [default: the first business].
        #[arg(long)]
        tenant: Option<Id>,
    },
    /// List the business's accounts.
    List {
        #[command(flatten)]
        db: DbArgs,
        /// Business id [default: the first business].
        #[arg(long)]
        tenant: Option<Id>,
    },
}

/// `fluxion token …`.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Make an API token (`Authorization: Bearer <token>`); it is printed
    /// once, alone on the last line, and only its digest is stored.
    Create {
        #[command(flatten)]
        db: DbArgs,
        /// What it is for.
        #[arg(long, default_value = "api")]
        name: String,
        /// A `phone` it sends to /api/voice/query is only a number the
        /// caller said, not their identity (e.g. a public chat widget).
        #[arg(long)]
        untrusted: bool,
        /// Business id [default: the first business].
        #[arg(long)]
        tenant: Option<Id>,
    },
    /// List the business's tokens (never the tokens themselves).
    List {
        #[command(flatten)]
        db: DbArgs,
        /// Business id [default: the first business].
        #[arg(long)]
        tenant: Option<Id>,
    },
    /// Revoke a token by id.
    Revoke {
        #[command(flatten)]
        db: DbArgs,
        /// Token id (see `fluxion token list`).
        id: Id,
        /// Business id [default: the first business].
        #[arg(long)]
        tenant: Option<Id>,
    },
}

async fn tenant(store: &Store, id: Option<Id>) -> anyhow::Result<Tenant> {
    match id {
        Some(id) => {
            if !store.tenants().await?.iter().any(|t| t.id == id) {
                bail!("no business {id} (see `fluxion tenant list`)");
            }
            Ok(store.tenant(id))
        }
        None => store.default_tenant().await?.context("the database holds no business yet: run `fluxion setup` first"),
    }
}

/// Reads a password: the first line of standard input, after a prompt on
/// standard error when it is a terminal (the typing is visible: prefer
/// --password-stdin from a password manager).
fn read_password(from_stdin: bool) -> anyhow::Result<String> {
    let stdin = std::io::stdin();
    if !from_stdin && stdin.is_terminal() {
        eprint!("Password (at least {} characters): ", crate::auth::secret::MIN_PASSWORD_CHARS);
        std::io::stderr().flush()?;
    }
    let mut line = String::new();
    stdin.lock().read_line(&mut line)?;
    let password = line.trim_end_matches(['\r', '\n']).to_string();
    if password.is_empty() {
        bail!("no password given on standard input");
    }
    Ok(password)
}

/// Runs `fluxion user …`.
///
/// # Errors
/// No business, a bad password, a taken name, or the database fails.
pub async fn user(command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Add { db, username, name, role, password_stdin, tenant: id } => {
            let username = username.or(name).context("give the login name: fluxion user add --username NAME")?;
            let store = db.open().await?;
            let t = tenant(&store, id).await?;
            let password = read_password(password_stdin)?;
            let uid = crate::auth::create_user(&t, &username, &password, role).await?;
            println!("user {uid} '{}' ({}) added to business {}", username.trim(), role.as_str(), t.id());
            Ok(())
        }
        UserCommand::List { db, tenant: id } => {
            let store = db.open().await?;
            for (uid, name, role) in tenant(&store, id).await?.users().await? {
                println!("{uid:>4}  {:<6} {name}", role.as_str());
            }
            Ok(())
        }
    }
}

/// Runs `fluxion token …`.
///
/// # Errors
/// No business or the database fails; revoking an unknown token.
pub async fn token(command: TokenCommand) -> anyhow::Result<()> {
    match command {
        TokenCommand::Create { db, name, untrusted, tenant: id } => {
            let store = db.open().await?;
            let t = tenant(&store, id).await?;
            let (tid, token) = crate::auth::create_token(&t, name.trim(), !untrusted).await?;
            let trust = if untrusted { "untrusted" } else { "trusted" };
            println!(
                "token {tid} '{}' ({trust}) for business {}; send it as 'Authorization: Bearer <token>'. It is shown only now:",
                name.trim(),
                t.id()
            );
            println!("{token}");
            Ok(())
        }
        TokenCommand::List { db, tenant: id } => {
            let store = db.open().await?;
            for tok in tenant(&store, id).await?.tokens().await? {
                let state = tok.revoked_at.as_deref().map_or("live".to_string(), |r| format!("revoked {r}"));
                let trust = if tok.trusted { "trusted" } else { "untrusted" };
                println!("{:>4}  {:<20} {trust:<9} created {}  {state}", tok.id, tok.name, tok.created_at);
            }
            Ok(())
        }
        TokenCommand::Revoke { db, id, tenant: tid } => {
            let store = db.open().await?;
            if !tenant(&store, tid).await?.revoke_token(id).await? {
                bail!("no live token {id} in this business");
            }
            println!("token {id} revoked");
            Ok(())
        }
    }
}
