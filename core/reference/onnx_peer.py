"""ONNX Runtime as the peer both benchmarks measure: timm's model exported to ONNX (opset 18,
TorchScript exporter) and run by the CPU provider with default graph optimisations, on the
probe's thread count. The aarch64 instruction benchmark (`export_onnx.py`) exports the same
files for ONNX Runtime's aarch64 build."""
import onnxruntime as ort
import torch


def export(model, x, path):
    """Exports `model` (traced on `x`) to `path`."""
    torch.onnx.export(model, (x,), path, input_names=["images"], output_names=["logits"], opset_version=18, dynamo=False)


def onnx_session(model, x, threads, path):
    """Exports `model` (traced on `x`) to `path` and opens it with `threads` intra-op threads."""
    export(model, x, path)
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
