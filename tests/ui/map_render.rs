//! The embedding map's WGSL point renderer, drawn offscreen on the wgpu device (Mesa's software
//! Vulkan in CI): dots land where the view puts them, in their colour, the highlighted one bigger,
//! and the frame exports as a PNG. Set TIGER_REQUIRE_WGPU=1 to fail rather than skip without an
//! adapter.

use tiger_core::device_choice::DeviceChoice;
use tiger_explorer::app::ui::point_cloud::PointInstance;
use tiger_explorer::app::ui::point_offscreen::{BACKGROUND, Offscreen, fit_view, lit_pixels};
use tiger_kernels::device;

const W: u32 = 200;
const H: u32 = 100;

fn pixel(rgba: &[u8], x: u32, y: u32) -> [u8; 4] {
    let i = ((y * W + x) * 4) as usize;
    [rgba[i], rgba[i + 1], rgba[i + 2], rgba[i + 3]]
}

#[test]
fn dots_are_drawn_where_and_how_the_view_says() {
    let (chosen, setup) = device::choose_shared(DeviceChoice::Gpu);
    let Some(setup) = setup else {
        let why = chosen.fallback.unwrap_or_default();
        if std::env::var("TIGER_REQUIRE_WGPU").is_ok() {
            panic!("TIGER_REQUIRE_WGPU is set but: {why}");
        }
        eprintln!("skipping the map render test: {why}");
        return;
    };
    let off = Offscreen::new(setup.device, setup.queue, W, H);
    // Three points: left red, centre green, right blue, spanning x in [-1, 1] at y = 0.
    let points = [
        ([-1.0, 0.0], [255, 0, 0, 255]),
        ([0.0, 0.0], [0, 255, 0, 255]),
        ([1.0, 0.0], [0, 0, 255, 255]),
    ]
    .map(|(position, color)| PointInstance { position, color });
    let buf = off.upload(&points);
    let mut view = fit_view(&points, W, H, 3.0);
    off.render(buf.as_ref(), 3, &view).unwrap();
    let rgba = off.read_rgba().unwrap();
    assert_eq!(rgba.len(), (W * H * 4) as usize);

    // The fitted view maps x in [-1, 1] onto 2 / 1.08 of the width around the centre.
    let half = W as f32 / 2.0 / 1.08;
    let at = |x: f32| (W as f32 / 2.0 + x * half).round() as u32;
    let (red, green, blue) = (
        pixel(&rgba, at(-1.0), H / 2),
        pixel(&rgba, at(0.0), H / 2),
        pixel(&rgba, at(1.0) - 1, H / 2),
    );
    assert!(
        red[0] > 200 && red[1] < 60 && red[2] < 60,
        "red dot: {red:?}"
    );
    assert!(
        green[1] > 200 && green[0] < 60 && green[2] < 60,
        "green dot: {green:?}"
    );
    assert!(
        blue[2] > 200 && blue[0] < 60 && blue[1] < 60,
        "blue dot: {blue:?}"
    );
    // Far from every point: background. Dots are round and small: a 3-px radius lights about
    // 3 * 28 pixels, far fewer than the target.
    assert_eq!(pixel(&rgba, 5, 5)[..3], BACKGROUND[..3]);
    assert_eq!(pixel(&rgba, W / 4, H / 2)[..3], BACKGROUND[..3]);
    let lit = lit_pixels(&rgba);
    assert!((60..200).contains(&lit), "lit pixels: {lit}");

    // Highlighting the centre point makes it bigger and white.
    view.highlight = 1;
    off.render(buf.as_ref(), 3, &view).unwrap();
    let hl = off.read_rgba().unwrap();
    assert!(lit_pixels(&hl) > lit + 100, "{} vs {lit}", lit_pixels(&hl));
    assert!(pixel(&hl, at(0.0), H / 2)[..3].iter().all(|&c| c > 240));
    assert!(pixel(&hl, at(0.0) + 6, H / 2)[..3].iter().all(|&c| c > 200));

    // The frame round-trips through the PNG exporter.
    let dir = std::env::temp_dir().join(format!("tiger-map-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("map.png");
    tiger_explorer::app::image_png::write_rgba(&path, W, H, &hl).unwrap();
    assert_eq!(
        tiger_explorer::app::image_png::read_rgba(&path).unwrap(),
        (W, H, hl)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
