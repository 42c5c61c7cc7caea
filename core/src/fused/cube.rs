//! [`FusedOps`] on burn-wgpu (CubeCL): the kernels of [`crate::cube_kernels`] for the shapes
//! they cover (every layer of the network), the composed ops for anything else.

use burn::backend::{Cube, TensorMetadata};
use burn::tensor::Shape;
use burn_cubecl::tensor::CubeTensor;

use super::{FusedOps, composed, local_value};
use crate::cube_kernels::attention::{self, HeadMixing};
use crate::cube_kernels::pointwise::{self, Epilogue};
use crate::cube_kernels::{all_f32, direct, gelu, mlp_expand, pool, shared_float_type, upsample};

/// Which kernel runs a convolution, if any.
enum ConvKernel {
    Pointwise,
    Direct,
}

fn conv_kernel(x: &CubeTensor, weight: &CubeTensor, bias: &CubeTensor, stride: usize, groups: usize) -> Option<ConvKernel> {
    let (x_shape, w_shape) = (x.shape(), weight.shape());
    if x_shape.num_dims() != 4 || w_shape.num_dims() != 4 {
        return None;
    }
    let (channels, out_channels, in_per_group, kernel) = (x_shape[1], w_shape[0], w_shape[1], w_shape[2]);
    if kernel != w_shape[3] || bias.shape().num_elements() != out_channels {
        return None;
    }
    match (kernel, stride, groups) {
        (1, 1, 1) if in_per_group == channels => Some(ConvKernel::Pointwise),
        (_, 1 | 2, g) if kernel % 2 == 1 && g > 0 && channels == in_per_group * g && out_channels % g == 0 => {
            Some(ConvKernel::Direct)
        }
        _ => None,
    }
}

impl FusedOps for Cube {
    fn conv_bias_act(x: CubeTensor, weight: CubeTensor, bias: CubeTensor, stride: usize, groups: usize, gelu: bool) -> CubeTensor {
        let dtype = shared_float_type(&[&x, &weight, &bias]);
        match (conv_kernel(&x, &weight, &bias, stride, groups), dtype) {
            (Some(ConvKernel::Pointwise), Some(dtype)) => {
                pointwise::launch(x, weight, bias, if gelu { Epilogue::Gelu } else { Epilogue::None }, dtype)
            }
            (Some(ConvKernel::Direct), Some(dtype)) => direct::launch(x, weight, bias, stride, groups, gelu, dtype),
            _ => {
                let y = composed::conv_bias_act::<Self>(x, weight, bias, stride, groups, false);
                if gelu { Self::gelu_exact(y) } else { y }
            }
        }
    }

    fn query_key_value(
        x: CubeTensor,
        q_weight: CubeTensor,
        q_bias: CubeTensor,
        k_weight: CubeTensor,
        k_bias: CubeTensor,
        v_weight: CubeTensor,
        v_bias: CubeTensor,
    ) -> (CubeTensor, CubeTensor, CubeTensor) {
        let convs = [(q_weight, q_bias), (k_weight, k_bias), (v_weight, v_bias)];
        let pointwise = convs.iter().all(|(weight, bias)| matches!(conv_kernel(&x, weight, bias, 1, 1), Some(ConvKernel::Pointwise)));
        let operands = [&x, &convs[0].0, &convs[0].1, &convs[1].0, &convs[1].1, &convs[2].0, &convs[2].1];
        match shared_float_type(&operands) {
            Some(dtype) if pointwise => {
                let [q, k, v] = pointwise::launch_many(x, convs, Epilogue::None, dtype);
                (q, k, v)
            }
            _ => {
                let [q, k, v] = convs.map(|(weight, bias)| Self::conv_bias_act(x.clone(), weight, bias, 1, 1, false));
                (q, k, v)
            }
        }
    }

