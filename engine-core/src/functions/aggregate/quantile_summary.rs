//! The Greenwald-Khanna quantile summary behind `percentile_approx`, step for step as
//! Spark's `QuantileSummaries` and `PercentileDigest` work, so the approximate answers are
//! Spark's own (for the same rows in the same partials merged in the same order).
//!
//! New values wait in a head buffer; every [`HEAD_SIZE`] values it is sorted and folded into
//! the samples, and once there are [`COMPRESS_THRESHOLD`] samples they are compressed.
//! Before its state leaves an accumulator, and before a merge or a query, a summary folds its
//! head in and compresses (Spark's `PercentileDigest` does so when it serializes, merges or
//! answers). Arithmetic on counts saturates, so a corrupt state cannot overflow.

use std::cmp::Ordering;

/// Spark's `QuantileSummaries.defaultCompressThreshold`.
pub(super) const COMPRESS_THRESHOLD: usize = 10_000;
/// Spark's `QuantileSummaries.defaultHeadSize`.
pub(super) const HEAD_SIZE: usize = 50_000;

/// One sample: a value, the least rank gap `g` from the previous sample, and the span
/// `delta` of its possible ranks (Spark's `Stats`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Sample {
    pub(super) value: f64,
    pub(super) g: i64,
    pub(super) delta: i64,
}

/// A summary of the values seen so far.
#[derive(Debug, Clone)]
pub(super) struct QuantileSummary {
    relative_error: f64,
    samples: Vec<Sample>,
    /// Values folded into `samples` (the head buffer excluded).
    count: i64,
    head: Vec<f64>,
    compressed: bool,
}

/// `floor(2 * eps * n)` as Spark computes it (a double floored to a long).
fn band(relative_error: f64, n: i64) -> i64 {
    (2.0 * relative_error * n as f64).floor() as i64
}

impl QuantileSummary {
    /// An empty summary for the relative error `1 / accuracy` (compressed, as Spark's
    /// `PercentileDigest` starts).
    pub(super) fn new(relative_error: f64) -> Self {
        Self::from_parts(relative_error, vec![], 0)
    }

    /// A compressed summary from its state.
    pub(super) fn from_parts(relative_error: f64, samples: Vec<Sample>, count: i64) -> Self {
        QuantileSummary {
            relative_error,
            samples,
            count,
            head: vec![],
            compressed: true,
        }
    }

    /// The samples and the count, once compressed (what Spark serializes).
    pub(super) fn parts(&mut self) -> (&[Sample], i64) {
        self.ensure_compressed();
        (&self.samples, self.count)
    }

    /// Approximate heap size in bytes.
    pub(super) fn size(&self) -> usize {
        self.samples.capacity() * std::mem::size_of::<Sample>() + self.head.capacity() * 8
    }

    /// Spark's `insert`: buffer the value, folding and compressing when the buffers fill.
    pub(super) fn insert(&mut self, x: f64) {
        self.head.push(x);
        self.compressed = false;
        if self.head.len() >= HEAD_SIZE {
            self.insert_head();
            if self.samples.len() >= COMPRESS_THRESHOLD {
                self.compress();
            }
        }
    }

    /// Spark's `withHeadBufferInserted`: the sorted head merged into the samples.
    fn insert_head(&mut self) {
        if self.head.is_empty() {
            return;
        }
        let mut sorted = std::mem::take(&mut self.head);
        // Scala sorts doubles by java.lang.Double.compare: NaN last, -0.0 before 0.0.
        sorted.sort_by(|a, b| java_compare(*a, *b));
        let old = std::mem::take(&mut self.samples);
        let mut merged = Vec::with_capacity(old.len() + sorted.len());
        let mut count = self.count;
        let mut next = 0;
        let last = sorted.len() - 1;
        for (i, &x) in sorted.iter().enumerate() {
            while next < old.len() && old[next].value <= x {
                merged.push(old[next]);
                next += 1;
            }
            count = count.saturating_add(1);
            let delta = if merged.is_empty() || (next == old.len() && i == last) {
                0
            } else {
                band(self.relative_error, count)
            };
            merged.push(Sample {
                value: x,
                g: 1,
                delta,
            });
        }
        merged.extend_from_slice(&old[next..]);
        self.samples = merged;
        self.count = count;
        self.compressed = false;
    }

