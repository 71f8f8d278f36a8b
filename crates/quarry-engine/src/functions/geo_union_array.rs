//! The array forms: `geo_union_polygons_array(polygons)`, `geo_simplify_polygons_array(polygons,
//! [tolerance])` (each polygon simplified, the survivors unioned) and
//! `geo_union_lines_array(lines)` (shared segments merged, chains joined into maximal lines).
//! Any element that is not a valid geometry of the right kind makes the result null.

use super::geo::{arg_f64, arg_json, dynamic, lines, polygon_simplify_row, polygons, unit};
use super::geo_union::{same_point, to_lnglat, union_geojson, Vec3};
use datafusion::common::{Result as DfResult, ScalarValue};
use serde_json::{json, Value};

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

/// `geo_simplify_polygons_array(array, [tolerance])`: null when nothing survives.
pub(super) fn simplify_polygons_array_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    Ok(dynamic((|| {
        let items = arg_json(args, 0)?;
        let tolerance = if args.len() > 1 {
            arg_f64(args, 1)?
        } else {
            10.0
        };
        if !(tolerance.is_finite() && tolerance >= 0.0) {
            return None;
        }
        let mut all = Vec::new();
        for item in items.as_array()? {
            polygons(item)?;
            let simplified = polygon_simplify_row(&[
                ScalarValue::LargeUtf8(Some(item.to_string())),
                ScalarValue::Float64(Some(tolerance)),
            ])
            .ok()?;
            // A polygon that collapses under the tolerance drops out.
            if let ScalarValue::LargeUtf8(Some(text)) = simplified {
                let value: Value = serde_json::from_str(&text).ok()?;
                all.extend(polygons(&value)?);
            }
        }
        if all.is_empty() {
            return None;
        }
        union_geojson(&all)
    })()))
}

/// `geo_union_lines_array(array)`.
pub(super) fn union_lines_array_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    Ok(dynamic((|| {
        let items = arg_json(args, 0)?;
        // The distinct segments (either direction counts as the same), in input order.
        let mut segments: Vec<(Vec3, Vec3)> = Vec::new();
        for item in items.as_array()? {
            for line in lines(item)? {
                for w in line.windows(2) {
                    let (a, b) = (unit(w[0]), unit(w[1]));
                    if same_point(a, b) {
                        continue;
                    }
                    let known = segments.iter().any(|&(c, d)| {
                        (same_point(a, c) && same_point(b, d))
                            || (same_point(a, d) && same_point(b, c))
                    });
                    if !known {
                        segments.push((a, b));
                    }
                }
            }
        }
        let degree = |v: Vec3| {
            segments
                .iter()
                .filter(|&&(a, b)| same_point(a, v) || same_point(b, v))
                .count()
        };
        let mut used = vec![false; segments.len()];
        let mut out: Vec<Vec<Vec3>> = Vec::new();
        for first in 0..segments.len() {
            if used[first] {
                continue;
            }
            used[first] = true;
            let mut chain = vec![segments[first].0, segments[first].1];
            // Extend forwards, then backwards, through vertices where exactly two segments meet.
            loop {
                let end = chain[chain.len() - 1];
                if degree(end) != 2 {
                    break;
                }
                let Some(k) =
                    (0..segments.len()).find(|&k| !used[k] && same_point(segments[k].0, end))
                else {
                    break;
                };
                used[k] = true;
                chain.push(segments[k].1);
            }
            loop {
                let start = chain[0];
                if degree(start) != 2 {
                    break;
                }
                let Some(k) =
                    (0..segments.len()).find(|&k| !used[k] && same_point(segments[k].1, start))
                else {
                    break;
                };
                used[k] = true;
                chain.insert(0, segments[k].0);
            }
            out.push(chain);
        }
        let coords = |chain: &Vec<Vec3>| -> Value {
            Value::Array(
                chain
                    .iter()
                    .map(|&v| {
                        let (x, y) = to_lnglat(v);
                        json!([x, y])
                    })
                    .collect(),
            )
        };
        Some(match out.len() {
            0 => return None,
            1 => json!({"type": "LineString", "coordinates": coords(&out[0])}),
            _ => {
                json!({"type": "MultiLineString", "coordinates": out.iter().map(coords).collect::<Vec<_>>()})
            }
        })
    })()))
}
