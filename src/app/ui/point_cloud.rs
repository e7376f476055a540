//! GPU point-cloud renderer for the embedding map: `shaders/points.wgsl` drawn through an egui-wgpu
//! paint callback, one instanced triangle per item. The points are uploaded once per change of the
//! map or the semantic IDs (tracked by a generation number); each frame only the 32-byte view
//! uniform is written, so tens of thousands of points cost one draw call.

use std::sync::Arc;

use eframe::egui_wgpu::{self, CallbackResources, CallbackTrait, ScreenDescriptor};
use eframe::wgpu;
use eframe::wgpu::util::DeviceExt;

/// One point as the vertex shader reads it (per instance).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct PointInstance {
    /// Position in data space.
    pub position: [f32; 2],
    /// sRGB colour with alpha.
    pub color: [u8; 4],
}

/// The view uniform (matches `View` in the shader).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct ViewUniform {
    /// Data-space point shown at the centre of the viewport.
    pub center: [f32; 2],
    /// Data units to clip units, per axis.
    pub scale: [f32; 2],
    /// Half the dot size in clip units, per axis.
    pub half_size: [f32; 2],
    /// Index of the highlighted point, or `u32::MAX`.
    pub highlight: u32,
    /// Padding to 16 bytes.
    pub pad: u32,
}

/// The points to draw and their generation; a new generation re-uploads the instance buffer.
#[derive(Debug, Clone)]
pub struct PointSet {
    /// Changes whenever `points` changes.
    pub generation: u64,
    /// The points, shared with the UI without copying each frame.
    pub points: Arc<Vec<PointInstance>>,
}

/// The compiled shader, its pipeline and the view uniform: everything but the points.
pub struct PointPipeline {
    pipeline: wgpu::RenderPipeline,
    uniform: wgpu::Buffer,
    bind_group: wgpu::BindGroup,
}

/// GPU objects kept in egui-wgpu's callback resources.
struct Resources {
    pipeline: PointPipeline,
    instances: Option<wgpu::Buffer>,
    count: u32,
    generation: u64,
}

/// The WGSL source, compiled into the binary.
const SHADER: &str = include_str!("../../../shaders/points.wgsl");

/// Creates the pipeline and stores it in the renderer's callback resources. Returns false when the
/// window is not drawn by wgpu (the map then falls back to egui_plot).
pub fn register(render_state: Option<&egui_wgpu::RenderState>) -> bool {
    let Some(rs) = render_state else {
        return false;
    };
    let pipeline = PointPipeline::new(&rs.device, rs.target_format);
    rs.renderer.write().callback_resources.insert(Resources {
        pipeline,
        instances: None,
        count: 0,
        generation: u64::MAX,
    });
    true
}

impl PointPipeline {
    /// Compiles `shaders/points.wgsl` for colour targets of `format` (one sample, no depth).
    pub fn new(device: &wgpu::Device, format: wgpu::TextureFormat) -> Self {
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("points.wgsl"),
            source: wgpu::ShaderSource::Wgsl(SHADER.into()),
        });
        let uniform = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("point view"),
            contents: bytemuck::bytes_of(&ViewUniform::zeroed_view()),
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
        });
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("point view"),
            entries: &[wgpu::BindGroupLayoutEntry {
                binding: 0,
                visibility: wgpu::ShaderStages::VERTEX,
                ty: wgpu::BindingType::Buffer {
                    ty: wgpu::BufferBindingType::Uniform,
                    has_dynamic_offset: false,
                    min_binding_size: None,
                },
                count: None,
            }],
        });
        let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("point view"),
            layout: &layout,
            entries: &[wgpu::BindGroupEntry {
                binding: 0,
                resource: uniform.as_entire_binding(),
            }],
        });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("points"),
            bind_group_layouts: &[Some(&layout)],
            immediate_size: 0,
        });
        let attributes = wgpu::vertex_attr_array![0 => Float32x2, 1 => Unorm8x4];
        let pipeline = device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
            label: Some("points"),
            layout: Some(&pipeline_layout),
            vertex: wgpu::VertexState {
                module: &module,
                entry_point: Some("vs_main"),
                compilation_options: Default::default(),
                buffers: &[Some(wgpu::VertexBufferLayout {
                    array_stride: std::mem::size_of::<PointInstance>() as u64,
                    step_mode: wgpu::VertexStepMode::Instance,
                    attributes: &attributes,
                })],
            },
            primitive: wgpu::PrimitiveState::default(),
            depth_stencil: None,
            multisample: wgpu::MultisampleState::default(),
            fragment: Some(wgpu::FragmentState {
                module: &module,
                entry_point: Some("fs_main"),
                compilation_options: Default::default(),
                targets: &[Some(wgpu::ColorTargetState {
                    format,
                    blend: Some(wgpu::BlendState::PREMULTIPLIED_ALPHA_BLENDING),
                    write_mask: wgpu::ColorWrites::ALL,
                })],
            }),
            multiview_mask: None,
            cache: None,
        });
        Self {
            pipeline,
            uniform,
            bind_group,
        }
    }

    /// Uploads the points into a new vertex buffer (`None` when there are none).
    pub fn upload(&self, device: &wgpu::Device, points: &[PointInstance]) -> Option<wgpu::Buffer> {
        (!points.is_empty()).then(|| {
            device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some("point instances"),
                contents: bytemuck::cast_slice(points),
                usage: wgpu::BufferUsages::VERTEX,
            })
        })
    }

    /// Writes the view uniform for the next draw.
    pub fn set_view(&self, queue: &wgpu::Queue, view: &ViewUniform) {
        queue.write_buffer(&self.uniform, 0, bytemuck::bytes_of(view));
    }

    /// Records the draw of `count` points from `instances` into `pass`.
    pub fn draw(&self, pass: &mut wgpu::RenderPass<'_>, instances: &wgpu::Buffer, count: u32) {
        pass.set_pipeline(&self.pipeline);
        pass.set_bind_group(0, &self.bind_group, &[]);
        pass.set_vertex_buffer(0, instances.slice(..));
        pass.draw(0..3, 0..count);
    }
}

