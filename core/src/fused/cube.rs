//! [`FusedOps`] on burn-wgpu (CubeCL): the kernels of [`crate::cube_kernels`] for the shapes
//! they cover (every layer of the network), the composed ops for anything else.

use burn::backend::{Cube, TensorMetadata};
use burn::tensor::Shape;
use burn_cubecl::tensor::CubeTensor;

use super::{FusedOps, composed};
use crate::cube_kernels::attention::{self, HeadMixing};
use crate::cube_kernels::pointwise::{self, Epilogue};
use crate::cube_kernels::{direct, gelu, shared_float_type, upsample};

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

    fn bilinear_upsample(x: CubeTensor, matrix_t: CubeTensor) -> CubeTensor {
        let square = x.shape().num_dims() == 4 && x.shape()[2] == x.shape()[3] && matrix_t.shape().num_dims() == 2;
        match shared_float_type(&[&x, &matrix_t]) {
            Some(dtype) if square && matrix_t.shape()[0] == x.shape()[2] => upsample::launch(x, matrix_t, dtype),
            _ => composed::bilinear_upsample::<Self>(x, matrix_t),
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
        local: CubeTensor,
        talking_head1: CubeTensor,
        bias: CubeTensor,
        talking_head2: CubeTensor,
        talking_head2_bias: CubeTensor,
        heads: usize,
    ) -> CubeTensor {
        let operands = [&q, &k, &v, &local, &talking_head1, &bias, &talking_head2, &talking_head2_bias];
        match shared_float_type(&operands) {
            Some(dtype) if attention_fits(&q, &k, heads) => {
                let mixing = HeadMixing { mix1: talking_head1, mix2: talking_head2, mix2_bias: talking_head2_bias };
                attention::launch([q, k, v, local], bias, Some(mixing), heads, dtype)
            }
            _ => composed::talking_head_attention::<Self>(
                q,
                k,
                v,
                local,
                talking_head1,
                bias,
                talking_head2,
                talking_head2_bias,
                heads,
            ),
        }
    }

    fn biased_attention(
        q: CubeTensor,
        k: CubeTensor,
        v: CubeTensor,
        local: CubeTensor,
        bias: CubeTensor,
        heads: usize,
    ) -> CubeTensor {
        match shared_float_type(&[&q, &k, &v, &local, &bias]) {
            Some(dtype) if attention_fits(&q, &k, heads) => attention::launch([q, k, v, local], bias, None, heads, dtype),
            _ => composed::biased_attention::<Self>(q, k, v, local, bias, heads),
        }
    }
}

/// Whether the attention kernel holds a row of scores for these `q`, `k`.
fn attention_fits(q: &CubeTensor, k: &CubeTensor, heads: usize) -> bool {
    let (q_shape, k_shape) = (q.shape(), k.shape());
    q_shape.num_dims() == 4
        && k_shape.num_dims() == 4
        && heads > 0
        && q_shape[1] % heads == 0
        && attention::fits(heads, k_shape[2] * k_shape[3])
}

#[cfg(test)]
mod tests {
    //! Each kernel against the same op composed from burn-wgpu's own ops, on the GPU device
    //! the parity test uses (`EFFICIENTFORMER_GPU_BACKEND`, wgpu's OpenGL ES on llvmpipe in CI),
    //! on shapes awkward for it: channel counts off any vector width, 1x1 and 7x7 maps, batch 2,
    //! odd sizes under stride 2, and inputs that are views (not row-major).

    use burn::backend::Dispatch;
    use burn::tensor::{Device, Tensor, TensorData};

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
    fn bilinear_upsample_matches_composed_ops() {
        let device = device();
        let matrix = crate::model::attention::bilinear_matrix(5, 10);
        let matrix_t: Vec<f32> = (0..5).flat_map(|i| (0..10).map(move |o| (i, o))).map(|(i, o)| matrix[o * 5 + i]).collect();
        let matrix_t = Tensor::<2>::from_data(TensorData::new(matrix_t, [5, 10]), &device);
        let x = tensor("u", [2, 13, 5, 5], &device);
        let want = Tensor::from_dispatch(composed::bilinear_upsample::<Dispatch>(x.clone().into_dispatch(), matrix_t.clone().into_dispatch()));
        assert_close(fused::bilinear_upsample(as_view(x), &matrix_t), want, "upsample");
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
        // 7x7 and 7x7 over 14x14 at small sizes, a single token, and more value channels than
        // one cube's slice (300: a full slice and a partial one).
        let cases = [(2, 3, 5, 7, 7, 7), (1, 2, 4, 3, 3, 6), (2, 1, 9, 2, 1, 1), (1, 2, 4, 150, 3, 4)];
        for (case, &(batch, heads, kd, vd, qs, ks)) in cases.iter().enumerate() {
            let q = tensor(&format!("q{case}"), [batch, heads * kd, qs, qs], &device);
            let k = tensor(&format!("k{case}"), [batch, heads * kd, ks, ks], &device);
            let v = tensor(&format!("v{case}"), [batch, heads * vd, ks, ks], &device);
            let local = tensor(&format!("l{case}"), [batch, heads * vd, qs, qs], &device);
            let bias = tensor(&format!("bias{case}"), [1, heads, qs * qs, ks * ks], &device);
            let dispatch = |t: &Tensor<4>| t.clone().into_dispatch();
            let want = Tensor::from_dispatch(composed::biased_attention::<Dispatch>(
                dispatch(&q),
                dispatch(&k),
                dispatch(&v),
                dispatch(&local),
                dispatch(&bias),
                heads,
            ));
            let got = fused::biased_attention([q.clone(), as_view(k.clone()), v.clone(), local.clone()], &bias, heads);
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
            ));
            let got = fused::talking_head_attention([as_view(q), k, v, as_view(local)], &mixing, heads);
            assert_close(got, want, &format!("talking heads case {case}"));
        }
    }
}
