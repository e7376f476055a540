//! CPU samples of a training benchmark's timed window (`tiger-bench run --profile DIR`).
//!
//! The busy shares of [`super::threads`] say *that* the training thread and cubecl's device threads
//! are on a CPU for the whole step, not *what* they do there (cubecl's channels also poll while
//! they wait). A sampling profile of the same window answers that on any machine, GPU servers
//! without `perf` included. The sampler is pprof-rs (SIGPROF every 1/499 s of process CPU time, or
//! at the kernel's timer tick where that is coarser, about 250 Hz on an H200 server; stacks unwound
//! in the signal handler) behind the cargo feature `profile`; a build without it refuses
//! `--profile` with a message saying so. Which thread a process-wide sample lands on is biased, so
//! compare functions within a thread, not samples across threads.
//!
//! For each training workload it writes `DIR/<workload>.folded` (one line per distinct stack,
//! `thread;outermost;…;innermost count`, the format flame-graph tools read) and
//! `DIR/<workload>.txt` (samples per thread, then the functions with the most samples on top of the
//! stack and anywhere in it), and the same pair as `<workload>-first` for the wait before the first
//! step (initialisation, upload, kernel compilation and autotune).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Where the profiles go; set once by [`enable`].
static TARGET: OnceLock<PathBuf> = OnceLock::new();

/// Samples per second of process CPU time.
#[cfg(feature = "profile")]
const FREQUENCY: i32 = 499;

/// Rows of each table in the text summary.
const TOP: usize = 60;

/// Turns sampling on for every later [`Window`], writing to `dir` (created if missing). Fails when
/// the build has no sampler or the folder cannot be made.
pub fn enable(dir: &Path) -> anyhow::Result<()> {
    if !cfg!(feature = "profile") {
        anyhow::bail!(
            "--profile needs the CPU sampler, which this build leaves out: rebuild with \
             `cargo build --release -p tiger-bench --features profile`"
        );
    }
    std::fs::create_dir_all(dir)
        .map_err(|e| anyhow::anyhow!("cannot create the profile folder {}: {e}", dir.display()))?;
    let _ = TARGET.set(dir.to_path_buf());
    Ok(())
}

/// One sampled window; does nothing unless [`enable`] was called.
pub struct Window {
    #[cfg(feature = "profile")]
    guard: Option<pprof::ProfilerGuard<'static>>,
}

impl Window {
    /// Starts sampling now (when enabled).
    pub fn start() -> anyhow::Result<Self> {
        #[cfg(feature = "profile")]
        {
            let guard = match TARGET.get() {
                None => None,
                Some(_) => Some(
                    pprof::ProfilerGuardBuilder::default()
                        .frequency(FREQUENCY)
                        // Unwinding from inside the unwinder or the dynamic loader can deadlock.
                        .blocklist(&["libgcc", "ld-linux", "vdso"])
                        .build()
                        .map_err(|e| anyhow::anyhow!("cannot start the CPU sampler: {e}"))?,
                ),
            };
            Ok(Self { guard })
        }
        #[cfg(not(feature = "profile"))]
        Ok(Self {})
    }

    /// Stops sampling and writes `<workload>.folded` and `<workload>.txt`; returns the text file's
    /// path, `None` when sampling is off.
    pub fn finish(self, workload: &str) -> anyhow::Result<Option<PathBuf>> {
        #[cfg(feature = "profile")]
        {
            let (Some(guard), Some(dir)) = (self.guard, TARGET.get()) else {
                return Ok(None);
            };
            let report = guard
                .report()
                .build()
                .map_err(|e| anyhow::anyhow!("cannot read the CPU samples: {e}"))?;
            drop(guard);
            let labels = thread_labels(
                report
                    .data
                    .keys()
                    .map(|f| (f.thread_name_or_id(), f.thread_id)),
            );
            let stacks: Vec<Stack> = report
                .data
                .iter()
                .map(|(frames, &count)| Stack {
                    thread: labels
                        .get(&(frames.thread_name_or_id(), frames.thread_id))
                        .cloned()
                        .unwrap_or_else(|| frames.thread_name_or_id()),
                    // pprof lists frames innermost first, and a frame's inlined calls innermost
                    // first too.
                    calls: frames
                        .frames
                        .iter()
                        .rev()
                        .flat_map(|f| f.iter().rev().map(|s| s.name()))
                        .collect(),
                    count: count.max(0) as u64,
                })
                .collect();
            write_atomic(&dir.join(format!("{workload}.folded")), &folded(&stacks))?;
            let text = dir.join(format!("{workload}.txt"));
            write_atomic(&text, &summary(workload, &stacks))?;
            Ok(Some(text))
        }
        #[cfg(not(feature = "profile"))]
        {
            let _ = (self, workload);
            Ok(None)
        }
    }
}

