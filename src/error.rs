//! One error type for the whole tool. Every variant names what the user must look at (file, row,
//! column, key) and every error maps to exit code 2 (usage or input error), as the contract says.

use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{file}: missing required column `{column}`{hint} (required: {required}); see `driftwatch schema events`")]
    MissingColumn {
        file: String,
        column: String,
        required: String,
        /// Why it may be missing, e.g. " (the header looks semicolon-separated …)", or "".
        hint: String,
    },

    #[error("{file}: column `{column}` has type {found}, expected {expected}")]
    ColumnType { file: String, column: String, found: String, expected: String },

    #[error("{file}:{location}: {message}")]
    Input {
        file: String,
        /// "row 12, column `ts`", "line 3", … whatever pins the problem down.
        location: String,
        message: String,
    },

    #[error("{file}: {message}")]
    File { file: String, message: String },

    #[error("register {file}: `{key}`: {message}")]
    Register { file: String, key: String, message: String },

    /// A source map (or route map) that cannot be used: named before anything is read.
    #[error("source map {file}: `{key}`: {message}")]
    Map { file: String, key: String, message: String },

    #[error("{0}")]
    Usage(String),

    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },

    #[error("{context}: {source}")]
    Polars { context: String, source: polars::error::PolarsError },
}

impl Error {
    /// The process exit code for this error: always 2 (usage or input error).
    pub fn exit_code(&self) -> i32 {
        2
    }

    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), source }
    }

    pub fn file(file: impl std::fmt::Display, message: impl Into<String>) -> Self {
        Error::File { file: file.to_string(), message: message.into() }
    }
}

/// Adds a human context to polars errors (`.polars("reading events.parquet")?`).
pub trait PolarsContext<T> {
    fn polars(self, context: impl Into<String>) -> Result<T>;
}

impl<T> PolarsContext<T> for polars::error::PolarsResult<T> {
    fn polars(self, context: impl Into<String>) -> Result<T> {
        self.map_err(|source| Error::Polars { context: context.into(), source })
    }
}
