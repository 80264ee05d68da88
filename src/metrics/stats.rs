//! Summaries of samples of durations (n, median, p90, mean, and what was
//! left out and why), and the tests that say whether a change between
//! two periods is distinguishable from noise.

use std::collections::BTreeMap;

use serde::Serialize;

/// Why an incident (or event) was left out of a figure.
pub const STILL_OPEN: &str = "still_open";
pub const MILESTONE_MISSING: &str = "milestone_missing";
/// One end of the duration was only assumed, never stated (see
/// [`crate::model::incident::MilestoneSource::Assumed`]).
pub const MILESTONE_ASSUMED: &str = "milestone_assumed";
pub const OUT_OF_ORDER: &str = "out_of_order";
pub const NOT_IN_HISTORY: &str = "not_in_history";
/// Recorded, or published, before the history of this shallow clone
/// begins: when is not here (`git fetch --unshallow` fetches it).
pub const SHALLOW_CLONE: &str = "shallow_clone";
/// Written down after the fact: recording lag and the commit that brought
/// a postmortem say nothing about the response.
pub const HISTORICAL: &str = "historical";

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
            i64::try_from(round_ratio(total, n as i128)).ok()
        };
        Summary {
            n: n as u64,
            median_seconds: percentile(&sorted, 50),
            p90_seconds: percentile(&sorted, 90),
            mean_seconds: mean,
            excluded: self.excluded.values().sum(),
            excluded_by_reason: self
                .excluded
                .iter()
                .map(|(k, v)| (k.to_string(), *v))
                .collect(),
            values: sorted,
        }
    }
}

/// `numerator / denominator` rounded to the nearest integer, halves away
/// from zero (the denominator is positive).
fn round_ratio(numerator: i128, denominator: i128) -> i128 {
    if numerator >= 0 {
        (2 * numerator + denominator) / (2 * denominator)
    } else {
        -((-2 * numerator + denominator) / (2 * denominator))
    }
}

/// The `p`th percentile of a sorted sample by linear interpolation between
/// the closest ranks, as numpy's default, Excel's `PERCENTILE.INC` and
/// PostgreSQL's `percentile_cont` compute it: the median of an even count
/// is the mean of the two middle values. Rounded to the nearest second,
/// halves away from zero.
pub fn percentile(sorted: &[i64], p: u32) -> Option<i64> {
    let last = sorted.len().checked_sub(1)?;
    // Position (n - 1) * p / 100, as a whole part and hundredths.
    let position = last as u128 * u128::from(p);
    let (index, hundredths) = ((position / 100) as usize, (position % 100) as i128);
    let low = i128::from(sorted[index]);
    let high = i128::from(sorted.get(index + 1).copied().unwrap_or(sorted[index]));
    i64::try_from(round_ratio(low * 100 + hundredths * (high - low), 100)).ok()
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
    /// The values, sorted: what comparisons between periods test.
    #[serde(skip)]
    pub values: Vec<i64>,
}

/// The summary of no values.
pub static EMPTY: Summary = Summary {
    n: 0,
    median_seconds: None,
    p90_seconds: None,
    mean_seconds: None,
    excluded: 0,
    excluded_by_reason: BTreeMap::new(),
    values: Vec::new(),
};

// --- Distinguishable from noise.

/// Below this many values in either period (durations), or incidents in
/// both periods together (counts), a comparison is not attempted.
pub const MIN_TO_COMPARE: usize = 5;
/// A difference counts as distinguishable from noise below this p-value
/// (two-sided).
pub const SIGNIFICANCE: f64 = 0.05;
/// Up to this many values in both samples together, the Mann-Whitney p-value
/// is exact (every way of splitting the ranks counted); above, the normal
/// approximation with tie and continuity corrections.
pub const EXACT_UP_TO: usize = 40;

