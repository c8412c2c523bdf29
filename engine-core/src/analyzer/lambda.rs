//! Binding lambdas: Spark's `ResolveLambdaVariables` and the type checks of higher-order
//! calls, with Spark's errors.
//!
//! A higher-order call resolves its value arguments first; their types decide what each
//! lambda's parameters are ([`HigherOrderFunction::lambda_parameters`]). The parameters
//! then shadow columns of the same name in the lambda's body (names compare
//! case-insensitively, as Spark's default resolver does), and inner lambdas shadow outer
//! ones. The expression resolver itself lives in `resolve`, which hands this module the
//! callbacks it needs, so the two modules do not import each other.

use std::sync::Arc;

use arrow::datatypes::DataType;

use crate::expr::Expr;
use crate::expr::lambda::{
    ArgumentMismatch, HigherOrderFunction, Lambda, LambdaBinding, LambdaVariable,
};
use crate::functions::{ordinal, wrong_num_args};
use crate::types::sql_type_name;
use crate::{EngineError, Result};

/// The lambda parameters visible at a point of an expression, innermost last.
#[derive(Debug, Default, Clone)]
pub struct Scope {
    /// Parameter lists of the enclosing lambdas, outermost first.
    lambdas: Vec<Vec<LambdaVariable>>,
}

impl Scope {
    /// How many lambdas enclose this point.
    pub fn depth(&self) -> usize {
        self.lambdas.len()
    }

    /// The scope inside a lambda with these (bound) parameters.
    fn inside(&self, params: &[LambdaVariable]) -> Scope {
        let mut lambdas = self.lambdas.clone();
        lambdas.push(params.to_vec());
        Scope { lambdas }
    }

    /// The innermost parameter called `name` (case-insensitive), if any.
    pub fn lookup(&self, name: &str) -> Option<&LambdaVariable> {
        self.lambdas
            .iter()
            .rev()
            .find_map(|ps| ps.iter().find(|p| p.name.eq_ignore_ascii_case(name)))
    }

    /// Binds a variable referenced by name (as the Rust builders make them).
    pub fn bind(&self, v: LambdaVariable) -> Result<Expr> {
        if v.binding.is_some() {
            return Ok(Expr::LambdaVariable(v));
        }
        let found = self
            .lambdas
            .iter()
            .rev()
            .find_map(|ps| ps.iter().find(|p| p.name == v.name));
        match found {
            Some(p) => Ok(Expr::LambdaVariable(p.clone())),
            None => Err(EngineError::analysis(
                "UNRESOLVED_COLUMN.WITHOUT_SUGGESTION",
                format!(
                    "A column, variable, or function parameter with name `{}` cannot be resolved. It is a lambda variable used outside its lambda. SQLSTATE: 42703",
                    v.name
                ),
            )),
        }
    }
}

/// What binding a call needs from the expression resolver.
pub struct Resolver<'a> {
    /// Resolves an expression in a scope.
    pub resolve: &'a dyn Fn(Expr, &Scope) -> Result<Expr>,
    /// The type a resolved expression will have once coerced.
    pub type_of: &'a dyn Fn(&Expr) -> Result<DataType>,
}

/// Spark's `INVALID_LAMBDA_FUNCTION_CALL` errors.
fn invalid_call(sub: &str, detail: &str) -> EngineError {
    EngineError::analysis(
        format!("INVALID_LAMBDA_FUNCTION_CALL.{sub}"),
        format!("Invalid lambda function call. {detail} SQLSTATE: 42K0D"),
    )
}

/// A lambda written where no higher-order function takes one: an argument of `function`,
/// or anywhere else when `None`.
pub fn lambda_outside_call(function: Option<&str>) -> EngineError {
    let class = match function {
        Some(f) => format!("`{f}`"),
        None => "`lambdafunction`".to_string(),
    };
    invalid_call(
        "NON_HIGHER_ORDER_FUNCTION",
        &format!(
            "A lambda function should only be used in a higher order function. However, its class is {class}, which is not a higher order function."
        ),
    )
}

