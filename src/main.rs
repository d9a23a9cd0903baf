//! config → subcommand; `serve`: telemetry → load state → build app → serve until SIGTERM or
//! Ctrl-C, then finish in-flight requests (within a bound), flush the state file, exit 0.

use clap::Parser;
use ecs_emulator::app::{App, Settings};
use ecs_emulator::auth::AuthMode;
use ecs_emulator::config::{Cli, Command, Config};
use ecs_emulator::tls::Tls;
use ecs_emulator::{commands, load_state, server, telemetry};
use std::process::ExitCode;
use std::time::Duration;

/// How long in-flight requests may take to finish after a shutdown signal.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// mimalloc: the per-request allocations (parameters, journal entries, bodies) are many and
/// small; glibc's allocator spent ~15% of the signed path in malloc/free (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // No transparent huge pages: where the kernel's THP mode is `always` (as on the benchmark
    // machine), every 2 MiB-aligned stretch of the allocator's arena that the emulator touches
    // would cost 2 MiB of RAM — 10 of the 16 MiB an idle server used. Pages touched before
    // this line keep their size. Best effort: without it the emulator only uses more memory.
    #[cfg(target_os = "linux")]
    let _ = nix::sys::prctl::set_thp_disable(true);
    // A single-threaded runtime: this thread accepts, and is the first of the server's lanes
    // (one single-threaded runtime per CPU; `server`).
    match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(run()),
        Err(cause) => {
            eprintln!("ecs-emulator: cannot start the async runtime: {cause}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> ExitCode {
    let cli = Cli::parse();
    let listen = cli.config.listen.clone();
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let _flush_logs = telemetry::init(cli.config.log_format);
            match serve(cli.config).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(message) => {
                    tracing::error!("{message}");
                    eprintln!("ecs-emulator: {message}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Healthcheck => commands::healthcheck(&listen).await,
        Command::Call(args) => commands::call(&args, &listen).await,
        Command::Env(args) => {
            print!("{}", commands::env(&args, &cli.config));
            ExitCode::SUCCESS
        }
        Command::Ca(args) => commands::ca(&args, &cli.config),
        Command::Hosts(args) => commands::hosts(&args, &cli.config),
        Command::State(args) => commands::state(&args, cli.config.state_file.as_deref()),
    }
}

async fn serve(config: Config) -> Result<(), String> {
    let (state, text, state_file) =
        load_state(config.state_file.as_deref(), config.fixtures.as_deref())?;
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
    let ca_dir = config.ca_dir();
    let settings = Settings {
        auth: config.auth,
        default_region: config.default_region,
        admin_token: config.admin_token,
        journal_capacity: config.journal_capacity,
        max_connections: config.max_connections,
        request_timeout: Duration::from_secs(config.request_timeout),
        seed: config.seed,
        state_file,
        ..Settings::default()
    };
    let (accounts, regions) = (state.accounts.len(), state.regions.len());
    // The CA is on disk before the server answers anything (`endpoints.md` §3).
    let tls = Tls::load_or_create(&ca_dir)?;
    let tls_config = match &config.tls_listen {
        Some(_) => Some(tls.for_listener(state.regions.iter().map(|r| r.region_id.as_str()))?),
        None => None,
    };
    let app = App::with_text(state, text, settings);
    app.install_tls(tls);
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
    let address = listener
        .local_addr()
        .map_err(|e| format!("cannot read the bound address: {e}"))?;
    if !address.ip().is_loopback() && app.settings.admin_token.is_none() {
        tracing::warn!(%address, "listening beyond loopback without --admin-token: anyone who can reach it can change its state");
    }
    let tls_listener = match (&config.tls_listen, tls_config) {
        (Some(listen), Some(tls_config)) => {
            let listener = tokio::net::TcpListener::bind(listen)
                .await
                .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
            let address = listener
                .local_addr()
                .map_err(|e| format!("cannot read the bound address: {e}"))?;
            tracing::info!(%address, "serving HTTPS on https://{address}");
            Some((listener, tls_config))
        }
        _ => None,
    };
    if let Some(tls) = app.tls() {
        tracing::info!(ca = %tls.authority().cert_path().display(), "the emulator's CA (ecs-emulator ca prints it)");
    }
    tracing::info!(%address, accounts, regions, "ecs-emulator listening on http://{address}");

    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut server = tokio::spawn(server::run(
        listener,
        tls_listener,
        app.clone(),
        stopped.clone(),
    ));
    tokio::select! {
        result = &mut server => {
            return result.map_err(|e| format!("server error: {e}"));
        }
        () = shutdown_signal() => {}
    }
    tracing::info!("shutting down: no new connections; finishing in-flight requests");
    let _ = stop.send(true);
    drop(stopped);
    if tokio::time::timeout(SHUTDOWN_GRACE, &mut server)
        .await
        .is_err()
    {
        tracing::warn!(
            "in-flight requests did not finish within {SHUTDOWN_GRACE:?}; stopping anyway"
        );
        server.abort();
    }
    app.store
        .persist()
        .await
        .map_err(|_| "cannot flush the state file (see the log)".to_owned())?;
    tracing::info!("stopped");
    Ok(())
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
}
