//! The kernels launched on burn's cube backend: layouts read from the tensors' strides (a copy
//! only where a row is not four-float aligned), outputs allocated contiguous.

use crate::alloc::empty_like as empty;
use burn::tensor::Shape;
use burn_cubecl::CubeBackend;
use burn_cubecl::kernel::into_contiguous;
use burn_cubecl::tensor::CubeTensor;
use cubecl::prelude::*;
use cubecl::zspace::metadata::Metadata;

use super::backward::{backward_key_kernel, backward_query_kernel};
use super::kernels::{
    Consts, MAX_ROWS, OutLayoutLaunch, RowLayoutLaunch, SizesLaunch, forward_kernel,
};
use super::ops::{FlashAttention, FlashKernels, rows_shape};

/// `t` (`[batch, heads, len, d]`) with rows the kernels can read as four-float vectors, and where
/// they are.
fn rows(t: CubeTensor) -> (CubeTensor, [u32; 3]) {
    let ok = |t: &CubeTensor| {
        let s = t.meta.strides();
        s[3] == 1 && s[..3].iter().all(|x| x % 4 == 0)
    };
    let t = if ok(&t) { t } else { into_contiguous(t) };
    let s = t.meta.strides();
    let layout = [(s[0] / 4) as u32, (s[1] / 4) as u32, (s[2] / 4) as u32];
    (t, layout)
}

fn lay([sb, sh, si]: [u32; 3]) -> RowLayoutLaunch {
    RowLayoutLaunch::new(sb, sh, si)
}

/// The launch sizes, with `bias`'s strides (0 where it broadcasts).
fn sizes(q: &CubeTensor, k: &CubeTensor, bias: &CubeTensor) -> [u32; 7] {
    let [_, heads, tq, _] = q.meta.shape().dims::<4>();
    let tk = k.meta.shape()[2];
    let shape = bias.meta.shape();
    let strides = bias.meta.strides();
    let st = |x: usize| if shape[x] == 1 { 0 } else { strides[x] as u32 };
    [
        heads as u32,
        tq as u32,
        tk as u32,
        st(0),
        st(1),
        st(2),
        st(3),
    ]
}

fn sz([heads, tq, tk, bb, bh, bq, bk]: [u32; 7]) -> SizesLaunch {
    SizesLaunch::new(heads, tq, tk, bb, bh, bq, bk)
}

/// Threads per workgroup for `len` rows: rounded up to a warp, at most [`MAX_ROWS`].
fn rows_for(len: usize) -> usize {
    len.div_ceil(32).clamp(1, MAX_ROWS / 32) * 32
}

fn consts(rows: usize, d: usize, threshold: usize) -> Consts {
    Consts {
        rows,
        d4: d / 4,
        dropout: threshold > 0,
        threshold: threshold.min(u32::MAX as usize) as u32,
    }
}

fn grid(len: usize, rows: usize, batch_heads: usize) -> CubeCount {
    CubeCount::Static(len.div_ceil(rows) as u32, batch_heads as u32, 1)
}

impl FlashKernels for CubeBackend {
    fn flash_forward(
        q: CubeTensor,
        k: CubeTensor,
        v: CubeTensor,
        bias: CubeTensor,
        seed: CubeTensor,
        threshold: usize,
    ) -> (CubeTensor, CubeTensor) {
        let [b, h, tq, d] = q.meta.shape().dims::<4>();
        let out = empty(&q, rows_shape(q.meta.shape()));
        let lse = empty(&q, Shape::new([b, h, tq]));
        if b * h * tq == 0 {
            return (out, lse);
        }
        let size = sizes(&q, &k, &bias);
        let rq = rows_for(tq);
        let (q, qa) = rows(q);
        let (k, ka) = rows(k);
        let (v, va) = rows(v);
        forward_kernel::launch(
            &out.client,
            grid(tq, rq, b * h),
            CubeDim::new_1d(rq as u32),
            q.into_tensor_arg(),
            k.into_tensor_arg(),
            v.into_tensor_arg(),
            bias.into_tensor_arg(),
            into_contiguous(seed).into_tensor_arg(),
            out.clone().into_tensor_arg(),
            lse.clone().into_tensor_arg(),
            lay(qa),
            lay(ka),
            lay(va),
            sz(size),
            consts(rq, d, threshold),
            burn::backend::cubecl::dtype_to_storage_type(out.dtype),
        );
        (out, lse)
    }

