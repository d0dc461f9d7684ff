//! Recurrent layers on the fused sequence op (`ops::rnn`): `Recurrent` is the core of
//! Keras's SimpleRNN, LSTM and GRU (and of `RNN` over their cells), `Bidirectional`
//! wraps two of them.
mod bidirectional;
mod recurrent;

pub use bidirectional::{Bidirectional, MergeMode};
pub use recurrent::{Recurrent, RecurrentOptions, StateSlot};
