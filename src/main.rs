//! tiger-explorer: with no subcommand it opens the desktop window on the bundled sample; every
//! stage also runs headless as a subcommand with progress bars.

mod cli;

use clap::Parser;

/// Where the last panic on the main thread was raised (`file:line`), for the error line.
static PANIC_AT: std::sync::Mutex<String> = std::sync::Mutex::new(String::new());

fn main() {
    // SAFETY: the first statement of `main`; no thread has been started.
    unsafe { tiger_kernels::device::make_cpu_the_default() };
    let args = cli::Cli::parse();
    // A panic on the main thread comes from the compute backend (device lost, out of device memory)
    // or from a bug: either way the command ends with one `error:` line (naming where it happened),
    // not a backtrace. Other threads, and runs with RUST_BACKTRACE set, keep the default report.
    let default_hook = std::panic::take_hook();
    let quiet = std::env::var_os("RUST_BACKTRACE").is_none();
    std::panic::set_hook(Box::new(move |info| {
        if quiet && std::thread::current().name() == Some("main") {
            if let (Some(at), Ok(mut slot)) = (info.location(), PANIC_AT.lock()) {
                *slot = format!("{}:{}", at.file(), at.line());
            }
        } else {
            default_hook(info);
        }
    }));
    let ran = std::panic::catch_unwind(|| cli::run(args));
    let failed = match ran {
        Ok(Ok(())) => return,
        Ok(Err(e)) => format!("{e:#}"),
        Err(panic) => {
            let text = tiger_kernels::device::panic_text(panic.as_ref());
            // Output piped into a reader that stopped early (`| head`): nothing left to say.
            if text.contains("Broken pipe") {
                std::process::exit(1);
            }
            let at = PANIC_AT.lock().map(|s| s.clone()).unwrap_or_default();
            let text = if at.is_empty() {
                text
            } else {
                format!("{text}, at {at}")
            };
            tiger_kernels::device::backend_failure(&text)
        }
    };
    eprintln!("error: {failed}");
    std::process::exit(1);
}
