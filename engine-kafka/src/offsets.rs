//! Kafka offsets in Spark's JSON form, the per-trigger rate limit and the split of offset ranges
//! into tasks (Spark's `KafkaSourceOffset`, `rateLimit` and `KafkaOffsetRangeCalculator`).

use std::collections::{BTreeMap, BTreeSet};

use engine_core::connector::Offset;
use engine_core::{EngineError, Result};

/// A topic-partition.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TopicPartition {
    /// Topic name.
    pub topic: String,
    /// Partition number.
    pub partition: i32,
}

impl TopicPartition {
    /// A topic-partition.
    pub fn new(topic: impl Into<String>, partition: i32) -> Self {
        TopicPartition {
            topic: topic.into(),
            partition,
        }
    }
}

impl std::fmt::Display for TopicPartition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Kafka's TopicPartition.toString, which Spark's messages print.
        write!(f, "{}-{}", self.topic, self.partition)
    }
}

/// Offset value meaning "latest" in `startingOffsets`/`endingOffsets` JSON.
pub const LATEST: i64 = -1;
/// Offset value meaning "earliest" in `startingOffsets`/`endingOffsets` JSON.
pub const EARLIEST: i64 = -2;

/// The next offset to read per topic-partition: Spark's `KafkaSourceOffset`.
pub type PartitionOffsets = BTreeMap<TopicPartition, i64>;

/// Renders offsets as Spark does: `{"topic":{"0":42,"1":17}}`, topics and partitions sorted
/// (partitions numerically), no spaces, so equal positions give equal text.
pub fn offsets_to_json(offsets: &PartitionOffsets) -> String {
    let mut by_topic: BTreeMap<&str, Vec<(i32, i64)>> = BTreeMap::new();
    for (tp, off) in offsets {
        by_topic
            .entry(tp.topic.as_str())
            .or_default()
            .push((tp.partition, *off));
    }
    let mut out = String::from("{");
    for (i, (topic, parts)) in by_topic.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&serde_json::Value::String((*topic).to_string()).to_string());
        out.push_str(":{");
        for (j, (p, off)) in parts.iter().enumerate() {
            if j > 0 {
                out.push(',');
            }
            out.push_str(&format!("\"{p}\":{off}"));
        }
        out.push('}');
    }
    out.push('}');
    out
}

/// The engine-core [`Offset`] of `offsets`.
pub fn to_offset(offsets: &PartitionOffsets) -> Offset {
    Offset::new(offsets_to_json(offsets))
}

/// Parses `{"topicA":{"0":23,"1":-1},"topicB":{"0":-2}}`; the error quotes Spark's.
pub fn offsets_from_json(json: &str) -> Result<PartitionOffsets> {
    let bad = || {
        EngineError::invalid_option(
            "offsets",
            format!(
                "Expected e.g. {{\"topicA\":{{\"0\":23,\"1\":-1}},\"topicB\":{{\"0\":-2}}}}, got {json}"
            ),
        )
    };
    let value: serde_json::Value = serde_json::from_str(json).map_err(|_| bad())?;
    let topics = value.as_object().ok_or_else(bad)?;
    let mut out = PartitionOffsets::new();
    for (topic, parts) in topics {
        for (p, off) in parts.as_object().ok_or_else(bad)? {
            let partition: i32 = p.parse().map_err(|_| bad())?;
            let off = off.as_i64().ok_or_else(bad)?;
            out.insert(TopicPartition::new(topic.clone(), partition), off);
        }
    }
    Ok(out)
}

/// Parses an engine-core [`Offset`] made by [`to_offset`].
pub fn from_offset(offset: &Offset) -> Result<PartitionOffsets> {
    offsets_from_json(offset.json())
}

/// Parses `assign`'s `{"topicA":[0,1],"topicB":[2,4]}`.
pub fn partitions_from_json(json: &str) -> Result<BTreeSet<TopicPartition>> {
    let bad = || {
        EngineError::invalid_option(
            "assign",
            format!("Expected e.g. {{\"topicA\":[0,1],\"topicB\":[0,1]}}, got {json}"),
        )
    };
    let value: serde_json::Value = serde_json::from_str(json).map_err(|_| bad())?;
    let mut out = BTreeSet::new();
    for (topic, parts) in value.as_object().ok_or_else(bad)? {
        for p in parts.as_array().ok_or_else(bad)? {
            let p = p
                .as_i64()
                .and_then(|p| i32::try_from(p).ok())
                .ok_or_else(bad)?;
            out.insert(TopicPartition::new(topic.clone(), p));
        }
    }
    Ok(out)
}

