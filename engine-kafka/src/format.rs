//! The format `kafka`, registered in engine-core's [`FormatRegistry`].

use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use engine_core::connector::{
    Format, FormatRegistry, InputPartition, Sink, SinkContext, Source, SourceContext,
};
use engine_core::options::Options;
use engine_core::{EngineError, Result};

use crate::consumer::kafka_schema;
use crate::options::SourceOptions;
use crate::sink::create_sink;
use crate::source::{KafkaSource, batch_partitions};

/// `format("kafka")` for batch and streaming reads and writes.
#[derive(Debug, Default)]
pub struct KafkaFormat;

impl Format for KafkaFormat {
    fn short_name(&self) -> &str {
        "kafka"
    }

    fn schema(&self, options: &Options, user_schema: Option<SchemaRef>) -> Result<SchemaRef> {
        if user_schema.is_some() {
            return Err(EngineError::execution(
                "IllegalArgumentException",
                "Kafka source has a fixed schema and cannot be set with a custom one",
            ));
        }
        Ok(kafka_schema(options.bool("includeHeaders", false)?))
    }

    fn create_source(&self, ctx: SourceContext) -> Result<Box<dyn Source>> {
        if ctx.user_schema.is_some() {
            return Err(EngineError::execution(
                "IllegalArgumentException",
                "Kafka source has a fixed schema and cannot be set with a custom one",
            ));
        }
        configure_pool(&ctx.options)?;
        let opts = SourceOptions::for_stream(&ctx.options)?;
        Ok(Box::new(KafkaSource::new(
            opts,
            ctx.metadata_path,
            &ctx.query_id,
        )?))
    }

    fn create_batch_scan(
        &self,
        options: &Options,
        _schema: SchemaRef,
    ) -> Result<Vec<Arc<dyn InputPartition>>> {
        configure_pool(options)?;
        batch_partitions(&SourceOptions::for_batch(options)?)
    }

    fn create_sink(&self, ctx: SinkContext) -> Result<Arc<dyn Sink>> {
        create_sink(&ctx)
    }
}

/// The process-wide consumer pool takes the first source's session settings, as Spark's
/// executor-wide cache takes them from the first SparkConf it sees.
fn configure_pool(options: &Options) -> Result<()> {
    let capacity = options.u64("spark.kafka.consumer.cache.capacity", 64)?;
    let timeout_ms = options.time_ms("spark.kafka.consumer.cache.timeout", 300_000)?;
    let evictor_ms = options.time_ms(
        "spark.kafka.consumer.cache.evictorThreadRunInterval",
        60_000,
    )?;
    crate::consumer::configure_consumer_pool(
        usize::try_from(capacity).unwrap_or(usize::MAX),
        std::time::Duration::from_millis(timeout_ms.max(0) as u64),
        // Non-positive disables the evictor, as in Spark.
        std::time::Duration::from_millis(evictor_ms.max(0) as u64),
    );
    Ok(())
}

/// Adds the format `kafka` to [`FormatRegistry::global`]; idempotent. Call once at start-up
/// (the CLI does) so `format("kafka")` resolves.
pub fn register() {
    FormatRegistry::global().register(Arc::new(KafkaFormat));
}
