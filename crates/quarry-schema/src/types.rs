//! Kusto scalar types.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A Kusto (KQL) scalar data type.
///
/// Serialized as its canonical lower-case KQL name (see [`KustoType::name`]); deserialization
/// accepts every spelling [`KustoType::from_name`] accepts.
///
/// The Arrow mapping is planned for `quarry-engine` (Boolean, Int32, Int64, Float64, Decimal128,
/// Utf8, Timestamp(UTC), Duration, a 16-byte GUID and a JSON-encoded Utf8 for `dynamic`); it is
/// not part of this crate yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KustoType {
    /// `bool` (alias `boolean`).
    Bool,
    /// `int`, a 32-bit signed integer (alias `int32`).
    Int,
    /// `long`, a 64-bit signed integer (alias `int64`).
    Long,
    /// `real`, a 64-bit float (alias `double`).
    Real,
    /// `decimal`, a 128-bit decimal number.
    Decimal,
    /// `string`, UTF-8 text.
    String,
    /// `datetime`, an instant in UTC (alias `date`).
    DateTime,
    /// `timespan`, a duration (alias `time`).
    TimeSpan,
    /// `guid`, a 128-bit unique identifier (alias `uniqueid`).
    Guid,
    /// `dynamic`, a JSON-like value (array, property bag or scalar).
    Dynamic,
}

impl KustoType {
    /// Every type, in declaration order.
    pub const ALL: [KustoType; 10] = [
        KustoType::Bool,
        KustoType::Int,
        KustoType::Long,
        KustoType::Real,
        KustoType::Decimal,
        KustoType::String,
        KustoType::DateTime,
        KustoType::TimeSpan,
        KustoType::Guid,
        KustoType::Dynamic,
    ];

    /// Looks up a KQL type name or alias, case-insensitively (`"Int64"` → `Long`).
    pub fn from_name(name: &str) -> Option<KustoType> {
        let ty = match name.to_ascii_lowercase().as_str() {
            "bool" | "boolean" => KustoType::Bool,
            "int" | "int32" => KustoType::Int,
            "long" | "int64" => KustoType::Long,
            "real" | "double" => KustoType::Real,
            "decimal" => KustoType::Decimal,
            "string" => KustoType::String,
            "datetime" | "date" => KustoType::DateTime,
            "timespan" | "time" => KustoType::TimeSpan,
            "guid" | "uniqueid" => KustoType::Guid,
            "dynamic" => KustoType::Dynamic,
            _ => return None,
        };
        Some(ty)
    }

    /// The canonical lower-case KQL name (`datetime`, `timespan`, ...).
    pub fn name(self) -> &'static str {
        match self {
            KustoType::Bool => "bool",
            KustoType::Int => "int",
            KustoType::Long => "long",
            KustoType::Real => "real",
            KustoType::Decimal => "decimal",
            KustoType::String => "string",
            KustoType::DateTime => "datetime",
            KustoType::TimeSpan => "timespan",
            KustoType::Guid => "guid",
            KustoType::Dynamic => "dynamic",
        }
    }

    /// Whether the type is numeric (`int`, `long`, `real`, `decimal`).
    pub fn is_numeric(self) -> bool {
        matches!(
            self,
            KustoType::Int | KustoType::Long | KustoType::Real | KustoType::Decimal
        )
    }
}

impl fmt::Display for KustoType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Error of [`KustoType::from_str`]: the text is not a KQL type name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown Kusto type `{0}`")]
pub struct UnknownKustoType(pub String);

impl FromStr for KustoType {
    type Err = UnknownKustoType;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        KustoType::from_name(s).ok_or_else(|| UnknownKustoType(s.to_owned()))
    }
}

impl Serialize for KustoType {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for KustoType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        KustoType::from_name(&name).ok_or_else(|| serde::de::Error::custom(UnknownKustoType(name)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_round_trips() {
        for ty in KustoType::ALL {
            assert_eq!(KustoType::from_name(ty.name()), Some(ty));
            assert_eq!(ty.to_string(), ty.name());
            assert_eq!(ty.name(), ty.name().to_ascii_lowercase());
        }
    }

    #[test]
    fn aliases_and_case() {
        let cases = [
            ("boolean", KustoType::Bool),
            ("Int32", KustoType::Int),
            ("INT64", KustoType::Long),
            ("double", KustoType::Real),
            ("Decimal", KustoType::Decimal),
            ("String", KustoType::String),
            ("date", KustoType::DateTime),
            ("DateTime", KustoType::DateTime),
            ("time", KustoType::TimeSpan),
            ("TimeSpan", KustoType::TimeSpan),
            ("uniqueid", KustoType::Guid),
            ("Dynamic", KustoType::Dynamic),
        ];
        for (name, ty) in cases {
            assert_eq!(KustoType::from_name(name), Some(ty), "{name}");
        }
    }

    #[test]
    fn rejects_unknown_names() {
        for name in ["strnig", "", " string", "object", "int16", "datetime2"] {
            assert_eq!(KustoType::from_name(name), None, "{name:?}");
        }
        let err = "strnig".parse::<KustoType>().unwrap_err();
        assert_eq!(err.to_string(), "unknown Kusto type `strnig`");
    }

    #[test]
    fn serde_uses_canonical_name() {
        for ty in KustoType::ALL {
            let json = serde_json::to_string(&ty).unwrap();
            assert_eq!(json, format!("\"{}\"", ty.name()));
            assert_eq!(serde_json::from_str::<KustoType>(&json).unwrap(), ty);
        }
        assert_eq!(
            serde_json::from_str::<KustoType>("\"Int64\"").unwrap(),
            KustoType::Long
        );
        let err = serde_json::from_str::<KustoType>("\"strnig\"").unwrap_err();
        assert!(err.to_string().contains("strnig"), "{err}");
    }
}
