//! The hierarchy made legible, driven headless with egui_kittest on the bundled runs: level-1
//! codes carry labels and the IDs beat random ones of their shape; clicking a code in the tree
//! focuses the map on it and clicking a child drills down; the guided walk goes from an item's
//! text to its ID and its recommendations.

use std::path::{Path, PathBuf};

use egui_kittest::kittest::{NodeT, Queryable};
use tiger_explorer::app::Tab;

use crate::support;
use support::{harness_opening, wait};

fn demo(kind: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("assets/demo/ml-latest-small")
        .join(kind)
}

/// The app on the sample with the bundled RQ-VAE and TIGER runs open, labels computed.
fn opened(name: &str) -> egui_kittest::Harness<'static, tiger_explorer::app::TigerApp> {
    let mut h = harness_opening(
        support::sample_dir(),
        support::temp_dir(name),
        vec![demo("rqvae"), demo("tiger")],
    );
    assert!(
        wait(&mut h, 120, |a| a.state.open.len() == 2
            && a.state.busy.is_none()
            && !a.state.hierarchy.labels.is_empty()),
        "{:?}",
        h.state().state.last_error
    );
    h
}

#[test]
fn codes_are_labelled_and_the_tree_drills_the_map_down() {
    let mut h = opened("hierarchy-tree");
    let st = &h.state().state;
    let ids = st.ids.as_ref().unwrap();
    // Every level-1 code of the sample has a label, and the first level is semantic: items that
    // share a first code share more metadata than with random IDs of the same shape.
    let level1: Vec<u32> = st.tree.iter().map(|n| n.code).collect();
    let labelled = level1
        .iter()
        .filter(|&&c| !st.hierarchy.labels.words(&[c]).is_empty())
        .count();
    assert!(
        labelled * 10 >= level1.len() * 9,
        "{labelled} of {}",
        level1.len()
    );
    assert_eq!(st.hierarchy.coherence.len(), ids.levels);
    let first = &st.hierarchy.coherence[0];
    assert!(first.feature_lift().unwrap() > 1.5, "{first:?}");
    assert!(
        first.cosine.unwrap() > first.random_cosine.unwrap(),
        "{first:?}"
    );

    // The largest level-1 code and its largest child.
    let big = st.tree.iter().max_by_key(|n| n.count).unwrap();
    let (code, items) = (big.code, big.count);
    let child = big.children.iter().max_by_key(|n| n.count).unwrap();
    let (child_code, child_items) = (child.code, child.count);
    let words = st.hierarchy.labels.words(&[code]);
    h.state_mut().tab = Tab::SemanticIds;
    h.run_steps(3);
    // By accessibility action: the code may lie below the tree's visible part.
    h.get_by_label_contains(&format!("L1 code {code} | {items} items | "))
        .click_accesskit();
    h.run_steps(3);
    assert_eq!(h.state().views.tree.focus, vec![code]);
    assert!(
        h.query_by_label_contains(&format!("Focus: {code} {words} ({items} items)"))
            .is_some(),
        "the map names its focus"
    );
    assert!(
        h.query_by_label("coloured by level-2 codes").is_some(),
        "the focus is coloured by its children"
    );
    // Drilling down: the child's header, now visible under the opened code.
    h.get_by_label_contains(&format!("L2 code {child_code} | {child_items} items | "))
        .click_accesskit();
    h.run_steps(3);
    assert_eq!(h.state().views.tree.focus, vec![code, child_code]);
    assert!(
        h.query_by_label_contains(&format!("({child_items} items)"))
            .is_some()
    );
    assert!(h.query_by_label("coloured by level-3 codes").is_some());
    // Up goes back to the parent; the whole catalogue clears the focus.
    h.get_by_label("Up").click();
    h.run_steps(2);
    assert_eq!(h.state().views.tree.focus, vec![code]);
    h.get_by_label("Whole catalogue").click();
    h.run_steps(2);
    assert!(h.state().views.tree.focus.is_empty());
}

#[test]
fn the_guided_walk_goes_from_text_to_id_to_recommendations() {
    let mut h = opened("hierarchy-walk");
    h.state_mut().tab = Tab::Start;
    h.run_steps(2);
    h.get_by_label_contains("Start the guided walk").click();
    h.run_steps(2);
    assert_eq!(h.state().tab, Tab::Walk);
    h.state_mut().views.walk.query = "Toy Story".into();
    h.run_steps(2);
    h.get_by_label("Toy Story (1995)").click();
    h.run_steps(2);
    let toy = h.state().views.walk.item.unwrap();
    assert!(
        h.query_by_label_contains("Genres: Adventure").is_some(),
        "its text"
    );
    h.get_by_label("Next").click();
    h.run_steps(2);
    // The map focuses on the item's first code.
    let first = h.state().state.ids.as_ref().unwrap().codes_of(toy as usize)[0];
    assert_eq!(h.state().views.tree.focus, vec![first]);
    h.get_by_label("Next").click();
    h.run_steps(2);
    let label = h.state().state.hierarchy.labels.text(&[first]);
    assert!(!label.is_empty());
    assert!(
        h.query_by_label_contains(&label).is_some(),
        "level 1's label"
    );
    h.get_by_label("Next").click();
    h.run_steps(2);
    h.get_by_label_contains("Recommend after").click();
    assert!(wait(&mut h, 60, |a| a.state.recommendations.len() >= 5));
    h.run_steps(2);
    // The first recommendation names the prefix it shares with the item, and what it means.
    let st = &h.state().state;
    let ids = st.ids.as_ref().unwrap();
    let first_rec = st.recommendations[0].item.unwrap();
    let mine = ids.codes_of(toy as usize);
    let shared = mine
        .iter()
        .zip(ids.codes_of(first_rec as usize))
        .take_while(|(a, b)| a == b)
        .count();
    let common = if shared == 0 {
        "no common prefix".to_string()
    } else {
        format!(
            "shares {shared} code(s): {}",
            st.hierarchy.labels.words(&mine[..shared])
        )
    };
    let line = format!("1. {}", st.title(first_rec));
    let shown: Vec<String> = h
        .query_all_by_label_contains(&line)
        .filter_map(|n| {
            let node = n.accesskit_node();
            node.label().or_else(|| node.value())
        })
        .collect();
    assert!(
        shown.iter().any(|l| l.contains(&common)),
        "{common:?} in {shown:?}"
    );
}
