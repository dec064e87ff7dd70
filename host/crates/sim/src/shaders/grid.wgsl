// Sub-step part 2: counting sort of bodies into grid cells, over all worlds
// of the batch at once (their cells are consecutive ranges).
//   scan_blocks      exclusive prefix sum of cell counts inside blocks of SCAN_BLOCK cells
//   scan_block_sums  exclusive prefix sum of the block totals (one workgroup)
//   scatter          each body into its slot: cell_begin(cell) + rank
//   sort_cells       each cell's bodies by index (atomics ranked them in any
//                    order), so neighbour sums run in the CPU backend's order

var<workgroup> partial: array<u32, WORKGROUP_SIZE>;

// Inclusive prefix sum of `partial` across the workgroup (Hillis-Steele).
fn scan_partial(lane: u32) {
    for (var offset = 1u; offset < WORKGROUP_SIZE; offset = offset * 2u) {
        var addend = 0u;
        if (lane >= offset) {
            addend = partial[lane - offset];
        }
        workgroupBarrier();
        partial[lane] = partial[lane] + addend;
        workgroupBarrier();
    }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn scan_blocks(
    @builtin(local_invocation_index) lane: u32,
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    let block = group.x + group.y * groups.x;
    if (block >= globals.scan_block_count) {
        return;
    }
    let first = block * SCAN_BLOCK + lane * SCAN_ITEMS;
    var total = 0u;
    for (var item = 0u; item < SCAN_ITEMS; item = item + 1u) {
        if (first + item < globals.cell_total) {
            total = total + atomicLoad(&cell_count[first + item]);
        }
    }
    partial[lane] = total;
    workgroupBarrier();
    scan_partial(lane);
    var running = partial[lane] - total;
    for (var item = 0u; item < SCAN_ITEMS; item = item + 1u) {
        let cell = first + item;
        if (cell < globals.cell_total) {
            cell_start[cell] = running;
            running = running + atomicLoad(&cell_count[cell]);
        }
    }
    if (lane == WORKGROUP_SIZE - 1u) {
        block_sums[block] = partial[lane];
    }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn scan_block_sums(@builtin(local_invocation_index) lane: u32) {
    var carry = 0u;
    for (var base = 0u; base < globals.scan_block_count; base = base + WORKGROUP_SIZE) {
        let block = base + lane;
        var total = 0u;
        if (block < globals.scan_block_count) {
            total = block_sums[block];
        }
        partial[lane] = total;
        workgroupBarrier();
        scan_partial(lane);
        if (block < globals.scan_block_count) {
            block_sums[block] = carry + partial[lane] - total;
        }
        carry = carry + partial[WORKGROUP_SIZE - 1u];
        workgroupBarrier();
    }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn scatter(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let index = thread_index(id, groups);
    if (index >= globals.body_total || !runs_this_substep(worlds[world_of(shapes[index])])) {
        return;
    }
    let slot = body_cell[index];
    cell_bodies[cell_begin(slot.x) + slot.y] = index;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn sort_cells(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let cell = thread_index(id, groups);
    if (cell >= globals.cell_total) {
        return;
    }
    let begin = cell_begin(cell);
    let end = begin + atomicLoad(&cell_count[cell]);
    for (var next = begin + 1u; next < end; next = next + 1u) {
        let body = cell_bodies[next];
        var slot = next;
        while (slot > begin && cell_bodies[slot - 1u] > body) {
            cell_bodies[slot] = cell_bodies[slot - 1u];
            slot = slot - 1u;
        }
        cell_bodies[slot] = body;
    }
}
