//! Convolutions with Keras 3's semantics (`keras.ops.conv`, `conv_transpose`,
//! `depthwise_conv`, `separable_conv`), channels last, with an optional fused bias.
//!
//! Kernels: `conv` (*kernel_size, in_channels / groups, filters), the number of groups
//! being `in_channels / kernel.shape[-2]`; `conv_transpose` (*kernel_size, filters,
//! in_channels); `depthwise_conv` (*kernel_size, in_channels, depth_multiplier).
//! "same" padding is TensorFlow's (the extra zero, if any, after the input); "causal" (the
//! Conv1D layer's) puts all `(kernel_size - 1) * dilation_rate` zeros before it.
//!
//! A transposed convolution is the adjoint of a convolution from its output to its input,
//! so it runs on the same kernels with the roles exchanged: its forward pass is a
//! convolution's input gradient, its input gradient a convolution's forward pass.
use super::{permute, reshape};
use crate::autograd::record;
use crate::cpu::conv::{conv_backward, conv_forward, BackwardInputs};
use crate::cpu::im2col::{ConvGeom, MAX_RANK};
use crate::cpu::reduce::sum_axes;
use crate::error::Result;
use crate::tensor::Tensor;
use crate::value_err;

/// Keras's `padding` argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Padding {
    Valid,
    Same,
    Causal,
}

impl Padding {
    /// "valid", "same" or "causal", in any case.
    pub fn parse(op: &str, s: &str) -> Result<Padding> {
        match s.to_ascii_lowercase().as_str() {
            "valid" => Ok(Padding::Valid),
            "same" => Ok(Padding::Same),
            "causal" => Ok(Padding::Causal),
            _ => Err(value_err!(
                "{op}: `padding` must be one of \"valid\", \"same\" or \"causal\", got {s:?}"
            )),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Padding::Valid => "valid",
            Padding::Same => "same",
            Padding::Causal => "causal",
        }
    }
}

/// The spatial options every convolution takes; `strides` and `dilation` hold one value
/// for all axes or one per axis.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConvOptions {
    pub strides: Vec<usize>,
    pub padding: Padding,
    pub dilation: Vec<usize>,
}

impl Default for ConvOptions {
    fn default() -> Self {
        ConvOptions {
            strides: vec![1],
            padding: Padding::Valid,
            dilation: vec![1],
        }
    }
}

/// `x` (batch, channels, *spatial) as (batch, *spatial, channels), recorded.
pub fn channels_first_to_last(x: &Tensor) -> Result<Tensor> {
    let nd = x.ndim();
    let perm: Vec<usize> = std::iter::once(0).chain(2..nd).chain([1]).collect();
    permute(x, &perm)
}

/// `x` (batch, *spatial, channels) as (batch, channels, *spatial), recorded.
pub fn channels_last_to_first(x: &Tensor) -> Result<Tensor> {
    let nd = x.ndim();
    let perm: Vec<usize> = [0, nd - 1].into_iter().chain(1..nd - 1).collect();
    permute(x, &perm)
}

/// The spatial rank of `x`, which must be (batch, *spatial, channels) with 1 to 3 spatial
/// axes, none of them empty, matched by a kernel of the same rank.
fn spatial_rank(op: &str, x: &Tensor, kernel: &Tensor) -> Result<usize> {
    for t in [x, kernel] {
        t.expect_f32(op)?;
    }
    let nd = x.ndim();
    if !(3..=MAX_RANK + 2).contains(&nd) {
        return Err(value_err!(
            "{op}: inputs must have rank 3, 4 or 5 (batch, *spatial, channels), got shape {:?}",
            x.shape()
        ));
    }
    if kernel.ndim() != nd {
        return Err(value_err!(
            "{op}: the kernel must have the rank of the inputs ({nd}), got kernel shape {:?} for inputs of shape {:?}",
            kernel.shape(),
            x.shape()
        ));
    }
    if x.shape()[1..].contains(&0) || kernel.shape().contains(&0) {
        return Err(value_err!(
            "{op}: empty spatial, channel or kernel axes are not supported, got inputs of shape {:?} and kernel of shape {:?}",
            x.shape(),
            kernel.shape()
        ));
    }
    Ok(nd - 2)
}

/// `v` (one value, or one per axis) for `rank` axes, right-aligned into `MAX_RANK` axes
/// with ones in front.
fn per_axis(op: &str, name: &str, v: &[usize], rank: usize) -> Result<[usize; MAX_RANK]> {
    let ok = (v.len() == 1 || v.len() == rank) && v.iter().all(|&s| s > 0);
    if !ok {
        return Err(value_err!(
            "{op}: `{name}` must be one positive integer or {rank} of them, got {v:?}"
        ));
    }
    Ok(std::array::from_fn(|d| {
        if d + rank < MAX_RANK {
            1
        } else if v.len() == 1 {
            v[0]
        } else {
            v[d + rank - MAX_RANK]
        }
    }))
}

