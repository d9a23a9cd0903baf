//! In-process tests of the HTTP surface: the app is built with a fresh state per test and
//! driven with `tower::ServiceExt::oneshot`, no port, no network.

#![recursion_limit = "256"]

mod admin;
mod bodies;
mod captures;
mod checks;
mod concurrency;
mod control;
mod dashboard;
mod disks;
mod disks_describe;
mod gateway;
mod kms;
mod signing;
mod sts;
mod support;
mod zones;