/// What a comparison concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Fewer values than [`MIN_TO_COMPARE`].
    TooFew,
    /// The earlier periods lie before anything the repository records.
    NoHistory,
    /// p ≥ [`SIGNIFICANCE`]: as likely chance as a change.
    Noise,
    /// p < [`SIGNIFICANCE`].
    Distinguishable,
}

/// A two-sided test of one figure, this period against the ones before.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// `mann_whitney_u` (durations) or `poisson_rate` (incident counts).
    pub test: &'static str,
    pub n: u64,
    pub previous_n: u64,
    /// Two-sided, rounded to four decimals; null when not tested.
    pub p_value: Option<f64>,
    pub verdict: Verdict,
}

fn verdict_of(p: f64) -> Verdict {
    if p < SIGNIFICANCE {
        Verdict::Distinguishable
    } else {
        Verdict::Noise
    }
}

fn round4(p: f64) -> f64 {
    (p.clamp(0.0, 1.0) * 10_000.0).round() / 10_000.0
}

/// Compare two samples of durations with the Mann-Whitney U test: does
/// one period tend to have longer durations than the other? It makes no
/// assumption about the shape of the distribution (incident durations
/// have long tails).
pub fn compare_durations(current: &[i64], previous: &[i64], has_history: bool) -> Comparison {
    let mut comparison = Comparison {
        test: "mann_whitney_u",
        n: current.len() as u64,
        previous_n: previous.len() as u64,
        p_value: None,
        verdict: Verdict::TooFew,
    };
    if !has_history {
        comparison.verdict = Verdict::NoHistory;
    } else if current.len() >= MIN_TO_COMPARE && previous.len() >= MIN_TO_COMPARE {
        let p = mann_whitney_p(current, previous);
        comparison.p_value = Some(round4(p));
        comparison.verdict = verdict_of(p);
    }
    comparison
}

/// Compare an incident count with the count over the earlier periods,
/// which cover `periods` times the length of this one: under "the rate did
/// not change" each of the `current + previous` incidents falls in this
/// period with probability 1 / (1 + periods) (a Poisson rate test, exact
/// binomial two-sided p-value as R's `binom.test` computes it).
pub fn compare_counts(current: u64, previous: u64, periods: f64) -> Comparison {
    let mut comparison = Comparison {
        test: "poisson_rate",
        n: current,
        previous_n: previous,
        p_value: None,
        verdict: Verdict::TooFew,
    };
    if periods <= 0.0 {
        comparison.verdict = Verdict::NoHistory;
    } else if current + previous >= MIN_TO_COMPARE as u64 {
        let p = binomial_two_sided(current, current + previous, 1.0 / (1.0 + periods));
        comparison.p_value = Some(round4(p));
        comparison.verdict = verdict_of(p);
    }
    comparison
}

/// Ranks of the pooled sample (1-based; tied values get the mean of their
/// ranks), doubled so that they are whole numbers, in the order of `pooled`;
/// and Σ(t³ − t) over the groups of ties.
fn doubled_ranks(pooled: &[i64]) -> (Vec<u64>, f64) {
    let mut order: Vec<usize> = (0..pooled.len()).collect();
    order.sort_by_key(|&i| pooled[i]);
    let mut ranks = vec![0u64; pooled.len()];
    let mut ties = 0.0;
    let mut start = 0;
    while start < order.len() {
        let mut end = start;
        while end + 1 < order.len() && pooled[order[end + 1]] == pooled[order[start]] {
            end += 1;
        }
        // Ranks start + 1 ..= end + 1; doubled mean = start + end + 2.
        for &i in &order[start..=end] {
            ranks[i] = (start + end + 2) as u64;
        }
        let t = (end - start + 1) as f64;
        ties += t * t * t - t;
        start = end + 1;
    }
    (ranks, ties)
}

/// The two-sided p-value of the Mann-Whitney U test of `a` against `b`.
pub fn mann_whitney_p(a: &[i64], b: &[i64]) -> f64 {
    if a.len() + b.len() <= EXACT_UP_TO {
        mann_whitney_exact(a, b)
    } else {
        mann_whitney_normal(a, b)
    }
}

