//! The domain layer: one module per kind of record, holding its types, rules and SQL.
//! Nothing here knows about HTTP or HTML.

pub mod activities;
pub mod attachments;
pub mod audit;
pub mod bulk;
pub mod choice;
pub mod clock;
pub mod contacts;
pub mod currency;
pub mod customers;
pub mod duplicates;
pub mod exports;
pub mod imports;
pub mod leads;
pub mod list;
pub mod merges;
pub mod notifications;
#[cfg(test)]
mod query_plans;
pub mod records;
pub mod reports;
pub mod search;
pub mod sessions;
pub mod settings;
pub mod stages;
pub mod tasks;
pub mod timeline;
pub mod tokens;
pub mod users;
pub mod values;

/// A new record id: UUIDv7 is unguessable enough for ids that must not be enumerable and
/// sorts by creation time, which keeps inserts at the end of the primary-key index.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}
