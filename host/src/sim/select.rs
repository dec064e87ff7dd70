//! Choosing the backend at start: the GPU when an adapter is found (or
//! forced), else the CPU. The choice is logged; `SimBackend::name` and
//! `SimBackend::device` expose it for health output and metrics.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::{CpuBackend, SimBackend};

/// Which backend the operator asks for (config value `auto`, `gpu` or `cpu`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendPreference {
    /// The GPU if an adapter is found, else the CPU.
    #[default]
    Auto,
    /// The GPU; still falls back to the CPU (with a warning) if none is found.
    Gpu,
    /// The CPU, without probing for a GPU.
    Cpu,
}

impl FromStr for BackendPreference {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value.to_ascii_lowercase().as_str() {
            "auto" => Ok(BackendPreference::Auto),
            "gpu" => Ok(BackendPreference::Gpu),
            "cpu" => Ok(BackendPreference::Cpu),
            other => Err(format!("unknown simulation backend {other:?} (expected auto, gpu or cpu)")),
        }
    }
}

impl fmt::Display for BackendPreference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BackendPreference::Auto => "auto",
            BackendPreference::Gpu => "gpu",
            BackendPreference::Cpu => "cpu",
        })
    }
}

/// Builds the backend for `preference` and logs which one was chosen.
pub fn select_backend(preference: BackendPreference) -> Box<dyn SimBackend> {
    let backend: Box<dyn SimBackend> = match preference {
        BackendPreference::Cpu => Box::new(CpuBackend::new()),
        BackendPreference::Auto | BackendPreference::Gpu => gpu_or_cpu(preference),
    };
    tracing::info!(%preference, backend = backend.name(), device = backend.device(), "simulation backend selected");
    backend
}

#[cfg(feature = "gpu")]
fn gpu_or_cpu(preference: BackendPreference) -> Box<dyn SimBackend> {
    match super::GpuBackend::new() {
        Ok(gpu) => Box::new(gpu),
        Err(error) => {
            if preference == BackendPreference::Gpu {
                tracing::warn!(%error, "GPU simulation backend requested but unavailable; using the CPU");
            } else {
                tracing::info!(%error, "no GPU for the simulation; using the CPU");
            }
            Box::new(CpuBackend::new())
        }
    }
}

#[cfg(not(feature = "gpu"))]
fn gpu_or_cpu(preference: BackendPreference) -> Box<dyn SimBackend> {
    if preference == BackendPreference::Gpu {
        tracing::warn!("GPU simulation backend requested but this build has no `gpu` feature; using the CPU");
    }
    Box::new(CpuBackend::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preference_parses_case_insensitively_and_round_trips() {
        for preference in [BackendPreference::Auto, BackendPreference::Gpu, BackendPreference::Cpu] {
            assert_eq!(preference.to_string().to_uppercase().parse::<BackendPreference>(), Ok(preference));
        }
        assert!("cuda".parse::<BackendPreference>().is_err());
    }

    #[test]
    fn cpu_preference_never_probes_the_gpu() {
        let backend = select_backend(BackendPreference::Cpu);
        assert_eq!(backend.name(), "cpu");
        assert_eq!(backend.submissions(), 0);
    }
}
