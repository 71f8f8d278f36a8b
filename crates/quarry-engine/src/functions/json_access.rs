//! Vectorised access into `dynamic` values: `d.key`, `d["key"]`, `d[i]` and the element lists of
//! `mv-expand`.
//!
//! A `dynamic` value is JSON text. Building a whole JSON tree per row only to take one property
//! out of it (then printing the property back to text) dominated hunting queries such as
//! `parse_json(AdditionalFields).Tags`; these kernels scan each row's text once, skip what they do
//! not need without allocating, and re-print only the part they return. `parse_json(s).key` reads
//! `s` directly: text that is not JSON is a string to `parse_json`, and a string has no properties,
//! which is what a failed scan gives.

use super::dynamic::scalar_to_json;
use super::strings::{udf_call, Batch, KqlUdf};
use datafusion::arrow::array::{Array, ArrayRef, AsArray, GenericListBuilder, LargeStringBuilder};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result as DFResult, ScalarValue};
use datafusion::logical_expr::Expr;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::sync::Arc;

/// The names `parse_json` is planned under; `parse_json(s).key` is read from `s` itself.
const PARSE_JSON_UDFS: [&str; 4] = ["parse_json", "parsejson", "todynamic", "toobject"];

/// The name [`member`] calls are planned under.
const MEMBER: &str = "member";

/// Flag: the target argument is text still to be read as JSON (the argument of `parse_json`).
const FLAG_PARSE: u32 = 1;

/// `target` without a `parse_json(…)` around it, and whether one was removed.
fn unwrap_parse_json(target: Expr) -> (Expr, u32) {
    match target {
        Expr::ScalarFunction(call)
            if PARSE_JSON_UDFS.contains(&call.func.name()) && call.args.len() == 1 =>
        {
            let mut args = call.args;
            (args.remove(0), FLAG_PARSE)
        }
        other => (other, 0),
    }
}

/// `d.key` / `d["key"]`: the property `key` of a JSON object; null when missing.
pub(crate) fn member(target: Expr, key: &str) -> Expr {
    let (target, flags) = unwrap_parse_json(target);
    udf_call(
        MEMBER,
        DataType::LargeUtf8,
        flags,
        member_kernel,
        vec![
            target,
            Expr::Literal(ScalarValue::Utf8(Some(key.to_string())), None),
        ],
    )
}

/// The `List<LargeUtf8>` of the elements `mv-expand` makes of `value`: an array's elements, a
/// bag's properties (each a one-property bag, or a `[key, value]` pair with `bag_as_array`), and
/// any other value (null included) as the one element.
///
/// `mv-expand parse_json(s).key` reads `key` out of `s` and expands it in one pass, without
/// printing the property's value back to text in between.
pub(crate) fn mv_expand_items(value: Expr, bag_as_array: bool, limit: Option<i64>) -> Expr {
    let (value, key, flags) = match unwrap_member(value) {
        Ok((target, key, flags)) => (target, Some(key), flags),
        Err(value) => {
            let (value, flags) = unwrap_parse_json(value);
            (value, None, flags)
        }
    };
    udf_call(
        "mv_items",
        DataType::new_list(DataType::LargeUtf8, true),
        flags,
        mv_items_kernel,
        vec![
            value,
            Expr::Literal(ScalarValue::Boolean(Some(bag_as_array)), None),
            Expr::Literal(ScalarValue::Int64(limit), None),
            Expr::Literal(ScalarValue::Utf8(key), None),
        ],
    )
}

/// The target, constant key and flags of a [`member`] call; the expression itself otherwise.
fn unwrap_member(value: Expr) -> Result<(Expr, String, u32), Expr> {
    let Expr::ScalarFunction(call) = &value else {
        return Err(value);
    };
    let Some(udf) = call.func.inner().downcast_ref::<KqlUdf>() else {
        return Err(value);
    };
    let key = match call.args.get(1) {
        Some(Expr::Literal(ScalarValue::Utf8(Some(key)), _)) if call.func.name() == MEMBER => {
            key.clone()
        }
        _ => return Err(value),
    };
    let flags = udf.flags;
    let Expr::ScalarFunction(call) = value else {
        unreachable!("matched above")
    };
    let target = call
        .args
        .into_iter()
        .next()
        .expect("member has two arguments");
    Ok((target, key, flags))
}

/// The JSON text of row `i` of argument 0: a `dynamic` value as is, the argument of
/// `parse_json` when it is text, any other value printed as JSON.
fn json_text(batch: &Batch, udf: &KqlUdf, i: usize) -> DFResult<Option<Cow<'static, str>>> {
    let col = &batch.cols[0];
    let k = col.index(i);
    if col.array.is_null(k) {
        return Ok(None);
    }
    let text = match col.array.data_type() {
        DataType::LargeUtf8 => col.array.as_string::<i64>().value(k).to_string(),
        DataType::Utf8 if udf.flags & FLAG_PARSE != 0 => {
            col.array.as_string::<i32>().value(k).to_string()
        }
        DataType::Utf8View if udf.flags & FLAG_PARSE != 0 => {
            col.array.as_string_view().value(k).to_string()
        }
        _ => match scalar_to_json(&ScalarValue::try_from_array(&col.array, k)?) {
            Some(value) => value.to_string(),
            None => return Ok(None),
        },
    };
    Ok(Some(Cow::Owned(text)))
}

