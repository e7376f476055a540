//! How busy each of this process's threads was over a timed window, from the kernel's per-thread
//! CPU counters (`/proc/self/task/*/stat`, Linux). A training step on burn-wgpu crosses threads:
//! the training thread records operations, the device thread that cubecl names `DSU-…` runs fusion
//! and launches kernels. When steps/s does not change with the batch size, the step waits on one of
//! them, and a share near 100 % says which. Spinning waits also count as busy, so a share is an
//! upper bound on useful work: cubecl's channels spin while they wait, and on the H200 every thread
//! of the chain read 75–99 %. [`super::sampler`] (`tiger-bench run --profile`) tells the work from
//! the waiting.

use std::collections::HashMap;
use std::time::Instant;

/// Clock ticks per second of the counters (`CLK_TCK`, 100 on Linux).
const TICKS_PER_S: f64 = 100.0;
/// Shortest window whose shares are reported (a 10 ms tick is then at most a 2 % error).
pub const MIN_WINDOW_S: f64 = 0.5;

/// Per-thread CPU ticks at one moment: thread id → (name, user + system ticks).
fn read() -> HashMap<u32, (String, u64)> {
    let mut out = HashMap::new();
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return out;
    };
    let process = std::env::current_exe()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()));
    for task in tasks.flatten() {
        let Some(tid) = task
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else {
            continue;
        };
        if let Some((name, ticks)) = parse_stat(&stat) {
            out.insert(tid, (label(tid, name, process.as_deref()), ticks));
        }
    }
    out
}

/// `main` for the process's first thread; other threads keep their name, with the thread id
/// added where a thread inherited the name of the `process`'s executable (driver threads often
/// do).
fn label(tid: u32, name: String, process: Option<&str>) -> String {
    if tid == std::process::id() {
        return "main".into();
    }
    // The kernel keeps the first 15 bytes of a thread's name.
    match process {
        Some(p) if p.as_bytes().get(..name.len()) == Some(name.as_bytes()) => {
            format!("{name}/{tid}")
        }
        _ => name,
    }
}

/// The name and user + system ticks from one `stat` line: `tid (name) state … utime stime …`
/// (the name may hold spaces and parentheses, so the fields are counted after the last `)`).
fn parse_stat(stat: &str) -> Option<(String, u64)> {
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let name = stat.get(open + 1..close)?.to_string();
    let rest: Vec<&str> = stat.get(close + 1..)?.split_whitespace().collect();
    // Field 3 (state) is rest[0]; utime and stime are fields 14 and 15.
    let utime: u64 = rest.get(11)?.parse().ok()?;
    let stime: u64 = rest.get(12)?.parse().ok()?;
    Some((name, utime + stime))
}

/// A finished window.
#[derive(Debug, Clone)]
pub struct Timed {
    /// Its length in seconds.
    pub secs: f64,
    /// Each thread's busy share, busiest first (see [`describe`]).
    pub shares: Vec<(String, f64)>,
}

/// The counters at the start of a window.
#[derive(Debug, Clone)]
pub struct ThreadClock {
    at: Instant,
    ticks: HashMap<u32, (String, u64)>,
}

impl ThreadClock {
    /// Starts a window now.
    pub fn start() -> Self {
        Self {
            at: Instant::now(),
            ticks: read(),
        }
    }

    /// Ends the window: its length, and each thread's share of it spent on a CPU.
    pub fn stop(&self) -> Timed {
        let secs = self.at.elapsed().as_secs_f64();
        Timed {
            secs,
            shares: self.busy(secs),
        }
    }

    /// Each thread's share of a window of `wall` seconds spent on a CPU (0–1), busiest first;
    /// threads born during the window count from zero. Empty for a window under
    /// [`MIN_WINDOW_S`]: the counters tick every 10 ms, too coarse for it.
    fn busy(&self, wall: f64) -> Vec<(String, f64)> {
        if wall < MIN_WINDOW_S {
            return Vec::new();
        }
        let mut shares: Vec<(String, f64)> = read()
            .into_iter()
            .map(|(tid, (name, now))| {
                let before = self.ticks.get(&tid).map_or(0, |(_, t)| *t);
                let secs = now.saturating_sub(before) as f64 / TICKS_PER_S;
                (name, secs / wall)
            })
            .collect();
        shares.sort_by(|a, b| b.1.total_cmp(&a.1));
        shares
    }
}

/// `threads busy: main 97%, DSU-100-0 41%` for the threads at or above 5 % (at most four).
pub fn describe(shares: &[(String, f64)]) -> String {
    let busy: Vec<String> = shares
        .iter()
        .filter(|(_, s)| *s >= 0.05)
        .take(4)
        .map(|(name, s)| format!("{name} {:.0}%", s * 100.0))
        .collect();
    if shares.is_empty() {
        format!("threads busy: not measured (timed window under {MIN_WINDOW_S} s)")
    } else if busy.is_empty() {
        "threads busy: none above 5%".into()
    } else {
        format!("threads busy: {}", busy.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stat_line_gives_name_and_ticks() {
        let line = "4242 (DSU-1 (x)) S 1 2 3 4 5 6 7 8 9 10 250 31 0 0 20 0 9 0 100 0 0";
        assert_eq!(parse_stat(line), Some(("DSU-1 (x)".into(), 281)));
        assert_eq!(parse_stat("garbage"), None);
        assert_eq!(parse_stat("1 (short) S 1 2"), None);
    }

    #[test]
    fn a_spinning_thread_is_busier_than_a_sleeping_one() {
        let clock = ThreadClock::start();
        let spin = std::thread::Builder::new()
            .name("bench-spinner".into())
            .spawn(|| {
                let until = Instant::now() + std::time::Duration::from_millis(400);
                let mut x = 0u64;
                while Instant::now() < until {
                    x = x.wrapping_mul(31).wrapping_add(7);
                }
                std::hint::black_box(x);
                // Still alive when the shares are read.
                std::thread::sleep(std::time::Duration::from_millis(500));
            })
            .unwrap();
        let sleep = std::thread::Builder::new()
            .name("bench-sleeper".into())
            .spawn(|| std::thread::sleep(std::time::Duration::from_millis(1000)))
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(700));
        let shares = clock.stop().shares;
        spin.join().unwrap();
        sleep.join().unwrap();
        let share = |n: &str| shares.iter().find(|(name, _)| name == n).map(|(_, s)| *s);
        let spinning = share("bench-spinner").expect("the spinner is listed");
        let sleeping = share("bench-sleeper").expect("the sleeper is listed");
        assert!(spinning > sleeping, "{shares:?}");
        assert!(spinning > 0.1, "{shares:?}");
        assert!(describe(&shares).starts_with("threads busy: "));
        assert!(describe(&[]).contains("not measured"));
    }
}
