//! Newtype identifiers of the media layer, made by one macro so they all behave alike
//! (`Copy`, ordered, hashable, printable as their inner value).
//!
//! ```
//! use madoguchi_media::{SeqNo, Ssrc};
//! let ssrc = Ssrc(0xDEAD_BEEF);
//! assert_eq!(u32::from(ssrc), 0xDEAD_BEEF);
//! assert!(SeqNo(65_536) > SeqNo(65_535));
//! ```

macro_rules! newtype_id {
    ($(#[$meta:meta])* $name:ident($inner:ty)) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
        pub struct $name(pub $inner);

        impl From<$inner> for $name {
            fn from(v: $inner) -> Self {
                Self(v)
            }
        }

        impl From<$name> for $inner {
            fn from(v: $name) -> Self {
                v.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                std::fmt::Display::fmt(&self.0, f)
            }
        }
    };
}

newtype_id!(
    /// RTP synchronization source identifier (RFC 3550 §5.1).
    Ssrc(u32)
);

newtype_id!(
    /// An RTP sequence number extended to 64 bits across u16 rollovers (RFC 3550 §A.1), so
    /// ordering and differences are plain integer arithmetic. See [`crate::rtp::SeqExtender`].
    SeqNo(u64)
);

impl SeqNo {
    /// The 16-bit sequence number carried on the wire.
    pub fn wire(self) -> u16 {
        // Truncation is the point: the wire value is the low 16 bits.
        self.0 as u16
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seqno_wire_value_is_low_16_bits() {
        assert_eq!(SeqNo(3 * 65_536 + 7).wire(), 7);
    }

    #[test]
    fn ssrc_displays_as_its_number() {
        assert_eq!(Ssrc(42).to_string(), "42");
    }
}
