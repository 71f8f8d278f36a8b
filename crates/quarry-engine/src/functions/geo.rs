//! Geospatial functions: WKT parsing, geohash, H3 and S2 cells, and geodesic measures on the
//! WGS-84 ellipsoid. Geometries are GeoJSON `dynamic` values with `[longitude, latitude]`
//! coordinates; invalid input gives null (or `""` for string results), as in Kusto.

use super::dynamic::{row_call, scalar_f64, scalar_i64, scalar_str, scalar_to_json};
use super::{check_arity, CallContext, FamilyResult, PlannedArg};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result as DfResult, ScalarValue};
use datafusion::logical_expr::Expr;
use h3o::{CellIndex, LatLng, Resolution};
use serde_json::{json, Value};
use std::str::FromStr;

/// The functions this family implements.
pub(super) const NAMES: &[&str] = &[
    "geo_from_wkt",
    "geo_point_to_geohash",
    "geo_geohash_to_central_point",
    "geo_geohash_to_polygon",
    "geo_geohash_neighbors",
    "geo_point_in_circle",
    "geo_distance_2points",
    "geo_azimuth",
    "geo_angle",
    "geo_line_length",
    "geo_polygon_area",
    "geo_polygon_perimeter",
    "geo_point_in_polygon",
    "geo_distance_point_to_line",
    "geo_distance_point_to_polygon",
    "geo_line_centroid",
    "geo_polygon_centroid",
    "geo_line_interpolate_point",
    "geo_line_locate_point",
    "geo_intersects_2lines",
    "geo_closest_point_on_polygon",
    "geo_point_buffer",
    "geo_line_densify",
    "geo_polygon_densify",
    "geo_line_simplify",
    "geo_polygon_simplify",
    "geo_intersection_2lines",
    "geo_point_to_h3cell",
    "geo_h3cell_level",
    "geo_h3cell_parent",
    "geo_h3cell_children",
    "geo_h3cell_to_central_point",
    "geo_h3cell_to_polygon",
    "geo_h3cell_neighbors",
    "geo_h3cell_rings",
    "geo_point_to_s2cell",
    "geo_s2cell_to_central_point",
    "geo_s2cell_to_polygon",
    "geo_s2cell_neighbors",
    "geo_polygon_to_s2cells",
    "geo_polygon_to_h3cells",
    "geo_union_polygons_array",
    "geo_intersection_2polygons",
    "geo_simplify_polygons_array",
    "geo_union_lines_array",
];

type RowFn = fn(&[ScalarValue]) -> DfResult<ScalarValue>;

/// Plans `name(args)` if it belongs to this family.
pub(super) fn plan(name: &str, args: &[PlannedArg], ctx: &CallContext) -> FamilyResult {
    let (min, max, ret, f): (usize, usize, DataType, RowFn) = match name {
        "geo_from_wkt" => (1, 1, DataType::LargeUtf8, from_wkt_row),
        "geo_point_to_geohash" => (2, 3, DataType::Utf8, point_to_geohash_row),
        "geo_geohash_to_central_point" => (1, 1, DataType::LargeUtf8, geohash_center_row),
        "geo_geohash_to_polygon" => (1, 1, DataType::LargeUtf8, geohash_polygon_row),
        "geo_geohash_neighbors" => (1, 1, DataType::LargeUtf8, geohash_neighbors_row),
        "geo_point_in_circle" => (5, 5, DataType::Boolean, point_in_circle_row),
        "geo_distance_2points" => (4, 4, DataType::Float64, distance_row),
        "geo_azimuth" => (4, 4, DataType::Float64, azimuth_row),
        "geo_angle" => (6, 6, DataType::Float64, angle_row),
        "geo_line_length" => (1, 1, DataType::Float64, line_length_row),
        "geo_polygon_area" => (1, 1, DataType::Float64, polygon_area_row),
        "geo_polygon_perimeter" => (1, 1, DataType::Float64, polygon_perimeter_row),
        "geo_point_in_polygon" => (3, 3, DataType::Boolean, point_in_polygon_row),
        "geo_distance_point_to_line" => (3, 3, DataType::Float64, distance_point_to_line_row),
        "geo_distance_point_to_polygon" => (3, 3, DataType::Float64, distance_point_to_polygon_row),
        "geo_line_centroid" => (1, 1, DataType::LargeUtf8, line_centroid_row),
        "geo_polygon_centroid" => (1, 1, DataType::LargeUtf8, polygon_centroid_row),
        "geo_line_interpolate_point" => (2, 2, DataType::LargeUtf8, line_interpolate_point_row),
        "geo_line_locate_point" => (3, 3, DataType::Float64, line_locate_point_row),
        "geo_line_simplify" => (1, 2, DataType::LargeUtf8, line_simplify_row),
        "geo_polygon_simplify" => (1, 2, DataType::LargeUtf8, polygon_simplify_row),
        "geo_line_densify" => (
            1,
            3,
            DataType::LargeUtf8,
            super::geo_densify::line_densify_row,
        ),
        "geo_polygon_densify" => (
            1,
            3,
            DataType::LargeUtf8,
            super::geo_densify::polygon_densify_row,
        ),
        "geo_closest_point_on_polygon" => (3, 3, DataType::LargeUtf8, closest_point_on_polygon_row),
        "geo_point_buffer" => (3, 4, DataType::LargeUtf8, point_buffer_row),
        "geo_intersects_2lines" => (2, 2, DataType::Boolean, intersects_2lines_row),
        "geo_intersection_2lines" => (2, 2, DataType::LargeUtf8, intersection_2lines_row),
        "geo_point_to_h3cell" => (2, 3, DataType::Utf8, point_to_h3_row),
        "geo_h3cell_level" => (1, 1, DataType::Int32, h3_level_row),
        "geo_h3cell_parent" => (1, 2, DataType::Utf8, h3_parent_row),
        "geo_h3cell_children" => (1, 2, DataType::LargeUtf8, h3_children_row),
        "geo_h3cell_to_central_point" => (1, 1, DataType::LargeUtf8, h3_center_row),
        "geo_h3cell_to_polygon" => (1, 1, DataType::LargeUtf8, h3_polygon_row),
        "geo_h3cell_neighbors" => (1, 1, DataType::LargeUtf8, h3_neighbors_row),
        "geo_h3cell_rings" => (2, 2, DataType::LargeUtf8, h3_rings_row),
        "geo_point_to_s2cell" => (2, 3, DataType::Utf8, point_to_s2_row),
        "geo_s2cell_to_central_point" => (1, 1, DataType::LargeUtf8, s2_center_row),
        "geo_s2cell_to_polygon" => (1, 1, DataType::LargeUtf8, s2_polygon_row),
        "geo_s2cell_neighbors" => (1, 1, DataType::LargeUtf8, s2_neighbors_row),
        "geo_simplify_polygons_array" => (
            1,
            2,
            DataType::LargeUtf8,
            super::geo_union_array::simplify_polygons_array_row,
        ),
        "geo_union_lines_array" => (
            1,
            1,
            DataType::LargeUtf8,
            super::geo_union_array::union_lines_array_row,
        ),
        "geo_intersection_2polygons" => (
            2,
            2,
            DataType::LargeUtf8,
            super::geo_intersection::intersection_2polygons_row,
        ),
        "geo_union_polygons_array" => (
            1,
            1,
            DataType::LargeUtf8,
            super::geo_union_array::union_polygons_array_row,
        ),
        "geo_polygon_to_h3cells" => (
            1,
            3,
            DataType::LargeUtf8,
            super::geo_h3::polygon_to_h3cells_row,
        ),
        "geo_polygon_to_s2cells" => (1, 3, DataType::LargeUtf8, polygon_to_s2cells_row),
        _ => return None,
    };
    if let Err(e) = check_arity(name, args, min, max, ctx) {
        return Some(Err(e));
    }
    let exprs: Vec<Expr> = args.iter().map(|a| a.expr.clone()).collect();
    Some(Ok(row_call(name, ret, f, exprs)))
}

// ---------------------------------------------------------------------------------------------
// Argument and result helpers
// ---------------------------------------------------------------------------------------------

