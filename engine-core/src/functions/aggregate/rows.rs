//! Arrow row-format helpers shared by the aggregates that keep values as rows (`min`/`max`
//! on non-primitive types, `first`/`last`, `collect_list`/`collect_set`, `max_by`/`min_by`):
//! turning kept rows back into arrays.

use std::sync::Arc;

use crate::Result;
use arrow::array::{ArrayRef, ListArray};
use arrow::buffer::OffsetBuffer;
use arrow::datatypes::{DataType, Field};
use arrow::row::{OwnedRow, RowConverter};

/// Converts optional rows back to one array; `None` becomes NULL.
pub(super) fn rows_to_array(
    converter: &RowConverter,
    rows: &[Option<OwnedRow>],
) -> Result<ArrayRef> {
    // Encode NULL with a NULL row of the same converter so one conversion handles all.
    let null_row = {
        let field = converter_field(converter)?;
        let nulls = arrow::array::new_null_array(&field, 1);
        converter.convert_columns(&[nulls])?.row(0).owned()
    };
    let all = rows
        .iter()
        .map(|r| r.as_ref().map_or(null_row.row(), |r| r.row()));
    let mut cols = converter.convert_rows(all)?;
    Ok(cols.remove(0))
}

fn converter_field(converter: &RowConverter) -> Result<DataType> {
    // A RowConverter does not expose its fields; an empty conversion tells the type.
    let cols = converter.convert_rows(std::iter::empty())?;
    Ok(cols[0].data_type().clone())
}

/// One list per group from the rows of each group's elements, as `collect_list` and
/// `collect_set` return them (element field `element`, nullable, as `types::list_of`).
pub(super) fn rows_to_list<'a>(
    converter: &RowConverter,
    element_type: &DataType,
    lists: impl Iterator<Item = &'a [OwnedRow]> + Clone,
) -> Result<ArrayRef> {
    let offsets = OffsetBuffer::from_lengths(lists.clone().map(<[OwnedRow]>::len));
    let mut cols = converter.convert_rows(lists.flatten().map(|r| r.row()))?;
    let values = cols.remove(0);
    let field = Arc::new(Field::new("element", element_type.clone(), true));
    Ok(Arc::new(ListArray::try_new(field, offsets, values, None)?))
}
