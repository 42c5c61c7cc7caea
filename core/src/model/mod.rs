//! The network, one module per timm class (`timm/models/efficientformer_v2.py`), in
//! dependency order.

pub mod bias_index;
pub mod conv;
pub mod attention;
pub mod attention_downsample;
pub mod downsample;
pub mod mlp;
pub mod block;
pub mod stem;
pub mod stage;
pub mod head;
pub mod network;
pub mod placement;
pub mod profile;