    fn flash_backward(
        q: CubeTensor,
        k: CubeTensor,
        v: CubeTensor,
        bias: CubeTensor,
        seed: CubeTensor,
        out: CubeTensor,
        lse: CubeTensor,
        dout: CubeTensor,
        threshold: usize,
    ) -> (CubeTensor, CubeTensor, CubeTensor) {
        let [b, h, tq, d] = q.meta.shape().dims::<4>();
        let tk = k.meta.shape()[2];
        let dq = empty(&q, rows_shape(q.meta.shape()));
        // The key and value gradients one slab after the other, so each is contiguous.
        let dkv = empty(&k, Shape::new([2, b, tk, h, d]));
        let [off, sb, sh, si] = slot([tk, 1, 0, h, d]);
        let second = (b * tk * h * d / 4) as u32;
        let ds = backward(
            [q, k, v, bias, seed, out, lse, dout],
            threshold,
            (&dq, slot([tq, 1, 0, h, d])),
            (&dkv, [off, sb, sh, si], [off + second, sb, sh, si]),
        );
        (dq, dkv, ds)
    }

    fn flash_forward_packed(
        qkv: CubeTensor,
        bias: CubeTensor,
        seed: CubeTensor,
        threshold: usize,
    ) -> (CubeTensor, CubeTensor) {
        let [q, k, v] = packed_views(&qkv);
        Self::flash_forward(q, k, v, bias, seed, threshold)
    }

    fn flash_backward_packed(
        qkv: CubeTensor,
        bias: CubeTensor,
        seed: CubeTensor,
        out: CubeTensor,
        lse: CubeTensor,
        dout: CubeTensor,
        threshold: usize,
    ) -> (CubeTensor, CubeTensor) {
        let [q, k, v] = packed_views(&qkv);
        let [b, h, t, d] = q.meta.shape().dims::<4>();
        let dqkv = empty(&q, Shape::new([b, t, 3, h, d]));
        let at = |part| slot([t, 3, part, h, d]);
        let ds = backward(
            [q, k, v, bias, seed, out, lse, dout],
            threshold,
            (&dqkv, at(0)),
            (&dqkv, at(1), at(2)),
        );
        (dqkv, ds)
    }
}

/// The queries, keys and values of a packed projection `[batch, t, 3, heads, d]` as `[batch,
/// heads, t, d]` views of its buffer (cubecl's slice gives a view where the part's offset is
/// aligned, a copy otherwise; the strides are read from what it gives). burn's reshape of the
/// sliced part would copy it: three copies of the projection per call.
fn packed_views(qkv: &CubeTensor) -> [CubeTensor; 3] {
    let [b, t, parts, h, d] = qkv.meta.shape().dims::<5>();
    std::array::from_fn(|i| {
        let part = burn_cubecl::kernel::slice(
            qkv.clone(),
            &[
                0..b,
                0..t,
                i.min(parts - 1)..i.min(parts - 1) + 1,
                0..h,
                0..d,
            ],
        );
        let s = part.meta.strides();
        let meta = Metadata::new([b, h, t, d], [s[0], s[3], s[1], s[4]]);
        CubeTensor::new(
            part.client.clone(),
            part.handle.clone(),
            meta,
            part.device.clone(),
            part.dtype,
        )
    })
}

