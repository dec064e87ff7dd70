//! What one step of one world needs, derived once on the host so both
//! backends integrate, bin and resolve with the same numbers: the sub-step
//! length and the broad-phase grid. The GPU backend copies these fields into
//! its shader-side struct; the CPU backend uses them directly.

use super::world::{Aabb, Vec2, World};

/// Share of a pair's overlap removed per sub-step (each body moves by its
/// inverse-mass share of it). Below 1 so that a body pushed by several
/// neighbours at once (Jacobi) does not overshoot.
pub const POSITION_CORRECTION: f32 = 0.8;

/// The grid never has more cells than this many per body (plus a few), so a
/// world with tiny bodies in huge bounds gets bigger cells instead of a huge grid.
pub const MAX_CELLS_PER_BODY: u32 = 2;
const MIN_CELLS: u32 = 16;

/// Uniform grid over a world's bounds. Cells are at least as wide as the
/// largest body's diameter, so two touching bodies are always in the same or
/// adjacent cells (3×3 neighbourhood).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GridLayout {
    pub origin: Vec2,
    pub cell_size: f32,
    pub inverse_cell_size: f32,
    pub cols: u32,
    pub rows: u32,
}

impl GridLayout {
    pub fn new(bounds: &Aabb, max_radius: f32, body_count: usize) -> Self {
        let (width, height) = (bounds.width(), bounds.height());
        let max_cells = (body_count as u64 * MAX_CELLS_PER_BODY as u64 + MIN_CELLS as u64).min(u32::MAX as u64 / 2);
        let smallest_cell = (2.0 * max_radius).max(width.max(height) / 65_536.0);
        let fitting_cell = ((width as f64 * height as f64) / max_cells as f64).sqrt() as f32;
        let mut cell_size = smallest_cell.max(fitting_cell);
        let count = |cell: f32| ((width / cell).ceil().max(1.0) as u64, (height / cell).ceil().max(1.0) as u64);
        // Rounding up each axis can exceed the cap slightly; widen until it fits.
        while count(cell_size).0 * count(cell_size).1 > max_cells {
            cell_size *= 1.0625;
        }
        let (cols, rows) = count(cell_size);
        GridLayout {
            origin: bounds.min,
            cell_size,
            inverse_cell_size: 1.0 / cell_size,
            cols: cols as u32,
            rows: rows as u32,
        }
    }

    pub fn cell_count(&self) -> u32 {
        self.cols * self.rows
    }

    /// Column and row of a position; positions outside the bounds land in the
    /// border cells (clamping keeps touching bodies in adjacent cells).
    /// The shader's `cell_coords` computes exactly this.
    pub fn cell_coords(&self, position: Vec2) -> (u32, u32) {
        let column = ((position.x - self.origin.x) * self.inverse_cell_size).floor();
        let row = ((position.y - self.origin.y) * self.inverse_cell_size).floor();
        (column.clamp(0.0, (self.cols - 1) as f32) as u32, row.clamp(0.0, (self.rows - 1) as f32) as u32)
    }

    pub fn cell_index(&self, position: Vec2) -> u32 {
        let (column, row) = self.cell_coords(position);
        row * self.cols + column
    }
}

/// Everything a backend needs to step one world by `dt`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepParams {
    pub substeps: u32,
    /// `dt / substeps`.
    pub substep_dt: f32,
    pub gravity: Vec2,
    pub bounds: Aabb,
    pub restitution: f32,
    pub max_contacts: u32,
    pub grid: GridLayout,
}

impl StepParams {
    pub fn new(world: &World, dt: f32) -> Self {
        let config = world.config();
        StepParams {
            substeps: config.substeps,
            substep_dt: dt / config.substeps as f32,
            gravity: config.gravity,
            bounds: config.bounds,
            restitution: config.restitution,
            max_contacts: config.max_contacts,
            grid: GridLayout::new(&config.bounds, world.max_radius(), world.bodies().len()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bounds(width: f32, height: f32) -> Aabb {
        Aabb::new(Vec2::new(-1.0, -2.0), Vec2::new(width - 1.0, height - 2.0))
    }

    #[test]
    fn cells_are_at_least_one_diameter_wide() {
        let grid = GridLayout::new(&bounds(100.0, 50.0), 0.5, 10_000);
        assert_eq!(grid.cell_size, 1.0);
        assert_eq!((grid.cols, grid.rows), (100, 50));
    }

    #[test]
    fn cell_count_is_capped_by_body_count() {
        for (width, height, bodies) in [(10_000.0, 10.0, 3), (1e6, 1e6, 1000), (7.0, 3_000.0, 50)] {
            let grid = GridLayout::new(&bounds(width, height), 0.01, bodies);
            assert!(grid.cell_count() <= bodies as u32 * MAX_CELLS_PER_BODY + MIN_CELLS, "{grid:?}");
            assert!(grid.cols as f32 * grid.cell_size >= width && grid.rows as f32 * grid.cell_size >= height);
        }
    }

    #[test]
    fn outside_positions_clamp_to_border_cells() {
        let grid = GridLayout::new(&bounds(10.0, 10.0), 0.5, 100);
        assert_eq!(grid.cell_coords(Vec2::new(-50.0, 3.5)), (0, 5));
        assert_eq!(grid.cell_coords(Vec2::new(50.0, 1e9)), (9, 9));
        assert_eq!(grid.cell_index(Vec2::new(0.5, -1.5)), 1);
        assert_eq!(grid.cell_index(Vec2::new(0.5, 0.5)), 2 * 10 + 1);
    }
}