pub(super) fn arg_f64(args: &[ScalarValue], i: usize) -> Option<f64> {
    args.get(i).and_then(scalar_f64).filter(|v| v.is_finite())
}

pub(super) fn arg_i64(args: &[ScalarValue], i: usize) -> Option<i64> {
    args.get(i).and_then(scalar_i64)
}

fn arg_str(args: &[ScalarValue], i: usize) -> Option<&str> {
    args.get(i).and_then(scalar_str)
}

pub(super) fn arg_json(args: &[ScalarValue], i: usize) -> Option<Value> {
    args.get(i).and_then(scalar_to_json)
}

/// A `[longitude, latitude]` pair with valid ranges.
fn valid_point(lng: f64, lat: f64) -> bool {
    (-180.0..=180.0).contains(&lng) && (-90.0..=90.0).contains(&lat)
}

fn args_point(args: &[ScalarValue], i: usize) -> Option<(f64, f64)> {
    let (lng, lat) = (arg_f64(args, i)?, arg_f64(args, i + 1)?);
    valid_point(lng, lat).then_some((lng, lat))
}

pub(super) fn dynamic(value: Option<Value>) -> ScalarValue {
    ScalarValue::LargeUtf8(value.and_then(|v| serde_json::to_string(&v).ok()))
}

fn string(value: Option<String>) -> ScalarValue {
    ScalarValue::Utf8(Some(value.unwrap_or_default()))
}

fn real(value: Option<f64>) -> ScalarValue {
    ScalarValue::Float64(value.filter(|v| v.is_finite()))
}

fn point_json(lng: f64, lat: f64) -> Value {
    json!({"type": "Point", "coordinates": [lng, lat]})
}

fn polygon_json(ring: &[(f64, f64)]) -> Value {
    let coords: Vec<Value> = ring.iter().map(|&(x, y)| json!([x, y])).collect();
    json!({"type": "Polygon", "coordinates": [coords]})
}

fn strings_json<I: IntoIterator<Item = String>>(items: I) -> Value {
    Value::Array(items.into_iter().map(Value::String).collect())
}

// ---------------------------------------------------------------------------------------------
// Spherical geodesics (Kusto measures on a sphere of S2's Earth radius)
// ---------------------------------------------------------------------------------------------

/// The Earth radius Kusto uses, in meters (S2's mean radius).
pub(super) const EARTH_RADIUS: f64 = 6_371_010.0;

/// The great-circle distance in meters between two `(lng, lat)` points (haversine).
fn distance(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (p1, p2) = (a.1.to_radians(), b.1.to_radians());
    let dlat = p2 - p1;
    let dlng = (b.0 - a.0).to_radians();
    let h = (dlat / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dlng / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS * h.sqrt().min(1.0).asin()
}

/// The initial bearing in degrees (clockwise from north) of the great circle from `a` to `b`.
fn azimuth_deg(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (p1, p2) = (a.1.to_radians(), b.1.to_radians());
    let dlng = (b.0 - a.0).to_radians();
    let y = dlng.sin() * p2.cos();
    let x = p1.cos() * p2.sin() - p1.sin() * p2.cos() * dlng.cos();
    y.atan2(x).to_degrees()
}

/// The unit vector of a `(lng, lat)` point.
pub(super) fn unit(p: (f64, f64)) -> [f64; 3] {
    let (lng, lat) = (p.0.to_radians(), p.1.to_radians());
    [lat.cos() * lng.cos(), lat.cos() * lng.sin(), lat.sin()]
}

fn dot(a: [f64; 3], b: [f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

fn cross(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

fn distance_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    Ok(real((|| {
        let a = args_point(args, 0)?;
        let b = args_point(args, 2)?;
        Some(distance(a, b))
    })()))
}

fn point_in_circle_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    let result = (|| {
        let p = args_point(args, 0)?;
        let c = args_point(args, 2)?;
        let radius = arg_f64(args, 4).filter(|r| *r >= 0.0)?;
        Some(distance(p, c) <= radius)
    })();
    Ok(ScalarValue::Boolean(result))
}

fn azimuth_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    Ok(real((|| {
        let a = args_point(args, 0)?;
        let b = args_point(args, 2)?;
        if a == b {
            return None;
        }
        Some(azimuth_deg(a, b).rem_euclid(360.0).to_radians())
    })()))
}

fn angle_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    Ok(real((|| {
        let p1 = args_point(args, 0)?;
        let p2 = args_point(args, 2)?;
        let p3 = args_point(args, 4)?;
        if p1 == p2 || p2 == p3 {
            return None;
        }
        let a = azimuth_deg(p2, p1);
        let b = azimuth_deg(p2, p3);
        let angle = (b - a).rem_euclid(360.0);
        Some(angle.to_radians())
    })()))
}

// ---------------------------------------------------------------------------------------------
// GeoJSON access
// ---------------------------------------------------------------------------------------------

fn coord(value: &Value) -> Option<(f64, f64)> {
    let items = value.as_array()?;
    if items.len() < 2 {
        return None;
    }
    let (lng, lat) = (items[0].as_f64()?, items[1].as_f64()?);
    valid_point(lng, lat).then_some((lng, lat))
}

fn coords(value: &Value) -> Option<Vec<(f64, f64)>> {
    value.as_array()?.iter().map(coord).collect()
}

fn geometry_type(value: &Value) -> Option<&str> {
    value.get("type")?.as_str()
}

/// The lines of a LineString or MultiLineString.
pub(super) fn lines(value: &Value) -> Option<Vec<Vec<(f64, f64)>>> {
    let c = value.get("coordinates")?;
    let out = match geometry_type(value)? {
        "LineString" => vec![coords(c)?],
        "MultiLineString" => c
            .as_array()?
            .iter()
            .map(coords)
            .collect::<Option<Vec<_>>>()?,
        _ => return None,
    };
    out.iter().all(|l| l.len() >= 2).then_some(out)
}

/// A polygon: its rings of `(lng, lat)` points, shell first.
pub(super) type Polygon = Vec<Vec<(f64, f64)>>;

/// The polygons (each a list of rings, shell first) of a Polygon or MultiPolygon.
pub(super) fn polygons(value: &Value) -> Option<Vec<Polygon>> {
    let c = value.get("coordinates")?;
    let polygon = |p: &Value| -> Option<Polygon> {
        let rings = p
            .as_array()?
            .iter()
            .map(coords)
            .collect::<Option<Vec<_>>>()?;
        let valid = !rings.is_empty()
            && rings
                .iter()
                .all(|r| r.len() >= 4 && r.first() == r.last() && distinct_vertices(r) >= 3);
        valid.then_some(rings)
    };
    match geometry_type(value)? {
        "Polygon" => Some(vec![polygon(c)?]),
        "MultiPolygon" => c.as_array()?.iter().map(polygon).collect(),
        _ => None,
    }
}

fn distinct_vertices(ring: &[(f64, f64)]) -> usize {
    let mut seen: Vec<(f64, f64)> = Vec::new();
    for p in &ring[..ring.len() - 1] {
        if !seen.contains(p) {
            seen.push(*p);
        }
    }
    seen.len()
}

fn path_length(path: &[(f64, f64)]) -> f64 {
    path.windows(2).map(|w| distance(w[0], w[1])).sum()
}

fn line_length_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    Ok(real((|| {
        let lines = lines(&arg_json(args, 0)?)?;
        Some(lines.iter().map(|l| path_length(l)).sum())
    })()))
}

/// The area of a ring (edges are great circles) in square meters: the signed spherical
/// excess of a triangle fan, taken as the smaller of the two regions the ring bounds.
fn ring_area(ring: &[(f64, f64)]) -> f64 {
    let points: Vec<[f64; 3]> = ring[..ring.len() - 1].iter().map(|&p| unit(p)).collect();
    let origin = points[0];
    let mut excess = 0.0;
    for w in points[1..].windows(2) {
        let (b, c) = (w[0], w[1]);
        let numerator = dot(origin, cross(b, c));
        let denominator = 1.0 + dot(origin, b) + dot(b, c) + dot(c, origin);
        excess += 2.0 * numerator.atan2(denominator);
    }
    let excess = excess.abs();
    let steradians = excess.min(4.0 * std::f64::consts::PI - excess);
    steradians * EARTH_RADIUS * EARTH_RADIUS
}

