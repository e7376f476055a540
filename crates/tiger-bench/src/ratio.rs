//! Ratios of burn-wgpu against PyTorch on one machine: pairs the training rows of `tiger-bench run
//! --json` with those of `crates/tiger-bench/torch_reference.py --json` by workload (`rqvae`,
//! `tiger`, `sasrec`), so that a run of both on one machine prints `burn / torch` for
//! every PyTorch variant (eager, SDPA, compiled) without copying numbers by hand.

use std::path::Path;

use serde::Serialize;

/// One training rate read from a benchmark file.
#[derive(Debug, Clone, PartialEq)]
pub struct Rate {
    /// Workload name (`rqvae`, `tiger`, `sasrec`).
    pub workload: String,
    /// PyTorch's variant (`eager`, `sdpa`, `compile`, …); `None` for a burn row.
    pub variant: Option<String>,
    /// Training steps per second.
    pub steps_per_s: f64,
}

/// One burn row against one PyTorch row of the same workload.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RatioRow {
    /// Workload name.
    pub workload: String,
    /// burn-wgpu steps/s.
    pub burn: f64,
    /// PyTorch's variant.
    pub variant: String,
    /// PyTorch steps/s.
    pub torch: f64,
    /// `burn / torch` (≥ 1 means burn is at least as fast).
    pub ratio: f64,
}

/// The training rates in `text`, JSON lines from either tool (`path` names the file in errors).
/// burn's rows carry `rate` with `unit` `steps/s`; PyTorch's carry `steps_per_s` and `variant`.
/// Blank lines and lines that are not JSON objects (headers, comments) are skipped; a JSON object
/// that claims to be a training row but lacks a positive finite rate is an error.
pub fn parse(path: &Path, text: &str) -> Result<Vec<Rate>, String> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if !line.starts_with('{') {
            continue;
        }
        let at = || format!("{} line {}", path.display(), n + 1);
        let value: serde_json::Value =
            serde_json::from_str(line).map_err(|e| format!("{}: not valid JSON ({e})", at()))?;
        let Some(workload) = value.get("workload").and_then(|w| w.as_str()) else {
            continue;
        };
        let (rate, variant) = if let Some(r) = value.get("steps_per_s") {
            let variant = value
                .get("variant")
                .and_then(|v| v.as_str())
                .unwrap_or("eager");
            (r, Some(variant.to_string()))
        } else if value.get("unit").and_then(|u| u.as_str()) == Some("steps/s") {
            match value.get("rate") {
                Some(r) => (r, None),
                None => return Err(format!("{}: a steps/s row without `rate`", at())),
            }
        } else {
            // Latency and throughput rows (beam, eval, embed) have no PyTorch counterpart.
            continue;
        };
        let steps_per_s = rate
            .as_f64()
            .filter(|r| r.is_finite() && *r > 0.0)
            .ok_or_else(|| format!("{}: `{workload}` has no positive rate ({rate})", at()))?;
        out.push(Rate {
            workload: workload.to_string(),
            variant,
            steps_per_s,
        });
    }
    Ok(out)
}

/// Every burn row against every PyTorch row of its workload, in the burn file's order. A burn
/// workload measured twice (two launches in one script) gives one row per measurement.
pub fn pair(burn: &[Rate], torch: &[Rate]) -> Vec<RatioRow> {
    let mut rows = Vec::new();
    for b in burn.iter().filter(|r| r.variant.is_none()) {
        for t in torch.iter().filter(|t| t.workload == b.workload) {
            let Some(variant) = &t.variant else {
                continue;
            };
            rows.push(RatioRow {
                workload: b.workload.clone(),
                burn: b.steps_per_s,
                variant: variant.clone(),
                torch: t.steps_per_s,
                ratio: b.steps_per_s / t.steps_per_s,
            });
        }
    }
    rows
}

/// Reads both files and pairs them; an error names the file and what is wrong with it.
pub fn compare(burn_path: &Path, torch_path: &Path) -> Result<Vec<RatioRow>, String> {
    let read = |p: &Path| {
        std::fs::read_to_string(p).map_err(|e| format!("{}: cannot read ({e})", p.display()))
    };
    let burn = parse(burn_path, &read(burn_path)?)?;
    let torch = parse(torch_path, &read(torch_path)?)?;
    if burn.iter().all(|r| r.variant.is_some()) {
        return Err(format!(
            "{}: no burn training rows (expected `tiger-bench run --json` output)",
            burn_path.display()
        ));
    }
    if torch.iter().all(|r| r.variant.is_none()) {
        return Err(format!(
            "{}: no PyTorch rows (expected `crates/tiger-bench/torch_reference.py --json` output)",
            torch_path.display()
        ));
    }
    let rows = pair(&burn, &torch);
    if rows.is_empty() {
        return Err(format!(
            "no workload appears in both {} and {}",
            burn_path.display(),
            torch_path.display()
        ));
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BURN: &str = r#"{"workload":"rqvae","rate":200.0,"unit":"steps/s","shape":"x"}
{"workload":"tiger","rate":20.0,"unit":"steps/s","shape":"x"}
{"workload":"beam","rate":210.0,"unit":"queries/s","shape":"x"}
"#;
    const TORCH: &str = r#"# torch 2.11 on H200
{"workload":"tiger","variant":"eager","steps_per_s":40.0}
{"workload":"tiger","variant":"sdpa","steps_per_s":50.0}
{"workload":"rqvae","variant":"eager","steps_per_s":250.0}
"#;

    #[test]
    fn rows_pair_by_workload_for_every_variant() {
        let burn = parse(Path::new("b"), BURN).unwrap();
        let torch = parse(Path::new("t"), TORCH).unwrap();
        assert_eq!(burn.len(), 2, "the beam row has no PyTorch counterpart");
        let rows = pair(&burn, &torch);
        let got: Vec<(&str, &str, f64)> = rows
            .iter()
            .map(|r| (r.workload.as_str(), r.variant.as_str(), r.ratio))
            .collect();
        assert_eq!(
            got,
            [
                ("rqvae", "eager", 0.8),
                ("tiger", "eager", 0.5),
                ("tiger", "sdpa", 0.4)
            ]
        );
    }

    #[test]
    fn bad_rows_name_the_file_and_line() {
        let e = parse(Path::new("burn.json"), "{\"workload\":\"tiger\",").unwrap_err();
        assert!(
            e.contains("burn.json line 1") && e.contains("not valid JSON"),
            "{e}"
        );
        let e = parse(
            Path::new("t.json"),
            "\n{\"workload\":\"tiger\",\"variant\":\"eager\",\"steps_per_s\":0}",
        )
        .unwrap_err();
        assert!(
            e.contains("t.json line 2") && e.contains("no positive rate"),
            "{e}"
        );
        let e = parse(
            Path::new("b"),
            "{\"workload\":\"tiger\",\"unit\":\"steps/s\"}",
        )
        .unwrap_err();
        assert!(e.contains("without `rate`"), "{e}");
    }
}
