//! Ctrl-C during training: the first stops the loop at the next step, which saves the resumable
//! state (`last`) as the window's Cancel does; a second one ends the process at once.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// A flag raised by the first Ctrl-C (SIGINT or SIGTERM). When the handlers cannot be installed
/// the flag never rises and Ctrl-C ends the process as before.
pub fn watch() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        // Registered first, so a second signal (the flag already up) exits with 130.
        let installed = signal_hook::flag::register_conditional_shutdown(signal, 130, flag.clone())
            .and_then(|_| signal_hook::flag::register(signal, flag.clone()));
        if let Err(e) = installed {
            eprintln!("warning: Ctrl-C will not save a checkpoint: {e}");
        }
    }
    flag
}

/// Whether Ctrl-C was pressed.
pub fn raised(flag: &AtomicBool) -> bool {
    flag.load(Ordering::Relaxed)
}