/// Where part `part` of a contiguous `[batch, len, parts, heads, d]` gradient is, as the kernels'
/// `[off, sb, sh, si]` in four-float vectors (`parts` 1: a plain `[batch, len, heads, d]`).
fn slot([len, parts, part, heads, d]: [usize; 5]) -> [u32; 4] {
    let row = (heads * d / 4) as u32;
    let parts = parts as u32;
    [
        part as u32 * row,
        len as u32 * parts * row,
        (d / 4) as u32,
        parts * row,
    ]
}

/// The two backward launches: `dq` written into `qout` at its layout (`[off, sb, sh, si]` in
/// four-float vectors), `dk` and `dv` into `kvout` at theirs → the score gradient `[batch, heads,
/// tq, tk]`.
fn backward(
    [q, k, v, bias, seed, out, lse, dout]: [CubeTensor; 8],
    threshold: usize,
    (qout, qo): (&CubeTensor, [u32; 4]),
    (kvout, ko, vo): (&CubeTensor, [u32; 4], [u32; 4]),
) -> CubeTensor {
    let [b, h, tq, d] = q.meta.shape().dims::<4>();
    let tk = k.meta.shape()[2];
    let ds = empty(&q, Shape::new([b, h, tq, tk]));
    if b * h * tq * tk == 0 {
        return ds;
    }
    // The dropped, rescaled weights, for the value gradient.
    let pd = empty(&q, Shape::new([b, h, tq, tk]));
    let size = sizes(&q, &k, &bias);
    let (rq, rk) = (rows_for(tq), rows_for(tk));
    let dtype = burn::backend::cubecl::dtype_to_storage_type(q.dtype);
    let (q, qa) = rows(q);
    let (k, ka) = rows(k);
    let (v, va) = rows(v);
    let (out, oa) = rows(out);
    let (dout, ga) = rows(dout);
    let place = |[off, sb, sh, si]: [u32; 4]| OutLayoutLaunch::new(off, sb, sh, si);
    let client = q.client.clone();
    backward_query_kernel::launch(
        &client,
        grid(tq, rq, b * h),
        CubeDim::new_1d(rq as u32),
        q.clone().into_tensor_arg(),
        k.into_tensor_arg(),
        v.into_tensor_arg(),
        bias.into_tensor_arg(),
        into_contiguous(seed).into_tensor_arg(),
        out.into_tensor_arg(),
        dout.clone().into_tensor_arg(),
        into_contiguous(lse).into_tensor_arg(),
        ds.clone().into_tensor_arg(),
        pd.clone().into_tensor_arg(),
        qout.clone().into_tensor_arg(),
        lay(qa),
        lay(ka),
        lay(va),
        lay(oa),
        lay(ga),
        place(qo),
        sz(size),
        consts(rq, d, threshold),
        dtype,
    );
    backward_key_kernel::launch(
        &client,
        grid(tk, rk, b * h),
        CubeDim::new_1d(rk as u32),
        q.into_tensor_arg(),
        dout.into_tensor_arg(),
        ds.clone().into_tensor_arg(),
        pd.into_tensor_arg(),
        kvout.clone().into_tensor_arg(),
        lay(qa),
        lay(ga),
        place(ko),
        place(vo),
        sz(size),
        consts(rk, d, threshold),
        dtype,
    );
    ds
}

impl FlashAttention for CubeBackend {
    fn flash_attention(
        q: CubeTensor,
        k: CubeTensor,
        v: CubeTensor,
        bias: CubeTensor,
        seed: CubeTensor,
        threshold: usize,
    ) -> CubeTensor {
        Self::flash_forward(q, k, v, bias, seed, threshold).0
    }

    fn flash_attention_packed(
        qkv: CubeTensor,
        bias: CubeTensor,
        seed: CubeTensor,
        threshold: usize,
    ) -> CubeTensor {
        Self::flash_forward_packed(qkv, bias, seed, threshold).0
    }
}
