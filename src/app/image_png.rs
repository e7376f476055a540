//! Writing RGBA images as PNG files (plots and maps exported from the app), atomically.

use std::path::Path;

/// Writes a `width` x `height` RGBA8 image (rows top to bottom) to `path` as PNG, through a temp
/// file and a rename. Fails with a message naming the file when the size and the data disagree.
pub fn write_rgba(path: &Path, width: u32, height: u32, rgba: &[u8]) -> anyhow::Result<()> {
    let expected = width as usize * height as usize * 4;
    if rgba.len() != expected || width == 0 || height == 0 {
        anyhow::bail!(
            "{}: cannot write a {width}x{height} PNG from {} bytes (expected {expected})",
            path.display(),
            rgba.len()
        );
    }
    tiger_core::atomic::write_with(path, |w| {
        let mut enc = png::Encoder::new(w, width, height);
        enc.set_color(png::ColorType::Rgba);
        enc.set_depth(png::BitDepth::Eight);
        let mut writer = enc.write_header().map_err(std::io::Error::other)?;
        writer
            .write_image_data(rgba)
            .map_err(std::io::Error::other)?;
        writer.finish().map_err(std::io::Error::other)
    })
    .map_err(|e| anyhow::anyhow!("{}: cannot write the PNG: {e}", path.display()))
}

/// Reads a PNG written by [`write_rgba`] back as (width, height, RGBA8 bytes).
pub fn read_rgba(path: &Path) -> anyhow::Result<(u32, u32, Vec<u8>)> {
    let file = std::fs::File::open(path)
        .map_err(|e| anyhow::anyhow!("{}: cannot open: {e}", path.display()))?;
    let decoder = png::Decoder::new(std::io::BufReader::new(file));
    let mut reader = decoder
        .read_info()
        .map_err(|e| anyhow::anyhow!("{}: not a PNG: {e}", path.display()))?;
    let size = reader
        .output_buffer_size()
        .ok_or_else(|| anyhow::anyhow!("{}: image too large", path.display()))?;
    let mut buf = vec![0; size];
    let info = reader
        .next_frame(&mut buf)
        .map_err(|e| anyhow::anyhow!("{}: cannot decode: {e}", path.display()))?;
    if info.color_type != png::ColorType::Rgba || info.bit_depth != png::BitDepth::Eight {
        anyhow::bail!("{}: expected an 8-bit RGBA PNG", path.display());
    }
    buf.truncate(info.buffer_size());
    Ok((info.width, info.height, buf))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn png_round_trip_and_size_mismatch() {
        let dir = std::env::temp_dir().join(format!("tiger-png-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("a.png");
        let rgba: Vec<u8> = (0..3 * 2 * 4).map(|i| (i * 10) as u8).collect();
        write_rgba(&path, 3, 2, &rgba).unwrap();
        assert_eq!(read_rgba(&path).unwrap(), (3, 2, rgba.clone()));
        let err = write_rgba(&dir.join("b.png"), 4, 2, &rgba).unwrap_err();
        assert!(err.to_string().contains("b.png"), "{err}");
        assert!(!dir.join("b.png").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
