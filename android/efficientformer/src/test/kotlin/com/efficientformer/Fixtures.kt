package com.efficientformer

import java.io.File
import java.nio.ByteBuffer
import java.nio.ByteOrder
import javax.imageio.ImageIO
import kotlin.math.abs
import kotlin.math.max
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue

/**
 * The Rust tests' fixtures (`core/tests/fixtures`, written from timm by the Python scripts in `core/reference`),
 * read here so the Kotlin tests compare against the same PyTorch outputs.
 */
object Fixtures {
    private val root = File(System.getProperty("efficientformer.fixtures") ?: error("efficientformer.fixtures is not set"))

    fun file(name: String): File = File(root, name)

    fun bytes(name: String): ByteArray = file(name).readBytes()

    /** One F32 tensor of a safetensors file. */
    fun tensor(name: String, key: String): FloatArray {
        val data = raw(name, key, "F32").order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer()
        return FloatArray(data.remaining()).also { data.get(it) }
    }

    /** One U8 tensor of a safetensors file, and its shape. */
    fun bytesTensor(name: String, key: String): Pair<ByteArray, List<Int>> {
        val data = raw(name, key, "U8")
        return ByteArray(data.remaining()).also { data.get(it) } to shape(name, key)
    }

    /** The data of one tensor: 8-byte header length, JSON header, data. */
    private fun raw(name: String, key: String, dtype: String): ByteBuffer {
        val (bytes, headerLength, entry) = entry(name, key, dtype)
        val (start, end) = entry.groupValues.drop(2).map { it.toInt() }
        return ByteBuffer.wrap(bytes, 8 + headerLength + start, end - start).slice()
    }

    private fun shape(name: String, key: String): List<Int> =
        entry(name, key, "U8").third.groupValues[1].split(",").filter { it.isNotEmpty() }.map { it.toInt() }

    private fun entry(name: String, key: String, dtype: String): Triple<ByteArray, Int, MatchResult> {
        val bytes = bytes(name)
        val headerLength = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).long.toInt()
        val header = String(bytes, 8, headerLength, Charsets.UTF_8)
        val entry = Regex("\"${Regex.escape(key)}\":\\{\"dtype\":\"$dtype\",\"shape\":\\[([0-9,]*)\\],\"data_offsets\":\\[(\\d+),(\\d+)\\]\\}")
            .find(header) ?: error("no $dtype tensor `$key` in $name")
        return Triple(bytes, headerLength, entry)
    }

    /** timm's logits for the seeded S0 (the embedded default) on `classify/chelsea_235.png`. */
    val chelseaS0Logits: FloatArray by lazy { tensor("classify/logits.safetensors", "s0") }

    /** `classify/chelsea_235.png` decoded to tightly packed RGBA8. */
    val chelseaRgba: Pixels by lazy {
        val image = ImageIO.read(file("classify/chelsea_235.png"))
        val rgba = ByteArray(image.width * image.height * 4)
        for (y in 0 until image.height) for (x in 0 until image.width) {
            val argb = image.getRGB(x, y)
            val i = (y * image.width + x) * 4
            rgba[i] = (argb shr 16).toByte(); rgba[i + 1] = (argb shr 8).toByte(); rgba[i + 2] = argb.toByte(); rgba[i + 3] = (argb ushr 24).toByte()
        }
        Pixels(rgba, image.width, image.height)
    }

    class Pixels(val rgba: ByteArray, val width: Int, val height: Int) {
        fun direct(bytes: ByteArray = rgba): ByteBuffer =
            ByteBuffer.allocateDirect(bytes.size).order(ByteOrder.nativeOrder()).put(bytes).flip() as ByteBuffer
    }

    /** A direct buffer holding [bytes]. */
    fun direct(bytes: ByteArray): ByteBuffer = ByteBuffer.allocateDirect(bytes.size).put(bytes).flip() as ByteBuffer

    /** [rows] rows of [rowBytes] from [source], each padded to [stride] bytes. */
    fun padded(source: ByteArray, rowBytes: Int, rows: Int, stride: Int): ByteArray {
        val out = ByteArray(stride * rows) { 0x55 }
        for (row in 0 until rows) System.arraycopy(source, row * rowBytes, out, row * stride, rowBytes)
        return out
    }

    /**
     * The YUV fixture (`yuv/photo.safetensors`, `core/reference/yuv_fixtures.py`): the test
     * photo's 4:2:0 planes and numpy's BT.601 RGB conversion of them.
     */
    object YuvPhoto {
        private const val FILE = "yuv/photo.safetensors"
        private val luma = bytesTensor(FILE, "y")
        val y: ByteArray = luma.first
        val u: ByteArray = bytesTensor(FILE, "u").first
        val v: ByteArray = bytesTensor(FILE, "v").first
        val rgb: ByteArray = bytesTensor(FILE, "rgb").first
        val height = luma.second[0]
        val width = luma.second[1]
        val chromaWidth = (width + 1) / 2
        val chromaHeight = (height + 1) / 2

        /**
         * `YUV_420_888` as most phones fill it (CameraX and camera2 alike): Y with rows padded
         * to [yStride]; U and V two buffers over one interleaved V,U plane (`pixelStride` 2,
         * rows of [chromaStride]), U starting one byte in, each ending at its last sample.
         */
        fun semiPlanar(yStride: Int, chromaStride: Int): List<YuvPlane> {
            val interleaved = ByteArray(chromaStride * chromaHeight)
            for (row in 0 until chromaHeight) for (column in 0 until chromaWidth) {
                interleaved[row * chromaStride + 2 * column] = v[row * chromaWidth + column]
                interleaved[row * chromaStride + 2 * column + 1] = u[row * chromaWidth + column]
            }
            val chroma = direct(interleaved)
            val end = (chromaHeight - 1) * chromaStride + 2 * (chromaWidth - 1) + 1
            val vBuffer = chroma.duplicate().limit(end) as ByteBuffer
            val uBuffer = chroma.duplicate().limit(end + 1).position(1) as ByteBuffer
            return listOf(
                YuvPlane(direct(padded(y, width, height, yStride)), yStride, 1),
                YuvPlane(uBuffer.slice(), chromaStride, 2),
                YuvPlane(vBuffer.slice(), chromaStride, 2),
            )
        }
    }

    /** Indices of the [k] largest values, largest first. */
    fun topK(values: FloatArray, k: Int): List<Int> = values.indices.sortedByDescending { values[it] }.take(k)

    /** |actual - expected| <= tolerance * max(1, |expected|) everywhere (the Rust tests' rule). */
    fun assertClose(what: String, actual: FloatArray, expected: FloatArray, tolerance: Float) {
        assertEquals(expected.size, actual.size, "$what: length")
        var worst = 0f
        for (i in expected.indices) worst = max(worst, abs(actual[i] - expected[i]) / max(1f, abs(expected[i])))
        assertTrue(worst <= tolerance, "$what: worst scaled difference $worst > $tolerance")
    }
}

/** CPU options for the tests (no GPU on CI machines). */
val cpu = ClassifierOptions(backend = Backend.CPU)
