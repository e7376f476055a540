//! The fused operations implemented for burn's cube backend (what dispatch and the fusion stream
//! call), each a launch from [`super::launch`].

use burn_cubecl::CubeBackend;
use burn_cubecl::kernel::into_contiguous;
use cubecl::prelude::*;

use super::PROJ_THREADS;
use super::launch::{Bias, CubeTensor, End, empty_like, layer_launch, norm_project, row_grid};
use super::ops::FusedRowOps;
use super::rows::{ProjDims, embed_project_kernel};

impl FusedRowOps for CubeBackend {
    fn norm_project2(x: CubeTensor, g: CubeTensor, w0: CubeTensor, w1: CubeTensor) -> CubeTensor {
        norm_project(x, g, vec![w0, w1])
    }

    fn norm_project8(
        x: CubeTensor,
        g: CubeTensor,
        w0: CubeTensor,
        w1: CubeTensor,
        w2: CubeTensor,
        w3: CubeTensor,
        w4: CubeTensor,
        w5: CubeTensor,
        w6: CubeTensor,
        w7: CubeTensor,
    ) -> CubeTensor {
        norm_project(x, g, vec![w0, w1, w2, w3, w4, w5, w6, w7])
    }

    fn embed_project(
        table: CubeTensor,
        ids: CubeTensor,
        g: CubeTensor,
        wq: CubeTensor,
        wk: CubeTensor,
        wv: CubeTensor,
        off: usize,
        seqs: usize,
        len: usize,
    ) -> CubeTensor {
        let c = into_contiguous;
        let table = c(table);
        let d = table.meta.shape()[1];
        let [wq, wk, wv] = [wq, wk, wv].map(c);
        let inner = wq.meta.shape()[1];
        let out = empty_like(&table, vec![seqs, len, d + 3 * inner]);
        if seqs * len == 0 {
            return out;
        }
        let dims = ProjDims {
            d,
            inner,
            parts: 3,
            threads: PROJ_THREADS,
        };
        embed_project_kernel::launch(
            &out.client,
            row_grid(seqs * len, (3 * inner).div_ceil(PROJ_THREADS)),
            CubeDim::new_1d(PROJ_THREADS as u32),
            table.into_tensor_arg(),
            c(ids).into_tensor_arg(),
            c(g).into_tensor_arg(),
            wq.into_tensor_arg(),
            wk.into_tensor_arg(),
            wv.into_tensor_arg(),
            out.clone().into_tensor_arg(),
            off as u32,
            dims,
            burn::backend::cubecl::dtype_to_storage_type(out.dtype),
        );
        out
    }

    fn encoder_next(
        state: CubeTensor,
        wo: CubeTensor,
        table: CubeTensor,
        aux: CubeTensor,
        gf: CubeTensor,
        wi: CubeTensor,
        wf: CubeTensor,
        gn: CubeTensor,
        wq: CubeTensor,
        wk: CubeTensor,
        wv: CubeTensor,
        key_off: usize,
        line_off: usize,
        line_len: usize,
    ) -> CubeTensor {
        let bias = Bias {
            table,
            aux,
            key_off,
            src: 0,
            line_off,
            line_len,
            kv_pair: 0,
        };
        let end = End::Next([gn, wq, wk, wv]);
        layer_launch(state, wo, bias, None, [gf, wi, wf], end)
    }

    fn encoder_last(
        state: CubeTensor,
        wo: CubeTensor,
        table: CubeTensor,
        aux: CubeTensor,
        gf: CubeTensor,
        wi: CubeTensor,
        wf: CubeTensor,
        key_off: usize,
        line_off: usize,
        line_len: usize,
    ) -> CubeTensor {
        let bias = Bias {
            table,
            aux,
            key_off,
            src: 0,
            line_off,
            line_len,
            kv_pair: 0,
        };
        layer_launch(state, wo, bias, None, [gf, wi, wf], End::Plain)
    }

    fn decoder_next(
        state: CubeTensor,
        wo: CubeTensor,
        table: CubeTensor,
        aux: CubeTensor,
        g2: CubeTensor,
        cq: CubeTensor,
        co: CubeTensor,
        ckv: CubeTensor,
        gf: CubeTensor,
        wi: CubeTensor,
        wf: CubeTensor,
        gn: CubeTensor,
        wq: CubeTensor,
        wk: CubeTensor,
        wv: CubeTensor,
        key_off: usize,
        src: usize,
        line_off: usize,
        line_len: usize,
        kv_pair: usize,
    ) -> CubeTensor {
        let bias = Bias {
            table,
            aux,
            key_off,
            src,
            line_off,
            line_len,
            kv_pair,
        };
        let cross = Some([g2, cq, co, ckv]);
        let end = End::Next([gn, wq, wk, wv]);
        layer_launch(state, wo, bias, cross, [gf, wi, wf], end)
    }

    fn decoder_head(
        state: CubeTensor,
        wo: CubeTensor,
        table: CubeTensor,
        aux: CubeTensor,
        g2: CubeTensor,
        cq: CubeTensor,
        co: CubeTensor,
        ckv: CubeTensor,
        gf: CubeTensor,
        wi: CubeTensor,
        wf: CubeTensor,
        gn: CubeTensor,
        head: CubeTensor,
        step: CubeTensor,
        key_off: usize,
        src: usize,
        line_off: usize,
        line_len: usize,
        kv_pair: usize,
        add_off: usize,
        start: usize,
        width: usize,
    ) -> CubeTensor {
        let bias = Bias {
            table,
            aux,
            key_off,
            src,
            line_off,
            line_len,
            kv_pair,
        };
        let cross = Some([g2, cq, co, ckv]);
        let end = End::Head([gn, head, step], [add_off, start, width]);
        layer_launch(state, wo, bias, cross, [gf, wi, wf], end)
    }
}
