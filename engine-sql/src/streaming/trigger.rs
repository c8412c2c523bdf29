//! When micro-batches run (Spark's `Trigger`).

use std::time::Duration;

use engine_core::Result;
use engine_core::interval::parse_interval;

/// When a streaming query runs its batches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// A batch every interval, aligned to multiples of it; a batch that runs late starts the
    /// next one at once, and missed triggers are not made up. `ProcessingTime(0)` (the
    /// default) runs the next batch as soon as the previous one ends.
    ProcessingTime(Duration),
    /// One batch of everything available, then stop. Deprecated in Spark (use
    /// [`Trigger::AvailableNow`]); starting a query with it logs a warning.
    Once,
    /// Everything available at start, split into batches by the sources' limits
    /// (`maxFilesPerTrigger`, ...), then stop.
    AvailableNow,
    /// Continuous processing with this checkpoint interval: stateless map/filter queries
    /// only, at-least-once, low latency.
    Continuous(Duration),
}

impl Default for Trigger {
    fn default() -> Self {
        Trigger::ProcessingTime(Duration::ZERO)
    }
}

impl Trigger {
    /// `Trigger.ProcessingTime("10 seconds")`.
    ///
    /// ```
    /// use engine_sql::streaming::Trigger;
    /// assert_eq!(Trigger::processing_time("1 second").unwrap(),
    ///            Trigger::ProcessingTime(std::time::Duration::from_secs(1)));
    /// ```
    pub fn processing_time(interval: &str) -> Result<Trigger> {
        Ok(Trigger::ProcessingTime(parse_interval(interval)?))
    }

    /// `Trigger.Continuous("1 second")`.
    pub fn continuous(interval: &str) -> Result<Trigger> {
        Ok(Trigger::Continuous(parse_interval(interval)?))
    }

    /// The next aligned trigger time after a trigger that started at `now_ms` (Spark's
    /// `ProcessingTimeExecutor.nextBatchTime`).
    pub fn next_batch_time(interval: Duration, now_ms: i64) -> i64 {
        let i = interval.as_millis() as i64;
        if i == 0 { now_ms } else { now_ms / i * i + i }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_batch_time_aligns_to_the_interval() {
        let i = Duration::from_millis(1000);
        assert_eq!(Trigger::next_batch_time(i, 0), 1000);
        assert_eq!(Trigger::next_batch_time(i, 999), 1000);
        assert_eq!(Trigger::next_batch_time(i, 1000), 2000);
        assert_eq!(Trigger::next_batch_time(i, 2500), 3000);
        assert_eq!(Trigger::next_batch_time(Duration::ZERO, 1234), 1234);
        assert_eq!(Trigger::default(), Trigger::ProcessingTime(Duration::ZERO));
    }
}
