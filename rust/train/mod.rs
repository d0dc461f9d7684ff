//! The graph driver: models of built-in layers compiled into a graph, trained, evaluated
//! and run by the core with the GIL released (DESIGN.md §5).
