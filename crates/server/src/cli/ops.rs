//! Operating Fluxion on one machine (seed 000): `fluxion backup`,
//! `fluxion restore` (see [`crate::store::backup`]) and `fluxion service
//! install|uninstall|print`, which writes the systemd unit
//! (`deploy/systemd/fluxion.service`) or the macOS LaunchAgent
//! (`deploy/macos/it.fluxion.plist`) with the paths of this machine.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use clap::{Args, Subcommand, ValueEnum};

use super::DbArgs;
use crate::store::backup;
use crate::store::DatabaseUrl;

/// The systemd unit as shipped (a system service running `/usr/local/bin/fluxion`).
pub const SYSTEMD_UNIT: &str = include_str!("../../../../deploy/systemd/fluxion.service");
/// The macOS LaunchAgent as shipped (`/usr/local/bin/fluxion`, logs under `/Users/you`).
pub const LAUNCH_AGENT: &str = include_str!("../../../../deploy/macos/it.fluxion.plist");
/// The binary path the shipped files name.
const SHIPPED_BIN: &str = "/usr/local/bin/fluxion";
/// The home folder the shipped LaunchAgent names.
const SHIPPED_HOME: &str = "/Users/you";
/// The line that opens the unit's block of system-only settings (left out of user units).
const SYSTEM_ONLY: &str = "# System service only";

/// `fluxion backup`'s options.
#[derive(Debug, Args)]
pub struct BackupArgs {
    #[command(flatten)]
    db: DbArgs,
    /// Folder of the backups [default: BACKUP_DIR, else `backups` next to the database].
    #[arg(long, env = "BACKUP_DIR")]
    out: Option<PathBuf>,
}

/// `fluxion restore`'s options.
#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The backup file (`fluxion-YYYY-MM-DD.db`).
    file: PathBuf,
    #[command(flatten)]
    db: DbArgs,
}

/// Which service manager.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Platform {
    /// systemd (Linux).
    Linux,
    /// launchd (macOS).
    Macos,
}

impl Platform {
    /// The platform this binary was built for.
    pub fn current() -> Platform {
        if cfg!(target_os = "macos") {
            Platform::Macos
        } else {
            Platform::Linux
        }
    }
}

/// Where and for whom the service is installed.
#[derive(Debug, Args, Clone)]
pub struct ServiceArgs {
    /// A system service (/etc/systemd/system) instead of the user's
    /// (~/.config/systemd/user); Linux only.
    #[arg(long)]
    system: bool,
    /// Service manager [default: this machine's].
    #[arg(long, value_enum)]
    platform: Option<Platform>,
    /// Folder to write the file into [default: the service manager's].
    #[arg(long)]
    dir: Option<PathBuf>,
}

/// `fluxion service …`.
#[derive(Debug, Subcommand)]
pub enum ServiceCommand {
    /// Write the systemd unit or the LaunchAgent for this binary.
    Install(ServiceArgs),
    /// Remove what `install` wrote.
    Uninstall(ServiceArgs),
    /// Print the file `install` would write.
    Print(ServiceArgs),
}

/// Runs `fluxion backup`: a dated, checked copy of the SQLite database.
///
/// # Errors
/// PostgreSQL (use pg_dump), or see [`backup::BackupError`].
pub async fn backup(args: BackupArgs) -> anyhow::Result<()> {
    let url = args.db.url()?;
    let DatabaseUrl::Sqlite(path) = &url else {
        bail!("{url} is PostgreSQL: back it up with pg_dump --format=custom (see the README)");
    };
    let dir = args.out.unwrap_or_else(|| backup::default_dir(path));
    let store = args.db.open().await?;
    let date = jiff::Zoned::now().date();
    let b = backup::backup(&store, &dir, date).await?;
    store.close().await;
    println!("backup written: {} ({} bytes, {} appointments, integrity ok)", b.path.display(), b.bytes, b.appointments);
    for old in &b.pruned {
        println!("deleted old backup {}", old.display());
    }
    Ok(())
}

/// Runs `fluxion restore FILE`: checks the backup and replaces the
/// database with it.
///
/// # Errors
/// PostgreSQL (use pg_restore), a backup that fails its check, file errors.
pub async fn restore(args: RestoreArgs) -> anyhow::Result<()> {
    let url = args.db.url()?;
    let DatabaseUrl::Sqlite(path) = &url else {
        bail!("{url} is PostgreSQL: restore it with pg_restore (see the README)");
    };
    let r = backup::restore(&args.file, path).await?;
    println!("restored {} into {} ({} appointments, integrity ok)", args.file.display(), path.display(), r.appointments);
    if let Some(previous) = r.previous {
        println!("the replaced database is kept as {}", previous.display());
    }
    Ok(())
}

