//! `sstream checkpoint inspect DIR`.

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, Subcommand};
use engine_cli::inspect::inspect;

/// Arguments of `sstream checkpoint`.
#[derive(Debug, Args)]
pub struct CheckpointArgs {
    #[command(subcommand)]
    what: CheckpointCommand,
}

#[derive(Debug, Subcommand)]
enum CheckpointCommand {
    /// Show a streaming checkpoint: the query id, committed and pending batches with their
    /// offsets and watermarks, source logs and state sizes.
    ///
    /// Example:
    ///   sstream checkpoint inspect /tmp/ckpt/orders
    Inspect {
        /// The query's checkpointLocation.
        dir: PathBuf,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Runs `sstream checkpoint`.
pub fn run(args: CheckpointArgs) -> Result<()> {
    match args.what {
        CheckpointCommand::Inspect { dir, json } => {
            let report = inspect(&dir)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{report}");
            }
        }
    }
    Ok(())
}
