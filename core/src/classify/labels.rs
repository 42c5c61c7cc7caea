//! ImageNet-1k class names, embedded: timm's `ImageNetInfo().index_to_description(i)` for
//! `i` in `0..1000` (written by `core/reference/generate_sdk.py`).

use std::sync::LazyLock;

static IMAGENET_1K: LazyLock<Vec<&'static str>> =
    LazyLock::new(|| include_str!("imagenet_labels.txt").lines().collect());

/// The label of `class`: the ImageNet-1k description for a 1000-class model, else
/// `class <index>` (a fine-tuned head has labels only its app knows).
pub fn label(class: usize, num_classes: usize) -> String {
    match IMAGENET_1K.get(class) {
        Some(name) if num_classes == IMAGENET_1K.len() => (*name).to_owned(),
        _ => format!("class {class}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousand_labels_in_imagenet_order() {
        assert_eq!(IMAGENET_1K.len(), 1000);
        assert_eq!(label(0, 1000), "tench, Tinca tinca");
        assert_eq!(label(999, 1000), "toilet tissue, toilet paper, bathroom tissue");
        assert_eq!(label(3, 10), "class 3");
    }
}
