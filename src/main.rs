//! tiger-explorer command line. Every stage runs headless with progress bars; the desktop window
//! comes in a later release (with no subcommand the program prints usage).

mod cli;

use clap::Parser;

fn main() {
    let args = cli::Cli::parse();
    if let Err(e) = cli::run(args) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}
