//! Builders for the higher-order functions with Rust closures as lambdas, as PySpark's
//! `F.transform(col, lambda x: x + 1)`: `transform(col("a"), |x| x + lit(1))`.
//!
//! A closure is called once, on fresh lambda variables, and its result becomes the lambda's
//! body. The variables get generated names (`x_0`, `acc_1`, ...; Spark's
//! `UnresolvedNamedLambdaVariable.freshVarName` does the same), so a closure nested in
//! another can read the outer one's variables without shadowing, and a column called `x`
//! stays reachable with `col("x")`. Once resolved, every variable is shown as Spark shows
//! it (`namedlambdavariable()`), so the column names are PySpark's.
//!
//! Rust has no overloading on a closure's arity, so the forms with an index have their own
//! names (`transform_with_index`, `filter_with_index`), and `aggregate` with a `finish`
//! lambda is `aggregate_finish`.

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::expr::lambda::{Lambda, LambdaVariable};
use crate::expr::{Expr, call};

/// Distinguishes the variables of every lambda built in this process.
static NEXT_VARIABLE: AtomicUsize = AtomicUsize::new(0);

/// A fresh unbound variable called `{base}_{n}`.
fn fresh(base: &str) -> LambdaVariable {
    let n = NEXT_VARIABLE.fetch_add(1, Ordering::Relaxed);
    LambdaVariable::unbound(format!("{base}_{n}"))
}

/// A one-parameter lambda from a closure.
fn lambda1(f: impl FnOnce(Expr) -> Expr) -> Expr {
    let x = fresh("x");
    let body = f(Expr::LambdaVariable(x.clone()));
    Expr::Lambda(Lambda::new(vec![x], body))
}

/// A two-parameter lambda from a closure; `names` are the bases of the generated names.
fn lambda2(names: [&str; 2], f: impl FnOnce(Expr, Expr) -> Expr) -> Expr {
    let (a, b) = (fresh(names[0]), fresh(names[1]));
    let body = f(
        Expr::LambdaVariable(a.clone()),
        Expr::LambdaVariable(b.clone()),
    );
    Expr::Lambda(Lambda::new(vec![a, b], body))
}

/// `transform(array, x -> f(x))`: `f` applied to every element.
pub fn transform(array: Expr, f: impl FnOnce(Expr) -> Expr) -> Expr {
    call("transform", vec![array, lambda1(f)])
}

/// `transform(array, (x, i) -> f(x, i))`: `f` of every element and its 0-based index.
pub fn transform_with_index(array: Expr, f: impl FnOnce(Expr, Expr) -> Expr) -> Expr {
    call("transform", vec![array, lambda2(["x", "i"], f)])
}

/// `filter(array, x -> f(x))`: the elements for which `f` is TRUE.
pub fn filter(array: Expr, f: impl FnOnce(Expr) -> Expr) -> Expr {
    call("filter", vec![array, lambda1(f)])
}

/// `filter(array, (x, i) -> f(x, i))`: the elements for which `f` of the element and its
/// index is TRUE.
pub fn filter_with_index(array: Expr, f: impl FnOnce(Expr, Expr) -> Expr) -> Expr {
    call("filter", vec![array, lambda2(["x", "i"], f)])
}

/// `exists(array, x -> f(x))`: TRUE if `f` holds for some element, NULL if it holds for
/// none but is NULL for some.
pub fn exists(array: Expr, f: impl FnOnce(Expr) -> Expr) -> Expr {
    call("exists", vec![array, lambda1(f)])
}

/// `forall(array, x -> f(x))`: TRUE if `f` holds for every element, NULL if it fails for
/// none but is NULL for some.
pub fn forall(array: Expr, f: impl FnOnce(Expr) -> Expr) -> Expr {
    call("forall", vec![array, lambda1(f)])
}

/// `aggregate(array, zero, (acc, x) -> merge(acc, x))`: folds the elements left to right;
/// `merge` must return `zero`'s type.
pub fn aggregate(array: Expr, zero: Expr, merge: impl FnOnce(Expr, Expr) -> Expr) -> Expr {
    call("aggregate", vec![array, zero, lambda2(["acc", "x"], merge)])
}

/// `aggregate(array, zero, merge, acc -> finish(acc))`: [`aggregate`], then `finish` of
/// the accumulator.
pub fn aggregate_finish(
    array: Expr,
    zero: Expr,
    merge: impl FnOnce(Expr, Expr) -> Expr,
    finish: impl FnOnce(Expr) -> Expr,
) -> Expr {
    call(
        "aggregate",
        vec![array, zero, lambda2(["acc", "x"], merge), lambda1(finish)],
    )
}

