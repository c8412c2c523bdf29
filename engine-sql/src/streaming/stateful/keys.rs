//! State keys: a row of key columns in Arrow's row format, prefixed by the key's event time
//! when it has one, so keys sort by event time and evicting everything at or before the
//! watermark is a range scan from the start (never a scan of all state).
//!
//! The prefix is the event time in microseconds as 8 big-endian bytes with the sign bit
//! flipped (byte order is numeric order); a key whose event time is NULL gets the largest
//! prefix, so the watermark never evicts it (Spark's predicate is NULL for it, not true).

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Int64Type, SchemaRef};
use engine_core::{EngineError, Result};
use engine_state::rows::RowCodec;

/// Where a key's event time is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventTimeKey {
    /// Key column `i` is a TIMESTAMP event time.
    Timestamp(usize),
    /// Key column `i` is a window; its `end` is the event time (Spark evicts a window once
    /// the watermark reaches its end).
    WindowEnd(usize),
}

impl EventTimeKey {
    /// The key column.
    pub fn column(self) -> usize {
        match self {
            EventTimeKey::Timestamp(i) | EventTimeKey::WindowEnd(i) => i,
        }
    }

    /// The event times of `columns` (the key columns), microseconds.
    pub fn times(self, columns: &[ArrayRef]) -> Result<Vec<Option<i64>>> {
        let col = columns.get(self.column()).ok_or_else(|| {
            EngineError::Internal(format!(
                "no key column {} for the event time",
                self.column()
            ))
        })?;
        let t = match self {
            EventTimeKey::Timestamp(_) => col.clone(),
            EventTimeKey::WindowEnd(_) => {
                let s = col.as_struct_opt().ok_or_else(|| {
                    EngineError::Internal("a window key that is not a struct".into())
                })?;
                let end = s.column(1).clone();
                match s.nulls() {
                    Some(n) => {
                        // A NULL window has no end.
                        let data = end.to_data().into_builder().nulls(Some(
                            arrow::buffer::NullBuffer::union(Some(n), end.nulls())
                                .unwrap_or_else(|| n.clone()),
                        ));
                        arrow::array::make_array(data.build()?)
                    }
                    None => end,
                }
            }
        };
        let t = cast(&t, &DataType::Int64)?;
        Ok(t.as_primitive::<Int64Type>().iter().collect())
    }
}

/// Encodes and decodes the keys of one store.
#[derive(Debug)]
pub struct StateKeys {
    codec: Option<RowCodec>,
    event_time: Option<EventTimeKey>,
}

const PREFIX: usize = 8;

fn prefix(t: Option<i64>) -> [u8; PREFIX] {
    match t {
        Some(t) => ((t as u64) ^ (1 << 63)).to_be_bytes(),
        None => [0xff; PREFIX],
    }
}

impl StateKeys {
    /// Keys of `schema` (the key columns; empty for a global aggregation, whose one key is
    /// the empty string), sorted by `event_time` when given.
    pub fn new(schema: SchemaRef, event_time: Option<EventTimeKey>) -> Result<StateKeys> {
        let codec = if schema.fields().is_empty() {
            None
        } else {
            Some(RowCodec::new(schema)?)
        };
        Ok(StateKeys { codec, event_time })
    }

    /// Where the event time is, if the keys have one.
    pub fn event_time(&self) -> Option<EventTimeKey> {
        self.event_time
    }

    /// The stored key of every row of `columns`, and its event time.
    pub fn encode(&self, columns: &[ArrayRef], rows: usize) -> Result<Vec<(Vec<u8>, Option<i64>)>> {
        let times = match self.event_time {
            Some(e) => e.times(columns)?,
            None => vec![None; rows],
        };
        let encoded = match &self.codec {
            Some(c) => Some(c.encode(columns)?),
            None => None,
        };
        Ok((0..rows)
            .map(|i| {
                let mut key = Vec::new();
                if self.event_time.is_some() {
                    key.extend_from_slice(&prefix(times[i]));
                }
                if let Some(r) = &encoded {
                    key.extend_from_slice(r.row(i).as_ref());
                }
                (key, times[i])
            })
            .collect())
    }

    /// The key columns of stored keys.
    pub fn decode(&self, keys: &[&[u8]]) -> Result<Vec<ArrayRef>> {
        let skip = if self.event_time.is_some() { PREFIX } else { 0 };
        match &self.codec {
            Some(c) => c.decode(keys.iter().map(|k| k.get(skip..).unwrap_or_default())),
            None => Ok(vec![]),
        }
    }

    /// The (exclusive) end of the key range whose event time is at or before
    /// `watermark_us`, which starts at the first key; `None` when the keys have no event
    /// time (nothing is evicted by the watermark).
    pub fn evictable_end(&self, watermark_us: i64) -> Option<Vec<u8>> {
        self.event_time?;
        Some(match watermark_us.checked_add(1) {
            Some(next) => prefix(Some(next)).to_vec(),
            None => prefix(None).to_vec(),
        })
    }
}

/// The schema of the key columns among `schema`'s fields.
pub fn key_schema(schema: &SchemaRef, columns: &[usize]) -> Result<SchemaRef> {
    Ok(Arc::new(schema.project(columns)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_sort_numerically_and_null_last() {
        let mut v = [
            Some(5),
            Some(-3),
            None,
            Some(0),
            Some(i64::MIN),
            Some(i64::MAX - 1),
        ]
        .map(|t| (prefix(t), t));
        v.sort();
        let order: Vec<Option<i64>> = v.iter().map(|x| x.1).collect();
        assert_eq!(
            order,
            vec![
                Some(i64::MIN),
                Some(-3),
                Some(0),
                Some(5),
                Some(i64::MAX - 1),
                None
            ]
        );
    }
}
