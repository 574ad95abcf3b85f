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

/// Whether `raw` has the form of the ids [`new_id`] makes (and `rapport demo`, also UUIDs):
/// 36 characters, lower-case hex digits in groups of 8-4-4-4-12. Ids compare as exact text,
/// so nothing else can name a record by its id.
pub fn could_be_id(raw: &str) -> bool {
    raw.len() == 36
        && raw.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_digit() || (b'a'..=b'f').contains(&b),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_one_form() {
        for _ in 0..100 {
            assert!(could_be_id(&new_id()));
        }
        assert!(could_be_id("01890a5d-ac96-774b-bcce-b302099a8057"));
        for other in [
            "",
            "12345",
            "hubspot-0001",
            "01890A5D-AC96-774B-BCCE-B302099A8057",
            "01890a5dac96774bbccebb302099a8057",
            "{01890a5d-ac96-774b-bcce-b302099a8057}",
            "01890a5d-ac96-774b-bcce-b302099a805g",
            " 1890a5d-ac96-774b-bcce-b302099a8057",
        ] {
            assert!(!could_be_id(other), "{other:?}");
        }
    }
}
