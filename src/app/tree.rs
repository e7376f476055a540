//! The semantic-ID hierarchy as plain data for browsing: level-1 codes, then level-2 codes under
//! each, and so on down to the items, with counts.

use tiger_core::ids::SemanticIds;

/// One node of the hierarchy: a code at some level, the items below it and its children.
#[derive(Debug, Clone, PartialEq)]
pub struct IdNode {
    /// The code at this node's level.
    pub code: u32,
    /// Items below this node.
    pub count: usize,
    /// Child codes at the next level, ascending (empty at the last level).
    pub children: Vec<IdNode>,
    /// At the last level: the items with this full code prefix, in catalogue order.
    pub items: Vec<u32>,
}

/// Builds the forest of level-1 nodes. Linear after one sort by codes.
pub fn build(ids: &SemanticIds) -> Vec<IdNode> {
    let mut order: Vec<u32> = (0..ids.len() as u32).collect();
    order.sort_by(|&a, &b| {
        ids.codes_of(a as usize)
            .cmp(ids.codes_of(b as usize))
            .then(a.cmp(&b))
    });
    group(ids, &order, 0)
}

fn group(ids: &SemanticIds, items: &[u32], level: usize) -> Vec<IdNode> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < items.len() {
        let code = ids.codes_of(items[start] as usize)[level];
        let mut end = start;
        while end < items.len() && ids.codes_of(items[end] as usize)[level] == code {
            end += 1;
        }
        let slice = &items[start..end];
        let last = level + 1 == ids.levels;
        out.push(IdNode {
            code,
            count: slice.len(),
            children: if last {
                Vec::new()
            } else {
                group(ids, slice, level + 1)
            },
            items: if last { slice.to_vec() } else { Vec::new() },
        });
        start = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_by_level_with_counts() {
        let ids = SemanticIds::assign(vec![1, 2, 0, 5, 1, 2, 1, 3], 2);
        let forest = build(&ids);
        assert_eq!(
            forest.iter().map(|n| (n.code, n.count)).collect::<Vec<_>>(),
            vec![(0, 1), (1, 3)]
        );
        let one = &forest[1];
        assert_eq!(
            one.children
                .iter()
                .map(|n| (n.code, n.count))
                .collect::<Vec<_>>(),
            vec![(2, 2), (3, 1)]
        );
        assert_eq!(one.children[0].items, vec![0, 2]);
    }
}
