//! `geo_line_densify` and `geo_polygon_densify`: planar edges (straight in longitude/latitude)
//! become chains of geodesic edges. Each edge is bisected in the plane until, at two probe
//! fractions, the geodesic between its ends lies within the scaled tolerance of the planar
//! edge, as S2's edge tessellator does; every output vertex goes through the unit sphere and
//! back, so its coordinates carry that round trip's rounding exactly as Kusto's do.

use super::dynamic::scalar_f64;
use super::dynamic::scalar_to_json;
use datafusion::common::{Result as DfResult, ScalarValue};
use serde_json::{json, Value};

/// Kusto's mean Earth radius in meters.
const EARTH_RADIUS: f64 = 6_371_010.0;
/// Where the planar and geodesic edges are compared, as a fraction of the edge.
const PROBE_FRACTION: f64 = 0.312_156_910_822_483_15;
/// The error at the probes is at most this fraction of the largest error along the edge.
const ERROR_SCALE: f64 = 0.838_299_925_698_885_1;
/// How far from ±180° a line cut at the antimeridian ends.
const ANTIMERIDIAN_INSET: f64 = 1e-12;
/// The most bisections of one edge (2^20 pieces).
const MAX_DEPTH: u32 = 20;

type Vec3 = [f64; 3];

fn dot(a: Vec3, b: Vec3) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

fn cross(a: Vec3, b: Vec3) -> Vec3 {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

fn normalize(a: Vec3) -> Vec3 {
    let n = dot(a, a).sqrt();
    if n == 0.0 {
        a
    } else {
        [a[0] / n, a[1] / n, a[2] / n]
    }
}

fn angle(a: Vec3, b: Vec3) -> f64 {
    let c = cross(a, b);
    dot(c, c).sqrt().atan2(dot(a, b))
}

/// The unit vector of a planar `(lng, lat)` point; the longitude may lie outside ±180°.
fn unproject(p: (f64, f64)) -> Vec3 {
    let lat = (p.1 * (std::f64::consts::PI / 180.0))
        .clamp(-std::f64::consts::FRAC_PI_2, std::f64::consts::FRAC_PI_2);
    let lng = p.0 * (std::f64::consts::PI / 180.0);
    // Wrapped into [-π, π] like S2's `S2LatLng::Normalized` (an exact subtraction for one turn).
    let lng = if lng.abs() > std::f64::consts::PI {
        lng - std::f64::consts::TAU * (lng / std::f64::consts::TAU).round()
    } else {
        lng
    };
    let c = lat.cos();
    [lng.cos() * c, lng.sin() * c, lat.sin()]
}

/// `(lng, lat)` in degrees of a unit vector.
fn to_lnglat(v: Vec3) -> (f64, f64) {
    let lng = v[1].atan2(v[0]) * (180.0 / std::f64::consts::PI);
    let lat = v[2].atan2((v[0] * v[0] + v[1] * v[1]).sqrt()) * (180.0 / std::f64::consts::PI);
    (lng, lat)
}

/// The point a fraction `t` along the geodesic from `a` to `b`.
fn interpolate(a: Vec3, b: Vec3, t: f64) -> Vec3 {
    let theta = angle(a, b) * t;
    let dir = normalize(cross(cross(a, b), a));
    normalize([
        theta.cos() * a[0] + theta.sin() * dir[0],
        theta.cos() * a[1] + theta.sin() * dir[1],
        theta.cos() * a[2] + theta.sin() * dir[2],
    ])
}

fn lerp(pa: (f64, f64), pb: (f64, f64), t: f64) -> (f64, f64) {
    ((1.0 - t) * pa.0 + t * pb.0, (1.0 - t) * pa.1 + t * pb.1)
}

/// The larger distance (radians) between the geodesic and the planar edge at the probes.
fn estimate_error(pa: (f64, f64), a: Vec3, pb: (f64, f64), b: Vec3) -> f64 {
    // Edges over 90° are always split: the estimate is not reliable for them.
    if dot(a, b) < -1e-14 {
        return f64::INFINITY;
    }
    [PROBE_FRACTION, 1.0 - PROBE_FRACTION]
        .iter()
        .map(|&t| angle(interpolate(a, b, t), unproject(lerp(pa, pb, t))))
        .fold(0.0, f64::max)
}

#[allow(clippy::too_many_arguments)]
fn tessellate(
    pa: (f64, f64),
    a: Vec3,
    pb: (f64, f64),
    b: Vec3,
    tolerance: f64,
    depth: u32,
    out: &mut Vec<Vec3>,
) {
    if depth >= MAX_DEPTH || estimate_error(pa, a, pb, b) <= tolerance {
        out.push(b);
        return;
    }
    let pm = lerp(pa, pb, 0.5);
    let m = unproject(pm);
    tessellate(pa, a, pm, m, tolerance, depth + 1, out);
    tessellate(pm, m, pb, b, tolerance, depth + 1, out);
}

/// The geodesic chain of the planar path `path`; `tolerance` in meters.
fn densify(path: &[(f64, f64)], tolerance: f64) -> Vec<Vec3> {
    let tolerance = ERROR_SCALE * tolerance / EARTH_RADIUS;
    let mut out = vec![unproject(path[0])];
    for w in path.windows(2) {
        tessellate(
            w[0],
            unproject(w[0]),
            w[1],
            unproject(w[1]),
            tolerance,
            0,
            &mut out,
        );
    }
    out
}

/// Splits a geodesic chain where it crosses the antimeridian, into `(lng, lat)` pieces.
fn split_antimeridian(points: &[Vec3]) -> Vec<Vec<(f64, f64)>> {
    let mut pieces = vec![vec![to_lnglat(points[0])]];
    for w in points.windows(2) {
        let (a, b) = (w[0], w[1]);
        let (pa, pb) = (to_lnglat(a), to_lnglat(b));
        if (pb.0 - pa.0).abs() > 180.0 {
            // Where the great circle through a and b meets the half plane y = 0, x < 0.
            let mut p = cross(cross(a, b), [0.0, 1.0, 0.0]);
            if p[0] > 0.0 {
                p = [-p[0], -p[1], -p[2]];
            }
            let lat = to_lnglat(p).1;
            let edge = 180.0 - ANTIMERIDIAN_INSET;
            let side = if pa.0 < 0.0 { -1.0 } else { 1.0 };
            if let Some(last) = pieces.last_mut() {
                last.push((side * edge, lat));
            }
            pieces.push(vec![(-side * edge, lat)]);
        }
        if let Some(last) = pieces.last_mut() {
            last.push(pb);
        }
    }
    pieces
}

fn coords_json(points: &[(f64, f64)]) -> Value {
    Value::Array(points.iter().map(|&(x, y)| json!([x, y])).collect())
}

/// A `[lng, lat]` pair: any finite longitude (densify reads edges in the plane), a valid
/// latitude.
fn coord(value: &Value) -> Option<(f64, f64)> {
    let items = value.as_array()?;
    let (lng, lat) = (items.first()?.as_f64()?, items.get(1)?.as_f64()?);
    (lng.is_finite() && (-90.0..=90.0).contains(&lat)).then_some((lng, lat))
}

fn path(value: &Value) -> Option<Vec<(f64, f64)>> {
    value.as_array()?.iter().map(coord).collect()
}

fn tolerance(args: &[ScalarValue]) -> Option<f64> {
    let meters = match args.get(1) {
        Some(value) => scalar_f64(value)?,
        None => 10.0,
    };
    (0.1..=10_000.0).contains(&meters).then_some(meters)
}

fn dynamic(value: Option<Value>) -> ScalarValue {
    ScalarValue::LargeUtf8(value.map(|v| v.to_string()))
}

/// `geo_line_densify(line, [tolerance])`.
pub(super) fn line_densify_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    Ok(dynamic((|| {
        let g = args.first().and_then(scalar_to_json)?;
        let c = g.get("coordinates")?;
        let single = g.get("type")?.as_str()? == "LineString";
        let lines: Vec<Vec<(f64, f64)>> = match g.get("type")?.as_str()? {
            "LineString" => vec![path(c)?],
            "MultiLineString" => c.as_array()?.iter().map(path).collect::<Option<_>>()?,
            _ => return None,
        };
        if lines.iter().any(|l| l.len() < 2) {
            return None;
        }
        let tolerance = tolerance(args)?;
        let mut out: Vec<Vec<(f64, f64)>> = Vec::new();
        for line in &lines {
            out.extend(split_antimeridian(&densify(line, tolerance)));
        }
        Some(if single && out.len() == 1 {
            json!({"type": "LineString", "coordinates": coords_json(&out[0])})
        } else {
            let items: Vec<Value> = out.iter().map(|l| coords_json(l)).collect();
            json!({"type": "MultiLineString", "coordinates": items})
        })
    })()))
}

