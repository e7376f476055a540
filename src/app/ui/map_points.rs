//! Which colour each point of the map takes: by its code one level below the focused code, or
//! dimmed outside the focus; the drawing order that puts the focus on top; the coloured groups'
//! centroids where their labels go; and the hover search.

use tiger_core::ids::SemanticIds;

use super::point_cloud::PointInstance;

/// Colour of points outside the focus.
pub const DIMMED: [u8; 4] = [90, 90, 100, 45];

/// Colour of a level-1 code: hues spread by the golden ratio so neighbouring codes differ.
pub fn code_color(code: u32) -> [u8; 4] {
    let hue = (code as f32 * 0.618_034).fract();
    let c: egui::Color32 = egui::ecolor::Hsva::new(hue, 0.75, 0.95, 1.0).into();
    [c.r(), c.g(), c.b(), 230]
}

/// Each coloured group of a focused map: its code prefix, centroid and size, largest first.
pub type Groups = Vec<(Vec<u32>, [f32; 2], usize)>;

/// Colours the points for a focus: inside it each point takes the colour of its code one level
/// below the focus (or one colour at the last level); outside it is dimmed. Returns the points and
/// the coloured groups with their centroids.
pub fn colour_points(
    map: &[[f32; 2]],
    ids: Option<&SemanticIds>,
    focus: &[u32],
) -> (Vec<PointInstance>, Groups) {
    let depth = focus.len();
    let mut sums: std::collections::HashMap<u32, ([f64; 2], usize)> = Default::default();
    let points: Vec<PointInstance> = map
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let color = match ids.filter(|ids| i < ids.len()) {
                Some(ids) => {
                    let codes = ids.codes_of(i);
                    if !codes.starts_with(focus) {
                        DIMMED
                    } else {
                        let code = codes.get(depth).copied().unwrap_or(0);
                        let e = sums.entry(code).or_insert(([0.0; 2], 0));
                        e.0[0] += p[0] as f64;
                        e.0[1] += p[1] as f64;
                        e.1 += 1;
                        code_color(code)
                    }
                }
                None => [170, 170, 190, 200],
            };
            PointInstance {
                position: *p,
                color,
            }
        })
        .collect();
    let mut groups: Groups = sums
        .into_iter()
        .filter(|_| ids.is_some_and(|ids| depth < ids.levels))
        .map(|(code, (s, n))| {
            let mut prefix = focus.to_vec();
            prefix.push(code);
            let c = [(s[0] / n as f64) as f32, (s[1] / n as f64) as f32];
            (prefix, c, n)
        })
        .collect();
    groups.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)));
    (points, groups)
}

/// The point nearest to `at` within `reach` (data units), searched every frame the pointer is
/// over the map.
pub fn nearest(points: &[PointInstance], at: [f32; 2], reach: f32) -> Option<u32> {
    points
        .iter()
        .enumerate()
        .map(|(i, q)| {
            let d = (q.position[0] - at[0]).powi(2) + (q.position[1] - at[1]).powi(2);
            (i, d)
        })
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .filter(|(_, d)| *d <= reach * reach)
        .map(|(i, _)| i as u32)
}

/// The drawing order: dimmed points first, so that the focus's lie on top of them, each group in
/// item order. Returns the item of each instance and the instance of each item.
pub fn draw_order(coloured: &[PointInstance]) -> (Vec<u32>, Vec<u32>) {
    let mut order: Vec<u32> = (0..coloured.len() as u32).collect();
    order.sort_by_key(|&i| coloured[i as usize].color != DIMMED);
    let mut slot = vec![0u32; coloured.len()];
    for (k, &i) in order.iter().enumerate() {
        slot[i as usize] = k as u32;
    }
    (order, slot)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::ui::point_cloud::ViewUniform;

    #[test]
    fn neighbouring_codes_get_distinct_colours() {
        for c in 0..255u32 {
            let (a, b) = (code_color(c), code_color(c + 1));
            let diff: i32 = (0..3).map(|k| (a[k] as i32 - b[k] as i32).abs()).sum();
            assert!(diff > 40, "codes {c} and {} look alike: {a:?} {b:?}", c + 1);
        }
    }

    #[test]
    fn a_focus_colours_its_children_and_dims_the_rest() {
        // Four items, two levels: (0,1) (0,2) (0,2) (3,1).
        let ids = SemanticIds::assign(vec![0, 1, 0, 2, 0, 2, 3, 1], 2);
        let map = [[0.0, 0.0], [2.0, 0.0], [4.0, 2.0], [9.0, 9.0]];
        let (all, groups) = colour_points(&map, Some(&ids), &[]);
        assert_eq!(all[0].color, code_color(0));
        assert_eq!(all[3].color, code_color(3));
        assert_eq!(groups[0], (vec![0], [2.0, 2.0 / 3.0], 3));
        assert_eq!(groups[1], (vec![3], [9.0, 9.0], 1));
        // Focused on code 0: its items take their level-2 colours, item 3 is dimmed.
        let (focused, groups) = colour_points(&map, Some(&ids), &[0]);
        assert_eq!(focused[0].color, code_color(1));
        assert_eq!(focused[1].color, code_color(2));
        assert_eq!(focused[3].color, DIMMED);
        assert_eq!(groups[0], (vec![0, 2], [3.0, 1.0], 2));
        assert_eq!(groups[1], (vec![0, 1], [0.0, 0.0], 1));
        // The dimmed item is drawn first, under the focus; instance and item map both ways.
        let (order, slot) = draw_order(&focused);
        assert_eq!(order, vec![3, 0, 1, 2]);
        assert_eq!(slot, vec![1, 2, 3, 0]);
        // At the last level there is nothing below to label.
        let (last, groups) = colour_points(&map, Some(&ids), &[0, 2]);
        assert_eq!(last[0].color, DIMMED);
        assert_ne!(last[1].color, DIMMED);
        assert!(groups.is_empty());
    }

    #[test]
    fn the_hovered_point_is_the_nearest_within_reach() {
        let points: Vec<PointInstance> = [[0.0, 0.0], [1.0, 0.0], [5.0, 5.0]]
            .into_iter()
            .map(|position| PointInstance {
                position,
                color: DIMMED,
            })
            .collect();
        assert_eq!(nearest(&points, [0.9, 0.1], 0.5), Some(1));
        assert_eq!(nearest(&points, [0.2, 0.0], 0.5), Some(0));
        assert_eq!(nearest(&points, [3.0, 3.0], 0.5), None);
        assert_eq!(nearest(&[], [0.0, 0.0], 1.0), None);
    }

    #[test]
    fn instances_are_twelve_bytes() {
        assert_eq!(std::mem::size_of::<PointInstance>(), 12);
        assert_eq!(std::mem::size_of::<ViewUniform>(), 32);
    }
}
