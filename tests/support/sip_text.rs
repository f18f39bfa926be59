//! Just enough SIP text handling for a test phone: the engine's own parser is what is under
//! test, so the phone reads messages with independent, plain string code.

#[derive(Debug, Clone)]
pub struct Message {
    pub start_line: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Message {
    pub fn parse(bytes: &[u8]) -> Option<Message> {
        let split = bytes.windows(4).position(|w| w == b"\r\n\r\n")?;
        let head = std::str::from_utf8(&bytes[..split]).ok()?;
        let body = bytes[split + 4..].to_vec();
        let mut lines = head.split("\r\n");
        let start_line = lines.next()?.to_owned();
        let headers = lines
            .filter_map(|line| line.split_once(':'))
            .map(|(name, value)| (name.trim().to_owned(), value.trim().to_owned()))
            .collect();
        Some(Message {
            start_line,
            headers,
            body,
        })
    }

    /// Status code of a response, None for a request.
    pub fn status(&self) -> Option<u16> {
        let rest = self.start_line.strip_prefix("SIP/2.0 ")?;
        rest.get(..3)?.parse().ok()
    }

    pub fn method(&self) -> Option<&str> {
        if self.start_line.starts_with("SIP/2.0") {
            return None;
        }
        self.start_line.split_whitespace().next()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn headers_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn cseq_method(&self) -> Option<&str> {
        self.header("CSeq")?.split_whitespace().nth(1)
    }

    /// The tag parameter of the To header.
    pub fn to_tag(&self) -> Option<String> {
        tag_of(self.header("To")?)
    }

    /// `c=` address and `m=audio` port of an SDP body.
    pub fn sdp_media(&self) -> Option<std::net::SocketAddr> {
        let text = std::str::from_utf8(&self.body).ok()?;
        let ip = text
            .lines()
            .find_map(|l| l.strip_prefix("c=IN IP4 "))?
            .trim();
        let port = text
            .lines()
            .find_map(|l| l.strip_prefix("m=audio "))?
            .split_whitespace()
            .next()?;
        format!("{ip}:{port}").parse().ok()
    }
}

pub fn tag_of(header: &str) -> Option<String> {
    header
        .split(';')
        .find_map(|p| p.trim().strip_prefix("tag="))
        .map(str::to_owned)
}
