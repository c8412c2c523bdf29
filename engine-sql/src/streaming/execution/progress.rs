//! Watermark tracking and progress timing for the executors.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use engine_core::logical::EventTimeSummary;

/// Spark's `WatermarkTracker`: per operator `max(event time) - delay`, never moving back;
/// an operator that has not seen data yet counts as 0. The query's watermark is the
/// minimum (policy `min`, default) or maximum (policy `max`,
/// `spark.sql.streaming.multipleWatermarkPolicy`) over operators, and only moves forward.
#[derive(Debug, Clone)]
pub struct WatermarkTracker {
    per_operator: Vec<Option<i64>>,
    use_max: bool,
    /// The current global watermark, ms.
    pub current_ms: i64,
}

impl WatermarkTracker {
    /// A tracker for `operators` watermark nodes starting at `current_ms`.
    pub fn new(operators: usize, use_max: bool, current_ms: i64) -> Self {
        WatermarkTracker {
            per_operator: vec![None; operators],
            use_max,
            current_ms,
        }
    }

    /// Folds in one batch's statistics (one per operator, with its delay).
    pub fn update(&mut self, stats: &[(EventTimeSummary, Duration)]) {
        if self.per_operator.is_empty() {
            return;
        }
        for (i, (s, delay)) in stats.iter().enumerate() {
            if s.count == 0 {
                continue;
            }
            // Spark's event time statistics are milliseconds (microseconds / 1000, truncated).
            let delay_ms = i64::try_from(delay.as_millis()).unwrap_or(i64::MAX);
            let candidate = (s.max / 1000).saturating_sub(delay_ms);
            if let Some(slot) = self.per_operator.get_mut(i) {
                *slot = Some(slot.map_or(candidate, |old| old.max(candidate)));
            }
        }
        let known = self.per_operator.iter().map(|w| w.unwrap_or(0));
        let chosen = if self.use_max {
            known.max()
        } else {
            known.min()
        };
        if let Some(c) = chosen
            && c > self.current_ms
        {
            self.current_ms = c;
        }
    }
}

/// Times the phases of one trigger (`durationMs` in progress).
#[derive(Debug, Default)]
pub struct Timings {
    /// Milliseconds per phase name.
    pub durations: BTreeMap<String, i64>,
}

impl Timings {
    /// Runs `f`, adding its wall time to `phase`.
    pub fn time<T>(&mut self, phase: &str, f: impl FnOnce() -> T) -> T {
        let start = Instant::now();
        let out = f();
        *self.durations.entry(phase.to_string()).or_insert(0) += start.elapsed().as_millis() as i64;
        out
    }
}

/// Merges the statistics of several operators into the progress `eventTime` map (ISO
/// strings), plus the batch watermark.
pub fn event_time_map(
    stats: &[(EventTimeSummary, Duration)],
    batch_watermark_ms: i64,
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    if stats.is_empty() {
        return out;
    }
    let seen: Vec<&EventTimeSummary> = stats
        .iter()
        .map(|(s, _)| s)
        .filter(|s| s.count > 0)
        .collect();
    if !seen.is_empty() {
        let min = seen.iter().map(|s| s.min).min().unwrap_or(0);
        let max = seen.iter().map(|s| s.max).max().unwrap_or(0);
        let sum: f64 = seen.iter().map(|s| s.sum).sum();
        let count: u64 = seen.iter().map(|s| s.count).sum();
        let avg = (sum / count as f64 / 1000.0).round() as i64;
        out.insert(
            "min".into(),
            super::super::format_timestamp_ms(min.div_euclid(1000)),
        );
        out.insert(
            "max".into(),
            super::super::format_timestamp_ms(max.div_euclid(1000)),
        );
        out.insert("avg".into(), super::super::format_timestamp_ms(avg));
    }
    out.insert(
        "watermark".into(),
        super::super::format_timestamp_ms(batch_watermark_ms),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(max_ms: i64) -> EventTimeSummary {
        EventTimeSummary {
            min: 0,
            max: max_ms * 1000,
            sum: 0.0,
            count: 1,
        }
    }

    #[test]
    fn watermark_is_min_across_operators_and_monotonic() {
        let d = Duration::from_secs(10);
        let mut t = WatermarkTracker::new(2, false, 0);
        // Operator 1 has seen nothing: it counts as 0, so the minimum stays at 0 (Spark).
        t.update(&[(s(100_000), d), (EventTimeSummary::default(), d)]);
        assert_eq!(t.current_ms, 0);
        t.update(&[(s(50_000), d), (s(60_000), d)]);
        // Operator 0 stays at 90s, operator 1 is at 50s.
        assert_eq!(t.current_ms, 50_000);
        t.update(&[(s(200_000), d), (s(40_000), d)]);
        // Operator 1 never moves back: min(190s, 50s).
        assert_eq!(t.current_ms, 50_000);
        t.update(&[(s(200_000), d), (s(150_000), d)]);
        assert_eq!(t.current_ms, 140_000);
        let mut max = WatermarkTracker::new(2, true, 0);
        max.update(&[(s(100_000), d), (EventTimeSummary::default(), d)]);
        assert_eq!(max.current_ms, 90_000);
    }
}
