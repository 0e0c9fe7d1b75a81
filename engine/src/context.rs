//! The request context: condition keys and their values.
//!
//! Condition key names are case-insensitive (`aws:SourceIp` = `aws:sourceip`), so keys are stored
//! lower-cased; values keep their case. AWS passes every value as text, so numbers and booleans given
//! as JSON are stored as their text. A key given as an array is multivalued (`aws:TagKeys`), even with
//! one element.

use crate::error::RequestError;
use smallvec::SmallVec;
use std::borrow::Cow;
use std::collections::BTreeMap;

/// A key lower-cased, copied only when it has upper-case letters: lookups name keys in lower
/// case more often than not, and this is on every request's path.
fn lowered(key: &str) -> Cow<'_, str> {
    if key.bytes().any(|b| b.is_ascii_uppercase() || !b.is_ascii()) {
        Cow::Owned(key.to_lowercase())
    } else {
        Cow::Borrowed(key)
    }
}

/// `aws:CurrentTime` and `aws:EpochTime` as text for one second, formatted once per second per
/// thread rather than once per request.
fn time_text(now: chrono::DateTime<chrono::Utc>) -> (String, String) {
    use std::cell::RefCell;
    thread_local! {
        static LAST: RefCell<Option<(i64, String, String)>> = const { RefCell::new(None) };
    }
    let secs = now.timestamp();
    LAST.with(|last| {
        let mut last = last.borrow_mut();
        match &*last {
            Some((at, iso, epoch)) if *at == secs => (iso.clone(), epoch.clone()),
            _ => {
                let iso = now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
                let epoch = secs.to_string();
                *last = Some((secs, iso.clone(), epoch.clone()));
                (iso, epoch)
            }
        }
    })
}

/// The value of one condition key.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ContextValue {
    /// Most keys hold one value: kept inline, it costs no allocation of its own.
    values: SmallVec<[String; 1]>,
    multi: bool,
}

impl ContextValue {
    /// A single-valued key.
    pub fn single(value: impl Into<String>) -> Self {
        ContextValue {
            values: smallvec::smallvec![value.into()],
            multi: false,
        }
    }
    /// A multivalued key (possibly empty).
    pub fn multi(values: Vec<String>) -> Self {
        ContextValue {
            values: SmallVec::from_vec(values),
            multi: true,
        }
    }
    /// The values, in the order given.
    pub fn values(&self) -> &[String] {
        &self.values
    }
    /// Whether the key was given as a set of values.
    pub fn is_multi(&self) -> bool {
        self.multi
    }
}

impl From<&str> for ContextValue {
    fn from(v: &str) -> Self {
        ContextValue::single(v)
    }
}
impl From<String> for ContextValue {
    fn from(v: String) -> Self {
        ContextValue::single(v)
    }
}
impl From<bool> for ContextValue {
    fn from(v: bool) -> Self {
        ContextValue::single(if v { "true" } else { "false" })
    }
}
impl From<Vec<String>> for ContextValue {
    fn from(v: Vec<String>) -> Self {
        ContextValue::multi(v)
    }
}
impl From<Vec<&str>> for ContextValue {
    fn from(v: Vec<&str>) -> Self {
        ContextValue::multi(v.into_iter().map(str::to_owned).collect())
    }
}

/// Condition keys given with a request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ContextMap {
    /// By lower-cased key. An ordered map: a lookup compares a few short keys instead of hashing
    /// one, and iteration comes sorted. A key named by a constant ([`KnownKey`]) is not copied.
    entries: BTreeMap<Cow<'static, str>, (Cow<'static, str>, ContextValue)>,
}

/// A condition key named by a constant, its lower case beside it (checked when compiled): set with
/// [`ContextMap::insert_known`], neither is copied — the sidecar derives several on every request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KnownKey {
    name: &'static str,
    lower: &'static str,
}

