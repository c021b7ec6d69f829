//! Integration tests: one binary, one module per area. They talk HTTP to a real server.

mod account_page;
mod admin_users;
mod algorithms;
mod browser;
mod client_auth;
mod core_flow;
mod device;
mod discovery;
mod dpop;
mod errors;
mod helpers;
mod logs;
mod mfa;
mod oidc;
mod openapi;
mod operations;
mod par;
mod passkeys;
mod ratelimit;
mod refresh;
mod revocation;
mod step_up;
mod store_contract;
mod store_users_contract;
