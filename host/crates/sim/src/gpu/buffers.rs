//! The GPU buffers shared by all worlds of a batch. They are kept between
//! batches and only grow (with some headroom), so a steady tick reuses them;
//! the two bind groups (state buffers swapped) are rebuilt when one grows.

use std::ops::Range;

use super::kernels::{BatchShape, Kernels};
use super::pack::{GpuGlobals, GpuShape, GpuVec2, GpuWorld, PackedBatch};

/// Bytes each body, cell, world and contact slot takes in the buffers below.
const VEC2_BYTES: u64 = size_of::<GpuVec2>() as u64;
const BODY_CELL_BYTES: u64 = 8;
const CELL_BYTES: u64 = 4;
const CONTACT_BYTES: u64 = 8;
const COUNT_BYTES: u64 = 4;

/// A buffer that is recreated bigger when a batch needs more room.
struct GrowingBuffer {
    label: &'static str,
    usage: wgpu::BufferUsages,
    /// Largest size the device accepts for this use (headroom stops there).
    max_size: u64,
    buffer: Option<wgpu::Buffer>,
}

impl GrowingBuffer {
    fn new(device: &wgpu::Device, label: &'static str, usage: wgpu::BufferUsages) -> Self {
        let limits = device.limits();
        let max_size = if usage.contains(wgpu::BufferUsages::STORAGE) {
            limits.max_storage_buffer_binding_size.min(limits.max_buffer_size)
        } else {
            limits.max_buffer_size
        };
        GrowingBuffer { label, usage, max_size, buffer: None }
    }

    /// Makes room for `bytes` (at most `max_size`, checked by the caller);
    /// returns whether the buffer was recreated.
    fn reserve(&mut self, device: &wgpu::Device, bytes: u64) -> bool {
        let bytes = bytes.max(16);
        if self.buffer.as_ref().is_some_and(|buffer| buffer.size() >= bytes) {
            return false;
        }
        let size = (bytes + bytes / 4).next_multiple_of(256).min(self.max_size).max(bytes);
        self.buffer = Some(device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(self.label),
            size,
            usage: self.usage,
            mapped_at_creation: false,
        }));
        true
    }

    fn get(&self) -> &wgpu::Buffer {
        self.buffer.as_ref().expect("reserved before use")
    }
}

/// Byte ranges of the read-back buffer: positions, velocities, per-world
/// contact counts, contact slots; each starts at a multiple of
/// `wgpu::MAP_ALIGNMENT` so it can be viewed on its own.
#[derive(Clone, Debug)]
pub struct ReadbackLayout {
    pub positions: Range<u64>,
    pub velocities: Range<u64>,
    pub contact_counts: Range<u64>,
    pub contacts: Range<u64>,
}

impl ReadbackLayout {
    pub fn new(shape: &BatchShape) -> Self {
        let after = |previous: &Range<u64>, bytes: u64| {
            let start = previous.end.next_multiple_of(wgpu::MAP_ALIGNMENT);
            start..start + bytes
        };
        let positions = 0..shape.body_total as u64 * VEC2_BYTES;
        let velocities = after(&positions, shape.body_total as u64 * VEC2_BYTES);
        let contact_counts = after(&velocities, shape.world_total as u64 * COUNT_BYTES);
        let contacts = after(&contact_counts, shape.contact_total as u64 * CONTACT_BYTES);
        ReadbackLayout { positions, velocities, contact_counts, contacts }
    }

    pub fn total(&self) -> u64 {
        self.contacts.end
    }
}

pub struct Buffers {
    globals: GrowingBuffer,
    globals_stride: u64,
    worlds: GrowingBuffer,
    shapes: GrowingBuffer,
    /// Positions and velocities, twice: sub-step `s` reads set `s % 2`.
    positions: [GrowingBuffer; 2],
    velocities: [GrowingBuffer; 2],
    body_cell: GrowingBuffer,
    cell_count: GrowingBuffer,
    cell_start: GrowingBuffer,
    block_sums: GrowingBuffer,
    cell_bodies: GrowingBuffer,
    contacts: GrowingBuffer,
    contact_count: GrowingBuffer,
    readback: GrowingBuffer,
    bind_groups: Vec<wgpu::BindGroup>,
}

