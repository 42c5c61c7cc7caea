//! `ortdrv LIBONNXRUNTIME MODEL.onnx RUNS THREADS`: opens one session (all graph optimisations,
//! `THREADS` intra-op threads), runs it `RUNS` times on a fixed 1x3x224x224 input and prints
//! the first logit. Under the instruction counter, its runs with N and N+K passes give ONNX
//! Runtime's instructions per inference (`core/scripts/aarch64-insn.sh`). Adapted from the
//! team's `shared/tools/ortdrv`.

use ort::session::Session;
use ort::session::builder::GraphOptimizationLevel;
use ort::value::Tensor;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, library, model, runs, threads] = args.as_slice() else {
        return Err("usage: ortdrv LIBONNXRUNTIME MODEL.onnx RUNS THREADS".into());
    };
    let (runs, threads): (usize, usize) = (runs.parse()?, threads.parse()?);
    let environment = ort::init_from(library)?.build()?;
    let mut session = Session::builder(&environment)?
        .with_optimization_level(GraphOptimizationLevel::Level3)?
        .with_intra_threads(threads)?
        .with_inter_threads(1)?
        .commit_from_file(model)?;
    let input_name = session.inputs()[0].name().to_string();
    let data: Vec<f32> = (0..3 * 224 * 224).map(|i| (i % 251) as f32 / 125.0 - 1.0).collect();
    let mut first = 0.0f32;
    for _ in 0..runs {
        let input = Tensor::from_array(([1usize, 3, 224, 224], data.clone()))?;
        let outputs = session.run(ort::inputs![input_name.as_str() => input])?;
        first = outputs[0].try_extract_tensor::<f32>()?.1[0];
    }
    println!("runs {runs} first_logit {first}");
    Ok(())
}
