//! Where a network's tensors live, and the [`Precision`] its weights are stored in.

use std::ops::Deref;

use burn::tensor::{Device, FloatDType, Tensor, TensorData};

use crate::precision::Precision;

/// A device and the precision of the weights placed on it. Dereferences to the device, so that
/// tensors that stay `f32` in either precision (the attention's position biases and mixing
/// weights, the upsampling matrix, the head's norm) are made as on a plain device.
#[derive(Debug, Clone)]
pub struct Placement {
    pub device: Device,
    pub precision: Precision,
}

impl Placement {
    /// `f32` weights on `device`.
    pub fn f32(device: Device) -> Placement {
        Placement { device, precision: Precision::F32 }
    }

    /// A weight on the device, in the placement's precision.
    pub fn weight<const D: usize>(&self, data: TensorData) -> Tensor<D> {
        self.cast(Tensor::from_data(data, &self.device))
    }

    /// `x` (an `f32` tensor: the input images) in the placement's precision.
    pub fn cast<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        match self.precision {
            Precision::F32 => x,
            Precision::F16 => crate::fused::convert(x, FloatDType::F16),
        }
    }
}

impl Deref for Placement {
    type Target = Device;

    fn deref(&self) -> &Device {
        &self.device
    }
}

impl From<&Device> for Placement {
    fn from(device: &Device) -> Placement {
        Placement::f32(device.clone())
    }
}

impl From<&Placement> for Placement {
    fn from(placement: &Placement) -> Placement {
        placement.clone()
    }
}
