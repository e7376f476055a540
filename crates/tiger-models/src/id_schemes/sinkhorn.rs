//! Balanced assignment by entropic optimal transport (Sinkhorn–Knopp in the log domain): every
//! item goes to one code, and the codes receive as nearly equal shares of the items as the costs
//! allow. Used for the last level of the IDs, where spreading items over the codes separates items
//! that would otherwise collide.

use rayon::prelude::*;

/// Sinkhorn iterations.
pub const ITERATIONS: usize = 200;

/// The entropic regularisation as a share of the mean cost: small enough that the plan is nearly
/// a hard assignment, large enough to converge within [`ITERATIONS`].
pub const EPSILON_SHARE: f64 = 0.02;

/// For `cost` (`[items, codes]` row-major, e.g. squared distances to each codeword), the code of
/// each item under the transport plan with uniform marginals (each item 1/items, each code
/// 1/codes), regularised by `epsilon` (absolute; [`epsilon_for`] picks one from the costs). The
/// plan is `exp((f_i + g_j − C_ij) / ε)`; each item takes the code maximising `g_j − C_ij`, the
/// nearest code once each code's price `−g_j` is paid. Ties go to the lower code.
pub fn balanced_assign(cost: &[f32], codes: usize, epsilon: f64, iterations: usize) -> Vec<u32> {
    let items = cost.len().checked_div(codes).unwrap_or(0);
    if items == 0 {
        return Vec::new();
    }
    let eps = epsilon.max(1e-12);
    let log_a = -(items as f64).ln();
    let log_b = -(codes as f64).ln();
    let mut f = vec![0f64; items];
    let mut g = vec![0f64; codes];
    for _ in 0..iterations {
        // f_i = ε log a − ε logsumexp_j ((g_j − C_ij) / ε)
        f.par_iter_mut()
            .zip(cost.par_chunks_exact(codes))
            .for_each(|(fi, row)| {
                let lse = log_sum_exp(row.iter().zip(&g).map(|(&c, &gj)| (gj - c as f64) / eps));
                *fi = eps * (log_a - lse);
            });
        // g_j = ε log b − ε logsumexp_i ((f_i − C_ij) / ε)
        g.par_iter_mut().enumerate().for_each(|(j, gj)| {
            let lse = log_sum_exp(
                f.iter()
                    .zip(cost.chunks_exact(codes))
                    .map(|(&fi, row)| (fi - row[j] as f64) / eps),
            );
            *gj = eps * (log_b - lse);
        });
    }
    cost.par_chunks_exact(codes)
        .map(|row| {
            let mut best = (0usize, f64::NEG_INFINITY);
            for (j, (&c, &gj)) in row.iter().zip(&g).enumerate() {
                let v = gj - c as f64;
                if v > best.1 {
                    best = (j, v);
                }
            }
            best.0 as u32
        })
        .collect()
}

/// [`EPSILON_SHARE`] of the mean of `cost` (1 when the costs are all zero).
pub fn epsilon_for(cost: &[f32]) -> f64 {
    let mean = cost.iter().map(|&c| c as f64).sum::<f64>() / cost.len().max(1) as f64;
    if mean > 0.0 {
        EPSILON_SHARE * mean
    } else {
        1.0
    }
}

fn log_sum_exp(values: impl Iterator<Item = f64> + Clone) -> f64 {
    let max = values.clone().fold(f64::NEG_INFINITY, f64::max);
    if !max.is_finite() {
        return max;
    }
    max + values.map(|v| (v - max).exp()).sum::<f64>().ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_item_nearest_one_code_is_split_evenly_by_the_smallest_extra_costs() {
        // Four items all nearest code 0; moving to code 1 costs them 1, 4, 9 and 16 more. A
        // balanced plan sends two to each code: the two with the smallest extra cost move.
        let cost = [0., 1., 0., 4., 0., 9., 0., 16.];
        assert_eq!(balanced_assign(&cost, 2, 0.05, 500), vec![1, 1, 0, 0]);
        // Nearest-code assignment, for contrast, puts all four on code 0.
    }

    #[test]
    fn an_already_balanced_nearest_assignment_is_kept() {
        // Three codes, six items, two nearest each code.
        let cost = [
            0., 5., 5., 0.5, 5., 5., 5., 0., 5., 5., 0.2, 5., 5., 5., 0., 5., 5., 0.1,
        ];
        assert_eq!(balanced_assign(&cost, 3, 0.05, 500), vec![0, 0, 1, 1, 2, 2]);
    }

    #[test]
    fn uneven_counts_spread_as_evenly_as_they_can() {
        // Five items on two codes, all nearer code 0, by 3, 3.5, 4, 5 and 2: the split is 3 / 2
        // or 2 / 3, never 5 / 0, and the items with the smallest extra cost move (the one at the
        // boundary, which a balanced plan halves, may go either way).
        let cost = [0., 3., 0., 3.5, 0., 4., 0., 5., 0., 2.];
        let a = balanced_assign(&cost, 2, epsilon_for(&cost), ITERATIONS);
        let ones = a.iter().filter(|&&c| c == 1).count();
        assert!((2..=3).contains(&ones), "{a:?}");
        assert_eq!((a[4], a[0], a[2], a[3]), (1, 1, 0, 0), "{a:?}");
    }

    #[test]
    fn empty_input_gives_no_codes() {
        assert!(balanced_assign(&[], 4, 0.1, 10).is_empty());
    }
}
