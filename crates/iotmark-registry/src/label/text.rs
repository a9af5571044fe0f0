//! Text as the label carries it: cleaned of what neither XML nor a printed label can hold,
//! measured for both outputs, shortened to fit, and spelled with the bitmap font's glyphs.

use super::font;

/// Collapses whitespace and control characters into single spaces and trims the ends.
///
/// Control characters are not XML 1.0 characters, and a label has one line per field. The
/// bidirectional embedding, override and isolate controls are dropped too: with them a name
/// could make the SVG show its text in another order than the one it was registered with.
/// U+FFFE and U+FFFF (not XML characters either) become U+FFFD.
pub(crate) fn clean(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for c in s.chars() {
        if c.is_whitespace() || c.is_control() {
            space = !out.is_empty();
            continue;
        }
        if matches!(c, '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
        {
            continue;
        }
        if space {
            out.push(' ');
            space = false;
        }
        out.push(if matches!(c, '\u{FFFE}' | '\u{FFFF}') {
            '\u{FFFD}'
        } else {
            c
        });
    }
    out
}

/// Calls `f` with the bitmap-font glyph index of each character of `s`, transliterating what
/// the font has no glyph for (Ä → A, ß → ss, – → -) and showing `?` for the rest.
pub(crate) fn for_each_glyph(s: &str, mut f: impl FnMut(usize)) {
    for c in s.chars() {
        match c {
            ' '..='~' => f(c as usize - 0x20),
            '…' => f(font::ELLIPSIS),
            _ => match transliterate(c) {
                Some(ascii) => ascii.bytes().for_each(|b| f(usize::from(b) - 0x20)),
                None => f(font::UNKNOWN),
            },
        }
    }
}

/// Number of bitmap-font glyphs `s` is drawn with.
pub(crate) fn glyph_count(s: &str) -> u32 {
    let mut n = 0;
    for_each_glyph(s, |_| n += 1);
    n
}

/// The plain-ASCII spelling of a character, where there is an obvious one: Latin letters
/// lose their accents (German umlauts too: Ä → A, as printers of plain-ASCII labels do),
/// ligatures and ß are spelt out, typographic punctuation becomes its ASCII form.
fn transliterate(c: char) -> Option<&'static str> {
    Some(match c {
        'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' | 'Ā' | 'Ă' | 'Ą' => "A",
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => "a",
        'Æ' => "AE",
        'æ' => "ae",
        'Ç' | 'Ć' | 'Ĉ' | 'Ċ' | 'Č' => "C",
        'ç' | 'ć' | 'ĉ' | 'ċ' | 'č' => "c",
        'Ð' | 'Ď' | 'Đ' => "D",
        'ð' | 'ď' | 'đ' => "d",
        'È' | 'É' | 'Ê' | 'Ë' | 'Ē' | 'Ĕ' | 'Ė' | 'Ę' | 'Ě' => "E",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ĕ' | 'ė' | 'ę' | 'ě' => "e",
        'Ĝ' | 'Ğ' | 'Ġ' | 'Ģ' => "G",
        'ĝ' | 'ğ' | 'ġ' | 'ģ' => "g",
        'Ĥ' | 'Ħ' => "H",
        'ĥ' | 'ħ' => "h",
        'Ì' | 'Í' | 'Î' | 'Ï' | 'Ĩ' | 'Ī' | 'Ĭ' | 'Į' | 'İ' => "I",
        'ì' | 'í' | 'î' | 'ï' | 'ĩ' | 'ī' | 'ĭ' | 'į' | 'ı' => "i",
        'Ĳ' => "IJ",
        'ĳ' => "ij",
        'Ĵ' => "J",
        'ĵ' => "j",
        'Ķ' => "K",
        'ķ' => "k",
        'Ĺ' | 'Ļ' | 'Ľ' | 'Ŀ' | 'Ł' => "L",
        'ĺ' | 'ļ' | 'ľ' | 'ŀ' | 'ł' => "l",
        'Ñ' | 'Ń' | 'Ņ' | 'Ň' => "N",
        'ñ' | 'ń' | 'ņ' | 'ň' => "n",
        'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' | 'Ø' | 'Ō' | 'Ŏ' | 'Ő' => "O",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ŏ' | 'ő' => "o",
        'Œ' => "OE",
        'œ' => "oe",
        'Ŕ' | 'Ŗ' | 'Ř' => "R",
        'ŕ' | 'ŗ' | 'ř' => "r",
        'Ś' | 'Ŝ' | 'Ş' | 'Š' | 'Ș' => "S",
        'ś' | 'ŝ' | 'ş' | 'š' | 'ș' => "s",
        'ß' => "ss",
        'ẞ' => "SS",
        'Ţ' | 'Ť' | 'Ŧ' | 'Ț' => "T",
        'ţ' | 'ť' | 'ŧ' | 'ț' => "t",
        'Þ' => "Th",
        'þ' => "th",
        'Ù' | 'Ú' | 'Û' | 'Ü' | 'Ũ' | 'Ū' | 'Ŭ' | 'Ů' | 'Ű' | 'Ų' => "U",
        'ù' | 'ú' | 'û' | 'ü' | 'ũ' | 'ū' | 'ŭ' | 'ů' | 'ű' | 'ų' => "u",
        'Ŵ' => "W",
        'ŵ' => "w",
        'Ý' | 'Ÿ' | 'Ŷ' => "Y",
        'ý' | 'ÿ' | 'ŷ' => "y",
        'Ź' | 'Ż' | 'Ž' => "Z",
        'ź' | 'ż' | 'ž' => "z",
        '‘' | '’' | '‚' | '′' | '´' => "'",
        '“' | '”' | '„' | '″' => "\"",
        '‹' => "<",
        '›' => ">",
        '«' => "<<",
        '»' => ">>",
        '‐' | '‑' | '‒' | '–' | '—' | '−' => "-",
        '·' | '•' => ".",
        '×' => "x",
        '©' => "(C)",
        '®' => "(R)",
        '™' => "TM",
        '€' => "EUR",
        '\u{FFFD}' => "?",
        _ => return None,
    })
}

