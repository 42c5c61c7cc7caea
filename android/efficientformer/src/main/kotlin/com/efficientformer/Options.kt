package com.efficientformer

/** Where inference runs. */
enum class Backend(internal val id: String) {
    /** The GPU (Vulkan) when it initialises and passes a self-check, else the CPU. */
    AUTO("auto"),

    /** The CPU. */
    CPU("cpu"),

    /** The GPU; loading throws [EfficientFormerException.BACKEND_UNAVAILABLE] without one. */
    GPU("gpu"),
}

/** The arithmetic a [Classifier] runs in. */
enum class Precision(internal val id: String) {
    /** 32-bit floats: the reference, within 1e-4 of PyTorch. */
    F32("f32"),

    /**
     * 16-bit floats on a CPU with half-precision arithmetic (ARMv8.2-A FP16: most phones since
     * 2018), about half the instructions of [F32], and on a GPU that stores them (Vulkan's
     * 16-bit storage: most Android GPUs), half the bytes per launch with `f32` arithmetic;
     * [F32] elsewhere. [ModelInfo.precision] and [Classification.precision] say which ran.
     */
    F16("f16"),
    ;

    internal companion object {
        fun of(id: String): Precision = entries.first { it.id == id }
    }
}

/** Memory layout of 8-bit pixels; [code] is the core's `PixelFormat::from_code`. */
enum class PixelFormat(internal val code: Int, val bytesPerPixel: Int) {
    /** `Bitmap.Config.ARGB_8888` memory order. */
    RGBA8(0, 4),
    BGRA8(1, 4),
    RGB8(2, 3),
}

/**
 * How to load a [Classifier].
 *
 * @property cpuThreads CPU inference threads; `null` uses one per core.
 * @property topK ranked classes per [Classification], at most.
 * @property scoreThreshold least probability (0-1) of a ranked class.
 * @property labels one name per class; `null` uses the names the SDK model file carries, else
 *   ImageNet-1k for a 1000-class model, else `class N`.
 * @property embedding also return [Classification.embedding], the pooled features before the
 *   classifier (for retrieval and few-shot apps).
 * @property gpuCacheDir directory for the GPU kernel cache (pass `context.cacheDir`).
 * @property expectedVariant fail with [EfficientFormerException.WRONG_VARIANT] unless the model
 *   is this variant (`s0`, `s1`, `s2`, `l`).
 * @property precision the arithmetic to run in ([Precision.F16] falls back to [Precision.F32] on
 *   a CPU without half precision and a GPU without 16-bit storage).
 */
data class ClassifierOptions(
    val backend: Backend = Backend.AUTO,
    val cpuThreads: Int? = null,
    val topK: Int = 5,
    val scoreThreshold: Float = 0f,
    val labels: List<String>? = null,
    val embedding: Boolean = false,
    val gpuCacheDir: String? = null,
    val expectedVariant: String? = null,
    val precision: Precision = Precision.F32,
)

/** [ClassifierOptions] as the native loaders read them: `bindings/jni` reads these fields by name. */
internal class NativeOptions(options: ClassifierOptions) {
    @JvmField val backend: String = options.backend.id
    @JvmField val cpuThreads: Int = options.cpuThreads ?: -1
    @JvmField val topK: Int = options.topK
    @JvmField val scoreThreshold: Float = options.scoreThreshold
    @JvmField val labels: Array<String>? = options.labels?.toTypedArray()
    @JvmField val embedding: Boolean = options.embedding
    @JvmField val gpuCacheDir: String? = options.gpuCacheDir
    @JvmField val expectedVariant: String? = options.expectedVariant
    @JvmField val precision: String = options.precision.id
}
