//! State keys: a row of key columns in Arrow's row format, with the key's event time first
//! when it has one, so keys sort by event time and evicting everything at or before the
//! watermark is a range scan from the start (never a scan of all state).
//!
//! The event time (microseconds) is stored as a first key column, `__event_time BIGINT`, in
//! the same row format as the rest, so the key stays one decodable row (the restart check
//! and the State Data Source read it) and byte order is time order; a key whose event time
//! is NULL gets the largest time, so the watermark never evicts it (Spark's predicate is
//! NULL for it, not true).

use std::ops::Bound;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Int64Array};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, Int64Type, Schema, SchemaRef};
use engine_core::{EngineError, Result};
use engine_state::StateStore;
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
        let (t, outer) = match self {
            EventTimeKey::Timestamp(_) => (col.clone(), None),
            EventTimeKey::WindowEnd(_) => {
                let s = col.as_struct_opt().ok_or_else(|| {
                    EngineError::Internal("a window key that is not a struct".into())
                })?;
                (s.column(1).clone(), s.nulls().cloned())
            }
        };
        let t = cast(&t, &DataType::Int64)?;
        let t = t.as_primitive::<Int64Type>();
        Ok((0..t.len())
            .map(|i| {
                // A NULL window has no end.
                let null = t.is_null(i) || outer.as_ref().is_some_and(|n| n.is_null(i));
                (!null).then(|| t.value(i))
            })
            .collect())
    }
}

/// The column a key's event time is stored in, first.
pub const EVENT_TIME_COLUMN: &str = "__event_time";

/// A key whose event time is NULL sorts after every time, so the watermark never evicts it.
const NULL_TIME: i64 = i64::MAX;

/// Encodes and decodes the keys of one store.
#[derive(Debug)]
pub struct StateKeys {
    /// Rows of the stored key schema (the event time first when there is one).
    codec: Option<RowCodec>,
    event_time: Option<EventTimeKey>,
    /// The key columns' schema (without the event time).
    keys: SchemaRef,
}

impl StateKeys {
    /// Keys of `schema` (the key columns; empty for a global aggregation, whose one key is
    /// the empty string), sorted by `event_time` when given.
    pub fn new(schema: SchemaRef, event_time: Option<EventTimeKey>) -> Result<StateKeys> {
        let stored = stored_schema(&schema, event_time.is_some());
        let codec = if stored.fields().is_empty() {
            None
        } else {
            Some(RowCodec::new(stored)?)
        };
        Ok(StateKeys {
            codec,
            event_time,
            keys: schema,
        })
    }

    /// Where the event time is, if the keys have one.
    pub fn event_time(&self) -> Option<EventTimeKey> {
        self.event_time
    }

    /// The schema keys are stored with (what the restart check and the State Data Source
    /// see): `__event_time BIGINT` first when the keys have an event time, then the keys.
    pub fn stored_schema(&self) -> SchemaRef {
        stored_schema(&self.keys, self.event_time.is_some())
    }

    /// The stored key of every row of `columns`, and its event time.
    pub fn encode(&self, columns: &[ArrayRef], rows: usize) -> Result<Vec<(Vec<u8>, Option<i64>)>> {
        let times = match self.event_time {
            Some(e) => e.times(columns)?,
            None => vec![None; rows],
        };
        let Some(codec) = &self.codec else {
            return Ok(times.into_iter().map(|t| (Vec::new(), t)).collect());
        };
        let mut all = Vec::with_capacity(columns.len() + 1);
        if self.event_time.is_some() {
            let sortable: Int64Array = times.iter().map(|t| Some(t.unwrap_or(NULL_TIME))).collect();
            all.push(Arc::new(sortable) as ArrayRef);
        }
        all.extend(columns.iter().cloned());
        let encoded = codec.encode(&all)?;
        Ok((0..rows)
            .map(|i| (encoded.row(i).as_ref().to_vec(), times[i]))
            .collect())
    }

