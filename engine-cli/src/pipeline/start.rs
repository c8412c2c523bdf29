//! [`Pipeline`] -> a running [`StreamingQuery`], through the public DataFrame API only: the
//! CLI adds no engine logic.

use anyhow::{Context, Result};
use engine_core::interval::parse_interval;
use engine_sql::session::Session;
use engine_sql::streaming::{StreamingQuery, Trigger};

use super::spec::{Pipeline, TriggerSpec};

/// A session configured with the pipeline's `[conf]`.
pub fn session_for(p: &Pipeline) -> Result<Session> {
    let mut builder = Session::builder().app_name("sstream-run");
    for (k, v) in &p.conf {
        builder = builder.config(k, v);
    }
    Ok(builder.build()?)
}

/// Registers the sources and views, then starts the query into the sink.
pub fn start_pipeline(spark: &Session, p: &Pipeline) -> Result<StreamingQuery> {
    for s in &p.sources {
        let mut reader = spark.read_stream().format(&s.format);
        for (k, v) in &s.options {
            reader = reader.option(k, v);
        }
        if let Some(ddl) = &s.schema {
            reader = reader.schema_ddl(ddl)?;
        }
        let mut df = match &s.path {
            Some(path) => reader.load_path(path),
            None => reader.load(),
        }
        .with_context(|| format!("[source.{}]", s.name))?;
        if let Some(w) = &s.watermark {
            df = df
                .with_watermark(&w.column, &w.delay)
                .with_context(|| format!("[source.{}] watermark", s.name))?;
        }
        df.create_or_replace_temp_view(&s.name)?;
    }
    for v in &p.views {
        let mut df = spark
            .sql(&v.sql)
            .with_context(|| format!("[view.{}] sql", v.name))?;
        if let Some(w) = &v.watermark {
            df = df
                .with_watermark(&w.column, &w.delay)
                .with_context(|| format!("[view.{}] watermark", v.name))?;
        }
        df.create_or_replace_temp_view(&v.name)?;
    }
    let df = spark.sql(&p.query).context("[query] sql")?;
    let sink = &p.sink;
    let mut writer = df
        .write_stream()
        .format(&sink.format)
        .output_mode_str(&sink.output_mode)
        .trigger(trigger(&sink.trigger)?);
    for (k, v) in &sink.options {
        writer = writer.option(k, v);
    }
    if let Some(c) = &sink.checkpoint_location {
        writer = writer.option("checkpointLocation", c);
    }
    if let Some(n) = &sink.query_name {
        writer = writer.query_name(n);
    }
    if !sink.partition_by.is_empty() {
        writer = writer.partition_by(sink.partition_by.iter().map(String::as_str));
    }
    let query = match &sink.path {
        Some(path) => writer.start_path(path),
        None => writer.start(),
    }
    .context("[sink]")?;
    Ok(query)
}

/// The engine's trigger for a pipeline's `trigger` table.
pub fn trigger(spec: &TriggerSpec) -> Result<Trigger> {
    Ok(match spec {
        TriggerSpec::Default => Trigger::default(),
        TriggerSpec::ProcessingTime(t) => Trigger::ProcessingTime(
            parse_interval(t).with_context(|| format!("sink.trigger.processingTime `{t}`"))?,
        ),
        TriggerSpec::Once => Trigger::Once,
        TriggerSpec::AvailableNow => Trigger::AvailableNow,
        TriggerSpec::Continuous(t) => Trigger::Continuous(
            parse_interval(t).with_context(|| format!("sink.trigger.continuous `{t}`"))?,
        ),
    })
}
