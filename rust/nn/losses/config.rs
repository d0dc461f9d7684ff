//! Keras-style configs (`get_config()` dictionaries) for building losses and metrics by
//! name: `from_config("BinaryCrossentropy", &config)`.
use crate::error::Result;
use crate::{type_err, value_err};
use std::collections::BTreeMap;

/// One config value, as Python would hold it.
#[derive(Clone, Debug, PartialEq)]
pub enum Param {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    /// A list of numbers (thresholds, per-class alpha, label weights).
    List(Vec<f64>),
}

/// A loss's or metric's config: argument name -> value.
pub type Config = BTreeMap<String, Param>;

/// Typed, checked reads of a config for the object named `owner` (used in errors).
pub struct Args<'a> {
    owner: &'a str,
    config: &'a Config,
}

impl<'a> Args<'a> {
    /// Fails with a TypeError naming the first key that is not in `known`, as Keras's
    /// `cls(**config)` would.
    pub fn new(owner: &'a str, config: &'a Config, known: &[&str]) -> Result<Args<'a>> {
        if let Some(k) = config.keys().find(|k| !known.contains(&k.as_str())) {
            return Err(type_err!(
                "{owner}: unexpected argument '{k}' (accepted: {})",
                known.join(", ")
            ));
        }
        Ok(Args { owner, config })
    }

    fn get(&self, key: &str) -> Option<&Param> {
        match self.config.get(key) {
            None | Some(Param::None) => None,
            Some(p) => Some(p),
        }
    }

    fn bad(&self, key: &str, want: &str) -> crate::error::Error {
        type_err!(
            "{}: argument '{key}' must be {want}, got {:?}",
            self.owner,
            self.config.get(key)
        )
    }

    pub fn f64_or(&self, key: &str, default: f64) -> Result<f64> {
        Ok(self.opt_f64(key)?.unwrap_or(default))
    }

    pub fn opt_f64(&self, key: &str) -> Result<Option<f64>> {
        match self.get(key) {
            None => Ok(None),
            Some(Param::Float(v)) => Ok(Some(*v)),
            Some(Param::Int(v)) => Ok(Some(*v as f64)),
            Some(_) => Err(self.bad(key, "a number")),
        }
    }

    pub fn bool_or(&self, key: &str, default: bool) -> Result<bool> {
        match self.get(key) {
            None => Ok(default),
            Some(Param::Bool(v)) => Ok(*v),
            Some(Param::Int(v)) if *v == 0 || *v == 1 => Ok(*v == 1),
            Some(_) => Err(self.bad(key, "a bool")),
        }
    }

    pub fn opt_i64(&self, key: &str) -> Result<Option<i64>> {
        match self.get(key) {
            None => Ok(None),
            Some(Param::Int(v)) => Ok(Some(*v)),
            Some(Param::Float(v)) if v.fract() == 0.0 => Ok(Some(*v as i64)),
            Some(_) => Err(self.bad(key, "an integer")),
        }
    }

    pub fn i64_or(&self, key: &str, default: i64) -> Result<i64> {
        Ok(self.opt_i64(key)?.unwrap_or(default))
    }

    pub fn opt_str(&self, key: &str) -> Result<Option<&'a str>> {
        match self.config.get(key) {
            None | Some(Param::None) => Ok(None),
            Some(Param::Str(s)) => Ok(Some(s.as_str())),
            Some(_) => Err(self.bad(key, "a string")),
        }
    }

    /// A number or a list of numbers, as a list.
    pub fn opt_list(&self, key: &str) -> Result<Option<Vec<f64>>> {
        match self.get(key) {
            None => Ok(None),
            Some(Param::List(v)) => Ok(Some(v.clone())),
            Some(Param::Float(v)) => Ok(Some(vec![*v])),
            Some(Param::Int(v)) => Ok(Some(vec![*v as f64])),
            Some(_) => Err(self.bad(key, "a number or a list of numbers")),
        }
    }

    /// The `name` argument, or `default`.
    pub fn name_or(&self, default: &str) -> Result<String> {
        Ok(self.opt_str("name")?.unwrap_or(default).to_string())
    }

    /// Checks that a number lies in `[lo, hi]`.
    pub fn in_range(&self, key: &str, v: f64, lo: f64, hi: f64) -> Result<f64> {
        if !(lo..=hi).contains(&v) {
            return Err(value_err!(
                "{}: argument '{key}' must be in [{lo}, {hi}], got {v}",
                self.owner
            ));
        }
        Ok(v)
    }
}
