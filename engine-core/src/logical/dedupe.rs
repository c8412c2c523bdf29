//! [`Deduplicate`]: `dropDuplicates` / `dropDuplicatesWithinWatermark` on a stream (Spark's
//! `Deduplicate` and `DeduplicateWithinWatermark`): the first row of each key passes, later
//! rows with the same key are dropped. On a stream the streaming runtime keeps the keys seen
//! in a state store; anywhere else ([`Deduplicate::batch_plan`]) it is one row per key,
//! the first of the others' values, as Spark's batch `dropDuplicates` computes it.

use std::any::Any;
use std::sync::Arc;

use super::{Extension, LogicalPlan, UserDefinedLogicalNode};
use crate::expr::function::AggregateFunction;
use crate::expr::{Column, Expr};
use crate::schema::PlanSchema;
use crate::{EngineError, Result};

/// Drops rows whose key was seen before.
#[derive(Debug, Clone)]
pub struct Deduplicate {
    /// The key columns ([`Expr::Column`]s of the input), in the input's column order.
    pub keys: Vec<Expr>,
    /// `dropDuplicatesWithinWatermark`: a key is forgotten once the watermark passes its
    /// first event time plus the watermark delay.
    pub within_watermark: bool,
    /// The input.
    pub input: Arc<LogicalPlan>,
}

impl Deduplicate {
    /// `input` deduplicated by `keys`.
    pub fn plan(
        keys: Vec<Expr>,
        within_watermark: bool,
        input: Arc<LogicalPlan>,
    ) -> Arc<LogicalPlan> {
        Extension::plan(Deduplicate {
            keys,
            within_watermark,
            input,
        })
    }

    /// The same rows as a batch plan: grouped by the keys, `first` of every other column,
    /// columns in the input's order. `first` is Spark's `first` aggregate (passed in because
    /// the function library sits above logical plans).
    pub fn batch_plan(&self, first: &Arc<dyn AggregateFunction>) -> Result<Arc<LogicalPlan>> {
        let schema = self.input.schema()?;
        let column = |i: usize| {
            let f = schema.field(i);
            Expr::Column(Column::new(f.qualifier.as_deref(), f.name()))
        };
        let is_key = |e: &Expr| self.keys.iter().any(|k| k == e);
        let others: Vec<Expr> = (0..schema.len())
            .map(column)
            .filter(|c| !is_key(c))
            .map(|c| {
                let name = c.output_name();
                Expr::AggregateFunction {
                    func: first.clone(),
                    args: vec![c],
                    distinct: false,
                }
                .alias(name)
            })
            .collect();
        let grouped = Arc::new(LogicalPlan::Aggregate {
            group_exprs: self.keys.clone(),
            aggr_exprs: others,
            input: self.input.clone(),
        });
        let out = grouped.schema()?;
        let order = (0..schema.len())
            .map(|i| {
                let name = schema.field(i).name();
                let j = out
                    .fields()
                    .iter()
                    .position(|f| f.name() == name)
                    .ok_or_else(|| EngineError::Internal(format!("deduplicate lost `{name}`")))?;
                let f = out.field(j);
                Ok(Expr::Column(Column::new(f.qualifier.as_deref(), f.name())))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Arc::new(LogicalPlan::Projection {
            exprs: order,
            input: grouped,
        }))
    }
}

impl UserDefinedLogicalNode for Deduplicate {
    fn name(&self) -> &str {
        if self.within_watermark {
            "DeduplicateWithinWatermark"
        } else {
            "Deduplicate"
        }
    }

    fn inputs(&self) -> Vec<&Arc<LogicalPlan>> {
        vec![&self.input]
    }

    fn with_new_inputs(
        &self,
        inputs: Vec<Arc<LogicalPlan>>,
    ) -> Result<Arc<dyn UserDefinedLogicalNode>> {
        let input = super::single_input("Deduplicate", inputs)?;
        Ok(Arc::new(Deduplicate {
            input,
            ..self.clone()
        }))
    }

    fn schema(&self) -> Result<PlanSchema> {
        self.input.schema()
    }

    fn expressions(&self) -> Vec<&Expr> {
        self.keys.iter().collect()
    }

    fn describe(&self) -> String {
        let keys: Vec<String> = self.keys.iter().map(|k| k.to_string()).collect();
        format!("[{}]", keys.join(", "))
    }

    fn passes_columns_through(&self) -> bool {
        // Every column is output; pruning below would change which row is "first".
        false
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
