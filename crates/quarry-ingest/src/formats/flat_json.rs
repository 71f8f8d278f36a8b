//! A JSON-lines record whose values are all scalars, read straight into its fields (names and
//! strings borrowed from the line where they have no escapes) without building a `Value` tree.
//! Anything else — a nested value, a repeated name, a line that is not an object or not JSON —
//! is left to the `Value` reader, so that typing, reject reasons and reject texts stay exactly
//! what that reader gives.

use crate::coerce::Scalar;
use crate::formats::json_scan::{known_name, scan_flat_object, KnownName};
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::borrow::Cow;
use std::fmt;

/// The fields of one flat record, in the record's order.
pub(crate) type FlatFields<'a> = Vec<(Cow<'a, str>, Scalar<'a>)>;

/// Reads flat records, remembering the previous record's field names: records of one input
/// usually repeat them, so checking that names are distinct costs one comparison per field.
#[derive(Debug, Default)]
pub(crate) struct FlatReader {
    last_names: Vec<KnownName>,
}

impl FlatReader {
    /// The fields of `line` when it is a JSON object of distinct names with scalar values;
    /// `None` when the `Value` reader must read it.
    #[cfg(test)]
    pub(crate) fn read<'a>(&mut self, line: &'a [u8]) -> Option<FlatFields<'a>> {
        let mut fields = Vec::new();
        self.read_into(line, &mut fields).then_some(fields)
    }

    /// Reads the fields of `line` into `fields` (cleared first) when it is a JSON object of
    /// distinct names with scalar values; `false` when the `Value` reader must read it.
    pub(crate) fn read_into<'a>(&mut self, line: &'a [u8], fields: &mut FlatFields<'a>) -> bool {
        // The scanner reads the plainest lines fastest; `serde_json` reads the rest.
        match scan_flat_object(line, fields, &self.last_names) {
            // The last record's names, which were distinct.
            Some(true) => return true,
            Some(false) => {}
            None => {
                if !read_with_serde(line, fields) {
                    return false;
                }
            }
        }
        self.distinct(fields)
    }

    /// The fields of `line` as `serde_json` reads them, names not checked for repeats.
    #[cfg(test)]
    pub(crate) fn read_with_serde<'a>(&mut self, line: &'a [u8]) -> Option<FlatFields<'a>> {
        let mut fields = Vec::new();
        read_with_serde(line, &mut fields).then_some(fields)
    }

    /// Whether the field names are distinct (a repeated name keeps the last value in the
    /// `Value` reader's map, at the first one's place).
    fn distinct(&mut self, fields: &FlatFields<'_>) -> bool {
        let same_as_last = fields.len() == self.last_names.len()
            && fields
                .iter()
                .zip(&self.last_names)
                .all(|((name, _), (last, _))| name.as_ref() == last.as_str());
        if same_as_last {
            return true;
        }
        let distinct = fields
            .iter()
            .enumerate()
            .all(|(i, (name, _))| fields[..i].iter().all(|(other, _)| other != name));
        if distinct {
            self.last_names.clear();
            self.last_names
                .extend(fields.iter().map(|(name, _)| known_name(name)));
        }
        distinct
    }
}

/// Reads `line` with `serde_json` into `fields` (cleared first); `false` unless it is one object
/// of scalar values.
fn read_with_serde<'a>(line: &'a [u8], fields: &mut FlatFields<'a>) -> bool {
    fields.clear();
    let mut deserializer = serde_json::Deserializer::from_slice(line);
    let flat = FlatObject { fields }.deserialize(&mut deserializer);
    matches!(flat, Ok(true)) && deserializer.end().is_ok()
}

/// Reads an object's fields into `fields`; yields whether every value was a scalar.
struct FlatObject<'v, 'a> {
    fields: &'v mut FlatFields<'a>,
}

