//! Class names: the app's own (a list, or the `labels` an SDK model file carries), else the
//! embedded ImageNet-1k descriptions for a 1000-class model (timm's
//! `ImageNetInfo().index_to_description(i)` for `i` in `0..1000`, written by
//! `core/reference/generate_sdk.py`), else `class <index>`.

use std::sync::{Arc, LazyLock};

use crate::error::{Error, Result};

static IMAGENET_1K: LazyLock<Vec<&'static str>> =
    LazyLock::new(|| include_str!("imagenet_labels.txt").lines().collect());

/// The names of a model's classes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Labels {
    /// The embedded ImageNet-1k descriptions.
    ImageNet,
    /// One name per class, from the app or the model file.
    Custom(Arc<[String]>),
    /// `class <index>`: a fine-tuned head whose names only its app knows.
    Indices,
}

impl Labels {
    /// `custom` (which must name every class), else the default for `num_classes`.
    pub fn new(custom: Option<Vec<String>>, num_classes: usize) -> Result<Labels> {
        match custom {
            Some(names) if names.len() != num_classes => Err(Error::InvalidInput(format!(
                "{} labels given for a model with {num_classes} classes",
                names.len()
            ))),
            Some(names) => Ok(Labels::Custom(names.into())),
            None if num_classes == IMAGENET_1K.len() => Ok(Labels::ImageNet),
            None => Ok(Labels::Indices),
        }
    }

    /// A labels file: one name per line (UTF-8, `\n` or `\r\n`), trailing empty lines ignored.
    pub fn parse_lines(text: &str) -> Vec<String> {
        let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
        while lines.last().is_some_and(String::is_empty) {
            lines.pop();
        }
        lines
    }

    /// The name of `class`.
    pub fn get(&self, class: usize) -> String {
        match self {
            Labels::ImageNet => IMAGENET_1K[class].to_owned(),
            Labels::Custom(names) => names[class].clone(),
            Labels::Indices => format!("class {class}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousand_labels_in_imagenet_order() {
        assert_eq!(IMAGENET_1K.len(), 1000);
        let imagenet = Labels::new(None, 1000).unwrap();
        assert_eq!(imagenet.get(0), "tench, Tinca tinca");
        assert_eq!(imagenet.get(999), "toilet tissue, toilet paper, bathroom tissue");
        assert_eq!(Labels::new(None, 10).unwrap().get(3), "class 3");
    }

    #[test]
    fn custom_labels_name_every_class() {
        let names = Labels::parse_lines("cat\r\ndog\n\n");
        assert_eq!(names, ["cat", "dog"]);
        assert_eq!(Labels::new(Some(names.clone()), 2).unwrap().get(1), "dog");
        assert!(matches!(Labels::new(Some(names), 3), Err(Error::InvalidInput(_))));
    }
}
