//! Fuzz target: a dataset folder of random files ("movies.csv", "ratings.csv", "tags.csv"), loaded
//! and split.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = tiger_explorer_fuzz::write_parts(data, &["movies.csv", "ratings.csv", "tags.csv"]);
    if let Ok(ds) = tiger_core::data::load(&dir) {
        let _ = tiger_core::data::split(&ds, 1);
    }
});
