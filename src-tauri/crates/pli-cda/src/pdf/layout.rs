//! Page layout: styled words wrapped into lines, lines and table rows placed on
//! A4 pages with automatic page breaks, then page furniture (footer, page
//! numbers, truncation notice).
//!
//! All text is WinAnsi bytes (see [`super::winansi`]) measured with the
//! Helvetica metrics, so line widths here match what a reader draws. Output is
//! one content-stream string per page; strings go through
//! [`super::writer::push_literal`].

use std::fmt::Write as _;

use super::winansi::{self, HELVETICA, HELVETICA_BOLD};
use super::writer::{num, push_literal};

mod table;

use table::lines_height;
pub(crate) use table::{Cell, Row, Table};

/// A4 width in points.
pub(crate) const PAGE_W: f32 = 595.28;
/// A4 height in points.
pub(crate) const PAGE_H: f32 = 841.89;
/// Left and right margins.
pub(crate) const MARGIN_X: f32 = 50.0;
const MARGIN_TOP: f32 = 50.0;
/// Content stops here; the footer lives below.
const MARGIN_BOTTOM: f32 = 66.0;
/// Width of the text column.
pub(crate) const CONTENT_W: f32 = PAGE_W - 2.0 * MARGIN_X;
const TOP: f32 = PAGE_H - MARGIN_TOP;
/// Line height as a multiple of the font size.
const LEADING: f32 = 1.3;
/// Cell padding, horizontal and vertical.
const PAD_X: f32 = 3.0;
const PAD_Y: f32 = 2.5;
/// Most columns a table gets; cells beyond are merged into the last column.
const MAX_COLS: usize = 16;

/// The four standard fonts used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Font {
    Regular,
    Bold,
    Italic,
    BoldItalic,
}

impl Font {
    fn resource(self) -> &'static str {
        match self {
            Self::Regular => "F1",
            Self::Bold => "F2",
            Self::Italic => "F3",
            Self::BoldItalic => "F4",
        }
    }

    fn widths(self) -> &'static [u16; 224] {
        match self {
            Self::Regular | Self::Italic => &HELVETICA,
            Self::Bold | Self::BoldItalic => &HELVETICA_BOLD,
        }
    }

    pub(crate) fn bold(self) -> Self {
        match self {
            Self::Regular | Self::Bold => Self::Bold,
            Self::Italic | Self::BoldItalic => Self::BoldItalic,
        }
    }

    pub(crate) fn italic(self) -> Self {
        match self {
            Self::Regular | Self::Italic => Self::Italic,
            Self::Bold | Self::BoldItalic => Self::BoldItalic,
        }
    }
}

/// How a run of text looks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Style {
    pub font: Font,
    pub size: f32,
    /// Baseline shift (superscript > 0, subscript < 0).
    pub rise: f32,
    pub underline: bool,
    pub strike: bool,
    /// Fill grey level, 0 = black.
    pub gray: f32,
}

impl Style {
    /// Body text: Helvetica 10 pt, black.
    pub(crate) const BODY: Style = Style {
        font: Font::Regular,
        size: 10.0,
        rise: 0.0,
        underline: false,
        strike: false,
        gray: 0.0,
    };

    pub(crate) fn bold(self) -> Self {
        Self {
            font: self.font.bold(),
            ..self
        }
    }

    pub(crate) fn italic(self) -> Self {
        Self {
            font: self.font.italic(),
            ..self
        }
    }

    pub(crate) fn sized(self, size: f32) -> Self {
        Self { size, ..self }
    }

    pub(crate) fn gray(self, gray: f32) -> Self {
        Self { gray, ..self }
    }

    /// Width of WinAnsi bytes in this style, in points.
    pub(crate) fn width(&self, bytes: &[u8]) -> f32 {
        let units: u32 = bytes
            .iter()
            .map(|&b| u32::from(winansi::width(self.font.widths(), b)))
            .sum();
        units as f32 * self.size / 1000.0
    }
}

/// A run of WinAnsi bytes in one style.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Piece {
    pub bytes: Vec<u8>,
    pub style: Style,
}

/// Inline content ready for wrapping.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Item {
    /// Unbreakable text, possibly in several styles (`H₂O`).
    Word(Vec<Piece>),
    /// A breakable space.
    Space(Style),
    /// A forced line break.
    Break(Style),
}

