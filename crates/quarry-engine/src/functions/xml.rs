//! `parse_xml`: XML text as a dynamic value, in the shape Kusto gives it. An element becomes a
//! property named after it; its attributes become `@name` properties and its text `#text`; an
//! element with neither attributes nor children is its text (null when empty); repeated sibling
//! elements become an array. Sentinel's Sysmon and Windows-event parsers read event data this
//! way (`parse_xml(EventData).EventData.Data` then `['@Name']` and `['#text']`).

use super::strings::{udf_call, Batch, KqlUdf};
use super::{check_arity, CallContext, FamilyResult, PlannedArg};
use datafusion::arrow::array::{ArrayRef, LargeStringBuilder};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result as DFResult;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;
use serde_json::{Map, Value as Json};
use std::sync::Arc;

/// The functions this family implements.
pub(super) const NAMES: &[&str] = &["parse_xml"];

/// Plans `parse_xml(text)`.
pub(super) fn plan(name: &str, args: &[PlannedArg], ctx: &CallContext) -> FamilyResult {
    if name != "parse_xml" {
        return None;
    }
    if let Err(error) = check_arity(name, args, 1, 1, ctx) {
        return Some(Err(error));
    }
    Some(Ok(udf_call(
        name,
        DataType::LargeUtf8,
        0,
        k_parse_xml,
        vec![args[0].expr.clone()],
    )))
}

fn k_parse_xml(batch: &Batch, _udf: &KqlUdf) -> DFResult<ArrayRef> {
    let texts = batch.strs(0)?;
    let mut out = LargeStringBuilder::new();
    for row in 0..batch.rows {
        match texts.get(row).and_then(xml_to_json) {
            Some(value) => out.append_value(value.to_string()),
            None => out.append_null(),
        }
    }
    Ok(Arc::new(out.finish()))
}

/// An element being read: its attributes and children so far, and its text.
struct Open {
    name: String,
    properties: Map<String, Json>,
    text: String,
}

impl Open {
    fn new(start: &BytesStart<'_>) -> Option<Open> {
        let name = std::str::from_utf8(start.name().as_ref().as_bytes())
            .ok()?
            .to_string();
        let mut properties = Map::new();
        for attribute in start.attributes() {
            let attribute = attribute.ok()?;
            let key = format!("@{}", attribute.key.as_ref());
            let value = attribute
                .normalized_value(quick_xml::XmlVersion::default())
                .ok()?
                .into_owned();
            properties.insert(key, Json::String(value));
        }
        Some(Open {
            name,
            properties,
            text: String::new(),
        })
    }

    fn into_value(self) -> Json {
        let text = self.text.trim();
        if self.properties.is_empty() {
            return if text.is_empty() {
                Json::Null
            } else {
                Json::String(text.to_string())
            };
        }
        let mut properties = self.properties;
        if !text.is_empty() {
            properties.insert("#text".to_string(), Json::String(text.to_string()));
        }
        Json::Object(properties)
    }
}

/// Adds `value` as the property `name` of `parent`, turning a repeated name into an array.
fn add_child(parent: &mut Map<String, Json>, name: String, value: Json) {
    match parent.get_mut(&name) {
        Some(Json::Array(items)) => items.push(value),
        Some(existing) => {
            let first = existing.take();
            *existing = Json::Array(vec![first, value]);
        }
        None => {
            parent.insert(name, value);
        }
    }
}

/// The dynamic value of an XML document, or `None` when the text is not well-formed XML.
fn xml_to_json(text: &str) -> Option<Json> {
    let mut reader = Reader::from_str(text);
    let mut stack: Vec<Open> = Vec::new();
    let mut root = Map::new();
    loop {
        match reader.read_event().ok()? {
            Event::Start(start) => stack.push(Open::new(&start)?),
            Event::Empty(start) => {
                let element = Open::new(&start)?;
                let name = element.name.clone();
                let value = element.into_value();
                match stack.last_mut() {
                    Some(parent) => add_child(&mut parent.properties, name, value),
                    None => add_child(&mut root, name, value),
                }
            }
            Event::End(end) => {
                let element = stack.pop()?;
                if end.name().as_ref().as_bytes() != element.name.as_bytes() {
                    return None;
                }
                let name = element.name.clone();
                let value = element.into_value();
                match stack.last_mut() {
                    Some(parent) => add_child(&mut parent.properties, name, value),
                    None => add_child(&mut root, name, value),
                }
            }
            Event::Text(content) => {
                if let Some(open) = stack.last_mut() {
                    open.text.push_str(&content.xml10_content());
                }
            }
            Event::CData(content) => {
                if let Some(open) = stack.last_mut() {
                    open.text.push_str(&content.xml10_content());
                }
            }
            Event::GeneralRef(reference) => {
                let resolved = match reference.resolve_char_ref().ok()? {
                    Some(c) => c.to_string(),
                    None => resolve_predefined_entity(&reference)?.to_string(),
                };
                if let Some(open) = stack.last_mut() {
                    open.text.push_str(&resolved);
                }
            }
            Event::Eof => break,
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
    if !stack.is_empty() || root.is_empty() {
        return None;
    }
    Some(Json::Object(root))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sysmon_event_data_has_attributes_and_text() {
        let xml = r#"<DataItem type="Windows"><EventData><Data Name="Image">C:\a.exe</Data><Data Name="User"/></EventData></DataItem>"#;
        assert_eq!(
            xml_to_json(xml),
            Some(
                json!({"DataItem": {"@type": "Windows", "EventData": {"Data": [
                    {"@Name": "Image", "#text": "C:\\a.exe"},
                    {"@Name": "User"}
                ]}}})
            )
        );
    }

    #[test]
    fn text_only_elements_are_strings_and_entities_are_resolved() {
        assert_eq!(
            xml_to_json("<?xml version=\"1.0\"?><a><b>x &amp; y &#65;</b><c></c><!-- note --></a>"),
            Some(json!({"a": {"b": "x & y A", "c": null}}))
        );
        assert_eq!(
            xml_to_json("<a><![CDATA[<raw>]]></a>"),
            Some(json!({"a": "<raw>"}))
        );
    }

    #[test]
    fn malformed_xml_is_null() {
        assert_eq!(xml_to_json("<a><b></a>"), None);
        assert_eq!(xml_to_json("<a>"), None);
        assert_eq!(xml_to_json("not xml"), None);
        assert_eq!(xml_to_json(""), None);
    }
}
