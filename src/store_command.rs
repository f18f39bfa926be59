//! The frame of a command-line subcommand that works on the store (`device`, `user`, `faq`):
//! a runtime, one connection, the work, a clean close, and the error printed once.

use std::future::Future;
use std::process::ExitCode;

use madoguchi_store::Store;

/// Connects to `database_url`, runs `work` with the store, closes it and maps the outcome
/// to the exit code (an error is printed as `madoguchi: …`).
pub fn with_store<F, Fut>(database_url: &str, work: F) -> ExitCode
where
    F: FnOnce(Store) -> Fut,
    Fut: Future<Output = Result<(), Box<dyn std::error::Error>>>,
{
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => return fail(&error),
    };
    let result = runtime.block_on(async {
        let store = Store::connect(database_url).await?;
        let done = work(store.clone()).await;
        store.close().await;
        done
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => fail(&error),
    }
}

/// Prints `madoguchi: ERROR` to standard error; the command fails.
pub fn fail(error: &dyn std::fmt::Display) -> ExitCode {
    eprintln!("madoguchi: {error}");
    ExitCode::FAILURE
}