fn polygon_area_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    Ok(real((|| {
        let polys = polygons(&arg_json(args, 0)?)?;
        if polys.len() > 1 {
            // A MultiPolygon's polygons may overlap: measure their union.
            return Some(super::geo_union::union_measures(&polys).0);
        }
        let mut total = 0.0;
        for rings in &polys {
            total += ring_area(&rings[0]);
            for hole in &rings[1..] {
                total -= ring_area(hole);
            }
        }
        Some(total)
    })()))
}

fn polygon_perimeter_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    Ok(real((|| {
        let polys = polygons(&arg_json(args, 0)?)?;
        if polys.len() > 1 {
            return Some(super::geo_union::union_measures(&polys).1);
        }
        Some(polys.iter().flatten().map(|r| path_length(r)).sum())
    })()))
}

/// Whether `p` is inside `ring`, whose edges are great-circle arcs: the winding number of the
/// ring around `p`, from the signed angles its edges subtend there.
fn ring_contains(ring: &[(f64, f64)], p: (f64, f64)) -> bool {
    let p = unit(p);
    let mut total = 0.0;
    for w in ring.windows(2) {
        let (a, b) = (unit(w[0]), unit(w[1]));
        let y = dot(p, cross(a, b));
        let x = dot(a, b) - dot(p, a) * dot(p, b);
        total += y.atan2(x);
    }
    total.abs() > std::f64::consts::PI
}

/// Whether `p` is inside a polygon (its shell and none of its holes).
pub(super) fn polygon_contains(rings: &[Vec<(f64, f64)>], p: (f64, f64)) -> bool {
    ring_contains(&rings[0], p) && !rings[1..].iter().any(|h| ring_contains(h, p))
}

fn point_in_polygon_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    let result = (|| {
        let p = args_point(args, 0)?;
        let polys = polygons(&arg_json(args, 2)?)?;
        Some(polys.iter().any(|rings| polygon_contains(rings, p)))
    })();
    Ok(ScalarValue::Boolean(result))
}

// ---------------------------------------------------------------------------------------------
// Lines and polygons on the sphere (edges are great-circle arcs)
// ---------------------------------------------------------------------------------------------

fn scale(a: [f64; 3], k: f64) -> [f64; 3] {
    [a[0] * k, a[1] * k, a[2] * k]
}

fn add(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [a[0] + b[0], a[1] + b[1], a[2] + b[2]]
}

fn normalize(a: [f64; 3]) -> Option<[f64; 3]> {
    let n = dot(a, a).sqrt();
    (n > 0.0 && n.is_finite()).then(|| scale(a, 1.0 / n))
}

/// The angle in radians between two unit vectors.
fn angle_between(a: [f64; 3], b: [f64; 3]) -> f64 {
    let c = cross(a, b);
    dot(c, c).sqrt().atan2(dot(a, b))
}

fn to_lnglat(v: [f64; 3]) -> (f64, f64) {
    let lng = v[1].atan2(v[0]).to_degrees();
    let lat = v[2].atan2((v[0] * v[0] + v[1] * v[1]).sqrt()).to_degrees();
    (lng, lat)
}

fn point_value(v: [f64; 3]) -> Value {
    let (lng, lat) = to_lnglat(v);
    point_json(lng, lat)
}

/// The angular distance from `p` to the arc `a`–`b`.
fn arc_distance(p: [f64; 3], a: [f64; 3], b: [f64; 3]) -> f64 {
    let ends = angle_between(p, a).min(angle_between(p, b));
    let Some(n) = normalize(cross(a, b)) else {
        return ends;
    };
    let q = add(p, scale(n, -dot(p, n)));
    if dot(cross(a, q), n) > 0.0 && dot(cross(q, b), n) > 0.0 {
        if let Some(q) = normalize(q) {
            return angle_between(p, q).min(ends);
        }
    }
    ends
}

/// The angular distance from `p` to a path.
pub(super) fn path_distance(p: [f64; 3], path: &[(f64, f64)]) -> f64 {
    path.windows(2)
        .map(|w| arc_distance(p, unit(w[0]), unit(w[1])))
        .fold(f64::INFINITY, f64::min)
}

fn distance_point_to_line_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    Ok(real((|| {
        let p = unit(args_point(args, 0)?);
        let lines = lines(&arg_json(args, 2)?)?;
        let d = lines
            .iter()
            .map(|l| path_distance(p, l))
            .fold(f64::INFINITY, f64::min);
        Some(d * EARTH_RADIUS)
    })()))
}

fn distance_point_to_polygon_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    Ok(real((|| {
        let point = args_point(args, 0)?;
        let polys = polygons(&arg_json(args, 2)?)?;
        if polys.iter().any(|rings| polygon_contains(rings, point)) {
            return Some(0.0);
        }
        let p = unit(point);
        let d = polys
            .iter()
            .flatten()
            .map(|r| path_distance(p, r))
            .fold(f64::INFINITY, f64::min);
        Some(d * EARTH_RADIUS)
    })()))
}

/// The point of the arc `a`–`b` closest to `p`.
fn arc_closest(p: [f64; 3], a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    if let Some(n) = normalize(cross(a, b)) {
        let q = add(p, scale(n, -dot(p, n)));
        if dot(cross(a, q), n) > 0.0 && dot(cross(q, b), n) > 0.0 {
            if let Some(q) = normalize(q) {
                return q;
            }
        }
    }
    if angle_between(p, a) <= angle_between(p, b) {
        a
    } else {
        b
    }
}

fn closest_point_on_polygon_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    Ok(dynamic((|| {
        let point = args_point(args, 0)?;
        let polys = polygons(&arg_json(args, 2)?)?;
        if polys.iter().any(|rings| polygon_contains(rings, point)) {
            return Some(point_json(point.0, point.1));
        }
        let p = unit(point);
        let mut best: Option<(f64, [f64; 3])> = None;
        for ring in polys.iter().flatten() {
            for w in ring.windows(2) {
                let q = arc_closest(p, unit(w[0]), unit(w[1]));
                let d = angle_between(p, q);
                if best.is_none_or(|(bd, _)| d < bd) {
                    best = Some((d, q));
                }
            }
        }
        best.map(|(_, q)| point_value(q))
    })()))
}

/// A circle of `radius` meters around a point as a polygon, with enough vertices that the chord
/// error stays within `tolerance` (a fraction of the radius).
fn point_buffer_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    Ok(dynamic((|| {
        let center = args_point(args, 0)?;
        let radius = arg_f64(args, 2).filter(|r| *r > 0.0 && *r <= 1_000_000.0)?;
        let tolerance = if args.len() > 3 {
            arg_f64(args, 3)?
        } else {
            0.1
        };
        if !(0.00001..=1.0).contains(&tolerance) {
            return None;
        }
        // A regular n-gon's chord error is r·(1 − cos(π/n)).
        let n = ((std::f64::consts::PI / (1.0 - tolerance).acos()).ceil() as usize).clamp(4, 4096);
        let c = unit(center);
        let angle = radius / EARTH_RADIUS;
        let north = normalize(cross(cross(c, [0.0, 0.0, 1.0]), c)).unwrap_or([1.0, 0.0, 0.0]);
        let east = cross(north, c);
        let mut ring: Vec<(f64, f64)> = (0..n)
            .map(|k| {
                let t = std::f64::consts::TAU * k as f64 / n as f64;
                let dir = add(scale(north, t.cos()), scale(east, -t.sin()));
                to_lnglat(add(scale(c, angle.cos()), scale(dir, angle.sin())))
            })
            .collect();
        ring.push(ring[0]);
        Some(polygon_json(&ring))
    })()))
}