/// Collects styled text into [`Item`]s.
#[derive(Debug, Default)]
pub(crate) struct Inline {
    items: Vec<Item>,
    word: Vec<Piece>,
}

impl Inline {
    /// Appends Unicode text (encoded to WinAnsi); spaces become break points.
    pub(crate) fn text(&mut self, text: &str, style: Style) {
        self.bytes(&winansi::encode(text), style);
    }

    /// Appends WinAnsi bytes.
    pub(crate) fn bytes(&mut self, bytes: &[u8], style: Style) {
        for (i, segment) in bytes.split(|&b| b == b' ').enumerate() {
            if i > 0 {
                self.space(style);
            }
            if segment.is_empty() {
                continue;
            }
            match self.word.last_mut() {
                Some(p) if p.style == style => p.bytes.extend_from_slice(segment),
                _ => self.word.push(Piece {
                    bytes: segment.to_vec(),
                    style,
                }),
            }
        }
    }

    fn flush_word(&mut self) {
        if !self.word.is_empty() {
            self.items.push(Item::Word(std::mem::take(&mut self.word)));
        }
    }

    /// A breakable space (collapsed with its neighbours, dropped at line start).
    pub(crate) fn space(&mut self, style: Style) {
        self.flush_word();
        if matches!(self.items.last(), Some(Item::Word(_))) {
            self.items.push(Item::Space(style));
        }
    }

    /// A forced line break.
    pub(crate) fn line_break(&mut self, style: Style) {
        self.flush_word();
        if matches!(self.items.last(), Some(Item::Space(_))) {
            self.items.pop();
        }
        self.items.push(Item::Break(style));
    }

    /// True when nothing visible was added.
    pub(crate) fn is_empty(&self) -> bool {
        self.word.is_empty() && !self.items.iter().any(|i| matches!(i, Item::Word(_)))
    }

    /// True when the content ends with a line break (or is empty).
    pub(crate) fn at_line_start(&self) -> bool {
        self.word.is_empty() && matches!(self.items.last(), None | Some(Item::Break(_)))
    }

    /// Takes the items, without trailing spaces and breaks.
    pub(crate) fn take(&mut self) -> Vec<Item> {
        self.flush_word();
        while matches!(self.items.last(), Some(Item::Space(_) | Item::Break(_))) {
            self.items.pop();
        }
        std::mem::take(&mut self.items)
    }
}

/// One laid-out line.
#[derive(Debug, Default, Clone)]
pub(crate) struct Line {
    pieces: Vec<Piece>,
    width: f32,
    /// Largest font size on the line.
    size: f32,
}

impl Line {
    fn push(&mut self, bytes: &[u8], style: Style) {
        if bytes.is_empty() {
            return;
        }
        self.width += style.width(bytes);
        self.size = self.size.max(style.size);
        match self.pieces.last_mut() {
            Some(p) if p.style == style => p.bytes.extend_from_slice(bytes),
            _ => self.pieces.push(Piece {
                bytes: bytes.to_vec(),
                style,
            }),
        }
    }

    fn height(&self) -> f32 {
        let size = if self.size > 0.0 { self.size } else { 10.0 };
        size * LEADING
    }
}

/// Greedy line breaking at spaces; a word wider than the line is cut between
/// characters.
pub(crate) fn wrap(items: &[Item], max_width: f32) -> Vec<Line> {
    let max_width = max_width.max(20.0);
    let mut lines = Vec::new();
    let mut cur = Line::default();
    let mut pending_space: Option<Style> = None;
    for item in items {
        match item {
            Item::Space(s) => {
                if !cur.pieces.is_empty() {
                    pending_space = Some(*s);
                }
            }
            Item::Break(s) => {
                if cur.pieces.is_empty() {
                    cur.size = cur.size.max(s.size);
                }
                lines.push(std::mem::take(&mut cur));
                pending_space = None;
            }
            Item::Word(pieces) => {
                let w: f32 = pieces.iter().map(|p| p.style.width(&p.bytes)).sum();
                let space_w = pending_space.map_or(0.0, |s| s.width(b" "));
                if !cur.pieces.is_empty() && cur.width + space_w + w > max_width {
                    lines.push(std::mem::take(&mut cur));
                } else if let Some(s) = pending_space {
                    cur.push(b" ", s);
                }
                pending_space = None;
                if cur.pieces.is_empty() && w > max_width {
                    // Cut the word between characters.
                    for p in pieces {
                        for &b in &p.bytes {
                            let bw = p.style.width(&[b]);
                            if !cur.pieces.is_empty() && cur.width + bw > max_width {
                                lines.push(std::mem::take(&mut cur));
                            }
                            cur.push(&[b], p.style);
                        }
                    }
                } else {
                    for p in pieces {
                        cur.push(&p.bytes, p.style);
                    }
                }
            }
        }
    }
    if !cur.pieces.is_empty() {
        lines.push(cur);
    }
    lines
}

