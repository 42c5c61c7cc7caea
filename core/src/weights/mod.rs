//! Weights: the checkpoint readers (`efficientformer-formats`, re-exported here), the expected
//! tensor list of a configuration, and the seeded weights the tests and the embedded default use.

pub mod seeded;
pub mod spec;

pub use efficientformer_formats::weights::{official_layout, pytorch_file, read_bytes, read_path, safetensors_file, state_dict};
