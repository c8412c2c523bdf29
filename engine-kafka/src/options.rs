//! Spark's Kafka source and sink options: parsing, validation with Spark's messages, and the
//! `kafka.*` pass-through to librdkafka.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use engine_core::interval::parse_interval;
use engine_core::options::Options;
use engine_core::{EngineError, Result};

use crate::offsets::{
    self, EARLIEST, LATEST, PartitionOffsets, TopicPartition, offsets_from_json,
    partitions_from_json,
};

/// Which partitions a source reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Strategy {
    /// `assign`: exactly these partitions.
    Assign(BTreeSet<TopicPartition>),
    /// `subscribe`: every partition of these topics.
    Subscribe(Vec<String>),
    /// `subscribePattern`: every partition of every topic matching the regex (new topics too).
    SubscribePattern(String),
}

impl std::fmt::Display for Strategy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Strategy::Assign(tps) => {
                let list: Vec<String> = tps.iter().map(ToString::to_string).collect();
                write!(f, "Assign[{}]", list.join(", "))
            }
            Strategy::Subscribe(topics) => write!(f, "Subscribe[{}]", topics.join(",")),
            Strategy::SubscribePattern(p) => write!(f, "SubscribePattern[{p}]"),
        }
    }
}

/// What to do when no offset matches a timestamp (`startingOffsetsByTimestampStrategy`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoMatchStrategy {
    /// Fail the query (default).
    Error,
    /// Use the latest offset.
    Latest,
}

/// Where a read starts or ends: Spark's `KafkaOffsetRangeLimit`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OffsetSpec {
    /// `earliest`.
    Earliest,
    /// `latest`.
    Latest,
    /// JSON per partition; -2 = earliest, -1 = latest.
    Specific(PartitionOffsets),
    /// `startingOffsetsByTimestamp` / `endingOffsetsByTimestamp`: ms per partition.
    SpecificTimestamp(PartitionOffsets, NoMatchStrategy),
    /// `startingTimestamp` / `endingTimestamp`: one ms value for every partition.
    GlobalTimestamp(i64, NoMatchStrategy),
}

/// Every source option, parsed and validated.
#[derive(Clone, Debug)]
pub struct SourceOptions {
    /// Which partitions to read.
    pub strategy: Strategy,
    /// Where a query with an empty checkpoint (or a batch read) starts.
    pub starting: OffsetSpec,
    /// Batch reads only: where they end.
    pub ending: OffsetSpec,
    /// `failOnDataLoss` (default true).
    pub fail_on_data_loss: bool,
    /// `includeHeaders` (default false).
    pub include_headers: bool,
    /// `minPartitions`.
    pub min_partitions: Option<usize>,
    /// `maxRecordsPerPartition`.
    pub max_records_per_partition: Option<u64>,
    /// `maxOffsetsPerTrigger`.
    pub max_offsets_per_trigger: Option<u64>,
    /// `minOffsetsPerTrigger`.
    pub min_offsets_per_trigger: Option<u64>,
    /// `maxTriggerDelay` (default 15m).
    pub max_trigger_delay: Duration,
    /// `fetchOffset.numRetries` (default 3).
    pub fetch_offset_num_retries: u32,
    /// `fetchOffset.retryIntervalMs` (default 10).
    pub fetch_offset_retry_interval: Duration,
    /// `kafkaConsumer.pollTimeoutMs` (default 120000, Spark's `spark.network.timeout`).
    pub poll_timeout: Duration,
    /// `groupIdPrefix` (default `spark-kafka-source` streaming, `spark-kafka-relation` batch).
    pub group_id_prefix: Option<String>,
    /// Every `kafka.*` option with the prefix removed, as the user wrote the key.
    pub kafka_params: KafkaParams,
}

const STRATEGY_KEYS: &str = "assign, subscribe, subscribepattern";

/// Spark's explanation appended to data-loss errors when `failOnDataLoss` is true.
pub const INSTRUCTION_FOR_FAIL_ON_DATA_LOSS_TRUE: &str = "Some data may have been lost because they are not available in Kafka any more; either the data was aged out by Kafka or the topic may have been deleted before all the data in the topic was processed. If you don't want your streaming query to fail on such cases, set the source option \"failOnDataLoss\" to \"false\".";