/// `reduce(array, zero, (acc, x) -> merge(acc, x))`: Spark's other name of [`aggregate`]
/// (and its column name).
pub fn reduce(array: Expr, zero: Expr, merge: impl FnOnce(Expr, Expr) -> Expr) -> Expr {
    call("reduce", vec![array, zero, lambda2(["acc", "x"], merge)])
}

/// `zip_with(left, right, (x, y) -> f(x, y))`: `f` of the elements at each position, the
/// shorter array padded with NULLs.
pub fn zip_with(left: Expr, right: Expr, f: impl FnOnce(Expr, Expr) -> Expr) -> Expr {
    call("zip_with", vec![left, right, lambda2(["x", "y"], f)])
}

/// `map_filter(map, (k, v) -> f(k, v))`: the entries for which `f` is TRUE.
pub fn map_filter(map: Expr, f: impl FnOnce(Expr, Expr) -> Expr) -> Expr {
    call("map_filter", vec![map, lambda2(["k", "v"], f)])
}

/// `transform_keys(map, (k, v) -> f(k, v))`: every key replaced by `f` of its entry.
pub fn transform_keys(map: Expr, f: impl FnOnce(Expr, Expr) -> Expr) -> Expr {
    call("transform_keys", vec![map, lambda2(["k", "v"], f)])
}

/// `transform_values(map, (k, v) -> f(k, v))`: every value replaced by `f` of its entry.
pub fn transform_values(map: Expr, f: impl FnOnce(Expr, Expr) -> Expr) -> Expr {
    call("transform_values", vec![map, lambda2(["k", "v"], f)])
}

/// `map_zip_with(left, right, (k, v1, v2) -> f(k, v1, v2))`: `f` of every key of either map
/// with its value in each (NULL where a map lacks the key).
pub fn map_zip_with(left: Expr, right: Expr, f: impl FnOnce(Expr, Expr, Expr) -> Expr) -> Expr {
    let (k, v1, v2) = (fresh("k"), fresh("v1"), fresh("v2"));
    let body = f(
        Expr::LambdaVariable(k.clone()),
        Expr::LambdaVariable(v1.clone()),
        Expr::LambdaVariable(v2.clone()),
    );
    call(
        "map_zip_with",
        vec![
            left,
            right,
            Expr::Lambda(Lambda::new(vec![k, v1, v2], body)),
        ],
    )
}

/// `array_sort(array)`: ascending, NULLs last.
pub fn array_sort(array: Expr) -> Expr {
    call("array_sort", vec![array])
}

/// `array_sort(array, (l, r) -> cmp(l, r))`: sorted by a comparator returning a negative,
/// zero or positive INT.
pub fn array_sort_by(array: Expr, cmp: impl FnOnce(Expr, Expr) -> Expr) -> Expr {
    call("array_sort", vec![array, lambda2(["left", "right"], cmp)])
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::expr::{col, lit};

    #[test]
    fn nested_closures_get_distinct_variables() {
        let e = transform(col("a"), |x| transform(col("b"), |y| x + y));
        let Expr::UnresolvedFunction { args, .. } = &e else {
            panic!("{e}")
        };
        let Expr::Lambda(outer) = &args[1] else {
            panic!("{e}")
        };
        let Expr::UnresolvedFunction { args: inner, .. } = outer.body.as_ref() else {
            panic!("{e}")
        };
        let Expr::Lambda(inner) = &inner[1] else {
            panic!("{e}")
        };
        assert_ne!(outer.params[0].name, inner.params[0].name);
    }

    #[test]
    fn builders_call_registered_higher_order_functions() {
        let exprs = [
            transform(col("a"), |x| x),
            transform_with_index(col("a"), |x, i| x + i),
            filter(col("a"), |x| x.gt(lit(0))),
            filter_with_index(col("a"), |_, i| i.gt(lit(0))),
            exists(col("a"), |x| x.is_null()),
            forall(col("a"), |x| x.is_null()),
            aggregate(col("a"), lit(0), |acc, x| acc + x),
            aggregate_finish(col("a"), lit(0), |acc, x| acc + x, |acc| acc),
            reduce(col("a"), lit(0), |acc, x| acc + x),
            zip_with(col("a"), col("b"), |x, y| x + y),
            map_filter(col("m"), |k, _| k.is_null()),
            transform_keys(col("m"), |k, _| k),
            transform_values(col("m"), |_, v| v),
            map_zip_with(col("m"), col("n"), |k, _, _| k),
            array_sort(col("a")),
            array_sort_by(col("a"), |l, r| l - r),
        ];
        for e in exprs {
            let Expr::UnresolvedFunction { name, .. } = &e else {
                panic!("{e}")
            };
            assert!(
                crate::functions::lookup_higher_order(name).is_some(),
                "{name}"
            );
        }
    }
}
