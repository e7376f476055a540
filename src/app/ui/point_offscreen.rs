//! The embedding map's point renderer drawn into an offscreen texture instead of a window: used by
//! `tiger-bench map` (frame rate of the map on a GPU without a display) and by the tests (the
//! shader really puts coloured dots where the points are).

use std::time::Instant;

use eframe::wgpu;

use super::point_cloud::{self, PointInstance, PointPipeline, ViewUniform};

/// Texture format of the offscreen target (what the PNG gets).
const FORMAT: wgpu::TextureFormat = wgpu::TextureFormat::Rgba8Unorm;

/// Background colour of the offscreen map (the window's map background).
pub const BACKGROUND: [u8; 4] = [18, 18, 18, 255];

/// An offscreen `width` x `height` target with the point pipeline.
pub struct Offscreen {
    device: wgpu::Device,
    queue: wgpu::Queue,
    pipeline: PointPipeline,
    target: wgpu::Texture,
    readback: wgpu::Buffer,
    width: u32,
    height: u32,
    padded_row: u32,
}

/// Frame-rate measurement of the offscreen map.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MapBenchReport {
    /// GPU adapter name.
    pub adapter: String,
    /// Points drawn per frame.
    pub points: usize,
    /// Target size in pixels.
    pub width: u32,
    /// Target size in pixels.
    pub height: u32,
    /// Frames measured (after warm-up).
    pub frames: usize,
    /// Frames per second, each frame waited for to completion (no overlap between frames).
    pub fps: f64,
    /// Median frame time (ms).
    pub p50_ms: f64,
    /// 99th-percentile frame time (ms).
    pub p99_ms: f64,
    /// Pixels that differ from the background in the last frame (proof something was drawn).
    pub lit_pixels: usize,
}

impl Offscreen {
    /// Creates the target and the pipeline on `device`.
    pub fn new(device: wgpu::Device, queue: wgpu::Queue, width: u32, height: u32) -> Self {
        let pipeline = PointPipeline::new(&device, FORMAT);
        let target = device.create_texture(&wgpu::TextureDescriptor {
            label: Some("offscreen map"),
            size: wgpu::Extent3d {
                width,
                height,
                depth_or_array_layers: 1,
            },
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format: FORMAT,
            usage: wgpu::TextureUsages::RENDER_ATTACHMENT | wgpu::TextureUsages::COPY_SRC,
            view_formats: &[],
        });
        let padded_row = (width * 4).div_ceil(wgpu::COPY_BYTES_PER_ROW_ALIGNMENT)
            * wgpu::COPY_BYTES_PER_ROW_ALIGNMENT;
        let readback = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("offscreen readback"),
            size: padded_row as u64 * height as u64,
            usage: wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::MAP_READ,
            mapped_at_creation: false,
        });
        Self {
            device,
            queue,
            pipeline,
            target,
            readback,
            width,
            height,
            padded_row,
        }
    }

    /// Uploads points (`None` when empty).
    pub fn upload(&self, points: &[PointInstance]) -> Option<wgpu::Buffer> {
        self.pipeline.upload(&self.device, points)
    }

    /// Draws one frame (clear + points) and waits until the GPU has finished it.
    pub fn render(
        &self,
        instances: Option<&wgpu::Buffer>,
        count: u32,
        view: &ViewUniform,
    ) -> anyhow::Result<()> {
        self.pipeline.set_view(&self.queue, view);
        let target = self.target.create_view(&Default::default());
        let mut encoder = self.device.create_command_encoder(&Default::default());
        {
            let bg = BACKGROUND.map(|c| c as f64 / 255.0);
            let mut pass = encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
                label: Some("offscreen map"),
                color_attachments: &[Some(wgpu::RenderPassColorAttachment {
                    view: &target,
                    depth_slice: None,
                    resolve_target: None,
                    ops: wgpu::Operations {
                        load: wgpu::LoadOp::Clear(wgpu::Color {
                            r: bg[0],
                            g: bg[1],
                            b: bg[2],
                            a: 1.0,
                        }),
                        store: wgpu::StoreOp::Store,
                    },
                })],
                ..Default::default()
            });
            if let Some(buf) = instances {
                self.pipeline.draw(&mut pass, buf, count);
            }
        }
        let index = self.queue.submit([encoder.finish()]);
        self.device
            .poll(wgpu::PollType::Wait {
                submission_index: Some(index),
                timeout: None,
            })
            .map_err(|e| anyhow::anyhow!("the GPU did not finish the frame: {e}"))?;
        Ok(())
    }

    /// Copies the last frame back as RGBA8 rows, top to bottom.
    pub fn read_rgba(&self) -> anyhow::Result<Vec<u8>> {
        let mut encoder = self.device.create_command_encoder(&Default::default());
        encoder.copy_texture_to_buffer(
            self.target.as_image_copy(),
            wgpu::TexelCopyBufferInfo {
                buffer: &self.readback,
                layout: wgpu::TexelCopyBufferLayout {
                    offset: 0,
                    bytes_per_row: Some(self.padded_row),
                    rows_per_image: Some(self.height),
                },
            },
            wgpu::Extent3d {
                width: self.width,
                height: self.height,
                depth_or_array_layers: 1,
            },
        );
        let index = self.queue.submit([encoder.finish()]);
        let slice = self.readback.slice(..);
        let (tx, rx) = std::sync::mpsc::channel();
        slice.map_async(wgpu::MapMode::Read, move |r| {
            let _ = tx.send(r);
        });
        self.device
            .poll(wgpu::PollType::Wait {
                submission_index: Some(index),
                timeout: None,
            })
            .map_err(|e| anyhow::anyhow!("the GPU did not finish the copy: {e}"))?;
        rx.recv()
            .map_err(|_| anyhow::anyhow!("the readback was dropped"))?
            .map_err(|e| anyhow::anyhow!("cannot map the readback buffer: {e}"))?;
        let mut out = Vec::with_capacity((self.width * self.height * 4) as usize);
        {
            let data = slice
                .get_mapped_range()
                .map_err(|e| anyhow::anyhow!("cannot read the readback buffer: {e}"))?;
            for row in data.chunks(self.padded_row as usize) {
                out.extend_from_slice(&row[..(self.width * 4) as usize]);
            }
        }
        self.readback.unmap();
        Ok(out)
    }
}