/// Spark's explanation logged with data-loss warnings when `failOnDataLoss` is false.
pub const INSTRUCTION_FOR_FAIL_ON_DATA_LOSS_FALSE: &str = "Some data may have been lost because they are not available in Kafka any more; either the data was aged out by Kafka or the topic may have been deleted before all the data in the topic was processed. If you want your streaming query to fail on such cases, set the source option \"failOnDataLoss\" to \"true\".";

fn illegal(msg: impl Into<String>) -> EngineError {
    // Spark raises IllegalArgumentException for every option problem of the Kafka source.
    EngineError::execution("IllegalArgumentException", msg)
}

/// The `kafka.*` options with the prefix removed (keys as the user wrote them), with Java
/// client options that librdkafka spells differently translated (see [`translate_jaas`]).
pub fn kafka_params(options: &Options) -> Result<BTreeMap<String, String>> {
    let mut params: BTreeMap<String, String> = options
        .iter_original()
        .filter_map(|(k, v)| {
            // `get` keeps a key starting with a multi-byte character from being cut inside it.
            let name = k
                .get(..6)
                .filter(|p| p.eq_ignore_ascii_case("kafka."))
                .and(k.get(6..))?;
            (!name.is_empty()).then(|| (name.to_string(), v.to_string()))
        })
        .collect();
    translate_jaas(&mut params)?;
    Ok(params)
}

/// Translates Java's `sasl.jaas.config` (what Spark's Kafka docs show) into librdkafka's
/// `sasl.username`/`sasl.password`, which is what the PLAIN and SCRAM login modules carry:
/// `org.apache.kafka.common.security.plain.PlainLoginModule required username="u"
/// password="p";`. Options the user also gave directly win. Other login modules (Kerberos,
/// OAuth) have no such one-to-one mapping and fail with the options to use instead. Errors
/// never quote the value: it holds a password.
pub fn translate_jaas(params: &mut BTreeMap<String, String>) -> Result<()> {
    let Some(key) = params
        .keys()
        .find(|k| k.eq_ignore_ascii_case("sasl.jaas.config"))
        .cloned()
    else {
        return Ok(());
    };
    let text = params.remove(&key).unwrap_or_default();
    let bad = |why: &str| {
        EngineError::invalid_option(
            "kafka.sasl.jaas.config",
            format!(
                "{why}. librdkafka has no JAAS: give the credentials as kafka.sasl.username and kafka.sasl.password (PLAIN, SCRAM-SHA-256/512) or the kafka.sasl.oauthbearer.* options instead (the value is not shown: it holds a secret)"
            ),
        )
    };
    let body = text.trim();
    let body = body.strip_suffix(';').unwrap_or(body);
    let (module, rest) = body
        .split_once(char::is_whitespace)
        .ok_or_else(|| bad("expected `<LoginModule> required key=\"value\" ...;`"))?;
    let module_name = module.rsplit('.').next().unwrap_or(module);
    if !matches!(module_name, "PlainLoginModule" | "ScramLoginModule") {
        return Err(bad(&format!(
            "login module {module_name} cannot be translated (only PlainLoginModule and ScramLoginModule can)"
        )));
    }
    let rest = rest.trim_start();
    let (flag, pairs) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    if !matches!(flag, "required" | "requisite" | "sufficient" | "optional") {
        return Err(bad("expected `<LoginModule> required key=\"value\" ...;`"));
    }
    {
        let mut remaining = pairs.trim();
        while !remaining.is_empty() {
            let (name, after) = remaining
                .split_once('=')
                .ok_or_else(|| bad("expected key=\"value\" pairs after the login module"))?;
            let after = after.trim_start();
            let (value, next) = match after.strip_prefix('"') {
                Some(quoted) => quoted
                    .split_once('"')
                    .ok_or_else(|| bad("a quoted value is not closed"))?,
                None => after.split_once(char::is_whitespace).unwrap_or((after, "")),
            };
            let target = match name.trim() {
                "username" => "sasl.username",
                "password" => "sasl.password",
                _ => "",
            };
            if !target.is_empty() && !params.keys().any(|k| k.eq_ignore_ascii_case(target)) {
                params.insert(target.to_string(), value.to_string());
            }
            remaining = next.trim_start();
        }
    }
    Ok(())
}

fn has_kafka(options: &Options, key: &str) -> bool {
    options.get(&format!("kafka.{key}")).is_some()
}

