//! The one error type of the core. Every variant maps to a Python exception class
//! (`Value` -> ValueError, `Type` -> TypeError, `Index` -> IndexError, `Runtime` -> RuntimeError)
//! and every message names the op or layer and the shapes or values at fault.
use std::fmt;

#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    Value(String),
    Type(String),
    Index(String),
    Runtime(String),
}

pub type Result<T> = std::result::Result<T, Error>;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Value(m) | Error::Type(m) | Error::Index(m) | Error::Runtime(m) => {
                f.write_str(m)
            }
        }
    }
}

impl std::error::Error for Error {}

/// `value_err!("op: ...", args)` builds an `Error::Value` with a formatted message.
#[macro_export]
macro_rules! value_err {
    ($($t:tt)*) => { $crate::error::Error::Value(format!($($t)*)) };
}

/// `type_err!(...)` builds an `Error::Type`.
#[macro_export]
macro_rules! type_err {
    ($($t:tt)*) => { $crate::error::Error::Type(format!($($t)*)) };
}

/// `runtime_err!(...)` builds an `Error::Runtime`.
#[macro_export]
macro_rules! runtime_err {
    ($($t:tt)*) => { $crate::error::Error::Runtime(format!($($t)*)) };
}
