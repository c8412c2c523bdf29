//! Binding names: columns to relations, functions to implementations, stars to columns.

use crate::{EngineError, Result};

use super::lambda::{Resolver, Scope, lambda_outside_call, resolve_call};
use super::typecheck::coerce_expr;
use crate::expr::{Column, Expr};
use crate::functions::collection::{names_its_struct_field, specialize};
use crate::functions::{lookup_aggregate, lookup_higher_order, lookup_scalar, registry};
use crate::schema::PlanSchema;

/// Expands `*`, `t.*` and `struct_col.*` in a select list into columns.
pub fn expand_stars(exprs: &[Expr], schema: &PlanSchema) -> Result<Vec<Expr>> {
    let mut out = Vec::with_capacity(exprs.len());
    for e in exprs {
        match e {
            Expr::Star(None) => out.extend(
                schema
                    .fields()
                    .iter()
                    .map(|f| Expr::Column(Column::new(f.qualifier.as_deref(), f.name()))),
            ),
            Expr::Star(Some(q)) => {
                let rel = q.join(".");
                let hits: Vec<Expr> = schema
                    .fields()
                    .iter()
                    .filter(|f| {
                        f.qualifier
                            .as_deref()
                            .is_some_and(|fq| fq.eq_ignore_ascii_case(&rel))
                    })
                    .map(|f| Expr::Column(Column::new(f.qualifier.as_deref(), f.name())))
                    .collect();
                if !hits.is_empty() {
                    out.extend(hits);
                    continue;
                }
                // `s.*` on a struct column expands to its fields.
                let base = resolve_expr(&Expr::UnresolvedColumn(q.clone()), schema).ok();
                let fields = match &base {
                    Some(b) => match b.data_type(schema)? {
                        arrow::datatypes::DataType::Struct(fields) => Some(fields),
                        _ => None,
                    },
                    None => None,
                };
                match (base, fields) {
                    (Some(base), Some(fields)) => {
                        out.extend(fields.iter().map(|f| base.clone().field(f.name())))
                    }
                    _ => {
                        return Err(EngineError::analysis(
                            "CANNOT_RESOLVE_STAR_EXPAND",
                            format!(
                                "Cannot resolve {}.* given input columns {}. Please check that the specified table or struct exists and is accessible in the input columns. SQLSTATE: 42704",
                                crate::schema::quote_parts(q),
                                // Spark lists the input's column names unqualified.
                                schema
                                    .fields()
                                    .iter()
                                    .map(|f| crate::schema::quote_parts(&[f.name().to_string()]))
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                        ));
                    }
                }
            }
            other => out.push(other.clone()),
        }
    }
    Ok(out)
}

/// `struct(..)` arguments that have no name of their own are called `col<i>` after their
/// position among the arguments as written, a star counting as one (Spark names them
/// before it expands the stars: `struct(t.*, 2 * x)` has a field `col2`, whatever `t.*`
/// expands to).
fn name_struct_args_by_position(args: Vec<Expr>) -> Vec<Expr> {
    args.into_iter()
        .enumerate()
        .map(|(i, a)| {
            if matches!(a, Expr::Star(_)) || names_its_struct_field(&a) {
                a
            } else {
                a.alias(format!("col{}", i + 1))
            }
        })
        .collect()
}

/// Binds the columns and functions of `e` against `schema`, without inserting casts.
/// Lambdas are bound to the types their calls' arguments get under ANSI coercion.
pub fn resolve_expr(e: &Expr, schema: &PlanSchema) -> Result<Expr> {
    resolve_expr_with(e, schema, true)
}

/// [`resolve_expr`] under the session's `spark.sql.ansi.enabled`, which decides the types
/// the arguments of higher-order functions get, and so their lambdas' parameters.
pub fn resolve_expr_with(e: &Expr, schema: &PlanSchema, ansi: bool) -> Result<Expr> {
    // `struct(*)`, `to_json(struct(*))`: a star argument of a scalar function expands to
    // the input's columns, as in Spark (aggregates such as `count(*)` keep theirs).
    let e = if e.any(&|x| matches!(x, Expr::UnresolvedFunction { name, args, .. } if !crate::functions::is_aggregate_name(name) && args.iter().any(|a| matches!(a, Expr::Star(_))))) {
        e.clone().transform_down(&mut |x| match x {
            Expr::UnresolvedFunction { name, args, distinct }
                if !crate::functions::is_aggregate_name(&name)
                    && args.iter().any(|a| matches!(a, Expr::Star(_))) =>
            {
                let args = if name.eq_ignore_ascii_case("struct") {
                    name_struct_args_by_position(args)
                } else {
                    args
                };
                Ok(Expr::UnresolvedFunction {
                    name,
                    args: expand_stars(&args, schema)?,
                    distinct,
                })
            }
            other => Ok::<_, EngineError>(other),
        })?
    } else {
        e.clone()
    };
    resolve_scoped(e, schema, &Scope::default(), ansi)
}

/// Resolves `e` bottom-up; lambda parameters in `scope` shadow columns of the same name.
fn resolve_scoped(e: Expr, schema: &PlanSchema, scope: &Scope, ansi: bool) -> Result<Expr> {
    let resolve = |e: Expr, scope: &Scope| resolve_scoped(e, schema, scope, ansi);
    let type_of = |e: &Expr| coerce_expr(e.clone(), schema, ansi)?.data_type(schema);
    let resolver = Resolver {
        resolve: &resolve,
        type_of: &type_of,
    };
    match e {
        Expr::UnresolvedColumn(parts) => {
            match parts.split_first() {
                Some((first, fields)) if scope.lookup(first).is_some() => {
                    let mut out =
                        Expr::LambdaVariable(scope.lookup(first).cloned().ok_or_else(|| {
                            EngineError::Internal("lambda variable vanished".into())
                        })?);
                    for name in fields {
                        out = lambda_field(out, name, schema)?;
                    }
                    Ok(out)
                }
                _ => bind_node(Expr::UnresolvedColumn(parts), schema),
            }
        }
        Expr::LambdaVariable(v) => scope.bind(v),
        Expr::Lambda(_) => Err(lambda_outside_call(None)),
        Expr::HigherOrderFunction { func, args } => {
            resolve_call(func, args, false, scope, &resolver)
        }
        Expr::UnresolvedFunction {
            name,
            args,
            distinct: false,
        } if lookup_higher_order(&name).is_some() => match lookup_higher_order(&name) {
            Some(func) => resolve_call(func, args, true, scope, &resolver),
            None => Err(unknown_function(&name)),
        },
        Expr::UnresolvedFunction { name, args, .. }
            if args.iter().any(|a| matches!(a, Expr::Lambda(_))) =>
        {
            Err(if registry::all_names().contains(&name.to_lowercase()) {
                lambda_outside_call(Some(&name))
            } else {
                unknown_function(&name)
            })
        }
        other => {
            let e = other.map_children(|c| resolve_scoped(c, schema, scope, ansi))?;
            bind_node(e, schema)
        }
    }
}

/// `x.name` on a lambda variable (or a field of one): a struct field, found
/// case-insensitively, with Spark's errors for anything else.
fn lambda_field(base: Expr, name: &str, schema: &PlanSchema) -> Result<Expr> {
    let dt = base.data_type(schema)?;
    match crate::schema::struct_field(&dt, name) {
        Some(f) => Ok(base.field(f.name())),
        None => Err(crate::schema::no_such_field(
            name,
            &dt,
            &format!("\"{base}\""),
        )),
    }
}

/// Binds one node whose children are bound: a column, a function call, or a star.
fn bind_node(e: Expr, schema: &PlanSchema) -> Result<Expr> {
    match e {
        Expr::UnresolvedColumn(parts) => {
            let r = schema.resolve(&parts)?;
            let f = schema.field(r.index);
            let mut out = Expr::Column(Column::new(f.qualifier.as_deref(), f.name()));
            for name in r.nested {
                // Use the field's declared spelling so the output column name matches it.
                let dt = out.data_type(schema)?;
                let exact = crate::schema::struct_field(&dt, &name)
                    .map(|f| f.name().clone())
                    .unwrap_or(name);
                out = out.field(&exact);
            }
            Ok(out)
        }
        Expr::UnresolvedFunction {
            name,
            args,
            distinct,
        } => {
            if crate::logical::GeneratorKind::from_name(&name).is_some() {
                return Err(EngineError::analysis(
                    "UNSUPPORTED_GENERATOR.OUTSIDE_SELECT",
                    format!(
                        "The generator is not supported: outside the SELECT clause, found: {}. SQLSTATE: 42K0E",
                        Expr::UnresolvedFunction {
                            name: name.clone(),
                            args: args.clone(),
                            distinct
                        }
                    ),
                ));
            }
            if !distinct
                && let Some((func, args)) = crate::functions::json::specialize(&name, &args)?
            {
                return Ok(Expr::ScalarFunction { func, args });
            }
            if let Some(func) = lookup_aggregate(&name) {
                if args.iter().any(crate::functions::contains_aggregate) {
                    return Err(EngineError::analysis(
                        "NESTED_AGGREGATE_FUNCTION",
                        "It is not allowed to use an aggregate function in the argument of another aggregate function. Please use the inner aggregate function in a sub-query. SQLSTATE: 42607",
                    ));
                }
                let args = crate::functions::default_args::with_default_args(func.name(), args);
                return Ok(Expr::AggregateFunction {
                    func,
                    args,
                    distinct,
                });
            }
            match lookup_scalar(&name) {
                Some(func) if !distinct => {
                    let args = crate::functions::default_args::with_default_args(&name, args);
                    // Some functions need their arguments' names or literal values
                    // (`struct` field names, `round`'s result scale).
                    let func = specialize(&name, &args)?.unwrap_or(func);
                    Ok(Expr::ScalarFunction { func, args })
                }
                Some(_) => Err(EngineError::analysis(
                    "INVALID_SQL_SYNTAX.FUNCTION_WITH_UNSUPPORTED_SYNTAX",
                    format!(
                        "Invalid SQL syntax: The function `{name}` does not support DISTINCT. SQLSTATE: 42000"
                    ),
                )),
                None => Err(unknown_function(&name)),
            }
        }
        Expr::Star(_) => Err(EngineError::analysis(
            "INVALID_USAGE_OF_STAR_OR_REGEX",
            format!("Invalid usage of '*' in expression `{e}`. SQLSTATE: 42000"),
        )),
        other => Ok(other),
    }
}

fn unknown_function(name: &str) -> EngineError {
    let mut close: Vec<(usize, String)> = registry::all_names()
        .into_iter()
        .map(|n| (strsim::levenshtein(name, &n), n))
        .filter(|(d, _)| *d <= 2)
        .collect();
    close.sort();
    let hint = match close.first() {
        Some((_, n)) => format!(" Did you mean `{n}`?"),
        None => String::new(),
    };
    EngineError::analysis(
        "UNRESOLVED_ROUTINE",
        format!(
            "Cannot resolve routine `{name}` on search path [`system`.`builtin`, `system`.`session`, `spark_catalog`.`default`].{hint} SQLSTATE: 42883"
        ),
    )
}