impl<'de, 'v> DeserializeSeed<'de> for FlatObject<'v, 'de> {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de, 'v> Visitor<'de> for FlatObject<'v, 'de> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        let mut flat = true;
        while let Some(Name(name)) = map.next_key()? {
            match map.next_value::<FlatValue<'de>>()? {
                FlatValue::Scalar(value) => self.fields.push((name, value)),
                FlatValue::Nested => flat = false,
            }
        }
        Ok(flat)
    }
}

/// A field name, borrowed from the line when it has no escapes.
struct Name<'a>(Cow<'a, str>);

impl<'de> de::Deserialize<'de> for Name<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(NameVisitor)
    }
}

/// Visits a field name.
struct NameVisitor;

impl<'de> Visitor<'de> for NameVisitor {
    type Value = Name<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Name<'de>, E> {
        Ok(Name(Cow::Borrowed(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Name<'de>, E> {
        Ok(Name(Cow::Owned(v.to_string())))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Name<'de>, E> {
        Ok(Name(Cow::Owned(v)))
    }
}

/// A field's value: a scalar, or a nested array or object (read past, not kept).
enum FlatValue<'a> {
    Scalar(Scalar<'a>),
    Nested,
}

impl<'de> de::Deserialize<'de> for FlatValue<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(FlatValueVisitor)
    }
}

/// Visits a field's value.
struct FlatValueVisitor;

impl<'de> Visitor<'de> for FlatValueVisitor {
    type Value = FlatValue<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<FlatValue<'de>, E> {
        Ok(FlatValue::Scalar(Scalar::Null))
    }

    fn visit_none<E: de::Error>(self) -> Result<FlatValue<'de>, E> {
        Ok(FlatValue::Scalar(Scalar::Null))
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<FlatValue<'de>, E> {
        Ok(FlatValue::Scalar(Scalar::Bool(v)))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<FlatValue<'de>, E> {
        Ok(FlatValue::Scalar(Scalar::Int(v)))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<FlatValue<'de>, E> {
        Ok(FlatValue::Scalar(Scalar::UInt(v)))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<FlatValue<'de>, E> {
        Ok(FlatValue::Scalar(Scalar::Real(v)))
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<FlatValue<'de>, E> {
        Ok(FlatValue::Scalar(Scalar::Text(Cow::Borrowed(v))))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<FlatValue<'de>, E> {
        Ok(FlatValue::Scalar(Scalar::Text(Cow::Owned(v.to_string()))))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<FlatValue<'de>, E> {
        Ok(FlatValue::Scalar(Scalar::Text(Cow::Owned(v))))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<FlatValue<'de>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(FlatValue::Nested)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<FlatValue<'de>, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(FlatValue::Nested)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_objects_are_read_and_the_rest_is_left_to_the_value_reader() {
        let mut reader = FlatReader::default();
        let line = br#"{"a": "x\\y", "b": 3, "c": -1, "d": 1.5, "e": null, "f": true}
"#;
        let fields = reader.read(line).unwrap();
        assert_eq!(fields.len(), 6);
        assert_eq!(fields[0], (Cow::Borrowed("a"), Scalar::Text("x\\y".into())));
        assert_eq!(fields[1].1, Scalar::UInt(3));
        assert_eq!(fields[2].1, Scalar::Int(-1));
        assert_eq!(fields[3].1, Scalar::Real(1.5));
        assert_eq!(fields[4].1, Scalar::Null);
        assert_eq!(fields[5].1, Scalar::Bool(true));
        // The same names again are distinct without a new check.
        assert!(reader.read(line).is_some());
        assert!(reader.read(br#"{"a": 1, "a": 2}"#).is_none());
        assert!(reader.read(br#"{"a": [1], "b": 2}"#).is_none());
        assert!(reader.read(br#"{"a": {"b": 1}}"#).is_none());
        assert!(reader.read(b"[1]").is_none());
        assert!(reader.read(b"{bad").is_none());
        assert!(reader.read(br#"{"a": 1} x"#).is_none());
    }
}