    fn conv_bias_add(
        x: CubeTensor,
        weight: CubeTensor,
        bias: CubeTensor,
        residual: CubeTensor,
        stride: usize,
        groups: usize,
    ) -> CubeTensor {
        let dtype = shared_float_type(&[&x, &weight, &bias, &residual]);
        let pointwise = matches!(conv_kernel(&x, &weight, &bias, stride, groups), Some(ConvKernel::Pointwise))
            && residual.shape() == Shape::new([x.shape()[0], weight.shape()[0], x.shape()[2], x.shape()[3]]);
        match dtype {
            Some(dtype) if pointwise => pointwise::launch(x, weight, bias, Epilogue::Residual(residual), dtype),
            _ => {
                let y = Self::conv_bias_act(x, weight, bias, stride, groups, false);
                <Self as burn::backend::ops::FloatTensorOps<Self>>::float_add(residual, y)
            }
        }
    }

    fn conv_mlp_residual(
        x: CubeTensor,
        fc1_weight: CubeTensor,
        fc1_bias: CubeTensor,
        mid_weight: CubeTensor,
        mid_bias: CubeTensor,
        fc2_weight: CubeTensor,
        fc2_bias: CubeTensor,
    ) -> CubeTensor {
        let operands = [&x, &fc1_weight, &fc1_bias, &mid_weight, &mid_bias, &fc2_weight, &fc2_bias];
        match shared_float_type(&operands) {
            Some(dtype) if mlp_shapes(&x, [&fc1_weight, &fc1_bias], [&mid_weight, &mid_bias], [&fc2_weight, &fc2_bias]) => {
                let mid = mlp_expand::launch(x.clone(), [fc1_weight, fc1_bias], [mid_weight, mid_bias], dtype);
                pointwise::launch(mid, fc2_weight, fc2_bias, Epilogue::Residual(x), dtype)
            }
            _ => composed::conv_mlp_residual::<Self>(x, [fc1_weight, fc1_bias], [mid_weight, mid_bias], [fc2_weight, fc2_bias]),
        }
    }

    fn bilinear_upsample(x: CubeTensor, matrix_t: CubeTensor, gelu: bool) -> CubeTensor {
        let square = x.shape().num_dims() == 4 && x.shape()[2] == x.shape()[3] && matrix_t.shape().num_dims() == 2;
        match shared_float_type(&[&x]) {
            Some(dtype) if square && matrix_t.shape()[0] == x.shape()[2] && all_f32(&[&matrix_t]) => upsample::launch(x, matrix_t, gelu, dtype),
            _ => composed::bilinear_upsample::<Self>(x, matrix_t, gelu),
        }
    }

    fn spatial_mean(x: CubeTensor) -> CubeTensor {
        match shared_float_type(&[&x]) {
            Some(dtype) if x.shape().num_dims() == 4 => pool::launch(x, dtype),
            _ => composed::spatial_mean::<Self>(x),
        }
    }

    fn gelu_exact(x: CubeTensor) -> CubeTensor {
        match shared_float_type(&[&x]) {
            Some(dtype) => gelu::launch(x, dtype),
            None => <Self as burn::backend::ops::ActivationOps<Self>>::gelu(x),
        }
    }

    fn talking_head_attention(
        q: CubeTensor,
        k: CubeTensor,
        v: CubeTensor,
        local_weight: CubeTensor,
        local_bias: CubeTensor,
        talking_head1: CubeTensor,
        bias: CubeTensor,
        talking_head2: CubeTensor,
        talking_head2_bias: CubeTensor,
        heads: usize,
        gelu: bool,
    ) -> CubeTensor {
        let weights = [&talking_head1, &bias, &talking_head2, &talking_head2_bias];
        match shared_float_type(&[&q, &k, &v, &local_weight, &local_bias]) {
            Some(dtype) if attention_fits(&q, &k, &v, [&local_weight, &local_bias], heads) && all_f32(&weights) => {
                let mixing = HeadMixing { mix1: talking_head1, mix2: talking_head2, mix2_bias: talking_head2_bias };
                attention::launch([q, k, v], [local_weight, local_bias], bias, Some(mixing), heads, gelu, dtype)
            }
            _ => {
                let local = local_value::<Self>(&q, v.clone(), local_weight, local_bias);
                composed::talking_head_attention::<Self>(q, k, v, local, talking_head1, bias, talking_head2, talking_head2_bias, heads, gelu)
            }
        }
    }

