//! Weights: the checkpoint readers (`efficientformer-formats`, re-exported here), the expected
//! tensor list of a configuration, and the seeded weights the tests and the embedded default use.

pub mod seeded;
pub mod spec;

#[cfg(feature = "pth")]
pub use efficientformer_formats::weights::pytorch_file;
pub use efficientformer_formats::weights::{looks_like_pytorch, official_layout, read_bytes, read_path, safetensors_file, state_dict};
