package com.efficientformer

import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

/** A short probe through the Kotlin API returns a report of the documented shape. */
class ProbeTest {
    @Test
    fun `short probe reports S0 on the CPU beside the paper`() = runBlocking {
        val report = LatencyProbe.run(ProbeOptions(variants = listOf("s0"), backends = listOf("cpu"), warmup = 1, runs = 3, threads = 2))
        val row = report.rows.single()
        assertEquals("s0", row.variant)
        assertEquals(3_600_256L, row.parameters)
        assertEquals(0.9, row.paperMs)
        assertEquals(2, row.threads)
        assertTrue(row.minMs > 0 && row.minMs <= row.medianMs && row.medianMs <= row.p99Ms)
        assertTrue(report.skipped.isEmpty())
        assertTrue(report.json.contains("\"rows\""))
        assertTrue(report.markdown.contains("iPhone 12"))
        assertTrue(report.tfliteSummary.contains("Inference timings in us"))
    }

    @Test
    fun `the probe measures each precision asked for`() {
        val options = ProbeOptions(variants = listOf("s0"), backends = listOf("cpu"), warmup = 0, runs = 1, precisions = listOf(Precision.F32, Precision.F16))
        val rows = LatencyProbe.runBlocking(options).rows
        assertEquals(listOf(Precision.F32, Precision.F16), rows.map { it.requestedPrecision })
        assertEquals(Precision.F32, rows[0].precision)
    }

    @Test
    fun `bad probe options throw`() {
        val error = assertThrows<EfficientFormerException> { LatencyProbe.runBlocking(ProbeOptions(variants = listOf("xl"))) }
        assertEquals(EfficientFormerException.INVALID_INPUT, error.code)
    }
}