/// The centroid of a set of paths: the length-weighted mean of their arcs' centroids.
fn paths_centroid(paths: &[Vec<(f64, f64)>]) -> Option<[f64; 3]> {
    let mut sum = [0.0; 3];
    for path in paths {
        for w in path.windows(2) {
            let (a, b) = (unit(w[0]), unit(w[1]));
            if let Some(mid) = normalize(add(a, b)) {
                sum = add(sum, scale(mid, angle_between(a, b)));
            }
        }
    }
    normalize(sum)
}

fn line_centroid_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    Ok(dynamic((|| {
        let lines = lines(&arg_json(args, 0)?)?;
        Some(point_value(paths_centroid(&lines)?))
    })()))
}

/// The area-weighted centroid direction of a ring (the smaller region it bounds).
fn ring_centroid(ring: &[(f64, f64)]) -> [f64; 3] {
    let mut sum = [0.0; 3];
    let mut mean = [0.0; 3];
    for w in ring.windows(2) {
        let (a, b) = (unit(w[0]), unit(w[1]));
        mean = add(mean, a);
        if let Some(n) = normalize(cross(a, b)) {
            sum = add(sum, scale(n, angle_between(a, b)));
        }
    }
    if dot(sum, mean) < 0.0 {
        scale(sum, -1.0)
    } else {
        sum
    }
}

fn polygon_centroid_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    Ok(dynamic((|| {
        let polys = polygons(&arg_json(args, 0)?)?;
        let mut sum = [0.0; 3];
        for rings in &polys {
            sum = add(sum, ring_centroid(&rings[0]));
            for hole in &rings[1..] {
                sum = add(sum, scale(ring_centroid(hole), -1.0));
            }
        }
        Some(point_value(normalize(sum)?))
    })()))
}

/// The point a fraction `f` of the way along the arc `a`–`b` (spherical interpolation).
fn slerp(a: [f64; 3], b: [f64; 3], f: f64) -> [f64; 3] {
    let theta = angle_between(a, b);
    if theta == 0.0 {
        return a;
    }
    let (sa, sb) = (((1.0 - f) * theta).sin(), (f * theta).sin());
    scale(add(scale(a, sa), scale(b, sb)), 1.0 / theta.sin())
}

fn line_interpolate_point_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    Ok(dynamic((|| {
        let lines = lines(&arg_json(args, 0)?)?;
        let fraction = arg_f64(args, 1).filter(|f| (0.0..=1.0).contains(f))?;
        let arcs: Vec<([f64; 3], [f64; 3])> = lines
            .iter()
            .flat_map(|l| l.windows(2).map(|w| (unit(w[0]), unit(w[1]))))
            .collect();
        let total: f64 = arcs.iter().map(|&(a, b)| angle_between(a, b)).sum();
        let mut target = fraction * total;
        for &(a, b) in &arcs {
            let len = angle_between(a, b);
            if target <= len {
                let f = if len > 0.0 { target / len } else { 0.0 };
                return Some(point_value(slerp(a, b, f)));
            }
            target -= len;
        }
        arcs.last().map(|&(_, b)| point_value(b))
    })()))
}

fn line_locate_point_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    Ok(real((|| {
        let lines = lines(&arg_json(args, 0)?)?;
        let p = unit(args_point(args, 1)?);
        let arcs: Vec<([f64; 3], [f64; 3])> = lines
            .iter()
            .flat_map(|l| l.windows(2).map(|w| (unit(w[0]), unit(w[1]))))
            .collect();
        let total: f64 = arcs.iter().map(|&(a, b)| angle_between(a, b)).sum();
        if total <= 0.0 {
            return None;
        }
        let (mut best, mut best_at, mut before) = (f64::INFINITY, 0.0, 0.0);
        for &(a, b) in &arcs {
            let d = arc_distance(p, a, b);
            if d < best {
                best = d;
                // The distance along the arc of the closest point.
                let along = match normalize(cross(a, b)) {
                    Some(n) => {
                        let q = add(p, scale(n, -dot(p, n)));
                        let within = dot(cross(a, q), n) > 0.0 && dot(cross(q, b), n) > 0.0;
                        match normalize(q) {
                            Some(q) if within => angle_between(a, q),
                            _ if angle_between(p, a) <= angle_between(p, b) => 0.0,
                            _ => angle_between(a, b),
                        }
                    }
                    None => 0.0,
                };
                best_at = before + along;
            }
            before += angle_between(a, b);
        }
        Some(best_at / total)
    })()))
}

/// Where the arcs `a`–`b` and `c`–`d` cross, if they do.
fn arcs_crossing(a: [f64; 3], b: [f64; 3], c: [f64; 3], d: [f64; 3]) -> Option<[f64; 3]> {
    let n1 = cross(a, b);
    let n2 = cross(c, d);
    let mut x = normalize(cross(n1, n2))?;
    let mid = add(add(a, b), add(c, d));
    if dot(x, mid) < 0.0 {
        x = scale(x, -1.0);
    }
    let on = |p: [f64; 3], q: [f64; 3], n: [f64; 3]| {
        dot(cross(p, x), n) >= -1e-15 && dot(cross(x, q), n) >= -1e-15
    };
    (on(a, b, n1) && on(c, d, n2)).then_some(x)
}

/// The crossing points of two sets of lines.
fn lines_crossings(l1: &[Vec<(f64, f64)>], l2: &[Vec<(f64, f64)>]) -> Vec<[f64; 3]> {
    let arcs = |ls: &[Vec<(f64, f64)>]| -> Vec<([f64; 3], [f64; 3])> {
        ls.iter()
            .flat_map(|l| l.windows(2).map(|w| (unit(w[0]), unit(w[1]))))
            .collect()
    };
    let (a1, a2) = (arcs(l1), arcs(l2));
    let mut out: Vec<[f64; 3]> = Vec::new();
    for &(a, b) in &a1 {
        for &(c, d) in &a2 {
            if let Some(x) = arcs_crossing(a, b, c, d) {
                if !out.iter().any(|p| angle_between(*p, x) < 1e-12) {
                    out.push(x);
                }
            }
        }
    }
    out
}

fn intersects_2lines_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    let result = (|| {
        let l1 = lines(&arg_json(args, 0)?)?;
        let l2 = lines(&arg_json(args, 1)?)?;
        Some(l1 == l2 || !lines_crossings(&l1, &l2).is_empty())
    })();
    Ok(ScalarValue::Boolean(result))
}

fn intersection_2lines_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    Ok(dynamic((|| {
        let g1 = arg_json(args, 0)?;
        let l1 = lines(&g1)?;
        let l2 = lines(&arg_json(args, 1)?)?;
        if l1 == l2 {
            return Some(g1);
        }
        let points = lines_crossings(&l1, &l2);
        Some(match points.as_slice() {
            [] => json!({"type": "GeometryCollection", "geometries": []}),
            [p] => point_value(*p),
            many => {
                let coords: Vec<Value> = many
                    .iter()
                    .map(|&v| {
                        let (x, y) = to_lnglat(v);
                        json!([x, y])
                    })
                    .collect();
                json!({"type": "MultiPoint", "coordinates": coords})
            }
        })
    })()))
}

/// Douglas-Peucker on the sphere: the vertices of `path` to keep so that every dropped vertex
/// is within `tolerance` radians of the simplified path.
fn simplify_path(path: &[(f64, f64)], tolerance: f64) -> Vec<(f64, f64)> {
    fn keep(points: &[[f64; 3]], lo: usize, hi: usize, tolerance: f64, out: &mut Vec<bool>) {
        if hi <= lo + 1 {
            return;
        }
        let (mut far, mut far_d) = (lo, -1.0);
        for (k, &p) in points.iter().enumerate().take(hi).skip(lo + 1) {
            let d = arc_distance(p, points[lo], points[hi]);
            if d > far_d {
                far = k;
                far_d = d;
            }
        }
        if far_d > tolerance {
            out[far] = true;
            keep(points, lo, far, tolerance, out);
            keep(points, far, hi, tolerance, out);
        }
    }
    let points: Vec<[f64; 3]> = path.iter().map(|&p| unit(p)).collect();
    let mut kept = vec![false; points.len()];
    kept[0] = true;
    let last = points.len() - 1;
    kept[last] = true;
    if points[0] == points[last] && last >= 2 {
        // A closed ring: split at the vertex farthest from the start.
        let far = (1..last)
            .max_by(|&a, &b| {
                angle_between(points[0], points[a]).total_cmp(&angle_between(points[0], points[b]))
            })
            .unwrap_or(1);
        kept[far] = true;
        keep(&points, 0, far, tolerance, &mut kept);
        keep(&points, far, last, tolerance, &mut kept);
    } else {
        keep(&points, 0, last, tolerance, &mut kept);
    }
    path.iter()
        .zip(kept)
        .filter_map(|(p, k)| k.then_some(*p))
        .collect()
}

