//! The label's own bitmap font, for the PNG: one glyph for each printable ASCII character
//! (0x20–0x7E) and one for the ellipsis, drawn for this project. Anything else is
//! transliterated first (see [`super::text::for_each_glyph`]).
//!
//! A glyph is 5 pixels wide and 9 tall: rows 0–6 stand on the baseline (capitals and digits
//! are 7 tall, lower case has a 5-row x-height), rows 7–8 hold descenders. Glyphs advance by
//! [`ADVANCE`] pixels, leaving one blank column between letters. The font is drawn at a whole
//! multiple of its pixel so it stays crisp on 1-bit label printers.

/// Glyph width in font pixels.
pub(crate) const WIDTH: u32 = 5;
/// Rows above the baseline (the cap height).
pub(crate) const ASCENT: u32 = 7;
/// Rows below the baseline.
pub(crate) const DESCENT: u32 = 2;
/// Glyph rows in all.
pub(crate) const ROWS: usize = (ASCENT + DESCENT) as usize;
/// Horizontal step from one glyph to the next, in font pixels.
pub(crate) const ADVANCE: u32 = WIDTH + 1;
/// Index of the ellipsis glyph, which follows `~`.
pub(crate) const ELLIPSIS: usize = 0x7F - 0x20;
/// Index of `?`, shown for characters the font cannot show.
pub(crate) const UNKNOWN: usize = b'?' as usize - 0x20;

const GLYPHS_PER_BLOCK: usize = 16;
const BLOCKS: usize = 6;

