//! tiger-explorer: with no subcommand it opens the desktop window on the bundled sample; every stage
//! also runs headless as a subcommand with progress bars.

mod cli;

use clap::Parser;

fn main() {
    let args = cli::Cli::parse();
    if let Err(e) = cli::run(args) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}
