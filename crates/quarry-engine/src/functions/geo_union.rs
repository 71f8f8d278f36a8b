//! The boundary of the union of polygons whose regions may overlap (the polygons of a
//! MultiPolygon): each edge is cut where it crosses other polygons' edges, and the pieces
//! inside another polygon are dropped. Area and perimeter of the union follow from the
//! remaining directed pieces (Green's theorem on the sphere: a fan of signed triangles).

use super::geo::{polygon_contains, unit, Polygon, EARTH_RADIUS};

pub(super) type Vec3 = [f64; 3];

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

fn normalize(a: Vec3) -> Option<Vec3> {
    let n = dot(a, a).sqrt();
    (n > 0.0).then(|| [a[0] / n, a[1] / n, a[2] / n])
}

fn angle(a: Vec3, b: Vec3) -> f64 {
    let c = cross(a, b);
    dot(c, c).sqrt().atan2(dot(a, b))
}

pub(super) fn to_lnglat(v: Vec3) -> (f64, f64) {
    (
        v[1].atan2(v[0]).to_degrees(),
        v[2].atan2((v[0] * v[0] + v[1] * v[1]).sqrt()).to_degrees(),
    )
}

/// The signed spherical excess of the triangle `(o, b, c)`.
fn signed_excess(o: Vec3, b: Vec3, c: Vec3) -> f64 {
    let numerator = dot(o, cross(b, c));
    let denominator = 1.0 + dot(o, b) + dot(b, c) + dot(c, o);
    2.0 * numerator.atan2(denominator)
}

/// Where the arcs `ab` and `cd` cross strictly inside both, if they do.
fn crossing(a: Vec3, b: Vec3, c: Vec3, d: Vec3) -> Option<Vec3> {
    let n1 = cross(a, b);
    let n2 = cross(c, d);
    let n = cross(n1, n2);
    // Arcs on (nearly) the same great circle overlap rather than cross.
    if dot(n, n).sqrt() <= 1e-10 * dot(n1, n1).sqrt() * dot(n2, n2).sqrt() {
        return None;
    }
    let mut x = normalize(n)?;
    let mid = [
        a[0] + b[0] + c[0] + d[0],
        a[1] + b[1] + c[1] + d[1],
        a[2] + b[2] + c[2] + d[2],
    ];
    if dot(x, mid) < 0.0 {
        x = [-x[0], -x[1], -x[2]];
    }
    let inside = |p: Vec3, q: Vec3, n: Vec3| dot(cross(p, x), n) > 0.0 && dot(cross(x, q), n) > 0.0;
    // A meeting at an end point is a touch, not a crossing.
    let at_end = [a, b, c, d].iter().any(|&e| same_point(e, x));
    (!at_end && inside(a, b, n1) && inside(c, d, n2)).then_some(x)
}

/// Whether `p` lies on the arc `ab` (within a nanoradian).
pub(super) fn on_arc(p: Vec3, a: Vec3, b: Vec3) -> bool {
    (angle(a, p) + angle(p, b) - angle(a, b)).abs() < 1e-12
}

/// The rings of a polygon as unit vectors, shell counterclockwise and holes clockwise.
pub(super) fn oriented_rings(polygon: &Polygon) -> Vec<Vec<Vec3>> {
    polygon
        .iter()
        .enumerate()
        .map(|(k, ring)| {
            let mut points: Vec<Vec3> = ring[..ring.len() - 1].iter().map(|&p| unit(p)).collect();
            let o = points[0];
            let excess: f64 = points[1..]
                .windows(2)
                .map(|w| signed_excess(o, w[0], w[1]))
                .sum();
            if (excess > 0.0) != (k == 0) {
                points.reverse();
            }
            points
        })
        .collect()
}