/// Row `i` of argument 0 as borrowed text when the array holds text, to avoid a copy.
fn borrowed_text<'a>(batch: &'a Batch, udf: &KqlUdf, i: usize) -> Option<Option<&'a str>> {
    let col = &batch.cols[0];
    let k = col.index(i);
    let parse = udf.flags & FLAG_PARSE != 0;
    match col.array.data_type() {
        DataType::LargeUtf8 => {
            Some((!col.array.is_null(k)).then(|| col.array.as_string::<i64>().value(k)))
        }
        DataType::Utf8 if parse => {
            Some((!col.array.is_null(k)).then(|| col.array.as_string::<i32>().value(k)))
        }
        DataType::Utf8View if parse => {
            let array = col.array.as_string_view();
            Some((!array.is_null(k)).then(|| array.value(k)))
        }
        _ => None,
    }
}

/// Calls `f` with the JSON text of row `i` (borrowed when possible).
fn with_text<T>(
    batch: &Batch,
    udf: &KqlUdf,
    i: usize,
    f: impl FnOnce(Option<&str>) -> T,
) -> DFResult<T> {
    match borrowed_text(batch, udf, i) {
        Some(text) => Ok(f(text)),
        None => {
            let owned = json_text(batch, udf, i)?;
            Ok(f(owned.as_deref()))
        }
    }
}

fn member_kernel(batch: &Batch, udf: &KqlUdf) -> DFResult<ArrayRef> {
    let keys = batch.strs(1)?;
    let mut out = LargeStringBuilder::with_capacity(batch.rows, batch.rows * 8);
    for i in 0..batch.rows {
        let key = keys.get(i).unwrap_or_default();
        let value = with_text(batch, udf, i, |text| {
            text.and_then(|text| find_member(text, key))
                .and_then(|raw| canonical(raw.get()).map(Cow::into_owned))
        })?;
        match value {
            Some(value) => out.append_value(value),
            None => out.append_null(),
        }
    }
    Ok(Arc::new(out.finish()))
}

fn mv_items_kernel(batch: &Batch, udf: &KqlUdf) -> DFResult<ArrayRef> {
    let bag_as_array = {
        let col = &batch.cols[1];
        col.array
            .as_boolean_opt()
            .is_some_and(|a| !a.is_null(0) && a.value(0))
    };
    let limit = {
        let col = &batch.cols[2];
        match col
            .array
            .as_primitive_opt::<datafusion::arrow::datatypes::Int64Type>()
        {
            Some(a) if !a.is_null(0) => a.value(0).max(0) as usize,
            _ => usize::MAX,
        }
    };
    let key = {
        let col = &batch.cols[3];
        let keys = col.array.as_string::<i32>();
        (!keys.is_null(0)).then(|| keys.value(0))
    };
    let mut out = GenericListBuilder::<i32, _>::with_capacity(
        LargeStringBuilder::with_capacity(batch.rows * 2, batch.rows * 16),
        batch.rows,
    );
    for i in 0..batch.rows {
        with_text(batch, udf, i, |text| {
            let text = match key {
                Some(key) => text.and_then(|t| find_member(t, key)).map(RawValue::get),
                None => text,
            };
            append_items(out.values(), text, bag_as_array, limit);
        })?;
        out.append(true);
    }
    Ok(Arc::new(out.finish()))
}

/// Appends the elements `mv-expand` makes of one value (see [`mv_expand_items`]).
fn append_items(
    values: &mut LargeStringBuilder,
    text: Option<&str>,
    bag_as_array: bool,
    limit: usize,
) {
    let Some(text) = text else {
        if limit > 0 {
            values.append_null();
        }
        return;
    };
    match text.trim_start().as_bytes().first() {
        Some(b'[') => {
            if let Ok(items) = serde_json::from_str::<Vec<&RawValue>>(text) {
                for item in items.into_iter().take(limit) {
                    match canonical(item.get()) {
                        Some(value) => values.append_value(value),
                        None => values.append_null(),
                    }
                }
                return;
            }
        }
        Some(b'{') => {
            if let Ok(Value::Object(map)) = serde_json::from_str::<Value>(text) {
                for (key, value) in map.into_iter().take(limit) {
                    let item = if bag_as_array {
                        Value::Array(vec![Value::String(key), value])
                    } else {
                        let mut single = Map::new();
                        single.insert(key, value);
                        Value::Object(single)
                    };
                    values.append_value(item.to_string());
                }
                return;
            }
        }
        _ => {}
    }
    if limit == 0 {
        return;
    }
    // A scalar, or text that is not JSON (a string): the one element.
    match serde_json::from_str::<&RawValue>(text) {
        Ok(raw) => match canonical(raw.get()) {
            Some(value) => values.append_value(value),
            None => values.append_null(),
        },
        Err(_) => values.append_value(Value::String(text.to_string()).to_string()),
    }
}