/// Width of a character in the SVG's `system-ui, sans-serif` text, in em, rounded up from
/// the widest common sans-serif faces (DejaVu Sans is the widest of them), so that text
/// measured with it does not run past its column whatever font the viewer picks.
fn svg_em(c: char) -> f64 {
    match c {
        ' ' | 'i' | 'j' | 'l' | 'I' | 'J' | '\'' | '|' | '!' | '.' | ',' | ':' | ';' | '`' => 0.34,
        'f' | 't' | 'r' | '(' | ')' | '[' | ']' | '{' | '}' | '-' | '/' | '\\' | '"' => 0.44,
        'C' | 'D' | 'G' | 'H' | 'N' | 'O' | 'Q' | 'U' => 0.8,
        'm' | 'w' | 'M' | 'W' | '@' | '%' => 1.0,
        '#' | '&' | '+' | '<' | '=' | '>' | '~' | '*' | '^' | '_' => 0.84,
        'A'..='Z' => 0.72,
        '!'..='~' => 0.65,
        '…' => 1.0,
        // Wide scripts (CJK, Hangul, fullwidth forms) are a full em; other letters are
        // taken to be as wide as a wide Latin capital.
        '\u{1100}'..='\u{115F}' | '\u{2E80}'..='\u{A4CF}' | '\u{AC00}'..='\u{D7A3}' => 1.0,
        '\u{F900}'..='\u{FAFF}' | '\u{FE30}'..='\u{FE4F}' | '\u{FF00}'..='\u{FF60}' => 1.0,
        '\u{20000}'..='\u{3FFFD}' => 1.0,
        _ => 0.8,
    }
}

/// How wide `s` is at text size `size`, in label units: the wider of the bitmap font (one
/// font pixel per unit at size 1) and the SVG estimate (font-size `SVG_FONT_SIZE`·size).
pub(crate) fn width(s: &str, size: u32) -> f64 {
    let bitmap = f64::from(glyph_count(s) * font::ADVANCE * size);
    let svg: f64 = s.chars().map(svg_em).sum::<f64>() * f64::from(SVG_FONT_SIZE * size);
    bitmap.max(svg)
}

/// The SVG font-size of text size 1, in label units: a sans-serif capital is about 0.7 em,
/// so this matches the bitmap font's 7-pixel capitals.
pub(crate) const SVG_FONT_SIZE: u32 = 10;

/// `s` if it fits in `max` units at `size`, else as much of it as fits followed by `…`.
pub(crate) fn fit(s: &str, size: u32, max: f64) -> String {
    if width(s, size) <= max {
        return s.to_owned();
    }
    let mut kept = String::new();
    for c in s.chars() {
        kept.push(c);
        kept.push('…');
        let fits = width(&kept, size) <= max;
        kept.pop();
        if !fits {
            kept.pop();
            break;
        }
    }
    let mut out = kept.trim_end().to_owned();
    out.push('…');
    out
}

