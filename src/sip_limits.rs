//! Settings of the flood and scanner protection: the `[sip-limits]` table of the settings
//! file and the `--sip-trusted-networks` flag, turned into the edge guard's
//! [`GuardConfig`] and the endpoint's [`SessionCaps`].
//!
//! ```toml
//! sip-trusted-networks = ["192.0.2.0/24"]   # the operators' office; the trunk is added itself
//! [sip-limits]
//! invite-rate = 30        # per second and source; 0 = no limit
//! invite-burst = 100
//! auth-failures = 10      # failed digests within auth-window-seconds block the source
//! block-seconds = 600
//! dialogs-per-source = 200
//! ```
//! Every key is optional; the defaults ([`GuardConfig::default`], [`SessionCaps::default`])
//! never bother a phone or an office behind one address, and the trunk (the city line's
//! host or the trunk proxy) is always exempt.

use std::time::Duration;

use madoguchi_sip::guard::{GuardConfig, Network, Rate};
use madoguchi_sip::SessionCaps;
use serde::Deserialize;

/// The resolved limits; their `exempt` lists hold the configured networks only (the shell
/// adds the trunk's address with [`SipLimits::trust`] once it is resolved).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SipLimits {
    pub guard: GuardConfig,
    pub caps: SessionCaps,
}

/// The `[sip-limits]` table; every key optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SipLimitsFile {
    invite_rate: Option<u32>,
    invite_burst: Option<u32>,
    register_rate: Option<u32>,
    register_burst: Option<u32>,
    options_rate: Option<u32>,
    options_burst: Option<u32>,
    other_rate: Option<u32>,
    other_burst: Option<u32>,
    auth_failures: Option<u32>,
    auth_window_seconds: Option<u64>,
    block_seconds: Option<u64>,
    block_scanners: Option<bool>,
    max_sources: Option<usize>,
    dialogs_per_source: Option<usize>,
    dialogs_total: Option<usize>,
    transactions_per_source: Option<usize>,
    transactions_total: Option<usize>,
    retry_after_seconds: Option<u32>,
}

impl SipLimits {
    /// The file's table over the defaults, with `trusted` exempt from the per-source limits.
    pub fn resolve(file: Option<SipLimitsFile>, trusted: Vec<Network>) -> SipLimits {
        let file = file.unwrap_or_default();
        let d = GuardConfig::default();
        let rate = |rate: Option<u32>, burst: Option<u32>, default: Rate| {
            let per_second = rate.unwrap_or(default.per_second);
            // A burst below the rate would drop steady traffic at exactly the rate.
            let burst = burst.unwrap_or(default.burst).max(per_second).max(1);
            Rate::new(per_second, burst)
        };
        let guard = GuardConfig {
            invite: rate(file.invite_rate, file.invite_burst, d.invite),
            register: rate(file.register_rate, file.register_burst, d.register),
            options: rate(file.options_rate, file.options_burst, d.options),
            other: rate(file.other_rate, file.other_burst, d.other),
            auth_failures: file.auth_failures.unwrap_or(d.auth_failures),
            auth_window: file
                .auth_window_seconds
                .map_or(d.auth_window, Duration::from_secs),
            block_for: file.block_seconds.map_or(d.block_for, Duration::from_secs),
            block_scanners: file.block_scanners.unwrap_or(d.block_scanners),
            max_sources: file.max_sources.unwrap_or(d.max_sources).max(1),
            exempt: trusted.clone(),
        };
        let c = SessionCaps::default();
        let caps = SessionCaps {
            dialogs_per_source: file.dialogs_per_source.unwrap_or(c.dialogs_per_source),
            dialogs_total: file.dialogs_total.unwrap_or(c.dialogs_total),
            transactions_per_source: file
                .transactions_per_source
                .unwrap_or(c.transactions_per_source),
            transactions_total: file.transactions_total.unwrap_or(c.transactions_total),
            retry_after_secs: file.retry_after_seconds.unwrap_or(c.retry_after_secs),
            exempt: trusted,
        };
        SipLimits { guard, caps }
    }

    /// Exempts one more network (the trunk, once resolved) from the per-source limits.
    pub fn trust(&mut self, network: Network) {
        self.guard.exempt.push(network);
        self.caps.exempt.push(network);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_table_the_defaults_apply() {
        assert_eq!(SipLimits::resolve(None, Vec::new()), SipLimits::default());
    }

    #[test]
    fn table_keys_override_the_defaults_and_trusted_networks_are_exempt() {
        let file: SipLimitsFile = toml::from_str(
            "invite-rate = 5\ninvite-burst = 8\nauth-failures = 3\nblock-seconds = 60\n\
             dialogs-per-source = 10\nblock-scanners = false",
        )
        .unwrap();
        let office: Network = "192.0.2.0/24".parse().unwrap();
        let limits = SipLimits::resolve(Some(file), vec![office]);
        assert_eq!(limits.guard.invite, Rate::new(5, 8));
        assert_eq!(limits.guard.register, GuardConfig::default().register);
        assert_eq!(limits.guard.auth_failures, 3);
        assert_eq!(limits.guard.block_for, Duration::from_secs(60));
        assert!(!limits.guard.block_scanners);
        assert_eq!(limits.caps.dialogs_per_source, 10);
        assert_eq!(limits.guard.exempt, vec![office]);
        assert_eq!(limits.caps.exempt, vec![office]);
    }

    #[test]
    fn a_burst_below_the_rate_is_raised_to_the_rate() {
        let file: SipLimitsFile = toml::from_str("options-rate = 20\noptions-burst = 2").unwrap();
        let limits = SipLimits::resolve(Some(file), Vec::new());
        assert_eq!(limits.guard.options, Rate::new(20, 20));
    }

    #[test]
    fn unknown_keys_are_refused() {
        assert!(toml::from_str::<SipLimitsFile>("invite-per-second = 5").is_err());
    }

    fn serve_settings(args: &[&str]) -> Result<crate::config::Settings, String> {
        use clap::Parser;
        let cli = crate::cli::Cli::try_parse_from(["madoguchi", "serve"].iter().chain(args))
            .map_err(|e| e.to_string())?;
        let crate::cli::Command::Serve(serve) = cli.command else {
            return Err("not serve".to_owned());
        };
        crate::config::Settings::resolve(&serve).map_err(|e| e.to_string())
    }

    #[test]
    fn the_trusted_networks_flag_takes_a_comma_list() {
        let settings = serve_settings(&["--sip-trusted-networks", "192.0.2.0/24,198.51.100.7"]);
        let exempt = settings.map(|s| s.sip_limits.guard.exempt);
        assert_eq!(
            exempt,
            Ok(vec![
                "192.0.2.0/24".parse().unwrap(),
                "198.51.100.7/32".parse().unwrap()
            ])
        );
        assert_eq!(
            serve_settings(&[]).map(|s| s.sip_limits),
            Ok(SipLimits::default())
        );
    }

    #[test]
    fn a_bad_trusted_network_is_refused_with_its_text() {
        let error = serve_settings(&["--sip-trusted-networks", "192.0.2.0/33"]).err();
        assert!(error.is_some_and(|e| e.contains("192.0.2.0/33")));
    }

    #[test]
    fn the_trunk_is_trusted_by_both_layers() {
        let mut limits = SipLimits::default();
        let trunk = Network::host("203.0.113.5".parse().unwrap());
        limits.trust(trunk);
        assert_eq!(limits.guard.exempt, vec![trunk]);
        assert_eq!(limits.caps.exempt, vec![trunk]);
    }
}
