// Sub-step part 3: the Jacobi collision pass and the walls (`cpu::Correction`).
// Every body reads its neighbours from the `_in` state and writes only its
// own `_out` state, so the order threads run in does not matter.

// Keeps one coordinate within [low, high], reflecting the velocity that
// points out (`cpu::bounce_off_walls`). Returns (position, velocity).
fn bounce_off_walls(position: f32, velocity: f32, low: f32, high: f32, restitution: f32) -> vec2<f32> {
    var result = vec2<f32>(position, velocity);
    if (result.x < low) {
        result.x = low;
        if (result.y < 0.0) {
            result.y = -result.y * restitution;
        }
    }
    if (result.x > high) {
        result.x = high;
        if (result.y > 0.0) {
            result.y = -result.y * restitution;
        }
    }
    return result;
}

fn write_state(index: u32, position: vec2<f32>, velocity: vec2<f32>) {
    positions_out[index] = position;
    velocities_out[index] = velocity;
}

fn record_contact(world_index: u32, world: World, first: u32, second: u32) {
    let slot = atomicAdd(&contact_count[world_index], 1u);
    if (slot < world.contact_capacity) {
        contacts[world.contact_offset + slot] = vec2<u32>(first - world.body_offset, second - world.body_offset);
    }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn collide(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let index = thread_index(id, groups);
    if (index >= globals.body_total) {
        return;
    }
    let shape = shapes[index];
    let world_index = world_of(shape);
    let world = worlds[world_index];
    let position = positions_in[index];
    let velocity = velocities_in[index];
    if (!runs_this_substep(world)) {
        write_state(index, position, velocity);
        return;
    }
    var position_correction = vec2<f32>(0.0);
    var velocity_correction = vec2<f32>(0.0);
    let coords = cell_coords(world, position);
    let first_row = select(coords.y - 1u, 0u, coords.y == 0u);
    let first_column = select(coords.x - 1u, 0u, coords.x == 0u);
    let last_row = min(coords.y + 1u, world.grid_rows - 1u);
    let last_column = min(coords.x + 1u, world.grid_cols - 1u);
    for (var row = first_row; row <= last_row; row = row + 1u) {
        for (var column = first_column; column <= last_column; column = column + 1u) {
            let cell = world.cell_offset + row * world.grid_cols + column;
            let begin = cell_begin(cell);
            let end = begin + atomicLoad(&cell_count[cell]);
            for (var slot = begin; slot < end; slot = slot + 1u) {
                let other_index = cell_bodies[slot];
                if (other_index == index) {
                    continue;
                }
                let other_shape = shapes[other_index];
                let delta = position - positions_in[other_index];
                let distance_squared = delta.x * delta.x + delta.y * delta.y;
                let reach = shape.radius + other_shape.radius;
                let inverse_mass_sum = shape.inverse_mass + other_shape.inverse_mass;
                if (distance_squared >= reach * reach || inverse_mass_sum == 0.0) {
                    continue;
                }
                if (index < other_index) {
                    record_contact(world_index, world, index, other_index);
                }
                if (is_sensor(shape) || is_sensor(other_shape) || shape.inverse_mass == 0.0) {
                    continue;
                }
                let distance = sqrt(distance_squared);
                var normal = vec2<f32>(select(1.0, -1.0, index < other_index), 0.0);
                if (distance > 0.0) {
                    normal = delta / distance;
                }
                let share = shape.inverse_mass / inverse_mass_sum;
                let push = (reach - distance) * POSITION_CORRECTION * share;
                position_correction = position_correction + normal * push;
                let relative = velocity - velocities_in[other_index];
                let approach = relative.x * normal.x + relative.y * normal.y;
                if (approach < 0.0) {
                    let bounce = (1.0 + world.restitution) * approach * share;
                    velocity_correction = velocity_correction - normal * bounce;
                }
            }
        }
    }
    if (shape.inverse_mass == 0.0) {
        write_state(index, position, velocity);
        return;
    }
    let corrected_position = position + position_correction;
    let corrected_velocity = velocity + velocity_correction;
    let low = world.bounds_min + vec2<f32>(shape.radius);
    let high = world.bounds_max - vec2<f32>(shape.radius);
    let x = bounce_off_walls(corrected_position.x, corrected_velocity.x, low.x, high.x, world.restitution);
    let y = bounce_off_walls(corrected_position.y, corrected_velocity.y, low.y, high.y, world.restitution);
    write_state(index, vec2<f32>(x.x, y.x), vec2<f32>(x.y, y.y));
}
