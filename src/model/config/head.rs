//! The `[head]` section of a config: the auxiliary heads' shape.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum HeadKind {
    /// TRGL's default: Conv3×3 C→C → ReLU → AvgPool(pool×pool) → BN → flatten → Linear.
    #[serde(rename = "1cnn")]
    OneCnn,
    /// InfoPro's: Conv3×3 → BN → ReLU → global average pool → FC(hidden) → ReLU → FC.
    #[serde(rename = "1c2f")]
    OneC2f,
    /// Global average pool → FC ("greedy SL" in InfoPro's tables; also every ResNet's own head).
    #[serde(rename = "linear")]
    Linear,
    /// DGL's: AvgPool(⌈s/4⌉) → n × (1×1 conv + BN + ReLU) → AvgPool(2×2) → flatten → Linear+BN+ReLU → Linear.
    #[serde(rename = "mlp-sr")]
    MlpSr,
}

/// What an auxiliary head looks like; the shape it reads comes from the module it sits on.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HeadSpec {
    pub kind: HeadKind,
    /// Side of the average pool's output for `1cnn` (clamped to the feature map's size), the same for every
    /// module.
    pub pool: usize,
    /// `1cnn`: pool with this kernel instead (0 = off), so that the pooled side follows the module's
    /// resolution — side / kernel, e.g. 2×2 on a 16×16 stage and 1×1 on an 8×8 one for kernel 8: what the
    /// paper's published code does (`nn.AvgPool2d(apc)`, apc = 8 for its CIFAR ResNet-110 script). Pooled
    /// adaptively to that side, which equals AvgPool2d(kernel) wherever the kernel divides the side.
    pub pool_kernel: usize,
    /// `1cnn`: one pooling kernel per module (overrides `pool_kernel`; empty = off): the published scripts
    /// choose it per module, e.g. `apc = [16, 16, 8, 8]` for ResNet-110, K = 4 on 96-px STL-10 (6×6, 3×3, 3×3,
    /// 3×3 pooled sides).
    pub pool_kernels: PerModule,
    /// Hidden width of the fully connected layers of `1c2f` and `mlp-sr`.
    pub hidden: usize,
    /// Number of 1×1 conv layers of `mlp-sr`.
    pub mlp_sr_layers: usize,
    /// The last module's head: the network's own classifier (GAP + linear), or an auxiliary head of `kind`
    /// like every other module's — what the paper's published code does (its `resnet110-2modules-cifar10.py`
    /// gives the last module the same 1CNN head).
    pub last: LastHead,
}

/// Which head the last module gets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LastHead {
    #[default]
    Network,
    Aux,
}

impl Default for HeadSpec {
    fn default() -> Self {
        HeadSpec { kind: HeadKind::OneCnn, pool: 4, pool_kernel: 0, pool_kernels: PerModule::default(), hidden: 128, mlp_sr_layers: 2, last: LastHead::Network }
    }
}

/// Up to [`PerModule::MAX`] values, one per module, kept `Copy` (a head spec is passed by value); a TOML
/// array in configs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PerModule {
    len: u8,
    values: [u16; PerModule::MAX],
}

impl PerModule {
    pub const MAX: usize = 32;

    pub fn new(values: &[usize]) -> Result<Self, String> {
        if values.len() > Self::MAX {
            return Err(format!("{} values: at most {} (one per module)", values.len(), Self::MAX));
        }
        let mut out = PerModule { len: values.len() as u8, values: [0; Self::MAX] };
        for (o, &v) in out.values.iter_mut().zip(values) {
            *o = u16::try_from(v).map_err(|_| format!("{v} is too large"))?;
        }
        Ok(out)
    }

    pub fn as_vec(&self) -> Vec<usize> {
        self.values[..self.len as usize].iter().map(|&v| v as usize).collect()
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn len(&self) -> usize {
        self.len as usize
    }

    pub fn get(&self, i: usize) -> Option<usize> {
        (i < self.len as usize).then(|| self.values[i] as usize)
    }
}

impl Serialize for PerModule {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.as_vec().serialize(s)
    }
}

impl<'de> Deserialize<'de> for PerModule {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        PerModule::new(&Vec::<usize>::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

impl HeadSpec {
    /// The spec of module `m`'s head: its own pooling kernel where `pool_kernels` gives one.
    pub fn for_module(&self, m: usize) -> HeadSpec {
        match self.pool_kernels.get(m) {
            Some(k) => HeadSpec { pool_kernel: k, ..*self },
            None => *self,
        }
    }

    /// The pooled side of a `1cnn` head on a `size` × `size` feature map.
    pub fn pool_side(&self, size: usize) -> usize {
        if self.pool_kernel > 0 { (size / self.pool_kernel).max(1) } else { self.pool.min(size).max(1) }
    }
}
