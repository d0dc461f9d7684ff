//! Merge layers (Keras 3 semantics): `Add`, `Subtract`, `Multiply`, `Average`, `Maximum`,
//! `Minimum` (one `Merge` layer with an elementwise op), `Concatenate` and `Dot`. They
//! take a list of tensors with the batch on axis 0, check the shapes as Keras does and
//! are built on the broadcasting ops, whose backward they inherit.
use crate::error::{Error, Result};
use crate::nn::{Context, Layer};
use crate::ops;
use crate::tensor::Tensor;
use crate::value_err;

/// The elementwise reduction a `Merge` layer applies to its inputs, left to right.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MergeOp {
    Add,
    Subtract,
    Multiply,
    Average,
    Maximum,
    Minimum,
}

impl MergeOp {
    /// The op by its Keras class name (`"Add"`, ...) or function name (`"add"`, ...).
    pub fn parse(name: &str) -> Result<MergeOp> {
        Ok(match name.to_ascii_lowercase().as_str() {
            "add" => MergeOp::Add,
            "subtract" => MergeOp::Subtract,
            "multiply" => MergeOp::Multiply,
            "average" => MergeOp::Average,
            "maximum" => MergeOp::Maximum,
            "minimum" => MergeOp::Minimum,
            _ => {
                return Err(value_err!(
                    "unknown merge op {name:?}; expected one of add, subtract, multiply, average, maximum, minimum"
                ))
            }
        })
    }

    fn class_name(self) -> &'static str {
        match self {
            MergeOp::Add => "Add",
            MergeOp::Subtract => "Subtract",
            MergeOp::Multiply => "Multiply",
            MergeOp::Average => "Average",
            MergeOp::Maximum => "Maximum",
            MergeOp::Minimum => "Minimum",
        }
    }

    fn apply(self, a: &Tensor, b: &Tensor) -> Result<Tensor> {
        match self {
            MergeOp::Add | MergeOp::Average => ops::add(a, b),
            MergeOp::Subtract => ops::subtract(a, b),
            MergeOp::Multiply => ops::multiply(a, b),
            MergeOp::Maximum => ops::maximum(a, b),
            MergeOp::Minimum => ops::minimum(a, b),
        }
    }
}

fn shapes(inputs: &[Tensor]) -> Vec<Vec<usize>> {
    inputs.iter().map(|t| t.shape().to_vec()).collect()
}

/// Checks what every merge layer needs: at least one input, each with a batch axis.
fn check_inputs(class: &str, layer: &str, inputs: &[Tensor]) -> Result<()> {
    if inputs.is_empty() {
        return Err(value_err!(
            "{class} layer \"{layer}\" should be called on a list of at least 1 input. Received 0 inputs"
        ));
    }
    if inputs.iter().any(|t| t.ndim() == 0) {
        return Err(value_err!(
            "{class} layer \"{layer}\": every input needs a batch dimension. Received inputs with shapes {:?}",
            shapes(inputs)
        ));
    }
    Ok(())
}

/// `check_inputs`, and one batch size for all.
fn check_batch(class: &str, layer: &str, inputs: &[Tensor]) -> Result<()> {
    check_inputs(class, layer, inputs)?;
    let batch = inputs[0].shape()[0];
    if inputs.iter().any(|t| t.shape()[0] != batch) {
        return Err(value_err!(
            "{class} layer \"{layer}\": cannot merge tensors with different batch sizes. Received tensors with shapes {:?}",
            shapes(inputs)
        ));
    }
    Ok(())
}

/// Keras's elementwise output shape of two per-sample shapes: aligned on the right, each
/// pair of dimensions equal or one of them 1.
fn elementwise_shape(class: &str, layer: &str, a: &[usize], b: &[usize]) -> Result<Vec<usize>> {
    let (long, short) = if a.len() >= b.len() { (a, b) } else { (b, a) };
    let lead = long.len() - short.len();
    let mut out = long[..lead].to_vec();
    for (&i, &j) in long[lead..].iter().zip(short) {
        if i != j && i != 1 && j != 1 {
            return Err(value_err!(
                "{class} layer \"{layer}\": inputs have incompatible shapes. Received shapes {a:?} and {b:?} (without the batch axis)"
            ));
        }
        out.push(if i == 1 { j } else { i });
    }
    Ok(out)
}

/// `keras.layers.Add/Subtract/Multiply/Average/Maximum/Minimum`: the inputs combined
/// elementwise with broadcasting over the non-batch axes; inputs of lower rank get axes
/// of size 1 inserted after the batch axis first, as in Keras.
pub struct Merge {
    name: String,
    op: MergeOp,
}

impl Merge {
    pub fn new(name: &str, op: MergeOp) -> Merge {
        Merge {
            name: name.to_string(),
            op,
        }
    }
}

impl Layer for Merge {
    fn name(&self) -> &str {
        &self.name
    }

