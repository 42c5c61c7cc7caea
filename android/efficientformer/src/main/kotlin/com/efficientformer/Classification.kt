package com.efficientformer

/** One ranked class: index, label, softmax probability. */
data class Prediction(val classIndex: Int, val label: String, val score: Float)

/**
 * The result for one image: the ranked classes (at most `topK`, each at least the score
 * threshold, best first), softmax over all classes, raw logits, and the pooled features before
 * the classifier when [ClassifierOptions.embedding] is set.
 */
class Classification(
    val top: List<Prediction>,
    val probabilities: FloatArray,
    val logits: FloatArray,
    val embedding: FloatArray? = null,
) {
    /** Called from JNI (`bindings/jni/src/to_java.rs`) with the top-k as parallel arrays. */
    internal constructor(
        classIndices: IntArray,
        labels: Array<String>,
        scores: FloatArray,
        probabilities: FloatArray,
        logits: FloatArray,
        embedding: FloatArray?,
    ) : this(classIndices.indices.map { Prediction(classIndices[it], labels[it], scores[it]) }, probabilities, logits, embedding)

    override fun toString(): String = "Classification(top=$top)"
}

/**
 * What a loaded classifier runs.
 *
 * @property backendNote why [Backend.AUTO] did not choose the GPU, if it did not.
 * @property untrained true for the embedded default's seeded weights: predictions mean nothing.
 */
data class ModelInfo(
    val variant: String,
    val backend: String,
    val adapter: String,
    val backendNote: String?,
    val parameters: Long,
    val gmacs: Double,
    val weightDtype: String,
    val untrained: Boolean,
    val numClasses: Int,
)
