//! The integration tests, one binary with a module per area (as ripgrep's): the CLI end to end,
//! and the library's public API from outside.

mod candle_interop;
mod commands;
mod common;
mod corpus;
mod digests;
mod eval;
mod fasttext;
mod faults;
mod first_contact;
mod fuzz;
mod glove;
mod interop;
mod lm;
mod resume;
mod setup;
mod subwords;
mod synth;
mod train_cli;
mod vocab;
mod word2vec;