/// The tolerance argument in radians (meters on the sphere), default 10 meters.
fn tolerance_arg(args: &[ScalarValue], i: usize) -> Option<f64> {
    let meters = if args.len() > i {
        arg_f64(args, i)?
    } else {
        10.0
    };
    (meters >= 0.0).then_some(meters / EARTH_RADIUS)
}

fn line_simplify_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    Ok(dynamic((|| {
        let g = arg_json(args, 0)?;
        let lines = lines(&g)?;
        let tolerance = tolerance_arg(args, 1)?;
        let mut out: Vec<Value> = Vec::new();
        for line in &lines {
            if path_length(line) / EARTH_RADIUS <= tolerance {
                continue;
            }
            let kept = simplify_path(line, tolerance);
            out.push(Value::Array(
                kept.iter().map(|&(x, y)| json!([x, y])).collect(),
            ));
        }
        match out.len() {
            0 => None,
            1 => Some(json!({"type": "LineString", "coordinates": out[0]})),
            _ => Some(json!({"type": "MultiLineString", "coordinates": out})),
        }
    })()))
}

pub(super) fn polygon_simplify_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    Ok(dynamic((|| {
        let polys = polygons(&arg_json(args, 0)?)?;
        let tolerance = tolerance_arg(args, 1)?;
        let mut out: Vec<Value> = Vec::new();
        for rings in &polys {
            let mut kept_rings: Vec<Value> = Vec::new();
            for (k, ring) in rings.iter().enumerate() {
                let kept = simplify_path(ring, tolerance);
                if kept.len() < 4 {
                    if k == 0 {
                        break;
                    }
                    continue;
                }
                kept_rings.push(Value::Array(
                    kept.iter().map(|&(x, y)| json!([x, y])).collect(),
                ));
            }
            if !kept_rings.is_empty() {
                out.push(Value::Array(kept_rings));
            }
        }
        match out.len() {
            0 => None,
            1 => Some(json!({"type": "Polygon", "coordinates": out[0]})),
            _ => Some(json!({"type": "MultiPolygon", "coordinates": out})),
        }
    })()))
}

// ---------------------------------------------------------------------------------------------
// WKT
// ---------------------------------------------------------------------------------------------

struct Wkt<'a> {
    text: &'a [u8],
    pos: usize,
}

impl Wkt<'_> {
    fn skip_ws(&mut self) {
        while self.pos < self.text.len() && self.text[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        self.skip_ws();
        if self.text.get(self.pos) == Some(&c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn word(&mut self) -> String {
        self.skip_ws();
        let start = self.pos;
        while self.pos < self.text.len() && self.text[self.pos].is_ascii_alphabetic() {
            self.pos += 1;
        }
        String::from_utf8_lossy(&self.text[start..self.pos]).to_ascii_uppercase()
    }

    fn number(&mut self) -> Option<f64> {
        self.skip_ws();
        let start = self.pos;
        while self.pos < self.text.len()
            && matches!(
                self.text[self.pos],
                b'0'..=b'9' | b'.' | b'-' | b'+' | b'e' | b'E'
            )
        {
            self.pos += 1;
        }
        std::str::from_utf8(&self.text[start..self.pos])
            .ok()?
            .parse()
            .ok()
    }

    fn point(&mut self) -> Option<Value> {
        let x = self.number()?;
        let y = self.number()?;
        // An optional Z (and M) coordinate is ignored.
        while matches!(self.peek(), Some(b'0'..=b'9' | b'-' | b'+' | b'.')) {
            self.number()?;
        }
        valid_point(x, y).then(|| json!([x, y]))
    }

    fn peek(&mut self) -> Option<u8> {
        self.skip_ws();
        self.text.get(self.pos).copied()
    }

    /// `(a, b, …)` where each item is parsed by `item`.
    fn list(&mut self, item: fn(&mut Self) -> Option<Value>) -> Option<Vec<Value>> {
        if !self.eat(b'(') {
            return None;
        }
        let mut out = vec![item(self)?];
        while self.eat(b',') {
            out.push(item(self)?);
        }
        self.eat(b')').then_some(out)
    }

    fn points(&mut self) -> Option<Value> {
        self.list(Self::point).map(Value::Array)
    }

    fn rings(&mut self) -> Option<Value> {
        self.list(Self::points).map(Value::Array)
    }

    fn multipoint_item(&mut self) -> Option<Value> {
        if self.peek() == Some(b'(') {
            self.pos += 1;
            let p = self.point()?;
            return self.eat(b')').then_some(p);
        }
        self.point()
    }

    fn geometry(&mut self) -> Option<Value> {
        let kind = self.word();
        let word = self.word();
        if !word.is_empty() && word != "Z" && word != "M" && word != "ZM" {
            return None;
        }
        Some(match kind.as_str() {
            "POINT" => {
                if !self.eat(b'(') {
                    return None;
                }
                let p = self.point()?;
                if !self.eat(b')') {
                    return None;
                }
                json!({"type": "Point", "coordinates": p})
            }
            "LINESTRING" => json!({"type": "LineString", "coordinates": self.points()?}),
            "POLYGON" => json!({"type": "Polygon", "coordinates": self.rings()?}),
            "MULTIPOINT" => {
                json!({"type": "MultiPoint", "coordinates": self.list(Self::multipoint_item)?})
            }
            "MULTILINESTRING" => {
                json!({"type": "MultiLineString", "coordinates": self.rings()?})
            }
            "MULTIPOLYGON" => {
                json!({"type": "MultiPolygon", "coordinates": self.list(Self::rings)?})
            }
            "GEOMETRYCOLLECTION" => {
                json!({"type": "GeometryCollection", "geometries": self.list(Self::geometry)?})
            }
            _ => return None,
        })
    }
}

fn from_wkt_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    let value = arg_str(args, 0).and_then(|text| {
        let mut parser = Wkt {
            text: text.as_bytes(),
            pos: 0,
        };
        let g = parser.geometry()?;
        parser.skip_ws();
        (parser.pos == parser.text.len()).then_some(g)
    });
    Ok(dynamic(value))
}

// ---------------------------------------------------------------------------------------------
// Geohash
// ---------------------------------------------------------------------------------------------

const BASE32: &[u8] = b"0123456789bcdefghjkmnpqrstuvwxyz";

fn geohash_encode(lng: f64, lat: f64, len: usize) -> String {
    let (mut lo_x, mut hi_x, mut lo_y, mut hi_y) = (-180.0, 180.0, -90.0, 90.0);
    let mut out = String::with_capacity(len);
    let mut even = true;
    for _ in 0..len {
        let mut index = 0usize;
        for _ in 0..5 {
            let (lo, hi, v) = if even {
                (&mut lo_x, &mut hi_x, lng)
            } else {
                (&mut lo_y, &mut hi_y, lat)
            };
            let mid = (*lo + *hi) / 2.0;
            index <<= 1;
            if v >= mid {
                index |= 1;
                *lo = mid;
            } else {
                *hi = mid;
            }
            even = !even;
        }
        out.push(BASE32[index] as char);
    }
    out
}

/// The box `(min_lng, min_lat, max_lng, max_lat)` of a geohash.
fn geohash_decode(hash: &str) -> Option<(f64, f64, f64, f64)> {
    if hash.is_empty() || hash.len() > 18 {
        return None;
    }
    let (mut lo_x, mut hi_x, mut lo_y, mut hi_y) = (-180.0, 180.0, -90.0, 90.0);
    let mut even = true;
    for c in hash.bytes() {
        let index = BASE32.iter().position(|&b| b == c.to_ascii_lowercase())?;
        for bit in (0..5).rev() {
            let (lo, hi) = if even {
                (&mut lo_x, &mut hi_x)
            } else {
                (&mut lo_y, &mut hi_y)
            };
            let mid = (*lo + *hi) / 2.0;
            if index >> bit & 1 == 1 {
                *lo = mid;
            } else {
                *hi = mid;
            }
            even = !even;
        }
    }
    Some((lo_x, lo_y, hi_x, hi_y))
}

fn box_polygon((x0, y0, x1, y1): (f64, f64, f64, f64)) -> Value {
    polygon_json(&[(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)])
}

fn point_to_geohash_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    Ok(string((|| {
        let (lng, lat) = args_point(args, 0)?;
        let accuracy = if args.len() > 2 { arg_i64(args, 2)? } else { 5 };
        (1..=18)
            .contains(&accuracy)
            .then(|| geohash_encode(lng, lat, accuracy as usize))
    })()))
}

