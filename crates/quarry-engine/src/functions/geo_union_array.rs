//! `geo_union_polygons_array(polygons)`: the union of an array of Polygons / MultiPolygons,
//! null when any element is not a valid polygon.

use super::geo::{arg_json, dynamic, polygons};
use super::geo_union::union_geojson;
use datafusion::common::{Result as DfResult, ScalarValue};

/// `geo_union_polygons_array(array)`.
pub(super) fn union_polygons_array_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    Ok(dynamic((|| {
        let items = arg_json(args, 0)?;
        let mut all = Vec::new();
        for item in items.as_array()? {
            all.extend(polygons(item)?);
        }
        union_geojson(&all)
    })()))
}
