//! Integration tests: one binary, one module per area. They talk HTTP to a real server.

mod core_flow;
mod helpers;
