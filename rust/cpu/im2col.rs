//! The geometry of an N-d convolution (N <= 3, channels last) and the two data movements
//! that turn it into matrix products: `im2col` (gather each output position's receptive
//! field into one row) and `col2im` (its adjoint: scatter-add rows back into the input).
//!
//! Ranks below 3 are padded at the front with size-1 dimensions, so one kernel serves 1-D,
//! 2-D and 3-D convolutions. Output position `o` sees input position `o*stride + t*dilation
//! - pad` through kernel tap `t` (positions outside the input read zeros).
use pulp::Arch;

/// The largest spatial rank.
pub const MAX_RANK: usize = 3;

/// One convolution: `x (batch, *input, in_channels)` with a kernel
/// `(*kernel, in_channels / groups, out_channels)` gives `y (batch, *output, out_channels)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConvGeom {
    pub batch: usize,
    pub input: [usize; MAX_RANK],
    pub output: [usize; MAX_RANK],
    pub kernel: [usize; MAX_RANK],
    pub stride: [usize; MAX_RANK],
    pub dilation: [usize; MAX_RANK],
    /// Zeros before the first input position (the padding after it is implied by `output`).
    pub pad: [usize; MAX_RANK],
    pub in_channels: usize,
    pub out_channels: usize,
    pub groups: usize,
}

impl ConvGeom {
    /// Input positions per sample.
    pub fn in_positions(&self) -> usize {
        self.input.iter().product()
    }

    /// Output positions per sample: the rows of one sample's im2col matrix.
    pub fn out_positions(&self) -> usize {
        self.output.iter().product()
    }

    /// Kernel taps (the product of the kernel's spatial sizes).
    pub fn taps(&self) -> usize {
        self.kernel.iter().product()
    }

    pub fn in_per_group(&self) -> usize {
        self.in_channels / self.groups
    }

    pub fn out_per_group(&self) -> usize {
        self.out_channels / self.groups
    }

    /// The width of one im2col row of a group: `taps * in_per_group`.
    pub fn col_width(&self) -> usize {
        self.taps() * self.in_per_group()
    }

    pub fn x_len(&self) -> usize {
        self.batch * self.in_positions() * self.in_channels
    }

    pub fn y_len(&self) -> usize {
        self.batch * self.out_positions() * self.out_channels
    }

    pub fn w_len(&self) -> usize {
        self.taps() * self.in_per_group() * self.out_channels
    }

    /// Multiply-adds of the whole convolution.
    pub fn flops(&self) -> usize {
        self.batch * self.out_positions() * self.col_width() * self.out_channels
    }

    /// True when im2col is the identity (1x1 kernel, stride 1, no padding, one group): the
    /// input rows are the im2col rows.
    pub fn is_pointwise(&self) -> bool {
        self.groups == 1
            && self.kernel == [1; MAX_RANK]
            && self.stride == [1; MAX_RANK]
            && self.pad == [0; MAX_RANK]
            && self.input == self.output
    }

    /// The sample and spatial index of global im2col row `row`.
    #[inline(always)]
    fn unravel(&self, row: usize) -> (usize, [usize; MAX_RANK]) {
        let [_, o1, o2] = self.output;
        let (rest, i2) = (row / o2, row % o2);
        let (rest, i1) = (rest / o1, rest % o1);
        let (n, i0) = (rest / self.output[0], rest % self.output[0]);
        (n, [i0, i1, i2])
    }

    /// Advances a spatial output index by one position (row-major), returning true when it
    /// wrapped into the next sample.
    #[inline(always)]
    fn advance(&self, o: &mut [usize; MAX_RANK]) -> bool {
        for d in (0..MAX_RANK).rev() {
            o[d] += 1;
            if o[d] < self.output[d] {
                return false;
            }
            o[d] = 0;
        }
        true
    }

    /// Input coordinate along `d` of output coordinate `o` and tap `t`, if inside the input.
    #[inline(always)]
    fn source(&self, d: usize, o: usize, t: usize) -> Option<usize> {
        (o * self.stride[d] + t * self.dilation[d])
            .checked_sub(self.pad[d])
            .filter(|&i| i < self.input[d])
    }

    /// The taps `lo..hi` along the last axis whose input coordinate is inside the input.
    #[inline(always)]
    fn inner_taps(&self, o: usize) -> (usize, usize) {
        let (s, d, p) = (self.stride[2], self.dilation[2], self.pad[2]);
        let start = o * s;
        // t is valid when p <= start + t*d < p + input
        let lo = p.saturating_sub(start).div_ceil(d);
        let hi = (p + self.input[2]).saturating_sub(start).div_ceil(d);
        (lo.min(self.kernel[2]), hi.min(self.kernel[2]))
    }

