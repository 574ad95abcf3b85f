//! Rapport: a self-hosted CRM for small teams, in one executable.
//!
//! The binary (`main.rs`) only parses the command line; everything else is here so the
//! integration tests can start the real server in-process.

pub mod app;
pub mod auth;
pub mod cli;
pub mod config;
pub mod db;
pub mod demo;
pub mod domain;
pub mod error;
pub mod http;
pub mod jobs;
pub mod metrics;
pub mod state;
pub mod telemetry;
pub mod web;
