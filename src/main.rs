//! config → telemetry → load state → build app → serve until SIGTERM or Ctrl-C.

use clap::Parser;
use ecs_emulator::app::{self, App, Settings};
use ecs_emulator::auth::AuthMode;
use ecs_emulator::config::Config;
use ecs_emulator::{load_state, telemetry};
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let config = Config::parse();
    telemetry::init(config.log_format);
    match serve(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            tracing::error!("{message}");
            eprintln!("ecs-emulator: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(config: Config) -> Result<(), String> {
    let state = load_state(config.state_file.as_deref(), config.fixtures.as_deref())?;
    if !state
        .regions
        .iter()
        .any(|r| r.region_id.as_str() == config.default_region)
    {
        return Err(format!(
            "--default-region {}: not a region of the loaded state",
            config.default_region
        ));
    }
    if config.auth == AuthMode::Off {
        tracing::warn!(
            "--auth off: signatures are not checked; the AccessKeyId alone selects the caller"
        );
    }
    let settings = Settings {
        auth: config.auth,
        default_region: config.default_region,
        admin_token: config.admin_token,
        journal_capacity: config.journal_capacity,
        seed: config.seed,
        state_file: config.state_file,
        ..Settings::default()
    };
    let (accounts, regions) = (state.accounts.len(), state.regions.len());
    let app = App::new(state, settings);
    app.store
        .persist()
        .await
        .map_err(|_| "cannot write the state file (see the log)".to_owned())?;
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
    let address = listener
        .local_addr()
        .map_err(|e| format!("cannot read the bound address: {e}"))?;
    if !address.ip().is_loopback() && app.settings.admin_token.is_none() {
        tracing::warn!(%address, "listening beyond loopback without --admin-token: anyone who can reach it can change its state");
    }
    let router = app::build(app);
    tracing::info!(%address, accounts, regions, "ecs-emulator listening on http://{address}");
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(|e| format!("server error: {e}"))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}
