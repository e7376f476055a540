//! Run folders: one layout for RQ-VAE, TIGER and SASRec runs, whether the command line or the
//! window wrote them, so that any run can be opened, listed, compared and moved between machines.

pub mod layout;
pub mod pack;
pub mod quantize_run;
pub mod records;
pub mod summary;

pub use layout::{RunHeader, RunKind, files};
pub use quantize_run::{
    QuantizeRecord, QuantizeRunConfig, RunError, read_json, read_quantize_run, save_quantize_run,
    write_json, write_json_compact,
};
pub use records::TestRecord;
