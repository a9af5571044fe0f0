//! The product label: what goes on the box.
//!
//! A label shows the mark (a shield with a check and the word "iotmark"), the manufacturer,
//! the product's name and model, the end of its security-update period, the scheme it was
//! assessed against, and a QR code for the product's page on the registry, with the page's
//! address printed under the code so it can be typed in.
//!
//! Two renderings of one layout:
//!
//! * [`label_svg`]: a self-contained SVG (no external resources; text in the viewer's
//!   `system-ui, sans-serif`), with `role="img"`, a `<title>` and a `<desc>` that say what
//!   the label says in plain words.
//! * [`label_png`]: the same label rasterised here, black on white at 1 bit per pixel (for
//!   label printers), its text drawn with the crate's own bitmap font. Characters the font
//!   has no glyph for are transliterated where there is an obvious ASCII spelling (Ä → A,
//!   é → e, ß → ss) and shown as `?` otherwise.
//!
//! # Layout
//!
//! Landscape: the QR code (error correction M, quiet zone of 4 modules) on the left, the mark
//! and the text lines on its right, the address in small text under the code, all inside a
//! rounded frame. Everything sits on a grid of label units, one unit being [`UNIT_MM`] when
//! printed at the natural size the SVG declares; the PNG's `scale` is pixels per unit. The
//! bitmap font's pixel is one unit at body size (capitals 7 units tall), twice that for the
//! product name and three times for the word mark. A QR module is 2 to 4 units: as large as
//! lets the code stand no taller than the text beside it, so short addresses give a larger
//! code and the label keeps its shape. Long texts are cut with `…` to fit their column
//! (the product name first drops to body size); the `<title>` and `<desc>` keep them whole.
//! A long address wraps onto more lines rather than being cut, since it must stay typeable.

mod font;
mod raster;
mod svg;
mod text;

use qrcode::{Color, EcLevel, QrCode, Version};

/// What a label says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelContent {
    /// The manufacturer's name, as registered.
    pub manufacturer: String,
    /// The product's name.
    pub product_name: String,
    /// The product's model designation; empty leaves the model line off.
    pub model: String,
    /// Last day of the security-update period (e.g. `2029-12-31`), if one was declared.
    pub support_end: Option<String>,
    /// The short title of the scheme the product was assessed against.
    pub scheme_title: String,
    /// The product's page on the registry, encoded in the QR code and printed under it.
    pub url: String,
}

/// Why a label could not be made.
#[derive(Debug, thiserror::Error)]
pub enum LabelError {
    #[error("label field `{field}` is empty: a label needs {what}")]
    EmptyField {
        field: &'static str,
        what: &'static str,
    },
    #[error(
        "label field `url` ({url:?}) {reason}: a product page address is a plain-ASCII \
         http:// or https:// URL"
    )]
    BadUrl { url: String, reason: &'static str },
    #[error(
        "label field `url` is {len} bytes, more than a label's QR code holds (version \
         {MAX_QR_VERSION} at error correction M, about 213 bytes): use a shorter product \
         page address"
    )]
    UrlTooLong { len: usize },
    #[error("label PNG scale {scale} is out of range: use 1 to {MAX_SCALE} pixels per label unit")]
    BadScale { scale: u32 },
    #[error("encoding the label PNG: {0}")]
    Png(String),
}

/// Size of one label unit when printed at the label's natural size, in millimetres: a label
/// for a typical address is then 71.2 × 29.2 mm, its QR module 0.6 mm and body capitals
/// 1.4 mm tall.
pub const UNIT_MM: f64 = 0.2;

/// The largest QR code a label carries: 57 × 57 modules. Larger codes need more room than
/// a box label has, and product page addresses are short.
pub const MAX_QR_VERSION: i16 = 10;

/// The largest PNG scale (pixels per label unit): 16 is 2032 dpi at the natural size, ten
/// times a common label printer's, and keeps the image to a few thousand pixels a side.
pub const MAX_SCALE: u32 = 16;

/// The label as an SVG document.
pub fn label_svg(content: &LabelContent) -> Result<String, LabelError> {
    Ok(svg::render(&Layout::new(content)?))
}

