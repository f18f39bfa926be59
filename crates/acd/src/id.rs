//! Newtype identifiers. All of them come from one macro so they share the same derives and
//! cannot be mixed up: a `CallerId` is never accepted where an `OperatorId` is expected.

macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident($inner:ty)) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub $inner);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}", self.0)
            }
        }

        impl From<$inner> for $name {
            fn from(value: $inner) -> Self {
                Self(value)
            }
        }
    };
}

id_type!(
    /// A caller waiting in (or passing through) a queue; chosen by the shell, usually per call.
    CallerId(u64)
);
id_type!(
    /// An operator (agent) who can be offered calls.
    OperatorId(u32)
);
id_type!(
    /// A queue callers join.
    QueueId(u32)
);
id_type!(
    /// One ring attempt of one caller to one operator; allocated by the engine.
    OfferId(u64)
);
