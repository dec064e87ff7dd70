//! The GPU backend (wgpu compute, headless): packs every world of a batch
//! into shared buffers, records the whole step of all of them into one
//! command buffer, submits it once, and reads positions, velocities and
//! contacts back into the worlds.

mod buffers;
mod kernels;
mod pack;

use std::sync::Arc;
use std::sync::mpsc;

use buffers::{Buffers, ReadbackLayout};
use kernels::{BatchShape, Kernels, STORAGE_BINDINGS};
use pack::PackedBatch;

use super::world::World;
use super::{BatchStats, SimBackend, SimError, validate_dt};

pub struct GpuBackend {
    device: wgpu::Device,
    queue: wgpu::Queue,
    adapter: wgpu::AdapterInfo,
    description: String,
    kernels: Kernels,
    buffers: Buffers,
    packed: PackedBatch,
    submissions: u64,
}

impl GpuBackend {
    /// Opens the adapter wgpu offers first for high performance, of any
    /// kind, software ones included (`WGPU_BACKEND` limits the APIs), and
    /// compiles the kernels. Fails when there is none. The server chooses
    /// its adapter with `sim::select_backend` instead.
    pub fn new() -> Result<Self, SimError> {
        let instance = wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
        let adapter = pollster::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions {
            power_preference: wgpu::PowerPreference::HighPerformance,
            ..Default::default()
        }))
        .map_err(|e| SimError::NoAdapter(e.to_string()))?;
        GpuBackend::with_adapter(adapter)
    }

    /// Opens a device on `adapter` and compiles the kernels.
    pub fn with_adapter(adapter: wgpu::Adapter) -> Result<Self, SimError> {
        let info = adapter.get_info();
        let limits = adapter.limits();
        if limits.max_storage_buffers_per_shader_stage < STORAGE_BINDINGS {
            return Err(SimError::NoAdapter(format!(
                "{} allows {} storage buffers per shader stage; the kernels need {STORAGE_BINDINGS}",
                info.name, limits.max_storage_buffers_per_shader_stage
            )));
        }
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("arcade-sim"),
            required_limits: limits,
            ..Default::default()
        }))
        .map_err(|e| SimError::Gpu(format!("requesting a device from {}: {e}", info.name)))?;
        // Errors outside the scopes in `step_batch` must not abort the server.
        device.on_uncaptured_error(Arc::new(|error| tracing::error!(%error, "uncaptured wgpu error")));
        let scope = device.push_error_scope(wgpu::ErrorFilter::Validation);
        let kernels = Kernels::new(&device);
        if let Some(error) = pollster::block_on(scope.pop()) {
            return Err(SimError::Gpu(format!("compiling the simulation kernels: {error}")));
        }
        let buffers = Buffers::new(&device);
        let description = format!("{} ({:?}, {:?})", info.name, info.device_type, info.backend);
        Ok(GpuBackend {
            device,
            queue,
            adapter: info,
            description,
            kernels,
            buffers,
            packed: PackedBatch::default(),
            submissions: 0,
        })
    }

    /// The adapter in use (name, device type, driver).
    pub fn adapter_info(&self) -> &wgpu::AdapterInfo {
        &self.adapter
    }

    fn batch_shape(&self, world_total: usize) -> Result<BatchShape, SimError> {
        let shape = BatchShape {
            body_total: self.packed.body_total(),
            cell_total: self.packed.cell_total,
            world_total: world_total as u32,
            contact_total: self.packed.contact_total,
            max_substeps: self.packed.max_substeps,
        };
        let limits = self.device.limits();
        let largest = Buffers::largest_storage_binding(&shape);
        let readback = ReadbackLayout::new(&shape).total();
        if largest > limits.max_storage_buffer_binding_size.min(limits.max_buffer_size)
            || readback > limits.max_buffer_size
        {
            return Err(SimError::BatchTooLarge(format!(
                "needs a {largest}-byte storage buffer and a {readback}-byte read-back buffer; the device allows {} and {}",
                limits.max_storage_buffer_binding_size, limits.max_buffer_size
            )));
        }
        Ok(shape)
    }

    /// Records and submits the batch, waits for it, and leaves the read-back
    /// buffer mapped (on success only).
    fn run(&mut self, shape: &BatchShape, layout: &ReadbackLayout) -> Result<(), SimError> {
        let out_of_memory = self.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let validation = self.device.push_error_scope(wgpu::ErrorFilter::Validation);
        self.buffers.reserve(&self.device, &self.kernels, shape);
        self.buffers.upload(&self.queue, shape, &self.packed);
        let mut encoder =
            self.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("sim batch") });
        self.kernels.encode(&mut encoder, &self.buffers, shape);
        self.buffers.copy_results(&mut encoder, shape, layout);
        self.queue.submit([encoder.finish()]);
        self.submissions += 1;

        let (sender, receiver) = mpsc::channel();
        self.buffers.readback().slice(0..layout.total()).map_async(wgpu::MapMode::Read, move |result| {
            let _ = sender.send(result);
        });
        let polled = self.device.poll(wgpu::PollType::wait_indefinitely());
        let mapped = receiver.try_recv();
        let is_mapped = matches!(mapped, Ok(Ok(())));
        let errors = [pollster::block_on(validation.pop()), pollster::block_on(out_of_memory.pop())];
        let failure = match (errors.into_iter().flatten().next(), polled, mapped) {
            (Some(error), _, _) => Some(error.to_string()),
            (None, Err(e), _) => Some(format!("waiting for the batch: {e}")),
            (None, Ok(_), Ok(Err(e))) => Some(format!("mapping the results: {e}")),
            (None, Ok(_), Err(_)) => Some("the results were never mapped".to_string()),
            (None, Ok(_), Ok(Ok(()))) => None,
        };
        match failure {
            None => Ok(()),
            Some(failure) => {
                if is_mapped {
                    self.buffers.readback().unmap();
                }
                Err(SimError::Gpu(failure))
            }
        }
    }

    /// Copies the mapped results into the worlds.
    fn unpack_mapped(&self, worlds: &mut [&mut World], layout: &ReadbackLayout) -> Result<(), SimError> {
        let readback = self.buffers.readback();
        let view = |range: &std::ops::Range<u64>| {
            readback
                .slice(range.clone())
                .get_mapped_range()
                .map_err(|e| SimError::Gpu(format!("reading the results: {e}")))
        };
        let (positions, velocities) = (view(&layout.positions)?, view(&layout.velocities)?);
        let contact_counts = view(&layout.contact_counts)?;
        // An empty range cannot be viewed: a batch without contact slots has none.
        let contacts = if layout.contacts.is_empty() { None } else { Some(view(&layout.contacts)?) };
        let results = pack::BatchResults {
            positions: bytemuck::cast_slice(&positions),
            velocities: bytemuck::cast_slice(&velocities),
            contact_counts: bytemuck::cast_slice(&contact_counts),
            contacts: contacts.as_deref().map(bytemuck::cast_slice).unwrap_or(&[]),
        };
        pack::unpack(worlds, &self.packed, &results);
        Ok(())
    }
}

impl SimBackend for GpuBackend {
    fn name(&self) -> &'static str {
        "gpu"
    }

    fn device(&self) -> &str {
        &self.description
    }

    fn step_batch(&mut self, worlds: &mut [&mut World], dt: f32) -> Result<BatchStats, SimError> {
        validate_dt(dt)?;
        self.packed.pack(worlds, dt).map_err(SimError::BatchTooLarge)?;
        let shape = self.batch_shape(worlds.len())?;
        let mut stats = BatchStats::default();
        if shape.body_total == 0 {
            for world in worlds.iter_mut() {
                world.finish_step(&[], 0);
                stats.add_world(world);
            }
            return Ok(stats);
        }
        let layout = ReadbackLayout::new(&shape);
        self.run(&shape, &layout)?;
        let unpacked = self.unpack_mapped(worlds, &layout);
        self.buffers.readback().unmap();
        unpacked?;
        for world in worlds.iter() {
            stats.add_world(world);
        }
        Ok(stats)
    }

    fn submissions(&self) -> u64 {
        self.submissions
    }
}
