//! Parsers and custom functions read as stored KQL functions: ASIM YAML parsers (`ParserName`,
//! `ParserParams`, `ParserQuery`, and the `Function*` spelling), plain KQL parser files named by
//! the alias their comments ask for, and the function schemas of the repository's validation
//! tests (an empty table of the right shape, used only where no real parser exists).

use crate::model::{FunctionParameter, Provenance, StoredFunction};
use crate::sentinel::{yaml_error_for, YamlError};
use regex::Regex;
use serde::Deserialize;
use std::sync::OnceLock;

/// Why a parser file gave no function.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParserReadError {
    /// Not valid YAML.
    #[error(transparent)]
    Yaml(#[from] YamlError),
    /// Not valid JSON.
    #[error("not a valid function schema: {0}")]
    Json(String),
    /// YAML without a parser name or query.
    #[error("the file has no `ParserName`/`ParserQuery` (or `FunctionName`/`FunctionQuery`)")]
    NotAParser,
    /// The file is empty.
    #[error("the file is empty")]
    Empty,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ParamDocument {
    name: Option<String>,
    #[serde(rename = "Type")]
    kusto_type: Option<String>,
    default: Option<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ParserDocument {
    parser_name: Option<String>,
    equivalent_built_in_parser: Option<String>,
    parser_params: Option<Vec<ParamDocument>>,
    parser_query: Option<String>,
    function_name: Option<String>,
    equivalent_built_in_function: Option<String>,
    function_params: Option<Vec<ParamDocument>>,
    function_query: Option<String>,
    description: Option<String>,
}

/// Reads one parser file; a parser known by several names (`ASimDns` and `_ASim_Dns`) gives one
/// function per name.
pub fn read_parser_file(
    relative: &str,
    text: &str,
    provenance: &Provenance,
) -> Result<Vec<StoredFunction>, ParserReadError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        return Err(ParserReadError::Empty);
    }
    let lower = relative.to_ascii_lowercase();
    if lower.ends_with(".yaml") || lower.ends_with(".yml") {
        read_yaml_parser(text, provenance)
    } else {
        Ok(read_kql_parser(relative, text, provenance))
    }
}

fn read_yaml_parser(
    text: &str,
    provenance: &Provenance,
) -> Result<Vec<StoredFunction>, ParserReadError> {
    let options = serde_saphyr::options! {
        duplicate_keys: serde_saphyr::options::DuplicateKeyPolicy::LastWins,
    };
    let document: ParserDocument =
        serde_saphyr::from_str_with_options(text, options).map_err(|e| yaml_error_for(&e, text))?;
    let (name, alias, params, body) = match (document.parser_name, document.parser_query) {
        (Some(name), Some(body)) => (
            name,
            document.equivalent_built_in_parser,
            document.parser_params,
            body,
        ),
        _ => match (document.function_name, document.function_query) {
            (Some(name), Some(body)) => (
                name,
                document.equivalent_built_in_function,
                document.function_params,
                body,
            ),
            _ => return Err(ParserReadError::NotAParser),
        },
    };
    let parameters: Vec<FunctionParameter> = params
        .unwrap_or_default()
        .into_iter()
        .filter_map(|p| {
            Some(FunctionParameter {
                name: p.name?.trim().to_string(),
                kusto_type: p
                    .kusto_type
                    .unwrap_or_else(|| "string".into())
                    .trim()
                    .to_string(),
                default: p.default.map(|d| match d {
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                }),
            })
        })
        .collect();
    let description = document.description.unwrap_or_default().trim().to_string();
    let mut names = vec![name.trim().to_string()];
    if let Some(alias) = alias.map(|a| a.trim().to_string()) {
        if !alias.is_empty() && !names.contains(&alias) {
            names.push(alias);
        }
    }
    Ok(names
        .into_iter()
        .map(|name| StoredFunction {
            name,
            parameters: parameters.clone(),
            body: body.clone(),
            description: description.clone(),
            provenance: provenance.clone(),
        })
        .collect())
}

