//! tiger-bench: speed measurements of tiger-explorer's training steps, inference, kernels and
//! window, recorded in docs/performance.md. A separate binary, so the window does not carry them.

mod cli;

use clap::Parser;

/// Speed measurements of tiger-explorer (docs/performance.md).
#[derive(Parser, Debug)]
#[command(name = "tiger-bench", version, about)]
struct Args {
    #[command(subcommand)]
    target: cli::BenchTarget,
}

fn main() {
    let args = Args::parse();
    let ran = tiger_kernels::Kernels::from_env()
        .map_err(anyhow::Error::msg)
        .and_then(|kernels| {
            kernels.install();
            cli::run(args.target)
        });
    if let Err(e) = ran {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}
