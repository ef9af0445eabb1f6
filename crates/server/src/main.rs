//! The `fluxion` binary.

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = fluxion::cli::Cli::parse();
    match fluxion::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fluxion: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
