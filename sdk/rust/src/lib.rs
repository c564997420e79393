//! Guest SDK for [wasmcap](../../README.md) plugins written in Rust (`--target wasm32-wasi`).
//!
//! * [`https`]: the `wasmcap_https` host API (ABI version 1, `docs/abi-https.md`): requests are
//!   checked against the operator's grants on the host; secrets are referenced as
//!   `secret:NAME` header values and never enter the guest.
//! * [`tool`]: the tool-call convention: JSON arguments on stdin, one JSON result on stdout.
//! * [`json`]: the small JSON reader/writer the two need (the crate has no dependencies).
//!
//! Built and tested in CI with Debian's rustc (`tests/sdk/`); see `sdk/rust/README.md`.
#![forbid(unsafe_op_in_unsafe_fn)]

pub mod https;
pub mod json;
pub mod tool;
