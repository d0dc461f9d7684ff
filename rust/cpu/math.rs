//! Vectorisable exp, log, tanh, erf (in progress).
