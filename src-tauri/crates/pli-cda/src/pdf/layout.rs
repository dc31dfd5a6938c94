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

/// One table cell.
#[derive(Debug, Default)]
pub(crate) struct Cell {
    pub items: Vec<Item>,
    pub colspan: usize,
    /// Rows the cell covers: its text is drawn in the first, the column stays
    /// free in the others so later cells land under the right heading.
    pub rowspan: usize,
    pub align: Align,
    /// First column, set by [`normalise`].
    col: usize,
}

impl Cell {
    /// A one-column, left-aligned cell.
    pub(crate) fn new(items: Vec<Item>) -> Self {
        Self {
            items,
            colspan: 1,
            rowspan: 1,
            ..Self::default()
        }
    }

    /// A left-aligned cell over `colspan` columns.
    pub(crate) fn spanning(items: Vec<Item>, colspan: usize) -> Self {
        Self {
            colspan,
            ..Self::new(items)
        }
    }
}

/// One table row.
#[derive(Debug, Default)]
pub(crate) struct Row {
    pub cells: Vec<Cell>,
    /// Background grey level.
    pub fill: Option<f32>,
    /// Rule under the row.
    pub rule: bool,
}

/// A table: rows, of which the first `header_rows` repeat after a page break.
#[derive(Debug, Default)]
pub(crate) struct Table {
    pub rows: Vec<Row>,
    pub header_rows: usize,
    /// Fixed column proportions (else widths follow the content).
    pub fractions: Option<Vec<f32>>,
}

/// A row with its cells wrapped, ready to draw.
#[derive(Debug)]
struct RowLines {
    /// (x offset from the table's left, width, alignment, lines) per cell.
    cells: Vec<(f32, f32, Align, Vec<Line>)>,
    fill: Option<f32>,
    rule: bool,
    height: f32,
}

fn lines_height(lines: &[Line]) -> f32 {
    lines.iter().map(Line::height).sum()
}

/// The widest word and the widest unbroken line of some items.
fn measure(items: &[Item]) -> (f32, f32) {
    let (mut min, mut max, mut line, mut pending) = (0.0f32, 0.0f32, 0.0f32, 0.0f32);
    for item in items {
        match item {
            Item::Word(pieces) => {
                let w: f32 = pieces.iter().map(|p| p.style.width(&p.bytes)).sum();
                min = min.max(w);
                line += pending + w;
                pending = 0.0;
            }
            Item::Space(s) => pending = s.width(b" "),
            Item::Break(_) => {
                max = max.max(line);
                line = 0.0;
                pending = 0.0;
            }
        }
    }
    (min, max.max(line))
}

/// Each column's smallest width (widest word) and natural width (longest
/// unbroken line), padding included; a word counts for at most half the table.
fn column_limits(rows: &[Row], ncols: usize, avail: f32) -> (Vec<f32>, Vec<f32>) {
    let floor = 2.0 * PAD_X + 12.0;
    let mut min = vec![floor; ncols];
    let mut max = vec![floor; ncols];
    for row in rows {
        for cell in row.cells.iter().filter(|c| c.colspan == 1 && c.col < ncols) {
            let (mn, mx) = measure(&cell.items);
            min[cell.col] = min[cell.col].max((mn + 2.0 * PAD_X).min(avail / 2.0));
            max[cell.col] = max[cell.col].max(mx + 2.0 * PAD_X);
        }
    }
    (min, max)
}

/// Column widths from the content: each column gets at least its widest word
/// when possible, and the space left goes where the text is long.
fn column_widths(rows: &[Row], ncols: usize, avail: f32, fractions: Option<&[f32]>) -> Vec<f32> {
    if let Some(f) = fractions.filter(|f| f.len() == ncols) {
        let total: f32 = f.iter().sum();
        if total > 0.0 {
            return f.iter().map(|x| avail * x / total).collect();
        }
    }
    let (min, max) = column_limits(rows, ncols, avail);
    let (sum_min, sum_max): (f32, f32) = (min.iter().sum(), max.iter().sum());
    if sum_max <= avail {
        let extra = avail - sum_max;
        max.iter().map(|m| m + extra * m / sum_max).collect()
    } else if sum_min <= avail {
        let spread = sum_max - sum_min;
        min.iter()
            .zip(&max)
            .map(|(mn, mx)| mn + (avail - sum_min) * (mx - mn) / spread)
            .collect()
    } else {
        min.iter().map(|m| avail * m / sum_min).collect()
    }
}