/// The font as a sheet, so it can be read and edited as pictures: six blocks of sixteen
/// glyphs (0x20–0x2F, 0x30–0x3F, …, 0x70–0x7E and the ellipsis), each row of a block holding
/// that row of its sixteen glyphs, separated by a space. `#` is ink.
#[rustfmt::skip]
const SHEET: [[&str; ROWS]; BLOCKS] = [
    //       !     "     #     $     %     &     '     (     )     *     +     ,     -     .     /
    [
        "..... ..#.. .#.#. .#.#. ..#.. ##... .##.. ..#.. ...#. .#... ..... ..... ..... ..... ..... .....",
        "..... ..#.. .#.#. .#.#. .#### ##..# #..#. ..#.. ..#.. ..#.. ..#.. ..#.. ..... ..... ..... ....#",
        "..... ..#.. .#.#. ##### #.#.. ...#. .##.. ..#.. .#... ...#. #.#.# ..#.. ..... ..... ..... ...#.",
        "..... ..#.. ..... .#.#. .###. ..#.. .#... ..... .#... ...#. .###. ##### ..... .###. ..... ..#..",
        "..... ..#.. ..... ##### ..#.# .#... #.#.# ..... .#... ...#. #.#.# ..#.. ..... ..... ..... .#...",
        "..... ..... ..... .#.#. ####. #..## #..#. ..... ..#.. ..#.. ..#.. ..#.. .##.. ..... .##.. #....",
        "..... ..#.. ..... .#.#. ..#.. ...## .##.# ..... ...#. .#... ..... ..... .##.. ..... .##.. .....",
        "..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..#.. ..... ..... .....",
        "..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... .#... ..... ..... .....",
    ],
    // 0     1     2     3     4     5     6     7     8     9     :     ;     <     =     >     ?
    [
        ".###. ..#.. .###. ##### ...#. ##### ..##. ##### .###. .###. ..... ..... ...#. ..... .#... .###.",
        "#...# .##.. #...# ...#. ..##. #.... .#... ....# #...# #...# ..... ..... ..#.. ..... ..#.. #...#",
        "#...# ..#.. ....# ..#.. .#.#. ####. #.... ...#. #...# #...# .##.. .##.. .#... ##### ...#. ....#",
        "#.#.# ..#.. ...#. ...#. #..#. ....# ####. ..#.. .###. .#### .##.. .##.. #.... ..... ....# ...#.",
        "#...# ..#.. ..#.. ....# ##### ....# #...# .#... #...# ....# ..... ..... .#... ##### ...#. ..#..",
        "#...# ..#.. .#... #...# ...#. #...# #...# .#... #...# ...#. .##.. .##.. ..#.. ..... ..#.. .....",
        ".###. .###. ##### .###. ...#. .###. .###. .#... .###. .##.. .##.. .##.. ...#. ..... .#... ..#..",
        "..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..#.. ..... ..... ..... .....",
        "..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... .#... ..... ..... ..... .....",
    ],
    // @     A     B     C     D     E     F     G     H     I     J     K     L     M     N     O
    [
        ".###. .###. ####. .###. ###.. ##### ##### .###. #...# .###. ..### #...# #.... #...# #...# .###.",
        "#...# #...# #...# #...# #..#. #.... #.... #...# #...# ..#.. ...#. #..#. #.... ##.## ##..# #...#",
        "#.### #...# #...# #.... #...# #.... #.... #.... #...# ..#.. ...#. #.#.. #.... #.#.# ##..# #...#",
        "#.#.# ##### ####. #.... #...# ####. ####. #.### ##### ..#.. ...#. ##... #.... #.#.# #.#.# #...#",
        "#.### #...# #...# #.... #...# #.... #.... #...# #...# ..#.. ...#. #.#.. #.... #...# #..## #...#",
        "#.... #...# #...# #...# #..#. #.... #.... #...# #...# ..#.. #..#. #..#. #.... #...# #..## #...#",
        ".#### #...# ####. .###. ###.. ##### #.... .#### #...# .###. .##.. #...# ##### #...# #...# .###.",
        "..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... .....",
        "..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... .....",
    ],
    // P     Q     R     S     T     U     V     W     X     Y     Z     [     \     ]     ^     _
    [
        "####. .###. ####. .#### ##### #...# #...# #...# #...# #...# ##### .###. ..... .###. ..#.. .....",
        "#...# #...# #...# #.... ..#.. #...# #...# #...# #...# #...# ....# .#... #.... ...#. .#.#. .....",
        "#...# #...# #...# #.... ..#.. #...# #...# #...# .#.#. .#.#. ...#. .#... .#... ...#. #...# .....",
        "####. #...# ####. .###. ..#.. #...# #...# #.#.# ..#.. ..#.. ..#.. .#... ..#.. ...#. ..... .....",
        "#.... #.#.# #.#.. ....# ..#.. #...# #...# #.#.# .#.#. ..#.. .#... .#... ...#. ...#. ..... .....",
        "#.... #..#. #..#. ....# ..#.. #...# .#.#. #.#.# #...# ..#.. #.... .#... ....# ...#. ..... .....",
        "#.... .##.# #...# ####. ..#.. .###. ..#.. .#.#. #...# ..#.. ##### .###. ..... .###. ..... .....",
        "..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... #####",
        "..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... .....",
    ],
    // `     a     b     c     d     e     f     g     h     i     j     k     l     m     n     o
    [
        ".#... ..... #.... ..... ....# ..... ..##. ..... #.... ..#.. ...#. #.... .##.. ..... ..... .....",
        "..#.. ..... #.... ..... ....# ..... .#..# ..... #.... ..... ..... #.... ..#.. ..... ..... .....",
        "...#. .###. ####. .###. .#### .###. .#... .#### #.##. .##.. ..##. #..#. ..#.. ##.#. #.##. .###.",
        "..... ....# #...# #.... #...# #...# ###.. #...# ##..# ..#.. ...#. #.#.. ..#.. #.#.# ##..# #...#",
        "..... .#### #...# #.... #...# ##### .#... #...# #...# ..#.. ...#. ##... ..#.. #.#.# #...# #...#",
        "..... #...# #...# #...# #...# #.... .#... #...# #...# ..#.. ...#. #.#.. ..#.. #.#.# #...# #...#",
        "..... .#### ####. .###. .#### .###. .#... .#### #...# .###. ...#. #..#. .###. #.#.# #...# .###.",
        "..... ..... ..... ..... ..... ..... ..... ....# ..... ..... #..#. ..... ..... ..... ..... .....",
        "..... ..... ..... ..... ..... ..... ..... .###. ..... ..... .##.. ..... ..... ..... ..... .....",
    ],
    // p     q     r     s     t     u     v     w     x     y     z     {     |     }     ~     …
    [
        "..... ..... ..... ..... .#... ..... ..... ..... ..... ..... ..... ...## ..#.. ##... ..... .....",
        "..... ..... ..... ..... .#... ..... ..... ..... ..... ..... ..... ..#.. ..#.. ..#.. ..... .....",
        "####. .#### #.##. .#### ###.. #...# #...# #...# #...# #...# ##### ..#.. ..#.. ..#.. .#... .....",
        "#...# #...# ##..# #.... .#... #...# #...# #...# .#.#. #...# ...#. .#... ..#.. ...#. #.#.# .....",
        "#...# #...# #.... .###. .#... #...# #...# #.#.# ..#.. #...# ..#.. ..#.. ..#.. ..#.. ...#. .....",
        "#...# #...# #.... ....# .#..# #..## .#.#. #.#.# .#.#. #...# .#... ..#.. ..#.. ..#.. ..... .....",
        "####. .#### #.... ####. ..##. .##.# ..#.. .#.#. #...# .#### ##### ...## ..#.. ##... ..... #.#.#",
        "#.... ....# ..... ..... ..... ..... ..... ..... ..... ....# ..... ..... ..... ..... ..... .....",
        "#.... ....# ..... ..... ..... ..... ..... ..... ..... .###. ..... ..... ..... ..... ..... .....",
    ],
];

