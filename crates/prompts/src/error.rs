//! The one error type of prompt loading.
//!
//! Every variant that concerns a file carries its path, and `Display` leads with
//! it, so a start-up failure reads "prompt file sounds/ja/greting.wav: cannot
//! open: No such file or directory" in the log and in `dialplan check`.

use std::path::PathBuf;

/// Why a prompt could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PromptError {
    /// The file could not be opened (missing, unreadable).
    #[error("prompt file {}: cannot open: {source}", file.display())]
    Open {
        file: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file is not an audio format or codec this build can decode.
    #[error("prompt file {}: unsupported audio: {reason}", file.display())]
    Unsupported { file: PathBuf, reason: &'static str },
    /// The container was recognised but the audio inside could not be decoded.
    #[error("prompt file {}: cannot decode: {source}", file.display())]
    Decode {
        file: PathBuf,
        #[source]
        source: symphonia::core::errors::Error,
    },
    /// The decoder library panicked on this file: a bug on its side, almost
    /// certainly triggered by a corrupt file.
    #[error("prompt file {}: the decoder failed on corrupt data", file.display())]
    DecoderPanicked { file: PathBuf },
    /// The file holds no audio samples at all.
    #[error("prompt file {}: contains no audio", file.display())]
    Empty { file: PathBuf },
    /// The file is longer than a prompt may be; keeps a stray recording from
    /// filling memory at start-up.
    #[error("prompt file {}: longer than {max_seconds} s", file.display())]
    TooLong { file: PathBuf, max_seconds: u32 },
    /// The resampler refused the file's sample rate.
    #[error("prompt file {}: cannot resample from {rate} Hz: {source}", file.display())]
    ResamplerSetup {
        file: PathBuf,
        rate: u32,
        #[source]
        source: rubato::ResamplerConstructionError,
    },
    /// The resampler failed while converting.
    #[error("prompt file {}: resampling failed: {source}", file.display())]
    Resample {
        file: PathBuf,
        #[source]
        source: rubato::ResampleError,
    },
    /// Two prompts were given the same name.
    #[error("prompt name {name:?} is given twice (second time for {})", file.display())]
    DuplicateName { name: String, file: PathBuf },
    /// More prompts than a [`PromptId`](crate::PromptId) can index.
    #[error("too many prompts (at most {max})")]
    TooMany { max: u64 },
}

impl PromptError {
    /// The file the error is about, when there is one.
    pub fn file(&self) -> Option<&std::path::Path> {
        match self {
            PromptError::Open { file, .. }
            | PromptError::Unsupported { file, .. }
            | PromptError::Decode { file, .. }
            | PromptError::DecoderPanicked { file }
            | PromptError::Empty { file }
            | PromptError::TooLong { file, .. }
            | PromptError::ResamplerSetup { file, .. }
            | PromptError::Resample { file, .. }
            | PromptError::DuplicateName { file, .. } => Some(file),
            PromptError::TooMany { .. } => None,
        }
    }
}
