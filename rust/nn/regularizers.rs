//! Weight penalties (in progress).