/// Horizontal alignment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) enum Align {
    #[default]
    Left,
    Center,
    Right,
}

impl Align {
    fn offset(self, free: f32) -> f32 {
        match self {
            Self::Left => 0.0,
            Self::Center => (free / 2.0).max(0.0),
            Self::Right => free.max(0.0),
        }
    }
}

/// Draws one line with its baseline at `baseline`.
fn draw_line(ops: &mut String, line: &Line, x: f32, baseline: f32) {
    if line.pieces.is_empty() {
        return;
    }
    let _ = writeln!(ops, "BT\n{} {} Td", num(x), num(baseline));
    let mut font: Option<(Font, f32)> = None;
    let (mut rise, mut gray) = (0.0f32, 0.0f32);
    for p in &line.pieces {
        let s = p.style;
        if font != Some((s.font, s.size)) {
            let _ = writeln!(ops, "/{} {} Tf", s.font.resource(), num(s.size));
            font = Some((s.font, s.size));
        }
        if s.rise != rise {
            let _ = writeln!(ops, "{} Ts", num(s.rise));
            rise = s.rise;
        }
        if s.gray != gray {
            let _ = writeln!(ops, "{} g", num(s.gray));
            gray = s.gray;
        }
        push_literal(ops, &p.bytes);
        ops.push_str(" Tj\n");
    }
    if rise != 0.0 {
        ops.push_str("0 Ts\n");
    }
    if gray != 0.0 {
        ops.push_str("0 g\n");
    }
    ops.push_str("ET\n");
    // Underline and strike-through, measured with the same metrics.
    let mut px = x;
    for p in &line.pieces {
        let s = p.style;
        let w = s.width(&p.bytes);
        for (on, dy) in [(s.underline, -1.6), (s.strike, s.size * 0.28)] {
            if on {
                let y = baseline + s.rise + dy;
                let _ = writeln!(
                    ops,
                    "q {} G 0.6 w {} {} m {} {} l S Q",
                    num(s.gray),
                    num(px),
                    num(y),
                    num(px + w),
                    num(y)
                );
            }
        }
        px += w;
    }
}

/// The pages being filled.
#[derive(Debug)]
pub(crate) struct Layout {
    pages: Vec<String>,
    /// Top of the free space on the current page.
    y: f32,
    max_pages: usize,
    /// Set when the page cap stopped the layout; nothing is drawn after that.
    pub truncated: bool,
    /// A heading waiting for the content it introduces (see [`Layout::keep_with_next`]).
    keep: Option<Keep>,
}

/// Where a heading starts: page, offset in its content stream, top.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Keep {
    page: usize,
    start: usize,
    y: f32,
}

impl Layout {
    /// An empty first page; at most `max_pages` pages (at least one).
    pub(crate) fn new(max_pages: usize) -> Self {
        Self {
            pages: vec![String::new()],
            y: TOP,
            max_pages: max_pages.max(1),
            truncated: false,
            keep: None,
        }
    }

    /// Marks the start of a heading; pass the mark to [`Layout::keep_with_next`]
    /// once the heading is drawn.
    /// A heading that directly follows another waiting heading joins it.
    pub(crate) fn mark(&self) -> Keep {
        if let Some(k) = self.keep {
            return k;
        }
        Keep {
            page: self.pages.len() - 1,
            start: self.pages.last().map_or(0, String::len),
            y: self.y,
        }
    }

    /// Keeps what was drawn since `mark` with the next content: if that content
    /// starts a new page before anything else is drawn, the heading moves to
    /// the new page with it.
    pub(crate) fn keep_with_next(&mut self, mark: Keep) {
        self.keep = (mark.page == self.pages.len() - 1 && mark.y < TOP).then_some(mark);
    }

