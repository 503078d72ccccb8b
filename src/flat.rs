//! Configs as flat maps of dotted keys to values: what sweeps, reports and `--resume` compare.

use std::collections::BTreeMap;

/// TOML as JSON, with ∞ and NaN (which JSON lacks) as the strings "inf", "-inf", "nan".
pub fn toml_json(value: &toml::Value) -> serde_json::Value {
    use serde_json::Value as J;
    match value {
        toml::Value::Float(f) if f.is_nan() => J::String("nan".into()),
        toml::Value::Float(f) if !f.is_finite() => J::String(if *f > 0.0 { "inf" } else { "-inf" }.into()),
        toml::Value::Float(f) => serde_json::json!(f),
        toml::Value::Integer(i) => serde_json::json!(i),
        toml::Value::String(s) => J::String(s.clone()),
        toml::Value::Boolean(b) => J::Bool(*b),
        toml::Value::Datetime(d) => J::String(d.to_string()),
        toml::Value::Array(a) => J::Array(a.iter().map(toml_json).collect()),
        toml::Value::Table(t) => J::Object(t.iter().map(|(k, v)| (k.clone(), toml_json(v))).collect()),
    }
}

/// Dotted keys to leaf values (arrays kept whole, as one value), as JSON text.
pub fn flatten_json(v: &serde_json::Value) -> BTreeMap<String, String> {
    fn walk(v: &serde_json::Value, prefix: String, out: &mut BTreeMap<String, String>) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, x) in m {
                    walk(x, if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") }, out);
                }
            }
            serde_json::Value::Null => {}
            other => {
                out.insert(prefix, other.to_string());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(v, String::new(), &mut out);
    out
}

pub fn flatten_toml(text: &str) -> BTreeMap<String, String> {
    let tree: toml::Table = toml::from_str(text).unwrap_or_default();
    flatten_json(&toml_json(&toml::Value::Table(tree)))
}

