//! Recurrent layers on the fused sequence op (`ops::rnn`): `Recurrent` is the core of
//! Keras's SimpleRNN, LSTM and GRU (and of `RNN` over their cells), `Bidirectional`
//! wraps two of them, and `EmbeddedRecurrent` runs an Embedding and the recurrent layer
//! it feeds as one call.
mod bidirectional;
mod embedded;
mod recurrent;

pub use bidirectional::{Bidirectional, MergeMode};
pub use embedded::EmbeddedRecurrent;
pub use recurrent::{Recurrent, RecurrentOptions, StateSlot};
