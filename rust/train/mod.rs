//! The graph driver: models of built-in layers compiled into a graph, trained, evaluated
//! and run by the core with the GIL released (DESIGN.md §5).
pub mod data;
pub mod graph;
pub mod trainer;

pub use graph::{Graph, GraphNode, Source};
pub use trainer::{predict, Compiled, Control, Dataset, LossTracker};
