//! The building blocks of the fused kernels, each run by all the threads of a workgroup on one
//! token row: RMSNorm, dot products with several loads in flight, projections (onto a vector or
//! onto the residual, four outputs per load, sums split across threads), all-heads attention and
//! row softmax.

use cubecl::prelude::*;

/// RMSNorm of the `t` rows of `xs` (`[t, d]`) into `hs`, scaled by `gamma` (`[d]`): each row's
/// sum of squares is reduced by a group of threads through `part` (`threads` floats), and `red`
/// (`t` floats) keeps the rows' inverse norms.
#[cube]
#[allow(clippy::too_many_arguments)]
pub(super) fn rms_norm<F: Float>(
    xs: &Shared<[F]>,
    hs: &mut Shared<[F]>,
    red: &mut Shared<[F]>,
    part: &mut Shared<[F]>,
    gamma: &Tensor<F>,
    #[comptime] t: usize,
    #[comptime] d: usize,
    #[comptime] threads: usize,
) {
    let tid = UNIT_POS_X as usize;
    let group = comptime!(group_of(threads, t, d));
    let r = tid / group;
    let lane = tid % group;
    let active = r < t;
    let mut acc = F::new(0.0);
    if active {
        let mut k = lane;
        while k < d {
            let v = xs[r * d + k];
            acc += v * v;
            k += group;
        }
    }
    let sum = reduce_group::<F>(part, acc, r, lane, active, group, threads, false);
    if active && lane == 0 {
        red[r] = F::new(1.0) / (sum / F::new(comptime!(d as f32)) + F::new(1e-6)).sqrt();
    }
    sync_cube();
    let mut e = tid;
    while e < t * d {
        hs[e] = xs[e] * red[e / d] * gamma[e % d];
        e += threads;
    }
    sync_cube();
}

/// `Σ_{m < n} a[ia + m · sa] · b[ib + m · sb]`, eight products per loop turn so that eight
/// loads are in flight at once (the loop is otherwise bound by the latency of each load). Sixteen
/// were slower on the H200 (`docs/performance.md`).
#[cube]
#[allow(clippy::too_many_arguments)]
pub(super) fn dot<F: Float, A: List<F> + ?Sized, B: List<F> + ?Sized>(
    a: &mut A,
    ia: usize,
    sa: usize,
    b: &B,
    ib: usize,
    sb: usize,
    n: usize,
) -> F {
    let mut acc = F::new(0.0);
    let n8 = n - n % 8;
    let mut m = 0;
    while m < n8 {
        let p0 = a[ia + m * sa] * b[ib + m * sb];
        let p1 = a[ia + (m + 1) * sa] * b[ib + (m + 1) * sb];
        let p2 = a[ia + (m + 2) * sa] * b[ib + (m + 2) * sb];
        let p3 = a[ia + (m + 3) * sa] * b[ib + (m + 3) * sb];
        let p4 = a[ia + (m + 4) * sa] * b[ib + (m + 4) * sb];
        let p5 = a[ia + (m + 5) * sa] * b[ib + (m + 5) * sb];
        let p6 = a[ia + (m + 6) * sa] * b[ib + (m + 6) * sb];
        let p7 = a[ia + (m + 7) * sa] * b[ib + (m + 7) * sb];
        acc += ((p0 + p1) + (p2 + p3)) + ((p4 + p5) + (p6 + p7));
        m += 8;
    }
    while m < n {
        acc += a[ia + m * sa] * b[ib + m * sb];
        m += 1;
    }
    acc
}

/// `dst[e] += v` if `add`, else `dst[e] = v` (ReLU'd if `relu`).
#[cube]
fn store<F: Float>(
    dst: &mut Shared<[F]>,
    e: usize,
    v: F,
    #[comptime] add: bool,
    #[comptime] relu: bool,
) {
    if add {
        dst[e] += v;
    } else if relu {
        dst[e] = F::max(v, F::new(0.0));
    } else {
        dst[e] = v;
    }
}

/// Threads that share one output (or output vector) of [`project4`]: `threads / outputs` (at least
/// 1).
pub(super) fn split_of(threads: usize, outputs: usize) -> usize {
    (threads / outputs.max(1)).max(1)
}

/// Tree reduction of one value per thread over each row's group of `group` threads, through
/// `part` (`threads` floats): the row's maximum if `max`, else its sum, returned to every thread
/// of the row (0 to inactive threads). Every thread of the workgroup must call it.
#[cube]
#[allow(clippy::too_many_arguments)]
pub(super) fn reduce_group<F: Float>(
    part: &mut Shared<[F]>,
    value: F,
    r: usize,
    lane: usize,
    active: bool,
    #[comptime] group: usize,
    #[comptime] threads: usize,
    #[comptime] max: bool,
) -> F {
    let tid = UNIT_POS_X as usize;
    part[tid] = value;
    sync_cube();
    // A runtime value (CUBE_DIM_X is `threads`): halved in a runtime loop.
    let mut stride = CUBE_DIM_X as usize / comptime!(2 * threads / group);
    while stride > 0 {
        if active && lane < stride {
            let other = part[tid + stride];
            if max {
                if other > part[tid] {
                    part[tid] = other;
                }
            } else {
                part[tid] += other;
            }
        }
        sync_cube();
        stride /= 2;
    }
    let mut result = F::new(0.0);
    if active {
        result = part[r * group];
    }
    sync_cube();
    result
}

