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
 * @property topK ranked classes per [Classification].
 * @property gpuCacheDir directory for the GPU kernel cache (pass `context.cacheDir`).
 * @property expectedVariant fail with [EfficientFormerException.WRONG_VARIANT] unless the model
 *   is this variant (`s0`, `s1`, `s2`, `l`).
 */
data class ClassifierOptions(
    val backend: Backend = Backend.AUTO,
    val cpuThreads: Int? = null,
    val topK: Int = 5,
    val gpuCacheDir: String? = null,
    val expectedVariant: String? = null,
)