/// Exact: of all ways to pick `a.len()` of the pooled ranks, the share
/// whose rank sum lies at least as far from its expectation as `a`'s
/// does. Counting the rank sums of subsets handles ties exactly (the
/// permutation distribution given the ties).
pub fn mann_whitney_exact(a: &[i64], b: &[i64]) -> f64 {
    let pooled: Vec<i64> = a.iter().chain(b).copied().collect();
    let (ranks, _) = doubled_ranks(&pooled);
    let (n1, total) = (a.len(), pooled.len());
    if n1 == 0 || n1 == total {
        return 1.0;
    }
    let observed: u64 = ranks[..n1].iter().sum();
    let max_sum: u64 = ranks.iter().sum();
    // ways[k][s]: subsets of k of the ranks seen so far with doubled sum s.
    let width = max_sum as usize + 1;
    let mut ways = vec![vec![0f64; width]; n1 + 1];
    ways[0][0] = 1.0;
    for &rank in &ranks {
        let rank = rank as usize;
        for k in (1..=n1).rev() {
            let (lower, upper) = ways.split_at_mut(k);
            let (from, to) = (&lower[k - 1], &mut upper[0]);
            for s in (rank..width).rev() {
                to[s] += from[s - rank];
            }
        }
    }
    // Expected doubled sum: n1 (N + 1).
    let expected = (n1 * (total + 1)) as f64;
    let distance = (observed as f64 - expected).abs();
    let all: f64 = ways[n1].iter().sum();
    let extreme: f64 = ways[n1]
        .iter()
        .enumerate()
        .filter(|(s, _)| (*s as f64 - expected).abs() >= distance - 1e-9)
        .map(|(_, w)| w)
        .sum();
    (extreme / all).min(1.0)
}

/// The normal approximation: z of U with the variance corrected for ties
/// and a continuity correction of ½, as textbooks and SciPy's
/// `mannwhitneyu(method="asymptotic")` compute it.
pub fn mann_whitney_normal(a: &[i64], b: &[i64]) -> f64 {
    let pooled: Vec<i64> = a.iter().chain(b).copied().collect();
    let (ranks, ties) = doubled_ranks(&pooled);
    let (n1, n2) = (a.len() as f64, b.len() as f64);
    let total = n1 + n2;
    if n1 == 0.0 || n2 == 0.0 {
        return 1.0;
    }
    let rank_sum: u64 = ranks[..a.len()].iter().sum();
    let u = rank_sum as f64 / 2.0 - n1 * (n1 + 1.0) / 2.0;
    let mean = n1 * n2 / 2.0;
    let variance = n1 * n2 / 12.0 * ((total + 1.0) - ties / (total * (total - 1.0)));
    if variance <= 0.0 {
        return 1.0;
    }
    let z = ((u - mean).abs() - 0.5).max(0.0) / variance.sqrt();
    erfc(z / std::f64::consts::SQRT_2).min(1.0)
}

/// The complementary error function (Numerical Recipes' Chebyshev fit,
/// relative error below 1.2e-7 everywhere): p-values need no more.
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let value = t * poly.exp();
    if x >= 0.0 { value } else { 2.0 - value }
}

/// ln P(X = i) of a binomial(n, p) for every i, by the ratio of
/// neighbouring terms (linear in n).
fn binomial_ln_all(n: u64, p: f64) -> Vec<f64> {
    let mut out = Vec::with_capacity(n as usize + 1);
    if p <= 0.0 || p >= 1.0 {
        let certain = if p <= 0.0 { 0 } else { n };
        out.extend((0..=n).map(|i| if i == certain { 0.0 } else { f64::NEG_INFINITY }));
        return out;
    }
    let (ln_p, ln_q) = (p.ln(), (1.0 - p).ln());
    let mut current = n as f64 * ln_q;
    for i in 0..=n {
        out.push(current);
        current += ((n - i) as f64).ln() - ((i + 1) as f64).ln() + ln_p - ln_q;
    }
    out
}