/// Resolves a call of the higher-order `func` written with `args`. `fresh` is false when
/// the call was resolved before (its default lambdas are already there).
pub fn resolve_call(
    func: Arc<dyn HigherOrderFunction>,
    args: Vec<Expr>,
    fresh: bool,
    scope: &Scope,
    resolver: &Resolver<'_>,
) -> Result<Expr> {
    let written = args.len();
    let (min, max, expected) = func.arity();
    if fresh && (written < min || written > max) {
        return Err(wrong_num_args(func.name(), &expected, written));
    }
    let (func, args) = if fresh {
        let specialized = func.specialize(written).unwrap_or(func);
        let mut args = args;
        args.extend(specialized.default_functions(written).unwrap_or_default());
        (specialized, args)
    } else {
        (func, args)
    };
    let total = args.len();
    // Value arguments first: their types decide the lambdas' parameters.
    let mut types: Vec<Option<DataType>> = Vec::with_capacity(total);
    let mut resolved = Vec::with_capacity(total);
    for (i, a) in args.into_iter().enumerate() {
        if func.is_function(i) {
            types.push(None);
            resolved.push(a);
            continue;
        }
        if matches!(a, Expr::Lambda(_)) {
            return Err(invalid_call(
                "PARAMETER_DOES_NOT_ACCEPT_LAMBDA_FUNCTION",
                "You passed a lambda function to a parameter that does not accept it. Please check if lambda function argument is in the correct position.",
            ));
        }
        let a = (resolver.resolve)(a, scope)?;
        types.push(Some((resolver.type_of)(&a)?));
        resolved.push(a);
    }
    let args = resolved;
    if let Err(m) = func.check_arguments(&types) {
        let text = call_text(func.name(), &args);
        let arg_types: Vec<DataType> = types
            .iter()
            .map(|t| t.clone().unwrap_or(DataType::Null))
            .collect();
        return Err(mismatch_error(m, &text, &args, &arg_types));
    }
    let mut bound = Vec::with_capacity(total);
    for (i, a) in args.into_iter().enumerate() {
        if !func.is_function(i) {
            bound.push(a);
            continue;
        }
        bound.push(bind_lambda(func.as_ref(), i, a, &types, scope, resolver)?);
    }
    Ok(Expr::HigherOrderFunction { func, args: bound })
}

/// Binds the function argument at `position` (a lambda, or an expression written in its
/// place, which becomes a lambda ignoring the parameters) and resolves its body.
fn bind_lambda(
    func: &dyn HigherOrderFunction,
    position: usize,
    arg: Expr,
    types: &[Option<DataType>],
    scope: &Scope,
    resolver: &Resolver<'_>,
) -> Result<Expr> {
    let (names, body) = match arg {
        Expr::Lambda(l) => {
            let names: Vec<String> = l.params.iter().map(|p| p.name.clone()).collect();
            let offered = func.lambda_parameters(position, Some(names.len()), types);
            if offered.len() != names.len() {
                return Err(invalid_call(
                    "NUM_ARGS_MISMATCH",
                    &format!(
                        "A higher order function expects {} arguments, but got {}.",
                        names.len(),
                        offered.len()
                    ),
                ));
            }
            for (k, n) in names.iter().enumerate() {
                if names[..k].iter().any(|m| m.eq_ignore_ascii_case(n)) {
                    // Spark lists the names as its case-insensitive resolver sees them.
                    let listed: Vec<String> = names
                        .iter()
                        .map(|n| format!("`{}`", n.to_lowercase()))
                        .collect();
                    return Err(invalid_call(
                        "DUPLICATE_ARG_NAMES",
                        &format!(
                            "The lambda function has duplicate arguments {}. Please, consider to rename the argument names or set \"spark.sql.caseSensitive\" to \"true\".",
                            listed.join(", ")
                        ),
                    ));
                }
            }
            (Some(names), *l.body)
        }
        other => (None, other),
    };
    let declared = names.as_ref().map(Vec::len);
    let offered = func.lambda_parameters(position, declared, types);
    let params: Vec<LambdaVariable> = offered
        .into_iter()
        .enumerate()
        .map(|(index, (data_type, nullable))| LambdaVariable {
            // An expression in a lambda's place cannot name its parameters.
            name: names
                .as_ref()
                .and_then(|n| n.get(index).cloned())
                .unwrap_or_else(|| format!("col{index}")),
            binding: Some(LambdaBinding {
                depth: scope.depth(),
                index,
                data_type,
                nullable,
            }),
        })
        .collect();
    let inner = if names.is_some() {
        scope.inside(&params)
    } else {
        scope.clone()
    };
    let body = (resolver.resolve)(body, &inner)?;
    if body.any(&|e| {
        matches!(e, Expr::AggregateFunction { args, .. }
            if args.iter().any(|a| a.any(&|x| matches!(x, Expr::LambdaVariable(_)))))
    }) {
        return Err(EngineError::Unsupported(format!(
            "an aggregate function of a lambda variable in `{}` (aggregate the array with `aggregate` instead)",
            func.name()
        )));
    }
    Ok(Expr::Lambda(Lambda::new(params, body)))
}

/// The SQL text of a call, as Spark shows it in errors.
fn call_text(name: &str, args: &[Expr]) -> String {
    let items: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    format!("{name}({})", items.join(", "))
}

