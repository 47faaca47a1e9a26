//! Editing a JSON request body without re-serializing what is not edited.
//!
//! A passthrough request must reach the upstream with every field the
//! client sent. Only the top level is split into fields; each value stays
//! the exact bytes the client wrote until an edit replaces it.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

/// A request body that is not a JSON object.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the request body is not a valid JSON object: {0}")]
pub struct BodyError(pub String);

/// The top-level fields of a JSON object, in order, values as raw JSON.
#[derive(Debug)]
pub struct JsonObject<'a> {
    fields: Vec<(Cow<'a, str>, Cow<'a, RawValue>)>,
}

impl<'a> JsonObject<'a> {
    pub fn parse(body: &'a [u8]) -> Result<Self, BodyError> {
        let mut de = serde_json::Deserializer::from_slice(body);
        let fields = de
            .deserialize_map(FieldsVisitor)
            .map_err(|e| BodyError(e.to_string()))?;
        de.end().map_err(|e| BodyError(e.to_string()))?;
        Ok(Self { fields })
    }

    /// The raw JSON of a field (the last one, if the client repeated it).
    pub fn get(&self, key: &str) -> Option<&RawValue> {
        self.fields
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_ref())
    }

    /// A string field, or `None` if absent or not a string.
    pub fn get_str(&self, key: &str) -> Option<Cow<'_, str>> {
        let raw = self.get(key)?;
        serde_json::from_str::<Cow<'_, str>>(raw.get()).ok()
    }

    /// A boolean field; absent or `null` is `None`.
    pub fn get_bool(&self, key: &str) -> Option<bool> {
        serde_json::from_str::<Option<bool>>(self.get(key)?.get()).ok()?
    }

    /// Parses one field into a value tree (for the rare fields that need it).
    pub fn get_value(&self, key: &str) -> Option<Value> {
        serde_json::from_str(self.get(key)?.get()).ok()
    }

    pub fn contains(&self, key: &str) -> bool {
        self.fields.iter().any(|(k, _)| k == key)
    }

    pub fn remove(&mut self, key: &str) {
        self.fields.retain(|(k, _)| k != key);
    }

    /// Sets a field, replacing every earlier occurrence.
    pub fn set(&mut self, key: &str, value: &Value) {
        let raw =
            RawValue::from_string(value.to_string()).expect("a Value serializes to valid JSON");
        self.set_raw(key, raw);
    }

    pub fn set_str(&mut self, key: &str, value: &str) {
        // Straight to JSON text: no `Value` and no formatter on the hot path.
        let json = serde_json::to_string(value).expect("a string serializes to JSON");
        let raw = RawValue::from_string(json).expect("a serialized string is valid JSON");
        self.set_raw(key, raw);
    }

    fn set_raw(&mut self, key: &str, raw: Box<RawValue>) {
        match self.fields.iter().position(|(k, _)| k == key) {
            Some(i) => {
                self.fields[i].1 = Cow::Owned(raw);
                let mut seen = 0;
                self.fields.retain(|(k, _)| {
                    if k == key {
                        seen += 1;
                        seen == 1
                    } else {
                        true
                    }
                });
            }
            None => self
                .fields
                .push((Cow::Owned(key.to_owned()), Cow::Owned(raw))),
        }
    }

    /// Adds `value` under `key`: objects merge deeply into what the client
    /// sent (our values win); anything else replaces it.
    pub fn merge(&mut self, key: &str, value: &Value) {
        match (self.get_value(key), value) {
            (Some(Value::Object(mut existing)), Value::Object(add)) => {
                merge_objects(&mut existing, add);
                self.set(key, &Value::Object(existing));
            }
            _ => self.set(key, value),
        }
    }

    /// Serializes the object: untouched fields are copied byte for byte.
    pub fn to_vec(&self) -> Vec<u8> {
        let len: usize = self
            .fields
            .iter()
            .map(|(k, v)| k.len() + v.get().len() + 4)
            .sum();
        let mut out = Vec::with_capacity(len + 2);
        out.push(b'{');
        for (i, (k, v)) in self.fields.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            // Writing a &str as JSON cannot fail.
            serde_json::to_writer(&mut out, k.as_ref()).ok();
            out.push(b':');
            out.extend_from_slice(v.get().as_bytes());
        }
        out.push(b'}');
        out
    }
}

