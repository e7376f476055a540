//! The bad-file corpus in `tests/data/bad/` (one dataset folder per case, written by
//! `tests/data/bad/generate.py`; the 1 MiB "huge line" cases are generated here at run time).
//! Every case goes through the real binary: it must fail with exit code 1, without a panic, with a
//! short message naming the offending file and, where the problem is on one line, `FILE: line N`;
//! failing `quantize`/`train` runs must not create their output folder. The cases the desktop app
//! reaches when it opens a folder are also checked in its status bar. docs/robustness.md lists the
//! messages.

use crate::support;

use support::{harness, wait};

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use egui_kittest::kittest::{NodeT, Queryable};

/// How a case is run.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Run {
    /// `info --json --data DIR`.
    Info,
    /// `quantize --data DIR` with tiny settings: reads `DIR/embeddings.npy`.
    Quantize,
    /// `quantize --data DIR --embeddings DIR/embeddings.safetensors`.
    QuantizeSafetensors,
    /// `train --data DIR --ids DIR/semantic_ids.csv` with tiny settings.
    Train,
}

impl Run {
    /// Whether the desktop app meets this file when it opens the folder (it loads the dataset and
    /// `embeddings.npy`; safetensors embeddings and semantic IDs are only read by later commands).
    fn in_gui(self) -> bool {
        matches!(self, Run::Info | Run::Quantize)
    }
}

/// What a case must give.
#[derive(Clone, Copy, Debug)]
enum Expect {
    /// Exit code 1; the message names `file` (as `FILE: line N` when `line` is given) and says
    /// `says`.
    Error {
        file: &'static str,
        line: Option<u64>,
        says: &'static str,
    },
    /// The folder is accepted (exit code 0). `items` = catalogue size `info` reports.
    Loads { items: u64 },
}

use Expect::{Error, Loads};
use Run::{Info, Quantize, QuantizeSafetensors, Train};

const fn err(file: &'static str, line: u64, says: &'static str) -> Expect {
    Error {
        file,
        line: Some(line),
        says,
    }
}

const fn err_file(file: &'static str, says: &'static str) -> Expect {
    Error {
        file,
        line: None,
        says,
    }
}

