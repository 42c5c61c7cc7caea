//! What a classification returns.

use super::labels::label;

/// One ranked class.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    /// Index into the model's classes (ImageNet-1k order for the published weights).
    pub class_index: u32,
    /// Human-readable label.
    pub label: String,
    /// Softmax probability.
    pub score: f32,
}

/// The result for one image.
#[derive(Debug, Clone, PartialEq)]
pub struct Classification {
    /// The `top_k` best classes, best first.
    pub top: Vec<Prediction>,
    /// Softmax over all classes.
    pub probabilities: Vec<f32>,
    /// Raw logits (`(head + head_dist) / 2`).
    pub logits: Vec<f32>,
}

impl Classification {
    /// Ranks one row of logits.
    pub fn from_logits(logits: Vec<f32>, top_k: usize) -> Classification {
        let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let exp: Vec<f64> = logits.iter().map(|&l| f64::from(l - max).exp()).collect();
        let sum: f64 = exp.iter().sum();
        let probabilities: Vec<f32> = exp.iter().map(|e| (e / sum) as f32).collect();
        let mut order: Vec<usize> = (0..logits.len()).collect();
        order.sort_by(|&a, &b| logits[b].total_cmp(&logits[a]).then(a.cmp(&b)));
        let top = order
            .into_iter()
            .take(top_k)
            .map(|class| Prediction {
                class_index: class as u32,
                label: label(class, logits.len()),
                score: probabilities[class],
            })
            .collect();
        Classification { top, probabilities, logits }
    }
}
