//! Weight initialisation, chosen once for the whole network.

use burn::nn::Initializer;
use serde::{Deserialize, Serialize};

/// How convolution and linear weights are drawn.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum InitScheme {
    /// He et al.: convolutions N(0, 2/fan_out) as torchvision's ResNets; linears PyTorch's default.
    Kaiming,
    /// Orthogonal weights scaled by `gain` (TRGL's code uses gain 0.1 for module-wise runs).
    Orthogonal,
}

impl InitScheme {
    pub fn conv(self, gain: f64) -> Initializer {
        match self {
            InitScheme::Kaiming => Initializer::KaimingNormal { gain: 2f64.sqrt(), fan_out_only: true },
            InitScheme::Orthogonal => Initializer::Orthogonal { gain },
        }
    }

    pub fn linear(self, gain: f64) -> Initializer {
        match self {
            // PyTorch's nn.Linear default: U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
            InitScheme::Kaiming => Initializer::KaimingUniform { gain: 1.0 / 3f64.sqrt(), fan_out_only: false },
            InitScheme::Orthogonal => Initializer::Orthogonal { gain },
        }
    }
}

/// Everything a layer constructor needs besides its shape.
#[derive(Clone, Copy, Debug)]
pub struct Init {
    pub scheme: InitScheme,
    pub gain: f64,
}

impl Default for Init {
    fn default() -> Self {
        Init { scheme: InitScheme::Kaiming, gain: 1.0 }
    }
}

impl Init {
    pub fn conv(&self) -> Initializer {
        self.scheme.conv(self.gain)
    }
    pub fn linear(&self) -> Initializer {
        self.scheme.linear(self.gain)
    }
}