    fn call(&self, inputs: &[Tensor], _ctx: &mut Context) -> Result<Vec<Tensor>> {
        let class = self.op.class_name();
        check_batch(class, &self.name, inputs)?;
        if self.op == MergeOp::Subtract && inputs.len() != 2 {
            return Err(value_err!(
                "Subtract layer \"{}\" should be called on exactly 2 inputs. Received {} inputs with shapes {:?}",
                self.name,
                inputs.len(),
                shapes(inputs)
            ));
        }
        let mut shape = inputs[0].shape()[1..].to_vec();
        for x in &inputs[1..] {
            shape = elementwise_shape(class, &self.name, &shape, &x.shape()[1..])
                .map_err(|e| with_all_shapes(e, inputs))?;
        }
        let rank = inputs.iter().map(|t| t.ndim()).max().unwrap_or(1);
        let expand = |x: &Tensor| -> Result<Tensor> {
            if x.ndim() == rank {
                return Ok(x.clone());
            }
            let mut s = vec![x.shape()[0]];
            s.resize(1 + rank - x.ndim(), 1);
            s.extend_from_slice(&x.shape()[1..]);
            ops::reshape(x, &s)
        };
        let mut out = expand(&inputs[0])?;
        for x in &inputs[1..] {
            out = self.op.apply(&out, &expand(x)?)?;
        }
        if self.op == MergeOp::Average && inputs.len() > 1 {
            out = ops::scale(&out, 1.0 / inputs.len() as f32)?;
        }
        Ok(vec![out])
    }

    fn supports_masking(&self) -> bool {
        true
    }

    /// Keras's `Merge.compute_mask`: the logical AND of the inputs' masks (None when no
    /// input has one).
    fn compute_mask(
        &self,
        _inputs: &[Tensor],
        masks: &[Option<Tensor>],
    ) -> Result<Vec<Option<Tensor>>> {
        let mut out: Option<Tensor> = None;
        for m in masks.iter().flatten() {
            out = Some(match out {
                Some(o) => ops::multiply(&o, m)?,
                None => m.clone(),
            });
        }
        Ok(vec![out])
    }
}

fn with_all_shapes(e: Error, inputs: &[Tensor]) -> Error {
    match e {
        Error::Value(m) => Error::Value(format!("{m}. Full input shapes: {:?}", shapes(inputs))),
        other => other,
    }
}

/// `keras.layers.Concatenate(axis=-1)`: joins the inputs along `axis`; every other
/// dimension must match.
pub struct Concatenate {
    name: String,
    axis: isize,
}

impl Concatenate {
    pub fn new(name: &str, axis: isize) -> Concatenate {
        Concatenate {
            name: name.to_string(),
            axis,
        }
    }
}

impl Layer for Concatenate {
    fn name(&self) -> &str {
        &self.name
    }

    fn call(&self, inputs: &[Tensor], _ctx: &mut Context) -> Result<Vec<Tensor>> {
        check_inputs("Concatenate", &self.name, inputs)?;
        let rank = inputs[0].ndim();
        let bad = || {
            value_err!(
                "Concatenate layer \"{}\" requires inputs with matching shapes except for the concatenation axis (axis={}). Received: input_shape={:?}",
                self.name,
                self.axis,
                shapes(inputs)
            )
        };
        if inputs.iter().any(|t| t.ndim() != rank) {
            return Err(bad());
        }
        let axis = crate::tensor::normalize_axis(
            &format!("Concatenate layer \"{}\"", self.name),
            self.axis,
            rank,
        )?;
        let first = inputs[0].shape();
        if inputs
            .iter()
            .any(|t| (0..rank).any(|d| d != axis && t.shape()[d] != first[d]))
        {
            return Err(bad());
        }
        if inputs.len() == 1 {
            return Ok(vec![inputs[0].clone()]);
        }
        Ok(vec![ops::concatenate(inputs, axis as isize)?])
    }

    fn supports_masking(&self) -> bool {
        true
    }

    /// Keras's `Concatenate.compute_mask`: each input's mask (all ones for an unmasked
    /// input) spread over the input's shape, concatenated along `axis`, then any() over
    /// the last axis.
    fn compute_mask(
        &self,
        inputs: &[Tensor],
        masks: &[Option<Tensor>],
    ) -> Result<Vec<Option<Tensor>>> {
        if masks.iter().all(|m| m.is_none()) || inputs.is_empty() {
            return Ok(vec![None]);
        }
        let full = inputs
            .iter()
            .enumerate()
            .map(|(i, x)| match masks.get(i).cloned().flatten() {
                Some(m) => ops::multiply(
                    &super::mask_as_weights(&m, x.ndim())?,
                    &Tensor::ones(x.shape()),
                ),
                None => Ok(Tensor::ones(x.shape())),
            })
            .collect::<Result<Vec<_>>>()?;
        let joined = ops::concatenate(&full, self.axis)?;
        Ok(vec![Some(ops::max(&joined, Some(&[-1]), false)?)])
    }
}

