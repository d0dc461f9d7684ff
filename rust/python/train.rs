//! The graph driver for Python: `Graph` (a compiled model) and `Trainer` (graph + loss,
//! optimizer and metrics). Loops run with the GIL released; Python is re-entered only by
//! the batch hook — every batch when asked, else at most every `interval` seconds — which
//! also checks for Ctrl-C.
use super::handles::{PyLayer, PyLoss, PyMetric, PyOptimizer};
use super::tensor::{to_numpy, to_tensor, PyTensor, PyVariable};
use crate::error::Error;
use crate::nn::Context;
use crate::tensor::Tensor;
use crate::train::{self, Compiled, Control, Dataset, Graph, GraphNode, Source};
use pyo3::prelude::*;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn source(s: (isize, usize)) -> Source {
    if s.0 < 0 {
        Source::Input(s.1)
    } else {
        Source::Node {
            node: s.0 as usize,
            output: s.1,
        }
    }
}

/// A layer call as Python describes it: the layer and its input sources.
type NodeSpec<'py> = (PyRef<'py, PyLayer>, Vec<(isize, usize)>);

/// A model compiled into a graph of built-in layers. Sources are `(-1, i)` for model
/// input i and `(node, output)` for an earlier layer call.
#[pyclass(name = "Graph", module = "ember._native", frozen)]
pub struct PyGraph {
    g: Arc<Graph>,
}

#[pymethods]
impl PyGraph {
    #[new]
    fn new(
        nodes: Vec<NodeSpec<'_>>,
        num_inputs: usize,
        outputs: Vec<(isize, usize)>,
    ) -> PyResult<Self> {
        let nodes = nodes
            .into_iter()
            .map(|(l, ins)| GraphNode {
                layer: l.layer.clone(),
                inputs: ins.into_iter().map(source).collect(),
            })
            .collect();
        Ok(PyGraph {
            g: Arc::new(Graph::new(
                nodes,
                num_inputs,
                outputs.into_iter().map(source).collect(),
            )?),
        })
    }

    /// Runs the graph eagerly (recording gradients when they are enabled).
    #[pyo3(signature = (inputs, training=false))]
    fn forward(
        &self,
        py: Python<'_>,
        inputs: Vec<Bound<'_, PyAny>>,
        training: bool,
    ) -> PyResult<Vec<PyTensor>> {
        let xs = inputs
            .iter()
            .map(|x| to_tensor(x, None))
            .collect::<PyResult<Vec<_>>>()?;
        let g = self.g.clone();
        let outs = py.detach(|| g.forward(&xs, &mut Context::new(training)))?;
        Ok(outs.into_iter().map(PyTensor::new).collect())
    }

    fn variables(&self) -> Vec<PyVariable> {
        self.g
            .variables()
            .into_iter()
            .map(|v| PyVariable { v })
            .collect()
    }
}

/// Runs `body` with the GIL released, giving it a batch hook that re-enters Python as
/// described above. A Python exception raised in the hook (KeyboardInterrupt included)
/// stops the loop and is re-raised.
fn with_hook<R: Send>(
    py: Python<'_>,
    hook: Option<Py<PyAny>>,
    every_batch: bool,
    interval: f64,
    body: impl FnOnce(&mut dyn FnMut(usize, f64) -> crate::Result<Control>) -> crate::Result<R> + Send,
) -> PyResult<R> {
    let mut pending: Option<PyErr> = None;
    let result = py.detach(|| {
        let interval = Duration::from_secs_f64(interval.max(0.0));
        let mut last = Instant::now();
        let mut on_batch = |step: usize, loss: f64| -> crate::Result<Control> {
            if !every_batch && last.elapsed() < interval {
                return Ok(Control::Continue);
            }
            last = Instant::now();
            Python::attach(|py| {
                let r = py.check_signals().and_then(|_| match &hook {
                    Some(h) => h
                        .call1(py, (step, loss))
                        .and_then(|r| r.bind(py).is_truthy()),
                    None => Ok(false),
                });
                match r {
                    Ok(stop) => Ok(if stop {
                        Control::Stop
                    } else {
                        Control::Continue
                    }),
                    Err(e) => {
                        pending = Some(e);
                        Err(Error::Runtime("interrupted by a Python exception".into()))
                    }
                }
            })
        };
        body(&mut on_batch)
    });
    if let Some(e) = pending {
        return Err(e);
    }
    Ok(result?)
}

