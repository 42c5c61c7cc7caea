package com.efficientformer

/** One ranked class: ImageNet-1k index, label, softmax probability. */
data class Prediction(val classIndex: Int, val label: String, val score: Float)

/** The result for one image: top-k best first, softmax over all classes, raw logits. */
class Classification(val top: List<Prediction>, val probabilities: FloatArray, val logits: FloatArray) {
    /** Called from JNI (`bindings/jni/src/to_java.rs`) with the top-k as parallel arrays. */
    internal constructor(
        classIndices: IntArray,
        labels: Array<String>,
        scores: FloatArray,
        probabilities: FloatArray,
        logits: FloatArray,
    ) : this(classIndices.indices.map { Prediction(classIndices[it], labels[it], scores[it]) }, probabilities, logits)

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