/// The alias a plain KQL parser asks to be saved under, from its comments ("… alias as X",
/// "(e.g. X | take 10)", "Function Alias must be set to - X").
fn kql_aliases(text: &str) -> Vec<String> {
    static PATTERNS: OnceLock<[Regex; 3]> = OnceLock::new();
    let patterns = PATTERNS.get_or_init(|| {
        [
            Regex::new(r#"(?i)alias(?:,)?\s+(?:as|of|to|must be set to)\s*-?\s*"?([A-Za-z_][A-Za-z0-9_]*)"#)
                .expect("valid regex"),
            Regex::new(r"(?i)\(e\.g\.\s*([A-Za-z_][A-Za-z0-9_]*)\s*[|)]").expect("valid regex"),
            Regex::new(r"(?i)function alias,?\s+as\s+([A-Za-z_][A-Za-z0-9_]*)").expect("valid regex"),
        ]
    });
    let mut aliases = Vec::new();
    for line in text.lines().filter(|l| l.trim_start().starts_with("//")) {
        for pattern in patterns {
            for capture in pattern.captures_iter(line) {
                let alias = capture[1].to_string();
                // "(e.g. Epic_CL | take 10)" names a table, not the alias.
                if !alias.ends_with("_CL") && !aliases.contains(&alias) {
                    aliases.push(alias);
                }
            }
        }
    }
    aliases
}

fn read_kql_parser(relative: &str, text: &str, provenance: &Provenance) -> Vec<StoredFunction> {
    let file_name = relative.rsplit('/').next().unwrap_or(relative);
    let stem = file_name.split('.').next().unwrap_or(file_name).to_string();
    let mut names = kql_aliases(text);
    if !names.contains(&stem) && stem.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        names.push(stem);
    }
    let description: String = text
        .lines()
        .take_while(|l| l.trim_start().starts_with("//"))
        .map(|l| l.trim_start().trim_start_matches('/').trim())
        .filter(|l| !l.is_empty())
        .take(3)
        .collect::<Vec<_>>()
        .join(" ");
    names
        .into_iter()
        .map(|name| StoredFunction {
            name,
            parameters: Vec::new(),
            body: text.to_string(),
            description: description.clone(),
            provenance: provenance.clone(),
        })
        .collect()
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SchemaColumn {
    name: String,
    #[serde(rename = "Type")]
    kusto_type: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SchemaParam {
    name: String,
    #[serde(rename = "Type")]
    kusto_type: String,
    #[serde(default)]
    is_required: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct FunctionSchemaDocument {
    function_name: String,
    #[serde(default)]
    function_parameters: Vec<SchemaParam>,
    #[serde(default)]
    function_result_columns: Vec<SchemaColumn>,
}

/// Reads a validation-test function schema as a function returning an empty table of that shape.
pub fn read_function_schema(
    text: &str,
    provenance: &Provenance,
) -> Result<StoredFunction, ParserReadError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let document: FunctionSchemaDocument =
        serde_json::from_str(text).map_err(|e| ParserReadError::Json(e.to_string()))?;
    let columns: Vec<String> = document
        .function_result_columns
        .iter()
        .map(|c| format!("['{}']:{}", c.name.replace('\'', "\\'"), c.kusto_type))
        .collect();
    Ok(StoredFunction {
        name: document.function_name,
        parameters: document
            .function_parameters
            .into_iter()
            .map(|p| FunctionParameter {
                default: (!p.is_required).then(|| format!("{}(null)", p.kusto_type)),
                name: p.name,
                kusto_type: p.kusto_type,
            })
            .collect(),
        body: format!("datatable({})[]", columns.join(", ")),
        description: "Result schema from the repository's KQL validation tests (no parser body)"
            .to_string(),
        provenance: provenance.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asim_yaml_gives_both_names_with_parameters() {
        let text = "ParserName: ASimDnsX\nEquivalentBuiltInParser: _ASim_Dns_X\nParserParams:\n  - Name: starttime\n    Type: datetime\n    Default: datetime(null)\n  - Name: disabled\n    Type: bool\n    Default: false\nParserQuery: |\n  let x = 1;\n  DnsEvents | where true\n";
        let functions = read_parser_file("Parsers/x.yaml", text, &Provenance::default()).unwrap();
        let names: Vec<_> = functions.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["ASimDnsX", "_ASim_Dns_X"]);
        assert_eq!(functions[0].parameters[1].default.as_deref(), Some("false"));
        assert!(functions[0].body.contains("DnsEvents"));
        assert_eq!(
            read_parser_file("Parsers/y.yaml", "Title: x\n", &Provenance::default()),
            Err(ParserReadError::NotAParser)
        );
    }

    #[test]
    fn kql_parsers_are_named_by_their_alias_and_file() {
        let text = "// Paste below query … specifying function name and alias as CiscoISEEvent.\n// You can then use function alias from any other queries (e.g. CiscoISEEvent | take 10).\nSyslog | take 1";
        let functions =
            read_parser_file("Parsers/Cisco_ISEParser.txt", text, &Provenance::default()).unwrap();
        let names: Vec<_> = functions.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["CiscoISEEvent", "Cisco_ISEParser"]);
        let table_example =
            "// use function alias from any other queries (e.g. Epic_CL | take 10).\nEpic_CL";
        let functions = read_parser_file(
            "Parsers/Epic_Parser.csl",
            table_example,
            &Provenance::default(),
        )
        .unwrap();
        assert_eq!(functions.len(), 1);
        assert_eq!(functions[0].name, "Epic_Parser");
    }

    #[test]
    fn function_schemas_become_empty_tables() {
        let text = r#"{"FunctionName": "_Im_X", "FunctionParameters": [{"Name": "starttime", "Type": "datetime", "IsRequired": false}], "FunctionResultColumns": [{"Name": "TimeGenerated", "Type": "datetime"}]}"#;
        let function = read_function_schema(text, &Provenance::default()).unwrap();
        assert_eq!(function.body, "datatable(['TimeGenerated']:datetime)[]");
        assert_eq!(
            function.parameters[0].default.as_deref(),
            Some("datetime(null)")
        );
    }
}