/// The label as a 1-bit black-on-white PNG, `scale` pixels per label unit (1 to
/// [`MAX_SCALE`]); its pHYs chunk gives the size at which it prints as large as the SVG.
pub fn label_png(content: &LabelContent, scale: u32) -> Result<Vec<u8>, LabelError> {
    if !(1..=MAX_SCALE).contains(&scale) {
        return Err(LabelError::BadScale { scale });
    }
    raster::render(&Layout::new(content)?, scale)
}

// The grid, in label units.
/// Width of the frame's line.
const FRAME: u32 = 2;
/// Corner radius of the frame's outer edge.
const FRAME_RADIUS: u32 = 6;
/// Space inside the frame before the QR code's quiet zone, so the frame's rounded corners
/// stay out of it.
const PAD: u32 = 3;
/// Quiet zone around the QR code, in modules (what ISO/IEC 18004 asks for).
const QUIET_MODULES: u32 = 4;
/// Space between the QR code's quiet zone and the text column.
const TEXT_GAP: u32 = 2;
/// Width of the text column: 36 body glyphs.
const TEXT_COLUMN: u32 = 216;
/// Space between the text column and the frame.
const PAD_RIGHT: u32 = 8;
/// Space between the last line and the frame, below the descenders.
const PAD_BOTTOM: u32 = 5;
/// The emblem's box, and the gap between it and the word mark.
const EMBLEM_W: u32 = 20;
const EMBLEM_H: u32 = 24;
const EMBLEM_GAP: u32 = 6;
/// Text sizes (multiples of the bitmap font's pixel; SVG font-size is 10 × size).
const BODY: u32 = 1;
const NAME: u32 = 2;
const MARK: u32 = 3;
/// Space above the first line under the mark, between lines of a group, and above the
/// second group (support period and scheme), from descender to capital.
const GAP_MARK: u32 = 10;
const GAP_LINE: u32 = 4;
const GAP_GROUP: u32 = 9;
/// Vertical distance between wrapped address lines.
const URL_LINE: u32 = 10;

/// One line of text, placed.
#[derive(Debug)]
struct TextLine {
    x: u32,
    baseline: u32,
    size: u32,
    bold: bool,
    text: String,
}

/// The label, laid out on the unit grid; both renderers draw exactly this.
#[derive(Debug)]
struct Layout {
    width: u32,
    height: u32,
    /// Top-left corner of the QR code's first module.
    qr_x: u32,
    qr_y: u32,
    /// Module size in units, and modules per side.
    module: u32,
    modules: u32,
    /// Row-major, `modules`² entries, true for dark.
    dark: Vec<bool>,
    /// Closed polygons in units, filled even-odd: the shield with the check cut out.
    emblem: Vec<Vec<(f64, f64)>>,
    texts: Vec<TextLine>,
    /// The whole content in plain words, for `<title>` and `<desc>`.
    title: String,
    desc: String,
}