/// Spark's error for a higher-order call whose arguments do not fit: `call` is the call's
/// text, `args` and `types` its arguments as written and their types.
pub fn mismatch_error(
    m: ArgumentMismatch,
    call: &str,
    args: &[Expr],
    types: &[DataType],
) -> EngineError {
    let at = |p: usize| p.checked_sub(1).and_then(|i| args.get(i).zip(types.get(i)));
    match m {
        ArgumentMismatch::InputType { position, required } => {
            let (text, ty) = at(position)
                .map(|(a, t)| (a.to_string(), sql_type_name(t)))
                .unwrap_or_default();
            EngineError::analysis(
                "DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE",
                format!(
                    "Cannot resolve \"{call}\" due to data type mismatch: The {} parameter requires the \"{required}\" type, however \"{text}\" has the type \"{ty}\". SQLSTATE: 42K09",
                    ordinal(position)
                ),
            )
        }
        ArgumentMismatch::ReturnType { position, expected } => {
            let actual = at(position)
                .map(|(_, t)| sql_type_name(t))
                .unwrap_or_default();
            EngineError::analysis(
                "DATATYPE_MISMATCH.UNEXPECTED_RETURN_TYPE",
                format!(
                    "Cannot resolve \"{call}\" due to data type mismatch: The `lambdafunction` requires return \"{}\" type, but the actual is \"{actual}\" type. SQLSTATE: 42K09",
                    sql_type_name(&expected)
                ),
            )
        }
        ArgumentMismatch::Other(EngineError::Analysis { class, message }) => {
            EngineError::Analysis {
                class,
                message: message.replace("{call}", call),
            }
        }
        ArgumentMismatch::Other(e) => e,
    }
}

/// Checks a resolved higher-order call once its arguments are coerced (`written` are the
/// arguments before coercion, whose text Spark shows) and returns its type.
pub fn check_call(
    func: &dyn HigherOrderFunction,
    written: &[Expr],
    types: &[DataType],
) -> Result<DataType> {
    if let Err(m) = func.check_functions(types) {
        return Err(mismatch_error(
            m,
            &call_text(func.name(), written),
            written,
            types,
        ));
    }
    func.return_type(types)
}

/// `e` (unresolved) as Spark shows it once resolved, for matching a select item against an
/// output column named after it: lambda variables read `namedlambdavariable()` and calls get
/// their default lambdas (`aggregate`'s identity `finish`). Spark names a grouped
/// `transform(a, x -> x + 1)` that way.
pub fn resolved_text(e: Expr) -> Expr {
    with_resolved_lambdas(e, &[])
}

/// [`resolved_text`] inside lambdas declaring `scope` (outermost first).
fn with_resolved_lambdas(e: Expr, scope: &[String]) -> Expr {
    let placeholder = |name: &str| {
        Expr::LambdaVariable(LambdaVariable {
            name: name.to_string(),
            binding: Some(LambdaBinding {
                depth: 0,
                index: 0,
                data_type: DataType::Null,
                nullable: true,
            }),
        })
    };
    match e {
        Expr::UnresolvedColumn(parts)
            if parts
                .first()
                .is_some_and(|p| scope.iter().any(|s| s.eq_ignore_ascii_case(p))) =>
        {
            let mut out = placeholder(&parts[0]);
            for f in &parts[1..] {
                out = out.field(f);
            }
            out
        }
        Expr::LambdaVariable(v) if v.binding.is_none() => placeholder(&v.name),
        Expr::Lambda(l) => {
            let mut inner = scope.to_vec();
            inner.extend(l.params.iter().map(|p| p.name.clone()));
            let params = l.params.iter().map(|p| match placeholder(&p.name) {
                Expr::LambdaVariable(v) => v,
                _ => p.clone(),
            });
            Expr::Lambda(Lambda::new(
                params.collect(),
                with_resolved_lambdas(*l.body, &inner),
            ))
        }
        Expr::UnresolvedFunction {
            name,
            mut args,
            distinct: false,
        } if crate::functions::lookup_higher_order(&name).is_some() => {
            if let Some(func) = crate::functions::lookup_higher_order(&name) {
                let (min, max, _) = func.arity();
                if (min..=max).contains(&args.len()) {
                    let func = func.specialize(args.len()).unwrap_or(func);
                    args.extend(func.default_functions(args.len()).unwrap_or_default());
                }
            }
            Expr::UnresolvedFunction {
                name,
                args: args
                    .into_iter()
                    .map(|a| with_resolved_lambdas(a, scope))
                    .collect(),
                distinct: false,
            }
        }
        other => match other
            .map_children(|c| Ok::<_, std::convert::Infallible>(with_resolved_lambdas(c, scope)))
        {
            Ok(e) => e,
            Err(never) => match never {},
        },
    }
}
