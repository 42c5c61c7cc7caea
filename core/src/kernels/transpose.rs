//! Row-major (`NCHW`) planes to a channels-last (`NHWC`) map: the network's input image, which
//! arrives in PyTorch's layout, before the stem. Split over the thread pool by pixel rows.

use std::mem::MaybeUninit;

use super::parallel;

/// `planes: [batch, channels, height, width]` → `[batch, height, width, channels]`.
pub fn nchw_to_nhwc(planes: &[f32], [batch, channels, height, width]: [usize; 4]) -> Vec<f32> {
    assert_eq!(planes.len(), batch * channels * height * width, "transpose: input size");
    let write_row = |row: usize, out: &mut [MaybeUninit<f32>]| {
        let (image, y) = (row / height, row % height);
        let image = &planes[image * channels * height * width..][..channels * height * width];
        for (x, pixel) in out.chunks_exact_mut(channels).enumerate() {
            for (channel, value) in pixel.iter_mut().enumerate() {
                value.write(image[(channel * height + y) * width + x]);
            }
        }
    };
    // SAFETY: each row task writes every channel of every pixel of its row.
    unsafe { parallel::vec_by_chunks(planes.len(), (width * channels).max(1), write_row) }
}