/// Places every cell on the column grid, HTML-style: a cell starts at the
/// first column not covered by a `rowspan` from the rows above. At most
/// `MAX_COLS` columns: colspans are clamped and cells past the last column are
/// merged into the row's last cell. Returns the column count.
fn normalise(rows: &mut [Row]) -> usize {
    // Rows still covered in each column, this row included.
    let mut covered = [0usize; MAX_COLS];
    let mut wanted = 1;
    for row in rows.iter_mut() {
        let mut col = 0;
        for cell in &mut row.cells {
            while col < MAX_COLS && covered[col] > 0 {
                col += 1;
            }
            cell.colspan = cell.colspan.max(1);
            cell.col = col;
            for c in covered
                .iter_mut()
                .take((col + cell.colspan).min(MAX_COLS))
                .skip(col)
            {
                *c = (*c).max(cell.rowspan.max(1));
            }
            col = col.saturating_add(cell.colspan);
            wanted = wanted.max(col);
        }
        for c in &mut covered {
            *c = c.saturating_sub(1);
        }
    }
    let ncols = wanted.clamp(1, MAX_COLS);
    for row in rows.iter_mut() {
        let mut kept: Vec<Cell> = Vec::with_capacity(row.cells.len().min(ncols));
        for mut cell in row.cells.drain(..) {
            if cell.col >= ncols {
                if let Some(last) = kept.last_mut() {
                    last.items.push(Item::Space(Style::BODY));
                    last.items.push(Item::Word(vec![Piece {
                        bytes: b"|".to_vec(),
                        style: Style::BODY,
                    }]));
                    last.items.push(Item::Space(Style::BODY));
                    last.items.append(&mut cell.items);
                    continue;
                }
                // Every column covered from above: use the last one.
                cell.col = ncols - 1;
            }
            cell.colspan = cell.colspan.clamp(1, ncols - cell.col);
            kept.push(cell);
        }
        row.cells = kept;
    }
    ncols
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

    /// A table at `x`, `width` wide. Rows too tall for the page are split
    /// between lines; header rows repeat on every page the table spans.
    pub(crate) fn table(&mut self, mut table: Table, x: f32, width: f32) {
        if self.truncated || table.rows.is_empty() {
            return;
        }
        let ncols = normalise(&mut table.rows);
        let mut widths = column_widths(&table.rows, ncols, width, table.fractions.as_deref());
        // Too many columns for their longest words: smaller type (down to 70 %)
        // before cutting words.
        let needed: f32 = column_limits(&table.rows, ncols, width).0.iter().sum();
        let padding = ncols as f32 * 2.0 * PAD_X;
        if table.fractions.is_none() && needed > width && needed > padding {
            // A little below the exact ratio: rounding must not cut a word.
            let scale = (0.97 * (width - padding) / (needed - padding)).clamp(0.7, 1.0);
            for cell in table.rows.iter_mut().flat_map(|r| r.cells.iter_mut()) {
                for item in &mut cell.items {
                    match item {
                        Item::Word(pieces) => {
                            for p in pieces {
                                p.style.size *= scale;
                                p.style.rise *= scale;
                            }
                        }
                        Item::Space(st) | Item::Break(st) => st.size *= scale,
                    }
                }
            }
            widths = column_widths(&table.rows, ncols, width, None);
        }
        let lay = |row: &Row| -> RowLines {
            let mut cells = Vec::with_capacity(row.cells.len());
            let mut height: f32 = 0.0;
            for cell in &row.cells {
                let off: f32 = widths[..cell.col].iter().sum();
                let w: f32 = widths[cell.col..cell.col + cell.colspan].iter().sum();
                let lines = wrap(&cell.items, w - 2.0 * PAD_X);
                height = height.max(lines_height(&lines));
                cells.push((off, w, cell.align, lines));
            }
            RowLines {
                cells,
                fill: row.fill,
                rule: row.rule,
                height: height + 2.0 * PAD_Y,
            }
        };
        let header: Vec<RowLines> = table.rows[..table.header_rows.min(table.rows.len())]
            .iter()
            .map(lay)
            .collect();
        let header_h: f32 = header.iter().map(|r| r.height).sum();
        // Headers taller than a third of a page are not repeated.
        let header: &[RowLines] = if header_h <= (TOP - MARGIN_BOTTOM) / 3.0 {
            &header
        } else {
            &[]
        };
        let header_h: f32 = header.iter().map(|r| r.height).sum();
        // Start on a new page unless the header rows and the first body row fit.
        if let Some(first) = table.rows.get(table.header_rows) {
            let need = header_h + lay(first).height.min((TOP - MARGIN_BOTTOM) / 4.0);
            if !self.ensure(need) {
                return;
            }
        }
        for (i, row) in table.rows.iter().enumerate() {
            let laid = lay(row);
            let is_header = i < table.header_rows;
            // Keep a header with the first body row.
            let keep = if is_header { 14.0 } else { 0.0 };
            if laid.height + keep > self.room()
                && !self.at_top()
                && laid.height <= TOP - MARGIN_BOTTOM - header_h
            {
                if !self.new_page() {
                    return;
                }
                if !is_header {
                    for h in header {
                        self.draw_row_part(h, x, width, &vec![0; h.cells.len()], None);
                    }
                }
            }
            if !self.row(&laid, x, width, if is_header { &[] } else { header }) {
                return;
            }
        }
    }

    /// Draws a row, splitting it across pages between lines when needed.
    fn row(&mut self, row: &RowLines, x: f32, width: f32, header: &[RowLines]) -> bool {
        let mut next = vec![0usize; row.cells.len()];
        loop {
            if self.truncated {
                return false;
            }
            let avail = self.room() - 2.0 * PAD_Y;
            let mut ends = next.clone();
            let mut any = false;
            for (c, (_, _, _, lines)) in row.cells.iter().enumerate() {
                let mut used = 0.0;
                while ends[c] < lines.len() && used + lines[ends[c]].height() <= avail {
                    used += lines[ends[c]].height();
                    ends[c] += 1;
                    any = true;
                }
                if ends[c] == next[c] && ends[c] < lines.len() && self.at_top() {
                    ends[c] += 1; // a line taller than a page: place it anyway
                    any = true;
                }
            }
            let empty_row = row.cells.iter().all(|(_, _, _, l)| l.is_empty());
            if !any && !empty_row {
                if !self.new_page() {
                    return false;
                }
                for h in header {
                    self.draw_row_part(h, x, width, &vec![0; h.cells.len()], None);
                }
                continue;
            }
            self.draw_row_part(row, x, width, &next, Some(&ends));
            if ends
                .iter()
                .zip(&row.cells)
                .all(|(e, (_, _, _, l))| *e >= l.len())
            {
                return true;
            }
            next = ends;
            if !self.new_page() {
                return false;
            }
            for h in header {
                self.draw_row_part(h, x, width, &vec![0; h.cells.len()], None);
            }
        }
    }

    /// Draws lines `from[c]..to[c]` of each cell (all lines when `to` is None)
    /// at the current position, with the row's fill and rule, and moves down.
    fn draw_row_part(
        &mut self,
        row: &RowLines,
        x: f32,
        width: f32,
        from: &[usize],
        to: Option<&[usize]>,
    ) {
        let range = |c: usize| {
            let lines = &row.cells[c].3;
            let end = to.map_or(lines.len(), |t| t[c]);
            &lines[from[c].min(end)..end]
        };
        let content_h = (0..row.cells.len())
            .map(|c| lines_height(range(c)))
            .fold(0.0f32, f32::max);
        let h = content_h + 2.0 * PAD_Y;
        let top = self.y;
        self.keep = None;
        if let Some(g) = row.fill {
            self.fill(x, top, width, h, g);
        }
        for (c, (off, w, align, _)) in row.cells.iter().enumerate() {
            let mut y = top - PAD_Y;
            for line in range(c) {
                let baseline = y - line.size.max(1.0);
                let lx = x + off + PAD_X + align.offset(w - 2.0 * PAD_X - line.width);
                draw_line(self.ops(), line, lx, baseline);
                y -= line.height();
            }
        }
        let bottom = top - h;
        self.y = bottom;
        if row.rule {
            let _ = writeln!(
                self.ops(),
                "q 0.78 G 0.4 w {} {} m {} {} l S Q",
                num(x),
                num(bottom),
                num(x + width),
                num(bottom)
            );
        }
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

    fn items(text: &str) -> Vec<Item> {
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

    #[test]
    fn tables_fit_the_width() {
        let cell = |t: &str| Cell::new(items(t));
        let rows = vec![
            Row {
                cells: vec![cell("Leucocytes"), cell("500"), cell("/mL")],
                ..Row::default()
            },
            Row {
                cells: (0..40).map(|i| cell(&i.to_string())).collect(),
                ..Row::default()
            },
        ];
        let mut rows = rows;
        assert_eq!(normalise(&mut rows), MAX_COLS);
        assert_eq!(rows[1].cells.len(), MAX_COLS);
        let w = column_widths(&rows, MAX_COLS, CONTENT_W, None);
        assert!((w.iter().sum::<f32>() - CONTENT_W).abs() < 0.01);
        assert!(w.iter().all(|c| *c > 0.0));
    }

    #[test]
    fn rowspan_keeps_columns_aligned() {
        let cell = |t: &str| Cell::new(items(t));
        let row = |cells: Vec<Cell>| Row {
            cells,
            ..Row::default()
        };
        // The CR-BIO antibiogram: a label spanning 3 rows, then drug, value, flag.
        let mut rows = vec![
            row(vec![
                Cell::spanning(items("Isolat"), 2),
                cell("Résultat"),
                cell("Interp."),
            ]),
            row(vec![Cell {
                rowspan: 3,
                ..cell("Antibiogramme")
            }]),
            row(vec![cell("Amoxicilline"), cell(">=0,5"), cell("R")]),
            row(vec![cell("Ampicilline"), cell("<0,1"), cell("I")]),
            row(vec![cell("Seul")]),
        ];
        assert_eq!(normalise(&mut rows), 4);
        let cols = |r: &Row| r.cells.iter().map(|c| c.col).collect::<Vec<_>>();
        assert_eq!(cols(&rows[0]), [0, 2, 3]);
        assert_eq!(cols(&rows[1]), [0]);
        assert_eq!(cols(&rows[2]), [1, 2, 3]);
        assert_eq!(cols(&rows[3]), [1, 2, 3]);
        assert_eq!(cols(&rows[4]), [0]);
        // Covered cells push the next ones right, as in HTML.
        let mut rows = vec![
            row(vec![Cell {
                rowspan: 2,
                ..cell("a")
            }]),
            row(vec![cell("b")]),
        ];
        assert_eq!(normalise(&mut rows), 2);
        assert_eq!(cols(&rows[1]), [1]);
        // A row whose columns are all covered still shows its text.
        let mut rows = vec![
            row((0..MAX_COLS)
                .map(|_| Cell {
                    rowspan: 2,
                    ..cell("a")
                })
                .collect()),
            row(vec![cell("b")]),
        ];
        assert_eq!(normalise(&mut rows), MAX_COLS);
        assert_eq!(cols(&rows[1]), [MAX_COLS - 1]);
    }
}