    fn ops(&mut self) -> &mut String {
        self.pages.last_mut().expect("one page at least")
    }

    fn room(&self) -> f32 {
        self.y - MARGIN_BOTTOM
    }

    fn at_top(&self) -> bool {
        self.y >= TOP
    }

    /// Starts a new page; false (and `truncated`) when the cap is reached.
    pub(crate) fn new_page(&mut self) -> bool {
        if self.truncated {
            return false;
        }
        if self.pages.len() >= self.max_pages {
            self.truncated = true;
            return false;
        }
        match self.keep.take() {
            Some(k) if k.page == self.pages.len() - 1 => {
                // Move the waiting heading to the top of the new page.
                let moved = self.pages[k.page].split_off(k.start);
                let dy = TOP - k.y;
                self.pages
                    .push(format!("q 1 0 0 1 0 {} cm\n{moved}Q\n", num(dy)));
                self.y = TOP - (k.y - self.y);
            }
            _ => {
                self.pages.push(String::new());
                self.y = TOP;
            }
        }
        true
    }

    /// Makes sure `h` points are free, breaking the page if needed.
    fn ensure(&mut self, h: f32) -> bool {
        if self.truncated {
            return false;
        }
        if self.room() >= h || self.at_top() {
            return true;
        }
        self.new_page()
    }

    /// Vertical space (none at the top of a page).
    pub(crate) fn gap(&mut self, h: f32) {
        if !self.at_top() {
            self.y = (self.y - h).max(MARGIN_BOTTOM);
        }
    }

    /// A horizontal rule across `width` from `x`.
    pub(crate) fn rule(&mut self, x: f32, width: f32, gray: f32, thickness: f32) {
        if !self.ensure(4.0) {
            return;
        }
        let y = self.y - 1.5;
        let _ = writeln!(
            self.ops(),
            "q {} G {} w {} {} m {} {} l S Q",
            num(gray),
            num(thickness),
            num(x),
            num(y),
            num(x + width),
            num(y)
        );
        self.y -= 4.0;
    }

    /// A wrapped paragraph. `marker` (list bullet or number) is drawn
    /// right-aligned before the first line, ending 4 pt left of `x`.
    /// `keep` extra points must fit below the first line (keep-with-next).
    pub(crate) fn paragraph(
        &mut self,
        items: &[Item],
        x: f32,
        width: f32,
        align: Align,
        marker: Option<Piece>,
        keep: f32,
    ) {
        if self.truncated {
            return;
        }
        let lines = wrap(items, width);
        for (i, line) in lines.iter().enumerate() {
            let h = line.height();
            let need = if i == 0 {
                // Keep the whole paragraph (and `keep`) together when it is short.
                let total = lines_height(&lines);
                if lines.len() <= 3 {
                    total + keep
                } else {
                    h * 2.0 + keep
                }
            } else {
                h
            };
            if !self.ensure(need.min(TOP - MARGIN_BOTTOM)) {
                return;
            }
            let baseline = self.y - line.size.max(1.0);
            let lx = x + align.offset(width - line.width);
            self.keep = None;
            let ops = self.pages.last_mut().expect("page");
            draw_line(ops, line, lx, baseline);
            if i == 0 {
                if let Some(m) = &marker {
                    let mw = m.style.width(&m.bytes);
                    let mut ml = Line::default();
                    ml.push(&m.bytes, m.style);
                    draw_line(ops, &ml, x - 4.0 - mw, baseline);
                }
            }
            self.y -= h;
        }
    }

    /// A filled rectangle behind text (`y` is its top).
    fn fill(&mut self, x: f32, top: f32, w: f32, h: f32, gray: f32) {
        let _ = writeln!(
            self.ops(),
            "q {} g {} {} {} {} re f Q",
            num(gray),
            num(x),
            num(top - h),
            num(w),
            num(h)
        );
    }

