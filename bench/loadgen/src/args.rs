//! `--name value` / `--name=value` options with typed getters and defaults. Every option a
//! command does not read is reported as unknown, so a typo cannot silently change a benchmark.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use crate::error::{Error, Result};

pub struct Args {
    values: BTreeMap<String, String>,
    read: RefCell<BTreeSet<String>>,
}

/// Parses a byte size: a plain number or one with a binary suffix (k/KiB, m/MiB, g/GiB).
pub fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, suffix) = s.split_at(split);
    let n: u64 = num.parse().ok()?;
    let mult = match suffix.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kib" | "kb" => 1 << 10,
        "m" | "mib" | "mb" => 1 << 20,
        "g" | "gib" | "gb" => 1 << 30,
        _ => return None,
    };
    n.checked_mul(mult)
}

impl Args {
    pub fn parse(raw: impl IntoIterator<Item = String>) -> Result<Self> {
        let mut values = BTreeMap::new();
        let mut it = raw.into_iter();
        while let Some(a) = it.next() {
            let Some(name) = a.strip_prefix("--") else {
                return Err(Error::Usage(format!("unexpected argument {a:?}")));
            };
            let (name, value) = match name.split_once('=') {
                Some((n, v)) => (n.to_string(), v.to_string()),
                None => {
                    let v = it
                        .next()
                        .ok_or_else(|| Error::Usage(format!("--{name} needs a value")))?;
                    (name.to_string(), v)
                }
            };
            if values.insert(name.clone(), value).is_some() {
                return Err(Error::Usage(format!("--{name} given twice")));
            }
        }
        Ok(Self {
            values,
            read: RefCell::new(BTreeSet::new()),
        })
    }

    fn raw(&self, name: &str) -> Option<&str> {
        self.read.borrow_mut().insert(name.to_string());
        self.values.get(name).map(String::as_str)
    }

    fn bad(name: &str, v: &str, what: &str) -> Error {
        Error::Usage(format!("--{name} {v:?}: expected {what}"))
    }

    pub fn string(&self, name: &str, default: &str) -> String {
        self.raw(name).unwrap_or(default).to_string()
    }

    pub fn required(&self, name: &str) -> Result<String> {
        self.raw(name)
            .map(str::to_string)
            .ok_or_else(|| Error::Usage(format!("--{name} is required")))
    }

    pub fn u64(&self, name: &str, default: u64) -> Result<u64> {
        match self.raw(name) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|_| Self::bad(name, v, "a non-negative integer")),
        }
    }

    pub fn i64(&self, name: &str, default: i64) -> Result<i64> {
        match self.raw(name) {
            None => Ok(default),
            Some(v) => v.parse().map_err(|_| Self::bad(name, v, "an integer")),
        }
    }

    pub fn f64(&self, name: &str, default: f64) -> Result<f64> {
        match self.raw(name) {
            None => Ok(default),
            Some(v) => v
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite() && *x >= 0.0)
                .ok_or_else(|| Self::bad(name, v, "a non-negative number")),
        }
    }

    pub fn size(&self, name: &str, default: u64) -> Result<u64> {
        match self.raw(name) {
            None => Ok(default),
            Some(v) => {
                parse_size(v).ok_or_else(|| Self::bad(name, v, "a size such as 100, 16KiB or 1MiB"))
            }
        }
    }

    pub fn seconds(&self, name: &str, default: f64) -> Result<Duration> {
        Ok(Duration::from_secs_f64(self.f64(name, default)?))
    }

    pub fn bool(&self, name: &str, default: bool) -> Result<bool> {
        match self.raw(name) {
            None => Ok(default),
            Some("true") => Ok(true),
            Some("false") => Ok(false),
            Some(v) => Err(Self::bad(name, v, "true or false")),
        }
    }

    /// Repeated `key=value` pairs, given as one comma-separated option.
    pub fn pairs(&self, name: &str) -> Result<Vec<(String, String)>> {
        let Some(v) = self.raw(name) else {
            return Ok(Vec::new());
        };
        v.split(',')
            .filter(|p| !p.is_empty())
            .map(|p| {
                p.split_once('=')
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .ok_or_else(|| Self::bad(name, p, "key=value"))
            })
            .collect()
    }

    /// Fails on any option no getter asked for.
    pub fn finish(&self) -> Result<()> {
        let read = self.read.borrow();
        let unknown: Vec<String> = self
            .values
            .keys()
            .filter(|k| !read.contains(*k))
            .map(|k| format!("--{k}"))
            .collect();
        if unknown.is_empty() {
            Ok(())
        } else {
            Err(Error::Usage(format!(
                "unknown option(s): {}",
                unknown.join(" ")
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &[&str]) -> Args {
        Args::parse(s.iter().map(|s| s.to_string())).unwrap()
    }

    #[test]
    fn sizes_take_binary_suffixes() {
        assert_eq!(parse_size("100"), Some(100));
        assert_eq!(parse_size("16KiB"), Some(16384));
        assert_eq!(parse_size("1m"), Some(1 << 20));
        assert_eq!(parse_size("2GiB"), Some(2 << 30));
        assert_eq!(parse_size("1.5MiB"), None);
        assert_eq!(parse_size("x"), None);
    }

    #[test]
    fn both_spellings_and_defaults() {
        let a = args(&["--acks", "-1", "--batch-bytes=1MiB", "--stamp", "true"]);
        assert_eq!(a.i64("acks", 1).unwrap(), -1);
        assert_eq!(a.size("batch-bytes", 0).unwrap(), 1 << 20);
        assert!(a.bool("stamp", false).unwrap());
        assert_eq!(a.u64("connections", 2).unwrap(), 2);
        a.finish().unwrap();
    }

    #[test]
    fn unknown_and_repeated_options_are_refused() {
        let a = args(&["--acks", "1", "--ackz", "1"]);
        a.i64("acks", 1).unwrap();
        assert!(a.finish().is_err());
        assert!(Args::parse(["--a", "1", "--a", "2"].map(String::from)).is_err());
        assert!(Args::parse(["--a"].map(String::from)).is_err());
        assert!(args(&["--n", "x"]).u64("n", 0).is_err());
    }

    #[test]
    fn pairs_split_on_commas() {
        let a = args(&["--topic-config", "segment.bytes=1048576,retention.ms=-1"]);
        assert_eq!(
            a.pairs("topic-config").unwrap(),
            vec![
                ("segment.bytes".into(), "1048576".into()),
                ("retention.ms".into(), "-1".into())
            ]
        );
    }
}