/// The committed cases: folder under tests/data/bad, how it is run, what it must give.
const CASES: &[(&str, Run, Expect)] = &[
    // MovieLens
    (
        "ml_truncated_row",
        Info,
        err("ratings.csv", 32, "expected 4 fields, found 3"),
    ),
    (
        "ml_unclosed_quote",
        Info,
        err("movies.csv", 4, "expected 3 fields, found 2"),
    ),
    (
        "ml_semicolons",
        Info,
        err("movies.csv", 1, "missing column 'movieId'"),
    ),
    (
        "ml_semicolon_row",
        Info,
        err("ratings.csv", 9, "wrong delimiter"),
    ),
    (
        "ml_missing_column",
        Info,
        err("movies.csv", 1, "missing column 'movieId'"),
    ),
    (
        "ml_nan_timestamp",
        Info,
        err("ratings.csv", 5, "not a finite number ('NaN')"),
    ),
    // The rating column is not read at all (interactions are implicit feedback).
    ("ml_nan_rating", Info, Loads { items: 6 }),
    (
        "ml_duplicate_ids",
        Info,
        err("movies.csv", 5, "duplicate item id '2'"),
    ),
    (
        "ml_unknown_item",
        Info,
        err("ratings.csv", 7, "item '99' is not in the catalogue"),
    ),
    (
        "ml_header_only",
        Info,
        err_file("movies.csv", "file is empty"),
    ),
    (
        "ml_ratings_header_only",
        Info,
        err_file("ratings.csv", "file is empty"),
    ),
    (
        "ml_zero_bytes",
        Info,
        err_file("movies.csv", "file is empty"),
    ),
    (
        "ml_binary_garbage",
        Info,
        err("movies.csv", 1, "not valid UTF-8"),
    ),
    ("ml_latin1", Info, err("movies.csv", 4, "not valid UTF-8")),
    (
        "ml_tags_truncated",
        Info,
        err("tags.csv", 3, "expected 4 fields, found 2"),
    ),
    ("ml_crlf", Info, Loads { items: 6 }),
    ("ml_bom", Info, Loads { items: 6 }),
    // RecBole atomic files
    (
        "rb_no_header",
        Info,
        err("ml.inter", 1, "the header has no RecBole types"),
    ),
    // Without `:type` the loader cannot tell text from ids: refused, naming the file.
    (
        "rb_untyped_header",
        Info,
        err("ml.item", 1, "the header has no RecBole types"),
    ),
    (
        "rb_bad_timestamp",
        Info,
        err("ml.inter", 4, "not a number ('yesterday')"),
    ),
    ("rb_commas", Info, err("ml.item", 1, "tab separated")),
    ("rb_commas_inter", Info, err("ml.inter", 1, "tab separated")),
    (
        "rb_unknown_item",
        Info,
        err("ml.inter", 6, "item '77' is not in the catalogue"),
    ),
    // items.csv + interactions.csv
    (
        "pair_missing_id",
        Info,
        err("items.csv", 1, "missing column 'item_id'"),
    ),
    (
        "pair_no_timestamp",
        Info,
        err("interactions.csv", 1, "missing column 'timestamp'"),
    ),
    (
        "pair_inf_timestamp",
        Info,
        err("interactions.csv", 8, "not a finite number ('inf')"),
    ),
    (
        "pair_unknown_item",
        Info,
        err("interactions.csv", 3, "item 'i404' is not in the catalogue"),
    ),
    ("pair_empty_id", Info, err("items.csv", 3, "empty value")),
    (
        "pair_duplicate_ids",
        Info,
        err("items.csv", 7, "duplicate item id 'i1'"),
    ),
    // Embeddings
    (
        "emb_wrong_rows",
        Quantize,
        err_file(
            "embeddings.npy",
            "has 5 rows × 8 dims but the catalogue has 6 items",
        ),
    ),
    (
        "emb_one_dim",
        Quantize,
        err_file("embeddings.npy", "expected a 2-D array"),
    ),
    (
        "emb_garbage_header",
        Quantize,
        err_file("embeddings.npy", "header has no 'descr'"),
    ),
    (
        "emb_int_dtype",
        Quantize,
        err_file("embeddings.npy", "unsupported dtype <i4"),
    ),
    (
        "emb_nan",
        Quantize,
        err_file("embeddings.npy", "row 2, column 3 is not a finite number"),
    ),
    (
        "emb_truncated",
        Quantize,
        err_file(
            "embeddings.npy",
            "needs 192 bytes of data but the file has 100",
        ),
    ),
    (
        "emb_garbage",
        Quantize,
        err_file("embeddings.npy", "not an .npy file"),
    ),
    (
        "emb_zero_bytes",
        Quantize,
        err_file("embeddings.npy", "not an .npy file"),
    ),
    (
        "emb_safetensors_bad_header",
        QuantizeSafetensors,
        err_file("embeddings.safetensors", "not a safetensors file"),
    ),
    (
        "emb_safetensors_wrong_rows",
        QuantizeSafetensors,
        err_file("embeddings.safetensors", "has 4 rows × 8 dims"),
    ),
    // Semantic IDs
    (
        "sid_wrong_columns",
        Train,
        err("semantic_ids.csv", 4, "expected 4 fields, found 3"),
    ),
    (
        "sid_unknown_item",
        Train,
        err("semantic_ids.csv", 8, "item '42' is not in the catalogue"),
    ),
    (
        "sid_non_numeric",
        Train,
        err("semantic_ids.csv", 3, "column 'c2': not a number ('abc')"),
    ),
    (
        "sid_negative_code",
        Train,
        err("semantic_ids.csv", 5, "not a code"),
    ),
    (
        "sid_duplicate_row",
        Train,
        err("semantic_ids.csv", 8, "item '2' appears twice"),
    ),
    (
        "sid_missing_item",
        Train,
        err_file("semantic_ids.csv", "catalogue item '6' has no semantic ID"),
    ),
    (
        "sid_shared_id",
        Train,
        err_file(
            "semantic_ids.csv",
            "items '1' and '5' share the same full ID",
        ),
    ),
];

/// Longest message accepted: a bad file must never flood the terminal.
const MAX_STDERR: usize = 2048;

fn corpus_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/bad")
}

