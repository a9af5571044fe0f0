//! The label as a self-contained SVG document.

use std::fmt::Write as _;

use super::text::{SVG_FONT_SIZE, xml_escape};
use super::{FRAME, FRAME_RADIUS, Layout, UNIT_MM};

pub(super) fn render(l: &Layout) -> String {
    let (w, h) = (l.width, l.height);
    let mm = |units: u32| trim(f64::from(units) * UNIT_MM, 2);
    let mut s = String::with_capacity(16 * 1024);
    // Writing to a String cannot fail, so the fmt::Results below carry nothing.
    let _ = writeln!(s, r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{}mm" height="{}mm" viewBox="0 0 {w} {h}" role="img">"#,
        mm(w),
        mm(h)
    );
    let _ = writeln!(s, "<title>{}</title>", xml_escape(&l.title));
    let _ = writeln!(s, "<desc>{}</desc>", xml_escape(&l.desc));
    // A white ground, so the label reads the same on any page and prints as the PNG does.
    let _ = writeln!(
        s,
        r##"<rect width="{w}" height="{h}" rx="{FRAME_RADIUS}" fill="#fff"/>"##
    );
    // The frame's stroke is centred on its path: inset by half the line width.
    let half = FRAME / 2;
    let _ = writeln!(
        s,
        r##"<rect x="{half}" y="{half}" width="{}" height="{}" rx="{}" fill="none" stroke="#000" stroke-width="{FRAME}"/>"##,
        w - FRAME,
        h - FRAME,
        FRAME_RADIUS - half
    );
    let _ = writeln!(
        s,
        r##"<path fill="#000" fill-rule="evenodd" d="{}"/>"##,
        polygons(&l.emblem)
    );
    let _ = writeln!(
        s,
        r##"<path fill="#000" shape-rendering="crispEdges" d="{}"/>"##,
        qr_path(l)
    );
    let _ = writeln!(
        s,
        r##"<g fill="#000" font-family="system-ui, sans-serif">"##
    );
    for t in &l.texts {
        let weight = if t.bold { r#" font-weight="700""# } else { "" };
        let _ = writeln!(
            s,
            r#"<text x="{}" y="{}" font-size="{}"{weight}>{}</text>"#,
            t.x,
            t.baseline,
            SVG_FONT_SIZE * t.size,
            xml_escape(&t.text)
        );
    }
    let _ = writeln!(s, "</g>\n</svg>");
    s
}

/// The QR code as one path: a rectangle for each horizontal run of dark modules, which keeps
/// the file small and leaves no hairline seams between modules.
fn qr_path(l: &Layout) -> String {
    let m = l.module;
    let mut d = String::new();
    for row in 0..l.modules {
        let mut col = 0;
        while col < l.modules {
            if !l.is_dark(col, row) {
                col += 1;
                continue;
            }
            let start = col;
            while col < l.modules && l.is_dark(col, row) {
                col += 1;
            }
            let run = (col - start) * m;
            let _ = write!(
                d,
                "M{} {}h{run}v{m}h-{run}z",
                l.qr_x + start * m,
                l.qr_y + row * m
            );
        }
    }
    d
}

fn polygons(polys: &[Vec<(f64, f64)>]) -> String {
    let mut d = String::new();
    for poly in polys {
        for (i, &(x, y)) in poly.iter().enumerate() {
            let cmd = if i == 0 { 'M' } else { 'L' };
            let _ = write!(d, "{cmd}{} {}", trim(x, 2), trim(y, 2));
        }
        d.push('Z');
    }
    d
}

/// `v` with at most `places` decimals and no trailing zeros.
fn trim(v: f64, places: usize) -> String {
    let s = format!("{v:.places$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::trim;

    #[test]
    fn numbers_are_short() {
        assert_eq!(trim(70.600_000_000_000_01, 2), "70.6");
        assert_eq!(trim(28.0, 2), "28");
        assert_eq!(trim(1.23456, 2), "1.23");
        assert_eq!(trim(-0.5, 2), "-0.5");
    }
}