impl Buffers {
    pub fn new(device: &wgpu::Device) -> Self {
        use wgpu::BufferUsages as U;
        let storage = U::STORAGE | U::COPY_DST;
        Buffers {
            globals: GrowingBuffer::new(device, "sim globals", U::UNIFORM | U::COPY_DST),
            globals_stride: (size_of::<GpuGlobals>() as u64)
                .next_multiple_of(device.limits().min_uniform_buffer_offset_alignment as u64),
            worlds: GrowingBuffer::new(device, "sim worlds", storage),
            shapes: GrowingBuffer::new(device, "sim shapes", storage),
            positions: [
                GrowingBuffer::new(device, "sim positions a", storage | U::COPY_SRC),
                GrowingBuffer::new(device, "sim positions b", storage | U::COPY_SRC),
            ],
            velocities: [
                GrowingBuffer::new(device, "sim velocities a", storage | U::COPY_SRC),
                GrowingBuffer::new(device, "sim velocities b", storage | U::COPY_SRC),
            ],
            body_cell: GrowingBuffer::new(device, "sim body cells", U::STORAGE),
            cell_count: GrowingBuffer::new(device, "sim cell counts", storage),
            cell_start: GrowingBuffer::new(device, "sim cell starts", U::STORAGE),
            block_sums: GrowingBuffer::new(device, "sim scan blocks", U::STORAGE),
            cell_bodies: GrowingBuffer::new(device, "sim cell bodies", U::STORAGE),
            contacts: GrowingBuffer::new(device, "sim contacts", U::STORAGE | U::COPY_SRC),
            contact_count: GrowingBuffer::new(device, "sim contact counts", storage | U::COPY_SRC),
            readback: GrowingBuffer::new(device, "sim readback", U::MAP_READ | U::COPY_DST),
            bind_groups: Vec::new(),
        }
    }

    /// Largest single storage buffer `shape` needs, to check against the
    /// device limit before allocating.
    pub fn largest_storage_binding(shape: &BatchShape) -> u64 {
        [
            shape.body_total as u64 * size_of::<GpuShape>() as u64,
            shape.body_total as u64 * BODY_CELL_BYTES,
            shape.cell_total as u64 * CELL_BYTES,
            shape.contact_total as u64 * CONTACT_BYTES,
            shape.world_total as u64 * size_of::<GpuWorld>() as u64,
        ]
        .into_iter()
        .max()
        .unwrap_or(0)
    }

    /// Grows whatever is too small for `shape`.
    pub fn reserve(&mut self, device: &wgpu::Device, kernels: &Kernels, shape: &BatchShape) {
        let bodies = shape.body_total as u64;
        let cells = shape.cell_total as u64;
        let mut grew = false;
        grew |= self.globals.reserve(device, shape.max_substeps as u64 * self.globals_stride);
        grew |= self.worlds.reserve(device, shape.world_total as u64 * size_of::<GpuWorld>() as u64);
        grew |= self.shapes.reserve(device, bodies * size_of::<GpuShape>() as u64);
        for state in self.positions.iter_mut().chain(&mut self.velocities) {
            grew |= state.reserve(device, bodies * VEC2_BYTES);
        }
        grew |= self.body_cell.reserve(device, bodies * BODY_CELL_BYTES);
        grew |= self.cell_count.reserve(device, cells * CELL_BYTES);
        grew |= self.cell_start.reserve(device, cells * CELL_BYTES);
        grew |= self.block_sums.reserve(device, shape.scan_block_count() as u64 * CELL_BYTES);
        grew |= self.cell_bodies.reserve(device, bodies * CELL_BYTES);
        grew |= self.contacts.reserve(device, shape.contact_total as u64 * CONTACT_BYTES);
        grew |= self.contact_count.reserve(device, shape.world_total as u64 * COUNT_BYTES);
        self.readback.reserve(device, ReadbackLayout::new(shape).total());
        if grew || self.bind_groups.is_empty() {
            self.bind_groups = (0..2).map(|parity| self.create_bind_group(device, kernels, parity)).collect();
        }
    }

