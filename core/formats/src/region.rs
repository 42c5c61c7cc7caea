//! A region of interest: the rectangle of a frame the SDK looks at, in the frame's own pixel
//! coordinates (before its orientation is applied), as CameraX's `ImageProxy.cropRect` and a
//! `CVPixelBuffer`'s clean aperture are given.

use crate::error::{Error, Result};
use crate::image_input::geometry;

/// `width` x `height` pixels whose top-left corner is column `x`, row `y` of the frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rect {
    /// First column.
    pub x: u32,
    /// First row.
    pub y: u32,
    /// Columns.
    pub width: u32,
    /// Rows.
    pub height: u32,
}

impl Rect {
    /// A rectangle described in the signed integers of Kotlin and Swift; negative values are
    /// [`Error::InvalidGeometry`].
    pub fn from_signed(x: i64, y: i64, width: i64, height: i64) -> Result<Rect> {
        Ok(Rect {
            x: geometry(x, "crop x")?,
            y: geometry(y, "crop y")?,
            width: geometry(width, "crop width")?,
            height: geometry(height, "crop height")?,
        })
    }

    /// `crop`, checked to be a non-empty rectangle inside a `width` x `height` frame, or the
    /// whole frame when `None`.
    pub fn within(crop: Option<Rect>, width: u32, height: u32) -> Result<Rect> {
        let Some(rect) = crop else { return Ok(Rect { x: 0, y: 0, width, height }) };
        let inside = |start: u32, extent: u32, limit: u32| u64::from(start) + u64::from(extent) <= u64::from(limit);
        if rect.width == 0 || rect.height == 0 {
            return Err(Error::InvalidGeometry(format!("empty crop {}x{}", rect.width, rect.height)));
        }
        if !inside(rect.x, rect.width, width) || !inside(rect.y, rect.height, height) {
            return Err(Error::InvalidGeometry(format!(
                "crop {}x{} at ({}, {}) reaches outside the {width}x{height} frame",
                rect.width, rect.height, rect.x, rect.y
            )));
        }
        Ok(rect)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crops_must_lie_inside_the_frame() {
        let whole = Rect::within(None, 640, 480).unwrap();
        assert_eq!(whole, Rect { x: 0, y: 0, width: 640, height: 480 });
        let corner = Rect { x: 600, y: 400, width: 40, height: 80 };
        assert_eq!(Rect::within(Some(corner), 640, 480).unwrap(), corner);
        for bad in [
            Rect { x: 601, y: 400, width: 40, height: 80 },
            Rect { x: 0, y: 0, width: 0, height: 10 },
            Rect { x: u32::MAX, y: 0, width: 2, height: 2 },
        ] {
            assert!(matches!(Rect::within(Some(bad), 640, 480), Err(Error::InvalidGeometry(_))), "{bad:?}");
        }
        assert!(Rect::from_signed(-1, 0, 4, 4).is_err());
    }
}
