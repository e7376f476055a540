//! Run folders: one layout for RQ-VAE, TIGER and SASRec runs, whether the command line or the
//! window wrote them, so that any run can be opened, listed, compared and moved between machines.
//! This part reads and checks them; writing weights needs the models.

pub mod hierarchy;
pub mod json;
pub mod layout;
pub mod quantize_record;
pub mod quantize_resume;
pub mod records;
pub mod sasrec_config;
pub mod summary;
pub mod tiger_config;

pub use json::{RunError, read_json, write_json, write_json_compact};
pub use layout::{RunHeader, RunKind, files};
pub use quantize_record::{QuantizeRecord, QuantizeRunConfig, read_quantize_run};
pub use records::TestRecord;