impl SourceOptions {
    /// Parses and validates streaming source options (Spark's `validateStreamOptions`).
    pub fn for_stream(options: &Options) -> Result<Self> {
        if options.get("endingOffsets").is_some() {
            return Err(illegal("ending offset not valid in streaming queries"));
        }
        if options.get("endingOffsetsByTimestamp").is_some() {
            return Err(illegal("ending timestamp not valid in streaming queries"));
        }
        Self::parse(options, OffsetSpec::Latest)
    }

    /// Parses and validates batch read options (Spark's `validateBatchOptions`).
    pub fn for_batch(options: &Options) -> Result<Self> {
        let parsed = Self::parse(options, OffsetSpec::Earliest)?;
        match &parsed.starting {
            OffsetSpec::Latest => {
                return Err(illegal(
                    "starting offset can't be latest for batch queries on Kafka",
                ));
            }
            OffsetSpec::Specific(p) => {
                if let Some((tp, _)) = p.iter().find(|(_, o)| **o == LATEST) {
                    return Err(illegal(format!(
                        "startingOffsets for {tp} can't be latest for batch queries on Kafka"
                    )));
                }
            }
            _ => {}
        }
        match &parsed.ending {
            OffsetSpec::Earliest => {
                return Err(illegal(
                    "ending offset can't be earliest for batch queries on Kafka",
                ));
            }
            OffsetSpec::Specific(p) => {
                if let Some((tp, _)) = p.iter().find(|(_, o)| **o == EARLIEST) {
                    return Err(illegal(format!(
                        "ending offset for {tp} can't be earliest for batch queries on Kafka"
                    )));
                }
            }
            _ => {}
        }
        if let (OffsetSpec::Specific(s), OffsetSpec::Specific(e)) =
            (&parsed.starting, &parsed.ending)
        {
            let sk: BTreeSet<_> = s.keys().collect();
            let ek: BTreeSet<_> = e.keys().collect();
            if sk != ek {
                return Err(EngineError::execution(
                    "KAFKA_START_OFFSET_DOES_NOT_MATCH_ASSIGNED",
                    format!(
                        "The topic-partitions in the starting offsets ({}) and the ending offsets ({}) do not match.",
                        join(&sk),
                        join(&ek)
                    ),
                ));
            }
            for (tp, start) in s {
                let end = e[tp];
                if *start >= 0 && end >= 0 && *start > end {
                    return Err(EngineError::execution(
                        "KAFKA_START_OFFSET_GREATER_THAN_END_OFFSET",
                        format!(
                            "The specified starting offset {start} is greater than the ending offset {end} for topic-partition {tp}."
                        ),
                    ));
                }
            }
        }
        Ok(parsed)
    }

