//! Fuzz target: a random semantic_ids.csv read against a 16-item catalogue ("0".."15").
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = tiger_explorer_fuzz::write_parts(data, &["semantic_ids.csv"]);
    let catalogue: Vec<String> = (0..16).map(|i| i.to_string()).collect();
    let _ = tiger_core::ids::SemanticIds::read_csv(&dir.join("semantic_ids.csv"), &catalogue);
});
