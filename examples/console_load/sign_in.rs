//! Signing in as the console page does: `POST /api/v1/session` with the login and password,
//! keeping the `madoguchi_session` cookie the answer sets. One HTTP/1.1 request on its own
//! connection (`Connection: close`), which is all a load tool needs.

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The cookie's name (src/web/auth.rs).
const SESSION_COOKIE: &str = "madoguchi_session";
/// An answer longer than this is not a sign-in answer.
const MAX_RESPONSE: u64 = 64 * 1024;

/// Signs `login` in; returns the `Cookie` header value for the WebSocket handshake.
pub async fn sign_in(http: SocketAddr, login: &str, password: &str) -> Result<String, String> {
    let body = serde_json::json!({ "login": login, "password": password }).to_string();
    let request = format!(
        "POST /api/v1/session HTTP/1.1\r\nHost: {http}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut stream = TcpStream::connect(http)
        .await
        .map_err(|e| format!("sign-in: cannot connect to {http}: {e}"))?;
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| format!("sign-in: sending: {e}"))?;
    let mut response = Vec::new();
    stream
        .take(MAX_RESPONSE)
        .read_to_end(&mut response)
        .await
        .map_err(|e| format!("sign-in: reading: {e}"))?;
    let response = String::from_utf8_lossy(&response);
    let status = response.split_whitespace().nth(1).unwrap_or("none");
    if status != "200" {
        return Err(format!("sign-in answered {status}"));
    }
    session_cookie(&response).ok_or_else(|| "sign-in set no session cookie".to_owned())
}

/// `name=value` of the session cookie among the response's `Set-Cookie` headers.
fn session_cookie(response: &str) -> Option<String> {
    let head = response.split("\r\n\r\n").next()?;
    head.lines()
        .filter_map(|line| line.split_once(':'))
        .filter(|(name, _)| name.trim().eq_ignore_ascii_case("set-cookie"))
        .filter_map(|(_, value)| value.split(';').next())
        .map(str::trim)
        .find(|pair| {
            pair.split_once('=')
                .is_some_and(|(name, value)| name == SESSION_COOKIE && !value.is_empty())
        })
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::session_cookie;

    #[test]
    fn the_session_cookie_is_taken_from_its_set_cookie_header() {
        let response = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
            set-cookie: madoguchi_session=s3cret; HttpOnly; SameSite=Strict; Path=/\r\n\r\n{}";
        assert_eq!(
            session_cookie(response).as_deref(),
            Some("madoguchi_session=s3cret")
        );
    }

    #[test]
    fn a_response_without_the_cookie_has_no_session() {
        let response = "HTTP/1.1 200 OK\r\nset-cookie: theme=dark\r\n\r\nmadoguchi_session=x";
        assert_eq!(session_cookie(response), None);
    }
}