/// `raw` as the engine prints JSON (compact, keys in their order), `None` for `null`. Simple
/// tokens are already in that form; anything else is re-printed.
fn canonical(raw: &str) -> Option<Cow<'_, str>> {
    let bytes = raw.as_bytes();
    let simple = match bytes.first() {
        Some(b'"') => !bytes.contains(&b'\\'),
        Some(b't') | Some(b'f') => true,
        Some(b'n') => return None,
        Some(b'-' | b'0'..=b'9') => {
            bytes.len() <= 18 && bytes.iter().all(|b| b.is_ascii_digit() || *b == b'-')
        }
        _ => false,
    };
    if simple {
        return Some(Cow::Borrowed(raw));
    }
    match serde_json::from_str::<Value>(raw) {
        Ok(Value::Null) | Err(_) => None,
        Ok(value) => Some(Cow::Owned(value.to_string())),
    }
}

/// The raw text of property `key` of the JSON object `text` (the last one when repeated), or
/// `None` when `text` is not a JSON object or has no such property.
fn find_member<'a>(text: &'a str, key: &str) -> Option<&'a RawValue> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let found = deserializer.deserialize_map(FindMember { key }).ok()?;
    deserializer.end().ok()?;
    found
}

struct FindMember<'k> {
    key: &'k str,
}

impl<'de> Visitor<'de> for FindMember<'_> {
    type Value = Option<&'de RawValue>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut found = None;
        while let Some(matches) = map.next_key_seed(KeyIs { key: self.key })? {
            if matches {
                found = Some(map.next_value::<&'de RawValue>()?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }
}

/// A map key compared with `key` without keeping it.
struct KeyIs<'k> {
    key: &'k str,
}

impl<'de> DeserializeSeed<'de> for KeyIs<'_> {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeyIs<'_> {
    type Value = bool;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a property name")
    }

    fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<bool, E> {
        Ok(value == self.key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_members_without_building_the_tree() {
        let text = r#"{"a": 1, "Tags": ["x", {"k": 2}], "s": "v\"q", "a": 3}"#;
        assert_eq!(
            find_member(text, "Tags").map(RawValue::get),
            Some(r#"["x", {"k": 2}]"#)
        );
        assert_eq!(find_member(text, "a").map(RawValue::get), Some("3"));
        assert_eq!(find_member(text, "s").map(RawValue::get), Some(r#""v\"q""#));
        assert!(find_member(text, "missing").is_none());
        assert!(find_member("[1, 2]", "a").is_none());
        assert!(find_member("not json", "a").is_none());
        assert!(find_member(r#"{"a": 1} trailing"#, "a").is_none());
    }

    #[test]
    fn canonical_text_is_compact_and_null_is_none() {
        let cases = [
            (r#""plain""#, Some(r#""plain""#)),
            (r#""esc\u0041""#, Some(r#""escA""#)),
            ("12", Some("12")),
            ("1.50", Some("1.5")),
            ("true", Some("true")),
            (r#"{ "b" : 1, "a": [1, 2] }"#, Some(r#"{"b":1,"a":[1,2]}"#)),
            ("null", None),
        ];
        for (raw, expected) in cases {
            assert_eq!(canonical(raw).as_deref(), expected, "{raw}");
        }
    }

    #[test]
    fn expands_arrays_bags_scalars_and_nulls() {
        let expand = |text: Option<&str>, bag_as_array: bool, limit: usize| {
            let mut builder = LargeStringBuilder::new();
            append_items(&mut builder, text, bag_as_array, limit);
            let array = builder.finish();
            (0..array.len())
                .map(|i| (!array.is_null(i)).then(|| array.value(i).to_string()))
                .collect::<Vec<_>>()
        };
        let s = |v: &str| Some(v.to_string());
        assert_eq!(
            expand(Some(r#"["a", {"k": 1}, null]"#), false, usize::MAX),
            vec![s(r#""a""#), s(r#"{"k":1}"#), None]
        );
        assert_eq!(expand(Some("[1, 2, 3]"), false, 2), vec![s("1"), s("2")]);
        assert_eq!(
            expand(Some("[]"), false, usize::MAX),
            Vec::<Option<String>>::new()
        );
        assert_eq!(
            expand(Some(r#"{"a": 1, "b": 2}"#), false, usize::MAX),
            vec![s(r#"{"a":1}"#), s(r#"{"b":2}"#)]
        );
        assert_eq!(
            expand(Some(r#"{"a": 1}"#), true, usize::MAX),
            vec![s(r#"["a",1]"#)]
        );
        assert_eq!(expand(Some("5"), false, usize::MAX), vec![s("5")]);
        assert_eq!(expand(None, false, usize::MAX), vec![None]);
        assert_eq!(
            expand(Some("not json"), false, usize::MAX),
            vec![s(r#""not json""#)]
        );
    }
}