/// The two sampled windows of one training workload: the wait before its first step
/// (`<name>-first`) and its timed steps (`<name>`). Does nothing unless [`enable`] was called.
pub struct WorkloadProfile {
    name: String,
    first: Option<anyhow::Result<Window>>,
    timed: Option<anyhow::Result<Window>>,
    written: Vec<anyhow::Result<Option<PathBuf>>>,
}

impl WorkloadProfile {
    /// Starts sampling the wait for the first step of workload `name`.
    pub fn start(name: &str) -> Self {
        Self {
            name: name.to_string(),
            first: Some(Window::start()),
            timed: None,
            written: Vec::new(),
        }
    }

    /// The first step was submitted: ends the first window.
    pub fn first_step(&mut self) {
        if let Some(w) = self.first.take() {
            let name = format!("{}-first", self.name);
            self.written.push(w.and_then(|w| w.finish(&name)));
        }
    }

    /// The timed steps begin (ending the first window if a step event was missed: one sampler
    /// runs at a time).
    pub fn timed_start(&mut self) {
        self.first_step();
        self.timed = Some(Window::start());
    }

    /// The timed steps are over.
    pub fn timed_end(&mut self) {
        if let Some(w) = self.timed.take() {
            self.written.push(w.and_then(|w| w.finish(&self.name)));
        }
    }

    /// Says on stderr where each profile went, or fails with why one could not be taken or
    /// written.
    pub fn report(self) -> anyhow::Result<()> {
        for outcome in self.written {
            if let Some(path) = outcome? {
                eprintln!("CPU profile: {}", path.display());
            }
        }
        Ok(())
    }
}

/// One distinct sampled stack.
#[derive(Debug, Clone)]
pub struct Stack {
    /// The sampled thread's name (or id).
    pub thread: String,
    /// Function names, outermost first.
    pub calls: Vec<String>,
    /// How many samples had this stack.
    pub count: u64,
}

/// A label per sampled thread: its name, with `#2`, `#3`… added where threads share one (rayon's
/// workers and the main thread all carry the program's name), numbered in order of thread id.
pub fn thread_labels(
    threads: impl Iterator<Item = (String, u64)>,
) -> HashMap<(String, u64), String> {
    let mut ids: HashMap<String, Vec<u64>> = HashMap::new();
    for (name, id) in threads {
        ids.entry(name).or_default().push(id);
    }
    let mut labels = HashMap::new();
    for (name, mut list) in ids {
        list.sort_unstable();
        list.dedup();
        for (k, id) in list.iter().enumerate() {
            let label = if k == 0 {
                name.clone()
            } else {
                format!("{name}#{}", k + 1)
            };
            labels.insert((name.clone(), *id), label);
        }
    }
    labels
}

/// Folded stacks: `thread;outermost;…;innermost count` per line, sorted.
pub fn folded(stacks: &[Stack]) -> String {
    let mut lines: Vec<String> = stacks
        .iter()
        .map(|s| {
            let mut parts = vec![s.thread.replace(';', ":")];
            parts.extend(s.calls.iter().map(|c| c.replace(';', ":")));
            format!("{} {}", parts.join(";"), s.count)
        })
        .collect();
    lines.sort();
    lines.iter().map(|l| format!("{l}\n")).collect()
}

