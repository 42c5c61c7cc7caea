//! `efficientformer convert CHECKPOINT --out FILE [--dtype f16|f32] [--labels FILE]`

use std::path::PathBuf;

use clap::ValueEnum;
use efficientformer::classify::{Labels, model_file};
use efficientformer::weights::{self, state_dict::WeightDtype};
use efficientformer::{Error, Result};

use crate::progress::with_spinner;

/// Arguments of `convert`.
#[derive(clap::Args)]
pub struct Args {
    /// Official `.pth` or timm `.safetensors` checkpoint.
    checkpoint: PathBuf,
    /// SDK model file to write.
    #[arg(long)]
    out: PathBuf,
    /// Element type of the written weights (f16 halves the file; outputs stay within 1e-2).
    #[arg(long, value_enum, default_value = "f32")]
    dtype: DtypeArg,
    /// Class names to store in the file, one per line (apps then get them without passing any).
    #[arg(long)]
    labels: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
enum DtypeArg {
    F32,
    F16,
}

/// Runs `convert`.
pub fn run(args: Args) -> Result<()> {
    let dtype = match args.dtype {
        DtypeArg::F32 => WeightDtype::F32,
        DtypeArg::F16 => WeightDtype::F16,
    };
    let labels = match &args.labels {
        Some(path) => Some(Labels::parse_lines(
            &std::fs::read_to_string(path).map_err(|source| Error::Io { path: path.clone(), source })?,
        )),
        None => None,
    };
    let source = args.checkpoint.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let bytes = with_spinner(&format!("converting {source}"), || {
        model_file::write(&weights::read_path(&args.checkpoint)?, dtype, &source, labels.as_deref())
    })?;
    std::fs::write(&args.out, &bytes).map_err(|source| Error::Write { path: args.out.clone(), source })?;
    let info = model_file::describe(&bytes)?;
    println!(
        "wrote {} ({}, {}, {} parameters, {:.1} MB)",
        args.out.display(),
        info.variant,
        dtype,
        info.parameters,
        bytes.len() as f64 / 1e6
    );
    Ok(())
}
