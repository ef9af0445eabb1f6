//! Where the database is for every command (`--db PATH`, `FLUXION_DB`,
//! `DATABASE_URL`), and the commands that manage it: `fluxion db init|seed`
//! and `fluxion tenant add|list`.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};

use fluxion_core::booking::Vertical;

use crate::seed::SeedData;
use crate::store::{DatabaseUrl, NumberKind, Store};

/// Where the database is.
#[derive(Debug, Args, Clone)]
pub struct DbArgs {
    /// SQLite database file [default: DATABASE_URL, else the platform data
    /// directory, e.g. ~/.local/share/fluxion/fluxion.db]. DATABASE_URL may
    /// name an SQLite file (sqlite:///path/fluxion.db) or a PostgreSQL
    /// database (postgres://user:password@host:5432/fluxion).
    #[arg(long, env = "FLUXION_DB", global = true)]
    pub db: Option<PathBuf>,
}

impl DbArgs {
    /// The database these arguments and the environment name.
    ///
    /// # Errors
    /// A bad `DATABASE_URL`, or no home directory for the default file.
    pub fn url(&self) -> anyhow::Result<DatabaseUrl> {
        DatabaseUrl::from_env(self.db.as_deref()).map_err(anyhow::Error::msg)
    }

    /// Opens the database (running its migrations).
    ///
    /// # Errors
    /// See [`DbArgs::url`] and [`Store::open`].
    pub async fn open(&self) -> anyhow::Result<Store> {
        let url = self.url()?;
        Store::open(&url).await.with_context(|| format!("opening {url}"))
    }

    /// Opens the database and, when it holds no business, seeds the demo
    /// business of `vertical`.
    ///
    /// # Errors
    /// As [`DbArgs::open`], or the seed cannot be written.
    pub async fn open_seeded(&self, vertical: Vertical) -> anyhow::Result<Store> {
        let store = self.open().await?;
        if !store.is_seeded().await? {
            SeedData::demo(vertical)?.load(&store, false).await?;
            tracing::info!(vertical = vertical.as_str(), database = %store.url(), "seeded demo business");
        }
        Ok(store)
    }
}

/// `fluxion db …`.
#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Create the database and run the migrations.
    Init {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Replace the default business's data with a vertical's demo data
    /// (creating the business in an empty database).
    Seed {
        #[command(flatten)]
        db: DbArgs,
        /// salone, wellness, medical or auto.
        #[arg(long)]
        vertical: Vertical,
        /// Replace even when appointments exist (they are deleted).
        #[arg(long)]
        force: bool,
    },
}

/// `fluxion tenant …`: the businesses of a deployment.
#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Add a business, starting from a vertical's demo data (services,
    /// operators, hours, FAQ), with the numbers that reach it.
    Add {
        #[command(flatten)]
        db: DbArgs,
        /// salone, wellness, medical or auto.
        #[arg(long)]
        vertical: Vertical,
        /// Public name [default: the demo's].
        #[arg(long)]
        name: Option<String>,
        /// A phone number callers dial (E.164, e.g. +390212345678); repeatable.
        #[arg(long)]
        phone: Vec<String>,
        /// A WhatsApp Business phone-number id; repeatable.
        #[arg(long)]
        whatsapp: Vec<String>,
    },
    /// List the businesses with their numbers.
    List {
        #[command(flatten)]
        db: DbArgs,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Runs `fluxion db …`.
///
/// # Errors
/// The database cannot be opened or written.
pub async fn db(command: DbCommand) -> anyhow::Result<()> {
    match command {
        DbCommand::Init { db } => {
            let store = db.open().await?;
            println!("database ready: {} ({})", store.url(), store.dialect().as_str());
            Ok(())
        }
        DbCommand::Seed { db, vertical, force } => {
            let store = db.open().await?;
            let tenant = SeedData::demo(vertical)?.load(&store, force).await?;
            println!("seeded {} demo data into {} (business {})", vertical.as_str(), store.url(), tenant.id());
            Ok(())
        }
    }
}

/// Runs `fluxion tenant …`.
///
/// # Errors
/// The database cannot be opened or written, or a number already routes to
/// a business.
pub async fn tenant(command: TenantCommand) -> anyhow::Result<()> {
    match command {
        TenantCommand::Add { db, vertical, name, phone, whatsapp } => {
            let phones = phone
                .iter()
                .map(|p| fluxion_core::nlu::l2_slots::normalize_phone(p).with_context(|| format!("--phone {p}: not a phone number")))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let store = db.open().await?;
            let mut seed = SeedData::demo(vertical)?.config()?;
            if let Some(n) = name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
                seed.business.name = n.to_string();
            }
            seed.clients.clear();
            let tenant = store.create_tenant(&seed).await?;
            for p in &phones {
                tenant.add_number(NumberKind::Phone, p).await?;
            }
            for w in &whatsapp {
                tenant.add_number(NumberKind::Whatsapp, w).await?;
            }
            println!("business {} added: {} ({})", tenant.id(), seed.business.name, vertical.as_str());
            Ok(())
        }
        TenantCommand::List { db, json } => {
            let store = db.open().await?;
            let tenants = store.tenants().await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&tenants)?);
                return Ok(());
            }
            for t in &tenants {
                let numbers: Vec<String> = t.numbers.iter().map(|(k, v)| format!("{} {v}", k.as_str())).collect();
                println!("{:>4}  {:<10} {}  {}", t.id, t.vertical.as_str(), t.name, numbers.join(", "));
            }
            if tenants.is_empty() {
                println!("no business yet: fluxion tenant add --vertical salone --name \"…\"");
            }
            Ok(())
        }
    }
}
