package com.efficientformer

import java.nio.ByteBuffer
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.NonCancellable
import kotlinx.coroutines.async
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.withContext

/**
 * One loaded EfficientFormerV2 network (arXiv 2212.08059) on one device.
 *
 * Thread-safe: share one instance; calls run concurrently. [close] never blocks: the native
 * model is freed when the last running call ends; calls after it throw
 * [IllegalStateException]; closing twice is fine. A classifier that is never closed is freed
 * after it becomes unreachable.
 *
 * Each input has a `suspend` function, run on [dispatcher] and cancellable (cancelling the
 * coroutine stops the native call at its next stage boundary; the function returns only once
 * the native call has let go of the input), and a `…Blocking` twin for Java and for callers
 * already on a worker thread.
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
    fun prewarmBlocking(): Double = handle.use { NativeBridge.prewarm(it) }

    /** [prewarmBlocking] on [dispatcher]. */
    suspend fun prewarm(): Double = withContext(dispatcher) { prewarmBlocking() }

    /** Classifies encoded image bytes (JPEG, PNG, WebP; EXIF orientation applied). */
    suspend fun classify(encoded: ByteArray): Classification = cancellable { call(encoded, it) }

    /** [classify] on the calling thread. */
    fun classifyBlocking(encoded: ByteArray): Classification = call(encoded, 0L)

    /**
     * Classifies pixels read in place from a direct [ByteBuffer] (camera frames, `Bitmap`
     * copies) between its position and limit. [rowStride] is bytes per row; [crop] is in the
     * buffer's pixels; [orientation] is an EXIF code (1 = upright), applied after the crop. Do
     * not write to [pixels] until the call returns.
     *
     * @throws IllegalArgumentException if [pixels] is not direct.
     * @throws EfficientFormerException for a short buffer, bad geometry or a bad orientation.
     */
    suspend fun classify(
        pixels: ByteBuffer, width: Int, height: Int, rowStride: Int, format: PixelFormat, crop: Crop? = null, orientation: Int = 1,
    ): Classification {
        requireDirect(pixels)
        return cancellable { call(pixels, width, height, rowStride, format, crop, orientation, it) }
    }

    /** [classify] of a direct buffer, on the calling thread. */
    @JvmOverloads
    fun classifyBlocking(
        pixels: ByteBuffer, width: Int, height: Int, rowStride: Int, format: PixelFormat, crop: Crop? = null, orientation: Int = 1,
    ): Classification {
        requireDirect(pixels)
        return call(pixels, width, height, rowStride, format, crop, orientation, 0L)
    }

    /** [classify] of pixels in a heap array (copied once into native memory). */
    suspend fun classify(
        pixels: ByteArray, width: Int, height: Int, rowStride: Int, format: PixelFormat, crop: Crop? = null, orientation: Int = 1,
    ): Classification = cancellable { call(pixels, width, height, rowStride, format, crop, orientation, it) }

    /** [classify] of a heap array, on the calling thread. */
    @JvmOverloads
    fun classifyBlocking(
        pixels: ByteArray, width: Int, height: Int, rowStride: Int, format: PixelFormat, crop: Crop? = null, orientation: Int = 1,
    ): Classification = call(pixels, width, height, rowStride, format, crop, orientation, 0L)

    /**
     * Classifies a YUV 4:2:0 camera frame read in place (CameraX `YUV_420_888`, NV21, ...);
     * [crop] is in the frame's pixels, [orientation] an EXIF code applied after it.
     */
    suspend fun classify(frame: YuvFrame, crop: Crop? = null, orientation: Int = 1): Classification =
        cancellable { call(frame, crop, orientation, it) }

    /** [classify] of a YUV frame, on the calling thread. */
    @JvmOverloads
    fun classifyBlocking(frame: YuvFrame, crop: Crop? = null, orientation: Int = 1): Classification =
        call(frame, crop, orientation, 0L)

    /** Classifies [batch] preprocessed images: `[batch, 3, 224, 224]` normalised floats. */
    suspend fun classifyTensor(values: FloatArray, batch: Int = 1): List<Classification> =
        withContext(dispatcher) { classifyTensorBlocking(values, batch) }

    /** [classifyTensor] on the calling thread. */
    @JvmOverloads
    fun classifyTensorBlocking(values: FloatArray, batch: Int = 1): List<Classification> =
        handle.use { NativeBridge.classifyTensor(it, values, batch).asList() }

    override fun close() {
        HandleReaper.unregister(registration)
        handle.release()
    }

    private fun requireDirect(pixels: ByteBuffer) =
        require(pixels.isDirect) { "pixels must be a direct ByteBuffer (ByteBuffer.allocateDirect); use the ByteArray overload otherwise" }

    private fun call(encoded: ByteArray, cancel: Long) = handle.use { NativeBridge.classifyEncoded(it, encoded, cancel) }

    private fun call(
        pixels: ByteBuffer, width: Int, height: Int, rowStride: Int, format: PixelFormat, crop: Crop?, orientation: Int, cancel: Long,
    ) = handle.use {
        NativeBridge.classifyPixelBuffer(
            it, pixels, pixels.position(), pixels.remaining(), width, height, rowStride, format.code, crop?.toArray(), orientation, cancel,
        )
    }

    private fun call(
        pixels: ByteArray, width: Int, height: Int, rowStride: Int, format: PixelFormat, crop: Crop?, orientation: Int, cancel: Long,
    ) = handle.use { NativeBridge.classifyPixelArray(it, pixels, width, height, rowStride, format.code, crop?.toArray(), orientation, cancel) }

    private fun call(frame: YuvFrame, crop: Crop?, orientation: Int, cancel: Long) = handle.use {
        NativeBridge.classifyYuv(
            it, frame.y.buffer, frame.u.buffer, frame.v.buffer, frame.planes(), frame.geometry(orientation), crop?.toArray(), cancel,
        )
    }

    /**
     * Runs [call] on [dispatcher] with a native cancellation token. When the caller's coroutine
     * is cancelled, the token is cancelled at once (the core stops at its next stage boundary)
     * and this waits, non-cancellably, for the native call to return before rethrowing: the
     * caller's buffers (an `ImageProxy` about to be closed) stay valid for as long as native
     * code reads them.
     */
    private suspend fun cancellable(call: (Long) -> Classification): Classification = coroutineScope {
        val signal = CancelSignal()
        val work = async(dispatcher) { runCatching { call(signal.token) } }
        try {
            work.await().getOrThrow()
        } catch (cancelled: CancellationException) {
            signal.cancel()
            throw cancelled
        } finally {
            withContext(NonCancellable) { work.join() }
            signal.close()
        }
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
        ): Classifier = create(options, dispatcher) { o -> NativeBridge.loadPath(path, o) }

        /** Loads a model held in memory (an asset read into an array). */
        @JvmStatic
        @JvmOverloads
        fun fromBytes(
            bytes: ByteArray,
            options: ClassifierOptions = ClassifierOptions(),
            dispatcher: CoroutineDispatcher = Dispatchers.Default,
        ): Classifier = create(options, dispatcher) { o -> NativeBridge.loadBytes(bytes, o) }

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
                NativeBridge.loadBuffer(buffer, buffer.position(), buffer.remaining(), o)
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
        ): Classifier = create(options, dispatcher) { o -> NativeBridge.loadEmbeddedDefault(o) }

        private inline fun create(options: ClassifierOptions, dispatcher: CoroutineDispatcher, load: (NativeOptions) -> Long): Classifier {
            require(options.cpuThreads == null || options.cpuThreads >= 0) { "cpuThreads must not be negative" }
            return Classifier(load(NativeOptions(options)), dispatcher)
        }
    }
}