/// The text summary: samples per thread, then per thread the functions most often innermost
/// ("self") and anywhere on the stack ("total"), each as a share of that thread's samples.
pub fn summary(workload: &str, stacks: &[Stack]) -> String {
    let all: u64 = stacks.iter().map(|s| s.count).sum();
    let mut per_thread: HashMap<&str, u64> = HashMap::new();
    for s in stacks {
        *per_thread.entry(&s.thread).or_default() += s.count;
    }
    let mut threads: Vec<(&str, u64)> = per_thread.into_iter().collect();
    threads.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let pct = |n: u64, of: u64| 100.0 * n as f64 / of.max(1) as f64;
    let mut out = format!("{workload}: {all} samples of process CPU time\n\n");
    for (thread, n) in &threads {
        out += &format!("{:>6.1}%  {n:>7}  {thread}\n", pct(*n, all));
    }
    for (thread, n) in &threads {
        let mine: Vec<&Stack> = stacks.iter().filter(|s| s.thread == *thread).collect();
        let mut own: HashMap<&str, u64> = HashMap::new();
        let mut total: HashMap<&str, u64> = HashMap::new();
        for s in &mine {
            if let Some(leaf) = s.calls.last() {
                *own.entry(leaf).or_default() += s.count;
            }
            let mut seen: Vec<&str> = s.calls.iter().map(String::as_str).collect();
            seen.sort_unstable();
            seen.dedup();
            for f in seen {
                *total.entry(f).or_default() += s.count;
            }
        }
        for (title, table) in [("self", own), ("total", total)] {
            out += &format!("\n== {thread} ({n} samples): {title}\n");
            let mut rows: Vec<(&str, u64)> = table.into_iter().collect();
            rows.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
            for (f, c) in rows.into_iter().take(TOP) {
                out += &format!("{:>6.1}%  {c:>7}  {f}\n", pct(c, *n));
            }
        }
    }
    out
}

/// Writes `text` to a temporary file beside `path`, then renames it into place.
#[cfg(feature = "profile")]
fn write_atomic(path: &Path, text: &str) -> anyhow::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| anyhow::anyhow!("cannot write the profile {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stack(thread: &str, calls: &[&str], count: u64) -> Stack {
        Stack {
            thread: thread.into(),
            calls: calls.iter().map(|c| c.to_string()).collect(),
            count,
        }
    }

    #[test]
    fn threads_sharing_a_name_get_numbered() {
        let labels = thread_labels(
            [
                ("w".to_string(), 9),
                ("w".to_string(), 4),
                ("d".to_string(), 1),
                ("w".to_string(), 9),
            ]
            .into_iter(),
        );
        assert_eq!(labels.len(), 3);
        assert_eq!(labels[&("w".to_string(), 4)], "w");
        assert_eq!(labels[&("w".to_string(), 9)], "w#2");
        assert_eq!(labels[&("d".to_string(), 1)], "d");
    }

    #[test]
    fn folded_lines_run_outermost_first_with_counts() {
        let text = folded(&[stack("main", &["run", "step;x", "add"], 3)]);
        assert_eq!(text, "main;run;step:x;add 3\n");
        assert_eq!(folded(&[]), "", "a window without samples has no lines");
    }

    #[test]
    fn the_summary_counts_self_and_total_per_thread() {
        let stacks = [
            stack("main", &["run", "step", "add"], 6),
            stack("main", &["run", "alloc"], 2),
            stack("main", &["run", "step", "step"], 2),
            stack("dev", &["poll"], 10),
        ];
        let s = summary("tiger", &stacks);
        assert!(s.starts_with("tiger: 20 samples"), "{s}");
        assert!(s.contains(" 50.0%       10  main\n"), "{s}");
        // `step` is innermost twice, and on 8 of main's 10 samples (counted once per stack).
        let first_row = |title: &str| {
            s.split(title)
                .nth(1)
                .and_then(|rest| rest.lines().next())
                .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        };
        assert_eq!(
            first_row("== main (10 samples): self\n").as_deref(),
            Some("60.0% 6 add"),
            "{s}"
        );
        assert_eq!(
            first_row("== main (10 samples): total\n").as_deref(),
            Some("100.0% 10 run"),
            "{s}"
        );
        let step = s
            .lines()
            .filter(|l| l.ends_with("  step"))
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect::<Vec<_>>();
        assert_eq!(step, ["20.0% 2 step", "80.0% 8 step"], "{s}");
    }
}
