//! Fuzz target: random bytes decoded as a safetensors embedding matrix.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = tiger_core::embeddings::safetensors_io::decode(
        std::path::Path::new("fuzz.safetensors"),
        data,
    );
});