    /// Spark's `compress`: the head folded in, then neighbouring samples merged while the
    /// error bound allows.
    fn compress(&mut self) {
        self.insert_head();
        let threshold = 2.0 * self.relative_error * self.count as f64;
        self.samples = compress_samples(&self.samples, threshold);
        self.compressed = true;
    }

    fn ensure_compressed(&mut self) {
        if !self.compressed {
            self.compress();
        }
    }

    /// Spark's `PercentileDigest.merge`: both sides compressed, then interleaved with each
    /// side's samples widened by the other side's error, and compressed again.
    pub(super) fn merge(&mut self, other: &mut QuantileSummary) {
        self.ensure_compressed();
        other.ensure_compressed();
        if other.count == 0 {
            return;
        }
        if self.count == 0 {
            *self = other.clone();
            return;
        }
        let relative_error = self.relative_error.max(other.relative_error);
        let count = self.count.saturating_add(other.count);
        let widen_self = band(other.relative_error, other.count);
        let widen_other = band(self.relative_error, self.count);
        let (a, b) = (&self.samples, &other.samples);
        let mut merged = Vec::with_capacity(a.len() + b.len());
        let (mut i, mut j) = (0, 0);
        while i < a.len() && j < b.len() {
            if a[i].value < b[j].value {
                let extra = if j > 0 { widen_self } else { 0 };
                merged.push(Sample {
                    delta: a[i].delta.saturating_add(extra),
                    ..a[i]
                });
                i += 1;
            } else {
                let extra = if i > 0 { widen_other } else { 0 };
                merged.push(Sample {
                    delta: b[j].delta.saturating_add(extra),
                    ..b[j]
                });
                j += 1;
            }
        }
        merged.extend_from_slice(&a[i..]);
        merged.extend_from_slice(&b[j..]);
        self.samples = compress_samples(&merged, 2.0 * relative_error * count as f64);
        self.relative_error = relative_error;
        self.count = count;
        self.compressed = true;
    }

    /// Spark's `getPercentiles`: `None` for no values or no percentages.
    pub(super) fn query(&mut self, percentages: &[f64]) -> Option<Vec<f64>> {
        self.ensure_compressed();
        let (first, last) = (self.samples.first()?, self.samples.last()?);
        if self.count == 0 || percentages.is_empty() {
            return None;
        }
        // Spark halves the widest band with a long division.
        let target = self
            .samples
            .iter()
            .map(|s| s.delta.saturating_add(s.g))
            .max()
            .unwrap_or(0)
            / 2;
        let target = target as f64;
        let mut order: Vec<usize> = (0..percentages.len()).collect();
        order.sort_by(|&x, &y| percentages[x].total_cmp(&percentages[y]));
        let mut out = vec![0.0; percentages.len()];
        let mut index = 0;
        let mut min_rank = first.g;
        for pos in order {
            let p = percentages[pos];
            out[pos] = if p <= self.relative_error {
                first.value
            } else if p >= 1.0 - self.relative_error {
                last.value
            } else {
                let (i, rank, value) = self.find(index, min_rank, target, p);
                index = i;
                min_rank = rank;
                value
            };
        }
        Some(out)
    }

