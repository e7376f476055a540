//! Fuzz target: random bytes decoded as a `.npy` embedding matrix.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = tiger_core::embeddings::npy::decode(std::path::Path::new("fuzz.npy"), data);
});