/// Two-sided exact binomial test: the probability of every outcome no
/// more likely than `k` successes of `n` (R's `binom.test`, SciPy's
/// `binomtest`).
pub fn binomial_two_sided(k: u64, n: u64, p: f64) -> f64 {
    let all = binomial_ln_all(n, p);
    let observed = all[k as usize];
    // Outcomes as likely as the observed one count too (relative tolerance
    // as R uses, so rounding cannot drop them).
    let limit = observed + (1.0 + 1e-7f64).ln();
    let total: f64 = all.iter().filter(|&&l| l <= limit).map(|l| l.exp()).sum();
    total.min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(values: &[i64]) -> Summary {
        let mut s = Sample::default();
        for &v in values {
            s.push(v);
        }
        s.summary()
    }

    #[test]
    fn percentiles_interpolate_between_closest_ranks() {
        // The example: spreadsheets, numpy and percentile_cont say 575.
        assert_eq!(summary(&[777, 373]).median_seconds, Some(575));
        // numpy.percentile([10, 20, 30, 40], [50, 90]) = [25, 37].
        let s = summary(&[40, 10, 30, 20]);
        assert_eq!(s.median_seconds, Some(25));
        assert_eq!(s.p90_seconds, Some(37));
        assert_eq!(s.mean_seconds, Some(25));
        // Odd count: the middle value; p90 of 1..=5 is 4.6 → 5.
        let s = summary(&[1, 2, 3, 4, 5]);
        assert_eq!(s.median_seconds, Some(3));
        assert_eq!(s.p90_seconds, Some(5));
        // Halves round away from zero: median of [1, 2] is 1.5 → 2.
        assert_eq!(summary(&[1, 2]).median_seconds, Some(2));
        assert_eq!(summary(&[7]).p90_seconds, Some(7));
        assert_eq!(summary(&[]).median_seconds, None);
        assert_eq!(percentile(&[i64::MAX, i64::MAX], 50), Some(i64::MAX));
    }

    #[test]
    fn mann_whitney_exact_matches_hand_counts() {
        // Complete separation, 4 and 4: only 2 of the C(8,4) = 70 splits are
        // as extreme (both directions), p = 2/70.
        let p = mann_whitney_exact(&[1, 2, 3, 4], &[5, 6, 7, 8]);
        assert!((p - 2.0 / 70.0).abs() < 1e-12, "{p}");
        // 3 and 3: 2 of C(6,3) = 20.
        let p = mann_whitney_exact(&[1, 2, 3], &[4, 5, 6]);
        assert!((p - 0.1).abs() < 1e-12, "{p}");
        // SciPy's documentation example (males vs females, U = 17):
        // exact two-sided p = 0.1111 (14 of 126 splits).
        let males = [19, 22, 16, 29, 24];
        let females = [20, 11, 17, 12];
        let p = mann_whitney_exact(&males, &females);
        assert!((p - 14.0 / 126.0).abs() < 1e-12, "{p}");
        // With ties: midranks of [1,2,2,3 | 2,3,4,4,5] are [1,3,3,5.5 |
        // 3,5.5,7.5,7.5,9]; the first sample's sum is 12.5, expected 20.
        // Enumerating all C(9,4) = 126 splits (itertools.combinations),
        // 11 have a sum at least 7.5 away from 20.
        let p = mann_whitney_exact(&[1, 2, 2, 3], &[2, 3, 4, 4, 5]);
        assert!((p - 11.0 / 126.0).abs() < 1e-12, "{p}");
        // The same samples the other way round: the same p.
        let q = mann_whitney_exact(&[2, 3, 4, 4, 5], &[1, 2, 2, 3]);
        assert!((p - q).abs() < 1e-12);
        assert_eq!(mann_whitney_exact(&[5, 5, 5], &[5, 5, 5]), 1.0);
    }

    #[test]
    fn mann_whitney_normal_matches_textbook_formula() {
        // SciPy's example with method="asymptotic": U = 17, mean 10,
        // sd sqrt(5·4·10/12) = 4.0825, z = (7 − 0.5) / 4.0825 = 1.5922,
        // p = 2 (1 − Φ(1.5922)) = 0.11135.
        let p = mann_whitney_normal(&[19, 22, 16, 29, 24], &[20, 11, 17, 12]);
        assert!((p - 0.111_346_886_5).abs() < 1e-6, "{p}");
        // Ties shrink the variance: [1,1,2,2,3] vs [2,3,3,4,4]: midrank sum
        // 18, U = 18 − 15 = 3, mean 12.5, Σ(t³−t) = 6+24+24+6 = 60,
        // variance = 25/12·(11 − 60/90) = 21.5278, z = (9.5 − 0.5)/4.6398 =
        // 1.9397, p = 0.05241.
        let p = mann_whitney_normal(&[1, 1, 2, 2, 3], &[2, 3, 3, 4, 4]);
        assert!((p - 0.052_41).abs() < 1e-5, "{p}");
        // Large samples far apart: tiny p; identical: p = 1.
        let low: Vec<i64> = (0..30).collect();
        let high: Vec<i64> = (100..130).collect();
        assert!(mann_whitney_p(&low, &high) < 1e-9);
        assert_eq!(mann_whitney_p(&low, &low), 1.0);
        assert!((erfc(0.0) - 1.0).abs() < 1e-7);
        assert!((erfc(1.0) - 0.157_299_207).abs() < 1e-7);
    }

    #[test]
    fn binomial_test_and_verdicts() {
        // 7 incidents now, 5 in the four periods before: under an unchanged
        // rate each falls now with p = 1/5. Hand sum of the binomial(12, 0.2)
        // probabilities no larger than P(7) = 0.003322: P(7..12) = 0.003903,
        // and no outcome below 7 is that unlikely. p = 0.0039.
        let p = binomial_two_sided(7, 12, 0.2);
        assert!((p - 0.003_903).abs() < 1e-5, "{p}");
        // Fair coin, 5 of 10: every outcome counts.
        assert!((binomial_two_sided(5, 10, 0.5) - 1.0).abs() < 1e-9);
        // 0 of 4 at 1/2: 2/16.
        assert!((binomial_two_sided(0, 4, 0.5) - 0.125).abs() < 1e-12);
        // Large counts stay fast and sane: 30,000 of 60,000 at 1/2.
        assert!(binomial_two_sided(30_000, 60_000, 0.5) > 0.99);
        assert!(binomial_two_sided(0, 60_000, 0.5) < 1e-300);
        let c = compare_counts(7, 5, 4.0);
        assert_eq!(c.verdict, Verdict::Distinguishable);
        assert_eq!(c.p_value, Some(0.0039));
        assert_eq!(compare_counts(2, 1, 4.0).verdict, Verdict::TooFew);
        assert_eq!(compare_counts(9, 0, 0.0).verdict, Verdict::NoHistory);
        let few = compare_durations(&[1, 2, 3, 4], &[5, 6, 7, 8, 9], true);
        assert_eq!((few.verdict, few.p_value), (Verdict::TooFew, None));
        let same = compare_durations(&[1, 2, 3, 4, 5], &[1, 2, 3, 4, 5], true);
        assert_eq!(same.verdict, Verdict::Noise);
        let apart = compare_durations(&[1, 2, 3, 4, 5], &[6, 7, 8, 9, 10], true);
        // 2 of C(10,5) = 252 splits: p = 0.0079.
        assert_eq!(apart.p_value, Some(0.0079));
        assert_eq!(apart.verdict, Verdict::Distinguishable);
    }
}
