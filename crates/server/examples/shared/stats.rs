//! Statistics shared by the measurement tools (`#[path]`-included by each
//! example that needs them).

/// The `p`-quantile (0..=1) of ascending `sorted`, nearest rank; NaN when empty.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}