/// Deep merge: objects merge key by key, everything else in `add` wins.
pub fn merge_objects(base: &mut Map<String, Value>, add: &Map<String, Value>) {
    for (k, v) in add {
        match (base.get_mut(k), v) {
            (Some(Value::Object(b)), Value::Object(a)) => merge_objects(b, a),
            _ => {
                base.insert(k.clone(), v.clone());
            }
        }
    }
}

struct FieldsVisitor;

impl<'de> Visitor<'de> for FieldsVisitor {
    type Value = Vec<(Cow<'de, str>, Cow<'de, RawValue>)>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut fields = Vec::with_capacity(map.size_hint().unwrap_or(8));
        while let Some(key) = map.next_key::<Key<'de>>()? {
            let value: &'de RawValue = map.next_value()?;
            fields.push((key.0, Cow::Borrowed(value)));
        }
        Ok(fields)
    }
}

/// A key borrowed from the body unless it had escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> de::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string key")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const BODY: &str = r#"{"model":"local/llama3","messages":[{"role":"user","content":"hi"}],"top_k":40,"min_p":0.05,"repetition_penalty":1.1,"stream":true,"metadata":{"a":1,"nested":{"x":1}}}"#;

    #[test]
    fn untouched_body_round_trips_byte_for_byte() {
        let spaced = r#"{ "model" : "m",  "x": [1, 2,  3], "y\u0041": {"k": "v"} }"#;
        let obj = JsonObject::parse(spaced.as_bytes()).unwrap();
        let out = String::from_utf8(obj.to_vec()).unwrap();
        assert_eq!(out, r#"{"model":"m","x":[1, 2,  3],"yA":{"k": "v"}}"#);
    }

    #[test]
    fn reads_fields() {
        let obj = JsonObject::parse(BODY.as_bytes()).unwrap();
        assert_eq!(obj.get_str("model").as_deref(), Some("local/llama3"));
        assert_eq!(obj.get_bool("stream"), Some(true));
        assert_eq!(obj.get_bool("absent"), None);
        assert!(obj.contains("min_p"));
    }

    #[test]
    fn edits_keep_vendor_fields() {
        let mut obj = JsonObject::parse(BODY.as_bytes()).unwrap();
        obj.set_str("model", "llama3:8b");
        obj.remove("repetition_penalty");
        obj.merge("metadata", &json!({"nested": {"y": 2}, "b": true}));
        obj.merge("temperature", &json!(0.2));
        let v: Value = serde_json::from_slice(&obj.to_vec()).unwrap();
        assert_eq!(v["model"], "llama3:8b");
        assert_eq!(v["top_k"], 40);
        assert_eq!(v["min_p"], 0.05);
        assert!(v.get("repetition_penalty").is_none());
        assert_eq!(
            v["metadata"],
            json!({"a":1,"b":true,"nested":{"x":1,"y":2}})
        );
        assert_eq!(v["temperature"], 0.2);
    }

    #[test]
    fn set_replaces_duplicates() {
        let mut obj = JsonObject::parse(br#"{"model":"a","x":1,"model":"b"}"#).unwrap();
        assert_eq!(obj.get_str("model").as_deref(), Some("b"));
        obj.set_str("model", "c");
        assert_eq!(obj.to_vec(), br#"{"model":"c","x":1}"#);
    }

    #[test]
    fn rejects_non_objects_and_trailing_garbage() {
        assert!(JsonObject::parse(b"[1,2]").is_err());
        assert!(JsonObject::parse(b"{\"a\":1} x").is_err());
        assert!(JsonObject::parse(b"").is_err());
        assert!(JsonObject::parse(b"{\"a\":").is_err());
    }
}