fn tensors(xs: &[Bound<'_, PyAny>]) -> PyResult<Vec<Tensor>> {
    xs.iter().map(|x| to_tensor(x, None)).collect()
}

fn sample_weights(w: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Tensor>> {
    w.map(|w| to_tensor(w, Some("float32"))).transpose()
}

fn dataset(
    x: &[Bound<'_, PyAny>],
    y: &[Bound<'_, PyAny>],
    w: Option<&Bound<'_, PyAny>>,
) -> PyResult<Dataset> {
    Ok(Dataset {
        x: tensors(x)?,
        y: tensors(y)?,
        sample_weight: sample_weights(w)?,
    })
}

/// A compiled model: graph, per-output losses and weights, optimizer and metrics.
#[pyclass(name = "Trainer", module = "ember._native", frozen)]
pub struct PyTrainer {
    c: Arc<Compiled>,
}

#[pymethods]
impl PyTrainer {
    #[new]
    #[pyo3(signature = (graph, losses, loss_weights, optimizer, metrics))]
    fn new(
        graph: PyRef<'_, PyGraph>,
        losses: Vec<Option<PyRef<'_, PyLoss>>>,
        loss_weights: Vec<f32>,
        optimizer: Option<PyRef<'_, PyOptimizer>>,
        metrics: Vec<Vec<PyRef<'_, PyMetric>>>,
    ) -> PyResult<Self> {
        let n = graph.g.num_outputs();
        if losses.len() != n || loss_weights.len() != n || metrics.len() != n {
            return Err(pyo3::exceptions::PyValueError::new_err(format!(
                "Trainer: the model has {n} output(s) but got {} loss(es), {} loss weight(s) and {} metric list(s)",
                losses.len(),
                loss_weights.len(),
                metrics.len()
            )));
        }
        Ok(PyTrainer {
            c: Arc::new(Compiled {
                graph: graph.g.clone(),
                losses: losses
                    .into_iter()
                    .map(|l| l.map(|l| l.loss.clone()))
                    .collect(),
                loss_weights,
                optimizer: optimizer.map(|o| o.opt.clone()),
                metrics: metrics
                    .into_iter()
                    .map(|ms| ms.into_iter().map(|m| m.metric.clone()).collect())
                    .collect(),
                output_losses: Default::default(),
            }),
        })
    }

    /// One epoch; `hook(step, running_loss)` returning True stops it. Returns the mean loss.
    #[pyo3(signature = (x, y, sample_weight, batch_size, shuffle, steps=None, hook=None, every_batch=false, interval=0.1))]
    #[allow(clippy::too_many_arguments)]
    fn train_epoch(
        &self,
        py: Python<'_>,
        x: Vec<Bound<'_, PyAny>>,
        y: Vec<Bound<'_, PyAny>>,
        sample_weight: Option<Bound<'_, PyAny>>,
        batch_size: usize,
        shuffle: bool,
        steps: Option<usize>,
        hook: Option<Py<PyAny>>,
        every_batch: bool,
        interval: f64,
    ) -> PyResult<f64> {
        let data = dataset(&x, &y, sample_weight.as_ref())?;
        let c = self.c.clone();
        with_hook(py, hook, every_batch, interval, move |h| {
            c.train_epoch(&data, batch_size, shuffle, steps, h)
        })
    }

    /// Mean loss over the data in inference mode (metrics updated).
    #[pyo3(signature = (x, y, sample_weight, batch_size, steps=None, hook=None, every_batch=false, interval=0.1))]
    #[allow(clippy::too_many_arguments)]
    fn evaluate(
        &self,
        py: Python<'_>,
        x: Vec<Bound<'_, PyAny>>,
        y: Vec<Bound<'_, PyAny>>,
        sample_weight: Option<Bound<'_, PyAny>>,
        batch_size: usize,
        steps: Option<usize>,
        hook: Option<Py<PyAny>>,
        every_batch: bool,
        interval: f64,
    ) -> PyResult<f64> {
        let data = dataset(&x, &y, sample_weight.as_ref())?;
        let c = self.c.clone();
        with_hook(py, hook, every_batch, interval, move |h| {
            c.evaluate(&data, batch_size, steps, h)
        })
    }

    /// One optimizer step on exactly these arrays; returns the loss.
    #[pyo3(signature = (x, y, sample_weight=None))]
    fn train_on_batch(
        &self,
        py: Python<'_>,
        x: Vec<Bound<'_, PyAny>>,
        y: Vec<Bound<'_, PyAny>>,
        sample_weight: Option<Bound<'_, PyAny>>,
    ) -> PyResult<f32> {
        let (x, y) = (tensors(&x)?, tensors(&y)?);
        let sw = sample_weights(sample_weight.as_ref())?;
        let c = self.c.clone();
        Ok(py.detach(|| {
            Dataset {
                x: x.clone(),
                y: y.clone(),
                sample_weight: sw.clone(),
            }
            .num_samples()?;
            c.train_batch(&x, &y, sw.as_ref())
        })?)
    }

    /// The loss on exactly these arrays (metrics updated).
    #[pyo3(signature = (x, y, sample_weight=None))]
    fn test_on_batch(
        &self,
        py: Python<'_>,
        x: Vec<Bound<'_, PyAny>>,
        y: Vec<Bound<'_, PyAny>>,
        sample_weight: Option<Bound<'_, PyAny>>,
    ) -> PyResult<f32> {
        let (x, y) = (tensors(&x)?, tensors(&y)?);
        let sw = sample_weights(sample_weight.as_ref())?;
        let c = self.c.clone();
        Ok(py.detach(|| {
            Dataset {
                x: x.clone(),
                y: y.clone(),
                sample_weight: sw.clone(),
            }
            .num_samples()?;
            c.test_batch(&x, &y, sw.as_ref())
        })?)
    }

    fn reset_metrics(&self) {
        self.c.reset_metrics()
    }

    /// Each output's mean unweighted loss since the last reset (outputs with a loss).
    fn output_losses(&self) -> Vec<f64> {
        self.c.output_losses()
    }
}

/// The graph's outputs for all samples, batch by batch, as numpy arrays.
#[pyfunction]
#[pyo3(signature = (graph, x, batch_size, hook=None, every_batch=false, interval=0.1))]
fn predict<'py>(
    py: Python<'py>,
    graph: PyRef<'py, PyGraph>,
    x: Vec<Bound<'py, PyAny>>,
    batch_size: usize,
    hook: Option<Py<PyAny>>,
    every_batch: bool,
    interval: f64,
) -> PyResult<Vec<Bound<'py, PyAny>>> {
    let xs = tensors(&x)?;
    let g = graph.g.clone();
    let outs = with_hook(py, hook, every_batch, interval, move |h| {
        train::predict(&g, &xs, batch_size, &mut |s| h(s, 0.0))
    })?;
    outs.iter().map(|t| to_numpy(py, t)).collect()
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyGraph>()?;
    m.add_class::<PyTrainer>()?;
    m.add_function(wrap_pyfunction!(predict, m)?)?;
    Ok(())
}
