//! The product label as a shopper's phone and a label printer see it.
//!
//! The QR codes are read back by a decoder we did not write (zbarimg, Debian's zbar-tools),
//! the SVG's from a rendering by a renderer we did not write (rsvg-convert, Debian's
//! librsvg2-bin), and the SVG is parsed by Python's XML parser. Needs
//! `bash scripts/label-tools.sh --install`; without the tools these tests fail and say so,
//! unless IOTMARK_SKIP_LABEL_TOOLS=1 (python3, which the test suite needs anyway, is always
//! used).
//!
//! Samples are left in `target/label-samples/` for a look.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::process::Command;

use iotmark_registry::label::{LabelContent, LabelError, MAX_SCALE, label_png, label_svg};
use serde_json::Value;

const HINT: &str = "run `bash scripts/label-tools.sh --install` (or set \
                    IOTMARK_SKIP_LABEL_TOOLS=1 to skip the independent QR decoding)";

fn sample() -> LabelContent {
    LabelContent {
        manufacturer: "Acme Devices GmbH".into(),
        product_name: "SecureCam 2".into(),
        model: "SC-2000".into(),
        support_end: Some("2029-12-31".into()),
        scheme_title: "EN 303 645 baseline".into(),
        url: "https://registry.example/p/acme-securecam-2".into(),
    }
}

/// What manufacturers may well type: markup characters, quotes, non-ASCII.
fn awkward() -> LabelContent {
    LabelContent {
        manufacturer: "Müller & Söhne <Geräte> \"GmbH\"".into(),
        product_name: "Gerät ÄÖÜ 'Außen'".into(),
        model: "<X&Y>".into(),
        support_end: Some("2031-06-30".into()),
        scheme_title: "EN 303 645 & \"more\"".into(),
        url: "https://registry.example/p/muller-gerat?x=1&y=%3C".into(),
    }
}

