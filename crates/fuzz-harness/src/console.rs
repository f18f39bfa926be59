//! console_json: a WebSocket text frame from an operator's browser, decoded as the engine
//! decodes it (src/web/console/mod.rs).

use madoguchi_console_protocol::{ClientMessage, DecodeError};

/// The engine's cap on one console frame (`src/web/console/mod.rs` `MAX_MESSAGE`).
const MAX_MESSAGE: usize = 64 * 1024;

pub fn console_json(data: &[u8]) {
    // A WebSocket text frame is UTF-8 by definition (the socket layer refuses others).
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match ClientMessage::decode(text, MAX_MESSAGE) {
        Ok(message) => {
            assert!(!message.name().is_empty());
            // The message's type is in the frame it was decoded from.
            assert!(text.contains(message.name()), "{text:?} → {message:?}");
        }
        // The error's text goes back to the browser: it must render.
        Err(error @ DecodeError::Invalid(_)) => assert!(!error.to_string().is_empty()),
        Err(DecodeError::TooLarge { size, limit }) => assert!(size > limit),
    }
}
