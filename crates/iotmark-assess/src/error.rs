use std::path::PathBuf;

/// Why an assessment could not run. Problems with the product are findings, not errors.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AssessError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("scheme {name}: {message}")]
    Scheme { name: String, message: String },
    #[error("rules {name}: {message}")]
    Rules { name: String, message: String },
    #[error("unknown scheme `{id}`\nhint: bundled schemes are {known}; or pass a scheme file")]
    UnknownScheme { id: String, known: String },
}
