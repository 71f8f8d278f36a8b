//! `geo_polygon_to_h3cells(polygon, [resolution], [radius])`: the H3 cells whose centers lie
//! in the polygon (geodesic edges), or within `radius` meters of it; null when an argument is
//! invalid or the cells would be more than Kusto's limit.

use super::geo::{
    arg_f64, arg_i64, arg_json, dynamic, path_distance, polygon_contains, polygons, unit, Polygon,
    EARTH_RADIUS,
};
use datafusion::common::{Result as DfResult, ScalarValue};
use h3o::{CellIndex, LatLng, Resolution};
use serde_json::Value;
use std::collections::HashSet;

/// Kusto's most cells per polygon.
const MAX_CELLS: usize = 61_680;
/// The most candidate cells examined before giving up (a disk of radius ~1,300 cells).
const MAX_CANDIDATES: u64 = 5_000_000;

/// Whether a cell center is in the polygon or within `radius` meters of its boundary.
fn covers(polygon: &Polygon, p: (f64, f64), radius: f64) -> bool {
    if polygon_contains(polygon, p) {
        return true;
    }
    radius > 0.0 && {
        let v = unit(p);
        polygon
            .iter()
            .any(|ring| path_distance(v, ring) * EARTH_RADIUS <= radius)
    }
}

/// The cells of one polygon, appended to `out` (without duplicates).
fn polygon_cells(
    polygon: &Polygon,
    res: Resolution,
    radius: f64,
    out: &mut Vec<CellIndex>,
    seen: &mut HashSet<CellIndex>,
) -> Option<()> {
    let shell = &polygon[0];
    let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for &(x, y) in shell {
        x0 = x0.min(x);
        y0 = y0.min(y);
        x1 = x1.max(x);
        y1 = y1.max(y);
    }
    let center = LatLng::new((y0 + y1) / 2.0, (x0 + x1) / 2.0).ok()?;
    let center_v = unit((center.lng(), center.lat()));
    // The farthest the shell (and the radius around it) reaches from the box center, in
    // cell edge lengths; center spacing is √3 edges, so this many rings surely cover it.
    let reach = shell
        .iter()
        .map(|&p| {
            let v = unit(p);
            let c = [
                center_v[1] * v[2] - center_v[2] * v[1],
                center_v[2] * v[0] - center_v[0] * v[2],
                center_v[0] * v[1] - center_v[1] * v[0],
            ];
            (c[0] * c[0] + c[1] * c[1] + c[2] * c[2])
                .sqrt()
                .atan2(center_v[0] * v[0] + center_v[1] * v[1] + center_v[2] * v[2])
        })
        .fold(0.0, f64::max)
        * EARTH_RADIUS
        + radius;
    // Edge lengths vary by about a factor of two over the globe: use half the mean.
    let k = (reach / (0.5 * res.edge_length_m())).ceil() as u64 + 2;
    if 3 * k * (k + 1) + 1 > MAX_CANDIDATES {
        return None;
    }
    let origin = center.to_cell(res);
    for cell in origin.grid_disk::<Vec<_>>(u32::try_from(k).ok()?) {
        let ll = LatLng::from(cell);
        if covers(polygon, (ll.lng(), ll.lat()), radius) && seen.insert(cell) {
            out.push(cell);
            if out.len() > MAX_CELLS {
                return None;
            }
        }
    }
    Some(())
}

/// `geo_polygon_to_h3cells(polygon, [resolution], [radius])`.
pub(super) fn polygon_to_h3cells_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    Ok(dynamic((|| {
        let polys = polygons(&arg_json(args, 0)?)?;
        let res = if args.len() > 1 { arg_i64(args, 1)? } else { 6 };
        let res = Resolution::try_from(u8::try_from(res).ok()?).ok()?;
        let radius = if args.len() > 2 {
            arg_f64(args, 2)?
        } else {
            0.0
        };
        if !(radius.is_finite() && radius >= 0.0) {
            return None;
        }
        let mut cells = Vec::new();
        let mut seen = HashSet::new();
        for polygon in &polys {
            polygon_cells(polygon, res, radius, &mut cells, &mut seen)?;
        }
        Some(Value::Array(
            cells
                .into_iter()
                .map(|c| Value::String(format!("{:x}", u64::from(c))))
                .collect(),
        ))
    })()))
}
