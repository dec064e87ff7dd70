//! Choosing the backend at start. The decision is [`choose`], a pure
//! function of the preference and the kinds of adapters found, so it is
//! tested without any GPU:
//! - `cpu`: the CPU, without probing for adapters;
//! - `auto`: the best hardware adapter (discrete, then integrated, then
//!   virtual GPU), else the CPU. A software adapter (wgpu's
//!   `DeviceType::Cpu`: Mesa llvmpipe/lavapipe, WARP) never wins: it runs the
//!   kernels on the same cores, several times slower than the CPU backend
//!   (docs/benchmarks.md, "Simulation"). Nor does an adapter of unknown kind
//!   (`DeviceType::Other`): choose `gpu` to use one;
//! - `gpu`: the best adapter of any kind, software included; the CPU only
//!   when there is none.
//!
//! [`select_backend`] enumerates the adapters (`WGPU_BACKEND` limits the
//! APIs, `WGPU_ADAPTER_NAME` keeps the adapters whose name contains it),
//! applies the decision and logs it; `SimBackend::name` and
//! `SimBackend::device` expose it for `/health/ready` and
//! `arcade_sim_backend_info`. When `auto` passes over software adapters, the
//! CPU backend's device says so (e.g. `host CPU (2 threads); auto: software
//! adapter llvmpipe (…) not used`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::{CpuBackend, SimBackend};

/// Which backend the operator asks for (config value `auto`, `gpu` or `cpu`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendPreference {
    /// A hardware GPU if one is found, else the CPU.
    #[default]
    Auto,
    /// Any GPU adapter, software ones included; still falls back to the CPU
    /// (with a warning) if none is found.
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

/// What a GPU adapter is: wgpu's `DeviceType`, mirrored so the decision
/// needs no wgpu (builds without the `gpu` feature test it too).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdapterKind {
    DiscreteGpu,
    IntegratedGpu,
    VirtualGpu,
    /// A software rasterizer on the host's CPU (`DeviceType::Cpu`).
    Software,
    /// The driver did not say (`DeviceType::Other`).
    Other,
}

impl AdapterKind {
    /// A real GPU, which `auto` takes over the CPU backend.
    pub fn is_hardware(self) -> bool {
        matches!(self, AdapterKind::DiscreteGpu | AdapterKind::IntegratedGpu | AdapterKind::VirtualGpu)
    }

    /// Lower is preferred.
    fn rank(self) -> u8 {
        match self {
            AdapterKind::DiscreteGpu => 0,
            AdapterKind::IntegratedGpu => 1,
            AdapterKind::VirtualGpu => 2,
            AdapterKind::Other => 3,
            AdapterKind::Software => 4,
        }
    }
}

#[cfg(feature = "gpu")]
impl From<wgpu::DeviceType> for AdapterKind {
    fn from(device_type: wgpu::DeviceType) -> Self {
        match device_type {
            wgpu::DeviceType::DiscreteGpu => AdapterKind::DiscreteGpu,
            wgpu::DeviceType::IntegratedGpu => AdapterKind::IntegratedGpu,
            wgpu::DeviceType::VirtualGpu => AdapterKind::VirtualGpu,
            wgpu::DeviceType::Cpu => AdapterKind::Software,
            wgpu::DeviceType::Other => AdapterKind::Other,
        }
    }
}

/// Why the CPU backend was chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CpuReason {
    /// `sim.backend = cpu`.
    Requested,
    /// No adapter at all (or a build without the `gpu` feature).
    NoAdapter,
    /// `auto`, and every adapter found is a software or unknown one.
    NoHardwareAdapter,
}

/// The outcome of [`choose`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Choice {
    Cpu(CpuReason),
    /// Open the adapter at this index of the list given to [`choose`].
    Gpu(usize),
}

