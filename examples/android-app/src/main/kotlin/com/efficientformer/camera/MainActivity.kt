package com.efficientformer.camera

import android.Manifest
import android.app.Activity
import android.content.pm.PackageManager
import android.graphics.Color
import android.graphics.SurfaceTexture
import android.graphics.Typeface
import android.media.Image
import android.os.Bundle
import android.view.TextureView
import android.view.ViewGroup.LayoutParams.MATCH_PARENT
import android.view.ViewGroup.LayoutParams.WRAP_CONTENT
import android.widget.Button
import android.widget.FrameLayout
import android.widget.LinearLayout
import android.widget.ScrollView
import android.widget.TextView
import com.efficientformer.Classifier
import com.efficientformer.EfficientFormerException
import com.efficientformer.LatencyProbe
import com.efficientformer.classifyBlocking
import java.util.concurrent.Executors

/**
 * The camera preview with the top-3 classes of the latest classified frame and its
 * milliseconds over it, and a button that runs the latency probe and shows its table.
 * Framework APIs only: camera2 ([CameraSession]), views built here, executors for threads.
 */
class MainActivity : Activity() {
    private val gate = FrameGate()
    private val classifying = Executors.newSingleThreadExecutor()
    private val probing = Executors.newSingleThreadExecutor()

    @Volatile
    private var classifier: Classifier? = null
    private var camera: CameraSession? = null
    private var probeRunning = false
    private var resumed = false
    private lateinit var preview: TextureView
    private lateinit var results: TextView
    private lateinit var probeTable: TextView

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        preview = TextureView(this)
        results = TextView(this).apply {
            typeface = Typeface.MONOSPACE
            setTextColor(Color.WHITE)
            setBackgroundColor(0x99000000.toInt())
            setPadding(24, 24, 24, 24)
            text = "Loading the model…"
        }
        val probeButton = Button(this).apply {
            text = "Latency probe"
            setOnClickListener { runProbe(this) }
        }
        probeTable = TextView(this).apply {
            typeface = Typeface.MONOSPACE
            textSize = 9f
            setTextColor(Color.WHITE)
            setBackgroundColor(0x99000000.toInt())
        }
        val overlay = LinearLayout(this).apply {
            orientation = LinearLayout.VERTICAL
            addView(results, MATCH_PARENT, WRAP_CONTENT)
            addView(probeButton, WRAP_CONTENT, WRAP_CONTENT)
            addView(ScrollView(this@MainActivity).apply { addView(probeTable) }, MATCH_PARENT, MATCH_PARENT)
        }
        setContentView(FrameLayout(this).apply {
            addView(preview, MATCH_PARENT, MATCH_PARENT)
            addView(overlay, MATCH_PARENT, MATCH_PARENT)
        })
        preview.surfaceTextureListener = object : TextureView.SurfaceTextureListener {
            override fun onSurfaceTextureAvailable(surface: SurfaceTexture, width: Int, height: Int) = startCamera()
            override fun onSurfaceTextureSizeChanged(surface: SurfaceTexture, width: Int, height: Int) {}
            override fun onSurfaceTextureDestroyed(surface: SurfaceTexture) = true
            override fun onSurfaceTextureUpdated(surface: SurfaceTexture) {}
        }
        classifying.execute {
            val text = try {
                val loaded = openClassifier(this)
                classifier = loaded
                if (loaded.info.untrained) UNTRAINED_WARNING else "Model: EfficientFormerV2-${loaded.info.variant.uppercase()}"
            } catch (e: EfficientFormerException) {
                "Could not load the model: ${e.message}"
            }
            runOnUiThread { results.text = text }
        }
        if (checkSelfPermission(Manifest.permission.CAMERA) != PackageManager.PERMISSION_GRANTED) {
            requestPermissions(arrayOf(Manifest.permission.CAMERA), CAMERA_REQUEST)
        }
    }

    override fun onRequestPermissionsResult(requestCode: Int, permissions: Array<out String>, grantResults: IntArray) {
        if (requestCode != CAMERA_REQUEST) return
        if (grantResults.firstOrNull() == PackageManager.PERMISSION_GRANTED) startCamera() else results.text = "The camera permission is needed to classify frames."
    }

    override fun onResume() {
        super.onResume()
        resumed = true
        gate.setPaused(probeRunning)
        startCamera()
    }

    override fun onPause() {
        resumed = false
        gate.setPaused(true)
        // The frame in flight (if any) is closed before its reader is: closing an ImageReader
        // frees the images it handed out.
        classifying.submit {}.get()
        camera?.close()
        camera = null
        super.onPause()
    }

    override fun onDestroy() {
        classifying.shutdown()
        probing.shutdown()
        classifier?.close()
        super.onDestroy()
    }

    private fun startCamera() {
        val texture = preview.surfaceTexture ?: return
        if (!resumed || camera != null || checkSelfPermission(Manifest.permission.CAMERA) != PackageManager.PERMISSION_GRANTED) return
        camera = CameraSession(this, texture, ::onFrame) { message -> runOnUiThread { results.text = message } }.also { it.open() }
    }

    /** On the camera thread: classify this frame if none is running, else drop it. */
    private fun onFrame(image: Image, rotationDegrees: Int) {
        val model = classifier
        if (model == null || !gate.tryEnter()) {
            image.close()
            return
        }
        classifying.execute {
            val text = try {
                val start = System.nanoTime()
                val result = model.classifyBlocking(image, rotationDegrees)
                frameText(result, (System.nanoTime() - start) / 1e6, gate.droppedFrames, model.info.untrained)
            } catch (e: EfficientFormerException) {
                "Classification failed: ${e.message}"
            } finally {
                image.close()
                gate.exit()
            }
            runOnUiThread { results.text = text }
        }
    }

    /** The paper's protocol (50 warm-up runs, the mean of 500; S0 to L; CPU and GPU), camera paused. */
    private fun runProbe(button: Button) {
        button.isEnabled = false
        probeRunning = true
        gate.setPaused(true)
        probeTable.text = "Running the latency probe: S0, S1, S2 and L on the CPU and the GPU (a minute or two)…"
        probing.execute {
            val table = try {
                LatencyProbe.runBlocking().markdown
            } catch (e: EfficientFormerException) {
                "The probe failed: ${e.message}"
            }
            runOnUiThread {
                probeTable.text = table
                button.isEnabled = true
                probeRunning = false
                gate.setPaused(!resumed)
            }
        }
    }

    private companion object {
        const val CAMERA_REQUEST = 1
    }
}