    fn parse(options: &Options, default_start: OffsetSpec) -> Result<Self> {
        let strategies: Vec<(&str, &str)> = ["assign", "subscribe", "subscribepattern"]
            .iter()
            .filter_map(|k| options.get(k).map(|v| (*k, v)))
            .collect();
        let strategy = match strategies.as_slice() {
            [] => {
                return Err(illegal(format!(
                    "One of the following options must be specified for Kafka source: {STRATEGY_KEYS}. See the docs for more details."
                )));
            }
            [(k, v)] => match *k {
                "assign" => {
                    if !v.trim().starts_with('{') {
                        return Err(illegal(format!(
                            "No topicpartitions to assign as specified value for option 'assign' is '{v}'"
                        )));
                    }
                    Strategy::Assign(partitions_from_json(v)?)
                }
                "subscribe" => {
                    let topics: Vec<String> = v
                        .split(',')
                        .map(str::trim)
                        .filter(|t| !t.is_empty())
                        .map(str::to_string)
                        .collect();
                    if topics.is_empty() {
                        return Err(illegal(format!(
                            "No topics to subscribe to as specified value for option 'subscribe' is '{v}'"
                        )));
                    }
                    Strategy::Subscribe(topics)
                }
                _ => {
                    let p = v.trim();
                    if p.is_empty() {
                        return Err(illegal(format!(
                            "Pattern to subscribe is empty as specified value for option 'subscribePattern' is '{v}'"
                        )));
                    }
                    regex::Regex::new(p).map_err(|e| {
                        EngineError::invalid_option("subscribePattern", e.to_string())
                    })?;
                    Strategy::SubscribePattern(p.to_string())
                }
            },
            _ => {
                return Err(illegal(format!(
                    "Only one of the following options can be specified for Kafka source: {STRATEGY_KEYS}. See the docs for more details."
                )));
            }
        };
        let min_partitions = match options.get("minPartitions") {
            None => None,
            Some(v) => match v.trim().parse::<i64>() {
                Ok(p) if p > 0 => Some(p as usize),
                Ok(_) => return Err(illegal("minPartitions must be positive")),
                Err(_) => {
                    return Err(EngineError::invalid_option(
                        "minPartitions",
                        format!("`{v}` is not an integer"),
                    ));
                }
            },
        };
        let max_records_per_partition = match options.get("maxRecordsPerPartition") {
            None => None,
            Some(v) => match v.trim().parse::<i64>() {
                Ok(p) if p > 0 => Some(p as u64),
                _ => return Err(illegal("maxRecordsPerPartition must be positive")),
            },
        };
        validate_consumer_params(options)?;
        if has_kafka(options, "group.id") {
            // Spark's CUSTOM_GROUP_ID_ERROR_MESSAGE, logged as a warning.
            eprintln!(
                "WARN kafka source: Kafka option 'kafka.group.id' has been set on this query, it is not recommended to set this option. This option is unsafe to use since multiple concurrent queries or sources using the same group id will interfere with each other as they are part of the same consumer group."
            );
            if options.get("groupIdPrefix").is_some() {
                eprintln!(
                    "WARN kafka source: Option groupIdPrefix will be ignored as option kafka.group.id has been set."
                );
            }
        }
        let max_offsets_per_trigger = options.positive("maxOffsetsPerTrigger")?;
        let min_offsets_per_trigger = options.positive("minOffsetsPerTrigger")?;
        if let (Some(min), Some(max)) = (min_offsets_per_trigger, max_offsets_per_trigger)
            && min > max
        {
            return Err(illegal(format!(
                "The value of minOffsetPerTrigger({min}) is higher than the maxOffsetsPerTrigger({max})."
            )));
        }
        let max_trigger_delay = match options.get("maxTriggerDelay") {
            None => Duration::from_secs(15 * 60),
            Some(v) => parse_time_string(v).ok_or_else(|| {
                EngineError::invalid_option("maxTriggerDelay", format!("`{v}` is not a duration"))
            })?,
        };
        let no_match = match options.get("startingOffsetsByTimestampStrategy") {
            None => NoMatchStrategy::Error,
            Some(v) => match v.trim().to_ascii_uppercase().as_str() {
                "ERROR" => NoMatchStrategy::Error,
                "LATEST" => NoMatchStrategy::Latest,
                _ => {
                    return Err(EngineError::invalid_option(
                        "startingOffsetsByTimestampStrategy",
                        format!("`{v}` is not one of ERROR, LATEST"),
                    ));
                }
            },
        };
        let starting = range_limit(
            options,
            "startingTimestamp",
            "startingOffsetsByTimestamp",
            "startingOffsets",
            default_start,
            no_match,
        )?;
        let ending = range_limit(
            options,
            "endingTimestamp",
            "endingOffsetsByTimestamp",
            "endingOffsets",
            OffsetSpec::Latest,
            no_match,
        )?;
        let ms = |key: &str, default: u64| options.u64(key, default);
        Ok(SourceOptions {
            strategy,
            starting,
            ending,
            fail_on_data_loss: options.bool("failOnDataLoss", true)?,
            include_headers: options.bool("includeHeaders", false)?,
            min_partitions,
            max_records_per_partition,
            max_offsets_per_trigger,
            min_offsets_per_trigger,
            max_trigger_delay,
            fetch_offset_num_retries: u32::try_from(ms("fetchOffset.numRetries", 3)?)
                .unwrap_or(u32::MAX),
            fetch_offset_retry_interval: Duration::from_millis(ms(
                "fetchOffset.retryIntervalMs",
                10,
            )?),
            poll_timeout: Duration::from_millis(ms("kafkaConsumer.pollTimeoutMs", 120_000)?),
            group_id_prefix: options.get("groupIdPrefix").map(str::to_string),
            kafka_params: kafka_params(options)?.into(),
        })
    }
}