/// The backend for `preference` given the kinds of the adapters found, in
/// the order they were found (the first of equally good ones wins).
pub fn choose(preference: BackendPreference, adapters: &[AdapterKind]) -> Choice {
    let eligible = |kind: AdapterKind| match preference {
        BackendPreference::Cpu => false,
        BackendPreference::Auto => kind.is_hardware(),
        BackendPreference::Gpu => true,
    };
    let best = adapters
        .iter()
        .enumerate()
        .filter(|&(_, &kind)| eligible(kind))
        .min_by_key(|&(index, kind)| (kind.rank(), index))
        .map(|(index, _)| index);
    match (preference, best) {
        (BackendPreference::Cpu, _) => Choice::Cpu(CpuReason::Requested),
        (_, Some(index)) => Choice::Gpu(index),
        (_, None) if adapters.is_empty() => Choice::Cpu(CpuReason::NoAdapter),
        (_, None) => Choice::Cpu(CpuReason::NoHardwareAdapter),
    }
}

/// Builds the backend for `preference` and logs which one was chosen and why.
pub fn select_backend(preference: BackendPreference) -> Box<dyn SimBackend> {
    let backend: Box<dyn SimBackend> = match preference {
        BackendPreference::Cpu => Box::new(CpuBackend::new()),
        BackendPreference::Auto | BackendPreference::Gpu => gpu_or_cpu(preference),
    };
    tracing::info!(%preference, backend = backend.name(), device = backend.device(), "simulation backend selected");
    backend
}

/// The adapters [`select_backend`] chooses from, one line each (name, kind,
/// graphics API), for benchmarks and diagnostics.
pub fn describe_adapters() -> Vec<String> {
    #[cfg(feature = "gpu")]
    {
        probe::adapters().iter().map(probe::Found::describe).collect()
    }
    #[cfg(not(feature = "gpu"))]
    {
        Vec::new()
    }
}

#[cfg(feature = "gpu")]
mod probe {
    use super::AdapterKind;

    pub struct Found {
        pub adapter: wgpu::Adapter,
        pub info: wgpu::AdapterInfo,
        pub kind: AdapterKind,
    }

    impl Found {
        pub fn describe(&self) -> String {
            format!("{} ({:?}, {:?})", self.info.name, self.info.device_type, self.info.backend)
        }
    }

    /// Every adapter of the APIs `WGPU_BACKEND` allows (all by default)
    /// whose name contains `WGPU_ADAPTER_NAME` (case-insensitive), if set.
    pub fn adapters() -> Vec<Found> {
        let instance = wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
        let name_filter = std::env::var("WGPU_ADAPTER_NAME").ok().map(|name| name.to_lowercase());
        pollster::block_on(instance.enumerate_adapters(wgpu::Backends::all()))
            .into_iter()
            .map(|adapter| {
                let info = adapter.get_info();
                Found { kind: info.device_type.into(), adapter, info }
            })
            .filter(|found| name_filter.as_ref().is_none_or(|name| found.info.name.to_lowercase().contains(name)))
            .collect()
    }
}

#[cfg(feature = "gpu")]
fn gpu_or_cpu(preference: BackendPreference) -> Box<dyn SimBackend> {
    let mut found = probe::adapters();
    for adapter in &found {
        tracing::info!(adapter = %adapter.describe(), hardware = adapter.kind.is_hardware(), "GPU adapter found");
    }
    let kinds: Vec<AdapterKind> = found.iter().map(|f| f.kind).collect();
    match choose(preference, &kinds) {
        Choice::Gpu(index) => {
            let chosen = found.swap_remove(index);
            let description = chosen.describe();
            match super::GpuBackend::with_adapter(chosen.adapter) {
                Ok(gpu) => Box::new(gpu),
                Err(error) => {
                    tracing::warn!(%error, adapter = %description, "cannot use the GPU adapter for the simulation; using the CPU");
                    Box::new(CpuBackend::new().with_note(&format!("{preference}: {description} failed to open")))
                }
            }
        }
        Choice::Cpu(CpuReason::NoHardwareAdapter) => {
            let skipped: Vec<String> = found.iter().map(probe::Found::describe).collect();
            let skipped = skipped.join(", ");
            tracing::info!(adapters = %skipped, "only software GPU adapters: the CPU backend is faster; using the CPU (set sim.backend = \"gpu\" to force one)");
            Box::new(CpuBackend::new().with_note(&format!("auto: software adapter {skipped} not used")))
        }
        Choice::Cpu(_) => {
            if preference == BackendPreference::Gpu {
                tracing::warn!("GPU simulation backend requested but no adapter was found; using the CPU");
            } else {
                tracing::info!("no GPU adapter for the simulation; using the CPU");
            }
            Box::new(CpuBackend::new().with_note(&format!("{preference}: no GPU adapter")))
        }
    }
}

