//! Classifier heads: the auxiliary heads F_k of modules 1..K-1 and the network's own head.

use burn::nn::conv::Conv2d;
use burn::nn::{BatchNorm, Linear};
use burn::prelude::*;
use burn::tensor::activation::relu;
use burn::tensor::module::adaptive_avg_pool2d;

use super::config::{HeadKind, HeadSpec};
use super::init::Init;
use super::layers::{batch_norm, conv, linear};

#[derive(Module, Debug)]
pub struct OneCnnHead {
    conv: Conv2d,
    bn: BatchNorm,
    fc: Linear,
    pool: usize,
}

#[derive(Module, Debug)]
pub struct OneC2fHead {
    conv: Conv2d,
    bn: BatchNorm,
    fc1: Linear,
    fc2: Linear,
}

#[derive(Module, Debug)]
pub struct LinearHead {
    fc: Linear,
}

#[derive(Module, Debug)]
pub struct ConvBnRelu {
    conv: Conv2d,
    bn: BatchNorm,
}

#[derive(Module, Debug)]
pub struct MlpSrHead {
    convs: Vec<ConvBnRelu>,
    fc1: Linear,
    bn: BatchNorm,
    fc2: Linear,
    pool_in: usize,
    pool_out: usize,
}

#[derive(Module, Debug)]
pub enum Head {
    OneCnn(OneCnnHead),
    OneC2f(OneC2fHead),
    Linear(LinearHead),
    MlpSr(MlpSrHead),
    Token(super::vit::TokenHead),
}

impl Head {
    /// A head of the given kind reading features of `channels` × `size` × `size`.
    pub fn new(spec: &HeadSpec, channels: usize, size: usize, classes: usize, init: &Init, device: &Device) -> Self {
        let c = channels;
        match spec.kind {
            HeadKind::OneCnn => {
                let pool = spec.pool_side(size);
                Head::OneCnn(OneCnnHead {
                    conv: conv(c, c, 3, 1, init, device),
                    bn: batch_norm(c, device),
                    fc: linear(c * pool * pool, classes, init, device),
                    pool,
                })
            }
            HeadKind::OneC2f => Head::OneC2f(OneC2fHead {
                conv: conv(c, c, 3, 1, init, device),
                bn: batch_norm(c, device),
                fc1: linear(c, spec.hidden, init, device),
                fc2: linear(spec.hidden, classes, init, device),
            }),
            HeadKind::Linear => Head::Linear(LinearHead { fc: linear(c, classes, init, device) }),
            HeadKind::MlpSr => {
                let pool_in = size.div_ceil(4).max(1);
                let pool_out = (pool_in / 2).max(1);
                Head::MlpSr(MlpSrHead {
                    convs: (0..spec.mlp_sr_layers)
                        .map(|_| ConvBnRelu { conv: conv(c, c, 1, 1, init, device), bn: batch_norm(c, device) })
                        .collect(),
                    fc1: linear(c * pool_out * pool_out, spec.hidden, init, device),
                    bn: batch_norm(spec.hidden, device),
                    fc2: linear(spec.hidden, classes, init, device),
                    pool_in,
                    pool_out,
                })
            }
        }
    }

    /// The network's own classifier: global average pool and a linear layer.
    pub fn classifier(channels: usize, classes: usize, init: &Init, device: &Device) -> Self {
        Head::Linear(LinearHead { fc: linear(channels, classes, init, device) })
    }

    /// Logits `[batch, classes]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        match self {
            Head::OneCnn(h) => {
                let x = relu(h.conv.forward(x));
                let x = h.bn.forward(adaptive_avg_pool2d(x, [h.pool, h.pool]));
                h.fc.forward(x.flatten(1, 3))
            }
            Head::OneC2f(h) => {
                let x = relu(h.bn.forward(h.conv.forward(x)));
                let x = global_average(x);
                h.fc2.forward(relu(h.fc1.forward(x)))
            }
            Head::Linear(h) => h.fc.forward(global_average(x)),
            Head::Token(h) => h.forward(x),
            Head::MlpSr(h) => {
                let mut x = adaptive_avg_pool2d(x, [h.pool_in, h.pool_in]);
                for layer in &h.convs {
                    x = relu(layer.bn.forward(layer.conv.forward(x)));
                }
                let x = adaptive_avg_pool2d(x, [h.pool_out, h.pool_out]).flatten(1, 3);
                h.fc2.forward(relu(h.bn.forward(h.fc1.forward(x))))
            }
        }
    }
}

fn global_average(x: Tensor<4>) -> Tensor<2> {
    x.mean_dim(3).mean_dim(2).flatten(1, 3)
}