/// Breaks `s` (a URL: no spaces) into lines no wider than `max` at `size`, after a `/`
/// where that keeps lines at least half full, so the pieces read as parts of the address.
pub(crate) fn wrap(s: &str, size: u32, max: f64) -> Vec<String> {
    let mut lines = Vec::new();
    let mut rest: &str = s;
    while !rest.is_empty() {
        if width(rest, size) <= max {
            lines.push(rest.to_owned());
            break;
        }
        let mut end = 0;
        for (i, c) in rest.char_indices() {
            if width(&rest[..i + c.len_utf8()], size) > max {
                break;
            }
            end = i + c.len_utf8();
        }
        if end == 0 {
            // Not even one character fits: the column is narrower than a glyph. Put one
            // character per line rather than loop forever.
            end = rest.chars().next().map_or(rest.len(), char::len_utf8);
        }
        if let Some(slash) = rest[..end].rfind('/')
            && slash + 1 >= end / 2
            && slash + 1 < end
        {
            end = slash + 1;
        }
        lines.push(rest[..end].to_owned());
        rest = &rest[end..];
    }
    lines
}

/// Escapes text for XML character data and attribute values.
pub(crate) fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ascii(s: &str) -> String {
        let mut out = String::new();
        for_each_glyph(s, |g| {
            out.push(if g == font::ELLIPSIS {
                '…'
            } else {
                char::from(u8::try_from(g + 0x20).unwrap())
            });
        });
        out
    }

    #[test]
    fn non_ascii_is_transliterated_or_questioned() {
        assert_eq!(ascii("Gerät ÄÖÜ äöü ß"), "Gerat AOU aou ss");
        assert_eq!(ascii("Crème brûlée – Łódź"), "Creme brulee - Lodz");
        assert_eq!(
            ascii("Œuvre™ “quoted” Ørsted"),
            "OEuvreTM \"quoted\" Orsted"
        );
        assert_eq!(ascii("摄像头 Пример"), "??? ??????");
        assert_eq!(ascii("plain <&> 'ascii'…"), "plain <&> 'ascii'…");
        assert_eq!(glyph_count("ß"), 2);
    }

    #[test]
    fn clean_makes_one_line_of_xml_characters() {
        assert_eq!(
            clean("  Acme\tDevices\n\r GmbH \u{0} "),
            "Acme Devices GmbH"
        );
        assert_eq!(clean("cam\u{202E}era\u{2066}"), "camera");
        assert_eq!(clean("a\u{FFFE}b"), "a\u{FFFD}b");
        assert_eq!(clean(" \n "), "");
        assert_eq!(clean("Gerät ÄÖÜ"), "Gerät ÄÖÜ");
    }

    #[test]
    fn fit_keeps_what_fits_and_marks_the_cut() {
        assert_eq!(fit("SecureCam", 1, 200.0), "SecureCam");
        let cut = fit("SecureCam Pro Outdoor Edition", 1, 80.0);
        assert!(
            cut.ends_with('…') && cut.len() < "SecureCam Pro Outdoor Edition".len(),
            "{cut}"
        );
        assert!(width(&cut, 1) <= 80.0, "{cut} is {} wide", width(&cut, 1));
        // No space is left before the ellipsis.
        assert!(!cut.ends_with(" …"), "{cut}");
        // Cutting never splits a character.
        let cut = fit("ÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄ", 1, 50.0);
        assert!(
            cut.chars().all(|c| c == 'Ä' || c == '…') && cut.ends_with('…'),
            "{cut}"
        );
    }

    #[test]
    fn wrap_breaks_long_urls_after_slashes_and_loses_nothing() {
        let url = "https://registry.example/p/a-really-long-product-identifier/with/more/parts";
        let lines = wrap(url, 1, 200.0);
        assert!(lines.len() > 1, "{lines:?}");
        assert_eq!(lines.concat(), url);
        assert!(lines.iter().all(|l| width(l, 1) <= 200.0), "{lines:?}");
        assert!(
            lines[..lines.len() - 1].iter().all(|l| l.ends_with('/')),
            "{lines:?}"
        );
        assert_eq!(
            wrap("https://x.example/p/1", 1, 400.0),
            ["https://x.example/p/1"]
        );
    }

    #[test]
    fn xml_escape_covers_markup_and_quotes() {
        assert_eq!(
            xml_escape(r#"<a & "b" 'c'>"#),
            "&lt;a &amp; &quot;b&quot; &apos;c&apos;&gt;"
        );
    }
}
