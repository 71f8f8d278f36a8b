//! `datetime_list_timezones()`: the IANA time zone names Kusto accepts, sorted.
//!
//! The names come from the tz database compiled into `chrono-tz`; its list is the one Kusto
//! returns (597 names, links such as `US/Pacific` and `Zulu` included).

use datafusion::common::ScalarValue;
use datafusion::logical_expr::lit;

use super::{check_arity, CallContext, FamilyResult, PlannedArg};

/// The functions this family implements.
pub(super) const NAMES: &[&str] = &["datetime_list_timezones"];

/// Plans `name(args)` if it belongs to this family.
pub(super) fn plan(name: &str, args: &[PlannedArg], ctx: &CallContext) -> FamilyResult {
    if name != "datetime_list_timezones" {
        return None;
    }
    Some(check_arity(name, args, 0, 0, ctx).map(|()| {
        let mut names: Vec<&str> = chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name()).collect();
        names.sort_unstable();
        let json = serde_json::Value::from(names).to_string();
        lit(ScalarValue::LargeUtf8(Some(json)))
    }))
}
