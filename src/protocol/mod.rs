//! The wire, and only the wire: decoding requests, the parameter reader, encoding answers.

pub mod body;
pub mod encode;
pub mod params;
pub mod parse;
pub mod signature;

pub use params::Params;
pub use parse::{Format, RpcRequest, Scheme};
