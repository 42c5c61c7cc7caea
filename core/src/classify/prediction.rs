//! What a classification returns.

use super::labels::Labels;
use crate::precision::Precision;

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
    /// At most `top_k` classes scoring at least the threshold, best first.
    pub top: Vec<Prediction>,
    /// Softmax over all classes.
    pub probabilities: Vec<f32>,
    /// Raw logits (`(head + head_dist) / 2`).
    pub logits: Vec<f32>,
    /// The pooled features before the classifier (timm `forward_head(x, pre_logits=True)`),
    /// when the classifier was built with `embedding` on.
    pub embedding: Option<Vec<f32>>,
    /// The precision the network ran in (`F32` where `F16` was asked for on a device without
    /// it).
    pub precision: Precision,
}

/// How logits become ranked, named predictions.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranking {
    /// Most classes returned.
    pub top_k: usize,
    /// Least probability a returned class has (0: no threshold).
    pub score_threshold: f32,
    /// Class names.
    pub labels: Labels,
}

impl Classification {
    /// Ranks one row of logits.
    pub fn from_logits(logits: Vec<f32>, embedding: Option<Vec<f32>>, ranking: &Ranking, precision: Precision) -> Classification {
        let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let exp: Vec<f64> = logits.iter().map(|&l| f64::from(l - max).exp()).collect();
        let sum: f64 = exp.iter().sum();
        let probabilities: Vec<f32> = exp.iter().map(|e| (e / sum) as f32).collect();
        let mut order: Vec<usize> = (0..logits.len()).collect();
        order.sort_by(|&a, &b| logits[b].total_cmp(&logits[a]).then(a.cmp(&b)));
        let top = order
            .into_iter()
            .take(ranking.top_k)
            .take_while(|&class| probabilities[class] >= ranking.score_threshold)
            .map(|class| Prediction {
                class_index: class as u32,
                label: ranking.labels.get(class),
                score: probabilities[class],
            })
            .collect();
        Classification { top, probabilities, logits, embedding, precision }
    }
}
