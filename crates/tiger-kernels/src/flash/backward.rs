//! The backward of the training attention (CubeCL), in two passes: per query row (score
//! gradients, dropped weights, query gradient), then per key row (key and value gradients).

use cubecl::prelude::*;

use super::kernels::{Consts, F4, OutLayout, RowLayout, Sizes, TILE, hsum, kept, load_tile};

/// Backward, per query row: with `dout` the gradient of `out` (both `[batch, heads, tq, d]`, as
/// `oa` and `ga` say) and `lse` from the forward, writes the score gradients `ds[b, h, i, j] = P_ij
/// · (dP_ij − Σ_d dout_i·out_i)` (the bias gradient) and the dropped, rescaled weights `pd` (for
/// the value gradient), both `[batch, heads, tq, tk]`, and the query gradient into `dq` where `qo`
/// says. Grid as [`forward_kernel`].
#[cube(launch)]
#[allow(clippy::too_many_arguments)]
pub fn backward_query_kernel<F: Float>(
    q: &Tensor<F4<F>>,
    k: &Tensor<F4<F>>,
    v: &Tensor<F4<F>>,
    bias: &Tensor<F>,
    seed: &Tensor<F>,
    out: &Tensor<F4<F>>,
    dout: &Tensor<F4<F>>,
    lse: &Tensor<F>,
    ds: &mut Tensor<F>,
    pd: &mut Tensor<F>,
    dq: &mut Tensor<F4<F>>,
    qa: RowLayout,
    ka: RowLayout,
    va: RowLayout,
    oa: RowLayout,
    ga: RowLayout,
    qo: OutLayout,
    sizes: Sizes,
    #[comptime] c: Consts,
    #[define(F)] _dtype: ElemType,
) {
    let scale = F::new(comptime!(1.0f32 / ((4 * c.d4) as f32).sqrt()));
    let bh = CUBE_POS_Y;
    let b = bh / sizes.heads;
    let h = bh % sizes.heads;
    let i = CUBE_POS_X * c.rows as u32 + UNIT_POS_X;
    let active = i < sizes.tq;
    let s0 = u32::cast_from(seed[0]);
    let inv_keep = F::new(1.0) / (F::new(1.0) - F::cast_from(c.threshold) / F::new(4294967296.0));
    let mut qr = Array::<F4<F>>::new(c.d4);
    let mut dor = Array::<F4<F>>::new(c.d4);
    let mut dqa = Array::<F4<F>>::new(c.d4);
    #[unroll]
    for x in 0..c.d4 {
        qr[x] = F4::<F>::new(F::new(0.0));
        dor[x] = F4::<F>::new(F::new(0.0));
        dqa[x] = F4::<F>::new(F::new(0.0));
    }
    let mut delta = F::new(0.0);
    let mut li = F::new(0.0);
    if active {
        let base = (b * qa.sb + h * qa.sh + i * qa.si) as usize;
        let ob = (b * oa.sb + h * oa.sh + i * oa.si) as usize;
        let gb = (b * ga.sb + h * ga.sh + i * ga.si) as usize;
        let mut d4 = F4::<F>::new(F::new(0.0));
        #[unroll]
        for x in 0..c.d4 {
            qr[x] = q[base + x] * F4::<F>::new(scale);
            dor[x] = dout[gb + x];
            d4 += dor[x] * out[ob + x];
        }
        delta = hsum::<F>(d4);
        li = lse[(bh * sizes.tq + i) as usize];
    }
    let boff = b * sizes.bb + h * sizes.bh + i * sizes.bq;

    let mut ks = Shared::<[F4<F>]>::new_slice(comptime!(TILE * c.d4));
    let mut vs = Shared::<[F4<F>]>::new_slice(comptime!(TILE * c.d4));
    let mut j0 = 0u32;
    while j0 < sizes.tk {
        load_tile::<F>(
            k,
            b * ka.sb + h * ka.sh,
            ka.si,
            j0,
            sizes.tk,
            &mut ks,
            c.d4,
            c.rows,
        );
        load_tile::<F>(
            v,
            b * va.sb + h * va.sh,
            va.si,
            j0,
            sizes.tk,
            &mut vs,
            c.d4,
            c.rows,
        );
        sync_cube();
        if active {
            let n = (sizes.tk - j0).min(TILE as u32);
            for jj in 0..n {
                let j = j0 + jj;
                let row = jj as usize * c.d4;
                let mut s4 = F4::<F>::new(F::new(0.0));
                let mut g4 = F4::<F>::new(F::new(0.0));
                #[unroll]
                for x in 0..c.d4 {
                    s4 += qr[x] * ks[row + x];
                    g4 += dor[x] * vs[row + x];
                }
                let p = (hsum::<F>(s4) + bias[(boff + j * sizes.bk) as usize] - li).exp();
                let mut dp = hsum::<F>(g4);
                let mut pdrop = p;
                if comptime!(c.dropout) {
                    let keep = kept(s0, bh, i, j, sizes.tq, sizes.tk, c);
                    dp = select(keep, dp * inv_keep, F::new(0.0));
                    pdrop = select(keep, p * inv_keep, F::new(0.0));
                }
                let g = p * (dp - delta);
                let at = ((bh * sizes.tq + i) * sizes.tk + j) as usize;
                ds[at] = g;
                pd[at] = pdrop;
                #[unroll]
                for x in 0..c.d4 {
                    dqa[x] += F4::<F>::new(g) * ks[row + x];
                }
            }
        }
        sync_cube();
        j0 += TILE as u32;
    }
    if active {
        let at = (qo.off + b * qo.sb + h * qo.sh + i * qo.si) as usize;
        #[unroll]
        for x in 0..c.d4 {
            dq[at + x] = dqa[x] * F4::<F>::new(scale);
        }
    }
}

