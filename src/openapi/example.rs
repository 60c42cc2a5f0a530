//! An example request body made from its JSON Schema, for the code samples.

use serde_json::{Map, Value};

/// Deeper than any request schema of ours: a guard against a `$ref` cycle.
const MAX_DEPTH: usize = 8;

/// A value for `schema`: its `example` where it has one, else one made from
/// its type. An object gets its required properties and the optional ones that
/// have an example; `schemas` is the document's `components/schemas`.
pub fn example(schema: &Value, schemas: &Value) -> Option<Value> {
    make(schema, schemas, "value", 0)
}

fn make(schema: &Value, schemas: &Value, name: &str, depth: usize) -> Option<Value> {
    if depth > MAX_DEPTH {
        return None;
    }
    let schema = resolve(schema, schemas);
    if let Some(example) = schema.get("example") {
        return Some(example.clone());
    }
    if let Some(first) = schema.get("examples").and_then(|e| e.get(0)) {
        return Some(first.clone());
    }
    if let Some(first) = schema.get("enum").and_then(|e| e.get(0)) {
        return Some(first.clone());
    }
    // `oneOf: [null, X]` is how an optional body or field is written: take X.
    for key in ["oneOf", "anyOf"] {
        if let Some(choices) = schema.get(key).and_then(Value::as_array) {
            let mut real = choices.iter().filter(|c| !is_null(resolve(c, schemas)));
            return real.next().and_then(|c| make(c, schemas, name, depth + 1));
        }
    }
    match type_of(schema) {
        Some("object") => Some(object(schema, schemas, depth)),
        Some("array") => {
            let item = schema.get("items").and_then(|items| {
                let singular = name.strip_suffix('s').unwrap_or(name);
                make(items, schemas, singular, depth + 1)
            });
            Some(Value::Array(item.into_iter().collect()))
        }
        Some("string") => Some(Value::String(placeholder(schema, name))),
        Some("integer") | Some("number") => {
            Some(schema.get("minimum").cloned().unwrap_or(1.into()))
        }
        Some("boolean") => Some(Value::Bool(false)),
        Some("null") => Some(Value::Null),
        _ if schema.get("properties").is_some() => Some(object(schema, schemas, depth)),
        _ => None,
    }
}

fn object(schema: &Value, schemas: &Value, depth: usize) -> Value {
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut out = Map::new();
    let properties = schema.get("properties").and_then(Value::as_object);
    for (field, property) in properties.into_iter().flatten() {
        let wanted = required.contains(&field.as_str())
            || resolve(property, schemas).get("example").is_some();
        if let Some(value) = wanted
            .then(|| make(property, schemas, field, depth + 1))
            .flatten()
        {
            out.insert(field.clone(), value);
        }
    }
    Value::Object(out)
}

/// A string to replace: an email address for `format: email`, else the field's
/// name as a constant (`refreshToken` gives `REFRESH_TOKEN`).
fn placeholder(schema: &Value, name: &str) -> String {
    if schema.get("format").and_then(Value::as_str) == Some("email") {
        return "user@example.com".into();
    }
    screaming(name)
}

/// `refreshToken` or `api-keys` as `REFRESH_TOKEN` or `API_KEYS`.
pub fn screaming(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_uppercase() && !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
        out.push(if c.is_ascii_alphanumeric() {
            c.to_ascii_uppercase()
        } else {
            '_'
        });
    }
    out
}

/// The first type of `type`, which OpenAPI 3.1 may give as a list (`["integer", "null"]`).
fn type_of(schema: &Value) -> Option<&str> {
    match schema.get("type")? {
        Value::String(t) => Some(t),
        Value::Array(types) => types
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null"),
        _ => None,
    }
}

fn is_null(schema: &Value) -> bool {
    schema.get("type").and_then(Value::as_str) == Some("null")
}

/// The schema a local `$ref` names, or `schema` itself.
fn resolve<'a>(schema: &'a Value, schemas: &'a Value) -> &'a Value {
    let name = schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("#/components/schemas/"));
    match name.and_then(|n| schemas.get(n)) {
        Some(target) => target,
        None => schema,
    }
}

/// `value` as a Python literal, indented like `serde_json`'s pretty printer
/// (JSON strings are Python strings; `true`, `false` and `null` are not).
pub fn python(value: &Value, indent: usize) -> String {
    let pad = "    ".repeat(indent + 1);
    let end = "    ".repeat(indent);
    match value {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Number(_) | Value::String(_) => value.to_string(),
        Value::Array(items) if items.is_empty() => "[]".into(),
        Value::Array(items) => {
            let lines: Vec<String> = items
                .iter()
                .map(|v| format!("{pad}{},\n", python(v, indent + 1)))
                .collect();
            format!("[\n{}{end}]", lines.concat())
        }
        Value::Object(fields) if fields.is_empty() => "{}".into(),
        Value::Object(fields) => {
            let lines: Vec<String> = fields
                .iter()
                .map(|(k, v)| {
                    format!(
                        "{pad}{}: {},\n",
                        Value::from(k.as_str()),
                        python(v, indent + 1)
                    )
                })
                .collect();
            format!("{{\n{}{end}}}", lines.concat())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_object_gets_its_required_fields_and_the_examples_of_the_others() {
        let schemas = json!({
            "Role": { "type": "string", "enum": ["admin", "user"] },
            "Req": {
                "type": "object",
                "required": ["refreshToken", "roles", "ttl"],
                "properties": {
                    "refreshToken": { "type": "string" },
                    "roles": { "type": "array", "items": { "$ref": "#/components/schemas/Role" } },
                    "ttl": { "type": ["integer", "null"], "minimum": 60 },
                    "email": { "type": "string", "example": "ada@acme.test" },
                    "note": { "type": "string" },
                },
            },
        });
        let body = json!({ "oneOf": [{ "type": "null" }, { "$ref": "#/components/schemas/Req" }] });
        assert_eq!(
            example(&body, &schemas),
            Some(json!({
                "email": "ada@acme.test",
                "refreshToken": "REFRESH_TOKEN",
                "roles": ["admin"],
                "ttl": 60,
            }))
        );
    }

    #[test]
    fn python_literals_spell_true_false_and_none_their_way() {
        let value = json!({ "a": true, "b": [false, null], "c": "it's \"x\"", "d": {} });
        assert_eq!(
            python(&value, 0),
            "{\n    \"a\": True,\n    \"b\": [\n        False,\n        None,\n    ],\n    \"c\": \"it's \\\"x\\\"\",\n    \"d\": {},\n}"
        );
    }
}
