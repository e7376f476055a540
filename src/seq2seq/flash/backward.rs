//! The backward of the training attention (CubeCL), in two passes: per query row (score
//! gradients, dropped weights, query gradient), then per key row (key and value gradients).

use cubecl::prelude::*;

use super::kernels::{
    Consts, F4, OutLayout, RowLayout, Sizes, TILE, add_row, dot_row, hsum, keep_scale, kept,
    load_pair, zero_row,
};

/// Backward, per query row: with `dout` the gradient of `out` (both `[batch, heads, tq, d]`, as
/// `oa` and `ga` say) and `lse` from the forward, writes the score gradients `ds[b, h, i, j] = P_ij ·
/// (dP_ij − Σ_d dout_i·out_i)` (the bias gradient) and the dropped, rescaled weights `pd` (for the
/// value gradient), both `[batch, heads, tq, tk]`, and the query gradient into `dq` where `qo`
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
    let inv_keep = keep_scale::<F>(c);
    let mut qr = zero_row::<F>(c.d4);
    let mut dor = zero_row::<F>(c.d4);
    let mut dqa = zero_row::<F>(c.d4);
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
        let (kb, vb) = (b * ka.sb + h * ka.sh, b * va.sb + h * va.sh);
        load_pair::<F>(
            k, kb, ka.si, v, vb, va.si, j0, sizes.tk, &mut ks, &mut vs, c,
        );
        if active {
            let n = (sizes.tk - j0).min(TILE as u32);
            for jj in 0..n {
                let j = j0 + jj;
                let row = jj as usize * c.d4;
                let s = dot_row::<F>(&qr, &ks, row, c.d4);
                let p = (s + bias[(boff + j * sizes.bk) as usize] - li).exp();
                let mut dp = dot_row::<F>(&dor, &vs, row, c.d4);
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
                add_row::<F>(&mut dqa, g, &ks, row, c.d4);
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
    let mut dka = zero_row::<F>(c.d4);
    let mut dva = zero_row::<F>(c.d4);
    let mut qs = Shared::<[F4<F>]>::new_slice(comptime!(TILE * c.d4));
    let mut os = Shared::<[F4<F>]>::new_slice(comptime!(TILE * c.d4));
    let mut i0 = 0u32;
    while i0 < sizes.tq {
        let (qb, gb) = (b * qa.sb + h * qa.sh, b * ga.sb + h * ga.sh);
        load_pair::<F>(
            q, qb, qa.si, dout, gb, ga.si, i0, sizes.tq, &mut qs, &mut os, c,
        );
        if active {
            let n = (sizes.tq - i0).min(TILE as u32);
            for ii in 0..n {
                let at = ((bh * sizes.tq + i0 + ii) * sizes.tk + j) as usize;
                let row = ii as usize * c.d4;
                add_row::<F>(&mut dka, ds[at], &qs, row, c.d4);
                add_row::<F>(&mut dva, pd[at], &os, row, c.d4);
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
