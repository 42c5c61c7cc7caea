//! The spatial mean of a channels-last map: timm's `forward_head` pooling
//! (`x.mean((2, 3))`) before the folded classifier ([`crate::model::head`]). Each image's
//! mean is summed pixel by pixel in map order, vectorised along its contiguous channels, so
//! it never depends on the other images of the batch (burn-flex's own mean and `gemm`'s
//! small-matrix paths did on aarch64, by the last bits of a logit). The sums are `f32` in
//! either precision (for `f16`, 49 values of up to a few hundred: `f16` sums would keep three
//! significant digits).

use super::lanes::{Element, Lanes, WithLanes, from_f32_vec};

/// `x: [batch, pixels, channels]`; returns the mean over pixels, `[batch, channels]`.
pub fn spatial_mean<E: Element>(x: &[E], batch: usize, channels: usize) -> Vec<E> {
    assert!(batch * channels > 0 && x.len().is_multiple_of(batch * channels), "spatial mean: input size");
    let pixels = x.len() / (batch * channels);
    let mut means = vec![0f32; batch * channels];
    E::dispatch(Sums { x, sums: &mut means, pixels, channels });
    from_f32_vec(means)
}

/// Each image's pixels added into its `f32` sums a vector of channels at a time (`f16` widened
/// in registers: a call into `half` per value took 0.11 M of S0's 0.23 M head instructions
/// in `f16` under `qemu-aarch64`), then divided.
struct Sums<'a, E> {
    x: &'a [E],
    sums: &'a mut [f32],
    pixels: usize,
    channels: usize,
}

impl<E: Element> WithLanes<E> for Sums<'_, E> {
    type Output = ();

    #[inline(always)]
    fn with_lanes<L: Lanes<Value = E>>(self, lanes: L) {
        let Sums { x, sums, pixels, channels } = self;
        let whole = channels / L::LANES * L::LANES;
        for (image, sums) in x.chunks_exact(pixels * channels).zip(sums.chunks_exact_mut(channels)) {
            for pixel in image.chunks_exact(channels) {
                for c in (0..whole).step_by(L::LANES) {
                    // SAFETY: `c + LANES <= whole <= channels`, the length of both.
                    unsafe { lanes.add_to_wide(sums.as_mut_ptr().add(c), lanes.load(pixel.as_ptr().add(c))) };
                }
                sums[whole..].iter_mut().zip(&pixel[whole..]).for_each(|(s, &v)| *s += v.to_f32());
            }
            sums.iter_mut().for_each(|s| *s /= pixels as f32);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::test_values as values;

    /// Channel counts off every vector width, one pixel, a batch of three: against an `f64`
    /// mean, and each image alone gives the bits it gives in the batch.
    #[test]
    fn mean_matches_reference_and_ignores_the_batch() {
        for (pixels, channels) in [(49, 176), (1, 7), (9, 33), (196, 5)] {
            let batch = 3;
            let x = values(batch * pixels * channels, 5);
            let means = spatial_mean(&x, batch, channels);
            for (image, got) in means.chunks_exact(channels).enumerate() {
                let alone = spatial_mean(&x[image * pixels * channels..][..pixels * channels], 1, channels);
                assert_eq!(got, alone.as_slice(), "{pixels} pixels, {channels} channels: image {image}");
                for (c, &g) in got.iter().enumerate() {
                    let want = (0..pixels).map(|p| f64::from(x[(image * pixels + p) * channels + c])).sum::<f64>() / pixels as f64;
                    assert!((f64::from(g) - want).abs() < 1e-6, "{pixels} pixels, {channels} channels ({image}, {c}): {g} vs {want}");
                }
            }
        }
    }
}