fn join<T: std::fmt::Display>(items: &BTreeSet<&T>) -> String {
    items
        .iter()
        .map(|t| t.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Spark's `Utils.timeStringAsMs`: `15m`, `10s`, `500ms`, `1h`, a bare number is ms; also
/// accepts interval strings such as `10 seconds`.
pub fn parse_time_string(v: &str) -> Option<Duration> {
    let v = v.trim();
    if let Ok(ms) = v.parse::<u64>() {
        return Some(Duration::from_millis(ms));
    }
    let split = v.find(|c: char| !c.is_ascii_digit())?;
    let (num, unit) = v.split_at(split);
    if let Ok(n) = num.parse::<u64>() {
        // Too many milliseconds for a duration is not a duration (Spark: NumberFormatException).
        let ms = match unit.trim().to_ascii_lowercase().as_str() {
            "ms" => Some(n),
            "s" => n.checked_mul(1000),
            "m" | "min" => n.checked_mul(60_000),
            "h" => n.checked_mul(3_600_000),
            "d" => n.checked_mul(86_400_000),
            "us" => Some(n / 1000),
            _ => None,
        };
        if let Some(ms) = ms {
            return Some(Duration::from_millis(ms));
        }
    }
    parse_interval(v).ok()
}

fn range_limit(
    options: &Options,
    global_ts_key: &str,
    by_ts_key: &str,
    offsets_key: &str,
    default: OffsetSpec,
    no_match: NoMatchStrategy,
) -> Result<OffsetSpec> {
    if let Some(ts) = options.get(global_ts_key) {
        let ts = ts.trim();
        return ts
            .parse::<i64>()
            .map(|t| OffsetSpec::GlobalTimestamp(t, no_match))
            .map_err(|_| illegal(format!("Expected a single long value, got {ts}")));
    }
    if let Some(json) = options.get(by_ts_key) {
        return Ok(OffsetSpec::SpecificTimestamp(
            offsets::timestamps_from_json(json.trim())?,
            no_match,
        ));
    }
    match options.get(offsets_key).map(str::trim) {
        Some(v) if v.eq_ignore_ascii_case("latest") => Ok(OffsetSpec::Latest),
        Some(v) if v.eq_ignore_ascii_case("earliest") => Ok(OffsetSpec::Earliest),
        Some(json) => Ok(OffsetSpec::Specific(offsets_from_json(json)?)),
        None => Ok(default),
    }
}

/// The consumer options Spark refuses, with Spark's explanations.
fn validate_consumer_params(options: &Options) -> Result<()> {
    if has_kafka(options, "auto.offset.reset") {
        return Err(illegal(
            "Kafka option 'auto.offset.reset' is not supported.\nInstead set the source option 'startingoffsets' to 'earliest' or 'latest'\nto specify where to start. Structured Streaming manages which offsets are consumed\ninternally, rather than relying on the kafkaConsumer to do it. This will ensure that no\ndata is missed when new topics/partitions are dynamically subscribed. Note that\n'startingoffsets' only applies when a new Streaming query is started, and\nthat resuming will always pick up from where the query left off. See the docs for more\ndetails.",
        ));
    }
    if has_kafka(options, "key.deserializer") {
        return Err(illegal(
            "Kafka option 'key.deserializer' is not supported as keys are deserialized as byte arrays with ByteArrayDeserializer. Use DataFrame operations to explicitly deserialize the keys.",
        ));
    }
    if has_kafka(options, "value.deserializer") {
        return Err(illegal(
            "Kafka option 'value.deserializer' is not supported as values are deserialized as byte arrays with ByteArrayDeserializer. Use DataFrame operations to explicitly deserialize the values.",
        ));
    }
    for c in ["enable.auto.commit", "interceptor.classes"] {
        if has_kafka(options, c) {
            return Err(illegal(format!("Kafka option '{c}' is not supported")));
        }
    }
    if !has_kafka(options, "bootstrap.servers") {
        return Err(illegal(
            "Option 'kafka.bootstrap.servers' must be specified for configuring Kafka consumer",
        ));
    }
    Ok(())
}

/// Delivery guarantee of the sink (option `deliveryGuarantee`, alias
/// `kafka.delivery.guarantee`). Spark's sink is only at-least-once; `exactly_once` goes further.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeliveryGuarantee {
    /// Idempotent producer (no duplicates from producer retries); a replayed batch is written
    /// again. Spark's behaviour.
    AtLeastOnce,
    /// Transactional producer per task, read-back of a replayed batch: every record once.
    ExactlyOnce,
}

/// Every sink option, parsed and validated.
#[derive(Clone, Debug)]
pub struct SinkOptions {
    /// `topic`: overrides the `topic` column.
    pub topic: Option<String>,
    /// `includeHeaders`: write the `headers` column (default: when the column exists).
    pub include_headers: Option<bool>,
    /// `deliveryGuarantee`.
    pub delivery: DeliveryGuarantee,
    /// Prefix of transactional ids in exactly-once mode (`transactionalIdPrefix`, default
    /// `sstream`); the id is `<prefix>-<query id>-<task>`.
    pub transactional_id_prefix: String,
    /// Exactly-once only (`readBackClockSkewMs`, default 10 minutes): how far a record's
    /// timestamp may lag the batch timestamp and still be an earlier attempt of the batch.
    /// The read-back of a replayed batch stops at records older than that, so it reads only
    /// what was written since the batch began, not the whole topic.
    pub read_back_clock_skew_ms: i64,
    /// Producer configuration: `kafka.*` with the prefix removed, plus our defaults.
    pub producer_params: KafkaParams,
}

impl SinkOptions {
    /// Parses and validates sink options (Spark's `kafkaParamsForProducer`).
    pub fn parse(options: &Options) -> Result<Self> {
        if has_kafka(options, "key.serializer") {
            return Err(illegal(
                "Kafka option 'key.serializer' is not supported as keys are serialized with ByteArraySerializer.",
            ));
        }
        if has_kafka(options, "value.serializer") {
            return Err(illegal(
                "Kafka option 'value.serializer' is not supported as value are serialized with ByteArraySerializer.",
            ));
        }
        if !has_kafka(options, "bootstrap.servers") {
            return Err(illegal(
                "Option 'kafka.bootstrap.servers' must be specified for configuring Kafka producer",
            ));
        }
        let mut params = kafka_params(options)?;
        let guarantee = options
            .get("deliveryGuarantee")
            .map(str::to_string)
            .or_else(|| {
                params
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("delivery.guarantee"))
                    .map(|(_, v)| v.clone())
            });
        params.retain(|k, _| !k.eq_ignore_ascii_case("delivery.guarantee"));
        let delivery = match guarantee
            .as_deref()
            .map(|g| g.trim().to_ascii_lowercase().replace('-', "_"))
            .as_deref()
        {
            None | Some("at_least_once") => DeliveryGuarantee::AtLeastOnce,
            Some("exactly_once") => DeliveryGuarantee::ExactlyOnce,
            Some(other) => {
                return Err(EngineError::invalid_option(
                    "deliveryGuarantee",
                    format!("`{other}` is not one of at_least_once, exactly_once"),
                ));
            }
        };
        // Idempotence on by default (as Kafka's Java producer since 3.0): retries cannot
        // duplicate or reorder records.
        if !params
            .keys()
            .any(|k| k.eq_ignore_ascii_case("enable.idempotence"))
        {
            params.insert("enable.idempotence".into(), "true".into());
        }
        // Throughput defaults (each overridable with `kafka.<name>`): librdkafka's queue holds
        // 100k records by default, which a sink task writing Arrow batches fills in a few ms and
        // then has to wait on; a deeper queue keeps the producer's broker thread busy instead.
        for (k, v) in [("queue.buffering.max.messages", "1000000")] {
            if !params.keys().any(|p| p.eq_ignore_ascii_case(k)) {
                params.insert(k.into(), v.into());
            }
        }
        Ok(SinkOptions {
            topic: options.get("topic").map(|t| t.trim().to_string()),
            include_headers: options
                .get("includeHeaders")
                .map(|v| engine_core::options::parse_bool("includeHeaders", v))
                .transpose()?,
            delivery,
            transactional_id_prefix: options.string("transactionalIdPrefix", "sstream"),
            read_back_clock_skew_ms: options.time_ms("readBackClockSkewMs", 600_000)?.max(0),
            producer_params: params.into(),
        })
    }
}