/// Parses `{"topicA":{"0":1700000000000}}` (per-partition timestamps) into a map.
pub fn timestamps_from_json(json: &str) -> Result<PartitionOffsets> {
    offsets_from_json(json).map_err(|_| {
        EngineError::invalid_option(
            "offsetsByTimestamp",
            format!("Expected e.g. {{\"topicA\":{{\"0\":1700000000000}}}}, got {json}"),
        )
    })
}

/// Spark's `rateLimit`: split `limit` offsets across partitions in proportion to how far each
/// is behind (`until - from`), never starving a partition with a little data (a share below
/// 1 rounds up), never going past `until`. Partitions missing from `from` start at
/// `new_partition_start` (their earliest offset).
pub fn rate_limit(
    limit: u64,
    from: &PartitionOffsets,
    until: &PartitionOffsets,
    new_partition_start: &PartitionOffsets,
) -> PartitionOffsets {
    let begin_of = |tp: &TopicPartition| from.get(tp).or_else(|| new_partition_start.get(tp));
    let sizes: BTreeMap<&TopicPartition, i64> = until
        .iter()
        .filter_map(|(tp, end)| {
            let size = end - begin_of(tp)?;
            (size > 0).then_some((tp, size))
        })
        .collect();
    let total: f64 = sizes.values().map(|s| *s as f64).sum();
    if total < 1.0 {
        return until.clone();
    }
    until
        .iter()
        .map(|(tp, end)| {
            let off = match (sizes.get(tp), begin_of(tp)) {
                (Some(size), Some(begin)) => {
                    let prorate = limit as f64 * (*size as f64 / total);
                    let prorate = if prorate < 1.0 {
                        prorate.ceil()
                    } else {
                        prorate.floor()
                    } as i64;
                    (*end).min(begin.saturating_add(prorate))
                }
                _ => *end,
            };
            (tp.clone(), off)
        })
        .collect()
}

/// One task's share of a batch: offsets `[from, until)` of one topic-partition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OffsetRange {
    /// The topic-partition.
    pub tp: TopicPartition,
    /// First offset to read.
    pub from: i64,
    /// One past the last offset to read.
    pub until: i64,
}

impl OffsetRange {
    /// Number of offsets in the range.
    pub fn size(&self) -> i64 {
        self.until - self.from
    }
}

/// Spark's `KafkaOffsetRangeCalculator.getRanges`: one task per non-empty topic-partition range,
/// unless `min_partitions` asks for more, in which case large ranges are split in proportion to
/// their size (small ones stay whole); `max_records_per_partition` caps every task's size.
pub fn split_ranges(
    ranges: Vec<OffsetRange>,
    min_partitions: Option<usize>,
    max_records_per_partition: Option<u64>,
) -> Vec<OffsetRange> {
    let ranges: Vec<OffsetRange> = ranges.into_iter().filter(|r| r.size() > 0).collect();
    let split = match min_partitions {
        Some(min) if ranges.len() < min => {
            let total: i64 = ranges.iter().map(OffsetRange::size).sum();
            let part_count = |size: i64, total: i64, min: usize| -> i64 {
                ((size as f64 / total as f64 * min as f64).round() as i64).max(1)
            };
            let unsplit: Vec<bool> = ranges
                .iter()
                .map(|r| part_count(r.size(), total, min) == 1)
                .collect();
            let unsplit_total: i64 = ranges
                .iter()
                .zip(&unsplit)
                .filter(|(_, u)| **u)
                .map(|(r, _)| r.size())
                .sum();
            let split_total = total - unsplit_total;
            let unsplit_count = unsplit.iter().filter(|u| **u).count();
            let split_min = min.saturating_sub(unsplit_count).max(1);
            let mut out = Vec::new();
            for (r, unsplit) in ranges.iter().zip(unsplit) {
                let parts = if unsplit {
                    1
                } else {
                    part_count(r.size(), split_total, split_min)
                };
                split_evenly(r, parts, &mut out);
            }
            out
        }
        _ => ranges,
    };
    match max_records_per_partition {
        Some(max) if max > 0 => {
            let max = i64::try_from(max).unwrap_or(i64::MAX);
            let mut out = Vec::new();
            for r in &split {
                // Sizes are positive here; this rounds up without overflowing near i64::MAX.
                let parts = (r.size() - 1) / max + 1;
                split_evenly(r, parts.max(1), &mut out);
            }
            out
        }
        _ => split,
    }
}