    /// The key columns of stored keys.
    pub fn decode(&self, keys: &[&[u8]]) -> Result<Vec<ArrayRef>> {
        match &self.codec {
            Some(c) => {
                let mut cols = c.decode(keys.iter().copied())?;
                if self.event_time.is_some() && !cols.is_empty() {
                    cols.remove(0);
                }
                Ok(cols)
            }
            None => Ok(vec![]),
        }
    }

    /// The (exclusive) end of the key range whose event time is at or before
    /// `watermark_us`, which starts at the first key; `None` when the keys have no event
    /// time (nothing is evicted by the watermark).
    pub fn evictable_end(&self, watermark_us: i64) -> Result<Option<Vec<u8>>> {
        if self.event_time.is_none() {
            return Ok(None);
        }
        let bound = watermark_us.checked_add(1).unwrap_or(NULL_TIME);
        let codec = RowCodec::new(Arc::new(Schema::new(vec![Field::new(
            EVENT_TIME_COLUMN,
            DataType::Int64,
            false,
        )])))?;
        let rows = codec.encode(&[Arc::new(Int64Array::from(vec![bound])) as ArrayRef])?;
        // Every stored key starts with its event time in the same encoding, so the bytes of
        // the time alone bound the keys at or before the watermark.
        Ok(Some(rows.row(0).as_ref().to_vec()))
    }
}

fn stored_schema(keys: &SchemaRef, with_time: bool) -> SchemaRef {
    if !with_time {
        return keys.clone();
    }
    let mut fields = vec![Field::new(EVENT_TIME_COLUMN, DataType::Int64, false)];
    fields.extend(keys.fields().iter().map(|f| f.as_ref().clone()));
    Arc::new(Schema::new(fields))
}

/// Removes and returns every pair whose key's event time is at or before `watermark_us`.
pub fn evict(
    store: &mut dyn StateStore,
    keys: &StateKeys,
    watermark_us: i64,
) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
    let Some(end) = keys.evictable_end(watermark_us)? else {
        return Ok(vec![]);
    };
    let pairs: Vec<(Vec<u8>, Vec<u8>)> = store
        .range(Bound::Unbounded, Bound::Excluded(end.as_slice()))?
        .collect::<Result<_>>()?;
    for (k, _) in &pairs {
        store.remove(k)?;
    }
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::datatypes::TimeUnit;

    #[test]
    fn keys_sort_by_event_time_and_the_bound_cuts_at_the_watermark() {
        let t = DataType::Timestamp(TimeUnit::Microsecond, None);
        let keys = StateKeys::new(
            Arc::new(Schema::new(vec![Field::new("t", t.clone(), true)])),
            Some(EventTimeKey::Timestamp(0)),
        )
        .unwrap();
        let times = vec![Some(5), Some(-3), None, Some(0), Some(i64::MIN), Some(6)];
        let col = cast(&Int64Array::from(times.clone()), &t).unwrap();
        let mut encoded = keys.encode(&[col], times.len()).unwrap();
        encoded.sort();
        let order: Vec<Option<i64>> = encoded.iter().map(|e| e.1).collect();
        assert_eq!(
            order,
            vec![Some(i64::MIN), Some(-3), Some(0), Some(5), Some(6), None]
        );
        let end = keys.evictable_end(5).unwrap().unwrap();
        let evicted: Vec<Option<i64>> = encoded
            .iter()
            .filter(|(k, _)| k.as_slice() < end.as_slice())
            .map(|e| e.1)
            .collect();
        assert_eq!(evicted, vec![Some(i64::MIN), Some(-3), Some(0), Some(5)]);
        let back = keys
            .decode(&encoded.iter().map(|e| e.0.as_slice()).collect::<Vec<_>>())
            .unwrap();
        assert_eq!(back.len(), 1);
        assert_eq!(back[0].len(), 6);
    }
}
