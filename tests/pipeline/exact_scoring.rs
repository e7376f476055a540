//! Exact scoring of every item's full ID (the paper's comparison with beam search) on the bundled
//! TIGER run and the sample's 9,125 items, on the CPU: the widened search's top 10 equal an
//! exhaustive search's, which prunes nothing.

use crate::support;

use burn::prelude::Device;
use tiger_core::data::samples::{Part, samples};
use tiger_models::decode::BeamConfig;
use tiger_models::tiger::evaluate::{beam_for, exact_rankings};

#[test]
fn widened_beams_give_the_exhaustive_top_ten() {
    let _rng = support::device_rng();
    let device = Device::flex();
    let (cfg, model, data) = support::bundled_tiger(&device);
    let queries: Vec<_> = samples(&data.split, Part::Test, cfg.options.max_history)
        .into_iter()
        .take(24)
        .collect();
    let r = exact_rankings(
        &model,
        &cfg.vocab,
        &data,
        &queries,
        10,
        10,
        &device,
        &|| false,
    )
    .unwrap();
    assert_eq!(r.exact.len(), queries.len());
    let widened: Vec<usize> = (0..queries.len())
        .filter(|&i| !r.beam_was_exact[i])
        .collect();
    assert!(
        !widened.is_empty(),
        "every query was exact at width 10: nothing was tested"
    );
    assert!(r.widest_beam > 10);
    let items = data.ids.len();
    let exhaustive = |i: usize| -> Vec<u32> {
        let config = BeamConfig {
            width: items,
            constrained: true,
        };
        beam_for(
            &model,
            &cfg.vocab,
            &data,
            &queries[i..=i],
            config,
            &device,
            &mut |_| {},
        )[0]
        .iter()
        .take(10)
        .filter_map(|h| h.item)
        .collect()
    };
    // Two queries that needed a wider beam, and one the first beam settled.
    let mut checked: Vec<usize> = widened.iter().copied().take(2).collect();
    checked.extend((0..queries.len()).find(|&i| r.beam_was_exact[i]));
    for i in checked {
        assert_eq!(r.exact[i][..10], exhaustive(i)[..], "query {i}");
    }
    // Where the beam's top 10 were not exact, they differ from the exact ones somewhere.
    assert!(
        widened.iter().any(|&i| r.beam[i][..10] != r.exact[i][..10]),
        "the widened queries' top 10 all equal the narrow beam's"
    );
}
