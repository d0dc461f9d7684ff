//! Keras-style configs (`get_config()` dictionaries) for optimizers and schedules: an
//! ordered list of named values, and a reader that checks names and types and rejects
//! unknown arguments the way Keras's constructors do.
use crate::error::Result;
use crate::{type_err, value_err};
use std::cell::RefCell;

/// One config value (the JSON-like subset Keras configs use).
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    List(Vec<Value>),
    Dict(Config),
}

impl From<bool> for Value {
    fn from(v: bool) -> Value {
        Value::Bool(v)
    }
}
impl From<i64> for Value {
    fn from(v: i64) -> Value {
        Value::Int(v)
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Value {
        Value::Float(v)
    }
}
impl From<f32> for Value {
    fn from(v: f32) -> Value {
        Value::Float(v as f64)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Value {
        Value::Str(v.to_string())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Value {
        Value::Str(v)
    }
}
impl From<Config> for Value {
    fn from(v: Config) -> Value {
        Value::Dict(v)
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Value {
        v.map_or(Value::None, Into::into)
    }
}
impl From<Vec<f64>> for Value {
    fn from(v: Vec<f64>) -> Value {
        Value::List(v.into_iter().map(Value::Float).collect())
    }
}

/// An ordered `name -> value` map, as Keras's `get_config()` returns.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Config(pub Vec<(String, Value)>);

impl Config {
    pub fn new() -> Config {
        Config(Vec::new())
    }

    /// Sets `key` (replacing an earlier value) and returns `self` for chaining.
    pub fn set(mut self, key: &str, value: impl Into<Value>) -> Config {
        self.insert(key, value);
        self
    }

    pub fn insert(&mut self, key: &str, value: impl Into<Value>) {
        let value = value.into();
        match self.0.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = value,
            None => self.0.push((key.to_string(), value)),
        }
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Appends every entry of `other` (replacing equal keys).
    pub fn extend(&mut self, other: Config) {
        for (k, v) in other.0 {
            self.insert(&k, v);
        }
    }
}

/// Reads typed arguments out of a config for the constructor `owner` and remembers which
/// were read, so `finish` can reject the rest as Keras does ("Argument(s) not recognized").
pub(crate) struct Args<'a> {
    cfg: &'a Config,
    owner: &'a str,
    used: RefCell<Vec<&'a str>>,
}

impl<'a> Args<'a> {
    pub fn new(cfg: &'a Config, owner: &'a str) -> Args<'a> {
        Args {
            cfg,
            owner,
            used: RefCell::new(Vec::new()),
        }
    }

    pub fn owner(&self) -> &str {
        self.owner
    }

    /// The raw value of `key` (None when absent or `None`).
    pub fn raw(&self, key: &'a str) -> Option<&'a Value> {
        self.used.borrow_mut().push(key);
        match self.cfg.get(key) {
            None | Some(Value::None) => None,
            Some(v) => Some(v),
        }
    }

    pub fn opt_f64(&self, key: &'a str) -> Result<Option<f64>> {
        match self.raw(key) {
            None => Ok(None),
            Some(Value::Float(x)) => Ok(Some(*x)),
            Some(Value::Int(x)) => Ok(Some(*x as f64)),
            Some(v) => Err(type_err!(
                "{}: argument `{key}` must be a number, received {}",
                self.owner,
                describe(v)
            )),
        }
    }

    pub fn f64(&self, key: &'a str, default: f64) -> Result<f64> {
        Ok(self.opt_f64(key)?.unwrap_or(default))
    }

    pub fn opt_f32(&self, key: &'a str) -> Result<Option<f32>> {
        Ok(self.opt_f64(key)?.map(|x| x as f32))
    }

    pub fn f32(&self, key: &'a str, default: f32) -> Result<f32> {
        Ok(self.opt_f32(key)?.unwrap_or(default))
    }

    pub fn opt_u64(&self, key: &'a str) -> Result<Option<u64>> {
        match self.opt_f64(key)? {
            None => Ok(None),
            Some(x) if x >= 0.0 && x.fract() == 0.0 && x <= u64::MAX as f64 => Ok(Some(x as u64)),
            Some(x) => Err(value_err!(
                "{}: argument `{key}` must be a non-negative integer, received {x}",
                self.owner
            )),
        }
    }

    pub fn bool(&self, key: &'a str, default: bool) -> Result<bool> {
        match self.raw(key) {
            None => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(Value::Int(i)) if *i == 0 || *i == 1 => Ok(*i == 1),
            Some(v) => Err(type_err!(
                "{}: argument `{key}` must be a boolean, received {}",
                self.owner,
                describe(v)
            )),
        }
    }

    pub fn opt_str(&self, key: &'a str) -> Result<Option<String>> {
        match self.raw(key) {
            None => Ok(None),
            Some(Value::Str(s)) => Ok(Some(s.clone())),
            Some(v) => Err(type_err!(
                "{}: argument `{key}` must be a string, received {}",
                self.owner,
                describe(v)
            )),
        }
    }

    pub fn numbers(&self, key: &'a str) -> Result<Vec<f64>> {
        let bad = |v: &Value| {
            type_err!(
                "{}: argument `{key}` must be a list of numbers, received {}",
                self.owner,
                describe(v)
            )
        };
        match self.raw(key) {
            None => Err(value_err!(
                "{}: missing required argument `{key}`",
                self.owner
            )),
            Some(Value::List(items)) => items
                .iter()
                .map(|v| match v {
                    Value::Float(x) => Ok(*x),
                    Value::Int(x) => Ok(*x as f64),
                    v => Err(bad(v)),
                })
                .collect(),
            Some(v) => Err(bad(v)),
        }
    }

    /// A required number.
    pub fn req_f64(&self, key: &'a str) -> Result<f64> {
        self.opt_f64(key)?
            .ok_or_else(|| value_err!("{}: missing required argument `{key}`", self.owner))
    }

    /// Fails on any argument that was never read.
    pub fn finish(self) -> Result<()> {
        let used = self.used.borrow();
        let unknown: Vec<&str> = self
            .cfg
            .0
            .iter()
            .map(|(k, _)| k.as_str())
            .filter(|k| !used.contains(k))
            .collect();
        if unknown.is_empty() {
            Ok(())
        } else {
            Err(value_err!(
                "{}: argument(s) not recognized: {:?}",
                self.owner,
                unknown
            ))
        }
    }
}

fn describe(v: &Value) -> String {
    match v {
        Value::None => "None".into(),
        Value::Bool(b) => format!("{b}"),
        Value::Int(i) => format!("{i}"),
        Value::Float(x) => format!("{x}"),
        Value::Str(s) => format!("{s:?}"),
        Value::List(_) => "a list".into(),
        Value::Dict(_) => "a dict".into(),
    }
}
