package com.efficientformer

import java.nio.ByteBuffer

/**
 * A rectangle of a frame in the frame's own pixels, origin at its top-left, before the frame's
 * orientation is applied (as CameraX's `ImageProxy.cropRect`).
 */
data class Crop(val x: Int, val y: Int, val width: Int, val height: Int) {
    internal fun toArray(): IntArray = intArrayOf(x, y, width, height)
}

/** YUV colour matrix. */
enum class YuvMatrix(internal val code: Int) {
    /** ITU-R BT.601: Android camera frames, JPEG. */
    BT601(0),

    /** ITU-R BT.709: HD video. */
    BT709(1),
}

/** YUV code range. */
enum class YuvRange(internal val code: Int) {
    /** 0-255 (JFIF; CameraX `YUV_420_888`). */
    FULL(0),

    /** Luma 16-235, chroma 16-240 (broadcast video). */
    VIDEO(1),
}

/**
 * One plane of a YUV frame: a direct [buffer] read in place between its position and limit,
 * [rowStride] bytes from one row to the next, [pixelStride] bytes from one sample to the next
 * (as `ImageProxy.PlaneProxy` reports them).
 */
class YuvPlane(val buffer: ByteBuffer, val rowStride: Int, val pixelStride: Int = 1) {
    init {
        require(buffer.isDirect) { "YUV planes must be direct ByteBuffers (as ImageProxy's are)" }
    }
}

/**
 * A YUV 4:2:0 frame: luma [width] x [height], chroma half that (rounded up) in each direction.
 * The general three-plane form covers CameraX's `YUV_420_888` (chroma `pixelStride` 1 or 2);
 * [nv21], [nv12] and [i420] describe the one-buffer layouts.
 */
class YuvFrame(
    val y: YuvPlane,
    val u: YuvPlane,
    val v: YuvPlane,
    val width: Int,
    val height: Int,
    val matrix: YuvMatrix = YuvMatrix.BT601,
    val range: YuvRange = YuvRange.FULL,
) {
    internal fun planes(): IntArray = listOf(y, u, v)
        .flatMap { listOf(it.buffer.position(), it.buffer.remaining(), it.rowStride, it.pixelStride) }
        .toIntArray()

    internal fun geometry(orientation: Int): IntArray = intArrayOf(width, height, matrix.code, range.code, orientation)

    /** One-buffer layouts, planes one after another from the buffer's position. */
    companion object {
        /** Y rows of [rowStride] bytes, then interleaved V, U rows of [rowStride] bytes (`ImageFormat.NV21`). */
        @JvmStatic
        @JvmOverloads
        fun nv21(buffer: ByteBuffer, width: Int, height: Int, rowStride: Int = width + width % 2): YuvFrame =
            interleaved(buffer, width, height, rowStride, vFirst = true)

        /** Y rows of [rowStride] bytes, then interleaved U, V rows of [rowStride] bytes. */
        @JvmStatic
        @JvmOverloads
        fun nv12(buffer: ByteBuffer, width: Int, height: Int, rowStride: Int = width + width % 2): YuvFrame =
            interleaved(buffer, width, height, rowStride, vFirst = false)

        /** Y rows of [rowStride] bytes, then the U and V planes with rows of `(rowStride + 1) / 2` bytes. */
        @JvmStatic
        @JvmOverloads
        fun i420(buffer: ByteBuffer, width: Int, height: Int, rowStride: Int = width): YuvFrame {
            val chromaStride = (rowStride + 1) / 2
            val chromaBytes = chromaStride * ((height + 1) / 2)
            val u = from(buffer, rowStride * height)
            val v = from(buffer, rowStride * height + chromaBytes)
            return YuvFrame(YuvPlane(buffer.duplicate(), rowStride), YuvPlane(u, chromaStride), YuvPlane(v, chromaStride), width, height)
        }

        private fun interleaved(buffer: ByteBuffer, width: Int, height: Int, rowStride: Int, vFirst: Boolean): YuvFrame {
            val chroma = rowStride * height
            val first = from(buffer, chroma)
            val second = from(buffer, chroma + 1)
            val (u, v) = if (vFirst) second to first else first to second
            return YuvFrame(YuvPlane(buffer.duplicate(), rowStride), YuvPlane(u, rowStride, 2), YuvPlane(v, rowStride, 2), width, height)
        }

        /** A view of [buffer] from [offset] bytes past its position (empty past its limit). */
        private fun from(buffer: ByteBuffer, offset: Int): ByteBuffer {
            val view = buffer.duplicate()
            view.position(minOf(view.limit(), view.position() + maxOf(0, offset)))
            return view
        }
    }
}
