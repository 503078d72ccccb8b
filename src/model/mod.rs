//! Models as data: units (stem, blocks) planned from an architecture spec, cut by a split into local
//! modules with classifier heads.

pub mod block;
pub mod config;
pub mod count;
pub mod dense;
pub mod densenet;
pub mod head;
pub mod imagenet_resnet;
pub mod init;
pub mod layers;
pub mod network;
pub mod plan;
pub mod registry;
pub mod resnet;
pub mod split;
pub mod swin;
pub mod vgg;
pub mod vit;

pub use count::trainable_params;
pub use block::{BasicBlock, Block, BlockOutput, Bottleneck, ConvStem, Pool, ShortcutKind, Stem, VggLayer};
pub use config::{HeadKind, HeadSpec, ModelConfig, SplitConfig};
pub use head::Head;
pub use init::{Init, InitScheme};
pub use network::{LocalModule, ModuleOutput, Network};
pub use plan::{ArchPlan, UnitPlan};
pub use resnet::ResNetSpec;
pub use split::{Split, SplitMethod, infopro_cuts, split_at_cuts, split_balanced, split_even};
