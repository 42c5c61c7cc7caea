//! `efficientformer info FILE [--json]`

use std::path::PathBuf;

use efficientformer::accounting::toolbox_parameters;
use efficientformer::classify::model_file;
use efficientformer::{Error, Result};
use serde::Serialize;

/// Arguments of `info`.
#[derive(clap::Args)]
pub struct Args {
    /// Model file (SDK file, timm .safetensors, official .pth).
    file: PathBuf,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct InfoJson {
    schema: &'static str,
    file: String,
    variant: String,
    widths: [usize; 4],
    depths: [usize; 4],
    num_classes: usize,
    dtype: String,
    tensors: usize,
    parameters: usize,
    toolbox_parameters: usize,
    toolbox_macs: u64,
    gmacs: f64,
    metadata: std::collections::BTreeMap<String, String>,
}

/// Runs `info`.
pub fn run(args: Args) -> Result<()> {
    let bytes = std::fs::read(&args.file).map_err(|source| Error::Io { path: args.file.clone(), source })?;
    let info = model_file::describe(&bytes)?;
    let json = InfoJson {
        schema: "efficientformer.info/1",
        file: args.file.display().to_string(),
        variant: info.variant.name().into(),
        widths: info.config.widths,
        depths: std::array::from_fn(|s| info.config.depth(s)),
        num_classes: info.config.num_classes,
        dtype: info.dtype.name().into(),
        tensors: info.tensors,
        parameters: info.parameters,
        toolbox_parameters: toolbox_parameters(&info.config),
        toolbox_macs: info.toolbox_macs,
        gmacs: (info.toolbox_macs as f64 / 1e5).round() / 1e4,
        metadata: info.metadata.into_iter().collect(),
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&json).expect("serialisable"));
        return Ok(());
    }
    println!("{}", json.file);
    println!("  variant      EfficientFormerV2-{} ({} classes)", json.variant, json.num_classes);
    println!("  widths       {:?}, depths {:?}", json.widths, json.depths);
    println!("  weights      {} tensors, {}", json.tensors, json.dtype);
    println!("  parameters   {} ({:.4}M by toolbox.py rules)", json.parameters, json.toolbox_parameters as f64 / 1e6);
    println!("  GMACs        {:.4} (toolbox.py rules, 224x224)", json.gmacs);
    for (key, value) in &json.metadata {
        println!("  {key:<12} {value}");
    }
    Ok(())
}
