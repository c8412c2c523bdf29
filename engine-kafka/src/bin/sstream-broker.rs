//! `sstream-broker`: the project's local Kafka broker (librdkafka's mock cluster) as a background
//! process. `cargo xtask broker ...` builds and runs this binary; see `engine_kafka::broker`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use engine_kafka::broker;

#[derive(Debug, Parser)]
#[command(
    name = "sstream-broker",
    about = "Local Kafka broker (librdkafka mock cluster)"
)]
struct Cli {
    /// State directory (pid, addresses, log); default $SSTREAM_BROKER_DIR or sstream-broker in the temp dir.
    #[arg(long, global = true)]
    dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Start the broker in the background (or reuse the running one); prints 127.0.0.1:PORT last.
    Start {
        /// Number of brokers in the cluster.
        #[arg(long, default_value_t = 1)]
        brokers: i32,
    },
    /// Stop the running broker.
    Stop,
    /// Print the running broker's address, or exit 1 if none is running.
    Status,
    /// Create a topic on the running broker (an existing topic is left as it is).
    CreateTopic {
        /// Topic name.
        topic: String,
        /// Number of partitions.
        #[arg(long, default_value_t = 1)]
        partitions: i32,
    },
    /// Run the broker in the foreground (what `start` spawns).
    Serve {
        /// Number of brokers in the cluster.
        #[arg(long, default_value_t = 1)]
        brokers: i32,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let dir = cli.dir.unwrap_or_else(broker::default_state_dir);
    let result = match cli.command {
        Cmd::Start { brokers } => std::env::current_exe()
            .map_err(|e| engine_core::EngineError::io("locating sstream-broker", e))
            .and_then(|exe| broker::start(&exe, &dir, brokers))
            .map(|(info, reused)| {
                eprintln!(
                    "{} broker pid {} (control {}, state {})",
                    if reused { "reusing" } else { "started" },
                    info.pid,
                    info.control,
                    dir.display()
                );
                println!("{}", info.bootstrap);
                true
            }),
        Cmd::Stop => broker::stop(&dir).map(|was| {
            eprintln!(
                "{}",
                if was {
                    "broker stopped"
                } else {
                    "no broker was running"
                }
            );
            true
        }),
        Cmd::Status => broker::status(&dir).map(|info| match info {
            Some(info) => {
                eprintln!("running: pid {} control {}", info.pid, info.control);
                println!("{}", info.bootstrap);
                true
            }
            None => {
                eprintln!("no broker running (state {})", dir.display());
                false
            }
        }),
        Cmd::CreateTopic { topic, partitions } => {
            broker::status(&dir).and_then(|info| match info {
                Some(info) => info.create_topic(&topic, partitions).map(|()| {
                    eprintln!("topic {topic} ready ({partitions} partitions)");
                    println!("{}", info.bootstrap);
                    true
                }),
                None => {
                    eprintln!("no broker running: run `cargo xtask broker start` first");
                    Ok(false)
                }
            })
        }
        Cmd::Serve { brokers } => broker::serve(&dir, brokers).map(|()| true),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("sstream-broker: {e}");
            ExitCode::FAILURE
        }
    }
}