fn geohash_center_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    Ok(dynamic((|| {
        let (x0, y0, x1, y1) = geohash_decode(arg_str(args, 0)?)?;
        Some(point_json((x0 + x1) / 2.0, (y0 + y1) / 2.0))
    })()))
}

fn geohash_polygon_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    Ok(dynamic((|| {
        Some(box_polygon(geohash_decode(arg_str(args, 0)?)?))
    })()))
}

fn geohash_neighbors_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    Ok(dynamic((|| {
        let hash = arg_str(args, 0)?;
        let (x0, y0, x1, y1) = geohash_decode(hash)?;
        let (w, h) = (x1 - x0, y1 - y0);
        let (cx, cy) = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
        // Kusto's order: W, SW, S, SE, NE, E, N, NW.
        let offsets = [
            (-1.0, 0.0),
            (-1.0, -1.0),
            (0.0, -1.0),
            (1.0, -1.0),
            (1.0, 1.0),
            (1.0, 0.0),
            (0.0, 1.0),
            (-1.0, 1.0),
        ];
        let mut out = Vec::new();
        for (dx, dy) in offsets {
            let y = cy + dy * h;
            if !(-90.0..=90.0).contains(&y) {
                continue;
            }
            let mut x = cx + dx * w;
            if x > 180.0 {
                x -= 360.0;
            } else if x < -180.0 {
                x += 360.0;
            }
            let n = geohash_encode(x, y, hash.len());
            if !out.contains(&n) && n != hash {
                out.push(n);
            }
        }
        Some(strings_json(out))
    })()))
}

// ---------------------------------------------------------------------------------------------
// H3
// ---------------------------------------------------------------------------------------------

fn h3_cell(args: &[ScalarValue], i: usize) -> Option<CellIndex> {
    CellIndex::from_str(arg_str(args, i)?.trim()).ok()
}

fn h3_text(cell: CellIndex) -> String {
    format!("{:x}", u64::from(cell))
}

fn resolution(value: i64) -> Option<Resolution> {
    u8::try_from(value)
        .ok()
        .and_then(|r| Resolution::try_from(r).ok())
}

fn point_to_h3_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    Ok(string((|| {
        let (lng, lat) = args_point(args, 0)?;
        let res = if args.len() > 2 { arg_i64(args, 2)? } else { 6 };
        let ll = LatLng::new(lat, lng).ok()?;
        Some(h3_text(ll.to_cell(resolution(res)?)))
    })()))
}

fn h3_level_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    let level = h3_cell(args, 0).map(|c| i32::from(u8::from(c.resolution())));
    Ok(ScalarValue::Int32(level))
}

fn h3_parent_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    Ok(string((|| {
        let cell = h3_cell(args, 0)?;
        let level = i64::from(u8::from(cell.resolution()));
        let res = if args.len() > 1 {
            arg_i64(args, 1)?
        } else {
            level - 1
        };
        if res >= level {
            return None;
        }
        Some(h3_text(cell.parent(resolution(res)?)?))
    })()))
}

fn h3_children_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    Ok(dynamic((|| {
        let cell = h3_cell(args, 0)?;
        let level = i64::from(u8::from(cell.resolution()));
        let res = if args.len() > 1 {
            arg_i64(args, 1)?
        } else {
            level + 1
        };
        if res < level || res - level > 5 {
            return None;
        }
        Some(strings_json(cell.children(resolution(res)?).map(h3_text)))
    })()))
}

fn h3_center_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    Ok(dynamic(h3_cell(args, 0).map(|cell| {
        let ll = LatLng::from(cell);
        point_json(ll.lng(), ll.lat())
    })))
}

fn h3_polygon_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    Ok(dynamic(h3_cell(args, 0).map(|cell| {
        let mut ring: Vec<(f64, f64)> =
            cell.boundary().iter().map(|v| (v.lng(), v.lat())).collect();
        if let Some(&first) = ring.first() {
            ring.push(first);
        }
        polygon_json(&ring)
    })))
}

fn h3_neighbors_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    Ok(dynamic(h3_cell(args, 0).map(|cell| {
        // The neighbor across each edge; for a hexagon in Kusto's order of H3's directions
        // (K, JK, J, IJ, IK, I).
        let mut cells: Vec<String> = cell.edges().map(|e| h3_text(e.destination())).collect();
        if cells.len() == 6 {
            cells = [0, 2, 1, 5, 4, 3]
                .iter()
                .map(|&i| cells[i].clone())
                .collect();
        }
        strings_json(cells)
    })))
}

/// The cells at grid distance `k`, in Kusto's order (H3's ring walk, starting one step on).
fn h3_ring(cell: CellIndex, k: u32) -> Vec<CellIndex> {
    let mut ring: Vec<CellIndex> = cell.grid_ring(k);
    if !ring.is_empty() {
        ring.rotate_left(1);
    }
    ring
}

fn h3_rings_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    Ok(dynamic((|| {
        let cell = h3_cell(args, 0)?;
        let k = u32::try_from(arg_i64(args, 1)?)
            .ok()
            .filter(|k| *k <= 142)?;
        let rings: Vec<Value> = (0..=k)
            .map(|d| strings_json(h3_ring(cell, d).into_iter().map(h3_text)))
            .collect();
        Some(Value::Array(rings))
    })()))
}

// ---------------------------------------------------------------------------------------------
// S2
// ---------------------------------------------------------------------------------------------

const S2_MAX_LEVEL: u32 = 30;
const S2_MAX_SIZE: u64 = 1 << S2_MAX_LEVEL;
/// Hilbert curve position of each `(i bit, j bit)` quadrant, by orientation.
const IJ_TO_POS: [[u64; 4]; 4] = [[0, 1, 3, 2], [0, 3, 1, 2], [2, 3, 1, 0], [2, 1, 3, 0]];
/// The quadrant `(i bit << 1 | j bit)` at each Hilbert position, by orientation.
const POS_TO_IJ: [[u64; 4]; 4] = [[0, 1, 3, 2], [0, 2, 3, 1], [3, 2, 0, 1], [3, 1, 0, 2]];
/// How the orientation changes entering each Hilbert position (swap = 1, invert = 2).
const POS_TO_ORIENTATION: [usize; 4] = [1, 0, 0, 3];

fn xyz_to_face_uv(p: [f64; 3]) -> (usize, f64, f64) {
    let abs = p.map(f64::abs);
    let axis = if abs[0] >= abs[1] && abs[0] >= abs[2] {
        0
    } else if abs[1] >= abs[2] {
        1
    } else {
        2
    };
    let face = if p[axis] < 0.0 { axis + 3 } else { axis };
    let [x, y, z] = p;
    let (u, v) = match face {
        0 => (y / x, z / x),
        1 => (-x / y, z / y),
        2 => (-x / z, -y / z),
        3 => (z / x, y / x),
        4 => (z / y, -x / y),
        _ => (-y / z, -x / z),
    };
    (face, u, v)
}

