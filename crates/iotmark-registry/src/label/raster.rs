//! The label rasterised here: 1 bit per pixel, black on white, for label printers.
//!
//! Every shape is sampled at pixel centres, without smoothing: a label printer's dot is on
//! or off. Rectangles (QR modules, font pixels, the frame's straight runs) lie on the unit
//! grid and so fall on whole pixels at any scale.

use super::text::for_each_glyph;
use super::{FRAME, FRAME_RADIUS, LabelError, Layout, UNIT_MM, font};

pub(super) fn render(l: &Layout, scale: u32) -> Result<Vec<u8>, LabelError> {
    let mut c = Canvas::new(l.width, l.height, scale);
    c.frame();
    let m = l.module;
    for row in 0..l.modules {
        for col in 0..l.modules {
            if l.is_dark(col, row) {
                c.fill(l.qr_x + col * m, l.qr_y + row * m, m, m);
            }
        }
    }
    c.fill_polygons(&l.emblem);
    for t in &l.texts {
        c.text(t.x, t.baseline, t.size, t.bold, &t.text);
    }
    c.encode()
}

struct Canvas {
    /// Size in pixels.
    width: u32,
    height: u32,
    /// Pixels per unit.
    scale: u32,
    /// Size in units.
    units_w: u32,
    units_h: u32,
    ink: Vec<bool>,
}

impl Canvas {
    fn new(units_w: u32, units_h: u32, scale: u32) -> Canvas {
        let (width, height) = (units_w * scale, units_h * scale);
        Canvas {
            width,
            height,
            scale,
            units_w,
            units_h,
            ink: vec![false; width as usize * height as usize],
        }
    }

    fn set(&mut self, px: u32, py: u32) {
        if px < self.width && py < self.height {
            self.ink[py as usize * self.width as usize + px as usize] = true;
        }
    }

    /// Inks the rectangle of `w` × `h` units at (`x`, `y`) units.
    fn fill(&mut self, x: u32, y: u32, w: u32, h: u32) {
        let s = self.scale;
        for py in y * s..(y + h) * s {
            for px in x * s..(x + w) * s {
                self.set(px, py);
            }
        }
    }

    /// The frame: the ring between the label's rounded outline and the same outline inset
    /// by the frame's width, as the SVG's stroked rectangle draws it.
    fn frame(&mut self) {
        let (w, h) = (f64::from(self.units_w), f64::from(self.units_h));
        let (f, r) = (f64::from(FRAME), f64::from(FRAME_RADIUS));
        let s = f64::from(self.scale);
        for py in 0..self.height {
            let y = (f64::from(py) + 0.5) / s;
            for px in 0..self.width {
                let x = (f64::from(px) + 0.5) / s;
                if in_rounded_rect(x, y, (0.0, 0.0, w, h), r)
                    && !in_rounded_rect(x, y, (f, f, w - f, h - f), r - f)
                {
                    self.set(px, py);
                }
            }
        }
    }

    /// Fills closed polygons (in units) by the even-odd rule, scanning pixel-centre rows.
    fn fill_polygons(&mut self, polys: &[Vec<(f64, f64)>]) {
        let s = f64::from(self.scale);
        let (top, bottom) = polys
            .iter()
            .flatten()
            .fold((f64::MAX, f64::MIN), |(t, b), p| (t.min(p.1), b.max(p.1)));
        if top > bottom {
            return;
        }
        let first = (top * s).floor().max(0.0) as u32;
        let last = ((bottom * s).ceil() as u32).min(self.height);
        let mut crossings = Vec::new();
        for py in first..last {
            let y = (f64::from(py) + 0.5) / s;
            crossings.clear();
            for poly in polys {
                for (i, &a) in poly.iter().enumerate() {
                    let b = poly[(i + 1) % poly.len()];
                    if (a.1 <= y) != (b.1 <= y) {
                        crossings.push(a.0 + (y - a.1) * (b.0 - a.0) / (b.1 - a.1));
                    }
                }
            }
            crossings.sort_by(f64::total_cmp);
            for pair in crossings.chunks_exact(2) {
                // Pixels whose centres lie in [x0, x1).
                let from = (pair[0] * s - 0.5).ceil().max(0.0) as u32;
                let to = (pair[1] * s - 0.5).ceil().max(0.0) as u32;
                for px in from..to {
                    self.set(px, py);
                }
            }
        }
    }

    /// Draws `text` with the bitmap font, each font pixel `size` units square, the glyphs'
    /// row 6 standing on `baseline`. Bold widens every stroke by one unit to the right.
    fn text(&mut self, x: u32, baseline: u32, size: u32, bold: bool, text: &str) {
        let top = baseline - font::ASCENT * size;
        let mut pen = x;
        let widen = u32::from(bold);
        for_each_glyph(text, |g| {
            for row in 0..font::ROWS {
                for col in 0..font::WIDTH {
                    if font::ink(g, row, col) {
                        let y = top + row as u32 * size;
                        self.fill(pen + col * size, y, size + widen, size);
                    }
                }
            }
            pen += font::ADVANCE * size;
        });
    }

    /// The PNG: greyscale at 1 bit (0 is black), with the physical pixel size in pHYs.
    fn encode(&self) -> Result<Vec<u8>, LabelError> {
        let err = |e: png::EncodingError| LabelError::Png(e.to_string());
        let row_bytes = self.width.div_ceil(8) as usize;
        let mut packed = vec![0u8; row_bytes * self.height as usize];
        for (y, row) in self.ink.chunks_exact(self.width as usize).enumerate() {
            for (x, &ink) in row.iter().enumerate() {
                if !ink {
                    packed[y * row_bytes + x / 8] |= 0x80 >> (x % 8);
                }
            }
        }
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, self.width, self.height);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::One);
        encoder.set_compression(png::Compression::High);
        let per_metre = (f64::from(self.scale) * 1000.0 / UNIT_MM).round() as u32;
        encoder.set_pixel_dims(Some(png::PixelDimensions {
            xppu: per_metre,
            yppu: per_metre,
            unit: png::Unit::Meter,
        }));
        let mut writer = encoder.write_header().map_err(err)?;
        writer.write_image_data(&packed).map_err(err)?;
        writer.finish().map_err(err)?;
        Ok(out)
    }
}

/// Whether (`x`, `y`) lies inside the rectangle `(x0, y0, x1, y1)` with corners rounded to
/// radius `r`.
fn in_rounded_rect(x: f64, y: f64, (x0, y0, x1, y1): (f64, f64, f64, f64), r: f64) -> bool {
    if x < x0 || x >= x1 || y < y0 || y >= y1 {
        return false;
    }
    let cx = x.clamp(x0 + r, x1 - r);
    let cy = y.clamp(y0 + r, y1 - r);
    (x - cx).hypot(y - cy) <= r
}
