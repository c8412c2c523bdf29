//! `sstream run PIPELINE.toml`: run a streaming query from a pipeline file, with a live status
//! line, until it ends (AvailableNow/Once) or Ctrl-C.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use engine_cli::pipeline::{read_pipeline, session_for, start_pipeline};
use engine_core::progress::{
    QueryProgressEvent, QueryStartedEvent, QueryTerminatedEvent, StreamingQueryListener,
    StreamingQueryProgress,
};
use indicatif::{ProgressBar, ProgressStyle};

/// Arguments of `sstream run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The pipeline file (TOML with Spark's option names; see `examples/`).
    pipeline: PathBuf,
    /// Override a key of the file, e.g. `--set sink.checkpointLocation=/tmp/ck`,
    /// `--set source.orders.options.maxFilesPerTrigger=1`,
    /// `--set conf.spark.sql.shuffle.partitions=2`. Repeatable.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// `status`: a live status line on stderr; `json`: every progress event as one JSON
    /// line on stdout (for scripts).
    #[arg(long, value_enum, default_value_t = ProgressFormat::Status)]
    progress: ProgressFormat,
}

/// How `run` reports progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ProgressFormat {
    Status,
    Json,
}

/// Prints each progress event as a JSON line (Spark's `StreamingQueryProgress.json`).
struct JsonLines;

impl StreamingQueryListener for JsonLines {
    fn on_query_started(&self, _event: &QueryStartedEvent) {}
    fn on_query_progress(&self, event: &QueryProgressEvent) {
        if let Ok(line) = event.progress.json() {
            println!("{line}");
        }
    }
    fn on_query_terminated(&self, _event: &QueryTerminatedEvent) {}
}

/// Runs `sstream run`.
pub fn run(args: RunArgs) -> Result<()> {
    let pipeline = read_pipeline(&args.pipeline, &args.set)?;
    let spark = session_for(&pipeline)?;
    if args.progress == ProgressFormat::Json {
        spark.streams().add_listener(Arc::new(JsonLines));
    }

    // First Ctrl-C: stop after the current batch commits, exit 0. Second: abort now; the
    // checkpoint still lets the next run replay the unfinished batch.
    let interrupts = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&interrupts);
    ctrlc::set_handler(move || {
        if seen.fetch_add(1, Ordering::SeqCst) >= 1 {
            eprintln!("\nsecond interrupt: aborting (the next run replays the unfinished batch)");
            std::process::exit(130);
        }
    })
    .context("installing the Ctrl-C handler")?;

    let query = start_pipeline(&spark, &pipeline)?;
    let bar = if args.progress == ProgressFormat::Status {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_message(format!("started query {}", query.id()));
        bar.enable_steady_tick(Duration::from_millis(200));
        Some(bar)
    } else {
        None
    };

    let mut stopping = false;
    loop {
        if query.await_termination(Some(Duration::from_millis(200)))? {
            break;
        }
        if interrupts.load(Ordering::SeqCst) > 0 && !stopping {
            stopping = true;
            if let Some(bar) = &bar {
                bar.set_message("stopping after the current batch commits (Ctrl-C again to abort)");
            }
            query.stop()?;
        }
        if let (Some(bar), Some(p)) = (&bar, query.last_progress())
            && !stopping
        {
            bar.set_message(status_line(&p));
        }
    }
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    if let Some(e) = query.exception() {
        return Err(anyhow::anyhow!("query {} failed: {e}", query.id()));
    }
    let progress = query.recent_progress();
    let rows: i64 = progress.iter().map(|p| p.num_input_rows).sum();
    eprintln!(
        "query {} stopped: {} batches this run, {rows} input rows; checkpoint in {}",
        query.id(),
        progress.len(),
        pipeline
            .sink
            .checkpoint_location
            .as_deref()
            .unwrap_or("a temporary directory")
    );
    Ok(())
}

/// One line of live status from the last progress report.
fn status_line(p: &StreamingQueryProgress) -> String {
    let behind: Vec<String> = p
        .sources
        .iter()
        .filter_map(|s| s.metrics.get("avgOffsetsBehindLatest").cloned())
        .collect();
    let state_rows: i64 = p.state_operators.iter().map(|s| s.num_rows_total).sum();
    let watermark = p
        .event_time
        .get("watermark")
        .map(String::as_str)
        .unwrap_or("-");
    format!(
        "batch {} | in {:.0} rows/s | processed {:.0} rows/s | behind {} | watermark {} | state rows {} | last batch {} ms",
        p.batch_id,
        finite(p.input_rows_per_second),
        finite(p.processed_rows_per_second),
        if behind.is_empty() {
            "-".to_string()
        } else {
            behind.join(",")
        },
        watermark,
        state_rows,
        p.batch_duration
    )
}

fn finite(v: f64) -> f64 {
    if v.is_finite() { v } else { 0.0 }
}