fn face_uv_to_xyz(face: usize, u: f64, v: f64) -> [f64; 3] {
    match face {
        0 => [1.0, u, v],
        1 => [-u, 1.0, v],
        2 => [-u, -v, 1.0],
        3 => [-1.0, -v, -u],
        4 => [v, -1.0, -u],
        _ => [v, u, -1.0],
    }
}

fn uv_to_st(u: f64) -> f64 {
    if u >= 0.0 {
        0.5 * (1.0 + 3.0 * u).sqrt()
    } else {
        1.0 - 0.5 * (1.0 - 3.0 * u).sqrt()
    }
}

fn st_to_uv(s: f64) -> f64 {
    if s >= 0.5 {
        (4.0 * s * s - 1.0) / 3.0
    } else {
        (1.0 - 4.0 * (1.0 - s) * (1.0 - s)) / 3.0
    }
}

fn st_to_ij(s: f64) -> u64 {
    ((S2_MAX_SIZE as f64 * s).floor()).clamp(0.0, (S2_MAX_SIZE - 1) as f64) as u64
}

/// The cell id of the leaf cell `(face, i, j)` raised to `level`.
fn s2_face_ij_id(face: usize, i: u64, j: u64, level: u32) -> u64 {
    let mut orientation = face & 1;
    let mut pos: u64 = 0;
    for k in (0..S2_MAX_LEVEL).rev() {
        let ij = (((i >> k) & 1) << 1 | ((j >> k) & 1)) as usize;
        let digit = IJ_TO_POS[orientation][ij];
        pos = pos << 2 | digit;
        orientation ^= POS_TO_ORIENTATION[digit as usize];
    }
    let leaf = (face as u64) << 61 | pos << 1 | 1;
    let lsb = 1u64 << (2 * (S2_MAX_LEVEL - level));
    (leaf & lsb.wrapping_neg()) | lsb
}

/// Like [`s2_face_ij_id`] for `(i, j)` that may lie just beyond the face: the leaf cell there
/// on the adjacent face.
fn s2_face_ij_wrap_id(face: usize, i: i64, j: i64, level: u32) -> u64 {
    let max = S2_MAX_SIZE as i64;
    if (0..max).contains(&i) && (0..max).contains(&j) {
        return s2_face_ij_id(face, i as u64, j as u64, level);
    }
    let (i, j) = (i.clamp(-1, max), j.clamp(-1, max));
    let scale = 1.0 / S2_MAX_SIZE as f64;
    let limit = 1.0 + f64::EPSILON;
    let u = (scale * (2 * (i - max / 2) + 1) as f64).clamp(-limit, limit);
    let v = (scale * (2 * (j - max / 2) + 1) as f64).clamp(-limit, limit);
    let (face, u, v) = xyz_to_face_uv(face_uv_to_xyz(face, u, v));
    s2_face_ij_id(
        face,
        st_to_ij(0.5 * (u + 1.0)),
        st_to_ij(0.5 * (v + 1.0)),
        level,
    )
}

fn s2_cell_id(lng: f64, lat: f64, level: u32) -> u64 {
    let (face, u, v) = xyz_to_face_uv(unit((lng, lat)));
    s2_face_ij_id(face, st_to_ij(uv_to_st(u)), st_to_ij(uv_to_st(v)), level)
}

/// The cells of the same level around a cell, in S2's order (below, beside, above).
fn s2_neighbors(face: usize, level: u32, i: u64, j: u64) -> Vec<u64> {
    let size = 1i64 << (S2_MAX_LEVEL - level);
    let (i, j) = (i as i64, j as i64);
    let mut out = Vec::with_capacity(8);
    let mut k = -size;
    loop {
        if k == 0 {
            out.push(s2_face_ij_wrap_id(face, i + k, j - size, level));
            out.push(s2_face_ij_wrap_id(face, i + k, j + size, level));
        }
        out.push(s2_face_ij_wrap_id(face, i - size, j + k, level));
        out.push(s2_face_ij_wrap_id(face, i + size, j + k, level));
        if k >= size {
            break;
        }
        k += size;
    }
    let mut unique: Vec<u64> = Vec::with_capacity(out.len());
    for id in out {
        if !unique.contains(&id) {
            unique.push(id);
        }
    }
    unique
}

/// The most cells a covering may have.
const MAX_COVERING: usize = 65_536;

/// The corners of a cell, counterclockwise in `(i, j)`.
fn s2_corners(face: usize, level: u32, i: u64, j: u64) -> [(f64, f64); 4] {
    let size = (1u64 << (S2_MAX_LEVEL - level)) as f64;
    let (i0, j0) = (i as f64, j as f64);
    let (i1, j1) = (i0 + size, j0 + size);
    [
        s2_point(face, i0, j0),
        s2_point(face, i1, j0),
        s2_point(face, i1, j1),
        s2_point(face, i0, j1),
    ]
}

/// Whether the cell `id` (at `level`) and a polygon share any point.
fn s2_cell_intersects(id: u64, level: u32, rings: &[Vec<(f64, f64)>]) -> bool {
    let Some((face, _, i, j)) = s2_decode(&s2_token(id)) else {
        return false;
    };
    if rings[0].iter().any(|&(x, y)| s2_cell_id(x, y, level) == id) {
        return true;
    }
    let corners = s2_corners(face, level, i, j);
    if corners.iter().any(|&c| polygon_contains(rings, c)) {
        return true;
    }
    let cell_edges: Vec<([f64; 3], [f64; 3])> = (0..4)
        .map(|k| (unit(corners[k]), unit(corners[(k + 1) % 4])))
        .collect();
    rings.iter().any(|ring| {
        ring.windows(2).any(|w| {
            let (a, b) = (unit(w[0]), unit(w[1]));
            cell_edges
                .iter()
                .any(|&(c, d)| arcs_crossing(a, b, c, d).is_some())
        })
    })
}

/// The cells of `level` covering the polygons, sorted by id; `None` past [`MAX_COVERING`].
fn s2_covering(polys: &[Polygon], level: u32) -> Option<Vec<u64>> {
    let mut found: Vec<u64> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut queue = std::collections::VecDeque::new();
    for rings in polys {
        for &(x, y) in &rings[0] {
            let id = s2_cell_id(x, y, level);
            if seen.insert(id) {
                queue.push_back((id, rings));
            }
        }
    }
    while let Some((id, rings)) = queue.pop_front() {
        if !s2_cell_intersects(id, level, rings) {
            continue;
        }
        found.push(id);
        if found.len() > MAX_COVERING {
            return None;
        }
        let (face, _, i, j) = s2_decode(&s2_token(id))?;
        for n in s2_neighbors(face, level, i, j) {
            if seen.insert(n) {
                queue.push_back((n, rings));
            }
        }
    }
    found.sort_unstable();
    Some(found)
}

fn polygon_to_s2cells_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    Ok(dynamic((|| {
        let polys = polygons(&arg_json(args, 0)?)?;
        let level = if args.len() > 1 {
            arg_i64(args, 1)?
        } else {
            11
        };
        let level = u32::try_from(level).ok().filter(|l| *l <= S2_MAX_LEVEL)?;
        if args.len() > 2 && arg_f64(args, 2)? != 0.0 {
            // A buffer radius is not supported yet.
            return None;
        }
        let cells = s2_covering(&polys, level)?;
        Some(strings_json(cells.into_iter().map(s2_token)))
    })()))
}

fn s2_neighbors_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    Ok(dynamic((|| {
        let (face, level, i, j) = s2_decode(arg_str(args, 0)?)?;
        Some(strings_json(
            s2_neighbors(face, level, i, j).into_iter().map(s2_token),
        ))
    })()))
}

fn s2_token(id: u64) -> String {
    let hex = format!("{id:016x}");
    let trimmed = hex.trim_end_matches('0');
    if trimmed.is_empty() {
        "X".to_string()
    } else {
        trimmed.to_string()
    }
}