impl Layout {
    fn new(c: &LabelContent) -> Result<Layout, LabelError> {
        let manufacturer = required(&c.manufacturer, "manufacturer", "the manufacturer's name")?;
        let product = required(&c.product_name, "product_name", "the product's name")?;
        let scheme = required(&c.scheme_title, "scheme_title", "the scheme's title")?;
        let model = text::clean(&c.model);
        let support = match &c.support_end {
            Some(end) => {
                let end = required(end, "support_end", "a date when it is given")?;
                format!("Security updates until {end}")
            }
            None => "Security update period not stated".to_owned(),
        };
        let scheme_line = format!("Scheme: {scheme}");
        let model_line = format!("Model: {model}");
        let url = check_url(&c.url)?;
        let code = qr_code(url)?;
        let modules =
            u32::try_from(code.width()).map_err(|_| LabelError::UrlTooLong { len: url.len() })?;
        let dark: Vec<bool> = code
            .to_colors()
            .into_iter()
            .map(|m| m == Color::Dark)
            .collect();

        // The text column, from its top: the mark, then manufacturer, name and model, then
        // the support period and the scheme, which sit at the foot of the code.
        let column = f64::from(TEXT_COLUMN);
        let (name_size, name) = if text::width(&product, NAME) <= column {
            (NAME, product.clone())
        } else {
            (BODY, text::fit(&product, BODY, column))
        };
        let mut top_group = vec![
            (GAP_MARK, BODY, text::fit(&manufacturer, BODY, column)),
            (GAP_LINE, name_size, name),
        ];
        if !model.is_empty() {
            top_group.push((GAP_LINE, BODY, text::fit(&model_line, BODY, column)));
        }
        let bottom_group = [
            (GAP_GROUP, BODY, text::fit(&support, BODY, column)),
            (GAP_LINE, BODY, text::fit(&scheme_line, BODY, column)),
        ];
        let bottom_count = bottom_group.len();
        let mut y = EMBLEM_H;
        let mut lines = Vec::new();
        for (gap, size, text) in top_group.into_iter().chain(bottom_group) {
            let baseline = y + gap + font::ASCENT * size;
            y = baseline + font::DESCENT * size;
            lines.push((baseline, size, text));
        }
        let last_baseline = lines.last().map_or(y, |l| l.0);

        // The largest module that keeps the code no taller than the full text column, so a name that drops to body size or a missing model line does not change
        // the label's size: only the address does.
        let module = (full_text_height() / modules).clamp(2, 4);
        let code_side = modules * module;
        let quiet = QUIET_MODULES * module;
        // The support and scheme lines stand at the foot of the column, which is as low as
        // the code or the full text column reaches, whichever is lower: a shorter column (a
        // name at body size, no model) opens a gap above them instead of moving the address.
        let foot = code_side.max(full_text_height());
        let drop = foot.saturating_sub(last_baseline);

        let qr_x = FRAME + PAD + quiet;
        let qr_y = FRAME + PAD + quiet;
        let col_x = qr_x + code_side + quiet + TEXT_GAP;
        let width = col_x + TEXT_COLUMN + PAD_RIGHT + FRAME;

        let mut texts = vec![TextLine {
            x: col_x + EMBLEM_W + EMBLEM_GAP,
            baseline: qr_y + EMBLEM_H - 1,
            size: MARK,
            bold: true,
            text: "iotmark".to_owned(),
        }];
        let bottom_from = lines.len() - bottom_count;
        let mut text_bottom = qr_y;
        for (i, (baseline, size, text)) in lines.into_iter().enumerate() {
            let baseline = qr_y + baseline + if i >= bottom_from { drop } else { 0 };
            text_bottom = baseline + font::DESCENT * size;
            texts.push(TextLine {
                x: col_x,
                baseline,
                size,
                bold: false,
                text,
            });
        }

        // The address goes under the code, after its quiet zone (and clear of the text
        // column, should that reach lower), as wide as the label allows.
        let url_top = (qr_y + code_side + quiet).max(text_bottom + GAP_LINE);
        let url_room = f64::from(width - FRAME - PAD_RIGHT - qr_x);
        let mut baseline = url_top + font::ASCENT * BODY;
        for (i, line) in text::wrap(url, BODY, url_room).into_iter().enumerate() {
            if i > 0 {
                baseline += URL_LINE;
            }
            texts.push(TextLine {
                x: qr_x,
                baseline,
                size: BODY,
                bold: false,
                text: line,
            });
        }
        let height = baseline + font::DESCENT * BODY + PAD_BOTTOM + FRAME;

        let title = format!("iotmark label: {product} by {manufacturer}");
        let model_words = if model.is_empty() {
            String::new()
        } else {
            format!(" Model: {model}.")
        };
        let desc = format!(
            "The iotmark mark. Manufacturer: {manufacturer}. Product: {product}.{model_words} \
             {support}. Scheme: {scheme}. A QR code and the address of the product's page: {url}"
        );
        Ok(Layout {
            width,
            height,
            qr_x,
            qr_y,
            module,
            modules,
            dark,
            emblem: emblem(f64::from(col_x), f64::from(qr_y)),
            texts,
            title,
            desc,
        })
    }