/// `v` for `rank` axes right-aligned into `MAX_RANK` (ones in front).
fn spatial(v: &[usize]) -> [usize; MAX_RANK] {
    std::array::from_fn(|d| {
        let rank = v.len();
        if d + rank < MAX_RANK {
            1
        } else {
            v[d + rank - MAX_RANK]
        }
    })
}

/// The (batch, *spatial, channels) shape of a result.
fn result_shape(batch: usize, sp: &[usize; MAX_RANK], rank: usize, channels: usize) -> Vec<usize> {
    std::iter::once(batch)
        .chain(sp[MAX_RANK - rank..].iter().copied())
        .chain([channels])
        .collect()
}

fn check_bias(op: &str, bias: Option<&Tensor>, channels: usize) -> Result<()> {
    if let Some(b) = bias {
        b.expect_f32(op)?;
        if b.shape() != [channels] {
            return Err(value_err!(
                "{op}: the bias must have shape [{channels}], got {:?}",
                b.shape()
            ));
        }
    }
    Ok(())
}

/// The geometry of a convolution of `x` with `kernel` (already checked by `spatial_rank`).
fn conv_geometry(op: &str, x: &Tensor, kernel: &Tensor, opts: &ConvOptions) -> Result<ConvGeom> {
    let rank = x.ndim() - 2;
    let (xs, ks) = (x.shape(), kernel.shape());
    let (cin, kin, cout) = (xs[rank + 1], ks[rank], ks[rank + 1]);
    if cin % kin != 0 {
        return Err(value_err!(
            "{op}: the inputs have {cin} channels, which is not a multiple of the kernel's {kin} input channels (inputs of shape {xs:?}, kernel of shape {ks:?})"
        ));
    }
    let groups = cin / kin;
    if cout % groups != 0 {
        return Err(value_err!(
            "{op}: {groups} groups ({cin} input channels / {kin} per group) do not divide the kernel's {cout} filters (kernel of shape {ks:?})"
        ));
    }
    if opts.padding == Padding::Causal && rank != 1 {
        return Err(value_err!(
            "{op}: causal padding is only for 1-D convolutions, got inputs of shape {xs:?}"
        ));
    }
    let stride = per_axis(op, "strides", &opts.strides, rank)?;
    let dilation = per_axis(op, "dilation_rate", &opts.dilation, rank)?;
    let input = spatial(&xs[1..=rank]);
    let kernel_sp = spatial(&ks[..rank]);
    let mut output = [1; MAX_RANK];
    let mut pad = [0; MAX_RANK];
    for d in MAX_RANK - rank..MAX_RANK {
        let k_eff = (kernel_sp[d] - 1) * dilation[d] + 1;
        (output[d], pad[d]) = match opts.padding {
            Padding::Valid => {
                if input[d] < k_eff {
                    return Err(value_err!(
                        "{op}: the kernel (spatial size {:?}, dilation_rate {:?}) is larger than the inputs of shape {xs:?} with padding \"valid\"; the output would be empty",
                        &ks[..rank],
                        &dilation[MAX_RANK - rank..]
                    ));
                }
                ((input[d] - k_eff) / stride[d] + 1, 0)
            }
            Padding::Same => {
                let out = input[d].div_ceil(stride[d]);
                let total = ((out - 1) * stride[d] + k_eff).saturating_sub(input[d]);
                (out, total / 2)
            }
            Padding::Causal => (input[d].div_ceil(stride[d]), k_eff - 1),
        };
    }
    Ok(ConvGeom {
        batch: xs[0],
        input,
        output,
        kernel: kernel_sp,
        stride,
        dilation,
        pad,
        in_channels: cin,
        out_channels: cout,
        groups,
    })
}

/// `conv(x, kernel) + bias` for `x` (batch, *spatial, in_channels); grouped when the
/// kernel has fewer input channels than `x`.
pub fn conv(
    x: &Tensor,
    kernel: &Tensor,
    bias: Option<&Tensor>,
    opts: &ConvOptions,
) -> Result<Tensor> {
    conv_named("conv", x, kernel, bias, opts)
}

