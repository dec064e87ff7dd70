//! The compute kernels: one shader module assembled from `shaders/*.wgsl`
//! (with the shared constants prepended), one pipeline per entry point, the
//! bind-group layout they all share, and the dispatch chain of one batch
//! step, recorded into a single command encoder.

use std::num::NonZeroU64;

use crate::params::POSITION_CORRECTION;

use super::buffers::Buffers;
use super::pack::GpuGlobals;

/// Invocations per workgroup of every kernel.
pub const WORKGROUP_SIZE: u32 = 64;
/// Cells each invocation of `scan_blocks` sums.
pub const SCAN_ITEMS: u32 = 16;
/// Cells per scan block (one workgroup of `scan_blocks`).
pub const SCAN_BLOCK: u32 = WORKGROUP_SIZE * SCAN_ITEMS;
/// Storage buffers bound at once (bindings 1..=13 in `common.wgsl`).
pub const STORAGE_BINDINGS: u32 = 13;

fn shader_source() -> String {
    format!(
        "const WORKGROUP_SIZE: u32 = {WORKGROUP_SIZE}u;\n\
         const SCAN_ITEMS: u32 = {SCAN_ITEMS}u;\n\
         const SCAN_BLOCK: u32 = {SCAN_BLOCK}u;\n\
         const POSITION_CORRECTION: f32 = {POSITION_CORRECTION:?};\n\
         {}\n{}\n{}\n{}",
        include_str!("../shaders/common.wgsl"),
        include_str!("../shaders/integrate.wgsl"),
        include_str!("../shaders/grid.wgsl"),
        include_str!("../shaders/collide.wgsl"),
    )
}

/// Sizes of one batch's dispatches.
#[derive(Clone, Copy, Debug)]
pub struct BatchShape {
    pub body_total: u32,
    pub cell_total: u32,
    pub world_total: u32,
    pub contact_total: u32,
    pub max_substeps: u32,
}

impl BatchShape {
    pub fn scan_block_count(&self) -> u32 {
        self.cell_total.div_ceil(SCAN_BLOCK)
    }

    /// The uniform values of sub-step `substep`.
    pub fn globals(&self, substep: u32) -> GpuGlobals {
        GpuGlobals {
            substep,
            body_total: self.body_total,
            cell_total: self.cell_total,
            scan_block_count: self.scan_block_count(),
        }
    }
}

pub struct Kernels {
    pub layout: wgpu::BindGroupLayout,
    integrate: wgpu::ComputePipeline,
    scan_blocks: wgpu::ComputePipeline,
    scan_block_sums: wgpu::ComputePipeline,
    scatter: wgpu::ComputePipeline,
    sort_cells: wgpu::ComputePipeline,
    collide: wgpu::ComputePipeline,
    max_workgroups_per_dimension: u32,
}

impl Kernels {
    pub fn new(device: &wgpu::Device) -> Self {
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("sim"),
            source: wgpu::ShaderSource::Wgsl(shader_source().into()),
        });
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("sim"),
            entries: &layout_entries(),
        });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("sim"),
            bind_group_layouts: &[Some(&layout)],
            immediate_size: 0,
        });
        let pipeline = |entry_point: &str| {
            device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(entry_point),
                layout: Some(&pipeline_layout),
                module: &module,
                entry_point: Some(entry_point),
                compilation_options: Default::default(),
                cache: None,
            })
        };
        Kernels {
            integrate: pipeline("integrate"),
            scan_blocks: pipeline("scan_blocks"),
            scan_block_sums: pipeline("scan_block_sums"),
            scatter: pipeline("scatter"),
            sort_cells: pipeline("sort_cells"),
            collide: pipeline("collide"),
            layout,
            max_workgroups_per_dimension: device.limits().max_compute_workgroups_per_dimension,
        }
    }

    /// Records the whole step of a batch: per sub-step, integrate and count,
    /// prefix-sum, scatter, sort cells, collide; the state buffers alternate.
    pub fn encode(&self, encoder: &mut wgpu::CommandEncoder, buffers: &Buffers, shape: &BatchShape) {
        encoder.clear_buffer(buffers.contact_count(), 0, Some(4 * shape.world_total as u64));
        for substep in 0..shape.max_substeps {
            encoder.clear_buffer(buffers.cell_count(), 0, Some(4 * shape.cell_total as u64));
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("sim substep"),
                timestamp_writes: None,
            });
            pass.set_bind_group(0, buffers.bind_group(substep), &[buffers.globals_offset(substep)]);
            self.dispatch(&mut pass, &self.integrate, shape.body_total.div_ceil(WORKGROUP_SIZE));
            self.dispatch(&mut pass, &self.scan_blocks, shape.scan_block_count());
            self.dispatch(&mut pass, &self.scan_block_sums, 1);
            self.dispatch(&mut pass, &self.scatter, shape.body_total.div_ceil(WORKGROUP_SIZE));
            self.dispatch(&mut pass, &self.sort_cells, shape.cell_total.div_ceil(WORKGROUP_SIZE));
            self.dispatch(&mut pass, &self.collide, shape.body_total.div_ceil(WORKGROUP_SIZE));
        }
    }

    /// Dispatches `workgroups` groups, split over x and y beyond the
    /// per-dimension limit (the shaders' `thread_index` undoes the split).
    fn dispatch(&self, pass: &mut wgpu::ComputePass<'_>, pipeline: &wgpu::ComputePipeline, workgroups: u32) {
        if workgroups == 0 {
            return;
        }
        let x = workgroups.min(self.max_workgroups_per_dimension);
        pass.set_pipeline(pipeline);
        pass.dispatch_workgroups(x, workgroups.div_ceil(x), 1);
    }
}

fn layout_entries() -> Vec<wgpu::BindGroupLayoutEntry> {
    let entry = |binding: u32, ty: wgpu::BufferBindingType, has_dynamic_offset: bool, min_size: u64| {
        wgpu::BindGroupLayoutEntry {
            binding,
            visibility: wgpu::ShaderStages::COMPUTE,
            ty: wgpu::BindingType::Buffer { ty, has_dynamic_offset, min_binding_size: NonZeroU64::new(min_size) },
            count: None,
        }
    };
    let read_only = wgpu::BufferBindingType::Storage { read_only: true };
    let read_write = wgpu::BufferBindingType::Storage { read_only: false };
    let mut entries = vec![
        entry(0, wgpu::BufferBindingType::Uniform, true, size_of::<GpuGlobals>() as u64),
        entry(1, read_only, false, 0),
        entry(2, read_only, false, 0),
    ];
    entries.extend((3..=STORAGE_BINDINGS).map(|binding| entry(binding, read_write, false, 0)));
    entries
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Validates the assembled WGSL with naga (the compiler wgpu uses), so a
    /// broken shader fails here even on machines without an adapter.
    #[test]
    fn assembled_shader_is_valid_wgsl() {
        let module = wgpu::naga::front::wgsl::parse_str(&shader_source())
            .unwrap_or_else(|e| panic!("{}", e.emit_to_string(&shader_source())));
        let mut validator = wgpu::naga::valid::Validator::new(
            wgpu::naga::valid::ValidationFlags::all(),
            wgpu::naga::valid::Capabilities::empty(),
        );
        validator.validate(&module).expect("shader validates");
        let entry_points: Vec<_> = module.entry_points.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(entry_points, ["integrate", "scan_blocks", "scan_block_sums", "scatter", "sort_cells", "collide"]);
    }
}
