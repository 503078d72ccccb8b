//! Means with Student-t 95 % confidence intervals over seeds — the form of the paper's tables.

use serde::{Deserialize, Serialize};
use statrs::distribution::{Continuous, ContinuousCDF, StudentsT};

/// The mean of n values with its two-sided 95 % Student-t interval. With n = 1 there is no interval
/// (`half_width` is `None`), never a made-up one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MeanCi {
    pub n: usize,
    pub mean: f64,
    /// Sample standard deviation (n − 1 in the denominator); `None` for n = 1.
    pub sd: Option<f64>,
    /// t_{0.975, n−1} · sd / √n.
    pub half_width: Option<f64>,
}

impl MeanCi {
    /// `None` for no values.
    pub fn of(values: &[f64]) -> Option<MeanCi> {
        let n = values.len();
        if n == 0 {
            return None;
        }
        let mean = values.iter().sum::<f64>() / n as f64;
        if n == 1 {
            return Some(MeanCi { n, mean, sd: None, half_width: None });
        }
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        let sd = var.sqrt();
        let half = t_quantile(0.975, (n - 1) as f64) * sd / (n as f64).sqrt();
        Some(MeanCi { n, mean, sd: Some(sd), half_width: Some(half) })
    }

    pub fn low(&self) -> Option<f64> {
        self.half_width.map(|h| self.mean - h)
    }

    pub fn high(&self) -> Option<f64> {
        self.half_width.map(|h| self.mean + h)
    }

    /// `mean ± half` scaled (100 for percentages), or `mean (n = 1)`.
    pub fn display(&self, scale: f64, decimals: usize) -> String {
        match self.half_width {
            Some(h) => format!("{:.d$} ± {:.d$}", scale * self.mean, scale * h, d = decimals),
            None => format!("{:.d$} (n = 1)", scale * self.mean, d = decimals),
        }
    }
}

/// The p-quantile of Student's t with `df` degrees of freedom, to double precision: statrs' inverse,
/// refined by Newton steps on its CDF.
pub fn t_quantile(p: f64, df: f64) -> f64 {
    let t = StudentsT::new(0.0, 1.0, df).expect("df > 0");
    let mut x = t.inverse_cdf(p);
    for _ in 0..4 {
        let step = (t.cdf(x) - p) / t.pdf(x);
        x -= step;
        if step.abs() < 1e-15 * x.abs().max(1.0) {
            break;
        }
    }
    x
}
