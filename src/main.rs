//! madoguchi: a telephony contact-center engine in one binary.
//!
//! # Layout
//! - `engine/` the sans-IO core (calls, composed from the `madoguchi-sip`, `-media` and
//!   `-dialplan` crates): events and time in, actions out.
//! - `net/` sockets: SIP over UDP/TCP, the RTP runtime.
//! - `web/` HTTP: health, metrics, API.
//! - `serve.rs` wires them; `cli.rs`/`config.rs` are the outside contract.

mod cli;
mod cluster;
mod config;
mod crash_safety;
mod device_cli;
mod devices;
mod engine;
mod faq_cli;
mod faq_export;
mod faq_import;
mod net;
mod presence;
mod recordings;
mod reload;
mod reports;
mod retention;
mod serve;
mod sip_limits;
mod staffing;
mod store_command;
mod store_retry;
mod user_cli;
mod web;

use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Command, DialplanCommand, FaqCommand, TokenCommand, UserCommand};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => {
            init_tracing();
            let settings = match config::Settings::resolve(&args) {
                Ok(settings) => settings,
                Err(error) => return fail(&error),
            };
            let runtime = match tokio::runtime::Runtime::new() {
                Ok(runtime) => runtime,
                Err(error) => return fail(&error),
            };
            match runtime.block_on(serve::serve(settings)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(error) => fail(&error),
            }
        }
        Command::Dialplan(DialplanCommand::Check { file }) => {
            match madoguchi_dialplan::Dialplan::load(&file) {
                Ok(_) => {
                    println!("{}: ok", file.display());
                    ExitCode::SUCCESS
                }
                Err(errors) => {
                    eprintln!("{errors}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Dialplan(DialplanCommand::Simulate { file, at, to, json }) => {
            simulate(&file, &at, &to, json)
        }
        Command::User(UserCommand::Add {
            login,
            role,
            password_stdin: _,
            sip,
            realm,
            database_url,
        }) => add_user(login, &role, sip, realm, &database_url),
        Command::User(UserCommand::Languages {
            login,
            languages,
            database_url,
        }) => user_cli::set_languages(&login, &languages, &database_url),
        Command::User(UserCommand::List { database_url }) => user_cli::list(&database_url),
        Command::Token(TokenCommand::Create {
            login,
            label,
            database_url,
        }) => create_token(&login, label.as_deref(), &database_url),
        Command::Token(TokenCommand::Revoke {
            login,
            database_url,
        }) => with_store(&database_url, |store| async move {
            let revoked = store.revoke_api_tokens(&login).await?;
            println!("revoked {revoked} token(s) of {login}");
            Ok(())
        }),
        Command::Device(command) => device_cli::run(command),
        Command::Faq(FaqCommand::Import { file, database_url }) => import_faq(&file, &database_url),
        Command::Faq(FaqCommand::List { database_url }) => {
            with_store(&database_url, |store| async move {
                for entry in store.list_faq().await? {
                    println!(
                        "{}\t{}\t{}\t{}\t{}",
                        entry.id,
                        entry.uses,
                        if entry.active { "active" } else { "inactive" },
                        entry.category.as_deref().unwrap_or("-"),
                        entry.question.replace(['\t', '\n'], " ")
                    );
                }
                Ok(())
            })
        }
        Command::Faq(FaqCommand::Publish {
            note,
            by,
            database_url,
        }) => faq_cli::publish(note.as_deref(), &by, &database_url),
        Command::Faq(FaqCommand::Export {
            edition,
            format,
            out,
            dialplan,
            database_url,
        }) => faq_cli::export(edition, &format, &out, &dialplan, &database_url),
        Command::Staffing(args) => staffing::run(&args),
        Command::Report(command) => reports::run_report(command),
        Command::Seed(command) => reports::run_seed(command),
        Command::Retention(command) => retention::run_command(command),
        Command::Holidays { year } => {
            for holiday in madoguchi_calendar::holidays_in_year(year) {
                println!("{}\t{}", holiday.date.format("%Y-%m-%d"), holiday.name);
            }
            ExitCode::SUCCESS
        }
    }
}

fn simulate(file: &std::path::Path, at: &str, to: &str, json: bool) -> ExitCode {
    let at = match chrono::DateTime::parse_from_rfc3339(at) {
        Ok(at) => at.with_timezone(&chrono::Utc),
        Err(error) => {
            eprintln!(
                "--at {at:?}: not an RFC 3339 instant ({error}), e.g. 2026-12-30T10:00:00+09:00"
            );
            return ExitCode::FAILURE;
        }
    };
    let dialplan = match madoguchi_dialplan::Dialplan::load(file) {
        Ok(dialplan) => dialplan,
        Err(errors) => {
            eprintln!("{errors}");
            return ExitCode::FAILURE;
        }
    };
    let simulation = dialplan.simulate(to, at);
    if json {
        match serde_json::to_string_pretty(&simulation) {
            Ok(text) => println!("{text}"),
            Err(error) => return fail(&error),
        }
    } else {
        print!("{simulation}");
    }
    ExitCode::SUCCESS
}

fn add_user(login: String, role: &str, sip: bool, realm: String, database_url: &str) -> ExitCode {
    let role = match role.parse::<madoguchi_store::Role>() {
        Ok(role) => role,
        Err(error) => return fail(&error),
    };
    let mut password = String::new();
    if let Err(error) = std::io::stdin().read_line(&mut password) {
        return fail(&error);
    }
    let password = password.trim_end_matches(['\r', '\n']).to_owned();
    let new = madoguchi_store::NewUser {
        login,
        role,
        password: madoguchi_store::Password::new(password),
        sip,
        realm,
        display_name: None,
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => return fail(&error),
    };
    let result = runtime.block_on(async {
        let store = madoguchi_store::Store::connect(database_url).await?;
        store.add_user(&new).await
    });
    match result {
        Ok(user) => {
            println!("added {} ({})", user.login, user.role);
            ExitCode::SUCCESS
        }
        Err(error) => fail(&error),
    }
}

/// Runs `work` on the store at `database_url` (created and migrated if new).
fn with_store<F, Fut>(database_url: &str, work: F) -> ExitCode
where
    F: FnOnce(madoguchi_store::Store) -> Fut,
    Fut: std::future::Future<Output = Result<(), Box<dyn std::error::Error>>>,
{
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => return fail(&error),
    };
    let result = runtime.block_on(async {
        let store = madoguchi_store::Store::connect(database_url).await?;
        work(store).await
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => fail(&error),
    }
}

/// Prints the token alone on standard output, so `TOKEN=$(madoguchi token create …)` works.
fn create_token(login: &str, label: Option<&str>, database_url: &str) -> ExitCode {
    with_store(database_url, |store| async move {
        let (secret, _) = store
            .create_api_token(login, label, chrono::Utc::now())
            .await?;
        println!("{}", secret.expose());
        eprintln!("token created for {login}; it is shown only now");
        Ok(())
    })
}

fn import_faq(file: &std::path::Path, database_url: &str) -> ExitCode {
    let entries = match std::fs::File::open(file)
        .map_err(|e| e.to_string())
        .and_then(|f| faq_import::read_entries(f).map_err(|e| e.to_string()))
    {
        Ok(entries) => entries,
        Err(error) => return fail(&format!("{}: {error}", file.display())),
    };
    with_store(database_url, |store| async move {
        let summary = store.import_faq(&entries, chrono::Utc::now()).await?;
        println!(
            "{}: {} added, {} updated, {} unchanged",
            file.display(),
            summary.added,
            summary.updated,
            summary.unchanged
        );
        Ok(())
    })
}

fn fail(error: &dyn std::fmt::Display) -> ExitCode {
    eprintln!("madoguchi: {error}");
    ExitCode::FAILURE
}

fn init_tracing() {
    // rtc_dtls warns once per browser leg that it has no server name: meaningless for a
    // DTLS server with fingerprints in the SDP, so it is kept below the default level.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,rtc_dtls=error"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}
