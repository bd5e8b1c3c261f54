//! LOLWUT, as Redis 7.0.15 answers it: its own version line
//! (`Redis ver. 7.0.15`, Redis 7's art being that line alone), or with
//! `VERSION 5` Georg Nees's "Schotter" drawn in Braille characters, as
//! Redis 5's `lolwut5.c` draws it (squares that rotate and shift more
//! the lower they are; random, so no two replies are equal), followed by
//! Redis's caption. `VERSION 6` (Redis 6's skyline) is answered like any
//! other version, with the version line.

use super::table::{Command, flag::*, row};
use super::{Args, CmdResult, Ctx};
use crate::store::rand::Rng;

pub static COMMANDS: &[Command] = &[row(
    "lolwut",
    -1,
    READONLY | FAST,
    (0, 0, 0),
    "server",
    "5.0.0",
    "Display some computer art and the Redis version",
    lolwut,
)];

/// A canvas of pixels, on or off (`lwCanvas`).
struct Canvas {
    width: i32,
    height: i32,
    pixels: Vec<bool>,
}

impl Canvas {
    fn new(width: i32, height: i32) -> Canvas {
        Canvas { width, height, pixels: vec![false; (width.max(0) * height.max(0)) as usize] }
    }

    fn set(&mut self, x: i32, y: i32) {
        if (0..self.width).contains(&x) && (0..self.height).contains(&y) {
            self.pixels[(x + y * self.width) as usize] = true;
        }
    }

    fn get(&self, x: i32, y: i32) -> bool {
        (0..self.width).contains(&x) && (0..self.height).contains(&y) && self.pixels[(x + y * self.width) as usize]
    }

    /// Bresenham's line (`lwDrawLine`).
    fn line(&mut self, mut x1: i32, mut y1: i32, x2: i32, y2: i32) {
        let (dx, dy) = ((x2 - x1).abs(), (y2 - y1).abs());
        let (sx, sy) = (if x1 < x2 { 1 } else { -1 }, if y1 < y2 { 1 } else { -1 });
        let mut err = dx - dy;
        loop {
            self.set(x1, y1);
            if x1 == x2 && y1 == y2 {
                break;
            }
            let e2 = err * 2;
            if e2 > -dy {
                err -= dy;
                x1 += sx;
            }
            if e2 < dx {
                err += dx;
                y1 += sy;
            }
        }
    }

    /// A square centred on `(x, y)`, of side `size`, rotated by `angle`
    /// (`lwDrawSquare`: the corners on a circle, from 45 degrees on).
    fn square(&mut self, x: i32, y: i32, size: f32, angle: f32) {
        let size = (size / std::f32::consts::SQRT_2).round();
        let mut k = std::f32::consts::FRAC_PI_4 + angle;
        let mut px = [0; 4];
        let mut py = [0; 4];
        for j in 0..4 {
            px[j] = (k.sin() * size + x as f32).round() as i32;
            py[j] = (k.cos() * size + y as f32).round() as i32;
            k += std::f32::consts::FRAC_PI_2;
        }
        for j in 0..4 {
            self.line(px[j], py[j], px[(j + 1) % 4], py[(j + 1) % 4]);
        }
    }

    /// The canvas as Braille characters, 2x4 pixels each (`renderCanvas`).
    fn render(&self) -> String {
        let mut text = String::new();
        let mut y = 0;
        while y < self.height {
            let mut x = 0;
            while x < self.width {
                let dots = [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2), (0, 3), (1, 3)];
                let byte = dots
                    .iter()
                    .enumerate()
                    .filter(|(_, (dx, dy))| self.get(x + dx, y + dy))
                    .fold(0, |b, (i, _)| b | 1 << i);
                text.push(char::from_u32(0x2800 + byte).unwrap_or(' '));
                x += 2;
            }
            if y != self.height - 1 {
                text.push('\n');
            }
            y += 4;
        }
        text
    }
}

/// Schotter (`lwDrawSchotter`) for a terminal of `cols` columns.
fn schotter(cols: i32, per_row: i32, per_col: i32, rng: &mut Rng) -> Canvas {
    let width = cols * 2;
    let padding = if width > 4 { 2 } else { 0 };
    let side = (width - padding * 2) as f32 / per_row as f32;
    let height = (side * per_col as f32 + (padding * 2) as f32) as i32;
    let mut canvas = Canvas::new(width, height);
    let unit = |rng: &mut Rng| (rng.next_u64() >> 40) as f32 / (1u64 << 24) as f32;
    for y in 0..per_col {
        for x in 0..per_row {
            let mut sx = (x as f32 * side + side / 2.0 + padding as f32) as i32;
            let mut sy = (y as f32 * side + side / 2.0 + padding as f32) as i32;
            let mut angle = 0.0;
            if y > 1 {
                let mut r = [0f32; 3];
                for v in &mut r {
                    *v = unit(rng) / per_col as f32 * y as f32;
                }
                for v in &mut r {
                    if rng.next_u64() & 1 == 1 {
                        *v = -*v;
                    }
                }
                angle = r[0];
                sx = (sx as f32 + r[1] * side / 3.0) as i32;
                sy = (sy as f32 + r[2] * side / 3.0) as i32;
            }
            canvas.square(sx, sy, side, angle);
        }
    }
    canvas
}

/// # Format
/// `LOLWUT [VERSION version [columns [squares-per-row [squares-per-col]]]]`
fn lolwut(cx: &mut Ctx, args: &Args) -> CmdResult {
    let mut version = None;
    if args.len() >= 3 && args.get(1).eq_ignore_ascii_case(b"version") {
        // Redis prints the number as `%u` and looks at its first digits.
        version = Some(args.int(2)? as u32);
    }
    let text = if version == Some(5) {
        let mut dims = [66i64, 8, 12];
        for (i, d) in dims.iter_mut().enumerate() {
            if args.len() > 3 + i {
                *d = args.int(3 + i)?;
            }
        }
        let cols = dims[0].clamp(1, 1000) as i32;
        let (per_row, per_col) = (dims[1].clamp(1, 200) as i32, dims[2].clamp(1, 200) as i32);
        let mut rng = Rng::new(cx.srv.rng.next_u64());
        let mut text = schotter(cols, per_row, per_col, &mut rng).render();
        text.push_str("\nGeorg Nees - schotter, plotter on paper, 1968. Redis ver. ");
        text.push_str(crate::REDIS_VERSION);
        text.push('\n');
        text
    } else {
        format!("Redis ver. {}\n", crate::REDIS_VERSION)
    };
    cx.out.verbatim(text.as_bytes());
    Ok(())
}
