//! The `fluxion` binary: reads the configuration file into the environment
//! (the environment wins) before any thread starts, then runs the command.

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = fluxion::cli::Cli::parse();
    let config = match fluxion::config::ConfigFile::discover(cli.config.as_deref()) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("fluxion: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    config.apply_to_env();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("fluxion: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(fluxion::cli::run(cli, config)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fluxion: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
