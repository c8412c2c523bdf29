//! Turns a streaming plan into the plan every micro-batch runs (Spark's
//! `IncrementalExecution`, done once per query): each source leaf becomes a scan of a
//! [`BatchSlot`] the runtime refills per batch, each watermark node gets statistics of its
//! own, and the result goes through the normal optimizer once.

use std::sync::Arc;
use std::time::Duration;

use engine_core::Result;

use super::scan::{BatchSlot, StreamingBatchTable};
use engine_core::conf::SessionConf;
use engine_core::logical::{
    EventTimeStats, EventTimeWatermark, LogicalPlan, Scan, StreamingRelation,
};

/// The streaming sources of `plan`, each once, in plan order (leftmost first): the order of
/// the lines of `offsets/N`.
pub fn collect_sources(plan: &LogicalPlan) -> Vec<Arc<StreamingRelation>> {
    fn walk(p: &LogicalPlan, out: &mut Vec<Arc<StreamingRelation>>) {
        if let LogicalPlan::StreamingRelation(r) = p {
            if !out.iter().any(|o| o.id == r.id) {
                out.push(r.clone());
            }
            return;
        }
        for i in p.inputs() {
            walk(i, out);
        }
    }
    let mut out = Vec::new();
    walk(plan, &mut out);
    out
}

/// The per-batch plan of a query.
#[derive(Debug)]
pub struct IncrementalPlan {
    /// The optimized plan, source leaves replaced by slot scans.
    pub optimized: Arc<LogicalPlan>,
    /// One slot per source, in [`collect_sources`] order.
    pub slots: Vec<Arc<BatchSlot>>,
    /// Every watermark operator: its statistics and delay.
    pub watermarks: Vec<(Arc<EventTimeStats>, Duration)>,
}

/// Builds the [`IncrementalPlan`] of an analyzed streaming plan whose sources are
/// `sources` (described by `descriptions`, for `explain`).
pub fn incrementalize(
    plan: &Arc<LogicalPlan>,
    sources: &[Arc<StreamingRelation>],
    descriptions: &[String],
    conf: &SessionConf,
) -> Result<IncrementalPlan> {
    let slots: Vec<Arc<BatchSlot>> = sources.iter().map(|_| Arc::default()).collect();
    let mut watermarks = Vec::new();
    let replaced = plan.transform_up(&mut |node| {
        Ok(match node.as_ref() {
            LogicalPlan::StreamingRelation(r) => {
                let i = sources.iter().position(|s| s.id == r.id).ok_or_else(|| {
                    engine_core::EngineError::Internal("unknown streaming source".into())
                })?;
                Arc::new(LogicalPlan::Scan(Scan {
                    source: engine_core::physical::provider_as_source(Arc::new(
                        StreamingBatchTable {
                            description: descriptions.get(i).cloned().unwrap_or_default(),
                            schema: r.schema.clone(),
                            slot: slots[i].clone(),
                        },
                    )),
                    qualifier: None,
                    projection: None,
                    filters: vec![],
                    limit: None,
                }))
            }
            LogicalPlan::EventTimeWatermark(w) => {
                let stats = Arc::new(EventTimeStats::default());
                watermarks.push((stats.clone(), w.delay));
                Arc::new(LogicalPlan::EventTimeWatermark(EventTimeWatermark {
                    stats,
                    ..w.clone()
                }))
            }
            _ => node,
        })
    })?;
    let optimized = engine_core::optimizer::optimize_with_conf(&replaced, conf)?;
    Ok(IncrementalPlan {
        optimized,
        slots,
        watermarks,
    })
}