/// The view that fits all points into a `width` x `height` target (the map's double-click view),
/// with dots of `radius` pixels.
pub fn fit_view(points: &[PointInstance], width: u32, height: u32, radius: f32) -> ViewUniform {
    let (min, max) = point_cloud::bounds(points);
    let (w, h) = (width as f32, height as f32);
    let center = [(min[0] + max[0]) / 2.0, (min[1] + max[1]) / 2.0];
    ViewUniform::new(
        center,
        point_cloud::fit_units(min, max, w, h),
        (w, h),
        radius,
        None,
    )
}

/// Pixels of `rgba` that differ from [`BACKGROUND`].
pub fn lit_pixels(rgba: &[u8]) -> usize {
    rgba.chunks_exact(4)
        .filter(|px| px[..3] != BACKGROUND[..3])
        .count()
}

/// Draws `points` `frames` times (after 10 warm-up frames), each frame waited for, and reports the
/// frame rate. The view zooms slightly every frame so no frame is a repeat of the last.
pub fn bench(
    offscreen: &Offscreen,
    adapter: String,
    points: &[PointInstance],
    frames: usize,
) -> anyhow::Result<MapBenchReport> {
    let frames = frames.max(1);
    let buf = offscreen.upload(points);
    let base = fit_view(points, offscreen.width, offscreen.height, 2.0);
    let mut times = Vec::with_capacity(frames);
    for f in 0..frames + 10 {
        let mut view = base;
        let z = 1.0 + 0.2 * ((f as f32) * 0.05).sin();
        view.scale = [base.scale[0] * z, base.scale[1] * z];
        let t = Instant::now();
        offscreen.render(buf.as_ref(), points.len() as u32, &view)?;
        if f >= 10 {
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
    }
    offscreen.render(buf.as_ref(), points.len() as u32, &base)?;
    let lit = lit_pixels(&offscreen.read_rgba()?);
    let total: f64 = times.iter().sum();
    times.sort_by(f64::total_cmp);
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    Ok(MapBenchReport {
        adapter,
        points: points.len(),
        width: offscreen.width,
        height: offscreen.height,
        frames,
        fps: frames as f64 / (total / 1000.0),
        p50_ms: at(0.5),
        p99_ms: at(0.99),
        lit_pixels: lit,
    })
}
