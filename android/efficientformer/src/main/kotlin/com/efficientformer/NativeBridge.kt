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

    @JvmStatic external fun loadPath(
        path: String, backend: String, cpuThreads: Int, topK: Int, gpuCacheDir: String?, expectedVariant: String?,
    ): Long

    @JvmStatic external fun loadBytes(
        bytes: ByteArray, backend: String, cpuThreads: Int, topK: Int, gpuCacheDir: String?, expectedVariant: String?,
    ): Long

    @JvmStatic external fun loadBuffer(
        buffer: ByteBuffer, offset: Int, length: Int,
        backend: String, cpuThreads: Int, topK: Int, gpuCacheDir: String?, expectedVariant: String?,
    ): Long

    @JvmStatic external fun loadEmbeddedDefault(
        backend: String, cpuThreads: Int, topK: Int, gpuCacheDir: String?, expectedVariant: String?,
    ): Long

    @JvmStatic external fun free(handle: Long)

    @JvmStatic external fun info(handle: Long): ModelInfo

    @JvmStatic external fun prewarm(handle: Long): Double

    @JvmStatic external fun classifyEncoded(handle: Long, bytes: ByteArray): Classification

    @JvmStatic external fun classifyPixelBuffer(
        handle: Long, buffer: ByteBuffer, offset: Int, length: Int,
        width: Int, height: Int, rowStride: Int, format: Int, orientation: Int,
    ): Classification

    @JvmStatic external fun classifyPixelArray(
        handle: Long, pixels: ByteArray, width: Int, height: Int, rowStride: Int, format: Int, orientation: Int,
    ): Classification

    @JvmStatic external fun classifyTensor(handle: Long, values: FloatArray, batch: Int): Array<Classification>

    @JvmStatic external fun runProbe(
        variants: String, model: String?, backends: String, warmup: Int, runs: Int, threads: Int, batch: Int,
    ): ProbeReport
}