/// Backward, per key row: `dk_j = Σ_i ds_ij q_i / √d` and `dv_j = Σ_i pd_ij dout_i` from the
/// first pass's `ds` and `pd` (`q`, `dout` as `qa`, `ga` say), written into `dkv` where `ko` and
/// `vo` say. Grid `(⌈tk / rows⌉, batch · heads)`, `rows` threads.
#[cube(launch)]
#[allow(clippy::too_many_arguments)]
pub fn backward_key_kernel<F: Float>(
    q: &Tensor<F4<F>>,
    dout: &Tensor<F4<F>>,
    ds: &Tensor<F>,
    pd: &Tensor<F>,
    dkv: &mut Tensor<F4<F>>,
    qa: RowLayout,
    ga: RowLayout,
    ko: OutLayout,
    vo: OutLayout,
    sizes: Sizes,
    #[comptime] c: Consts,
    #[define(F)] _dtype: ElemType,
) {
    let scale = F::new(comptime!(1.0f32 / ((4 * c.d4) as f32).sqrt()));
    let bh = CUBE_POS_Y;
    let b = bh / sizes.heads;
    let h = bh % sizes.heads;
    let j = CUBE_POS_X * c.rows as u32 + UNIT_POS_X;
    let active = j < sizes.tk;
    let mut dka = Array::<F4<F>>::new(c.d4);
    let mut dva = Array::<F4<F>>::new(c.d4);
    #[unroll]
    for x in 0..c.d4 {
        dka[x] = F4::<F>::new(F::new(0.0));
        dva[x] = F4::<F>::new(F::new(0.0));
    }
    let mut qs = Shared::<[F4<F>]>::new_slice(comptime!(TILE * c.d4));
    let mut os = Shared::<[F4<F>]>::new_slice(comptime!(TILE * c.d4));
    let mut i0 = 0u32;
    while i0 < sizes.tq {
        load_tile::<F>(
            q,
            b * qa.sb + h * qa.sh,
            qa.si,
            i0,
            sizes.tq,
            &mut qs,
            c.d4,
            c.rows,
        );
        load_tile::<F>(
            dout,
            b * ga.sb + h * ga.sh,
            ga.si,
            i0,
            sizes.tq,
            &mut os,
            c.d4,
            c.rows,
        );
        sync_cube();
        if active {
            let n = (sizes.tq - i0).min(TILE as u32);
            for ii in 0..n {
                let at = ((bh * sizes.tq + i0 + ii) * sizes.tk + j) as usize;
                let g = F4::<F>::new(ds[at]);
                let w = F4::<F>::new(pd[at]);
                let row = ii as usize * c.d4;
                #[unroll]
                for x in 0..c.d4 {
                    dka[x] += g * qs[row + x];
                    dva[x] += w * os[row + x];
                }
            }
        }
        sync_cube();
        i0 += TILE as u32;
    }
    if active {
        let kat = (ko.off + b * ko.sb + h * ko.sh + j * ko.si) as usize;
        let vat = (vo.off + b * vo.sb + h * vo.sh + j * vo.si) as usize;
        #[unroll]
        for x in 0..c.d4 {
            dkv[kat + x] = dka[x] * F4::<F>::new(scale);
            dkv[vat + x] = dva[x];
        }
    }
}