impl KnownKey {
    /// `aws:CurrentTime`.
    pub const CURRENT_TIME: KnownKey = KnownKey::new("aws:CurrentTime", "aws:currenttime");
    /// `aws:EpochTime`.
    pub const EPOCH_TIME: KnownKey = KnownKey::new("aws:EpochTime", "aws:epochtime");
    /// `aws:SourceIp`.
    pub const SOURCE_IP: KnownKey = KnownKey::new("aws:SourceIp", "aws:sourceip");
    /// `aws:SecureTransport`.
    pub const SECURE_TRANSPORT: KnownKey =
        KnownKey::new("aws:SecureTransport", "aws:securetransport");
    /// `aws:RequestedRegion`.
    pub const REQUESTED_REGION: KnownKey =
        KnownKey::new("aws:RequestedRegion", "aws:requestedregion");
    /// `aws:UserAgent`.
    pub const USER_AGENT: KnownKey = KnownKey::new("aws:UserAgent", "aws:useragent");
    /// `aws:Referer`.
    pub const REFERER: KnownKey = KnownKey::new("aws:Referer", "aws:referer");
    /// `aws:TagKeys`.
    pub const TAG_KEYS: KnownKey = KnownKey::new("aws:TagKeys", "aws:tagkeys");

    /// A key and its lower case; a `lower` that is not `name` in ASCII lower case fails to compile
    /// (in a constant) or panics.
    pub const fn new(name: &'static str, lower: &'static str) -> Self {
        let (n, l) = (name.as_bytes(), lower.as_bytes());
        assert!(
            n.len() == l.len(),
            "a known key's lower case has its length"
        );
        let mut i = 0;
        while i < n.len() {
            assert!(
                n[i].is_ascii() && l[i] == n[i].to_ascii_lowercase(),
                "a known key is ASCII, its lower case beside it"
            );
            i += 1;
        }
        KnownKey { name, lower }
    }

    /// The key as written.
    pub const fn name(self) -> &'static str {
        self.name
    }
}

impl ContextMap {
    /// An empty context.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets a key (replacing any value it had under any spelling).
    pub fn insert(&mut self, key: &str, value: impl Into<ContextValue>) {
        self.insert_owned(key.to_owned(), value);
    }

    /// [`ContextMap::insert`] for a key already owned (a request arriving from outside): the key is
    /// kept as it is, not copied.
    pub fn insert_owned(&mut self, key: String, value: impl Into<ContextValue>) {
        let lower = lowered(&key).into_owned();
        self.entries
            .insert(Cow::Owned(lower), (Cow::Owned(key), value.into()));
    }

    /// [`ContextMap::insert`] for a key named by a constant: nothing of the key is copied.
    pub fn insert_known(&mut self, key: KnownKey, value: impl Into<ContextValue>) {
        self.entries.insert(
            Cow::Borrowed(key.lower),
            (Cow::Borrowed(key.name), value.into()),
        );
    }

    /// The value of a key, looked up case-insensitively.
    pub fn get(&self, key: &str) -> Option<&ContextValue> {
        self.entries.get(lowered(key).as_ref()).map(|(_, v)| v)
    }

    /// The value of a key named by a constant (no case folding to do).
    pub fn get_known(&self, key: KnownKey) -> Option<&ContextValue> {
        self.entries.get(key.lower).map(|(_, v)| v)
    }

    /// The entries by lower-cased key, in its order.
    pub(crate) fn lower_entries(&self) -> impl Iterator<Item = (&str, &ContextValue)> {
        self.entries.iter().map(|(k, (_, v))| (k.as_ref(), v))
    }

    pub(crate) fn get_lower(&self, key_lower: &str) -> Option<&ContextValue> {
        self.entries.get(key_lower).map(|(_, v)| v)
    }

    /// Whether the key is present.
    pub fn contains(&self, key: &str) -> bool {
        self.entries.contains_key(lowered(key).as_ref())
    }

    /// Sets `aws:CurrentTime` and `aws:EpochTime` to `now`, as AWS sets them for every request,
    /// where the context does not give them already.
    pub fn insert_time(&mut self, now: chrono::DateTime<chrono::Utc>) {
        let current = !self.entries.contains_key(KnownKey::CURRENT_TIME.lower);
        let epoch = !self.entries.contains_key(KnownKey::EPOCH_TIME.lower);
        if current || epoch {
            let (iso, secs) = time_text(now);
            if current {
                self.insert_known(KnownKey::CURRENT_TIME, iso);
            }
            if epoch {
                self.insert_known(KnownKey::EPOCH_TIME, secs);
            }
        }
    }