    fn is_dark(&self, col: u32, row: u32) -> bool {
        let i = row as usize * self.modules as usize + col as usize;
        self.dark.get(i).copied().unwrap_or(false)
    }
}

/// Height of the text column from its top to the last baseline, with every line present
/// and the product name at full size.
fn full_text_height() -> u32 {
    let lines = [
        (GAP_MARK, BODY),
        (GAP_LINE, NAME),
        (GAP_LINE, BODY),
        (GAP_GROUP, BODY),
        (GAP_LINE, BODY),
    ];
    let mut y = EMBLEM_H;
    let mut baseline = y;
    for (gap, size) in lines {
        baseline = y + gap + font::ASCENT * size;
        y = baseline + font::DESCENT * size;
    }
    baseline
}

fn required(value: &str, field: &'static str, what: &'static str) -> Result<String, LabelError> {
    let cleaned = text::clean(value);
    if cleaned.is_empty() {
        return Err(LabelError::EmptyField { field, what });
    }
    Ok(cleaned)
}

fn check_url(url: &str) -> Result<&str, LabelError> {
    let bad = |reason| LabelError::BadUrl {
        url: url.to_owned(),
        reason,
    };
    if url.is_empty() {
        return Err(bad("is empty"));
    }
    // The address is printed for typing in, and the bitmap font has ASCII only.
    if !url.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(bad("has spaces, control or non-ASCII characters"));
    }
    let lower = url.to_ascii_lowercase();
    if !(lower.starts_with("https://") || lower.starts_with("http://")) {
        return Err(bad("does not start with https:// or http://"));
    }
    Ok(url)
}

fn qr_code(url: &str) -> Result<QrCode, LabelError> {
    let too_long = || LabelError::UrlTooLong { len: url.len() };
    let code =
        QrCode::with_error_correction_level(url.as_bytes(), EcLevel::M).map_err(|_| too_long())?;
    match code.version() {
        Version::Normal(v) if v <= MAX_QR_VERSION => Ok(code),
        _ => Err(too_long()),
    }
}

/// The emblem in its box at (`x`, `y`): a shield, pointed at the foot and gently peaked at
/// the head, with a check mark cut out of it.
fn emblem(x: f64, y: f64) -> Vec<Vec<(f64, f64)>> {
    let (w, h) = (f64::from(EMBLEM_W), f64::from(EMBLEM_H));
    let mut shield = vec![(0.0, 2.5), (w / 2.0, 0.0), (w, 2.5), (w, 11.0)];
    quadratic(&mut shield, (w, 11.0), (w, 19.5), (w / 2.0, h));
    quadratic(&mut shield, (w / 2.0, h), (0.0, 19.5), (0.0, 11.0));
    let check = thick_polyline(&[(4.6, 12.4), (8.6, 16.4), (15.4, 7.6)], 1.6);
    [shield, check]
        .into_iter()
        .map(|poly| poly.into_iter().map(|(px, py)| (x + px, y + py)).collect())
        .collect()
}

/// Appends the quadratic Bézier from `p0` (already in `out`) through control `c` to `p1`,
/// as eight straight pieces: both renderers draw the same straight pieces.
fn quadratic(out: &mut Vec<(f64, f64)>, p0: (f64, f64), c: (f64, f64), p1: (f64, f64)) {
    for i in 1..=8 {
        let t = f64::from(i) / 8.0;
        let u = 1.0 - t;
        out.push((
            u * u * p0.0 + 2.0 * u * t * c.0 + t * t * p1.0,
            u * u * p0.1 + 2.0 * u * t * c.1 + t * t * p1.1,
        ));
    }
}