    fn biased_attention(
        q: CubeTensor,
        k: CubeTensor,
        v: CubeTensor,
        local_weight: CubeTensor,
        local_bias: CubeTensor,
        bias: CubeTensor,
        heads: usize,
        gelu: bool,
    ) -> CubeTensor {
        match shared_float_type(&[&q, &k, &v, &local_weight, &local_bias]) {
            Some(dtype) if attention_fits(&q, &k, &v, [&local_weight, &local_bias], heads) && all_f32(&[&bias]) => {
                attention::launch([q, k, v], [local_weight, local_bias], bias, None, heads, gelu, dtype)
            }
            _ => {
                let local = local_value::<Self>(&q, v.clone(), local_weight, local_bias);
                composed::biased_attention::<Self>(q, k, v, local, bias, heads, gelu)
            }
        }
    }
}

/// Whether the FFN kernels take these shapes: `x: [B, C, H, W]`, `fc1: [hidden, C, 1, 1]`,
/// `mid: [hidden, 1, 3, 3]` (depthwise), `fc2: [C, hidden, 1, 1]`, biases to match.
fn mlp_shapes(x: &CubeTensor, [fc1, fc1_bias]: [&CubeTensor; 2], [mid, mid_bias]: [&CubeTensor; 2], [fc2, fc2_bias]: [&CubeTensor; 2]) -> bool {
    let (x, fc1, mid, fc2) = (x.shape(), fc1.shape(), mid.shape(), fc2.shape());
    if [x.num_dims(), fc1.num_dims(), mid.num_dims(), fc2.num_dims()] != [4; 4] {
        return false;
    }
    let (channels, hidden) = (x[1], fc1[0]);
    fc1.dims::<4>() == [hidden, channels, 1, 1]
        && mid.dims::<4>() == [hidden, 1, 3, 3]
        && fc2.dims::<4>() == [channels, hidden, 1, 1]
        && [fc1_bias, mid_bias, fc2_bias].map(|b| b.shape().num_elements()) == [hidden, hidden, channels]
}

/// Whether the attention kernel takes these operands: square maps, `k` and `v` on one, `q` on
/// the same or on the one `v_local`'s stride 2 makes of it, `local` a depthwise 3x3 over `v`'s
/// channels, and a row of scores that fits a cube.
fn attention_fits(q: &CubeTensor, k: &CubeTensor, v: &CubeTensor, [local_weight, local_bias]: [&CubeTensor; 2], heads: usize) -> bool {
    let shapes = [q.shape(), k.shape(), v.shape()];
    if shapes.iter().any(|s| s.num_dims() != 4 || s[2] != s[3]) || local_weight.shape().num_dims() != 4 {
        return false;
    }
    let [q, k, v] = shapes;
    let (query_side, key_side, values) = (q[2], k[2], v[1]);
    heads > 0
        && q[1] == k[1]
        && q[1] % heads == 0
        && values % heads == 0
        && v[2] == key_side
        && (query_side == key_side || query_side == key_side.div_ceil(2))
        && local_weight.shape().dims::<4>() == [values, 1, 3, 3]
        && local_bias.shape().num_elements() == values
        && attention::fits(heads, key_side * key_side)
}

#[cfg(test)]
mod tests {
    //! Each kernel against the same op composed from burn-wgpu's own ops, on the GPU device
    //! the parity test uses (`EFFICIENTFORMER_GPU_BACKEND`, wgpu's OpenGL ES on llvmpipe in CI),
    //! on shapes awkward for it: channel counts off any vector width, 1x1 and 7x7 maps, batch 2,
    //! odd sizes under stride 2, and inputs that are views (not row-major).