    /// The keys as first written, with their values, sorted case-insensitively.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &ContextValue)> {
        self.entries
            .values()
            .map(|(name, val)| (name.as_ref(), val))
    }

    /// Builds a context from a JSON object: each value a string, number, boolean, or array of them.
    pub fn from_json(value: &serde_json::Value) -> Result<Self, RequestError> {
        let serde_json::Value::Object(obj) = value else {
            return Err(RequestError::Context {
                key: String::new(),
                message: "the context must be a JSON object of condition keys".into(),
            });
        };
        Self::from_json_object(obj)
    }

    /// The same, from the object's map (no copy of it needed).
    pub fn from_json_object(
        obj: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<Self, RequestError> {
        let mut map = ContextMap::new();
        for (k, v) in obj {
            let value = match v {
                serde_json::Value::Array(items) => {
                    let mut out = Vec::with_capacity(items.len());
                    for item in items {
                        out.push(scalar_text(k, item)?);
                    }
                    ContextValue::multi(out)
                }
                other => ContextValue::single(scalar_text(k, other)?),
            };
            map.insert(k, value);
        }
        Ok(map)
    }
}

fn scalar_text(key: &str, v: &serde_json::Value) -> Result<String, RequestError> {
    scalar_value_text(v).ok_or_else(|| RequestError::Context {
        key: key.to_owned(),
        message: "values must be strings, numbers, booleans or arrays of them".into(),
    })
}

/// The text of a JSON scalar as a context value. Numbers are written as JavaScript writes them
/// (`2.0` becomes `2`), so that a request built from JSON in any language carries the same text.
pub fn scalar_value_text(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => i.to_string(),
            (None, Some(u), _) => u.to_string(),
            (None, None, Some(f)) => f.to_string(),
            (None, None, None) => n.to_string(),
        }),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// What evaluation reads: the given keys first, then the keys derived from the request.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Context<'a> {
    given: &'a ContextMap,
    derived: &'a [(&'static str, ContextValue)],
}

impl<'a> Context<'a> {
    pub(crate) fn new(given: &'a ContextMap, derived: &'a [(&'static str, ContextValue)]) -> Self {
        Context { given, derived }
    }

    /// Looks up a lower-cased key.
    pub(crate) fn get(&self, key_lower: &str) -> Option<&'a ContextValue> {
        self.given.get_lower(key_lower).or_else(|| {
            self.derived
                .iter()
                .find(|(k, _)| *k == key_lower)
                .map(|(_, v)| v)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_keys_are_keys_like_any_other() {
        for key in [
            KnownKey::CURRENT_TIME,
            KnownKey::EPOCH_TIME,
            KnownKey::SOURCE_IP,
            KnownKey::SECURE_TRANSPORT,
            KnownKey::REQUESTED_REGION,
            KnownKey::USER_AGENT,
            KnownKey::REFERER,
            KnownKey::TAG_KEYS,
        ] {
            let mut known = ContextMap::new();
            known.insert_known(key, "v");
            let mut given = ContextMap::new();
            given.insert(key.name(), "v");
            assert_eq!(known, given, "{}", key.name());
            assert!(known.get(&key.name().to_uppercase()).is_some());
            // Given in any case, a known key finds it.
            let mut shouted = ContextMap::new();
            shouted.insert(&key.name().to_uppercase(), "v");
            assert_eq!(
                shouted.get_known(key).map(ContextValue::values),
                Some(&["v".to_owned()][..])
            );
            assert!(ContextMap::new().get_known(key).is_none());
            // Either way in, the other spelling replaces it.
            given.insert_known(key, "w");
            known.insert(&key.name().to_lowercase(), "w");
            assert_eq!(given.get(key.name()), known.get(key.name()));
        }
    }

    #[test]
    #[should_panic(expected = "lower case beside it")]
    fn a_known_key_s_lower_case_is_checked() {
        let _ = KnownKey::new("aws:SourceIp", "aws:sourceIp");
    }

    #[test]
    fn json_values_become_text_as_javascript_writes_them() {
        let ctx = ContextMap::from_json(&serde_json::json!({
            "a": 2.0, "b": 2.5, "c": 10, "d": true, "e": ["x", 1], "f": "s"
        }))
        .unwrap();
        assert_eq!(ctx.get("a").unwrap().values(), ["2"]);
        assert_eq!(ctx.get("b").unwrap().values(), ["2.5"]);
        assert_eq!(ctx.get("c").unwrap().values(), ["10"]);
        assert_eq!(ctx.get("d").unwrap().values(), ["true"]);
        assert!(ctx.get("E").unwrap().is_multi());
        assert_eq!(ctx.get("e").unwrap().values(), ["x", "1"]);
        assert!(ContextMap::from_json(&serde_json::json!({"x": null})).is_err());
        assert!(ContextMap::from_json(&serde_json::json!({"x": {"y": 1}})).is_err());
    }
}