/// The directed boundary pieces of the union of `polys`.
fn union_boundary(polys: &[Polygon]) -> Vec<(Vec3, Vec3)> {
    let rings: Vec<Vec<Vec<Vec3>>> = polys.iter().map(oriented_rings).collect();
    let edges = |i: usize| -> Vec<(Vec3, Vec3)> {
        rings[i]
            .iter()
            .flat_map(|ring| (0..ring.len()).map(move |k| (ring[k], ring[(k + 1) % ring.len()])))
            .collect()
    };
    let all_edges: Vec<Vec<(Vec3, Vec3)>> = (0..polys.len()).map(edges).collect();
    let mut pieces = Vec::new();
    for (i, own) in all_edges.iter().enumerate() {
        for &(a, b) in own {
            let mut cuts: Vec<Vec3> = Vec::new();
            for (j, other) in all_edges.iter().enumerate() {
                if j == i {
                    continue;
                }
                cuts.extend(other.iter().filter_map(|&(c, d)| crossing(a, b, c, d)));
            }
            cuts.sort_by(|p, q| angle(a, *p).total_cmp(&angle(a, *q)));
            let mut points = vec![a];
            points.extend(cuts);
            points.push(b);
            for w in points.windows(2) {
                let (p, q) = (w[0], w[1]);
                let Some(mid) = normalize([p[0] + q[0], p[1] + q[1], p[2] + q[2]]) else {
                    continue;
                };
                if keep_piece(i, p, q, mid, polys, &all_edges) {
                    pieces.push((p, q));
                }
            }
        }
    }
    pieces
}

/// Whether the piece `pq` of polygon `i` (midpoint `mid`) is on the union's boundary: not
/// inside another polygon; a piece shared with another polygon's edge is kept once when both
/// run the same way and dropped when they run opposite ways (the polygons abut there).
fn keep_piece(
    i: usize,
    p: Vec3,
    q: Vec3,
    mid: Vec3,
    polys: &[Polygon],
    all_edges: &[Vec<(Vec3, Vec3)>],
) -> bool {
    let lnglat = to_lnglat(mid);
    for (j, other) in all_edges.iter().enumerate() {
        if j == i {
            continue;
        }
        if let Some(&(c, d)) = other.iter().find(|&&(c, d)| on_arc(mid, c, d)) {
            let same_way = dot(cross(p, q), cross(c, d)) > 0.0;
            if !same_way || j < i {
                return false;
            }
            continue;
        }
        if polygon_contains(&polys[j], lnglat) {
            return false;
        }
    }
    true
}

/// The area (square meters) and perimeter (meters) of the union of `polys`.
pub(super) fn union_measures(polys: &[Polygon]) -> (f64, f64) {
    let pieces = union_boundary(polys);
    let Some(&(origin, _)) = pieces.first() else {
        return (0.0, 0.0);
    };
    let excess: f64 = pieces
        .iter()
        .map(|&(p, q)| signed_excess(origin, p, q))
        .sum();
    let excess = excess.abs();
    let steradians = excess.min(4.0 * std::f64::consts::PI - excess);
    let perimeter: f64 = pieces.iter().map(|&(p, q)| angle(p, q)).sum();
    (
        steradians * EARTH_RADIUS * EARTH_RADIUS,
        perimeter * EARTH_RADIUS,
    )
}

/// A region as loops of unit vectors: shells counterclockwise, holes clockwise.
pub(super) type Loops = Vec<Vec<Vec3>>;

/// The directed edges of `loops`, loop by loop.
pub(super) fn loop_edges(loops: &Loops) -> Vec<(Vec3, Vec3)> {
    loops
        .iter()
        .flat_map(|l| (0..l.len()).map(move |k| (l[k], l[(k + 1) % l.len()])))
        .collect()
}

/// Whether `p` is inside the region bounded by `edges` (a nonzero winding number).
pub(super) fn region_contains(edges: &[(Vec3, Vec3)], p: Vec3) -> bool {
    let total: f64 = edges
        .iter()
        .map(|&(a, b)| {
            let y = dot(p, cross(a, b));
            let x = dot(a, b) - dot(p, a) * dot(p, b);
            y.atan2(x)
        })
        .sum();
    total > std::f64::consts::PI
}

/// Whether two points are the same vertex (within a picoradian).
pub(super) fn same_point(a: Vec3, b: Vec3) -> bool {
    angle(a, b) < 1e-12
}

