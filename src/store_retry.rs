//! Writes beside the call records (operator presence, wrap-ups, recordings) that must not be
//! lost to a short database outage: retried with the record writer's backoff, in order, for
//! as long as the failure may heal.
//!
//! Unlike call records they are not spooled to disk: they are few (a handful per operator
//! per hour), so memory holds hours of outage, and the phones' next REGISTER rebuilds
//! presence anyway. What a stop of the process loses is said in the README ("Crash safety
//! and database outages").

use std::future::Future;

use madoguchi_store::{RecordingError, StoreError, WriterConfig};

/// An error that may go away by itself (the database was unreachable).
pub trait MayHeal: std::fmt::Display {
    fn may_heal(&self) -> bool;
}

impl MayHeal for StoreError {
    fn may_heal(&self) -> bool {
        !self.is_permanent()
    }
}

impl MayHeal for RecordingError {
    fn may_heal(&self) -> bool {
        matches!(self, RecordingError::Store(error) if !error.is_permanent())
    }
}

/// Runs `attempt` until it succeeds or fails for good (a permanent error is returned at
/// once); transient failures wait 50 ms doubling to 5 s between attempts.
pub async fn until_stored<F, Fut, E>(what: &'static str, mut attempt: F) -> Result<(), E>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: MayHeal,
{
    let pacing = WriterConfig::default();
    let mut retry = 0u32;
    loop {
        match attempt().await {
            Err(error) if error.may_heal() => {
                retry = retry.saturating_add(1);
                if retry == 1 {
                    tracing::warn!(%error, what, "not stored yet; retrying until the database answers");
                }
                tokio::time::sleep(pacing.backoff(retry)).await;
            }
            result => {
                if retry > 0 && result.is_ok() {
                    tracing::info!(what, retries = retry, "stored after retrying");
                }
                return result;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    fn transient() -> StoreError {
        let refused = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "down");
        StoreError::Spool(refused)
    }

    #[tokio::test]
    async fn a_transient_failure_is_retried_until_the_write_succeeds() {
        let attempts = Cell::new(0);
        let result = until_stored("test", || {
            attempts.set(attempts.get() + 1);
            let n = attempts.get();
            async move {
                if n < 3 {
                    Err(transient())
                } else {
                    Ok(())
                }
            }
        })
        .await;
        assert!(result.is_ok());
        assert_eq!(attempts.get(), 3);
    }

    #[tokio::test]
    async fn a_permanent_failure_is_returned_at_once() {
        let attempts = Cell::new(0);
        let result = until_stored("test", || {
            attempts.set(attempts.get() + 1);
            async { Err(StoreError::EmptyPassword) }
        })
        .await;
        assert!(matches!(result, Err(StoreError::EmptyPassword)));
        assert_eq!(attempts.get(), 1);
    }
}
