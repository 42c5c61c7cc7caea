package com.efficientformer

import java.nio.ByteBuffer

/**
 * The native methods, implemented in `bindings/jni/src/natives.rs`. Loads
 * `libefficientformer_jni` from the absolute path in the system property
 * `efficientformer.library.path` when set (JVM tests, desktop), else from the app's native
 * libraries (`System.loadLibrary`). Handles are only ever passed by [Classifier], under its lock.
 */
internal object NativeBridge {
    init {
        val path = System.getProperty("efficientformer.library.path")
        if (path != null) System.load(path) else System.loadLibrary("efficientformer_jni")
    }

    @JvmStatic external fun loadPath(path: String, options: NativeOptions): Long

    @JvmStatic external fun loadBytes(bytes: ByteArray, options: NativeOptions): Long

    @JvmStatic external fun loadBuffer(buffer: ByteBuffer, offset: Int, length: Int, options: NativeOptions): Long

    @JvmStatic external fun loadEmbeddedDefault(options: NativeOptions): Long

    @JvmStatic external fun free(handle: Long)

    @JvmStatic external fun info(handle: Long): ModelInfo

    @JvmStatic external fun prewarm(handle: Long): Double

    // `cancel` is a token from newCancelToken, or 0 for a call that cannot be cancelled; `crop`
    // is {x, y, width, height} or null.

    @JvmStatic external fun classifyEncoded(handle: Long, bytes: ByteArray, cancel: Long): Classification

    @JvmStatic external fun classifyPixelBuffer(
        handle: Long, buffer: ByteBuffer, offset: Int, length: Int,
        width: Int, height: Int, rowStride: Int, format: Int, crop: IntArray?, orientation: Int, cancel: Long,
    ): Classification

    @JvmStatic external fun classifyPixelArray(
        handle: Long, pixels: ByteArray, width: Int, height: Int, rowStride: Int, format: Int, crop: IntArray?,
        orientation: Int, cancel: Long,
    ): Classification

    /** [planes]: {offset, length, rowStride, pixelStride} of y, u, v; [geometry]: {width, height, matrix, range, orientation}. */
    @JvmStatic external fun classifyYuv(
        handle: Long, y: ByteBuffer, u: ByteBuffer, v: ByteBuffer, planes: IntArray, geometry: IntArray, crop: IntArray?, cancel: Long,
    ): Classification

    @JvmStatic external fun newCancelToken(): Long

    @JvmStatic external fun cancel(token: Long)

    @JvmStatic external fun freeCancelToken(token: Long)

    @JvmStatic external fun classifyTensor(handle: Long, values: FloatArray, batch: Int): Array<Classification>

    @JvmStatic external fun runProbe(
        variants: String, model: String?, backends: String, warmup: Int, runs: Int, threads: Int, batch: Int,
        precisions: String,
    ): ProbeReport
}
