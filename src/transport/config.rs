//! The `[method]` section of a config: τ and its schedule, the transport cost, the local loss.

use serde::{Deserialize, Serialize};

use crate::checks::{finite_nonneg, positive};
use crate::error::{Error, Result};
use crate::local_loss::LocalLossKind;

/// How τ varies across modules and training.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TauSchedule {
    Constant,
    Varying,
    Uzawa,
}

/// Parameters of the transport term, as configured.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TransportSpec {
    /// τ; `inf` (TOML) disables the transport term: VanGL.
    pub tau: f64,
    pub schedule: TauSchedule,
    /// Uzawa: ρ, the dual step.
    pub uzawa_rho: f64,
    /// Uzawa: s, steps between two updates of λ_k.
    pub uzawa_every: usize,
    /// Uzawa: λ₀.
    pub uzawa_lambda0: f64,
    /// Uzawa: p in λ_k = λ₀·k^p.
    pub uzawa_power: f64,
    /// Uzawa: trgl's rule or the published code's (see the module's documentation).
    pub uzawa_variant: UzawaVariant,
    /// The transport cost's exponent: the term is Σ_b mean(|r_b|^p) (the W_p question); 2 is the paper's
    /// kinetic energy.
    pub p: f64,
    /// The auxiliary modules' task term: `ce`, `infopro` or `predsim` (see `local_loss`).
    pub local_loss: LocalLossKind,
    /// InfoPro's [λ₁ first, λ₂ first, λ₁ last, λ₂ last] (reconstruction and CE weights of the first and the
    /// last auxiliary module); unset, the published values for K = 2, 4, 8, 16.
    pub infopro_lambdas: Option<[f64; 4]>,
    /// PredSim's β, the similarity term's weight (CE gets 1 − β).
    pub predsim_beta: f64,
}

/// Which Uzawa rule: trgl's (modules from 1, λ_k += ρ·mean CE of the s steps, applied from the next step)
/// or the published code's (modules from 0, λ_k += ρ·CE of the s-th batch, applied to that batch).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UzawaVariant {
    #[default]
    Trgl,
    Published,
}

impl Default for TransportSpec {
    fn default() -> Self {
        TransportSpec {
            tau: f64::INFINITY,
            schedule: TauSchedule::Constant,
            uzawa_rho: 1.0,
            uzawa_every: 100,
            uzawa_lambda0: 1.0,
            uzawa_power: 1.0,
            uzawa_variant: UzawaVariant::Trgl,
            p: 2.0,
            local_loss: LocalLossKind::Ce,
            infopro_lambdas: None,
            predsim_beta: 0.99,
        }
    }
}

impl TransportSpec {
    /// Checks the section; the error names the first bad field.
    pub fn validate(&self) -> Result<()> {
        let m = self;
        crate::local_loss::config::validate(m.infopro_lambdas, m.predsim_beta)?;
        if !(m.p.is_finite() && m.p >= 1.0) {
            return Err(Error::config("method.p", format!("the transport cost mean(|r|^p) needs a finite p ≥ 1 (2 = the kinetic energy), got {}", m.p)));
        }
        if m.tau.is_nan() || m.tau <= 0.0 {
            return Err(Error::config("method.tau", format!("must be > 0 (inf = VanGL), got {}", m.tau)));
        }
        if m.schedule == TauSchedule::Uzawa {
            finite_nonneg("method.uzawa_rho", m.uzawa_rho)?;
            positive("method.uzawa_every", m.uzawa_every)?;
            if !(m.uzawa_lambda0.is_finite() && m.uzawa_lambda0 > 0.0) {
                return Err(Error::config("method.uzawa_lambda0", "must be a finite number > 0"));
            }
            if m.uzawa_variant == UzawaVariant::Published && m.uzawa_power < 0.0 {
                return Err(Error::config("method.uzawa_power", "the published Uzawa counts modules from 0 and grows λ with the index: p ≥ 0"));
            }
            if !m.uzawa_power.is_finite() {
                return Err(Error::config("method.uzawa_power", "must be finite"));
            }
        }
        Ok(())
    }
}
