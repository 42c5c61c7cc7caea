package com.efficientformer

import java.nio.ByteBuffer
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.withContext

/**
 * One loaded EfficientFormerV2 network (arXiv 2212.08059) on one device.
 *
 * Thread-safe: share one instance; calls run concurrently. [close] frees the native model
 * (waiting for running calls); calls after it throw [IllegalStateException]; closing twice is
 * fine. A classifier that is never closed is freed after it becomes unreachable.
 *
 * Blocking methods run on the caller's thread: call them off the main thread, or use the
 * `suspend` variants, which run on [dispatcher].
 */
class Classifier private constructor(
    pointer: Long,
    private val dispatcher: CoroutineDispatcher,
) : AutoCloseable {
    private val handle = NativeHandle(pointer)
    private val registration = HandleReaper.register(this, handle)

    /** What this classifier runs. */
    val info: ModelInfo by lazy { handle.use { NativeBridge.info(it) } }

    /** Runs one untimed inference so the first real call is not the slow one; returns its ms. */
    fun prewarm(): Double = handle.use { NativeBridge.prewarm(it) }

    /** Classifies encoded image bytes (JPEG, PNG, WebP; EXIF orientation applied). */
    fun classifyEncoded(bytes: ByteArray): Classification = handle.use { NativeBridge.classifyEncoded(it, bytes) }

    /**
     * Classifies pixels read in place from a direct [ByteBuffer] (camera frames, `Bitmap`
     * copies) between its position and limit, without copying them. [rowStride] is bytes per
     * row; [orientation] is an EXIF code (1 = upright).
     *
     * @throws IllegalArgumentException if [pixels] is not direct.
     * @throws EfficientFormerException for a short buffer, bad geometry or a bad orientation.
     */
    fun classifyPixels(
        pixels: ByteBuffer,
        width: Int,
        height: Int,
        rowStride: Int,
        format: PixelFormat,
        orientation: Int = 1,
    ): Classification {
        require(pixels.isDirect) { "pixels must be a direct ByteBuffer (ByteBuffer.allocateDirect); use the ByteArray overload otherwise" }
        return handle.use {
            NativeBridge.classifyPixelBuffer(
                it, pixels, pixels.position(), pixels.remaining(), width, height, rowStride, format.code, orientation,
            )
        }
    }

    /** [classifyPixels] from a heap array (copied once into native memory). */
    fun classifyPixels(
        pixels: ByteArray,
        width: Int,
        height: Int,
        rowStride: Int,
        format: PixelFormat,
        orientation: Int = 1,
    ): Classification = handle.use {
        NativeBridge.classifyPixelArray(it, pixels, width, height, rowStride, format.code, orientation)
    }

    /** Classifies [batch] preprocessed images: `[batch, 3, 224, 224]` normalised floats. */
    fun classifyTensor(values: FloatArray, batch: Int = 1): List<Classification> =
        handle.use { NativeBridge.classifyTensor(it, values, batch).asList() }

    /** [classifyEncoded] on [dispatcher]. */
    suspend fun classifyEncodedAsync(bytes: ByteArray): Classification =
        withContext(dispatcher) { classifyEncoded(bytes) }

    /** [classifyPixels] on [dispatcher]; do not write to [pixels] until it returns. */
    suspend fun classifyPixelsAsync(
        pixels: ByteBuffer,
        width: Int,
        height: Int,
        rowStride: Int,
        format: PixelFormat,
        orientation: Int = 1,
    ): Classification = withContext(dispatcher) { classifyPixels(pixels, width, height, rowStride, format, orientation) }

    /** [classifyTensor] on [dispatcher]. */
    suspend fun classifyTensorAsync(values: FloatArray, batch: Int = 1): List<Classification> =
        withContext(dispatcher) { classifyTensor(values, batch) }

    /** [prewarm] on [dispatcher]. */
    suspend fun prewarmAsync(): Double = withContext(dispatcher) { prewarm() }

    override fun close() {
        HandleReaper.unregister(registration)
        handle.release()
    }

    /** Loading. Each throws [EfficientFormerException] for unreadable or foreign models. */
    companion object {
        /** Loads a model file: SDK or timm safetensors, or an official `.pth` checkpoint. */
        @JvmStatic
        @JvmOverloads
        fun fromFile(
            path: String,
            options: ClassifierOptions = ClassifierOptions(),
            dispatcher: CoroutineDispatcher = Dispatchers.Default,
        ): Classifier = create(options, dispatcher) { o -> NativeBridge.loadPath(path, o.backend.id, threads(o), o.topK, o.gpuCacheDir, o.expectedVariant) }

        /** Loads a model held in memory (an asset read into an array). */
        @JvmStatic
        @JvmOverloads
        fun fromBytes(
            bytes: ByteArray,
            options: ClassifierOptions = ClassifierOptions(),
            dispatcher: CoroutineDispatcher = Dispatchers.Default,
        ): Classifier = create(options, dispatcher) { o -> NativeBridge.loadBytes(bytes, o.backend.id, threads(o), o.topK, o.gpuCacheDir, o.expectedVariant) }

        /**
         * Loads a model from a buffer between its position and limit: read in place when
         * direct (a memory-mapped asset), copied otherwise.
         */
        @JvmStatic
        @JvmOverloads
        fun fromBuffer(
            buffer: ByteBuffer,
            options: ClassifierOptions = ClassifierOptions(),
            dispatcher: CoroutineDispatcher = Dispatchers.Default,
        ): Classifier {
            if (!buffer.isDirect) {
                val bytes = ByteArray(buffer.remaining()).also { buffer.duplicate().get(it) }
                return fromBytes(bytes, options, dispatcher)
            }
            return create(options, dispatcher) { o ->
                NativeBridge.loadBuffer(buffer, buffer.position(), buffer.remaining(), o.backend.id, threads(o), o.topK, o.gpuCacheDir, o.expectedVariant)
            }
        }

        /**
         * The embedded EfficientFormerV2-S0 with seeded, untrained weights: real latency,
         * meaningless predictions ([ModelInfo.untrained] is true).
         */
        @JvmStatic
        @JvmOverloads
        fun embeddedDefault(
            options: ClassifierOptions = ClassifierOptions(),
            dispatcher: CoroutineDispatcher = Dispatchers.Default,
        ): Classifier = create(options, dispatcher) { o -> NativeBridge.loadEmbeddedDefault(o.backend.id, threads(o), o.topK, o.gpuCacheDir, o.expectedVariant) }

        private fun threads(options: ClassifierOptions): Int = options.cpuThreads ?: -1

        private inline fun create(options: ClassifierOptions, dispatcher: CoroutineDispatcher, load: (ClassifierOptions) -> Long): Classifier {
            require(options.cpuThreads == null || options.cpuThreads >= 0) { "cpuThreads must not be negative" }
            return Classifier(load(options), dispatcher)
        }
    }
}
