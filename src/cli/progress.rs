//! Progress bar and log lines for training events.

use std::sync::atomic::AtomicBool;

use indicatif::ProgressBar;
use tiger_models::train::rqvae_loop::Flow;
use tiger_models::train::tiger_loop::TrainEvent;

/// Prints a line above the bar (or to stderr when the bar is hidden, e.g. not a terminal).
pub fn line(pb: &ProgressBar, text: String) {
    if pb.is_hidden() {
        eprintln!("{text}");
    } else {
        pb.println(text);
    }
}

/// An observer that drives `pb`, logs losses and validation metrics, and stops the loop once
/// `stop` is raised (Ctrl-C), which then saves its resumable state.
pub fn observer<'a>(
    pb: &'a ProgressBar,
    stop: &'a AtomicBool,
) -> impl FnMut(TrainEvent) -> Flow + 'a {
    let mut told = false;
    move |event| {
        if super::interrupt::raised(stop) {
            if !told {
                told = true;
                line(
                    pb,
                    "interrupted: saving the resumable state (Ctrl-C again to quit at once)".into(),
                );
            }
            return Flow::Cancel;
        }
        match event {
            TrainEvent::Phase(p) => pb.set_message(p),
            TrainEvent::Step { step, .. } => pb.set_position(step as u64),
            TrainEvent::Loss { step, loss, lr } => {
                line(pb, format!("step {step:>6}  loss {loss:.4}  lr {lr:.2e}"))
            }
            TrainEvent::Valid {
                step,
                metrics,
                best,
                ..
            } => {
                let r = |k| metrics.recall_at(k).unwrap_or(0.0);
                let n = |k| metrics.ndcg_at(k).unwrap_or(0.0);
                line(
                    pb,
                    format!(
                        "step {step:>6}  valid recall@5 {:.4}  recall@10 {:.4}  ndcg@5 {:.4}  ndcg@10 {:.4}{}",
                        r(5),
                        r(10),
                        n(5),
                        n(10),
                        if best { "  (best, saved)" } else { "" }
                    ),
                );
            }
        }
        Flow::Continue
    }
}
