//! Exporting what is on screen (a plot, the map, the beam graph) as a PNG: the app asks the
//! renderer for a screenshot, crops it to the widget's rectangle and writes the file on a helper
//! thread, so neither the screenshot nor the encoding blocks a frame.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, channel};

/// One export in progress: waits for the screenshot and the destination path.
pub struct PngExport {
    /// Widget rectangle in points.
    pub rect: egui::Rect,
    image: Receiver<Arc<egui::ColorImage>>,
    shot: Option<Arc<egui::ColorImage>>,
    /// Destination, once chosen.
    pub path: Option<PathBuf>,
}

impl PngExport {
    /// Starts an export of `rect`: requests a screenshot of the next frame from `ctx`.
    pub fn start(ctx: &egui::Context, rect: egui::Rect) -> Self {
        let (tx, rx) = channel();
        let callback = egui::ScreenshotCallback::new(move |image| {
            let _ = tx.send(image);
        });
        ctx.send_viewport_cmd(egui::ViewportCommand::Screenshot(callback));
        Self {
            rect,
            image: rx,
            shot: None,
            path: None,
        }
    }

    /// When both the screenshot and the path are here, starts writing and returns the channel of
    /// the result (the written path, or a message naming the file and the problem).
    pub fn poll(&mut self, pixels_per_point: f32) -> Option<Receiver<Result<PathBuf, String>>> {
        if self.shot.is_none() {
            self.shot = self.image.try_recv().ok();
        }
        let (shot, path) = (self.shot.clone()?, self.path.clone()?);
        let rect = self.rect;
        let (tx, rx): (Sender<Result<PathBuf, String>>, _) = channel();
        let spawned = std::thread::Builder::new()
            .name("png-export".into())
            .spawn(move || {
                let result = crop(&shot, rect, pixels_per_point)
                    .and_then(|(w, h, rgba)| {
                        crate::app::image_png::write_rgba(&path, w, h, &rgba)
                            .map_err(|e| e.to_string())
                    })
                    .map(|()| path);
                let _ = tx.send(result);
            });
        if let Err(e) = spawned {
            let (tx2, rx2) = channel();
            let _ = tx2.send(Err(format!("cannot start the PNG writer: {e}")));
            return Some(rx2);
        }
        Some(rx)
    }
}

/// Cuts `rect` (in points) out of a screenshot taken at `pixels_per_point`, as unmultiplied RGBA
/// rows, top to bottom. Fails when the rectangle lies outside the image.
pub fn crop(
    image: &egui::ColorImage,
    rect: egui::Rect,
    pixels_per_point: f32,
) -> Result<(u32, u32, Vec<u8>), String> {
    let [iw, ih] = image.size;
    let clamp = |v: f32, max: usize| (v * pixels_per_point).round().clamp(0.0, max as f32) as usize;
    let (x0, x1) = (clamp(rect.min.x, iw), clamp(rect.max.x, iw));
    let (y0, y1) = (clamp(rect.min.y, ih), clamp(rect.max.y, ih));
    if x1 <= x0 || y1 <= y0 {
        return Err(format!(
            "the area to export ({rect:?}) is not inside the {iw}x{ih} screenshot"
        ));
    }
    let mut rgba = Vec::with_capacity((x1 - x0) * (y1 - y0) * 4);
    for y in y0..y1 {
        for px in &image.pixels[y * iw + x0..y * iw + x1] {
            rgba.extend_from_slice(&px.to_srgba_unmultiplied());
        }
    }
    Ok(((x1 - x0) as u32, (y1 - y0) as u32, rgba))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crop_takes_the_scaled_rectangle() {
        // 4 x 3 image; pixel (x, y) has red = 10 x + y.
        let pixels = (0..3)
            .flat_map(|y| (0..4).map(move |x| egui::Color32::from_rgb(10 * x + y, 0, 0)))
            .collect();
        let image = egui::ColorImage::new([4, 3], pixels);
        // At 2 pixels per point, the point rect (0.5, 0.5)-(1.5, 1.5) is pixels 1..3 x 1..3.
        let rect = egui::Rect::from_min_max(egui::pos2(0.5, 0.5), egui::pos2(1.5, 1.5));
        let (w, h, rgba) = crop(&image, rect, 2.0).unwrap();
        assert_eq!((w, h), (2, 2));
        let reds: Vec<u8> = rgba.chunks(4).map(|p| p[0]).collect();
        assert_eq!(reds, vec![11, 21, 12, 22]);
        let outside = egui::Rect::from_min_max(egui::pos2(10.0, 10.0), egui::pos2(12.0, 12.0));
        assert!(crop(&image, outside, 1.0).is_err());
    }
}
