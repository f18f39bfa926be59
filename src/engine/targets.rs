//! Where the dialplan's transfer targets are: each target names a deployment setting (the
//! city line's SIP URI), which the shell resolves once at start into an address to send to,
//! possibly through the trunk's outbound proxy.

use std::collections::HashMap;
use std::net::SocketAddr;

use madoguchi_dialplan::Dialplan;
use madoguchi_sip::Transport;

/// A resolved target: the Request-URI, where the INVITE goes, and trunk credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetAddress {
    pub uri: String,
    pub destination: SocketAddr,
    pub transport: Transport,
    /// Digest username and password for a trunk that challenges.
    pub credentials: Option<(String, String)>,
}

/// The parts of a SIP URI the shell needs to resolve it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UriParts {
    pub user: Option<String>,
    pub host: String,
    pub port: Option<u16>,
    pub transport: Transport,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UriError {
    #[error("{0:?} is not a sip: URI")]
    Scheme(String),
    #[error("{0:?} has no host")]
    NoHost(String),
    #[error("{0:?} has a bad port")]
    Port(String),
    #[error("{0:?} asks for a transport other than udp or tcp")]
    Transport(String),
}

/// Reads `sip:user@host:port;transport=tcp` (no DNS SRV: a port-less host means 5060).
pub fn parse_uri(uri: &str) -> Result<UriParts, UriError> {
    let text = uri.trim().trim_start_matches('<').trim_end_matches('>');
    let rest = text
        .strip_prefix("sip:")
        .ok_or_else(|| UriError::Scheme(uri.to_owned()))?;
    let rest = rest.split('?').next().unwrap_or(rest);
    let mut parts = rest.split(';');
    let address = parts.next().unwrap_or("");
    let mut transport = Transport::Udp;
    for param in parts {
        if let Some(value) = param.strip_prefix("transport=") {
            transport = match value.to_ascii_lowercase().as_str() {
                "udp" => Transport::Udp,
                "tcp" => Transport::Tcp,
                _ => return Err(UriError::Transport(uri.to_owned())),
            };
        }
    }
    let (user, hostport) = match address.rsplit_once('@') {
        Some((user, hostport)) => (Some(user.to_owned()), hostport),
        None => (None, address),
    };
    let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
        let (host, after) = v6
            .split_once(']')
            .ok_or_else(|| UriError::NoHost(uri.to_owned()))?;
        (host, after.strip_prefix(':'))
    } else {
        match hostport.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (hostport, None),
        }
    };
    if host.is_empty() {
        return Err(UriError::NoHost(uri.to_owned()));
    }
    let port = port
        .map(|p| p.parse::<u16>().map_err(|_| UriError::Port(uri.to_owned())))
        .transpose()?;
    Ok(UriParts {
        user: user.filter(|u| !u.is_empty()),
        host: host.to_owned(),
        port,
        transport,
    })
}

/// See the module docs.
#[derive(Debug, Default, Clone)]
pub struct Targets {
    by_setting: HashMap<String, TargetAddress>,
}

impl Targets {
    pub fn insert(&mut self, setting: &str, address: TargetAddress) {
        self.by_setting.insert(setting.to_owned(), address);
    }

    /// Where every configured target is reached (the trunk the flood guard trusts).
    pub fn destinations(&self) -> impl Iterator<Item = SocketAddr> + '_ {
        self.by_setting.values().map(|address| address.destination)
    }

    /// The address of a dialplan target; `None` when its setting is not configured.
    pub fn address(&self, dialplan: &Dialplan, target: &str) -> Option<&TargetAddress> {
        let setting = &dialplan.target(target)?.setting;
        self.by_setting.get(setting)
    }

    /// The dialplan target a REFER's Refer-To names, if any: its user part is the target's
    /// name (`sip:city_line@…`) or the user of the target's configured URI. Anything else is
    /// not a destination the dialplan allows (toll-fraud guard).
    pub fn target_for_refer(&self, dialplan: &Dialplan, refer_to: &str) -> Option<String> {
        let user = parse_uri(refer_to).ok()?.user?;
        dialplan.targets().iter().find_map(|target| {
            let configured_user = self
                .by_setting
                .get(&target.setting)
                .and_then(|a| parse_uri(&a.uri).ok())
                .and_then(|p| p.user);
            let allowed = user == target.name || configured_user.as_deref() == Some(user.as_str());
            allowed.then(|| target.name.clone())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_uri_gives_user_host_and_port() {
        let p = parse_uri("sip:city@127.0.0.1:5080").unwrap();
        assert_eq!(p.user.as_deref(), Some("city"));
        assert_eq!(p.host, "127.0.0.1");
        assert_eq!(p.port, Some(5080));
        assert_eq!(p.transport, Transport::Udp);
    }

    #[test]
    fn transport_tcp_and_brackets_are_understood() {
        let p = parse_uri("<sip:0462521111@[::1]:5070;transport=TCP>").unwrap();
        assert_eq!(p.host, "::1");
        assert_eq!(p.port, Some(5070));
        assert_eq!(p.transport, Transport::Tcp);
    }

    #[test]
    fn a_uri_without_port_or_user_is_accepted() {
        let p = parse_uri("sip:trunk.example.jp").unwrap();
        assert_eq!(p.user, None);
        assert_eq!(p.port, None);
    }

    #[test]
    fn bad_uris_are_refused_with_a_reason() {
        assert!(matches!(
            parse_uri("tel:+81462521111"),
            Err(UriError::Scheme(_))
        ));
        assert!(matches!(parse_uri("sip:city@"), Err(UriError::NoHost(_))));
        assert!(matches!(
            parse_uri("sip:city@host:99999"),
            Err(UriError::Port(_))
        ));
        assert!(matches!(
            parse_uri("sip:city@host;transport=sctp"),
            Err(UriError::Transport(_))
        ));
    }

    fn dialplan() -> Dialplan {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("dialplans");
        Dialplan::load(&dir.join("zama.toml")).unwrap()
    }

    fn targets() -> Targets {
        let mut t = Targets::default();
        t.insert(
            "city_line",
            TargetAddress {
                uri: "sip:0462521111@127.0.0.1:5080".into(),
                destination: "127.0.0.1:5080".parse().unwrap(),
                transport: Transport::Udp,
                credentials: None,
            },
        );
        t
    }

    #[test]
    fn refer_to_the_target_name_or_its_number_is_allowed() {
        let (d, t) = (dialplan(), targets());
        assert_eq!(
            t.target_for_refer(&d, "<sip:city_line@127.0.0.1>")
                .as_deref(),
            Some("city_line")
        );
        assert_eq!(
            t.target_for_refer(&d, "sip:0462521111@127.0.0.1:5060")
                .as_deref(),
            Some("city_line")
        );
    }

    #[test]
    fn refer_to_any_other_destination_is_refused() {
        let (d, t) = (dialplan(), targets());
        assert_eq!(t.target_for_refer(&d, "sip:0901234567@evil.example"), None);
        assert_eq!(t.target_for_refer(&d, "sip:127.0.0.1"), None);
        assert_eq!(t.target_for_refer(&d, "not a uri"), None);
    }
}