fn conv_named(
    op: &'static str,
    x: &Tensor,
    kernel: &Tensor,
    bias: Option<&Tensor>,
    opts: &ConvOptions,
) -> Result<Tensor> {
    let rank = spatial_rank(op, x, kernel)?;
    let g = conv_geometry(op, x, kernel, opts)?;
    check_bias(op, bias, g.out_channels)?;
    let y = {
        let (xd, wd) = (x.f32_data()?, kernel.f32_data()?);
        let bd = bias.map(|b| b.f32_data()).transpose()?;
        conv_forward(&g, &xd, &wd, bd.as_deref())
    };
    let out = Tensor::new_f32(y, &result_shape(g.batch, &g.output, rank, g.out_channels));
    let inputs: Vec<&Tensor> = [Some(x), Some(kernel), bias]
        .into_iter()
        .flatten()
        .collect();
    Ok(record(op, &inputs, out, || {
        let need: Vec<bool> = inputs.iter().map(|t| t.requires_grad()).collect();
        let (x, w) = (x.detach(), kernel.detach());
        move |gy: &Tensor| {
            let gyd = gy.f32_data()?;
            let (xd, wd) = (x.f32_data()?, w.f32_data()?);
            let grads = conv_backward(
                &g,
                &gyd,
                BackwardInputs {
                    x: need[1].then_some(&xd[..]),
                    w: need[0].then_some(&wd[..]),
                    bias: need.get(2) == Some(&true),
                    x_init: None,
                },
            );
            let mut out = vec![
                grads
                    .x
                    .map(|v| Tensor::from_f32(v, x.shape()))
                    .transpose()?,
                grads
                    .w
                    .map(|v| Tensor::from_f32(v, w.shape()))
                    .transpose()?,
            ];
            if need.len() == 3 {
                out.push(
                    grads
                        .bias
                        .map(|v| Tensor::from_f32(v, &[g.out_channels]))
                        .transpose()?,
                );
            }
            Ok(out)
        }
    }))
}

/// The output size and the convolution padding of one axis of a transposed convolution,
/// following Keras (`compute_conv_transpose_output_shape` and the JAX padding it implies):
/// "valid" gives `(i - 1) * s + k + output_padding` (default `max(k, s) - k`), "same" gives
/// `i * s`, or `(i - 1) * s + k % 2 + output_padding` when that is given (`k` dilated).
fn transpose_axis(
    padding: Padding,
    input: usize,
    kernel: usize,
    stride: usize,
    dilation: usize,
    output_padding: Option<usize>,
) -> (usize, usize) {
    let k = (kernel - 1) * dilation + 1;
    match padding {
        Padding::Same => {
            let (out, pad_len) = match output_padding {
                None => (input * stride, stride + k - 2),
                Some(op) => ((input - 1) * stride + k % 2 + op, k + k % 2 - 2 + op),
            };
            let left = (pad_len / 2 + pad_len % 2).min(k - 1);
            (out, k - 1 - left)
        }
        _ => {
            let op = output_padding.unwrap_or(k.max(stride) - k);
            ((input - 1) * stride + k + op, 0)
        }
    }
}