/// The glyphs as bit rows (bit 4 is the leftmost column), built from [`SHEET`] when the crate
/// compiles: a malformed sheet is a compile error, not a broken label.
pub(crate) static GLYPHS: [[u8; ROWS]; BLOCKS * GLYPHS_PER_BLOCK] = compile_sheet();

const fn compile_sheet() -> [[u8; ROWS]; BLOCKS * GLYPHS_PER_BLOCK] {
    let stride = WIDTH as usize + 1;
    let mut glyphs = [[0u8; ROWS]; BLOCKS * GLYPHS_PER_BLOCK];
    let mut block = 0;
    while block < BLOCKS {
        let mut row = 0;
        while row < ROWS {
            let line = SHEET[block][row].as_bytes();
            assert!(
                line.len() == GLYPHS_PER_BLOCK * stride - 1,
                "font sheet: a row has the wrong length"
            );
            let mut i = 0;
            while i < line.len() {
                let (glyph, col) = (i / stride, i % stride);
                let b = line[i];
                if col == WIDTH as usize {
                    assert!(
                        b == b' ',
                        "font sheet: glyphs must be separated by one space"
                    );
                } else {
                    assert!(
                        b == b'#' || b == b'.',
                        "font sheet: only '#' and '.' draw glyphs"
                    );
                    if b == b'#' {
                        glyphs[block * GLYPHS_PER_BLOCK + glyph][row] |=
                            1 << (WIDTH as usize - 1 - col);
                    }
                }
                i += 1;
            }
            row += 1;
        }
        block += 1;
    }
    glyphs
}

/// Whether glyph `glyph` has ink at column `col` (0 = left) of row `row` (0 = top).
pub(crate) fn ink(glyph: usize, row: usize, col: u32) -> bool {
    GLYPHS
        .get(glyph)
        .and_then(|g| g.get(row))
        .is_some_and(|bits| bits & (1 << (WIDTH - 1 - col)) != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn picture(glyph: usize) -> Vec<String> {
        (0..ROWS)
            .map(|r| {
                (0..WIDTH)
                    .map(|c| if ink(glyph, r, c) { '#' } else { '.' })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn every_printable_glyph_has_ink_and_no_two_are_alike() {
        let mut seen = std::collections::HashMap::new();
        for g in 1..=ELLIPSIS {
            let pic = picture(g);
            assert!(pic.iter().any(|r| r.contains('#')), "glyph {g} is blank");
            if let Some(other) = seen.insert(pic, g) {
                panic!("glyphs {other} and {g} are the same picture");
            }
        }
        assert!(picture(0).iter().all(|r| !r.contains('#')), "space has ink");
    }

    #[test]
    fn only_descending_glyphs_reach_below_the_baseline() {
        for g in 0..ELLIPSIS {
            let c = char::from(u8::try_from(g + 0x20).unwrap());
            let below = (ASCENT as usize..ROWS).any(|r| (0..WIDTH).any(|col| ink(g, r, col)));
            assert_eq!(
                below,
                ",;_gjpqy".contains(c),
                "glyph {c:?} below the baseline"
            );
        }
    }

    #[test]
    fn glyphs_look_like_their_letters() {
        // Two spot checks against the sheet's pictures, so a shifted block is caught.
        assert_eq!(
            picture(usize::from(b'A' - 0x20))[..7],
            [
                ".###.", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"
            ]
        );
        assert_eq!(picture(usize::from(b'~' - 0x20))[3], "#.#.#");
        assert_eq!(picture(ELLIPSIS)[6], "#.#.#");
        assert_eq!(picture(UNKNOWN)[0], ".###.");
    }
}