    use burn::backend::Dispatch;
    use burn::tensor::{Device, FloatDType, Tensor, TensorData};

    use super::*;
    use crate::backend::Backend;
    use crate::fused;
    use crate::weights::seeded::uniform;

    fn device() -> Device {
        let name = std::env::var("EFFICIENTFORMER_GPU_BACKEND").unwrap_or_else(|_| "wgpu-gl".into());
        Backend::from_name(&name).filter(|b| b.is_gpu()).expect("a GPU backend").device().unwrap()
    }

    fn tensor<const D: usize>(key: &str, shape: [usize; D], device: &Device) -> Tensor<D> {
        let values = uniform(key, shape.iter().product(), 13, (-1.0, 1.0));
        Tensor::from_data(TensorData::new(values, shape), device)
    }

    /// The same values through a transposed view (strides not row-major).
    fn as_view(x: Tensor<4>) -> Tensor<4> {
        let [b, c, h, w] = x.dims();
        let device = x.device();
        let values = x.into_data().to_vec::<f32>().unwrap();
        let transposed: Vec<f32> = (0..b * c)
            .flat_map(|plane| (0..w).flat_map(move |col| (0..h).map(move |row| (plane, row, col))))
            .map(|(plane, row, col)| values[(plane * h + row) * w + col])
            .collect();
        Tensor::<4>::from_data(TensorData::new(transposed, [b, c, w, h]), &device).swap_dims(2, 3)
    }

