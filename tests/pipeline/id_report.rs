//! The semantic-ID quality report of a run folder: a run written before the report had entropy,
//! Gini and collision groups reads back with them computed from its `semantic_ids.csv`.

use std::collections::HashMap;
use std::path::Path;

use tiger_core::run::quantize_record::read_quantize_run;

#[test]
fn an_older_run_reads_back_with_its_report_computed_from_its_ids() {
    let run = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo/ml-latest-small/rqvae");
    let on_disk: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("rqvae_stats.json")).unwrap())
            .unwrap();
    assert!(
        on_disk.get("collision_groups").is_none(),
        "the bundled run predates the report; this test needs such a run"
    );
    let stats = read_quantize_run(&run).unwrap().stats;
    // Count the groups from the CSV here, independently of the library.
    let text = std::fs::read_to_string(run.join("semantic_ids.csv")).unwrap();
    let mut groups: HashMap<String, usize> = HashMap::new();
    let mut per_level: Vec<HashMap<String, usize>> = vec![HashMap::new(); 3];
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        *groups.entry(f[1..4].join(",")).or_default() += 1;
        for (l, counts) in per_level.iter_mut().enumerate() {
            *counts.entry(f[1 + l].to_string()).or_default() += 1;
        }
    }
    let mut by_size: HashMap<usize, usize> = HashMap::new();
    for &n in groups.values() {
        *by_size.entry(n).or_default() += 1;
    }
    let mut want: Vec<[usize; 2]> = by_size.into_iter().map(|(s, n)| [s, n]).collect();
    want.sort();
    assert_eq!(stats.collision_groups, want);
    assert_eq!(
        stats
            .collision_groups
            .iter()
            .map(|[s, n]| s * n)
            .sum::<usize>(),
        9125
    );
    assert_eq!(stats.largest_collision_group, want.last().unwrap()[0]);
    for (l, counts) in per_level.iter().enumerate() {
        let level = &stats.levels[l];
        let bits: f64 = counts
            .values()
            .map(|&c| {
                let p = c as f64 / 9125.0;
                -p * p.log2()
            })
            .sum();
        assert!((level.entropy_bits - bits).abs() < 1e-9, "level {l}");
        assert!((level.perplexity - bits.exp2()).abs() < 1e-6, "level {l}");
        assert!(
            level.gini > 0.0 && level.gini < 0.5,
            "level {l}: {}",
            level.gini
        );
    }
    // The losses of the file are kept.
    assert_eq!(stats.recon_loss, on_disk["recon_loss"].as_f64().unwrap());
}