    /// Adds the footer to every page (`left` text, "Page n / N" on the right)
    /// and, when the page cap cut the document, `notice` on the last page.
    pub(crate) fn finish(mut self, left: &[u8], notice: &[u8]) -> Vec<String> {
        let n = self.pages.len();
        let small = Style::BODY.sized(7.5).gray(0.35);
        let truncated = self.truncated;
        for (i, page) in self.pages.iter_mut().enumerate() {
            let right = format!("Page {} / {n}", i + 1).into_bytes();
            let right_w = small.width(&right);
            let _ = writeln!(
                page,
                "q 0.6 G 0.5 w {} {} m {} {} l S Q",
                num(MARGIN_X),
                num(MARGIN_BOTTOM - 24.0),
                num(PAGE_W - MARGIN_X),
                num(MARGIN_BOTTOM - 24.0)
            );
            let mut l = Line::default();
            l.push(&fit(left, small, CONTENT_W - right_w - 24.0), small);
            draw_line(page, &l, MARGIN_X, MARGIN_BOTTOM - 35.0);
            let mut r = Line::default();
            r.push(&right, small);
            draw_line(page, &r, PAGE_W - MARGIN_X - right_w, MARGIN_BOTTOM - 35.0);
            if truncated && i + 1 == n {
                let bold = Style::BODY.bold().sized(9.0);
                let mut t = Line::default();
                t.push(&fit(notice, bold, CONTENT_W), bold);
                draw_line(page, &t, MARGIN_X, MARGIN_BOTTOM - 13.0);
            }
        }
        self.pages
    }
}

/// Shortens text with an ellipsis (WinAnsi 0x85) to fit `width`.
fn fit(bytes: &[u8], style: Style, width: f32) -> Vec<u8> {
    if style.width(bytes) <= width {
        return bytes.to_vec();
    }
    let budget = width - style.width(&[0x85]);
    let mut out = Vec::new();
    let mut w = 0.0;
    for &b in bytes {
        let bw = style.width(&[b]);
        if w + bw > budget {
            break;
        }
        w += bw;
        out.push(b);
    }
    while out.last() == Some(&b' ') {
        out.pop();
    }
    out.push(0x85);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Body-style words of `text` (also used by `table`'s tests).
    pub(super) fn items(text: &str) -> Vec<Item> {
        let mut i = Inline::default();
        i.text(text, Style::BODY);
        i.take()
    }

    fn line_text(l: &Line) -> String {
        l.pieces
            .iter()
            .flat_map(|p| p.bytes.iter().map(|&b| char::from(b)))
            .collect()
    }

    #[test]
    fn widths_follow_the_metrics() {
        // "Hello" in Helvetica: H 722 + e 556 + l 222 + l 222 + o 556 = 2278.
        assert!((Style::BODY.width(b"Hello") - 22.78).abs() < 1e-3);
        assert!(Style::BODY.bold().width(b"Hello") > Style::BODY.width(b"Hello"));
    }

    #[test]
    fn wrapping_breaks_at_spaces_and_cuts_long_words() {
        let lines = wrap(&items("aaa bbb ccc"), Style::BODY.width(b"aaa bbb") + 0.1);
        let texts: Vec<String> = lines.iter().map(line_text).collect();
        assert_eq!(texts, ["aaa bbb", "ccc"]);
        for l in &lines {
            assert!(l.width <= Style::BODY.width(b"aaa bbb") + 0.1);
        }
        let long = "x".repeat(200);
        let lines = wrap(&items(&long), 100.0);
        assert!(lines.len() > 1);
        assert!(lines.iter().all(|l| l.width <= 100.0));
        assert_eq!(lines.iter().map(|l| line_text(l).len()).sum::<usize>(), 200);
        // Spaces collapse and vanish at line edges; breaks are kept.
        let mut i = Inline::default();
        i.text("  a   b ", Style::BODY);
        i.line_break(Style::BODY);
        i.text("c", Style::BODY);
        let texts: Vec<String> = wrap(&i.take(), 500.0).iter().map(line_text).collect();
        assert_eq!(texts, ["a b", "c"]);
    }

    #[test]
    fn pages_break_and_are_capped() {
        let mut l = Layout::new(3);
        let text = "mot ".repeat(5000);
        l.paragraph(&items(&text), MARGIN_X, CONTENT_W, Align::Left, None, 0.0);
        assert!(l.truncated);
        let pages = l.finish(b"footer", b"truncated");
        assert_eq!(pages.len(), 3);
        assert!(pages[2].contains("(truncated) Tj"));
        assert!(!pages[1].contains("(truncated) Tj"));
        assert!(pages[0].contains("(Page 1 / 3) Tj"));
    }
}
