//! Per-layer timing of a forward pass (`efficientformer probe --profile`), as ONNX Runtime's
//! profiler and TFLite's `benchmark_model --enable_op_profiling` report it: the network is
//! walked module by module, the device is synchronised after each, and the time is booked to
//! the module's stage and kind. Syncs cost a little on the GPU, so the probe times its
//! latency column without them.

use std::time::{Duration, Instant};

use burn::tensor::{Device, Tensor};

/// What a timed module is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LayerKind {
    /// `Stem4`: two 3x3 stride-2 convolutions with GELU.
    Stem,
    /// `Downsample.conv` (stages 1 and 2).
    Downsample,
    /// `Downsample` with `Attention2dDownsample` (stage 3).
    AttentionDownsample,
    /// `ConvMlpWithNorm` and its residual.
    Ffn,
    /// `Attention2d` and its residual.
    Attention,
    /// Pooling and the folded classifier.
    Head,
}

impl LayerKind {
    /// Every kind, in the order of [`instruction_mark`]'s labels.
    pub const ALL: [LayerKind; 6] =
        [LayerKind::Stem, LayerKind::Downsample, LayerKind::AttentionDownsample, LayerKind::Ffn, LayerKind::Attention, LayerKind::Head];

    /// Stable lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            LayerKind::Stem => "stem",
            LayerKind::Downsample => "downsample",
            LayerKind::AttentionDownsample => "attention_downsample",
            LayerKind::Ffn => "ffn",
            LayerKind::Attention => "attention",
            LayerKind::Head => "head",
        }
    }
}

/// Time spent in one kind of module of one stage during one forward pass.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerTime {
    /// Stage 0-3 (`None` for the stem and the head).
    pub stage: Option<usize>,
    /// Module kind.
    pub kind: LayerKind,
    /// How many modules of this kind the stage has.
    pub count: usize,
    /// Time, summed over them.
    pub time: Duration,
}

/// Books the time since the last lap to `(stage, kind)`, synchronising the device first.
pub struct LayerTimer {
    device: Device,
    last: Instant,
    layers: Vec<LayerTime>,
}

impl LayerTimer {
    /// Starts timing on `device`.
    pub fn start(device: &Device) -> LayerTimer {
        instruction_mark(START_MARK);
        LayerTimer { device: device.clone(), last: Instant::now(), layers: Vec::new() }
    }

    /// Waits for `x`, then books the time since the previous lap.
    pub fn lap<const D: usize>(&mut self, stage: Option<usize>, kind: LayerKind, x: Tensor<D>) -> Tensor<D> {
        // A failed sync surfaces again when the result is read back; the time is still booked.
        let _ = self.device.sync();
        let now = Instant::now();
        instruction_mark(mark_label(stage, kind));
        let time = now - self.last;
        self.last = now;
        match self.layers.iter_mut().find(|l| l.stage == stage && l.kind == kind) {
            Some(layer) => {
                layer.count += 1;
                layer.time += time;
            }
            None => self.layers.push(LayerTime { stage, kind, count: 1, time }),
        }
        x
    }

    /// The layers in network order.
    pub fn finish(self) -> Vec<LayerTime> {
        self.layers
    }
}

/// [`instruction_mark`]'s label when a timer starts.
pub const START_MARK: u32 = 0xffff;

/// [`instruction_mark`]'s label for a lap of `(stage, kind)`: `(stage + 1) << 8 | kind`'s
/// index in [`LayerKind::ALL`], stage 0 for the stem and the head.
pub fn mark_label(stage: Option<usize>, kind: LayerKind) -> u32 {
    let kind = LayerKind::ALL.iter().position(|&k| k == kind).unwrap_or(0) as u32;
    (stage.map_or(0, |s| s as u32 + 1) << 8) | kind
}

/// Does nothing, visibly: the profile calls it with a label when a timer starts and after
/// each layer, so that an instruction counter watching for this function (the qemu plugin of
/// `core/scripts/aarch64-insn.sh`, which reads `label` from the first argument register)
/// can split a forward pass's instructions by layer as the timer splits its time.
#[inline(never)]
pub extern "C" fn instruction_mark(label: u32) {
    std::hint::black_box(label);
}
