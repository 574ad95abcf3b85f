//! Integration tests: each starts the real server on port 0 with a fresh database file and
//! speaks HTTP to it.

mod helpers;

mod activities;
mod attachments;
mod auth;
mod backups;
mod browser;
mod cli;
mod concurrency;
mod contacts;
mod convert;
mod customers;
mod duplicates;
mod exports;
mod fuzz;
mod imports;
mod leads;
mod metrics;
mod notifications;
mod problems;
mod reports;
mod robustness;
mod search;
mod stages;
mod tasks;
mod timeline;
mod timezone;
mod tokens;
mod users;
mod web;
mod web_admin;
mod web_forms;
mod web_import;
mod web_records;