    fn assert_close<const D: usize>(got: Tensor<D>, want: Tensor<D>, what: &str) {
        assert_eq!(got.shape(), want.shape(), "{what}: shape");
        let got = got.into_data().to_vec::<f32>().unwrap();
        let want = want.into_data().to_vec::<f32>().unwrap();
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert!((g - w).abs() <= 1e-5 * w.abs().max(1.0), "{what}: element {i}: {g} vs {w}");
        }
    }

    fn composed_conv(x: &Tensor<4>, weight: &Tensor<4>, bias: &Tensor<1>, stride: usize, groups: usize, gelu: bool) -> Tensor<4> {
        let y = composed::conv_bias_act::<Dispatch>(
            x.clone().into_dispatch(),
            weight.clone().into_dispatch(),
            bias.clone().into_dispatch(),
            stride,
            groups,
            false,
        );
        let y = Tensor::from_dispatch(y);
        if gelu { burn::tensor::activation::gelu(y) } else { y }
    }

    #[test]
    fn conv_bias_act_and_add_match_composed_ops() {
        let device = device();
        // (batch, in, out, side, kernel, stride, groups): pointwise (input channels summed by
        // 1, 4 and 16 threads, the last slice shorter), depthwise (stride 1 and 2, 1x1 map),
        // dense (stride 2, odd and even sides), grouped, and a 5x5.
        let cases = [
            (2, 13, 21, 7, 1, 1, 1),
            (1, 5, 3, 1, 1, 1, 1),
            (2, 70, 6, 3, 1, 1, 1),
            (1, 300, 5, 2, 1, 1, 1),
            (1, 19, 19, 7, 3, 1, 19),
            (2, 11, 11, 1, 3, 1, 11),
            (2, 11, 11, 9, 3, 2, 11),
            (1, 6, 17, 14, 3, 2, 1),
            (2, 3, 10, 9, 3, 2, 1),
            (1, 8, 6, 5, 3, 1, 2),
            (1, 4, 5, 6, 5, 1, 1),
        ];
        for (case, &(batch, cin, cout, side, kernel, stride, groups)) in cases.iter().enumerate() {
            let x = tensor(&format!("x{case}"), [batch, cin, side, side], &device);
            let weight = tensor(&format!("w{case}"), [cout, cin / groups, kernel, kernel], &device);
            let bias = tensor(&format!("b{case}"), [cout], &device);
            let out_side = (side - 1) / stride + 1;
            let residual = tensor(&format!("r{case}"), [batch, cout, out_side, out_side], &device);
            for (layout, input) in [("row-major", x.clone()), ("view", as_view(x.clone()))] {
                for gelu in [false, true] {
                    let want = composed_conv(&x, &weight, &bias, stride, groups, gelu);
                    let got = fused::conv_bias_act(input.clone(), &weight, &bias, [stride, groups], gelu);
                    assert_close(got, want, &format!("case {case} {layout} gelu {gelu}"));
                }
                let want = residual.clone() + composed_conv(&x, &weight, &bias, stride, groups, false);
                for (residual_layout, r) in [("row-major", residual.clone()), ("view", as_view(residual.clone()))] {
                    let got = fused::conv_bias_add(input.clone(), &weight, &bias, r, [stride, groups]);
                    assert_close(got, want.clone(), &format!("case {case} {layout} + {residual_layout} residual"));
                }
            }
        }
    }

    #[test]
    fn conv_mlp_residual_matches_composed_ops() {
        let device = device();
        // (batch, channels, hidden, side): hidden counts off the 16-channel slices; maps of
        // one tile (7, 9), of whole tiles (20: 10x10, 28: 14x14) and with partial ones (17).
        let cases = [(2, 13, 21, 7), (1, 8, 40, 9), (1, 6, 17, 17), (2, 5, 16, 20), (1, 4, 35, 28)];
        for (case, &(batch, channels, hidden, side)) in cases.iter().enumerate() {
            let x = tensor(&format!("mx{case}"), [batch, channels, side, side], &device);
            let shapes = [("fc1", [hidden, channels, 1, 1]), ("mid", [hidden, 1, 3, 3]), ("fc2", [channels, hidden, 1, 1])];
            let convs = shapes.map(|(name, shape)| (tensor(&format!("{name}w{case}"), shape, &device), tensor(&format!("{name}b{case}"), [shape[0]], &device)));
            let dispatch = |(w, b): &(Tensor<4>, Tensor<1>)| [w.clone().into_dispatch(), b.clone().into_dispatch()];
            let [fc1, mid, fc2] = convs.each_ref().map(dispatch);
            let want = Tensor::from_dispatch(composed::conv_mlp_residual::<Dispatch>(x.clone().into_dispatch(), fc1, mid, fc2));
            for (layout, input) in [("row-major", x.clone()), ("view", as_view(x.clone()))] {
                let got = fused::conv_mlp_residual(input, convs.each_ref().map(|(w, b)| (w, b)));
                assert_close(got, want.clone(), &format!("case {case} {layout}"));
            }
        }
    }

    #[test]
    fn query_key_value_matches_three_convolutions() {
        let device = device();
        // (batch, in, q and k out, v out, side): outputs that end inside a work item's four
        // channels, and 300 input channels (split sums).
        for (case, &(batch, cin, qk, vout, side)) in [(2, 13, 5, 7, 7), (1, 300, 16, 30, 3)].iter().enumerate() {
            let x = tensor(&format!("qkv{case}"), [batch, cin, side, side], &device);
            let convs = [("q", qk), ("k", qk), ("v", vout)].map(|(name, out)| {
                (tensor(&format!("{name}w{case}"), [out, cin, 1, 1], &device), tensor(&format!("{name}b{case}"), [out], &device))
            });
            for (layout, input) in [("row-major", x.clone()), ("view", as_view(x.clone()))] {
                let got = fused::query_key_value(input, convs.each_ref().map(|(w, b)| (w, b)));
                for ((name, got), (weight, bias)) in ["q", "k", "v"].into_iter().zip(got).zip(&convs) {
                    assert_close(got, composed_conv(&x, weight, bias, 1, 1, false), &format!("{name} case {case} {layout}"));
                }
            }
        }
    }

    #[test]
    fn bilinear_upsample_matches_composed_ops() {
        let device = device();
        let matrix = crate::model::attention::bilinear_matrix(5, 10);
        let matrix_t: Vec<f32> = (0..5).flat_map(|i| (0..10).map(move |o| (i, o))).map(|(i, o)| matrix[o * 5 + i]).collect();
        let matrix_t = Tensor::<2>::from_data(TensorData::new(matrix_t, [5, 10]), &device);
        let x = tensor("u", [2, 13, 5, 5], &device);
        for gelu in [false, true] {
            let want =
                Tensor::from_dispatch(composed::bilinear_upsample::<Dispatch>(x.clone().into_dispatch(), matrix_t.clone().into_dispatch(), gelu));
            assert_close(fused::bilinear_upsample(as_view(x.clone()), &matrix_t, gelu), want, &format!("upsample, gelu {gelu}"));
        }
    }

    #[test]
    fn spatial_mean_matches_composed_op() {
        let device = device();
        for shape in [[2, 13, 7, 7], [1, 3, 1, 1], [3, 5, 14, 9]] {
            let x = tensor("m", shape, &device);
            let want = Tensor::from_dispatch(composed::spatial_mean::<Dispatch>(x.clone().into_dispatch()));
            for (layout, x) in [("row-major", x.clone()), ("view", as_view(x))] {
                assert_close(fused::spatial_mean(x), want.clone(), &format!("mean {shape:?} {layout}"));
            }
        }
    }

    #[test]
    fn gelu_matches_composed_op() {
        let device = device();
        let x = tensor("g", [2, 13, 5, 3], &device) * 4.0;
        let want = burn::tensor::activation::gelu(x.clone());
        assert_close(fused::gelu(x.clone()), want.clone(), "row-major");
        assert_close(fused::gelu(as_view(x)), want, "view");
    }

    #[test]
    fn attention_matches_composed_ops() {
        let device = device();
        // (batch, heads, key_dim, value_dim, query side, key side): the network's 7x7 over
        // 7x7 and 7x7 over 14x14 at small sizes (the local branch's stride 1 and 2), a single
        // token, and more value channels than one cube's slice (300: a full slice and a partial
        // one) on an odd map under stride 2.
        let cases = [(2, 3, 5, 7, 7, 7), (1, 2, 4, 3, 3, 6), (2, 1, 9, 2, 1, 1), (1, 2, 4, 150, 3, 5)];
        for (case, &(batch, heads, kd, vd, qs, ks)) in cases.iter().enumerate() {
            let q = tensor(&format!("q{case}"), [batch, heads * kd, qs, qs], &device);
            let k = tensor(&format!("k{case}"), [batch, heads * kd, ks, ks], &device);
            let v = tensor(&format!("v{case}"), [batch, heads * vd, ks, ks], &device);
            let (lw, lb) = (tensor(&format!("lw{case}"), [heads * vd, 1, 3, 3], &device), tensor(&format!("lb{case}"), [heads * vd], &device));
            let bias = tensor(&format!("bias{case}"), [1, heads, qs * qs, ks * ks], &device);
            let dispatch = |t: &Tensor<4>| t.clone().into_dispatch();
            let stride = if qs == ks { 1 } else { 2 };
            let local = Tensor::<4>::from_dispatch(composed::conv_bias_act::<Dispatch>(
                dispatch(&v),
                dispatch(&lw),
                lb.clone().into_dispatch(),
                stride,
                heads * vd,
                false,
            ));
            // `proj`'s GELU in every other case.
            let gelu = case % 2 == 1;
            let want = Tensor::from_dispatch(composed::biased_attention::<Dispatch>(
                dispatch(&q),
                dispatch(&k),
                dispatch(&v),
                dispatch(&local),
                dispatch(&bias),
                heads,
                gelu,
            ));
            let got = fused::biased_attention([q.clone(), as_view(k.clone()), v.clone()], (&lw, &lb), &bias, heads, gelu);
            assert_close(got, want, &format!("biased case {case}"));

            let mixing = fused::TalkingHeads {
                talking_head1: tensor(&format!("th1{case}"), [heads, heads, 1, 1], &device),
                bias,
                talking_head2: tensor(&format!("th2{case}"), [heads, heads, 1, 1], &device),
                talking_head2_bias: tensor(&format!("th2b{case}"), [heads], &device),
            };
            let want = Tensor::from_dispatch(composed::talking_head_attention::<Dispatch>(
                dispatch(&q),
                dispatch(&k),
                dispatch(&v),
                dispatch(&local),
                dispatch(&mixing.talking_head1),
                dispatch(&mixing.bias),
                dispatch(&mixing.talking_head2),
                mixing.talking_head2_bias.clone().into_dispatch(),
                heads,
                gelu,
            ));
            let got = fused::talking_head_attention([as_view(q), k, as_view(v)], (&lw, &lb), &mixing, heads, gelu);
            assert_close(got, want, &format!("talking heads case {case}"));
        }
    }

    /// Every kernel with its maps and weights in `f16` (the attention's biases and mixing
    /// weights and the upsampling matrix `f32`, as the model keeps them) against `f32`, on an
    /// adapter that stores `f16` (lavapipe's Vulkan in CI; `EFFICIENTFORMER_EXPECT_GPU_F16=1`
    /// makes its absence a failure, elsewhere the test says it did not run).
    #[test]
    fn half_kernels_match_f32() {
        let device = device();
        let half = device.supports_dtype(burn::tensor::DType::F16);
        if std::env::var("EFFICIENTFORMER_EXPECT_GPU_F16").is_ok_and(|v| v == "1") {
            assert!(half, "the adapter stores no f16 (EFFICIENTFORMER_EXPECT_GPU_F16=1)");
        }
        if !half {
            println!("skipped: the adapter stores no f16");
            return;
        }
        let to_half = |t: &Tensor<4>| t.clone().cast(FloatDType::F16);
        // Within f16's rounding of the `depth` stored values a result sums (the sums are f32):
        // 1e-3 · √depth of the result's scale.
        let close = |got: Tensor<4>, want: Tensor<4>, depth: usize, what: &str| {
            assert_eq!(got.dtype(), burn::tensor::DType::F16, "{what}: ran in f16");
            let got = got.cast(FloatDType::F32).into_data().to_vec::<f32>().unwrap();
            let want = want.into_data().to_vec::<f32>().unwrap();
            let bound = 1e-3 * (depth as f32).sqrt() * want.iter().fold(1f32, |m, w| m.max(w.abs()));
            for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                assert!((g - w).abs() <= bound, "{what}: element {i}: {g} vs {w} (bound {bound})");
            }
        };
        // (batch, in, out, side, kernel, stride, groups): pointwise with 300 input channels
        // (split sums), depthwise stride 2, dense stride 2.
        for (case, &(batch, cin, cout, side, kernel, stride, groups)) in
            [(1, 300, 21, 7, 1, 1, 1), (2, 11, 11, 9, 3, 2, 11), (2, 3, 10, 9, 3, 2, 1)].iter().enumerate()
        {
            let x = tensor(&format!("hx{case}"), [batch, cin, side, side], &device);
            let weight = tensor(&format!("hw{case}"), [cout, cin / groups, kernel, kernel], &device);
            let bias = tensor(&format!("hb{case}"), [cout], &device);
            let (hw, hb) = (to_half(&weight), bias.clone().cast(FloatDType::F16));
            let depth = cin / groups * kernel * kernel;
            let want = fused::conv_bias_act(x.clone(), &weight, &bias, [stride, groups], true);
            close(fused::conv_bias_act(to_half(&x), &hw, &hb, [stride, groups], true), want.clone(), depth, &format!("conv case {case}"));
            let residual = tensor(&format!("hr{case}"), want.dims(), &device);
            let want = fused::conv_bias_add(x.clone(), &weight, &bias, residual.clone(), [stride, groups]);
            close(fused::conv_bias_add(to_half(&x), &hw, &hb, to_half(&residual), [stride, groups]), want, depth, &format!("conv + residual case {case}"));
        }
        let x = tensor("hqkv", [2, 45, 7, 7], &device);
        let convs = [("q", 16), ("k", 16), ("v", 30)].map(|(name, out)| (tensor(&format!("h{name}w"), [out, 45, 1, 1], &device), tensor(&format!("h{name}b"), [out], &device)));
        let want = fused::query_key_value(x.clone(), convs.each_ref().map(|(w, b)| (w, b)));
        let half_convs = convs.each_ref().map(|(w, b)| (to_half(w), b.clone().cast(FloatDType::F16)));
        let got = fused::query_key_value(to_half(&x), half_convs.each_ref().map(|(w, b)| (w, b)));
        for ((got, want), name) in got.into_iter().zip(want).zip(["q", "k", "v"]) {
            close(got, want, 45, name);
        }
        let x = tensor("hmlp", [2, 24, 14, 14], &device);
        let shapes = [("fc1", [96, 24, 1, 1]), ("mid", [96, 1, 3, 3]), ("fc2", [24, 96, 1, 1])];
        let convs = shapes.map(|(name, shape)| (tensor(&format!("h{name}w"), shape, &device), tensor(&format!("h{name}b"), [shape[0]], &device)));
        let want = fused::conv_mlp_residual(x.clone(), convs.each_ref().map(|(w, b)| (w, b)));
        let half_convs = convs.each_ref().map(|(w, b)| (to_half(w), b.clone().cast(FloatDType::F16)));
        close(fused::conv_mlp_residual(to_half(&x), half_convs.each_ref().map(|(w, b)| (w, b))), want, 24 + 9 + 96, "ffn");
        let (batch, heads, kd, vd, side) = (2, 8, 32, 64, 7);
        let maps = [("q", kd, side), ("k", kd, side), ("v", vd, side)]
            .map(|(name, per_head, side)| tensor(&format!("h{name}"), [batch, heads * per_head, side, side], &device));
        let (lw, lb) = (tensor("hlw", [heads * vd, 1, 3, 3], &device), tensor("hlb", [heads * vd], &device));
        let (half_lw, half_lb) = (to_half(&lw), lb.clone().cast(FloatDType::F16));
        let mixing = fused::TalkingHeads {
            talking_head1: tensor("hth1", [heads, heads, 1, 1], &device),
            bias: tensor("hbias", [1, heads, side * side, side * side], &device),
            talking_head2: tensor("hth2", [heads, heads, 1, 1], &device),
            talking_head2_bias: tensor("hth2b", [heads], &device),
        };
        let want = fused::talking_head_attention(maps.clone(), (&lw, &lb), &mixing, heads, true);
        let got = fused::talking_head_attention(maps.each_ref().map(to_half), (&half_lw, &half_lb), &mixing, heads, true);
        close(got, want, 49 + 9, "attention");
        let matrix = crate::model::attention::bilinear_matrix(5, 10);
        let matrix_t: Vec<f32> = (0..5).flat_map(|i| (0..10).map(move |o| (i, o))).map(|(i, o)| matrix[o * 5 + i]).collect();
        let matrix_t = Tensor::<2>::from_data(TensorData::new(matrix_t, [5, 10]), &device);
        let x = tensor("hu", [2, 13, 5, 5], &device);
        close(fused::bilinear_upsample(to_half(&x), &matrix_t, true), fused::bilinear_upsample(x.clone(), &matrix_t, true), 25, "upsample");
        let x = tensor("hm", [2, 37, 7, 7], &device);
        close(fused::spatial_mean(to_half(&x)), fused::spatial_mean(x.clone()), 1, "mean");
        close(fused::gelu(to_half(&x) * 4.0), fused::gelu(x * 4.0), 1, "gelu");
    }
}