fn split_evenly(r: &OffsetRange, parts: i64, out: &mut Vec<OffsetRange>) {
    let mut remaining = r.size();
    let mut start = r.from;
    for part in 0..parts {
        // Integer division; the last part takes the remainder.
        let this = remaining / (parts - part);
        remaining -= this;
        let end = (start + this).min(r.until);
        if end > start {
            out.push(OffsetRange {
                tp: r.tp.clone(),
                from: start,
                until: end,
            });
        }
        start = end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tp(t: &str, p: i32) -> TopicPartition {
        TopicPartition::new(t, p)
    }

    #[test]
    fn json_round_trips_in_sparks_form() {
        let mut o = PartitionOffsets::new();
        o.insert(tp("b", 10), 5);
        o.insert(tp("b", 2), 7);
        o.insert(tp("a", 0), 42);
        let json = offsets_to_json(&o);
        assert_eq!(json, r#"{"a":{"0":42},"b":{"2":7,"10":5}}"#);
        assert_eq!(offsets_from_json(&json).unwrap(), o);
        assert!(offsets_from_json("[1]").is_err());
        assert_eq!(
            partitions_from_json(r#"{"t":[1,0]}"#).unwrap(),
            [tp("t", 0), tp("t", 1)].into_iter().collect()
        );
    }

    #[test]
    fn rate_limit_is_proportional_to_lag_and_never_starves() {
        let from: PartitionOffsets = [(tp("t", 0), 0), (tp("t", 1), 0), (tp("t", 2), 10)]
            .into_iter()
            .collect();
        let until: PartitionOffsets = [(tp("t", 0), 900), (tp("t", 1), 100), (tp("t", 2), 10)]
            .into_iter()
            .collect();
        let got = rate_limit(100, &from, &until, &PartitionOffsets::new());
        assert_eq!(got[&tp("t", 0)], 90);
        assert_eq!(got[&tp("t", 1)], 10);
        assert_eq!(got[&tp("t", 2)], 10);
        // A share below one offset still advances by one.
        let until: PartitionOffsets = [(tp("t", 0), 10_000), (tp("t", 1), 1)]
            .into_iter()
            .collect();
        let from: PartitionOffsets = [(tp("t", 0), 0), (tp("t", 1), 0)].into_iter().collect();
        let got = rate_limit(10, &from, &until, &PartitionOffsets::new());
        assert_eq!(got[&tp("t", 1)], 1);
        // New partitions start at their earliest offset.
        let new: PartitionOffsets = [(tp("t", 1), 0)].into_iter().collect();
        let from: PartitionOffsets = [(tp("t", 0), 0)].into_iter().collect();
        let until: PartitionOffsets = [(tp("t", 0), 50), (tp("t", 1), 50)].into_iter().collect();
        let got = rate_limit(10, &from, &until, &new);
        assert_eq!((got[&tp("t", 0)], got[&tp("t", 1)]), (5, 5));
    }

    #[test]
    fn min_partitions_splits_large_ranges_only() {
        let ranges = vec![
            OffsetRange {
                tp: tp("t", 0),
                from: 0,
                until: 1000,
            },
            OffsetRange {
                tp: tp("t", 1),
                from: 0,
                until: 10,
            },
            OffsetRange {
                tp: tp("t", 2),
                from: 5,
                until: 5,
            },
        ];
        assert_eq!(split_ranges(ranges.clone(), None, None).len(), 2);
        let got = split_ranges(ranges.clone(), Some(4), None);
        // t-1 is small and stays whole; t-0 takes the remaining three tasks.
        assert_eq!(got.len(), 4);
        assert_eq!(got.iter().filter(|r| r.tp == tp("t", 0)).count(), 3);
        let covered: i64 = got.iter().map(OffsetRange::size).sum();
        assert_eq!(covered, 1010);
        let capped = split_ranges(ranges.clone(), None, Some(300));
        assert!(capped.iter().all(|r| r.size() <= 300));
        assert_eq!(capped.len(), 5);
        // Regression (issue 16): a huge maxRecordsPerPartition overflowed the rounding up.
        assert_eq!(split_ranges(ranges, None, Some(u64::MAX)).len(), 2);
    }
}
