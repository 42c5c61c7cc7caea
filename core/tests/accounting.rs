//! Parameter and MAC accounting, exact, against the counts timm's model and the `toolbox.py`
//! hooks gave for the same architectures (recorded by `core/reference/generate.py`), and
//! against the paper's table (paper.md: 3.5M/6.1M/12.6M/26.1M, 0.40/0.65/1.25/2.56 GMACs).

mod common;

use common::Reference;
use efficientformer::Variant;
use efficientformer::accounting::{parameter_count, toolbox_macs, toolbox_parameters};
use efficientformer::weights::spec::expected_tensors;

/// (variant, true parameters, toolbox M params rounded to 4 places, toolbox GMACs to 4 places)
const PAPER: [(Variant, usize, &str, &str); 4] = [
    (Variant::S0, 3_600_256, "3.5346", "0.3961"),
    (Variant::S1, 6_185_560, "6.0925", "0.6523"),
    (Variant::S2, 12_710_112, "12.5514", "1.2474"),
    (Variant::L, 26_322_288, "26.0687", "2.5534"),
];

#[test]
fn counts_equal_the_reference_exactly() {
    for variant in Variant::PUBLISHED {
        let config = variant.config().unwrap();
        let reference = Reference::load(variant);
        assert_eq!(parameter_count(&config).to_string(), reference.meta("param_count"), "{variant}");
        assert_eq!(toolbox_parameters(&config).to_string(), reference.meta("toolbox_params"), "{variant}");
        assert_eq!(toolbox_macs(&config).to_string(), reference.meta("toolbox_macs"), "{variant}");
    }
}

#[test]
fn counts_reproduce_the_paper_table() {
    for (variant, params, toolbox_m, gmacs) in PAPER {
        let config = variant.config().unwrap();
        assert_eq!(parameter_count(&config), params, "{variant}");
        assert_eq!(format!("{:.4}", toolbox_parameters(&config) as f64 / 1e6), toolbox_m, "{variant}");
        assert_eq!(format!("{:.4}", toolbox_macs(&config) as f64 / 1e9), gmacs, "{variant}");
    }
}

#[test]
fn tensor_list_equals_timm_state_dict() {
    for variant in Variant::PUBLISHED {
        let reference = Reference::load(variant);
        let timm: Vec<&str> = reference
            .meta("keys")
            .lines()
            .filter(|line| !line.contains("num_batches_tracked"))
            .collect();
        let ours: Vec<String> = expected_tensors(&variant.config().unwrap())
            .iter()
            .map(|t| format!("{} {:?} float32", t.key, t.shape))
            .collect();
        assert_eq!(ours.len(), timm.len(), "{variant}");
        for (a, b) in ours.iter().zip(timm) {
            assert_eq!(a.replace(' ', ""), b.replace(' ', ""), "{variant}");
        }
    }
}

#[test]
fn presets_are_recognised_by_their_tensors() {
    for variant in Variant::PUBLISHED {
        let config = variant.config().unwrap();
        assert_eq!(config.variant(), variant);
        assert_eq!(Variant::from_name(&format!("efficientformerv2_{variant}")), Some(variant));
    }
    let mut custom = Variant::S0.config().unwrap();
    custom.num_classes = 10;
    assert_eq!(custom.variant(), Variant::Custom);
}