/// The transposed convolution of `x` (batch, *spatial, in_channels) with `kernel`
/// (*kernel_size, filters, in_channels), plus `bias` (filters,).
pub fn conv_transpose(
    x: &Tensor,
    kernel: &Tensor,
    bias: Option<&Tensor>,
    opts: &ConvOptions,
    output_padding: Option<&[usize]>,
) -> Result<Tensor> {
    let op = "conv_transpose";
    let rank = spatial_rank(op, x, kernel)?;
    let (xs, ks) = (x.shape(), kernel.shape());
    let (cin, filters) = (xs[rank + 1], ks[rank]);
    if ks[rank + 1] != cin {
        return Err(value_err!(
            "{op}: the kernel's last axis must match the {cin} input channels, got kernel of shape {ks:?} for inputs of shape {xs:?}"
        ));
    }
    if opts.padding == Padding::Causal {
        return Err(value_err!(
            "{op}: `padding` must be \"valid\" or \"same\", got \"causal\""
        ));
    }
    check_bias(op, bias, filters)?;
    let stride = per_axis(op, "strides", &opts.strides, rank)?;
    let dilation = per_axis(op, "dilation_rate", &opts.dilation, rank)?;
    let out_pad = match output_padding {
        Some(p) if p.len() != 1 && p.len() != rank => {
            return Err(value_err!(
                "{op}: `output_padding` must be one integer or {rank} of them, got {p:?}"
            ))
        }
        Some(p) => Some(spatial(
            &(0..rank)
                .map(|d| p[if p.len() == 1 { 0 } else { d }])
                .collect::<Vec<_>>(),
        )),
        None => None,
    };
    let input = spatial(&xs[1..=rank]);
    let kernel_sp = spatial(&ks[..rank]);
    let (mut output, mut pad) = ([1; MAX_RANK], [0; MAX_RANK]);
    for d in MAX_RANK - rank..MAX_RANK {
        (output[d], pad[d]) = transpose_axis(
            opts.padding,
            input[d],
            kernel_sp[d],
            stride[d],
            dilation[d],
            out_pad.map(|p| p[d]),
        );
        if output[d] == 0 {
            return Err(value_err!(
                "{op}: the output would be empty for inputs of shape {xs:?}, kernel of shape {ks:?}, strides {:?} and output_padding {:?}",
                &stride[MAX_RANK - rank..],
                output_padding
            ));
        }
    }
    // the convolution this is the adjoint of: from the output (filters) to the input
    let g = ConvGeom {
        batch: xs[0],
        input: output,
        output: input,
        kernel: kernel_sp,
        stride,
        dilation,
        pad,
        in_channels: filters,
        out_channels: cin,
        groups: 1,
    };
    let y = {
        let (xd, wd) = (x.f32_data()?, kernel.f32_data()?);
        let bd = bias.map(|b| b.f32_data()).transpose()?;
        conv_backward(
            &g,
            &xd,
            BackwardInputs {
                w: Some(&wd),
                x_init: bd.as_deref(),
                ..Default::default()
            },
        )
        .x
        .expect("the input gradient was asked for")
    };
    let out = Tensor::new_f32(y, &result_shape(g.batch, &output, rank, filters));
    let inputs: Vec<&Tensor> = [Some(x), Some(kernel), bias]
        .into_iter()
        .flatten()
        .collect();
    Ok(record(op, &inputs, out, || {
        let need: Vec<bool> = inputs.iter().map(|t| t.requires_grad()).collect();
        let (x, w) = (x.detach(), kernel.detach());
        move |gy: &Tensor| {
            let gyd = gy.f32_data()?;
            let gx = if need[0] {
                let wd = w.f32_data()?;
                Some(Tensor::from_f32(
                    conv_forward(&g, &gyd, &wd, None),
                    x.shape(),
                )?)
            } else {
                None
            };
            let gw = if need[1] {
                let xd = x.f32_data()?;
                let grads = conv_backward(
                    &g,
                    &xd,
                    BackwardInputs {
                        x: Some(&gyd),
                        ..Default::default()
                    },
                );
                Some(Tensor::from_f32(grads.w.expect("asked for"), w.shape())?)
            } else {
                None
            };
            let mut out = vec![gx, gw];
            if need.len() == 3 {
                out.push(if need[2] {
                    let rows = gyd.len() / filters;
                    Some(Tensor::from_f32(
                        sum_axes(&gyd, &[rows, filters], &[true, false]),
                        &[filters],
                    )?)
                } else {
                    None
                });
            }
            Ok(out)
        }
    }))
}

/// Each input channel convolved with its own `depth_multiplier` filters: `x` (batch,
/// *spatial, channels), `kernel` (*kernel_size, channels, depth_multiplier); output
/// channel `c * depth_multiplier + m` comes from channel `c` and filter `m`.
pub fn depthwise_conv(
    x: &Tensor,
    kernel: &Tensor,
    bias: Option<&Tensor>,
    opts: &ConvOptions,
) -> Result<Tensor> {
    let op = "depthwise_conv";
    let rank = spatial_rank(op, x, kernel)?;
    let (xs, ks) = (x.shape(), kernel.shape());
    if ks[rank] != xs[rank + 1] {
        return Err(value_err!(
            "{op}: the kernel's input channels ({}) must match the {} channels of the inputs (inputs of shape {xs:?}, kernel of shape {ks:?})",
            ks[rank],
            xs[rank + 1]
        ));
    }
    // a grouped convolution with one input channel per group
    let mut grouped = ks[..rank].to_vec();
    grouped.extend([1, ks[rank] * ks[rank + 1]]);
    conv_named(op, x, &reshape(kernel, &grouped)?, bias, opts)
}

/// A depthwise convolution followed by a pointwise one: `pointwise_kernel` is
/// (*ones, channels * depth_multiplier, filters) and `bias` (filters,).
pub fn separable_conv(
    x: &Tensor,
    depthwise_kernel: &Tensor,
    pointwise_kernel: &Tensor,
    bias: Option<&Tensor>,
    opts: &ConvOptions,
) -> Result<Tensor> {
    let op = "separable_conv";
    let mid = depthwise_conv(x, depthwise_kernel, None, opts)?;
    let rank = mid.ndim() - 2;
    let ps = pointwise_kernel.shape();
    let channels = mid.shape()[rank + 1];
    if ps.len() != rank + 2 || ps[..rank].iter().any(|&k| k != 1) || ps[rank] != channels {
        return Err(value_err!(
            "{op}: the pointwise kernel must have shape {:?} + [{channels}, filters] for a depthwise kernel of shape {:?}, got {ps:?}",
            vec![1; rank],
            depthwise_kernel.shape()
        ));
    }
    conv_named(op, &mid, pointwise_kernel, bias, &ConvOptions::default())
}
