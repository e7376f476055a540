//! Not a loader: a target that fails on one known input, which `scripts/fuzz.sh` seeds it with, so
//! that CI can check the script reports a crashing target as a failure.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data == b"tiger-explorer fuzz canary" {
        panic!("the canary input reached the target");
    }
});