/// Kafka client params (keys without the `kafka.` prefix) whose `Debug` form redacts secret
/// values, so a derived `Debug` of any options struct holding them cannot leak a password.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct KafkaParams(pub BTreeMap<String, String>);

impl std::ops::Deref for KafkaParams {
    type Target = BTreeMap<String, String>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl std::ops::DerefMut for KafkaParams {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl std::fmt::Debug for KafkaParams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(redacted(&self.0)).finish()
    }
}

impl From<BTreeMap<String, String>> for KafkaParams {
    fn from(m: BTreeMap<String, String>) -> Self {
        KafkaParams(m)
    }
}

/// Option keys whose values are secrets, and how they are shown: engine-core's one rule.
pub use engine_core::options::{is_secret_key, redacted};

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(pairs: &[(&str, &str)]) -> Options {
        Options::new(pairs.iter().copied())
    }

    #[test]
    fn strategy_is_required_and_unique() {
        let e = SourceOptions::for_stream(&opts(&[("kafka.bootstrap.servers", "x")])).unwrap_err();
        assert!(e.to_string().contains("One of the following options must be specified for Kafka source: assign, subscribe, subscribepattern"), "{e}");
        let e = SourceOptions::for_stream(&opts(&[
            ("kafka.bootstrap.servers", "x"),
            ("subscribe", "a"),
            ("subscribePattern", "a.*"),
        ]))
        .unwrap_err();
        assert!(e.to_string().contains("Only one of"), "{e}");
        let e = SourceOptions::for_stream(&opts(&[("subscribe", " , ")])).unwrap_err();
        assert!(e.to_string().contains("No topics to subscribe to"), "{e}");
        let e = SourceOptions::for_stream(&opts(&[("subscribe", "t")])).unwrap_err();
        assert!(
            e.to_string()
                .contains("Option 'kafka.bootstrap.servers' must be specified"),
            "{e}"
        );
        let o = SourceOptions::for_stream(&opts(&[
            ("kafka.bootstrap.servers", "x"),
            ("assign", r#"{"t":[0,1]}"#),
        ]))
        .unwrap();
        assert_eq!(o.strategy.to_string(), "Assign[t-0, t-1]");
        assert_eq!(o.starting, OffsetSpec::Latest);
    }

    #[test]
    fn odd_keys_and_huge_durations_are_errors_not_panics() {
        // Regression (issue 16): `k[..6]` cut a multi-byte first character.
        let p = kafka_params(&opts(&[("éafka.x", "1"), ("kafkaé", "2"), ("kafka.", "3")])).unwrap();
        assert!(p.is_empty(), "{p:?}");
        assert_eq!(parse_time_string("1000000000000000000d"), None);
        assert_eq!(parse_time_string("5m"), Some(Duration::from_secs(300)));
    }

    #[test]
    fn forbidden_consumer_options_fail_with_sparks_explanation() {
        for (k, needle) in [
            (
                "kafka.auto.offset.reset",
                "Instead set the source option 'startingoffsets'",
            ),
            (
                "kafka.key.deserializer",
                "keys are deserialized as byte arrays",
            ),
            (
                "kafka.value.deserializer",
                "values are deserialized as byte arrays",
            ),
            (
                "kafka.enable.auto.commit",
                "Kafka option 'enable.auto.commit' is not supported",
            ),
            (
                "kafka.interceptor.classes",
                "Kafka option 'interceptor.classes' is not supported",
            ),
        ] {
            let e = SourceOptions::for_stream(&opts(&[
                ("kafka.bootstrap.servers", "x"),
                ("subscribe", "t"),
                (k, "v"),
            ]))
            .unwrap_err();
            assert!(e.to_string().contains(needle), "{k}: {e}");
        }
        // kafka.group.id is allowed (Spark only warns).
        SourceOptions::for_stream(&opts(&[
            ("kafka.bootstrap.servers", "x"),
            ("subscribe", "t"),
            ("kafka.group.id", "g"),
        ]))
        .unwrap();
    }

    #[test]
    fn batch_and_stream_offset_rules() {
        let base = [("kafka.bootstrap.servers", "x"), ("subscribe", "t")];
        let with = |extra: &[(&str, &str)]| {
            let mut v = base.to_vec();
            v.extend_from_slice(extra);
            opts(&v)
        };
        let e = SourceOptions::for_stream(&with(&[("endingOffsets", "latest")])).unwrap_err();
        assert!(
            e.to_string()
                .contains("ending offset not valid in streaming queries")
        );
        let e = SourceOptions::for_batch(&with(&[("startingOffsets", "latest")])).unwrap_err();
        assert!(e.to_string().contains("starting offset can't be latest"));
        let e = SourceOptions::for_batch(&with(&[("endingOffsets", "earliest")])).unwrap_err();
        assert!(e.to_string().contains("ending offset can't be earliest"));
        let e = SourceOptions::for_batch(&with(&[("startingOffsets", r#"{"t":{"0":-1}}"#)]))
            .unwrap_err();
        assert!(
            e.to_string()
                .contains("startingOffsets for t-0 can't be latest")
        );
        let b = SourceOptions::for_batch(&with(&[])).unwrap();
        assert_eq!(
            (b.starting, b.ending),
            (OffsetSpec::Earliest, OffsetSpec::Latest)
        );
        let e = SourceOptions::for_stream(&with(&[
            ("minOffsetsPerTrigger", "10"),
            ("maxOffsetsPerTrigger", "5"),
        ]))
        .unwrap_err();
        assert!(
            e.to_string()
                .contains("minOffsetPerTrigger(10) is higher than the maxOffsetsPerTrigger(5)")
        );
        let e = SourceOptions::for_stream(&with(&[("minPartitions", "0")])).unwrap_err();
        assert!(e.to_string().contains("minPartitions must be positive"));
        let s = SourceOptions::for_stream(&with(&[
            ("startingTimestamp", "1000"),
            ("maxTriggerDelay", "5s"),
        ]))
        .unwrap();
        assert_eq!(
            s.starting,
            OffsetSpec::GlobalTimestamp(1000, NoMatchStrategy::Error)
        );
        assert_eq!(s.max_trigger_delay, Duration::from_secs(5));
    }

    #[test]
    fn jaas_config_becomes_sasl_username_and_password() {
        let p = kafka_params(&opts(&[
            ("kafka.bootstrap.servers", "b:9092"),
            (
                "kafka.sasl.jaas.config",
                r#"org.apache.kafka.common.security.plain.PlainLoginModule required username="alice" password="s3 cr=t";"#,
            ),
        ]))
        .unwrap();
        assert_eq!(p["sasl.username"], "alice");
        assert_eq!(p["sasl.password"], "s3 cr=t");
        assert!(!p.contains_key("sasl.jaas.config"));
        // Options given directly win over the JAAS text.
        let p = kafka_params(&opts(&[
            ("kafka.sasl.username", "bob"),
            (
                "kafka.sasl.jaas.config",
                "org.apache.kafka.common.security.scram.ScramLoginModule required username=alice password=pw;",
            ),
        ]))
        .unwrap();
        assert_eq!(p["sasl.username"], "bob");
        assert_eq!(p["sasl.password"], "pw");
        // Kerberos cannot be translated; the error names the option and the way out, not the
        // value.
        let e = kafka_params(&opts(&[(
            "kafka.sasl.jaas.config",
            r#"com.sun.security.auth.module.Krb5LoginModule required keyTab="/k" principal="p@R" password="hunter2";"#,
        )]))
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("kafka.sasl.jaas.config") && e.contains("Krb5LoginModule"),
            "{e}"
        );
        assert!(
            e.contains("kafka.sasl.username") && !e.contains("hunter2"),
            "{e}"
        );
        let e = kafka_params(&opts(&[(
            "kafka.sasl.jaas.config",
            r#"org.apache.kafka.common.security.plain.PlainLoginModule required password="hunter2"#,
        )]))
        .unwrap_err()
        .to_string();
        assert!(e.contains("not closed") && !e.contains("hunter2"), "{e}");
    }

    #[test]
    fn sink_options_defaults_and_guarantee() {
        let s = SinkOptions::parse(&opts(&[("kafka.bootstrap.servers", "x")])).unwrap();
        assert_eq!(s.delivery, DeliveryGuarantee::AtLeastOnce);
        assert_eq!(s.producer_params["enable.idempotence"], "true");
        let s = SinkOptions::parse(&opts(&[
            ("kafka.bootstrap.servers", "x"),
            ("kafka.delivery.guarantee", "exactly_once"),
            ("topic", " out "),
        ]))
        .unwrap();
        assert_eq!(s.delivery, DeliveryGuarantee::ExactlyOnce);
        assert_eq!(s.topic.as_deref(), Some("out"));
        assert!(!s.producer_params.contains_key("delivery.guarantee"));
        let e = SinkOptions::parse(&opts(&[
            ("kafka.bootstrap.servers", "x"),
            ("kafka.value.serializer", "y"),
        ]))
        .unwrap_err();
        assert!(
            e.to_string()
                .contains("value are serialized with ByteArraySerializer")
        );
        let r = redacted(&[("sasl.password".to_string(), "hunter2".to_string())].into());
        assert_eq!(r["sasl.password"], "*********(redacted)");
    }
}
