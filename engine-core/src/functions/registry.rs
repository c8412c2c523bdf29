//! Name -> implementation lookup for every built-in function.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use super::{AggregateFunction, ScalarFunction};
use crate::expr::lambda::HigherOrderFunction;

struct Registry {
    scalars: HashMap<String, Arc<dyn ScalarFunction>>,
    aggregates: HashMap<String, Arc<dyn AggregateFunction>>,
    higher_order: HashMap<String, Arc<dyn HigherOrderFunction>>,
}

/// Each area's scalar functions; aliases are extra entries to the same object.
fn scalar_lists() -> Vec<Vec<(&'static str, Arc<dyn ScalarFunction>)>> {
    vec![
        super::string::functions(),
        super::math::functions(),
        super::datetime::functions(),
        super::collection::functions(),
        super::array_extra::functions(),
        super::array_set::functions(),
        super::array_nest::functions(),
        super::map_extra::functions(),
        super::datetime_make::functions(),
        super::datetime_calendar::functions(),
        super::datetime_part::functions(),
        super::datetime_units::functions(),
        super::datetime_ntz::functions(),
        super::math_trig::functions(),
        super::math_bits::functions(),
        super::math_sign::functions(),
        super::conditional::functions(),
        super::cast_functions::functions(),
        super::json::functions(),
        super::window::functions(),
        super::interval_make::functions(),
        super::hash::functions(),
        super::digest::functions(),
        super::string_extra::functions(),
        super::overlay::functions(),
        super::string_codes::functions(),
        super::encoding::functions(),
        super::regexp_extra::functions(),
        super::format_number::functions(),
        super::mask::functions(),
        super::try_arith::functions(),
        super::format_string::functions(),
        super::charset::functions(),
        super::datetime_convert::functions(),
        vec![
            ("sequence", Arc::new(super::sequence::Sequence)),
            ("map_concat", Arc::new(super::map_concat::MapConcat)),
        ],
    ]
}

fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let mut scalars = HashMap::new();
        for (name, f) in scalar_lists().into_iter().flatten() {
            scalars.insert(name.to_string(), f);
        }
        let mut aggregates = HashMap::new();
        for (name, f) in super::aggregate::functions() {
            aggregates.insert(name.to_string(), f);
        }
        let higher_order = super::higher_order::functions()
            .into_iter()
            .map(|(name, f)| (name.to_string(), f))
            .collect();
        Registry {
            scalars,
            aggregates,
            higher_order,
        }
    })
}

/// The scalar function called `name` (case-insensitive).
pub fn lookup_scalar(name: &str) -> Option<Arc<dyn ScalarFunction>> {
    registry().scalars.get(&name.to_lowercase()).cloned()
}

/// The aggregate function called `name` (case-insensitive).
pub fn lookup_aggregate(name: &str) -> Option<Arc<dyn AggregateFunction>> {
    registry().aggregates.get(&name.to_lowercase()).cloned()
}

/// The higher-order function (one taking lambdas) called `name` (case-insensitive).
pub fn lookup_higher_order(name: &str) -> Option<Arc<dyn HigherOrderFunction>> {
    registry().higher_order.get(&name.to_lowercase()).cloned()
}

/// True if `name` is an aggregate function.
pub fn is_aggregate_name(name: &str) -> bool {
    lookup_aggregate(name).is_some()
}

/// True if `e` contains an aggregate call, resolved or by a registered aggregate's name.
pub fn contains_aggregate(e: &crate::expr::Expr) -> bool {
    e.contains_aggregate_with(&is_aggregate_name)
}

/// Every registered name (for "did you mean" suggestions).
pub fn all_names() -> Vec<String> {
    let r = registry();
    let mut v: Vec<String> = r
        .scalars
        .keys()
        .chain(r.aggregates.keys())
        .chain(r.higher_order.keys())
        .cloned()
        .collect();
    v.sort();
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two areas registering one name would silently shadow one of them.
    #[test]
    fn every_name_is_registered_once() {
        let mut seen = std::collections::HashSet::new();
        let scalars = scalar_lists().into_iter().flatten().map(|(n, _)| n);
        let aggregates = super::super::aggregate::functions()
            .into_iter()
            .map(|(n, _)| n);
        let higher = super::super::higher_order::functions()
            .into_iter()
            .map(|(n, _)| n);
        let dups: Vec<&str> = scalars
            .chain(aggregates)
            .chain(higher)
            .filter(|n| !seen.insert(*n))
            .collect();
        assert!(dups.is_empty(), "registered twice: {dups:?}");
    }
}
