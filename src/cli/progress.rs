//! Progress bar and log lines for training events.

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

/// An observer that drives `pb` and logs losses and validation metrics.
pub fn observer(pb: &ProgressBar) -> impl FnMut(TrainEvent) -> Flow + '_ {
    move |event| {
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
