package com.efficientformer.camera

import android.annotation.SuppressLint
import android.content.Context
import android.graphics.ImageFormat
import android.graphics.SurfaceTexture
import android.hardware.camera2.CameraCaptureSession
import android.hardware.camera2.CameraCharacteristics
import android.hardware.camera2.CameraDevice
import android.hardware.camera2.CameraManager
import android.media.Image
import android.media.ImageReader
import android.os.Handler
import android.os.HandlerThread
import android.view.Surface

/**
 * The back camera through camera2: a preview into [preview] and 640x480 `YUV_420_888` frames
 * into an `ImageReader` of two images, each handed to [onFrame] with the rotation that makes
 * it upright on a portrait display. [onFrame] runs on the camera thread and owns the image:
 * it must close it, at once or after classifying it elsewhere (the reader never waits on it:
 * with one image held, `acquireLatestImage` still has the other).
 */
class CameraSession(
    context: Context,
    private val preview: SurfaceTexture,
    private val onFrame: (image: Image, rotationDegrees: Int) -> Unit,
    private val onError: (String) -> Unit,
) : AutoCloseable {
    private val manager = context.getSystemService(CameraManager::class.java)
    private val thread = HandlerThread("camera").apply { start() }
    private val handler = Handler(thread.looper)
    private val reader = ImageReader.newInstance(640, 480, ImageFormat.YUV_420_888, 2)
    private var device: CameraDevice? = null

    /** Opens the back camera; needs the `CAMERA` permission granted. */
    @SuppressLint("MissingPermission")
    fun open() {
        val id = manager.cameraIdList.firstOrNull {
            manager.getCameraCharacteristics(it).get(CameraCharacteristics.LENS_FACING) == CameraCharacteristics.LENS_FACING_BACK
        } ?: return onError("no back camera")
        val sensor = manager.getCameraCharacteristics(id).get(CameraCharacteristics.SENSOR_ORIENTATION) ?: 90
        val rotation = frameRotation(sensor, displayDegrees = 0, frontFacing = false)
        reader.setOnImageAvailableListener({ source ->
            source.acquireLatestImage()?.let { onFrame(it, rotation) }
        }, handler)
        manager.openCamera(id, object : CameraDevice.StateCallback() {
            override fun onOpened(camera: CameraDevice) {
                device = camera
                startCapture(camera)
            }

            override fun onDisconnected(camera: CameraDevice) = camera.close()

            override fun onError(camera: CameraDevice, error: Int) {
                camera.close()
                onError("camera error $error")
            }
        }, handler)
    }

    @Suppress("DEPRECATION") // SessionConfiguration needs API 28; the app supports 24.
    private fun startCapture(camera: CameraDevice) {
        preview.setDefaultBufferSize(640, 480)
        val previewSurface = Surface(preview)
        val targets = listOf(previewSurface, reader.surface)
        camera.createCaptureSession(targets, object : CameraCaptureSession.StateCallback() {
            override fun onConfigured(session: CameraCaptureSession) {
                val request = camera.createCaptureRequest(CameraDevice.TEMPLATE_PREVIEW).apply { targets.forEach(::addTarget) }
                session.setRepeatingRequest(request.build(), null, handler)
            }

            override fun onConfigureFailed(session: CameraCaptureSession) = onError("camera session failed")
        }, handler)
    }

    override fun close() {
        device?.close()
        reader.close()
        thread.quitSafely()
    }
}