fn samples_dir() -> PathBuf {
    // CARGO_TARGET_TMPDIR is <target>/tmp; the samples go beside it.
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .join("label-samples");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("label");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// Whether the outside tools are to be used; panics with the hint when they should be but
/// are missing.
fn tools_wanted() -> bool {
    if std::env::var("IOTMARK_SKIP_LABEL_TOOLS").as_deref() == Ok("1") {
        eprintln!("label: skipped (IOTMARK_SKIP_LABEL_TOOLS=1): the QR codes were not decoded");
        return false;
    }
    for (tool, package) in [("zbarimg", "zbar-tools"), ("rsvg-convert", "librsvg2-bin")] {
        if let Err(e) = Command::new(tool).arg("--version").output() {
            panic!("{tool} (Debian's {package}) is not available ({e}); {HINT}");
        }
    }
    true
}

/// Every QR code zbarimg finds in the image at `path`.
fn zbar(path: &Path) -> Vec<String> {
    let out = Command::new("zbarimg")
        .args(["--quiet", "--raw", "-Sdisable", "-Sqrcode.enable"])
        .arg(path)
        .output()
        .unwrap_or_else(|e| panic!("running zbarimg: {e}; {HINT}"));
    // zbarimg exits 4 when it finds no symbol; that is an empty answer, not a tool failure.
    assert!(
        out.status.success() || out.status.code() == Some(4),
        "zbarimg {} failed: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn rsvg(svg: &Path, png: &Path, zoom: &str) {
    let out = Command::new("rsvg-convert")
        .args([
            "--zoom",
            zoom,
            "--background-color",
            "white",
            "--format",
            "png",
            "-o",
        ])
        .arg(png)
        .arg(svg)
        .output()
        .unwrap_or_else(|e| panic!("running rsvg-convert: {e}; {HINT}"));
    assert!(
        out.status.success(),
        "rsvg-convert {}: {}",
        svg.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The SVG as Python's XML parser reads it: the root's attributes, every element's tag, the
/// title, the description and each text element's position, size and characters.
fn parse_svg(svg: &str) -> Value {
    const READ: &str = r#"
import json, sys, xml.dom.minidom as m
doc = m.parseString(sys.stdin.buffer.read())
root = doc.documentElement
def text(e): return "".join(n.data for n in e.childNodes if n.nodeType == n.TEXT_NODE)
def one(tag):
    found = root.getElementsByTagName(tag)
    return text(found[0]) if found else None
json.dump({
  "root": root.tagName,
  "attrs": {k: v for k, v in root.attributes.items()},
  "tags": sorted({e.tagName for e in root.getElementsByTagName("*")}),
  "first_child": next(n.tagName for n in root.childNodes if n.nodeType == n.ELEMENT_NODE),
  "title": one("title"),
  "desc": one("desc"),
  "texts": [{"x": float(t.getAttribute("x")), "y": float(t.getAttribute("y")),
             "size": float(t.getAttribute("font-size")), "text": text(t)}
            for t in root.getElementsByTagName("text")],
}, sys.stdout)
"#;
    let mut child = Command::new("python3")
        .args(["-c", READ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("python3 is needed to parse the SVG ({e}); install python3"));
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), svg.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "the SVG is not well-formed XML: {}\n{svg}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A decoded PNG: width, height, and whether each pixel is dark.
struct Image {
    width: u32,
    height: u32,
    dark: Vec<bool>,
}

impl Image {
    fn decode(bytes: &[u8]) -> (Image, png::Info<'static>) {
        let mut decoder = png::Decoder::new(Cursor::new(bytes.to_vec()));
        decoder.set_transformations(png::Transformations::EXPAND);
        let mut reader = decoder.read_info().unwrap();
        let info = reader.info().clone();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let frame = reader.next_frame(&mut buf).unwrap();
        assert_eq!(frame.color_type, png::ColorType::Grayscale);
        let dark = buf[..frame.buffer_size()]
            .iter()
            .map(|&v| v < 128)
            .collect();
        (
            Image {
                width: frame.width,
                height: frame.height,
                dark,
            },
            info,
        )
    }

    /// Dark pixels in the box [x0, x1) × [y0, y1).
    fn ink(&self, x0: u32, y0: u32, x1: u32, y1: u32) -> usize {
        (y0..y1.min(self.height))
            .flat_map(|y| (x0..x1.min(self.width)).map(move |x| (x, y)))
            .filter(|&(x, y)| self.dark[(y * self.width + x) as usize])
            .count()
    }
}

fn view_box(parsed: &Value) -> (u32, u32) {
    let vb: Vec<u32> = parsed["attrs"]["viewBox"]
        .as_str()
        .unwrap()
        .split(' ')
        .map(|v| v.parse().unwrap())
        .collect();
    assert_eq!(vb[..2], [0, 0]);
    (vb[2], vb[3])
}

#[test]
fn the_svg_qr_code_reads_back_as_the_product_page_address() {
    let samples = samples_dir();
    let tools = tools_wanted();
    for (name, content) in [("label", sample()), ("label-awkward", awkward())] {
        let svg = label_svg(&content).unwrap();
        let path = samples.join(format!("{name}.svg"));
        std::fs::write(&path, &svg).unwrap();
        if !tools {
            continue;
        }
        // Twice the natural size (96 dpi) and four times: a phone sees many sizes.
        for zoom in ["2", "4"] {
            let png = scratch(&format!("{name}-rsvg-{zoom}.png"));
            rsvg(&path, &png, zoom);
            assert_eq!(
                zbar(&png),
                [content.url.as_str()],
                "{} at zoom {zoom}",
                path.display()
            );
        }
    }
}

#[test]
fn the_png_qr_code_reads_back_as_the_product_page_address() {
    let samples = samples_dir();
    let tools = tools_wanted();
    for (name, content) in [("label", sample()), ("label-awkward", awkward())] {
        for scale in [1, 3] {
            let png = label_png(&content, scale).unwrap();
            let path = samples.join(format!("{name}-x{scale}.png"));
            std::fs::write(&path, &png).unwrap();
            if tools {
                assert_eq!(zbar(&path), [content.url.as_str()], "{}", path.display());
            }
        }
    }
}

#[test]
fn the_svg_is_well_formed_accessible_and_says_exactly_what_it_was_given() {
    let c = awkward();
    let parsed = parse_svg(&label_svg(&c).unwrap());
    assert_eq!(parsed["root"], "svg");
    assert_eq!(parsed["attrs"]["role"], "img");
    assert_eq!(parsed["attrs"]["xmlns"], "http://www.w3.org/2000/svg");
    assert_eq!(
        parsed["first_child"], "title",
        "the title must come first to name the image"
    );
    // Nothing the manufacturer wrote became markup.
    let tags: Vec<&str> = parsed["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert_eq!(tags, ["desc", "g", "path", "rect", "text", "title"]);
    // No link to anything outside the file.
    for attr in parsed["attrs"].as_object().unwrap().keys() {
        assert!(!attr.contains("href"), "{attr}");
    }

    let texts: Vec<&str> = parsed["texts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        texts,
        [
            "iotmark",
            "Müller & Söhne <Geräte> \"GmbH\"",
            "Gerät ÄÖÜ 'Außen'",
            "Model: <X&Y>",
            "Security updates until 2031-06-30",
            "Scheme: EN 303 645 & \"more\"",
            "https://registry.example/p/muller-gerat?x=1&y=%3C",
        ]
    );
    let title = parsed["title"].as_str().unwrap();
    assert_eq!(
        title,
        "iotmark label: Gerät ÄÖÜ 'Außen' by Müller & Söhne <Geräte> \"GmbH\""
    );
    let desc = parsed["desc"].as_str().unwrap();
    for part in [
        "Manufacturer: Müller & Söhne <Geräte> \"GmbH\".",
        "Product: Gerät ÄÖÜ 'Außen'.",
        "Model: <X&Y>.",
        "Security updates until 2031-06-30.",
        "Scheme: EN 303 645 & \"more\".",
        "https://registry.example/p/muller-gerat?x=1&y=%3C",
    ] {
        assert!(desc.contains(part), "desc lacks {part:?}: {desc}");
    }
}

#[test]
fn without_a_support_period_the_label_says_so() {
    let c = LabelContent {
        support_end: None,
        model: String::new(),
        ..sample()
    };
    let parsed = parse_svg(&label_svg(&c).unwrap());
    let texts: Vec<&str> = parsed["texts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["text"].as_str().unwrap())
        .collect();
    assert!(
        texts.contains(&"Security update period not stated"),
        "{texts:?}"
    );
    assert!(
        !texts.iter().any(|t| t.starts_with("Model")),
        "an empty model leaves its line off: {texts:?}"
    );
    assert!(!parsed["desc"].as_str().unwrap().contains("Model"));
}

#[test]
fn long_texts_are_cut_to_fit_and_kept_whole_in_the_description() {
    let long_name = "SecureCam 2 Pro Outdoor Wireless Edition with Night Vision and Two-Way Audio";
    let c = LabelContent {
        product_name: long_name.into(),
        ..sample()
    };
    let parsed = parse_svg(&label_svg(&c).unwrap());
    let (width, _) = view_box(&parsed);
    let name = parsed["texts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["text"].as_str().unwrap().starts_with("SecureCam"))
        .unwrap();
    let shown = name["text"].as_str().unwrap();
    assert!(
        shown.ends_with('…') && shown.len() < long_name.len(),
        "{shown}"
    );
    assert!(
        long_name.starts_with(shown.trim_end_matches('…')),
        "{shown}"
    );
    // It dropped to body size before being cut, and stays inside the label: at the widest
    // common sans-serif's average (about 0.6 em a character) it ends before the frame.
    assert_eq!(name["size"], 10.0);
    let right = name["x"].as_f64().unwrap() + 0.6 * 10.0 * shown.chars().count() as f64;
    assert!(right < f64::from(width), "{right} past {width}");
    assert!(parsed["desc"].as_str().unwrap().contains(long_name));

    // The PNG still decodes and is the same size as the sample's: cutting does not grow it.
    let (img, _) = Image::decode(&label_png(&c, 1).unwrap());
    let (normal, _) = Image::decode(&label_png(&sample(), 1).unwrap());
    assert_eq!((img.width, img.height), (normal.width, normal.height));
}

#[test]
fn the_png_is_the_svg_at_scale_and_shows_its_text() {
    let c = sample();
    let parsed = parse_svg(&label_svg(&c).unwrap());
    let (w, h) = view_box(&parsed);
    for scale in [1, 2, 5] {
        let (img, info) = Image::decode(&label_png(&c, scale).unwrap());
        assert_eq!(
            (img.width, img.height),
            (w * scale, h * scale),
            "scale {scale}"
        );
        assert_eq!(
            info.bit_depth,
            png::BitDepth::One,
            "label printers want 1 bit"
        );
        // It prints as large as the SVG says it is: the same millimetres.
        let dims = info.pixel_dims.unwrap();
        assert_eq!(dims.unit, png::Unit::Meter);
        let svg_mm: f64 = parsed["attrs"]["width"]
            .as_str()
            .unwrap()
            .trim_end_matches("mm")
            .parse()
            .unwrap();
        let png_mm = f64::from(img.width) / f64::from(dims.xppu) * 1000.0;
        assert!((png_mm - svg_mm).abs() < 0.05, "{png_mm} mm vs {svg_mm} mm");

        // Ink wherever the SVG puts a line of text, in proportion to its length; none
        // between the lines of the text column.
        let mut texts = parsed["texts"].as_array().unwrap().clone();
        texts.sort_by(|a, b| {
            a["y"]
                .as_f64()
                .unwrap()
                .total_cmp(&b["y"].as_f64().unwrap())
        });
        for t in &texts {
            let (x, y, size) = (
                t["x"].as_f64().unwrap() as u32,
                t["y"].as_f64().unwrap() as u32,
                t["size"].as_f64().unwrap() as u32 / 10,
            );
            let chars = t["text"].as_str().unwrap().chars().count() as u32;
            let ink = img.ink(
                x * scale,
                (y - 7 * size) * scale,
                (x + 6 * size * chars) * scale,
                y * scale,
            );
            let area = (6 * size * chars * 7 * size * scale * scale) as usize;
            assert!(
                ink * 8 > area,
                "scale {scale}: too little ink ({ink} of {area}) for {t}"
            );
        }
        let column: Vec<_> = texts
            .iter()
            .filter(|t| t["x"] == texts[1]["x"] && t["text"] != "iotmark")
            .collect();
        for pair in column.windows(2) {
            let below = pair[0]["y"].as_f64().unwrap() as u32
                + 2 * (pair[0]["size"].as_f64().unwrap() as u32 / 10);
            let above = pair[1]["y"].as_f64().unwrap() as u32
                - 7 * (pair[1]["size"].as_f64().unwrap() as u32 / 10);
            let x = pair[0]["x"].as_f64().unwrap() as u32;
            assert_eq!(
                img.ink(x * scale, below * scale, (w - 3) * scale, above * scale),
                0,
                "between {} and {}",
                pair[0],
                pair[1]
            );
        }
    }
}

#[test]
fn changing_the_name_changes_only_the_name_line_and_transliteration_is_exact() {
    let parsed = parse_svg(&label_svg(&sample()).unwrap());
    let name = parsed["texts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["text"] == "SecureCam 2")
        .unwrap()
        .clone();
    let (x, y, size) = (
        name["x"].as_f64().unwrap() as u32,
        name["y"].as_f64().unwrap() as u32,
        name["size"].as_f64().unwrap() as u32 / 10,
    );
    let render = |product: &str| {
        Image::decode(
            &label_png(
                &LabelContent {
                    product_name: product.into(),
                    ..sample()
                },
                2,
            )
            .unwrap(),
        )
        .0
    };
    let a = render("SecureCam 2");
    let b = render("SecureCam 3");
    let differ: Vec<(u32, u32)> = (0..a.height)
        .flat_map(|py| (0..a.width).map(move |px| (px, py)))
        .filter(|&(px, py)| {
            a.dark[(py * a.width + px) as usize] != b.dark[(py * a.width + px) as usize]
        })
        .collect();
    assert!(!differ.is_empty(), "the product name is not drawn");
    for (px, py) in differ {
        let (ux, uy) = (px / 2, py / 2);
        assert!(
            ux >= x && uy >= y - 7 * size && uy < y + 2 * size,
            "pixel ({px}, {py}) changed outside the name"
        );
    }
    // The PNG spells what its font lacks in ASCII: the same pixels as the ASCII spelling
    // (the SVG keeps the real letters; see the escaping test).
    let umlauts = render("Gerät ÄÖÜ ß");
    let plain = render("Gerat AOU ss");
    assert!(
        umlauts.dark == plain.dark,
        "Gerät ÄÖÜ ß is not drawn as Gerat AOU ss"
    );
    // What has no ASCII spelling shows as '?'.
    assert!(render("摄像头").dark == render("???").dark);
}

#[test]
fn bad_input_is_an_error_that_names_the_field() {
    let e = label_png(&sample(), 0).unwrap_err();
    assert!(matches!(e, LabelError::BadScale { scale: 0 }), "{e}");
    assert!(label_png(&sample(), MAX_SCALE + 1).is_err());
    let too_long = LabelContent {
        url: format!("https://registry.example/p/{}", "a".repeat(400)),
        ..sample()
    };
    let e = label_svg(&too_long).unwrap_err();
    assert!(matches!(e, LabelError::UrlTooLong { len: 427 }), "{e}");
    assert!(
        e.to_string().contains("`url`") && e.to_string().contains("shorter"),
        "{e}"
    );
    let no_name = LabelContent {
        product_name: "\t".into(),
        ..sample()
    };
    let e = label_png(&no_name, 1).unwrap_err();
    assert!(e.to_string().contains("`product_name`"), "{e}");
}