/// The outline of a line of half-width `half` along `points`, with mitred corners.
fn thick_polyline(points: &[(f64, f64)], half: f64) -> Vec<(f64, f64)> {
    let normal = |a: (f64, f64), b: (f64, f64)| {
        let (dx, dy) = (b.0 - a.0, b.1 - a.1);
        let len = dx.hypot(dy);
        (-dy / len, dx / len)
    };
    let normals: Vec<_> = points.windows(2).map(|s| normal(s[0], s[1])).collect();
    // The offset at each point: the segment's normal at the ends, the miter vector at the
    // joins (the sum of the two normals, lengthened so each side stays `half` away).
    let offsets: Vec<(f64, f64)> = (0..points.len())
        .map(|i| {
            match (
                i.checked_sub(1).and_then(|j| normals.get(j)),
                normals.get(i),
            ) {
                (Some(a), Some(b)) => {
                    let k = 1.0 + a.0 * b.0 + a.1 * b.1;
                    ((a.0 + b.0) / k, (a.1 + b.1) / k)
                }
                (Some(n), None) | (None, Some(n)) => *n,
                (None, None) => (0.0, 0.0),
            }
        })
        .collect();
    let side = |sign: f64| {
        points
            .iter()
            .zip(&offsets)
            .map(move |(p, o)| (p.0 + sign * half * o.0, p.1 + sign * half * o.1))
    };
    side(1.0).chain(side(-1.0).rev()).collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

    use super::*;

    fn content() -> LabelContent {
        LabelContent {
            manufacturer: "Acme Devices GmbH".into(),
            product_name: "SecureCam 2".into(),
            model: "SC-2000".into(),
            support_end: Some("2029-12-31".into()),
            scheme_title: "EN 303 645 baseline".into(),
            url: "https://registry.example/p/acme-securecam-2".into(),
        }
    }

    #[test]
    fn layout_keeps_everything_inside_the_frame_and_clear_of_the_code() {
        for url in [
            "https://r.example/p/1",
            "https://registry.example/p/acme-securecam-2",
        ] {
            let l = Layout::new(&LabelContent {
                url: url.into(),
                ..content()
            })
            .unwrap();
            let quiet = QUIET_MODULES * l.module;
            let code_right = l.qr_x + l.modules * l.module;
            let code_bottom = l.qr_y + l.modules * l.module;
            assert!(l.qr_x >= FRAME + PAD + quiet && l.qr_y >= FRAME + PAD + quiet);
            for t in &l.texts {
                let w = text::width(&t.text, t.size);
                assert!(
                    f64::from(t.x) + w <= f64::from(l.width - FRAME),
                    "{t:?} runs off"
                );
                assert!(
                    t.baseline + font::DESCENT * t.size <= l.height - FRAME,
                    "{t:?}"
                );
                // Text beside the code starts after its quiet zone; text under it, below.
                let top = t.baseline - font::ASCENT * t.size;
                assert!(
                    t.x >= code_right + quiet || top >= code_bottom + quiet,
                    "{t:?}"
                );
            }
        }
    }

    #[test]
    fn short_addresses_get_larger_modules() {
        let short = Layout::new(&LabelContent {
            url: "https://r.example/p/1".into(),
            ..content()
        })
        .unwrap();
        let long = Layout::new(&content()).unwrap();
        assert!(short.modules < long.modules);
        assert!(
            short.module > long.module,
            "{} vs {}",
            short.module,
            long.module
        );
    }

    #[test]
    fn bad_urls_and_empty_fields_are_refused_with_the_field_named() {
        let err = |c: LabelContent| Layout::new(&c).unwrap_err().to_string();
        assert!(
            err(LabelContent {
                url: String::new(),
                ..content()
            })
            .contains("`url`")
        );
        assert!(
            err(LabelContent {
                url: "ftp://x.example/".into(),
                ..content()
            })
            .contains("https://")
        );
        assert!(
            err(LabelContent {
                url: "https://x.example/ä".into(),
                ..content()
            })
            .contains("non-ASCII")
        );
        let long = format!("https://registry.example/p/{}", "x".repeat(300));
        assert!(
            err(LabelContent {
                url: long,
                ..content()
            })
            .contains("shorter")
        );
        assert!(
            err(LabelContent {
                manufacturer: " \n".into(),
                ..content()
            })
            .contains("`manufacturer`")
        );
        assert!(
            err(LabelContent {
                support_end: Some(String::new()),
                ..content()
            })
            .contains("`support_end`")
        );
    }
}
