//! `fluxion setup`: creates the owner's business on an empty database from
//! flags, asking in the terminal for whatever is missing (see
//! [`crate::setup`] for what is created and [`crate::setup::spec`] for the
//! text forms of hours, services and operators).

use std::io::{BufRead, IsTerminal, Write};

use anyhow::{bail, Context};
use clap::Args;

use fluxion_core::booking::{Repository, Vertical};

use super::db::DbArgs;
use crate::setup::{spec, Owner, SetupRequest};

/// `fluxion setup` flags.
#[derive(Debug, Args)]
pub struct SetupArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// Business name.
    #[arg(long)]
    pub name: Option<String>,
    /// salone, wellness, medical or auto.
    #[arg(long)]
    pub vertical: Option<Vertical>,
    /// Street address.
    #[arg(long, default_value = "")]
    pub address: String,
    /// A number callers dial (E.164 or Italian); repeatable.
    #[arg(long)]
    pub phone: Vec<String>,
    /// IANA time zone.
    #[arg(long, default_value = "Europe/Rome")]
    pub timezone: String,
    /// Opening hours, e.g. "lun-ven 09:00-13:00 14:00-19:00; sab 09:00-13:00"
    /// [default: the vertical's template].
    #[arg(long)]
    pub hours: Option<String>,
    /// A service "name|minutes|euro[|synonyms]"; repeatable [default: the
    /// vertical's template].
    #[arg(long)]
    pub service: Vec<String>,
    /// An operator "name[:service,service]"; repeatable [default: the
    /// template's, or one operator doing everything].
    #[arg(long)]
    pub operator: Vec<String>,
    /// Start with no FAQ instead of the vertical's templates.
    #[arg(long)]
    pub no_faq_templates: bool,
    /// The owner's login name.
    #[arg(long)]
    pub owner: Option<String>,
    /// Read the owner's password from the first line of standard input.
    #[arg(long)]
    pub password_stdin: bool,
}

/// Asks `question` on the terminal; `None` when standard input is not one.
fn ask(question: &str) -> anyhow::Result<Option<String>> {
    if !std::io::stdin().is_terminal() {
        return Ok(None);
    }
    eprint!("{question}: ");
    std::io::stderr().flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(Some(line.trim().to_string()).filter(|l| !l.is_empty()))
}

fn required(value: Option<String>, question: &str, flag: &str) -> anyhow::Result<String> {
    match value.filter(|v| !v.trim().is_empty()) {
        Some(v) => Ok(v),
        None => ask(question)?.with_context(|| format!("{flag} is required (or run in a terminal to be asked)")),
    }
}

/// Runs `fluxion setup`.
///
/// # Errors
/// A business exists already, a bad answer, or the database fails.
pub async fn setup(args: SetupArgs) -> anyhow::Result<()> {
    let store = args.db.open().await?;
    if store.is_seeded().await? {
        bail!("the database already holds a business (see `fluxion tenant list`); change it from the console");
    }
    let name = required(args.name, "Nome dell'attività", "--name")?;
    let vertical: Vertical = match args.vertical {
        Some(v) => v,
        None => required(None, "Tipo (salone, wellness, medical, auto)", "--vertical")?.parse().map_err(anyhow::Error::msg)?,
    };
    let interactive = std::io::stdin().is_terminal() && !args.password_stdin;
    let mut phones = args.phone;
    if phones.is_empty() && interactive {
        phones.extend(ask("Numero di telefono dell'attività (invio per saltare)")?);
    }
    let hours = match args.hours {
        Some(h) => Some(h),
        None if interactive => ask("Orari (es. lun-ven 09:00-13:00 14:00-19:00; sab 09:00-13:00; invio: quelli tipici)")?,
        None => None,
    };
    let hours = hours.map(|h| spec::hours(&h)).transpose().map_err(anyhow::Error::msg)?;
    let services = args.service.iter().map(|s| spec::service(s)).collect::<Result<Vec<_>, _>>().map_err(anyhow::Error::msg)?;
    let operators: Vec<_> = args.operator.iter().map(|o| spec::operator(o)).collect();
    let username = required(args.owner, "Nome utente del titolare", "--owner")?;
    let password = if args.password_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        line.trim_end_matches(['\r', '\n']).to_string()
    } else {
        required(None, "Password del titolare (almeno 8 caratteri)", "--password-stdin")?
    };
    let req = SetupRequest {
        name,
        vertical,
        address: args.address,
        phone_numbers: phones,
        timezone: args.timezone,
        hours,
        closures: Vec::new(),
        services: (!services.is_empty()).then_some(services),
        operators: (!operators.is_empty()).then_some(operators),
        faq_templates: !args.no_faq_templates,
        owner: Owner { username, password },
    };
    let (tenant, _) = crate::setup::create(&store, &req).await?;
    let (services, operators, faqs) = (tenant.services().await?.len(), tenant.operators().await?.len(), tenant.faqs().await?.len());
    println!("business {} '{}' set up: {services} services, {operators} operators, {faqs} FAQ entries", tenant.id(), req.name.trim());
    println!("owner '{}' can log in to the console; start the server with `fluxion serve`", req.owner.username.trim());
    Ok(())
}
