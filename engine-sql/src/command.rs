//! Running SQL text (`session.sql(..)`): queries become lazy DataFrames, commands
//! (`CREATE TEMPORARY VIEW`, `DESCRIBE`, `EXPLAIN`, `SET`, `SHOW`) run at once and return
//! their (small) output as an in-memory DataFrame with Spark's column names.
//!
//! It sits above [`crate::sql`] (text to plans) and [`crate::dataframe`] (what the
//! statements return), as Spark's commands sit above its parser.

use std::sync::Arc;

use arrow::array::{ArrayRef, BooleanArray, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;

use engine_core::{EngineError, Result};

use engine_core::logical::LogicalPlan;

use crate::dataframe::DataFrame;
use crate::session::Session;
use crate::sql::SqlPlanner;
use crate::sql::parser::{self, SparkStatement};

impl Session {
    /// Runs SQL text. Queries return their result lazily; commands (`CREATE VIEW`, `SET`)
    /// run at once and return their (possibly empty) output.
    pub fn sql(&self, text: &str) -> Result<DataFrame> {
        run_sql(self, text)
    }
}

/// Runs every statement of `text` (separated by `;`) and returns the last one's result.
pub fn run_sql(session: &Session, text: &str) -> Result<DataFrame> {
    let statements = parser::split_statements(text);
    if statements.is_empty() {
        return Err(EngineError::Parse(
            "Syntax error at or near end of input. SQLSTATE: 42601".into(),
        ));
    }
    let mut last = None;
    for s in statements {
        let stmt = parser::parse_statement(&s)?;
        last = Some(execute(session, stmt)?);
    }
    last.ok_or_else(|| EngineError::Internal("no statement ran".into()))
}

/// Runs one statement.
pub fn execute(session: &Session, stmt: SparkStatement) -> Result<DataFrame> {
    match stmt {
        SparkStatement::Query(q) => {
            let plan = SqlPlanner::with_session(session)?.plan_query(&q)?;
            DataFrame::from_plan(session.clone(), Arc::new(plan))
        }
        SparkStatement::CreateViewUsing {
            name,
            replace,
            if_not_exists,
            schema_ddl,
            format,
            options,
        } => {
            if if_not_exists && session.catalog().view(&name).is_some() {
                return empty(session);
            }
            let mut reader = session.read().format(&format);
            let mut path = None;
            for (k, v) in &options {
                if k.eq_ignore_ascii_case("path") {
                    path = Some(v.clone());
                } else {
                    reader = reader.option(k, v);
                }
            }
            if let Some(ddl) = schema_ddl {
                reader = reader.schema(Arc::new(engine_core::types::parse_ddl_schema(&ddl)?));
            }
            let path = path.ok_or_else(|| {
                EngineError::invalid_option(
                    "path",
                    format!(
                        "CREATE TEMPORARY VIEW {name} USING {format} needs OPTIONS (path '...')"
                    ),
                )
            })?;
            let df = reader.load(&path)?;
            session
                .catalog()
                .register_view(&name, df.logical_plan().clone(), replace)?;
            empty(session)
        }
        SparkStatement::CreateViewAs {
            name,
            replace,
            if_not_exists,
            columns,
            query,
        } => {
            if if_not_exists && session.catalog().view(&name).is_some() {
                return empty(session);
            }
            let mut plan = SqlPlanner::with_session(session)?.plan_query(&query)?;
            if !columns.is_empty() {
                let df = DataFrame::from_plan(session.clone(), Arc::new(plan.clone()))?;
                let schema = df.plan_schema()?;
                if schema.len() != columns.len() {
                    return Err(EngineError::analysis(
                        "CREATE_VIEW_COLUMN_ARITY_MISMATCH.NOT_ENOUGH_DATA_COLUMNS",
                        format!(
                            "Cannot create view `{name}`, the reason is the view has {} columns but the query produces {} columns. SQLSTATE: 21S01",
                            columns.len(),
                            schema.len()
                        ),
                    ));
                }
                plan = LogicalPlan::Projection {
                    exprs: schema
                        .fields()
                        .iter()
                        .zip(&columns)
                        .map(|(f, c)| {
                            let mut parts: Vec<String> = f.qualifier.iter().cloned().collect();
                            parts.push(f.name().to_string());
                            engine_core::expr::Expr::UnresolvedColumn(parts).alias(c.clone())
                        })
                        .collect(),
                    input: Arc::new(plan),
                };
            }
            let df = DataFrame::from_plan(session.clone(), Arc::new(plan))?;
            session
                .catalog()
                .register_view(&name, df.logical_plan().clone(), replace)?;
            empty(session)
        }
        SparkStatement::DropView { name, if_exists } => {
            if !session.catalog().drop_view(&name) && !if_exists {
                return Err(session.catalog().not_found(&[name]));
            }
            empty(session)
        }
        SparkStatement::DescribeTable(parts) => {
            let df = DataFrame::from_plan(
                session.clone(),
                Arc::new(LogicalPlan::UnresolvedRelation(parts)),
            )?;
            describe(session, &df)
        }
        SparkStatement::DescribeQuery(q) => {
            let plan = SqlPlanner::with_session(session)?.plan_query(&q)?;
            let df = DataFrame::from_plan(session.clone(), Arc::new(plan))?;
            describe(session, &df)
        }
        SparkStatement::Explain { extended, query } => {
            let plan = SqlPlanner::with_session(session)?.plan_query(&query)?;
            let df = DataFrame::from_plan(session.clone(), Arc::new(plan))?;
            let text = explain_text(&df, extended)?;
            table(
                session,
                vec![Field::new("plan", DataType::Utf8, true)],
                vec![Arc::new(StringArray::from(vec![Some(text)]))],
            )
        }
        SparkStatement::Set { key, value } => {
            let rows: Vec<(String, String)> = match (key, value) {
                (Some(k), Some(v)) => {
                    // Validate on a copy first: a bad value fails here and leaves the session
                    // as it was, instead of breaking every later query.
                    let mut candidate = session.conf();
                    candidate.set(k.as_str(), v.as_str());
                    candidate.function_context()?;
                    candidate.shuffle_partitions()?;
                    candidate.worker_threads()?;
                    session.conf_set(&k, &v)?;
                    vec![(k, v)]
                }
                (Some(k), None) => {
                    let v = session
                        .conf_get(&k)
                        .unwrap_or_else(|| "<undefined>".to_string());
                    vec![(k, v)]
                }
                (None, _) => {
                    let conf = session.conf();
                    let mut all: Vec<(String, String)> = conf
                        .entries()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect();
                    all.sort();
                    all
                }
            };
            let (keys, values): (Vec<String>, Vec<String>) = rows.into_iter().unzip();
            table(
                session,
                vec![
                    Field::new("key", DataType::Utf8, false),
                    Field::new("value", DataType::Utf8, false),
                ],
                vec![
                    Arc::new(StringArray::from(keys)),
                    Arc::new(StringArray::from(values)),
                ],
            )
        }
        SparkStatement::Show { tables } => {
            let names = session.catalog().view_names();
            let n = names.len();
            table(
                session,
                vec![
                    Field::new("namespace", DataType::Utf8, false),
                    Field::new(
                        if tables { "tableName" } else { "viewName" },
                        DataType::Utf8,
                        false,
                    ),
                    Field::new("isTemporary", DataType::Boolean, false),
                ],
                vec![
                    Arc::new(StringArray::from(vec![""; n])),
                    Arc::new(StringArray::from(names)),
                    Arc::new(BooleanArray::from(vec![true; n])),
                ],
            )
        }
    }
}

/// `EXPLAIN` text of a DataFrame.
fn explain_text(df: &DataFrame, extended: bool) -> Result<String> {
    df.explain_string(extended)
}

fn describe(session: &Session, df: &DataFrame) -> Result<DataFrame> {
    let schema = df.schema()?;
    let names: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    let types: Vec<String> = schema
        .fields()
        .iter()
        .map(|f| engine_core::types::simple_string(f.data_type()))
        .collect();
    let n = names.len();
    table(
        session,
        vec![
            Field::new("col_name", DataType::Utf8, false),
            Field::new("data_type", DataType::Utf8, false),
            Field::new("comment", DataType::Utf8, true),
        ],
        vec![
            Arc::new(StringArray::from(names)),
            Arc::new(StringArray::from(types)),
            Arc::new(StringArray::from(vec![None::<&str>; n])),
        ],
    )
}

fn table(session: &Session, fields: Vec<Field>, columns: Vec<ArrayRef>) -> Result<DataFrame> {
    let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)?;
    session.create_dataframe(vec![batch])
}

/// The empty result of a command that returns nothing.
fn empty(session: &Session) -> Result<DataFrame> {
    session.create_dataframe(vec![RecordBatch::new_empty(Arc::new(Schema::empty()))])
}
