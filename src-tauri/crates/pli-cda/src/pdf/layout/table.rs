//! Tables: cells with spans, column widths from the content (or fixed
//! fractions), rows placed with their header repeated after a page break.

use std::fmt::Write as _;

use super::{draw_line, wrap, Align, Item, Layout, Line, Piece, Style};
use super::{MARGIN_BOTTOM, MAX_COLS, PAD_X, PAD_Y, TOP};
use crate::pdf::writer::num;

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

pub(super) fn lines_height(lines: &[Line]) -> f32 {
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

impl Layout {
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
}

#[cfg(test)]
mod tests {
    use super::super::tests::items;
    use super::super::CONTENT_W;
    use super::*;

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