/// The systemd unit for `bin`: the shipped unit with `ExecStart` on `bin`;
/// a user unit (`system` false) leaves out the system-only block and is
/// wanted by `default.target`.
pub fn systemd_unit(bin: &str, system: bool) -> String {
    let unit = SYSTEMD_UNIT.replace(SHIPPED_BIN, bin);
    if system {
        return unit;
    }
    let mut out = String::with_capacity(unit.len());
    let mut skipping = false;
    for line in unit.lines() {
        if line.starts_with(SYSTEM_ONLY) {
            skipping = true;
        } else if skipping && line.trim().is_empty() {
            skipping = false;
        }
        if !skipping {
            out.push_str(&line.replace("WantedBy=multi-user.target", "WantedBy=default.target"));
            out.push('\n');
        }
    }
    out
}

/// The LaunchAgent for `bin`, logging under `home`/Library/Logs/Fluxion.
pub fn launch_agent(bin: &str, home: &str) -> String {
    LAUNCH_AGENT.replace(SHIPPED_BIN, &xml_text(bin)).replace(SHIPPED_HOME, &xml_text(home.trim_end_matches('/')))
}

fn xml_text(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// The file `args` asks for: (path, contents).
fn service_file(args: &ServiceArgs) -> anyhow::Result<(PathBuf, String)> {
    let bin = std::env::current_exe().context("locating this binary")?;
    let bin = bin.to_str().context("the binary's path is not UTF-8")?.to_string();
    let home = std::env::var("HOME").ok().filter(|h| !h.is_empty());
    match args.platform.unwrap_or_else(Platform::current) {
        Platform::Linux => {
            let dir = match (&args.dir, args.system) {
                (Some(d), _) => d.clone(),
                (None, true) => PathBuf::from("/etc/systemd/system"),
                (None, false) => {
                    let config = std::env::var("XDG_CONFIG_HOME").ok().filter(|c| !c.is_empty()).map(PathBuf::from);
                    config.or_else(|| home.as_ref().map(|h| Path::new(h).join(".config"))).context("no HOME")?.join("systemd/user")
                }
            };
            Ok((dir.join("fluxion.service"), systemd_unit(&bin, args.system)))
        }
        Platform::Macos => {
            if args.system {
                bail!("--system is for systemd; on macOS Fluxion runs as the user's LaunchAgent");
            }
            let home = home.context("no HOME")?;
            let dir = args.dir.clone().unwrap_or_else(|| Path::new(&home).join("Library/LaunchAgents"));
            Ok((dir.join("it.fluxion.plist"), launch_agent(&bin, &home)))
        }
    }
}

/// Runs `fluxion service …`.
///
/// # Errors
/// No home folder, or the file cannot be written or removed.
pub fn service(command: ServiceCommand) -> anyhow::Result<()> {
    match command {
        ServiceCommand::Print(args) => {
            print!("{}", service_file(&args)?.1);
            Ok(())
        }
        ServiceCommand::Install(args) => {
            let (path, contents) = service_file(&args)?;
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            }
            std::fs::write(&path, contents).with_context(|| format!("writing {}", path.display()))?;
            println!("wrote {}", path.display());
            match (args.platform.unwrap_or_else(Platform::current), args.system) {
                (Platform::Linux, true) => println!("start it: systemctl daemon-reload && systemctl enable --now fluxion"),
                (Platform::Linux, false) => println!("start it: systemctl --user daemon-reload && systemctl --user enable --now fluxion"),
                (Platform::Macos, _) => {
                    if let Ok(home) = std::env::var("HOME") {
                        let logs = Path::new(&home).join("Library/Logs/Fluxion");
                        std::fs::create_dir_all(&logs).with_context(|| format!("creating {}", logs.display()))?;
                    }
                    println!("start it: launchctl load -w {}", path.display());
                }
            }
            Ok(())
        }
        ServiceCommand::Uninstall(args) => {
            let (path, _) = service_file(&args)?;
            match std::fs::remove_file(&path) {
                Ok(()) => {
                    println!("removed {} (stop it first: systemctl [--user] disable --now fluxion / launchctl unload)", path.display())
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => println!("{} is not installed", path.display()),
                Err(e) => return Err(e).with_context(|| format!("removing {}", path.display())),
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_units_leave_out_the_system_block() {
        let system = systemd_unit("/opt/fluxion/bin/fluxion", true);
        assert!(system.contains("ExecStart=/opt/fluxion/bin/fluxion serve"), "{system}");
        assert!(system.contains("DynamicUser=yes") && system.contains("WantedBy=multi-user.target"));
        let user = systemd_unit("/opt/fluxion/bin/fluxion", false);
        assert!(!user.contains("DynamicUser") && !user.contains("ProtectSystem"), "{user}");
        assert!(user.contains("WantedBy=default.target") && user.contains("TimeoutStopSec="), "{user}");
        let agent = launch_agent("/opt/fluxion & co/fluxion", "/Users/ada/");
        assert!(agent.contains("<string>/opt/fluxion &amp; co/fluxion</string>"), "{agent}");
        assert!(agent.contains("/Users/ada/Library/Logs/Fluxion/fluxion.log") && !agent.contains(SHIPPED_HOME));
    }
}