/// `x / max(||x||_2, 1e-7)` along `axis` (Keras's `normalize` with its default epsilon).
fn l2_normalize(x: &Tensor, axis: usize) -> Result<Tensor> {
    let norm = ops::sqrt(&ops::sum(&ops::square(x)?, Some(&[axis as isize]), true)?)?;
    ops::divide(x, &ops::maximum(&norm, &Tensor::scalar(1e-7))?)
}

/// `keras.layers.Dot(axes, normalize=False)`: the per-sample dot product of two tensors
/// along `axes` (Keras's `batch_dot`). The output holds the batch, the remaining axes of
/// the first input, then those of the second; (batch,) becomes (batch, 1). With
/// `normalize`, both inputs are L2-normalized along their axis first (cosine proximity).
pub struct Dot {
    name: String,
    /// The axis of each input (an int `axes` applies to both); negative counts from the end.
    axes: [isize; 2],
    normalize: bool,
}

impl Dot {
    pub fn new(name: &str, axes: [isize; 2], normalize: bool) -> Dot {
        Dot {
            name: name.to_string(),
            axes,
            normalize,
        }
    }
}

impl Layer for Dot {
    fn name(&self) -> &str {
        &self.name
    }

    /// Keras: `supports_masking = True` and `compute_mask` gives no mask.
    fn supports_masking(&self) -> bool {
        true
    }

    fn compute_mask(
        &self,
        _inputs: &[Tensor],
        _masks: &[Option<Tensor>],
    ) -> Result<Vec<Option<Tensor>>> {
        Ok(vec![None])
    }

    fn call(&self, inputs: &[Tensor], _ctx: &mut Context) -> Result<Vec<Tensor>> {
        let name = &self.name;
        let [x, y] = inputs else {
            return Err(value_err!(
                "Dot layer \"{name}\" should be called on a list of 2 inputs. Received {} inputs with shapes {:?}",
                inputs.len(),
                shapes(inputs)
            ));
        };
        check_batch("Dot", name, inputs)?;
        let (xs, ys) = (x.shape(), y.shape());
        if x.ndim() < 2 || y.ndim() < 2 {
            return Err(value_err!(
                "Dot layer \"{name}\": cannot do batch_dot on inputs with rank < 2. Received inputs with shapes {xs:?} and {ys:?}"
            ));
        }
        let resolve = |a: isize, nd: usize| -> Result<usize> {
            let r = if a < 0 { a + nd as isize } else { a };
            if r < 0 || r as usize >= nd {
                return Err(value_err!(
                    "Dot layer \"{name}\": axes={:?} are out of range for inputs with shapes {xs:?} and {ys:?}",
                    self.axes
                ));
            }
            Ok(r as usize)
        };
        let (a0, a1) = (
            resolve(self.axes[0], x.ndim())?,
            resolve(self.axes[1], y.ndim())?,
        );
        if a0 == 0 || a1 == 0 {
            return Err(value_err!(
                "Dot layer \"{name}\": cannot perform batch_dot over axis 0 (the batch axis). Received axes={:?} for inputs with shapes {xs:?} and {ys:?}",
                self.axes
            ));
        }
        if xs[a0] != ys[a1] {
            return Err(value_err!(
                "Dot layer \"{name}\": incompatible input shapes: axis values {} (at axis {a0}) != {} (at axis {a1}). Full input shapes: {xs:?}, {ys:?}",
                xs[a0],
                ys[a1]
            ));
        }
        let (x, y) = if self.normalize {
            (l2_normalize(x, a0)?, l2_normalize(y, a1)?)
        } else {
            (x.clone(), y.clone())
        };
        // x -> (batch, rest_x, d), y -> (batch, d, rest_y); one batched matmul
        let (batch, depth) = (xs[0], xs[a0]);
        let x_rest: Vec<usize> = (1..xs.len()).filter(|&d| d != a0).collect();
        let y_rest: Vec<usize> = (1..ys.len()).filter(|&d| d != a1).collect();
        let x_perm: Vec<usize> = std::iter::once(0)
            .chain(x_rest.iter().copied())
            .chain([a0])
            .collect();
        let y_perm: Vec<usize> = [0, a1].into_iter().chain(y_rest.iter().copied()).collect();
        let p: usize = x_rest.iter().map(|&d| xs[d]).product();
        let q: usize = y_rest.iter().map(|&d| ys[d]).product();
        let xm = ops::reshape(&ops::permute(&x, &x_perm)?, &[batch, p, depth])?;
        let ym = ops::reshape(&ops::permute(&y, &y_perm)?, &[batch, depth, q])?;
        let mut out_shape = vec![batch];
        out_shape.extend(x_rest.iter().map(|&d| xs[d]));
        out_shape.extend(y_rest.iter().map(|&d| ys[d]));
        if out_shape.len() == 1 {
            out_shape.push(1);
        }
        Ok(vec![ops::reshape(&ops::matmul(&xm, &ym)?, &out_shape)?])
    }
}