/// Decodes a token into `(face, level, i0, j0)`, the cell's lower `(i, j)` corner.
fn s2_decode(token: &str) -> Option<(usize, u32, u64, u64)> {
    if token.is_empty() || token.len() > 16 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let id = u64::from_str_radix(&format!("{token:0<16}"), 16).ok()?;
    let face = (id >> 61) as usize;
    if id == 0 || face > 5 || id.trailing_zeros() % 2 != 0 {
        return None;
    }
    let level = S2_MAX_LEVEL - id.trailing_zeros() / 2;
    let mut orientation = face & 1;
    let (mut i, mut j) = (0u64, 0u64);
    for k in 0..level {
        let digit = (id >> (59 - 2 * k)) & 3;
        let ij = POS_TO_IJ[orientation][digit as usize];
        i = i << 1 | (ij >> 1);
        j = j << 1 | (ij & 1);
        orientation ^= POS_TO_ORIENTATION[digit as usize];
    }
    let shift = S2_MAX_LEVEL - level;
    Some((face, level, i << shift, j << shift))
}

fn xyz_to_lnglat(p: [f64; 3]) -> (f64, f64) {
    let lat = p[2].atan2((p[0] * p[0] + p[1] * p[1]).sqrt());
    let lng = p[1].atan2(p[0]);
    (lng.to_degrees(), lat.to_degrees())
}

fn s2_point(face: usize, i: f64, j: f64) -> (f64, f64) {
    let size = S2_MAX_SIZE as f64;
    xyz_to_lnglat(face_uv_to_xyz(face, st_to_uv(i / size), st_to_uv(j / size)))
}

fn point_to_s2_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    Ok(string((|| {
        let (lng, lat) = args_point(args, 0)?;
        let level = if args.len() > 2 {
            arg_i64(args, 2)?
        } else {
            11
        };
        let level = u32::try_from(level).ok().filter(|l| *l <= S2_MAX_LEVEL)?;
        Some(s2_token(s2_cell_id(lng, lat, level)))
    })()))
}

fn s2_center_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    Ok(dynamic((|| {
        let (face, level, i, j) = s2_decode(arg_str(args, 0)?)?;
        let half = (1u64 << (S2_MAX_LEVEL - level)) as f64 / 2.0;
        let (lng, lat) = s2_point(face, i as f64 + half, j as f64 + half);
        Some(point_json(lng, lat))
    })()))
}

fn s2_polygon_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    Ok(dynamic((|| {
        let (face, level, i, j) = s2_decode(arg_str(args, 0)?)?;
        let size = (1u64 << (S2_MAX_LEVEL - level)) as f64;
        let (i0, j0) = (i as f64, j as f64);
        let (i1, j1) = (i0 + size, j0 + size);
        let corners = [(i0, j0), (i1, j0), (i1, j1), (i0, j1), (i0, j0)];
        let ring: Vec<(f64, f64)> = corners.iter().map(|&(a, b)| s2_point(face, a, b)).collect();
        Some(polygon_json(&ring))
    })()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::functions::strings::tests::{arg, ctx, eval_scalar};
    use datafusion::logical_expr::lit;

    fn s(text: &str) -> PlannedArg {
        arg(lit(text), DataType::Utf8)
    }

    fn r(value: f64) -> PlannedArg {
        arg(lit(value), DataType::Float64)
    }

    fn n(value: i64) -> PlannedArg {
        arg(lit(value), DataType::Int64)
    }

    async fn call(name: &str, args: Vec<PlannedArg>) -> ScalarValue {
        eval_scalar(plan(name, &args, &ctx()).unwrap().unwrap()).await
    }

    fn text(value: ScalarValue) -> String {
        scalar_str(&value).unwrap_or("<null>").to_string()
    }

    #[tokio::test]
    async fn wkt_to_geojson() {
        let v = call("geo_from_wkt", vec![s("LINESTRING (1 2, 3 4)")]).await;
        assert_eq!(
            text(v),
            r#"{"type":"LineString","coordinates":[[1.0,2.0],[3.0,4.0]]}"#
        );
        let v = call("geo_from_wkt", vec![s("MULTIPOINT ((1 1), (2 2))")]).await;
        assert_eq!(
            text(v),
            r#"{"type":"MultiPoint","coordinates":[[1.0,1.0],[2.0,2.0]]}"#
        );
        assert!(call("geo_from_wkt", vec![s("LINESTRING")]).await.is_null());
    }

    #[tokio::test]
    async fn geohash_round_trip() {
        let v = call(
            "geo_point_to_geohash",
            vec![r(-80.195829), r(25.802215), n(8)],
        )
        .await;
        assert_eq!(text(v), "dhwfz15h");
        let v = call("geo_geohash_to_central_point", vec![s("sunny")]).await;
        assert_eq!(
            text(v),
            r#"{"type":"Point","coordinates":[42.47314453125,23.70849609375]}"#
        );
        assert!(call("geo_geohash_neighbors", vec![s("a")]).await.is_null());
    }

    #[tokio::test]
    async fn distances_on_the_sphere() {
        let v = call(
            "geo_distance_2points",
            vec![r(-122.407628), r(47.578557), r(-118.275287), r(34.019056)],
        )
        .await;
        let ScalarValue::Float64(Some(d)) = v else {
            panic!("not a real: {v:?}")
        };
        assert!((d - 1_546_754.351_973_809_5).abs() < 1e-6);
        let v = call(
            "geo_point_in_circle",
            vec![r(1.0), r(1.0), r(1.0), r(1.0), r(-1.0)],
        )
        .await;
        assert_eq!(v, ScalarValue::Boolean(None));
    }

    #[tokio::test]
    async fn h3_cells() {
        let v = call(
            "geo_point_to_h3cell",
            vec![r(-74.04450446039874), r(40.689250859314974), n(6)],
        )
        .await;
        assert_eq!(text(v), "862a1072fffffff");
        let v = call("geo_h3cell_parent", vec![s("862a1072fffffff"), n(1)]).await;
        assert_eq!(text(v), "812a3ffffffffff");
        let v = call("geo_h3cell_level", vec![s("abc")]).await;
        assert_eq!(v, ScalarValue::Int32(None));
    }

    #[tokio::test]
    async fn s2_cells() {
        let v = call("geo_point_to_s2cell", vec![r(10.1234), r(53.0), n(8)]).await;
        assert_eq!(text(v), "47b1d");
        let v = call("geo_s2cell_to_central_point", vec![s("1234567")]).await;
        let point: Value = serde_json::from_str(&text(v)).unwrap();
        let lng = point["coordinates"][0].as_f64().unwrap();
        let lat = point["coordinates"][1].as_f64().unwrap();
        assert!((lng - 9.86830731850408).abs() < 1e-12);
        assert!((lat - 27.468392925827605).abs() < 1e-12);
    }

    fn d(json: &str) -> PlannedArg {
        arg(
            Expr::Literal(ScalarValue::LargeUtf8(Some(json.to_string())), None),
            DataType::LargeUtf8,
        )
    }

    #[tokio::test]
    async fn lines_on_the_sphere() {
        let line =
            r#"{"type":"LineString","coordinates":[[-73.95796,40.80042],[-73.97317,40.764486]]}"#;
        let v = call("geo_line_centroid", vec![d(line)]).await;
        let point: Value = serde_json::from_str(&text(v)).unwrap();
        let lng = point["coordinates"][0].as_f64().unwrap();
        assert!((lng + 73.96556705723094).abs() < 1e-9);
        let v = call("geo_line_simplify", vec![d(line), r(100_000.0)]).await;
        assert!(v.is_null());
        let v = call("geo_intersects_2lines", vec![d(line), d(line)]).await;
        assert_eq!(v, ScalarValue::Boolean(Some(true)));
    }

    #[tokio::test]
    async fn polygon_covering() {
        let polygon = r#"{"type":"Polygon","coordinates":[[[0,0],[0,50],[100,50],[0,0]]]}"#;
        let v = call("geo_polygon_to_s2cells", vec![d(polygon), n(5)]).await;
        let cells: Value = serde_json::from_str(&text(v)).unwrap();
        assert_eq!(cells.as_array().unwrap().len(), 286);
        assert!(call("geo_polygon_to_s2cells", vec![d(polygon), n(30)])
            .await
            .is_null());
    }
}
