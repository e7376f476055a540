//! A prefix trie over the catalogue's full semantic IDs (L codes + collision token): at every
//! depth it lists exactly the values that some real item continues with.

use crate::ids::SemanticIds;

/// One trie node: sorted `(value, child)` pairs and, at full depth, the item it names.
#[derive(Debug, Clone, Default)]
struct Node {
    children: Vec<(u32, u32)>,
    item: Option<u32>,
}

/// Prefix trie of full IDs. Node 0 is the root.
#[derive(Debug, Clone)]
pub struct Trie {
    nodes: Vec<Node>,
    depth: usize,
    /// Unique to each built trie (a clone keeps it: the contents are the same), so that a copy
    /// of it elsewhere (the GPU's, `tiger_models::tiger::device_beam`) can be reused.
    id: u64,
}

/// The next [`Trie::id`].
static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

impl Trie {
    /// Root node index.
    pub const ROOT: u32 = 0;

    /// Builds the trie of every item's full ID (codes then collision token). Linear in the number
    /// of items times the ID length (children are kept sorted by binary-search insertion).
    pub fn build(ids: &SemanticIds) -> Self {
        let mut nodes = vec![Node::default()];
        for item in 0..ids.len() {
            let mut node = 0usize;
            let full = ids
                .codes_of(item)
                .iter()
                .copied()
                .chain([ids.collision[item]]);
            for value in full {
                let children = &nodes[node].children;
                node = match children.binary_search_by_key(&value, |c| c.0) {
                    Ok(i) => children[i].1 as usize,
                    Err(i) => {
                        let next = nodes.len();
                        nodes[node].children.insert(i, (value, next as u32));
                        nodes.push(Node::default());
                        next
                    }
                };
            }
            nodes[node].item = Some(item as u32);
        }
        Self {
            nodes,
            depth: ids.levels + 1,
            id: NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        }
    }

    /// This trie's identity: equal for clones, different for every other built trie.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Length of a full ID.
    pub fn depth(&self) -> usize {
        self.depth
    }

    /// Number of nodes (for size reports).
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether the trie holds no IDs.
    pub fn is_empty(&self) -> bool {
        self.nodes[0].children.is_empty()
    }

    /// Values that continue `node`, ascending.
    pub fn next_values(&self, node: u32) -> impl Iterator<Item = u32> + '_ {
        self.nodes[node as usize].children.iter().map(|c| c.0)
    }

    /// The child of `node` reached by `value`, if any.
    pub fn child(&self, node: u32, value: u32) -> Option<u32> {
        let children = &self.nodes[node as usize].children;
        children
            .binary_search_by_key(&value, |c| c.0)
            .ok()
            .map(|i| children[i].1)
    }

    /// The item a full-depth node names.
    pub fn item(&self, node: u32) -> Option<u32> {
        self.nodes[node as usize].item
    }

    /// The trie as flat arrays (compressed sparse rows): node `i`'s children are entries `start[i]
    /// .. start[i + 1]` of `value` (ascending) and `child`; `start` has one entry per node plus
    /// one.
    pub fn csr(&self) -> (Vec<u32>, Vec<u32>, Vec<u32>) {
        let mut start = Vec::with_capacity(self.nodes.len() + 1);
        let mut value = Vec::new();
        let mut child = Vec::new();
        start.push(0);
        for node in &self.nodes {
            for &(v, c) in &node.children {
                value.push(v);
                child.push(c);
            }
            start.push(value.len() as u32);
        }
        (start, value, child)
    }

    /// The item whose full ID is `values`, if it exists.
    pub fn lookup(&self, values: &[u32]) -> Option<u32> {
        let mut node = Self::ROOT;
        for &v in values {
            node = self.child(node, v)?;
        }
        self.item(node)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exactly_the_valid_continuations_at_each_depth() {
        // Items: (1,2)#0, (1,2)#1, (1,3)#0, (4,0)#0.
        let ids = SemanticIds::assign(vec![1, 2, 1, 2, 1, 3, 4, 0], 2);
        let t = Trie::build(&ids);
        assert_eq!(t.depth(), 3);
        let root: Vec<u32> = t.next_values(Trie::ROOT).collect();
        assert_eq!(root, vec![1, 4]);
        let n1 = t.child(Trie::ROOT, 1).unwrap();
        assert_eq!(t.next_values(n1).collect::<Vec<_>>(), vec![2, 3]);
        let n12 = t.child(n1, 2).unwrap();
        assert_eq!(t.next_values(n12).collect::<Vec<_>>(), vec![0, 1]);
        let n13 = t.child(n1, 3).unwrap();
        assert_eq!(t.next_values(n13).collect::<Vec<_>>(), vec![0]);
        assert_eq!(t.child(Trie::ROOT, 2), None);
        assert_eq!(t.lookup(&[1, 2, 1]), Some(1));
        assert_eq!(t.lookup(&[4, 0, 0]), Some(3));
        assert_eq!(t.lookup(&[4, 0, 1]), None);
        assert_eq!(t.lookup(&[1, 2]), None, "a prefix is not an item");
    }

    #[test]
    fn the_flat_arrays_list_every_node_s_children() {
        let ids = SemanticIds::assign(vec![1, 2, 1, 2, 1, 3, 4, 0], 2);
        let t = Trie::build(&ids);
        assert_eq!(t.clone().id(), t.id(), "a clone is the same trie");
        assert_ne!(
            Trie::build(&ids).id(),
            t.id(),
            "another build is another trie"
        );
        let (start, value, child) = t.csr();
        assert_eq!(start.len(), t.len() + 1);
        assert_eq!(value.len(), child.len());
        assert_eq!(*start.last().unwrap() as usize, value.len());
        for node in 0..t.len() as u32 {
            let (a, b) = (
                start[node as usize] as usize,
                start[node as usize + 1] as usize,
            );
            let listed: Vec<u32> = value[a..b].to_vec();
            assert_eq!(listed, t.next_values(node).collect::<Vec<_>>());
            for e in a..b {
                assert_eq!(t.child(node, value[e]), Some(child[e]));
            }
        }
    }
}
