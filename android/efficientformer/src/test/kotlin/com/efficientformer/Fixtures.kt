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