/// A valid MovieLens folder (the 5-core keeps 6 users and 5 items), as (movies, ratings) lines.
fn good_movielens() -> (Vec<String>, Vec<String>) {
    let read = |f: &str| {
        std::fs::read_to_string(corpus_root().join("ml_nan_rating").join(f))
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    let mut ratings = read("ratings.csv");
    ratings[4] = "1,4,4.0,1004".into(); // undo the NaN rating of that case
    (read("movies.csv"), ratings)
}

/// The "huge line" cases, written at run time (1 MiB lines are not committed).
fn generated_cases() -> Vec<(PathBuf, Run, Expect)> {
    let (movies, ratings) = good_movielens();
    let write = |name: &str, movies: &[String], ratings: &[String]| {
        support::dataset(
            name,
            &[
                ("movies.csv", &(movies.join("\n") + "\n")),
                ("ratings.csv", &(ratings.join("\n") + "\n")),
            ],
        )
    };
    let mut huge_line = movies.clone();
    huge_line[2] = "x".repeat(1 << 20); // one field, no delimiter
    let mut huge_field = ratings.clone();
    huge_field[2] = format!("1,{},4.0,1002", "9".repeat(1 << 20));
    vec![
        (
            write("ml_huge_line", &huge_line, &ratings),
            Info,
            err("movies.csv", 3, "expected 3 fields, found 1"),
        ),
        (
            write("ml_huge_field", &movies, &huge_field),
            Info,
            err("ratings.csv", 3, "is not in the catalogue"),
        ),
    ]
}

fn all_cases() -> Vec<(PathBuf, Run, Expect)> {
    let root = corpus_root();
    let mut cases: Vec<_> = CASES
        .iter()
        .map(|&(dir, run, expect)| (root.join(dir), run, expect))
        .collect();
    cases.extend(generated_cases());
    cases
}

fn name_of(dir: &Path) -> String {
    let name = dir.file_name().unwrap().to_string_lossy();
    // Generated folders are named tiger-test-NAME-PID by support::dataset.
    match name.strip_prefix("tiger-test-") {
        Some(rest) => rest.rsplit_once('-').map_or(rest, |r| r.0).to_string(),
        None => name.to_string(),
    }
}

/// Tiny settings for `quantize` and `train` (they must fail before any of them matters).
const TINY_QUANTIZE: &[&str] = &[
    "--device",
    "cpu",
    "--steps",
    "1",
    "--batch-size",
    "4",
    "--levels",
    "2",
    "--codebook-size",
    "4",
    "--latent-dim",
    "4",
    "--hidden-dims",
    "16",
    "--kmeans-iters",
    "2",
];
const TINY_TRAIN: &[&str] = &["--device", "cpu", "--steps", "1", "--batch-size", "4"];

fn listing(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

/// Runs one case through the binary; returns what is wrong with the outcome, if anything.
fn check_cli(dir: &Path, run: Run, expect: Expect, out_root: &Path) -> Result<String, String> {
    let name = name_of(dir);
    let out = out_root.join(format!("run-{name}"));
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tiger-explorer"));
    match run {
        Info => cmd.args(["info", "--json", "--data"]).arg(dir),
        Quantize => cmd
            .args(["quantize", "--data"])
            .arg(dir)
            .arg("--out")
            .arg(&out)
            .args(TINY_QUANTIZE),
        QuantizeSafetensors => cmd
            .args(["quantize", "--data"])
            .arg(dir)
            .arg("--embeddings")
            .arg(dir.join("embeddings.safetensors"))
            .arg("--out")
            .arg(&out)
            .args(TINY_QUANTIZE),
        Train => cmd
            .args(["train", "--data"])
            .arg(dir)
            .arg("--ids")
            .arg(dir.join("semantic_ids.csv"))
            .arg("--out")
            .arg(&out)
            .args(TINY_TRAIN)
            .args(support::TINY_T5_SHAPE),
    };
    let before = listing(dir);
    let res = cmd.output().map_err(|e| format!("cannot run: {e}"))?;
    let stderr = String::from_utf8_lossy(&res.stderr).into_owned();
    let stdout = String::from_utf8_lossy(&res.stdout).into_owned();
    let fail = |why: &str| {
        Err(format!(
            "{why}\n  exit {:?}\n  stderr: {stderr}",
            res.status
        ))
    };
    if stderr.contains("panicked") {
        return fail("panicked");
    }
    if stderr.len() > MAX_STDERR {
        return fail(&format!("stderr is {} bytes", stderr.len()));
    }
    if listing(dir) != before {
        return fail("the dataset folder was changed");
    }
    match expect {
        Loads { items } => {
            if !res.status.success() {
                return fail("should load");
            }
            let v: serde_json::Value =
                serde_json::from_str(&stdout).map_err(|e| format!("stdout not JSON: {e}"))?;
            if v["items"] != items {
                return fail(&format!("items {} != {items}", v["items"]));
            }
            Ok(String::new())
        }
        Error { file, line, says } => {
            if res.status.code() != Some(1) {
                return fail("should exit with code 1");
            }
            let line_ok = match line {
                Some(n) => stderr.contains(&format!("{file}: line {n}: ")),
                None => stderr.contains(&format!("{file}: ")),
            };
            if !line_ok || !stderr.contains(says) {
                return fail(&format!(
                    "should name {file} (line {line:?}) and say {says:?}"
                ));
            }
            if !stderr.starts_with("error: ") || stderr.lines().count() != 1 {
                return fail("should be one `error: ` line");
            }
            if out.exists() {
                return fail(&format!("{} was created", out.display()));
            }
            Ok(stderr.trim_end().to_string())
        }
    }
}

#[test]
fn every_bad_file_is_a_clear_cli_error() {
    let out_root = support::temp_dir("bad-files-out");
    let mut failures = Vec::new();
    for (dir, run, expect) in all_cases() {
        match check_cli(&dir, run, expect, &out_root) {
            Ok(message) => eprintln!("{:<28} {message}", name_of(&dir)),
            Err(why) => failures.push(format!("{}: {why}", name_of(&dir))),
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    assert!(
        std::fs::read_dir(&out_root).unwrap().next().is_none(),
        "a failing run left an output behind"
    );
}

#[test]
fn the_table_covers_every_corpus_folder() {
    let on_disk: BTreeSet<String> = std::fs::read_dir(corpus_root())
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    let listed: BTreeSet<String> = CASES.iter().map(|c| c.0.to_string()).collect();
    assert_eq!(on_disk, listed);
}

/// Opens the folder in the app; returns what is wrong with what the status bar shows, if anything.
fn check_gui(dir: &Path, expect: Expect) -> Result<(), String> {
    let name = name_of(dir);
    let mut h = harness(dir.into(), support::temp_dir(&format!("bad-gui-{name}")));
    if !wait(&mut h, 30, |a| {
        a.state.last_error.is_some() || a.state.dataset.is_some()
    }) {
        return Err("neither loaded nor failed within 30 s".into());
    }
    h.step();
    let st = &h.state().state;
    match expect {
        Loads { items } => match (&st.last_error, &st.dataset) {
            (None, Some(d)) if d.items.len() as u64 == items => Ok(()),
            (e, d) => Err(format!(
                "should load: error {e:?}, items {:?}",
                d.as_ref().map(|d| d.items.len())
            )),
        },
        Error { file, line, says } => {
            let error = st.last_error.clone().unwrap_or_default();
            let needle = match line {
                Some(n) => format!("{file}: line {n}: "),
                None => format!("{file}: "),
            };
            if st.dataset.is_some() || !error.contains(&needle) || !error.contains(says) {
                return Err(format!(
                    "last_error {error:?} should hold {needle:?} and {says:?}"
                ));
            }
            let shown: Vec<String> = h
                .query_all_by_label_contains("Error: ")
                .filter_map(|n| {
                    // A label keeps its text in `value` in AccessKit.
                    let node = n.accesskit_node();
                    node.value().or_else(|| node.label())
                })
                .collect();
            if !shown.iter().any(|l| l.contains(&needle)) {
                return Err(format!("status bar shows {shown:?}, not {needle:?}"));
            }
            Ok(())
        }
    }
}

#[test]
fn the_gui_status_bar_names_the_bad_file() {
    let mut failures = Vec::new();
    let mut checked = 0;
    for (dir, run, expect) in all_cases() {
        if !run.in_gui() {
            continue;
        }
        checked += 1;
        if let Err(why) = check_gui(&dir, expect) {
            failures.push(format!("{}: {why}", name_of(&dir)));
        }
    }
    assert!(checked >= 4);
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// KNOWN GAP (reported): two messages quote a whole field or header unshortened, so a 1 MiB id or
/// header line floods the terminal (a duplicate item id is not passed through `clip`, nor is the
/// header in "missing column"). Un-ignore once they are shortened like the other messages.
#[test]
fn huge_ids_and_headers_are_shortened() {
    let (movies, ratings) = good_movielens();
    let ratings = ratings.join("\n") + "\n";
    let big = "x".repeat(1 << 20);
    let dup = format!("{}\n{big},T,G\n{big},T,G\n", movies.join("\n"));
    let header = format!("{}\n1;2\n", vec!["col"; 200_000].join(";"));
    let out_root = support::temp_dir("bad-files-huge-out");
    for (name, movies, line, says) in [
        ("ml_huge_duplicate", dup, 9, "duplicate item id"),
        ("ml_huge_header", header, 1, "missing column 'movieId'"),
    ] {
        let dir = support::dataset(name, &[("movies.csv", &movies), ("ratings.csv", &ratings)]);
        check_cli(&dir, Info, err("movies.csv", line, says), &out_root).unwrap();
    }
}