/// Threads that reduce one row of at most `len` values (RMSNorm, `attention::softmax_rows`): the
/// largest power of two with `rows` groups in `threads`, and no more than `len` rounded up to a
/// power of two (every halving of the group is one barrier fewer).
pub(super) fn group_of(threads: usize, rows: usize, len: usize) -> usize {
    let g = (threads / rows.max(1)).max(1);
    let g = 1 << (usize::BITS - 1 - g.leading_zeros());
    g.min(len.max(1).next_power_of_two())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_and_splits_fit_the_workgroup() {
        assert_eq!(group_of(1024, 4, 1000), 256);
        assert_eq!(group_of(1024, 3, 1000), 256);
        assert_eq!(group_of(512, 1, 512), 512);
        assert_eq!(group_of(256, 300, 10), 1);
        assert_eq!(group_of(1024, 1, 128), 128, "a norm of width 128");
        assert_eq!(group_of(1024, 6, 5), 8, "six heads over at most five keys");
        assert_eq!(group_of(1024, 6, 1), 1);
        assert_eq!(split_of(1024, 384), 2);
        assert_eq!(split_of(1024, 128), 8);
        assert_eq!(split_of(256, 512), 1);
        assert_eq!(split_of(256, 0), 256);
    }
}

/// Four floats: weights are read four outputs at a time.
pub(super) type F4<F> = Vector<F, Const<4>>;

/// `Σ_{m < n} a[ia + m · sa] · b[ib + m · sb]` for four outputs at once (`b` holds them side by
/// side), four vector loads in flight per loop turn.
#[cube]
#[allow(clippy::too_many_arguments)]
pub(super) fn dot4<F: Float>(
    a: &mut Shared<[F]>,
    ia: usize,
    sa: usize,
    b: &Tensor<F4<F>>,
    ib: usize,
    sb: usize,
    n: usize,
) -> F4<F> {
    let mut acc = F4::<F>::new(F::new(0.0));
    let n4 = n - n % 4;
    let mut m = 0;
    while m < n4 {
        let p0 = F4::<F>::new(a[ia + m * sa]) * b[ib + m * sb];
        let p1 = F4::<F>::new(a[ia + (m + 1) * sa]) * b[ib + (m + 1) * sb];
        let p2 = F4::<F>::new(a[ia + (m + 2) * sa]) * b[ib + (m + 2) * sb];
        let p3 = F4::<F>::new(a[ia + (m + 3) * sa]) * b[ib + (m + 3) * sb];
        acc += (p0 + p1) + (p2 + p3);
        m += 4;
    }
    while m < n {
        acc += F4::<F>::new(a[ia + m * sa]) * b[ib + m * sb];
        m += 1;
    }
    acc
}

/// `dst[c] = Σ_k src[k] · w[k, c]` for the `n_out` outputs (ReLU'd if `relu`), or `dst[c] +=` the
/// sum if `add` (a residual), the weights read as four-float vectors (`w`: `[n_in, n_out / 4]`
/// vectors; `n_out` a multiple of 4; four times the bytes in flight of scalar loads). With fewer
/// output vectors than threads, `split` threads share each vector's sum and `part` (`4 · threads`
/// floats) gathers their partial sums.
#[cube]
#[allow(clippy::too_many_arguments)]
pub(super) fn project4<F: Float>(
    src: &mut Shared<[F]>,
    w: &Tensor<F4<F>>,
    dst: &mut Shared<[F]>,
    part: &mut Shared<[F]>,
    #[comptime] n_in: usize,
    #[comptime] n_out: usize,
    #[comptime] add: bool,
    #[comptime] relu: bool,
    #[comptime] threads: usize,
) {
    let tid = UNIT_POS_X as usize;
    let groups = comptime!(n_out / 4);
    let split = comptime!(split_of(threads, n_out / 4));
    if split == 1 {
        let mut g = tid;
        while g < groups {
            let acc = dot4::<F>(src, 0, 1, w, g, groups, n_in);
            #[unroll]
            for i in 0..4usize {
                store::<F>(dst, g * 4 + i, acc.extract(i), add, relu);
            }
            g += threads;
        }
    } else {
        // Thread tid takes vector tid % groups and the k's of lane tid / groups.
        let g = tid % groups;
        let lane = tid / groups;
        let mut acc = F4::<F>::new(F::new(0.0));
        if lane < split && lane < n_in {
            let count = (n_in - lane).div_ceil(split);
            acc = dot4::<F>(
                src,
                lane,
                split,
                w,
                lane * groups + g,
                split * groups,
                count,
            );
        }
        #[unroll]
        for i in 0..4usize {
            part[i * threads + tid] = acc.extract(i);
        }
        sync_cube();
        let mut c = tid;
        while c < n_out {
            let (gc, i) = (c / 4, c % 4);
            let mut sum = F::new(0.0);
            for l in 0..split {
                sum += part[i * threads + l * groups + gc];
            }
            store::<F>(dst, c, sum, add, relu);
            c += threads;
        }
    }
}
