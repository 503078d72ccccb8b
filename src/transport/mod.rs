//! The method, in one module: TRGL's local objective for module k,
//!
//! ```text
//! L_k = CE_ls(F_k(T_k(x)), y) + w_k · Σ_{blocks b in k} mean(r_b²)
//! ```
//!
//! where r_b is block b's residual branch (x_{b+1} = x_b + r_b) and the second term is the discrete
//! kinetic energy of the module's flow: with it, module k is a minimizing-movement (JKO) step in
//! Wasserstein space. The paper's explanation of its effect is that each module is then close to an
//! optimal-transport map, a regular map that keeps early modules from overfitting their auxiliary task;
//! nothing here measures that yet, and at CPU scale the term has not improved accuracy (REPRODUCTION.md). `mean` runs over batch and every element of r, as the published τ values assume.
//!
//! The weight w_k = 1/(2τ_k) follows a τ schedule:
//! - `constant`: τ_k = τ;
//! - `varying`: τ_k = τ/2 for the first half of the modules (k < ⌊K/2⌋, counted from 0), τ for the rest;
//! - `uzawa`: w_k = 1/λ_k with λ_k = λ₀·k^p initially (k counted from 1) and λ_k += ρ·CE_k every s steps
//!   of module k (CE_k averaged over those s steps), so the penalty fades as the task loss is paid.
//!   While modules train, λ_k lives on the device ([`DeviceWeights`]): the step reads nothing back.
//!   `method.uzawa_variant = "published"` does what the paper's published code does instead (its
//!   `train_par`): modules counted from 0, so λ_k = λ₀·k^p starts at 0 for the first module, whose weight
//!   is 1/λ₀ until its first update; every s-th step λ_k += ρ·CE of *that* batch alone, and the new 1/λ_k
//!   already weighs that batch's loss.
//!
//! τ = ∞ is plain greedy training (VanGL): w_k = 0 and the kinetic term is not even computed.

pub mod config;
pub mod loss;
pub mod weights;

pub use config::{TauSchedule, TransportSpec, UzawaVariant};
pub use loss::{LocalLoss, LossSpec, cross_entropy_smoothed, kinetic_energy, local_loss, local_loss_with, transport_cost};
pub use weights::{DeviceWeights, EnergyWeight, TransportWeights};
