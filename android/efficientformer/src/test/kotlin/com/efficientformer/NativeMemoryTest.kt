package com.efficientformer

import java.io.File
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.condition.EnabledOnOs
import org.junit.jupiter.api.condition.OS

/**
 * Thousands of create/classify/close cycles leave resident memory flat. The JVM heap is fixed
 * and pre-touched and glibc keeps two malloc arenas (surefire's configuration in pom.xml), so
 * growth in RSS is native memory that was not freed.
 */
@EnabledOnOs(OS.LINUX)
class NativeMemoryTest {
    private fun residentKiB(): Long =
        File("/proc/self/status").readLines().first { it.startsWith("VmRSS:") }.split(Regex("\\s+"))[1].toLong()

    private fun cycles(model: ByteArray, input: FloatArray, count: Int) = repeat(count) {
        Classifier.fromBytes(model, cpu.copy(cpuThreads = 1)).use { it.classifyTensorBlocking(input) }
    }

    @Test
    fun `create, classify and close does not grow native memory`() {
        val model = Fixtures.bytes("tiny/timm_f32.safetensors")
        val input = FloatArray(3 * 224 * 224) { (it % 11) / 11f }
        val start = residentKiB()
        // RSS first rises by some 20-30 MiB (JIT, malloc arenas) and then stays flat.
        cycles(model, input, 1000)
        System.gc()
        val before = residentKiB()
        val count = 2000
        cycles(model, input, count)
        System.gc()
        val after = residentKiB()
        val perCycle = (after - before) * 1024.0 / count
        println(
            "NativeMemoryTest: RSS ${start / 1024} MiB at start, ${before / 1024} MiB after 1000 warm-up cycles, " +
                "${after / 1024} MiB after $count more (${"%.1f".format(perCycle)} bytes/cycle; model ${model.size} bytes)",
        )
        assertTrue(perCycle < 1024, "RSS grew ${after - before} KiB over $count cycles")
    }
}