#[cfg(not(feature = "gpu"))]
fn gpu_or_cpu(preference: BackendPreference) -> Box<dyn SimBackend> {
    if preference == BackendPreference::Gpu {
        tracing::warn!("GPU simulation backend requested but this build has no `gpu` feature; using the CPU");
    }
    Box::new(CpuBackend::new().with_note(&format!("{preference}: built without the gpu feature")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use AdapterKind::*;

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

    #[test]
    fn auto_never_prefers_a_software_adapter_over_the_cpu() {
        let auto = |adapters: &[AdapterKind]| choose(BackendPreference::Auto, adapters);
        // Mesa lavapipe alone (this CI machine), or with an unknown one.
        assert_eq!(auto(&[Software]), Choice::Cpu(CpuReason::NoHardwareAdapter));
        assert_eq!(auto(&[Software, Other, Software]), Choice::Cpu(CpuReason::NoHardwareAdapter));
        assert_eq!(auto(&[]), Choice::Cpu(CpuReason::NoAdapter));
    }

    #[test]
    fn auto_takes_the_best_real_gpu_whatever_the_order() {
        let auto = |adapters: &[AdapterKind]| choose(BackendPreference::Auto, adapters);
        for kind in [DiscreteGpu, IntegratedGpu, VirtualGpu] {
            assert_eq!(auto(&[kind]), Choice::Gpu(0), "{kind:?}");
            assert_eq!(auto(&[Software, Other, kind]), Choice::Gpu(2), "{kind:?}");
        }
        assert_eq!(auto(&[Software, IntegratedGpu, DiscreteGpu, VirtualGpu]), Choice::Gpu(2));
        assert_eq!(auto(&[VirtualGpu, IntegratedGpu]), Choice::Gpu(1));
        assert_eq!(auto(&[DiscreteGpu, DiscreteGpu]), Choice::Gpu(0), "the first of equals");
    }

    #[test]
    fn explicit_gpu_uses_whatever_adapter_exists() {
        let gpu = |adapters: &[AdapterKind]| choose(BackendPreference::Gpu, adapters);
        assert_eq!(gpu(&[Software]), Choice::Gpu(0));
        assert_eq!(gpu(&[Software, Other]), Choice::Gpu(1));
        assert_eq!(gpu(&[Software, IntegratedGpu]), Choice::Gpu(1), "still the best one");
        assert_eq!(gpu(&[]), Choice::Cpu(CpuReason::NoAdapter));
    }

    #[test]
    fn cpu_preference_ignores_every_adapter() {
        assert_eq!(choose(BackendPreference::Cpu, &[DiscreteGpu]), Choice::Cpu(CpuReason::Requested));
        assert_eq!(choose(BackendPreference::Cpu, &[]), Choice::Cpu(CpuReason::Requested));
    }

    #[test]
    fn hardware_means_a_real_gpu() {
        assert!([DiscreteGpu, IntegratedGpu, VirtualGpu].iter().all(|k| k.is_hardware()));
        assert!(![Software, Other].iter().any(|k| k.is_hardware()));
    }

    #[cfg(feature = "gpu")]
    #[test]
    fn wgpu_device_types_map_to_kinds() {
        assert_eq!(AdapterKind::from(wgpu::DeviceType::Cpu), Software);
        assert_eq!(AdapterKind::from(wgpu::DeviceType::DiscreteGpu), DiscreteGpu);
        assert_eq!(AdapterKind::from(wgpu::DeviceType::IntegratedGpu), IntegratedGpu);
        assert_eq!(AdapterKind::from(wgpu::DeviceType::VirtualGpu), VirtualGpu);
        assert_eq!(AdapterKind::from(wgpu::DeviceType::Other), Other);
    }
}
