//! Spark-style tree text of logical plans, as `explain(true)` prints them.

use std::fmt;

use super::LogicalPlan;
use crate::expr::Expr;

impl LogicalPlan {
    /// One line describing this node alone, Spark style (`Project [a, (b + 1) AS c]`).
    /// Unresolved nodes start with `'`, as in Spark's parsed plans.
    pub fn node_line(&self) -> String {
        let list =
            |es: &[Expr]| -> String { es.iter().map(expr_line).collect::<Vec<_>>().join(", ") };
        match self {
            LogicalPlan::UnresolvedRelation(name) => {
                format!("'UnresolvedRelation [{}], [], false", name.join(", "))
            }
            LogicalPlan::Scan(s) => {
                let schema = s.source.schema();
                let cols: Vec<String> = match &s.projection {
                    Some(p) => p.iter().map(|&i| schema.field(i).name().clone()).collect(),
                    None => schema.fields().iter().map(|f| f.name().clone()).collect(),
                };
                let mut line = format!("Relation [{}] {}", cols.join(","), s.source.describe());
                if !s.filters.is_empty() {
                    let fs: Vec<String> = s.filters.iter().map(|f| f.to_string()).collect();
                    line.push_str(&format!(", PushedFilters: [{}]", fs.join(", ")));
                }
                if let Some(n) = s.limit {
                    line.push_str(&format!(", Limit: {n}"));
                }
                line
            }
            LogicalPlan::Projection { exprs, .. } => {
                format!("{}Project [{}]", mark(exprs.iter()), list(exprs))
            }
            LogicalPlan::Filter { predicate, .. } => {
                format!(
                    "{}Filter {}",
                    mark(std::iter::once(predicate)),
                    expr_line(predicate)
                )
            }
            LogicalPlan::Aggregate {
                group_exprs,
                aggr_exprs,
                ..
            } => {
                let all: Vec<Expr> = group_exprs.iter().chain(aggr_exprs).cloned().collect();
                format!(
                    "{}Aggregate [{}], [{}]",
                    mark(all.iter()),
                    list(group_exprs),
                    list(&all)
                )
            }
            LogicalPlan::Sort { exprs, .. } => {
                let keys: Vec<String> = exprs.iter().map(|s| s.to_string()).collect();
                format!("Sort [{}], true", keys.join(", "))
            }
            LogicalPlan::Limit { n, .. } => format!("GlobalLimit {n}"),
            LogicalPlan::Distinct { .. } => "Distinct".to_string(),
            LogicalPlan::Join(j) => match &j.condition {
                Some(c) => format!("Join {}, {}", j.join_type.plan_name(), c),
                None => format!("Join {}", j.join_type.plan_name()),
            },
            LogicalPlan::Union { .. } => "Union false, false".to_string(),
            LogicalPlan::SubqueryAlias { alias, .. } => format!("SubqueryAlias {alias}"),
            LogicalPlan::StreamingRelation(r) => {
                let cols: Vec<&str> = r
                    .schema
                    .fields()
                    .iter()
                    .map(|f| f.name().as_str())
                    .collect();
                format!("StreamingRelation {}, [{}]", r.format_name, cols.join(", "))
            }
            LogicalPlan::EventTimeWatermark(w) => format!(
                "EventTimeWatermark {}, {}",
                expr_line(&w.event_time),
                crate::interval::format_delay(w.delay)
            ),
            LogicalPlan::Extension(e) => {
                let rest = e.node.describe();
                if rest.is_empty() {
                    e.node.name().to_string()
                } else {
                    format!("{} {rest}", e.node.name())
                }
            }
            LogicalPlan::Generate(g) => {
                // Spark prints `unrequiredChildIndex` only when it is not empty.
                let unrequired = if g.unrequired_child.is_empty() {
                    String::new()
                } else {
                    let i: Vec<String> = g.unrequired_child.iter().map(|i| i.to_string()).collect();
                    format!("[{}], ", i.join(", "))
                };
                format!(
                    "{}Generate {}, {unrequired}{}, [{}]",
                    mark(g.args.iter()),
                    g.call_text(),
                    g.outer,
                    g.names.join(", ")
                )
            }
        }
    }

    /// The whole tree, Spark's `+- ` / `:- ` layout.
    pub fn display_tree(&self) -> String {
        let mut out = String::new();
        self.write_tree(&mut out, "", "");
        out.trim_end().to_string()
    }

    fn write_tree(&self, out: &mut String, first_prefix: &str, rest_prefix: &str) {
        out.push_str(first_prefix);
        out.push_str(&self.node_line());
        out.push('\n');
        let inputs = self.inputs();
        let n = inputs.len();
        for (i, input) in inputs.into_iter().enumerate() {
            let last = i + 1 == n;
            let (head, tail) = if last { ("+- ", "   ") } else { (":- ", ":  ") };
            input.write_tree(
                out,
                &format!("{rest_prefix}{head}"),
                &format!("{rest_prefix}{tail}"),
            );
        }
    }
}

fn mark<'a>(mut exprs: impl Iterator<Item = &'a Expr>) -> &'static str {
    let unresolved = exprs.any(|e| {
        e.any(&|x| {
            matches!(
                x,
                Expr::UnresolvedColumn(_) | Expr::UnresolvedFunction { .. } | Expr::Star(_)
            )
        })
    });
    if unresolved { "'" } else { "" }
}

fn expr_line(e: &Expr) -> String {
    match e {
        Expr::UnresolvedColumn(parts) => format!("'{}", parts.join(".")),
        Expr::UnresolvedFunction { .. } => format!("'{e}"),
        other => other.to_string(),
    }
}

impl fmt::Display for LogicalPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display_tree())
    }
}
