//! Fuzz target: a dataset folder of random files ("x.item", "x.inter"), loaded and split.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = tiger_explorer_fuzz::write_parts(data, &["x.item", "x.inter"]);
    if let Ok(ds) = tiger_core::data::load(&dir) {
        let _ = tiger_core::data::split(&ds, 1);
    }
});