    /// Output positions along the last axis: the rows of one line.
    pub fn line_len(&self) -> usize {
        self.output[2]
    }

    /// Lines (one per sample and leading output coordinates) of the whole batch.
    pub fn lines(&self) -> usize {
        self.batch * self.output[0] * self.output[1]
    }

    /// Calls `f(sample, tap, row, pos, count)` for each line in `lines` (counted from the
    /// first sample) and each kernel tap: the tap reads input position `pos + j * stride`
    /// (within the sample, along the last axis) for output row `row + j`, `j < count`, and
    /// zeros for the line's other rows.
    #[inline(always)]
    pub fn for_each_span(
        &self,
        lines: std::ops::Range<usize>,
        mut f: impl FnMut(usize, usize, usize, usize, usize),
    ) {
        let [o0, o1, len] = self.output;
        let [k0, k1, k2] = self.kernel;
        let [_, i1, i2] = self.input;
        let (s, d, p) = (self.stride[2], self.dilation[2], self.pad[2]);
        for line in lines {
            let (rest, c1) = (line / o1, line % o1);
            let (n, c0) = (rest / o0, rest % o0);
            for t0 in 0..k0 {
                let Some(p0) = self.source(0, c0, t0) else {
                    continue;
                };
                for t1 in 0..k1 {
                    let Some(p1) = self.source(1, c1, t1) else {
                        continue;
                    };
                    let base = (p0 * i1 + p1) * i2;
                    for t2 in 0..k2 {
                        // output j reads input j*s + t2*d - p: inside for j in a..b
                        let off = t2 * d;
                        let a = p.saturating_sub(off).div_ceil(s);
                        let b = (i2 + p).saturating_sub(off).div_ceil(s).min(len);
                        if a < b {
                            let tap = (t0 * k1 + t1) * k2 + t2;
                            f(n, tap, line * len + a, base + a * s + off - p, b - a);
                        }
                    }
                }
            }
        }
    }
}

/// Writes rows `rows` of group `group`'s im2col matrix into `col` (row width
/// `col_width()`, tap-major then channel), reading `x` as `(samples, *input, in_channels)`;
/// rows count from the first sample of `x`.
pub fn im2col(
    g: &ConvGeom,
    x: &[f32],
    group: usize,
    rows: std::ops::Range<usize>,
    col: &mut [f32],
) {
    let (cin, cg) = (g.in_channels, g.in_per_group());
    let width = g.col_width();
    let [_, k1, k2] = g.kernel;
    let [_, i1, i2] = g.input;
    // one copy per run of taps when they are adjacent in memory
    let runs = g.groups == 1 && g.dilation[2] == 1;
    let start = rows.start;
    let (mut n, mut o) = g.unravel(start);
    for row in rows {
        let dst = &mut col[(row - start) * width..(row - start + 1) * width];
        let (lo, hi) = g.inner_taps(o[2]);
        let sample = n * g.in_positions();
        for t0 in 0..g.kernel[0] {
            let p0 = g.source(0, o[0], t0);
            for t1 in 0..k1 {
                let seg = &mut dst[(t0 * k1 + t1) * k2 * cg..(t0 * k1 + t1 + 1) * k2 * cg];
                let Some((p0, p1)) = p0.zip(g.source(1, o[1], t1)) else {
                    seg.fill(0.0);
                    continue;
                };
                seg[..lo * cg].fill(0.0);
                seg[hi * cg..].fill(0.0);
                if lo >= hi {
                    continue;
                }
                let first = o[2] * g.stride[2] + lo * g.dilation[2] - g.pad[2];
                let pos = sample + (p0 * i1 + p1) * i2 + first;
                if runs {
                    seg[lo * cg..hi * cg].copy_from_slice(&x[pos * cin..(pos + hi - lo) * cin]);
                } else {
                    for j in 0..hi - lo {
                        let src = (pos + j * g.dilation[2]) * cin + group * cg;
                        seg[(lo + j) * cg..(lo + j + 1) * cg].copy_from_slice(&x[src..src + cg]);
                    }
                }
            }
        }
        if g.advance(&mut o) {
            n += 1;
        }
    }
}