    fn create_bind_group(&self, device: &wgpu::Device, kernels: &Kernels, parity: usize) -> wgpu::BindGroup {
        let globals = wgpu::BindingResource::Buffer(wgpu::BufferBinding {
            buffer: self.globals.get(),
            offset: 0,
            size: wgpu::BufferSize::new(size_of::<GpuGlobals>() as u64),
        });
        let storage = [
            &self.worlds,
            &self.shapes,
            &self.positions[parity],
            &self.velocities[parity],
            &self.positions[1 - parity],
            &self.velocities[1 - parity],
            &self.body_cell,
            &self.cell_count,
            &self.cell_start,
            &self.block_sums,
            &self.cell_bodies,
            &self.contacts,
            &self.contact_count,
        ];
        let entries: Vec<_> =
            std::iter::once(wgpu::BindGroupEntry { binding: 0, resource: globals })
                .chain(storage.iter().zip(1..).map(|(buffer, binding)| wgpu::BindGroupEntry {
                    binding,
                    resource: buffer.get().as_entire_binding(),
                }))
                .collect();
        device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("sim"),
            layout: &kernels.layout,
            entries: &entries,
        })
    }

    /// Uploads the batch inputs (applied before the next submission).
    pub fn upload(&self, queue: &wgpu::Queue, shape: &BatchShape, packed: &PackedBatch) {
        let mut globals = vec![0u8; (shape.max_substeps as u64 * self.globals_stride) as usize];
        for substep in 0..shape.max_substeps {
            let at = (substep as u64 * self.globals_stride) as usize;
            globals[at..at + size_of::<GpuGlobals>()].copy_from_slice(bytemuck::bytes_of(&shape.globals(substep)));
        }
        queue.write_buffer(self.globals.get(), 0, &globals);
        queue.write_buffer(self.worlds.get(), 0, bytemuck::cast_slice(&packed.worlds));
        queue.write_buffer(self.shapes.get(), 0, bytemuck::cast_slice(&packed.shapes));
        queue.write_buffer(self.positions[0].get(), 0, bytemuck::cast_slice(&packed.positions));
        queue.write_buffer(self.velocities[0].get(), 0, bytemuck::cast_slice(&packed.velocities));
    }

    /// Records the copies of the results into the read-back buffer.
    pub fn copy_results(&self, encoder: &mut wgpu::CommandEncoder, shape: &BatchShape, layout: &ReadbackLayout) {
        let readback = self.readback.get();
        let last = (shape.max_substeps % 2) as usize;
        let copies = [
            (self.positions[last].get(), &layout.positions),
            (self.velocities[last].get(), &layout.velocities),
            (self.contact_count.get(), &layout.contact_counts),
            (self.contacts.get(), &layout.contacts),
        ];
        for (source, range) in copies {
            if !range.is_empty() {
                encoder.copy_buffer_to_buffer(source, 0, readback, range.start, range.end - range.start);
            }
        }
    }

    pub fn readback(&self) -> &wgpu::Buffer {
        self.readback.get()
    }

    /// Sub-step `substep` reads state set `substep % 2` and writes the other.
    pub fn bind_group(&self, substep: u32) -> &wgpu::BindGroup {
        &self.bind_groups[(substep % 2) as usize]
    }

    pub fn globals_offset(&self, substep: u32) -> u32 {
        (substep as u64 * self.globals_stride) as u32
    }

    pub fn cell_count(&self) -> &wgpu::Buffer {
        self.cell_count.get()
    }

    pub fn contact_count(&self) -> &wgpu::Buffer {
        self.contact_count.get()
    }
}
