// Sub-step part 1: semi-implicit Euler for dynamic bodies (`cpu::integrate`),
// then count each body into its grid cell, remembering its rank there.

@compute @workgroup_size(WORKGROUP_SIZE)
fn integrate(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let index = thread_index(id, groups);
    if (index >= globals.body_total) {
        return;
    }
    let shape = shapes[index];
    let world = worlds[world_of(shape)];
    if (!runs_this_substep(world)) {
        return;
    }
    var position = positions_in[index];
    if (shape.inverse_mass > 0.0) {
        let h = world.substep_dt;
        let velocity = velocities_in[index] + world.gravity * h;
        position = position + velocity * h;
        positions_in[index] = position;
        velocities_in[index] = velocity;
    }
    let coords = cell_coords(world, position);
    let cell = world.cell_offset + coords.y * world.grid_cols + coords.x;
    let rank = atomicAdd(&cell_count[cell], 1u);
    body_cell[index] = vec2<u32>(cell, rank);
}
