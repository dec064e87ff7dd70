// Declarations shared by every simulation kernel: the packed batch layout
// (mirrors `sim/gpu/pack.rs`), the bindings (mirror `sim/gpu/kernels.rs`)
// and small helpers. The host prepends the constants WORKGROUP_SIZE,
// SCAN_ITEMS, SCAN_BLOCK and POSITION_CORRECTION.

// One world of the batch: its settings and where its data sits in the
// shared buffers (the per-world offset table).
struct World {
    bounds_min: vec2<f32>,
    bounds_max: vec2<f32>,
    gravity: vec2<f32>,
    grid_origin: vec2<f32>,
    inverse_cell_size: f32,
    grid_cols: u32,
    grid_rows: u32,
    cell_offset: u32,
    body_offset: u32,
    body_count: u32,
    substeps: u32,
    substep_dt: f32,
    restitution: f32,
    contact_offset: u32,
    contact_capacity: u32,
    _pad: u32,
}

// Per-body constants during a step. `world_and_sensor` is the world index
// shifted left by one, with bit 0 set for sensors (12 bytes per body keeps
// 10 million bodies within a 128 MiB storage binding).
struct Shape {
    radius: f32,
    inverse_mass: f32,
    world_and_sensor: u32,
}

// Per-sub-step values (dynamic uniform offset).
struct Globals {
    substep: u32,
    body_total: u32,
    cell_total: u32,
    scan_block_count: u32,
}

@group(0) @binding(0) var<uniform> globals: Globals;
@group(0) @binding(1) var<storage, read> worlds: array<World>;
@group(0) @binding(2) var<storage, read> shapes: array<Shape>;
// A sub-step integrates the `_in` state in place, then the collision pass
// reads it and writes the `_out` state; the host swaps the two between
// sub-steps.
@group(0) @binding(3) var<storage, read_write> positions_in: array<vec2<f32>>;
@group(0) @binding(4) var<storage, read_write> velocities_in: array<vec2<f32>>;
@group(0) @binding(5) var<storage, read_write> positions_out: array<vec2<f32>>;
@group(0) @binding(6) var<storage, read_write> velocities_out: array<vec2<f32>>;
// Per body: (global cell index, rank within the cell at counting time).
@group(0) @binding(7) var<storage, read_write> body_cell: array<vec2<u32>>;
@group(0) @binding(8) var<storage, read_write> cell_count: array<atomic<u32>>;
// Exclusive prefix sum of `cell_count` within each scan block ...
@group(0) @binding(9) var<storage, read_write> cell_start: array<u32>;
// ... plus the exclusive prefix sum of the scan blocks' totals.
@group(0) @binding(10) var<storage, read_write> block_sums: array<u32>;
// Body indices grouped by cell, ascending within a cell.
@group(0) @binding(11) var<storage, read_write> cell_bodies: array<u32>;
// (first, second) body indices local to the world, first < second.
@group(0) @binding(12) var<storage, read_write> contacts: array<vec2<u32>>;
@group(0) @binding(13) var<storage, read_write> contact_count: array<atomic<u32>>;

// Index of this invocation in a dispatch that may be split over x and y
// (more than 65535 workgroups).
fn thread_index(id: vec3<u32>, groups: vec3<u32>) -> u32 {
    return id.x + id.y * groups.x * WORKGROUP_SIZE;
}

// Column and row of a position, clamped to the grid (`GridLayout::cell_coords`).
fn cell_coords(world: World, position: vec2<f32>) -> vec2<u32> {
    let cell = floor((position - world.grid_origin) * world.inverse_cell_size);
    let last = vec2<f32>(f32(world.grid_cols - 1u), f32(world.grid_rows - 1u));
    return vec2<u32>(clamp(cell, vec2<f32>(0.0), last));
}

// First slot of a cell in `cell_bodies`.
fn cell_begin(cell: u32) -> u32 {
    return cell_start[cell] + block_sums[cell / SCAN_BLOCK];
}

fn world_of(shape: Shape) -> u32 {
    return shape.world_and_sensor >> 1u;
}

fn is_sensor(shape: Shape) -> bool {
    return (shape.world_and_sensor & 1u) != 0u;
}

// Whether a body's world still runs this sub-step (worlds in one batch may
// have different sub-step counts).
fn runs_this_substep(world: World) -> bool {
    return globals.substep < world.substeps;
}