    /// Spark's `findApproxQuantile`, scanning on from sample `index`.
    fn find(&self, index: usize, min_rank: i64, target: f64, p: f64) -> (usize, i64, f64) {
        let rank = (p * self.count as f64).ceil() as i64;
        let n = self.samples.len();
        let mut i = index;
        let mut min_rank = min_rank;
        while i + 1 < n {
            let current = self.samples[i];
            let max_rank = min_rank.saturating_add(current.delta);
            if max_rank as f64 - target <= rank as f64 && rank as f64 <= min_rank as f64 + target {
                return (i, min_rank, current.value);
            }
            i += 1;
            min_rank = min_rank.saturating_add(self.samples[i].g);
        }
        (
            n.saturating_sub(1),
            0,
            self.samples.last().map_or(f64::NAN, |s| s.value),
        )
    }
}

/// `java.lang.Double.compare`: NaN above everything (all NaNs equal), -0.0 below 0.0.
fn java_compare(a: f64, b: f64) -> Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        _ => a.total_cmp(&b),
    }
}

/// Spark's `compressImmut`: from the last sample down, a sample is folded into the one after
/// it while their joint band stays under `threshold`; the first and last samples stay.
fn compress_samples(samples: &[Sample], threshold: f64) -> Vec<Sample> {
    let Some((&last, rest)) = samples.split_last() else {
        return vec![];
    };
    let mut out = Vec::with_capacity(samples.len());
    let mut head = last;
    // Samples n-2 down to 1; sample 0 is handled below.
    for &sample in rest.iter().skip(1).rev() {
        let band = sample.g.saturating_add(head.g).saturating_add(head.delta);
        if (band as f64) < threshold {
            head.g = head.g.saturating_add(sample.g);
        } else {
            out.push(head);
            head = sample;
        }
    }
    out.push(head);
    let first = samples[0];
    if first.value <= head.value && samples.len() > 1 {
        out.push(first);
    }
    out.reverse();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary_of(values: impl IntoIterator<Item = f64>, eps: f64) -> QuantileSummary {
        let mut s = QuantileSummary::new(eps);
        for v in values {
            s.insert(v);
        }
        s
    }

    #[test]
    fn small_inputs_are_exact_order_statistics() {
        // Spark: percentile_approx(col, array(0.5, 0.4, 0.1), 100) over 0, 1, 2, 10.
        let mut s = summary_of([0.0, 1.0, 2.0, 10.0], 0.01);
        assert_eq!(s.query(&[0.5, 0.4, 0.1]), Some(vec![1.0, 1.0, 0.0]));
        let mut empty = QuantileSummary::new(0.01);
        assert_eq!(empty.query(&[0.5]), None);
    }

    #[test]
    fn large_inputs_match_spark() {
        // Spark 4.3: percentile_approx(x, array(0.01, 0.25, 0.5, 0.75, 0.99)) over
        // explode(sequence(1, 120000)), one partition.
        let mut s = summary_of((1..=120_000).map(f64::from), 1e-4);
        let mut parts = s.clone();
        let (samples, count) = parts.parts();
        let mut fin = QuantileSummary::new(1e-4);
        fin.merge(&mut QuantileSummary::from_parts(
            1e-4,
            samples.to_vec(),
            count,
        ));
        let want = vec![1198.0, 29990.0, 59988.0, 89991.0, 118788.0];
        assert_eq!(s.query(&[0.01, 0.25, 0.5, 0.75, 0.99]), Some(want.clone()));
        assert_eq!(fin.query(&[0.01, 0.25, 0.5, 0.75, 0.99]), Some(want));
    }

    #[test]
    fn merging_keeps_every_value_counted() {
        let mut a = summary_of((0..30_000).map(f64::from), 1e-3);
        let mut b = summary_of((0..70_000).map(|v| f64::from(v) * 0.5), 1e-3);
        a.merge(&mut b);
        assert_eq!(a.count, 100_000);
        assert_eq!(a.samples.iter().map(|s| s.g).sum::<i64>(), 100_000);
        let q = a.query(&[0.0, 1.0]).unwrap();
        assert_eq!(q, vec![0.0, 34_999.5]);
    }
}
