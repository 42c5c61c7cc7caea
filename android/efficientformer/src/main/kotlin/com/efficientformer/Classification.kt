package com.efficientformer

/** One ranked class: index, label, softmax probability. */
data class Prediction(val classIndex: Int, val label: String, val score: Float)

/**
 * The result for one image: the ranked classes (at most `topK`, each at least the score
 * threshold, best first), softmax over all classes, raw logits, the pooled features before
 * the classifier when [ClassifierOptions.embedding] is set, and the [Precision] the network ran
 * in.
 */
class Classification(
    val top: List<Prediction>,
    val probabilities: FloatArray,
    val logits: FloatArray,
    val embedding: FloatArray? = null,
    val precision: Precision = Precision.F32,
) {
    /** Called from JNI (`bindings/jni/src/to_java.rs`) with the top-k as parallel arrays. */
    internal constructor(
        classIndices: IntArray,
        labels: Array<String>,
        scores: FloatArray,
        probabilities: FloatArray,
        logits: FloatArray,
        embedding: FloatArray?,
        precision: String,
    ) : this(
        classIndices.indices.map { Prediction(classIndices[it], labels[it], scores[it]) },
        probabilities,
        logits,
        embedding,
        Precision.of(precision),
    )

    override fun toString(): String = "Classification(top=$top)"
}

/**
 * What a loaded classifier runs.
 *
 * @property backendNote why [Backend.AUTO] did not choose the GPU, if it did not.
 * @property untrained true for the embedded default's seeded weights: predictions mean nothing.
 * @property precision the precision that runs ([Precision.F32] where [Precision.F16] was asked
 *   for on a device without it).
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
    val precision: Precision,
) {
    /** Called from JNI with the precision's name. */
    internal constructor(
        variant: String,
        backend: String,
        adapter: String,
        backendNote: String?,
        parameters: Long,
        gmacs: Double,
        weightDtype: String,
        untrained: Boolean,
        numClasses: Int,
        precision: String,
    ) : this(variant, backend, adapter, backendNote, parameters, gmacs, weightDtype, untrained, numClasses, Precision.of(precision))
}