/// Twice the signed planar area of a closed ring (positive when counterclockwise).
fn signed_area(ring: &[(f64, f64)]) -> f64 {
    ring.windows(2)
        .map(|w| w[0].0 * w[1].1 - w[1].0 * w[0].1)
        .sum()
}

/// A ring in the orientation S2 keeps: shells counterclockwise, holes clockwise. A ring the
/// other way round has its vertex list reversed (the closing vertex dropped first), as
/// `S2Loop::Invert` does.
fn oriented(ring: &[(f64, f64)], shell: bool) -> Vec<(f64, f64)> {
    let ccw = signed_area(ring) > 0.0;
    if ccw == shell {
        return ring.to_vec();
    }
    let mut open = ring[..ring.len() - 1].to_vec();
    open.reverse();
    open.push(open[0]);
    open
}

/// `geo_polygon_densify(polygon, [tolerance])`.
pub(super) fn polygon_densify_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    Ok(dynamic((|| {
        let g = args.first().and_then(scalar_to_json)?;
        let c = g.get("coordinates")?;
        let ring_list = |p: &Value| -> Option<Vec<Vec<(f64, f64)>>> {
            let rings: Vec<Vec<(f64, f64)>> =
                p.as_array()?.iter().map(path).collect::<Option<_>>()?;
            let valid = !rings.is_empty()
                && rings.iter().all(|r| {
                    r.len() >= 4 && r.first() == r.last() && r.iter().all(|p| p.0.abs() <= 180.0)
                });
            valid.then_some(rings)
        };
        let polys: Vec<Vec<Vec<(f64, f64)>>> = match g.get("type")?.as_str()? {
            "Polygon" => vec![ring_list(c)?],
            "MultiPolygon" => c.as_array()?.iter().map(ring_list).collect::<Option<_>>()?,
            _ => return None,
        };
        let tolerance = tolerance(args)?;
        let out: Vec<Value> = polys
            .iter()
            .map(|rings| {
                Value::Array(
                    rings
                        .iter()
                        .enumerate()
                        .map(|(k, r)| {
                            let dense = densify(&oriented(r, k == 0), tolerance);
                            let points: Vec<(f64, f64)> =
                                dense.into_iter().map(to_lnglat).collect();
                            coords_json(&points)
                        })
                        .collect(),
                )
            })
            .collect();
        Some(if out.len() == 1 {
            json!({"type": "Polygon", "coordinates": out[0]})
        } else {
            json!({"type": "MultiPolygon", "coordinates": out})
        })
    })()))
}
