//! The T5-style model and its vocabulary (the app's source files), plus the tiny shape every
//! checkpoint target loads into.

#[path = "../../src/seq2seq/attention.rs"]
pub mod attention;
#[path = "../../src/seq2seq/linear.rs"]
pub mod linear;
#[path = "../../src/seq2seq/model.rs"]
pub mod model;
#[path = "../../src/seq2seq/relpos.rs"]
pub mod relpos;
#[path = "../../src/seq2seq/vocab.rs"]
pub mod vocab;

pub use model::{Seq2Seq, Seq2SeqConfig};
pub use vocab::Vocab;

use burn::prelude::*;

/// Vocabulary of the tiny model: 3 specials + 2 levels × 8 codes + 2 collision tokens.
pub const TINY_VOCAB: usize = 21;

/// A 1 + 1 layer model of width 16 on the flex CPU backend (what the checkpoint targets load into).
pub fn tiny(device: &Device) -> Seq2Seq {
    Seq2SeqConfig::new(TINY_VOCAB)
        .with_d_model(16)
        .with_heads(2)
        .with_d_head(8)
        .with_d_ff(32)
        .with_encoder_layers(1)
        .with_decoder_layers(1)
        .with_dropout(0.0)
        .init(device)
}

/// One teacher-forced forward pass on a fixed batch (`[2, 4]` source, `[2, 3]` target): whatever
/// weights were loaded must produce `[2, 3, TINY_VOCAB]` finite-or-not logits without panicking.
pub fn forward_once(model: &Seq2Seq, device: &Device) -> Tensor<3> {
    let src = Tensor::<2, Int>::from_data([[3, 4, 11, 19], [5, 12, 0, 0]], device);
    let mask = Tensor::<2, Int>::from_data([[1, 1, 1, 1], [1, 1, 0, 0]], device);
    let tgt = Tensor::<2, Int>::from_data([[1, 6, 13], [1, 7, 14]], device);
    model.forward(src, mask, tgt)
}
