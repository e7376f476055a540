// Point-cloud renderer for the embedding map: one instanced triangle per item, drawn as a round dot.
//
// Vertex buffer (per instance): data-space position (vec2<f32>) and sRGB colour (unorm8x4).
// Uniform `view` maps data space to clip space inside the paint callback's viewport:
//     clip = (position - center) * scale
// and gives the dot's half size in clip units (so dots keep their pixel size when zooming).

struct View {
    center: vec2<f32>,
    scale: vec2<f32>,
    half_size: vec2<f32>,
    // Index of the highlighted (hovered or selected) item, or 0xffffffff for none.
    highlight: u32,
    _pad: u32,
};

@group(0) @binding(0) var<uniform> view: View;

struct VertexOut {
    @builtin(position) clip: vec4<f32>,
    @location(0) color: vec4<f32>,
    // Position inside the dot, -1..1 on both axes.
    @location(1) local: vec2<f32>,
};

@vertex
fn vs_main(
    @builtin(vertex_index) vertex: u32,
    @builtin(instance_index) instance: u32,
    @location(0) position: vec2<f32>,
    @location(1) color: vec4<f32>,
) -> VertexOut {
    // One triangle whose inscribed circle is the dot: 3 vertices per point instead of a quad's 6.
    // Vertices (0, 2), (-sqrt 3, -1), (sqrt 3, -1), computed without a local array.
    let corner = vec2<f32>(
        select(0.0, select(-1.7320508, 1.7320508, vertex == 2u), vertex > 0u),
        select(2.0, -1.0, vertex > 0u),
    );
    var half = view.half_size;
    var rgba = color;
    if instance == view.highlight {
        half = half * 3.0;
        rgba = vec4<f32>(1.0, 1.0, 1.0, 1.0);
    }
    let center = (position - view.center) * view.scale;
    var out: VertexOut;
    out.clip = vec4<f32>(center + corner * half, 0.0, 1.0);
    out.color = rgba;
    out.local = corner;
    return out;
}

@fragment
fn fs_main(in: VertexOut) -> @location(0) vec4<f32> {
    let r2 = dot(in.local, in.local);
    if r2 > 1.0 {
        discard;
    }
    // Soft rim, premultiplied alpha (egui's blend mode).
    let alpha = in.color.a * clamp((1.0 - r2) * 3.0, 0.0, 1.0);
    return vec4<f32>(in.color.rgb * alpha, alpha);
}
