//! Continuous processing (`Trigger::Continuous`): stateless map/filter queries with
//! millisecond latency.
//!
//! Spark runs long-lived tasks that write continuously and checkpoint epochs every interval
//! (at-least-once). This engine gets the same latency from its cheap micro-batches: the
//! loop polls the sources every millisecond and runs an epoch as soon as rows arrive, each
//! epoch logged in the checkpoint like a micro-batch. That is at least as strong as Spark's
//! guarantee (exactly-once with an idempotent sink). The checkpoint interval is accepted
//! for compatibility but not needed: every epoch is checkpointed as it completes. Which
//! plans are allowed is checked up front with Spark's rules
//! ([`engine_core::analyzer::streaming_checks::check_continuous`]).

use std::time::Duration;

use engine_core::Result;

use super::microbatch::MicroBatchExecution;
use crate::queries::query::QueryInner;

/// Runs epochs until the query is stopped.
pub(crate) fn run(exec: &mut MicroBatchExecution, q: &QueryInner) -> Result<()> {
    // Poll fast: latency is the point of continuous mode.
    let idle = exec.polling_delay().min(Duration::from_millis(1));
    while !q.stopping() {
        if !exec.run_trigger(q)? {
            std::thread::sleep(idle);
        }
    }
    Ok(())
}
