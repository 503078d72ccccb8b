//! Every architecture by name: the one place that turns `model.arch` into a plan.

use super::imagenet_resnet::{self, StemKind};
use super::plan::ArchPlan;
use super::resnet::ResNetSpec;
use super::densenet;
use super::swin;
use super::vgg;
use super::vit::{self, TokenPool};
use super::config::ModelConfig;
use crate::error::{Error, Result};

/// The names `model.arch` accepts, with what they build.
pub const MODELS: &[(&str, &str)] = &[
    ("resnet20, resnet32, resnet56, resnet110, resnet<6n+2>", "CIFAR ResNets (basic blocks, widths 16/32/64, shortcut A or B)"),
    ("cifar-resnet<6n+2>", "the same, for depths that an ImageNet-style name takes (cifar-resnet50, cifar-resnet152)"),
    ("resnet18, resnet34", "ImageNet-style ResNets of basic blocks, widths 64–512, small-input stems"),
    ("resnet50, resnet101, resnet152", "ImageNet-style ResNets of bottlenecks (expansion 4), widths 64–2048"),
    ("vgg11, vgg13, vgg16, vgg19", "VGG with BatchNorm, GAP + linear classifier; transport term through a parameter-free projection"),
    ("densenet-bc-100, densenet-bc-<6n+4>", "DenseNet-BC for small inputs (growth 12, or model.width; compression ½); transport term: each dense layer's appended channels, each transition against a parameter-free projection"),
    ("swin-t, swin-mini", "Swin transformers (embed dim 96, depths 2/2/6/2, heads 3/6/12/24; swin-mini 32, 2/2/2, 2/4/8), shifted windows of 7 above 64 px and 4 up to 64, patch 2 up to 32 px and 4 above, patch merging between stages; model.width sets the embed dim; transport term: both branches of each block, none for patch merging"),
    ("vit-mini, vit-tiny, vit-small, vit-base", "vision transformers (depth/dim/heads 6/128/4, 12/192/3, 12/384/6, 12/768/12), patch 4 up to 32 px; model.width sets the dim, model.token_pool mean|cls"),
];

fn unknown(name: &str) -> Error {
    let names: Vec<&str> = MODELS.iter().map(|m| m.0).collect();
    Error::config("model.arch", format!("unknown architecture `{name}`; expected one of: {}", names.join("; ")))
}

/// The most attention heads, at most `n` (and at least one), that divide a width of `dim`.
fn largest_divisor_up_to(dim: usize, n: usize) -> usize {
    (1..=n.max(1)).rev().find(|h| dim.is_multiple_of(*h)).unwrap_or(1)
}

/// The plan of `model` for images of `in_channels`×`image_size`² and `classes` classes.
pub fn plan_for(model: &ModelConfig, in_channels: usize, image_size: usize, classes: usize) -> Result<ArchPlan> {
    let name = model.arch.as_str();
    let depth_of = |prefix: &str| name.strip_prefix(prefix).and_then(|d| d.trim_end_matches("-bn").parse::<usize>().ok());
    if let Some((depth, dim, heads)) = vit::size(name) {
        let dim = model.width.unwrap_or(dim);
        // Keep heads of 64 dims where the width allows, at least one, and a divisor of the width.
        let heads = largest_divisor_up_to(dim, heads.max(dim / 64));
        return Ok(vit::plan(name, depth, dim, heads, model.token_pool, in_channels, image_size, classes));
    }
    if let Some(size) = swin::size(name) {
        if model.token_pool != TokenPool::Mean {
            return Err(Error::config("model.token_pool", format!("`{name}` has no class token: its heads pool the tokens by their mean (\"mean\")")));
        }
        let dim = model.width.unwrap_or(size.dim);
        // Keep the named size's head width where the width allows, at least one head, a divisor of the width.
        let head_width = size.dim / size.heads;
        let heads = largest_divisor_up_to(dim, dim / head_width);
        return swin::plan(name, size, dim, heads, in_channels, image_size, classes);
    }
    if let Some(d) = depth_of("densenet-bc-") {
        return densenet::plan(d, model.width.unwrap_or(12), in_channels, image_size, classes)
            .ok_or_else(|| Error::config("model.arch", format!("`{name}`: DenseNet-BC depths are 6n + 4 with n ≥ 1 (10, 16, 22, 40, 100, …)")));
    }
    if let Some(d) = depth_of("vgg") {
        return vgg::plan(d, model.width.unwrap_or(64), in_channels, image_size, classes)
            .ok_or_else(|| Error::config("model.arch", format!("`{name}`: VGG depths are 11, 13, 16 and 19")));
    }
    let cifar = |field_name: &str| -> Result<ArchPlan> {
        let mut spec = ResNetSpec::from_name("model.arch", field_name)?;
        spec.width = model.width.unwrap_or(16);
        spec.shortcut = model.shortcut;
        Ok(spec.plan(in_channels, image_size, classes))
    };
    if let Some(rest) = name.strip_prefix("cifar-") {
        return cifar(rest);
    }
    match depth_of("resnet") {
        Some(d) if imagenet_resnet::layout(d).is_some() => {
            Ok(imagenet_resnet::plan(d, model.width.unwrap_or(64), model.stem, in_channels, image_size, classes).expect("layout exists"))
        }
        Some(_) => cifar(name),
        None => Err(unknown(name)),
    }
}

/// The stem an ImageNet-style ResNet gets for this input (for `trgl info`).
pub fn resolved_stem(model: &ModelConfig, image_size: usize) -> StemKind {
    model.stem.resolve(image_size)
}
