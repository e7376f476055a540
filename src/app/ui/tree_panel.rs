//! Semantic-ID tree: level 1 -> level 2 -> ... -> items, with counts and example titles; search an
//! item to see its path; cold-start items (in no training sequence) are marked.

use crate::app::TigerApp;
use crate::app::tree::IdNode;

/// View state of the tree panel.
#[derive(Debug, Default)]
pub struct TreeView {
    /// Search text.
    pub query: String,
    /// The item whose path is shown.
    pub selected: Option<u32>,
    /// The code prefix the map focuses on (empty: the whole catalogue); clicking a code in the
    /// tree focuses it, clicking it again goes back to its parent.
    pub focus: Vec<u32>,
}

/// Draws the tree panel.
pub fn tree_panel_ui(app: &mut TigerApp, ui: &mut egui::Ui) {
    ui.heading("Semantic IDs");
    if let Some(i) = super::map_view::map_ui(app, ui) {
        ui.label(super::hovered_line(app, i));
    } else {
        ui.weak("Hover a point to see the item. Click a code below to colour its items by their next code and dim the rest.");
    }
    if app.state.tree.is_empty() {
        ui.label(
            "No semantic IDs yet: train the RQ-VAE on the Quantize tab, or open an RQ-VAE or TIGER run from the runs list on the left.",
        );
        return;
    }
    ui.horizontal(|ui| {
        if ui
            .add_enabled(
                app.state.busy.is_none(),
                egui::Button::new("Export IDs (CSV/JSON)..."),
            )
            .clicked()
        {
            app.open_dialog(crate::app::DialogPurpose::ExportIds);
        }
        let label = ui.label("Find item");
        ui.text_edit_singleline(&mut app.views.tree.query)
            .labelled_by(label.id);
    });
    let hits = super::search_items(app, &app.views.tree.query, 8);
    ui.horizontal_wrapped(|ui| {
        for i in hits {
            if ui.button(app.state.title(i)).clicked() {
                app.views.tree.selected = Some(i);
            }
        }
    });
    if let Some(i) = app.views.tree.selected {
        ui.label(format!(
            "{} -> path {}  {}",
            app.state.title(i),
            super::id_text(app, i),
            super::meaning(app, i)
        ));
    }
    ui.separator();
    let selected_codes: Option<Vec<u32>> = app.views.tree.selected.and_then(|i| {
        app.state
            .ids
            .as_ref()
            .map(|ids| ids.codes_of(i as usize).to_vec())
    });
    let ids_len = app.state.tree.iter().map(|n| n.count).sum::<usize>();
    ui.label(format!(
        "{} level-1 codes over {ids_len} items",
        app.state.tree.len()
    ));
    let mut clicked = None;
    egui::ScrollArea::vertical()
        .auto_shrink(false)
        .show(ui, |ui| {
            for node in &app.state.tree {
                let mut path = Vec::new();
                let paths = Paths {
                    selected: selected_codes.as_deref(),
                    focus: &app.views.tree.focus,
                };
                node_ui(app, node, 0, paths, &mut path, &mut clicked, ui);
            }
        });
    if let Some(path) = clicked {
        let focus = &mut app.views.tree.focus;
        if *focus == path {
            focus.pop();
        } else {
            *focus = path;
        }
    }
}

/// The code paths the tree keeps open: the selected item's and the map's focus.
#[derive(Clone, Copy)]
struct Paths<'a> {
    selected: Option<&'a [u32]>,
    focus: &'a [u32],
}

fn examples(app: &TigerApp, node: &IdNode, n: usize) -> String {
    let mut out = Vec::new();
    let mut stack = vec![node];
    while let Some(x) = stack.pop() {
        for &i in &x.items {
            if out.len() < n {
                out.push(app.state.title(i).to_string());
            }
        }
        stack.extend(x.children.iter().rev());
        if out.len() >= n {
            break;
        }
    }
    out.join("; ")
}

fn node_ui(
    app: &TigerApp,
    node: &IdNode,
    level: usize,
    paths: Paths,
    path: &mut Vec<u32>,
    clicked: &mut Option<Vec<u32>>,
    ui: &mut egui::Ui,
) {
    path.push(node.code);
    let on_path =
        paths.selected.is_some_and(|s| s.starts_with(path)) || paths.focus.starts_with(path);
    let label = app.state.hierarchy.labels.text(path);
    let title = format!(
        "L{} code {} | {} items | {} | e.g. {}",
        level + 1,
        node.code,
        node.count,
        if label.is_empty() { "-" } else { &label },
        examples(app, node, 2)
    );
    let id = ui.make_persistent_id(("id-node", path.clone()));
    let mut header = egui::CollapsingHeader::new(title).id_salt(id);
    if on_path {
        header = header.open(Some(true));
    }
    let shown = header.show(ui, |ui| {
        for child in &node.children {
            node_ui(app, child, level + 1, paths, path, clicked, ui);
        }
        let rows = app.state.dataset.as_ref();
        for &i in &node.items {
            let cold = rows
                .and_then(|d| d.items.get(i as usize))
                .is_some_and(|r| !r.in_training);
            let collision = app
                .state
                .ids
                .as_ref()
                .map_or(0, |ids| ids.collision[i as usize]);
            let text = format!(
                "#{collision} {}{}",
                app.state.title(i),
                if cold { "  (cold start)" } else { "" }
            );
            if Some(i) == app.views.tree.selected {
                ui.strong(text);
            } else {
                ui.label(text);
            }
        }
    });
    if shown.header_response.clicked() {
        *clicked = Some(path.clone());
    }
    path.pop();
}
