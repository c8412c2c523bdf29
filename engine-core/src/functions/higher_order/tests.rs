//! Unit tests of the higher-order functions' helpers.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, Int32Array, ListArray};
use arrow::buffer::{NullBuffer, OffsetBuffer};
use arrow::datatypes::{DataType, Field};

use super::Elements;

fn list(values: Vec<Option<i32>>, lengths: Vec<usize>, valid: Vec<bool>) -> ArrayRef {
    Arc::new(
        ListArray::try_new(
            Arc::new(Field::new("element", DataType::Int32, true)),
            OffsetBuffer::from_lengths(lengths),
            Arc::new(Int32Array::from(values)),
            Some(NullBuffer::from(valid)),
        )
        .unwrap(),
    )
}

#[test]
fn elements_flatten_rows_and_skip_null_rows() {
    // Row 1 is NULL but covers an element; it must not reach a lambda.
    let a = list(
        vec![Some(1), Some(2), Some(9), None, Some(4)],
        vec![2, 1, 2],
        vec![true, false, true],
    );
    let e = Elements::of_list(&a).unwrap();
    let values = e.values.as_any().downcast_ref::<Int32Array>().unwrap();
    assert_eq!(
        values.iter().collect::<Vec<_>>(),
        vec![Some(1), Some(2), None, Some(4)]
    );
    assert_eq!(e.rows.values().to_vec(), vec![0, 0, 2, 2]);
    assert_eq!(e.positions().values().to_vec(), vec![0, 1, 0, 1]);
    assert!(e.is_null(1) && !e.is_null(0));
    assert_eq!(e.range(1), 2..2);
}

#[test]
fn elements_of_a_sliced_list_start_at_its_first_element() {
    let a = list(
        vec![Some(1), Some(2), Some(3)],
        vec![1, 1, 1],
        vec![true, true, true],
    )
    .slice(1, 2);
    let e = Elements::of_list(&a).unwrap();
    let values = e.values.as_any().downcast_ref::<Int32Array>().unwrap();
    assert_eq!(values.values().to_vec(), vec![2, 3]);
    assert_eq!(e.rows.values().to_vec(), vec![0, 1]);
}
