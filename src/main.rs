use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match switchboard::cli::run(switchboard::cli::Cli::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("switchboard: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}
