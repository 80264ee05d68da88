//! Summaries of samples of durations: n, median, p90, mean, and what was
//! left out and why.

use std::collections::BTreeMap;

use serde::Serialize;

/// Why an incident (or event) was left out of a figure.
pub const STILL_OPEN: &str = "still_open";
pub const MILESTONE_MISSING: &str = "milestone_missing";
pub const OUT_OF_ORDER: &str = "out_of_order";
pub const NOT_IN_HISTORY: &str = "not_in_history";

/// A sample being collected.
#[derive(Debug, Clone, Default)]
pub struct Sample {
    pub values: Vec<i64>,
    pub excluded: BTreeMap<&'static str, u64>,
}

impl Sample {
    pub fn push(&mut self, seconds: i64) {
        self.values.push(seconds);
    }

    pub fn exclude(&mut self, reason: &'static str) {
        *self.excluded.entry(reason).or_insert(0) += 1;
    }

    pub fn summary(&self) -> Summary {
        let mut sorted = self.values.clone();
        sorted.sort_unstable();
        let n = sorted.len();
        let mean = if n == 0 {
            None
        } else {
            let total: i128 = sorted.iter().map(|&v| i128::from(v)).sum();
            // Rounded to the nearest second, halves away from zero.
            let n = n as i128;
            let rounded = if total >= 0 {
                (2 * total + n) / (2 * n)
            } else {
                -((-2 * total + n) / (2 * n))
            };
            i64::try_from(rounded).ok()
        };
        Summary {
            n: n as u64,
            median_seconds: nearest_rank(&sorted, 50),
            p90_seconds: nearest_rank(&sorted, 90),
            mean_seconds: mean,
            excluded: self.excluded.values().sum(),
            excluded_by_reason: self
                .excluded
                .iter()
                .map(|(k, v)| (k.to_string(), *v))
                .collect(),
        }
    }
}

/// The nearest-rank percentile: the smallest value with at least `p`% of
/// the sample at or below it. Always a value that was observed.
pub fn nearest_rank(sorted: &[i64], p: usize) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p * sorted.len()).div_ceil(100).max(1);
    sorted.get(rank - 1).copied()
}

/// One duration figure as reports show it (the JSON contract).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub n: u64,
    pub median_seconds: Option<i64>,
    pub p90_seconds: Option<i64>,
    pub mean_seconds: Option<i64>,
    /// How many were left out, in total...
    pub excluded: u64,
    /// ...and why.
    pub excluded_by_reason: BTreeMap<String, u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let mut s = Sample::default();
        for v in [10, 20, 30, 40] {
            s.push(v);
        }
        let sum = s.summary();
        assert_eq!(sum.median_seconds, Some(20));
        assert_eq!(sum.p90_seconds, Some(40));
        assert_eq!(sum.mean_seconds, Some(25));
        let mut one = Sample::default();
        one.push(7);
        assert_eq!(one.summary().p90_seconds, Some(7));
        assert_eq!(Sample::default().summary().median_seconds, None);
    }
}