/// Bounding box `(min, max)` of the points' positions; `(0, 0)-(1, 1)` when there are none.
pub fn bounds(points: &[PointInstance]) -> ([f32; 2], [f32; 2]) {
    if points.is_empty() {
        return ([0.0; 2], [1.0; 2]);
    }
    let mut min = [f32::INFINITY; 2];
    let mut max = [f32::NEG_INFINITY; 2];
    for p in points {
        for a in 0..2 {
            min[a] = min[a].min(p.position[a]);
            max[a] = max[a].max(p.position[a]);
        }
    }
    (min, max)
}

/// Data units per pixel that fit the box `min`-`max` into `width` x `height` pixels with a 4 %
/// margin on each side.
pub fn fit_units(min: [f32; 2], max: [f32; 2], width: f32, height: f32) -> f32 {
    ((max[0] - min[0]) / width)
        .max((max[1] - min[1]) / height)
        .max(1e-9)
        * 1.08
}

impl ViewUniform {
    /// The view of a `width` x `height` pixel viewport centred on `center` at `units` data units
    /// per pixel, dots of `radius` pixels, `highlight` drawn big and white.
    pub fn new(
        center: [f32; 2],
        units: f32,
        (width, height): (f32, f32),
        radius: f32,
        highlight: Option<u32>,
    ) -> Self {
        Self {
            center,
            scale: [2.0 / (units * width), 2.0 / (units * height)],
            half_size: [2.0 * radius / width, 2.0 * radius / height],
            highlight: highlight.unwrap_or(u32::MAX),
            pad: 0,
        }
    }

    /// A view that draws nothing visible (before the first frame).
    pub fn zeroed_view() -> Self {
        Self {
            center: [0.0; 2],
            scale: [1.0; 2],
            half_size: [0.0; 2],
            highlight: u32::MAX,
            pad: 0,
        }
    }
}

/// One frame's draw of a [`PointSet`] with a [`ViewUniform`].
pub struct PointCloudCallback {
    /// What to draw.
    pub set: PointSet,
    /// How to place it.
    pub view: ViewUniform,
}

impl CallbackTrait for PointCloudCallback {
    fn prepare(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        _screen: &ScreenDescriptor,
        _encoder: &mut wgpu::CommandEncoder,
        resources: &mut CallbackResources,
    ) -> Vec<wgpu::CommandBuffer> {
        let Some(res) = resources.get_mut::<Resources>() else {
            return Vec::new();
        };
        if res.generation != self.set.generation {
            res.instances = res.pipeline.upload(device, &self.set.points);
            res.count = self.set.points.len() as u32;
            res.generation = self.set.generation;
        }
        res.pipeline.set_view(queue, &self.view);
        Vec::new()
    }

    fn paint(
        &self,
        _info: egui::PaintCallbackInfo,
        pass: &mut wgpu::RenderPass<'static>,
        resources: &CallbackResources,
    ) {
        let Some(res) = resources.get::<Resources>() else {
            return;
        };
        let Some(instances) = &res.instances else {
            return;
        };
        res.pipeline.draw(pass, instances, res.count);
    }
}

/// A paint callback drawing `set` into `rect` with `view`.
pub fn paint_callback(rect: egui::Rect, set: PointSet, view: ViewUniform) -> egui::PaintCallback {
    egui_wgpu::Callback::new_paint_callback(rect, PointCloudCallback { set, view })
}
