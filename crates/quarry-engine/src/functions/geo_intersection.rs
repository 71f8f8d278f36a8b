//! `geo_intersection_2polygons(a, b)`: the intersection of two (multi)polygons, part by part:
//! the boundary pieces of each part inside the other, chained into loops (a part of `a`
//! first, so a loop starts at its first piece of `a`); parts that only touch give Points.
//! One result is returned as itself, several as a GeometryCollection (points first), none
//! as an empty GeometryCollection.

use super::geo::{arg_json, dynamic, polygons};
use super::geo_union::{
    assemble, kept_pieces, loop_edges, loop_excess, on_arc, oriented_rings, region_contains,
    ring_json, same_point, to_lnglat, Loops, Vec3,
};
use datafusion::common::{Result as DfResult, ScalarValue};
use serde_json::{json, Value};

/// The points where the boundaries of `a` and `b` touch: vertices of one on the other.
fn touch_points(a: &[(Vec3, Vec3)], b: &[(Vec3, Vec3)]) -> Vec<Vec3> {
    let mut out: Vec<Vec3> = Vec::new();
    for (own, other) in [(a, b), (b, a)] {
        for &(v, _) in own {
            if other
                .iter()
                .any(|&(c, d)| on_arc(v, c, d) || same_point(v, c))
                && !out.iter().any(|&p| same_point(p, v))
            {
                out.push(v);
            }
        }
    }
    out
}

/// The intersection of two single-polygon regions: its loops, or its touching points.
fn intersect(a: &Loops, b: &Loops) -> Option<(Loops, Vec<Vec3>)> {
    let (ea, eb) = (loop_edges(a), loop_edges(b));
    let mut pieces = Vec::new();
    kept_pieces(&ea, &eb, true, true, &mut pieces);
    kept_pieces(&eb, &ea, false, true, &mut pieces);
    let loops = assemble(&pieces)?;
    if !loops.is_empty() {
        return Some((loops, Vec::new()));
    }
    Some((Vec::new(), touch_points(&ea, &eb)))
}

fn loops_json(loops: &Loops) -> Vec<Value> {
    let (shells, holes): (Vec<&Vec<Vec3>>, Vec<&Vec<Vec3>>) =
        loops.iter().partition(|l| loop_excess(l) > 0.0);
    let mut out: Vec<Vec<Value>> = shells.iter().map(|s| vec![ring_json(s)]).collect();
    for hole in holes {
        let index = shells
            .iter()
            .position(|s| region_contains(&loop_edges(&vec![(*s).clone()]), hole[0]))
            .unwrap_or(0);
        if let Some(rings) = out.get_mut(index) {
            rings.push(ring_json(hole));
        }
    }
    out.into_iter()
        .map(|rings| json!({"type": "Polygon", "coordinates": rings}))
        .collect()
}

/// `geo_intersection_2polygons(polygon1, polygon2)`.
pub(super) fn intersection_2polygons_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    Ok(dynamic((|| {
        let a = polygons(&arg_json(args, 0)?)?;
        let b = polygons(&arg_json(args, 1)?)?;
        let mut points: Vec<Value> = Vec::new();
        let mut shapes: Vec<Value> = Vec::new();
        for pa in &a {
            for pb in &b {
                let (loops, touches) = intersect(&oriented_rings(pa), &oriented_rings(pb))?;
                shapes.extend(loops_json(&loops));
                for t in touches {
                    let (x, y) = to_lnglat(t);
                    points.push(json!({"type": "Point", "coordinates": [x, y]}));
                }
            }
        }
        let mut all = points;
        let polygons_only = all.is_empty();
        all.extend(shapes);
        Some(match all.len() {
            1 => all.remove(0),
            n if n > 1 && polygons_only => json!({
                "type": "MultiPolygon",
                "coordinates": all.iter().map(|g| g["coordinates"].clone()).collect::<Vec<_>>()
            }),
            _ => json!({"type": "GeometryCollection", "geometries": all}),
        })
    })()))
}
