//! PredSim's similarity-matching term (Nøkland & Eidnes, "Training Neural Networks with Local Error
//! Signals", ICML 2019, and its code's `similarity_matrix` and `conv_loss`): the module's output h goes
//! through a learned 3×3 convolution (c → c, no bias); S(·) is the batch's adjusted cosine-similarity
//! matrix; the term is β · mean((S(conv(h)) − S(onehot(y)))²), pulling samples of one class together and
//! others apart without a classifier. PredSim adds (1 − β) · CE of a prediction head; β = 0.99 as published.

use burn::nn::conv::Conv2d;
use burn::prelude::*;

use crate::model::Init;
use crate::model::layers::conv;

/// The learned projection of one module's output, and its module's β.
#[derive(Module, Debug)]
pub struct SimilarityProjector {
    conv: Conv2d,
    pub beta: f64,
}

impl SimilarityProjector {
    pub fn new(channels: usize, beta: f64, init: &Init, device: &Device) -> Self {
        SimilarityProjector { conv: conv(channels, channels, 3, 1, init, device), beta }
    }

    /// β · MSE(S(conv(h)), S(onehot(y))).
    pub fn term(&self, features: Tensor<4>, labels: &Tensor<1, Int>, classes: usize) -> Tensor<1> {
        similarity_loss(self.conv.forward(features), labels, classes) * self.beta
    }
}

/// mean((S(h) − S(onehot(y)))²): `F.mse_loss(Rh, Ry)` with Ry constant.
pub fn similarity_loss(h: Tensor<4>, labels: &Tensor<1, Int>, classes: usize) -> Tensor<1> {
    let target = similarity_matrix(labels.clone().one_hot::<2>(classes).float()).detach();
    (similarity_of_maps(h) - target).square().mean()
}

/// S of a feature map [B, C, H, W]: as the published code, each channel's standard deviation over the
/// positions (unbiased) when C > 3 and H > 1, the flattened map otherwise. The variance gets 1e-12 before
/// the square root, so that a channel constant over the map has a gradient (0, not PyTorch's NaN).
pub fn similarity_of_maps(h: Tensor<4>) -> Tensor<2> {
    let [b, c, hh, w] = h.dims();
    if c > 3 && hh > 1 {
        let z = h.reshape([b, c, hh * w]);
        let centred = z.clone() - z.mean_dim(2);
        let var = centred.square().sum_dim(2) / ((hh * w) as f64 - 1.0);
        similarity_matrix((var + 1e-12).sqrt().reshape([b, c]))
    } else {
        similarity_matrix(h.reshape([b, c * hh * w]))
    }
}

/// The adjusted cosine similarity of the rows of x [B, D]: rows centred, divided by (1e-8 + their norm),
/// Gram matrix clamped to [−1, 1].
pub fn similarity_matrix(x: Tensor<2>) -> Tensor<2> {
    let centred = x.clone() - x.mean_dim(1);
    let norm = centred.clone().square().sum_dim(1).sqrt() + 1e-8;
    let xn = centred / norm;
    xn.clone().matmul(xn.transpose()).clamp(-1.0, 1.0)
}