/// The adjoint of `im2col`: adds the rows of `lines` in `col` (group `group`) into `gx`,
/// laid out as `(samples, *input, in_channels)` with lines counted from its first sample.
pub fn col2im(
    g: &ConvGeom,
    col: &[f32],
    group: usize,
    lines: std::ops::Range<usize>,
    gx: &mut [f32],
) {
    let (cin, cg, s) = (g.in_channels, g.in_per_group(), g.stride[2]);
    let width = g.col_width();
    let start = lines.start * g.line_len();
    Arch::new().dispatch(
        #[inline(always)]
        || {
            g.for_each_span(
                lines,
                #[inline(always)]
                |n, tap, row, pos, count| {
                    let first = n * g.in_positions() + pos;
                    for j in 0..count {
                        let src = (row - start + j) * width + tap * cg;
                        let at = (first + j * s) * cin + group * cg;
                        for (a, &b) in gx[at..at + cg].iter_mut().zip(&col[src..src + cg]) {
                            *a += b;
                        }
                    }
                },
            )
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn geom(input: usize, kernel: usize, stride: usize, dilation: usize, pad: usize) -> ConvGeom {
        let k_eff = (kernel - 1) * dilation + 1;
        let output = (input + 2 * pad - k_eff) / stride + 1;
        ConvGeom {
            batch: 2,
            input: [1, 3, input],
            output: [1, 2, output],
            kernel: [1, 2, kernel],
            stride: [1, 1, stride],
            dilation: [1, 1, dilation],
            pad: [0, 1, pad],
            in_channels: 4,
            out_channels: 2,
            groups: 2,
        }
    }

    /// The im2col value at (row, column) by the definition, for a 2-d geometry.
    fn reference(g: &ConvGeom, x: &[f32], group: usize, row: usize, colm: usize) -> f32 {
        let cg = g.in_per_group();
        let (tap, c) = (colm / cg, colm % cg);
        let (t1, t2) = (tap / g.kernel[2], tap % g.kernel[2]);
        let per = g.out_positions();
        let (n, o) = (row / per, row % per);
        let (o1, o2) = (o / g.output[2], o % g.output[2]);
        let p1 = (o1 * g.stride[1] + t1 * g.dilation[1]) as isize - g.pad[1] as isize;
        let p2 = (o2 * g.stride[2] + t2 * g.dilation[2]) as isize - g.pad[2] as isize;
        if p1 < 0 || p2 < 0 || p1 >= g.input[1] as isize || p2 >= g.input[2] as isize {
            return 0.0;
        }
        let pos = (n * g.input[1] + p1 as usize) * g.input[2] + p2 as usize;
        x[pos * g.in_channels + group * cg + c]
    }

    #[test]
    fn im2col_matches_the_definition_and_col2im_is_its_adjoint() {
        for (input, kernel, stride, dilation, pad) in [
            (7, 3, 1, 1, 1),
            (8, 3, 2, 1, 0),
            (9, 2, 1, 3, 2),
            (5, 4, 3, 1, 3),
        ] {
            let g = geom(input, kernel, stride, dilation, pad);
            let x: Vec<f32> = (0..g.x_len()).map(|i| i as f32 + 1.0).collect();
            let rows = g.batch * g.out_positions();
            let width = g.col_width();
            for group in 0..g.groups {
                // a range that starts and ends inside samples
                let r = 1..rows - 1;
                let mut col = vec![f32::NAN; r.len() * width];
                im2col(&g, &x, group, r.clone(), &mut col);
                for row in r.clone() {
                    for c in 0..width {
                        let want = reference(&g, &x, group, row, c);
                        assert_eq!(col[(row - 1) * width + c], want, "{g:?} row {row} col {c}");
                    }
                }
                // <im2col(x), c> == <x, col2im(c)> over whole lines
                let (len, lines) = (g.line_len(), g.lines());
                let mut col = vec![0.0; (lines - 2) * len * width];
                im2col(&g, &x, group, len..(lines - 1) * len, &mut col);
                let c: Vec<f32> = (0..col.len()).map(|i| (i % 7) as f32 - 3.0).collect();
                let mut gx = vec![0.0; x.len()];
                col2im(&g, &c, group, 1..lines - 1, &mut gx);
                let lhs: f32 = col.iter().zip(&c).map(|(a, b)| a * b).sum();
                let rhs: f32 = x.iter().zip(&gx).map(|(a, b)| a * b).sum();
                assert_eq!(lhs, rhs);
            }
        }
    }
}