/// The pieces of `own` edges on the boundary of the union with the region of `other`.
pub(super) fn kept_pieces(
    own: &[(Vec3, Vec3)],
    other: &[(Vec3, Vec3)],
    keep_shared: bool,
    inside: bool,
    out: &mut Vec<(Vec3, Vec3)>,
) {
    for &(a, b) in own {
        let mut cuts: Vec<Vec3> = other
            .iter()
            .filter_map(|&(c, d)| crossing(a, b, c, d))
            .collect();
        // Another region's vertices lying on this edge also cut it (edges that overlap).
        cuts.extend(
            other
                .iter()
                .map(|&(c, _)| c)
                .filter(|&c| !same_point(c, a) && !same_point(c, b) && on_arc(c, a, b)),
        );
        cuts.sort_by(|p, q| angle(a, *p).total_cmp(&angle(a, *q)));
        let mut points = vec![a];
        points.extend(cuts);
        points.push(b);
        for w in points.windows(2) {
            let (p, q) = (w[0], w[1]);
            if same_point(p, q) {
                continue;
            }
            let Some(mid) = normalize([p[0] + q[0], p[1] + q[1], p[2] + q[2]]) else {
                continue;
            };
            let keep = match other.iter().find(|&&(c, d)| on_arc(mid, c, d)) {
                Some(&(c, d)) => keep_shared && dot(cross(p, q), cross(c, d)) > 0.0,
                None => region_contains(other, mid) == inside,
            };
            if keep {
                out.push((p, q));
            }
        }
    }
}

/// Chains directed pieces into loops; each loop starts at its lowest-numbered piece, as
/// S2's builder starts a loop at its edge of smallest input id.
pub(super) fn assemble(pieces: &[(Vec3, Vec3)]) -> Option<Loops> {
    let mut used = vec![false; pieces.len()];
    let mut loops = Vec::new();
    for start in 0..pieces.len() {
        if used[start] {
            continue;
        }
        let mut ring = Vec::new();
        let mut current = start;
        loop {
            used[current] = true;
            ring.push(pieces[current].0);
            let end = pieces[current].1;
            if same_point(end, pieces[start].0) {
                break;
            }
            current = (0..pieces.len()).find(|&k| !used[k] && same_point(pieces[k].0, end))?;
        }
        if ring.len() >= 3 {
            loops.push(ring);
        }
    }
    Some(loops)
}

/// The union of the regions `acc` and `next` (see `geo_intersection.rs` for the
/// intersection, which keeps the pieces inside instead).
fn union_two(acc: &Loops, next: &Loops) -> Option<Loops> {
    let (a, b) = (loop_edges(acc), loop_edges(next));
    let mut pieces = Vec::new();
    kept_pieces(&a, &b, true, false, &mut pieces);
    kept_pieces(&b, &a, false, false, &mut pieces);
    assemble(&pieces)
}

/// The signed spherical excess enclosed by a loop (positive when counterclockwise).
pub(super) fn loop_excess(ring: &[Vec3]) -> f64 {
    let o = ring[0];
    ring[1..]
        .windows(2)
        .map(|w| signed_excess(o, w[0], w[1]))
        .sum()
}

pub(super) fn ring_json(ring: &[Vec3]) -> serde_json::Value {
    let mut points: Vec<serde_json::Value> = ring
        .iter()
        .map(|&v| {
            let (x, y) = to_lnglat(v);
            serde_json::json!([x, y])
        })
        .collect();
    points.push(points[0].clone());
    serde_json::Value::Array(points)
}

/// The union of `polys` (each polygon of every input, in order) as GeoJSON: a Polygon, a
/// MultiPolygon, or an empty GeometryCollection.
pub(super) fn union_geojson(polys: &[Polygon]) -> Option<serde_json::Value> {
    // Unioned in input order; each loop starts at its piece of lowest input order.
    let mut acc: Loops = Vec::new();
    for polygon in polys {
        let next = oriented_rings(polygon);
        acc = if acc.is_empty() {
            next
        } else {
            union_two(&acc, &next)?
        };
    }
    let (shells, holes): (Vec<&Vec<Vec3>>, Vec<&Vec<Vec3>>) =
        acc.iter().partition(|l| loop_excess(l) > 0.0);
    let mut out: Vec<Vec<serde_json::Value>> = shells.iter().map(|s| vec![ring_json(s)]).collect();
    for hole in holes {
        let index = shells
            .iter()
            .position(|s| region_contains(&loop_edges(&vec![(*s).clone()]), hole[0]))
            .unwrap_or(0);
        if let Some(rings) = out.get_mut(index) {
            rings.push(ring_json(hole));
        }
    }
    Some(match out.len() {
        0 => serde_json::json!({"type": "GeometryCollection", "geometries": []}),
        1 => serde_json::json!({"type": "Polygon", "coordinates": out[0]}),
        _ => serde_json::json!({"type": "MultiPolygon", "coordinates": out}),
    })
}
