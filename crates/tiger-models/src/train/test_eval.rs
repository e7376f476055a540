//! The test-split evaluation every finished recommender run records (`test_metrics.json`): its
//! best weights against the test targets, beside the popularity floor. The command line and the
//! window both call it, so a run's figures are the same whoever trained it (SASRec's is
//! `baseline::sasrec_train::test_sasrec`).

use std::path::Path;

use burn::prelude::*;

use super::tiger_loop::{KS, TrainError};
use crate::decode::BeamConfig;
use tiger_core::data::samples::{Part, samples};
use tiger_core::rec_data::RecData;
use tiger_core::run::{TestRecord, files};

/// Beam width of the recorded TIGER test figures.
pub const TEST_BEAM: usize = 20;

/// Writes `record` as the run's `test_metrics.json`.
pub fn write(run: &Path, record: &TestRecord) -> Result<(), TrainError> {
    let path = run.join(files::TEST_METRICS);
    tiger_core::run::write_json(&path, record).map_err(|e| TrainError::Load {
        path,
        message: e.to_string(),
    })
}

/// Evaluates the TIGER run in `run` (its best weights) on the test split of `data` with beam
/// width [`TEST_BEAM`] and writes `test_metrics.json`. `None` when `cancelled()` turned true.
pub fn test_tiger(
    run: &Path,
    data: &RecData,
    device: &Device,
    device_name: &str,
    cancelled: &dyn Fn() -> bool,
) -> Result<Option<TestRecord>, TrainError> {
    let (cfg, model) = super::tiger_loop::load_run(run, device)?;
    let test = samples(&data.split, Part::Test, cfg.options.max_history);
    let beam = BeamConfig {
        width: TEST_BEAM,
        constrained: true,
    };
    let result = crate::tiger::evaluate::evaluate(
        &model, &cfg.vocab, data, &test, beam, &KS, device, cancelled,
    );
    let Some(result) = result else {
        return Ok(None);
    };
    let record = TestRecord {
        split: "test".into(),
        step: best_step(run),
        model: result.metrics,
        popularity: tiger_core::eval::popularity::metrics(
            &data.split,
            data.ids.len(),
            Part::Test,
            &KS,
        ),
        beam: Some(TEST_BEAM),
        device: device_name.into(),
    };
    write(run, &record)?;
    Ok(Some(record))
}

/// The step of the run's best weights (`best/state.json`), else 0.
pub fn best_step(run: &Path) -> usize {
    std::fs::read_to_string(run.join(files::BEST).join("state.json"))
        .ok()
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or(0)
}
