//! Which column of a file fills which field: the fields each entity can import, the header
//! names common exports use for them (HubSpot, Salesforce, Pipedrive, Google Contacts,
//! Excel sheets, and Rapport's own export), and the mapping a user chose.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::domain::records::Kind;
use crate::error::{AppResult, Violations};

/// A field a column can fill.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// The source system's id of the row's record ("Record ID"), for linking later files.
    ExternalId,
    Name,
    FirstName,
    LastName,
    /// A person's whole name, split into first and last when those have no column.
    FullName,
    Title,
    Email,
    Phone,
    Domain,
    Industry,
    Segment,
    Address,
    Street,
    City,
    Region,
    PostalCode,
    Country,
    /// An owner or assignee: a user's e-mail address or id.
    Owner,
    Tags,
    /// The customer a record belongs to: its id, or the source system's id of it.
    Customer,
    CompanyName,
    CompanyDomain,
    Contact,
    ContactName,
    Lead,
    Stage,
    ValueCents,
    /// An amount in major units (`1,250.00`), stored as cents.
    Amount,
    Currency,
    Source,
    ExpectedCloseDate,
    ClosedAt,
    LostReason,
    StageChangedAt,
    Description,
    DueAt,
    RemindAt,
    Priority,
    Status,
    CompletedAt,
    Kind,
    Subject,
    Body,
    OccurredAt,
    SubjectType,
    SubjectId,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

impl Field {
    pub fn name(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    }

    pub fn parse(s: &str) -> Option<Field> {
        serde_json::from_value(serde_json::Value::String(s.trim().to_owned())).ok()
    }
}

use Field as F;

/// The fields of `kind`, each with the header names (compared ignoring case, spaces and
/// punctuation) that suggest it. The first field of each list is the required one.
pub fn fields(kind: Kind) -> &'static [(Field, &'static [&'static str])] {
    const CREATED: &[&str] = &[
        "created_at",
        "create date",
        "created",
        "created date",
        "date created",
        "creation date",
        "created time",
    ];
    const UPDATED: &[&str] = &[
        "updated_at",
        "last modified date",
        "last modified",
        "modified date",
        "updated",
        "last updated",
        "update time",
    ];
    match kind {
        Kind::Customer => &[
            (
                F::Name,
                &[
                    "name",
                    "company name",
                    "company",
                    "account name",
                    "organization",
                    "organization name",
                    "organisation",
                    "organisation name",
                ],
            ),
            (
                F::ExternalId,
                &["company id", "account id", "organization id"],
            ),
            (
                F::Domain,
                &[
                    "domain",
                    "company domain name",
                    "company domain",
                    "website",
                    "website url",
                    "web site",
                    "web",
                ],
            ),
            (F::Industry, &["industry"]),
            (F::Segment, &["segment", "customer segment", "tier"]),
            (
                F::Phone,
                &[
                    "phone",
                    "phone number",
                    "company phone",
                    "main phone",
                    "telephone",
                    "business phone",
                ],
            ),
            (F::Address, &["address", "full address", "billing address"]),
            (
                F::Street,
                &[
                    "street",
                    "street address",
                    "address 1",
                    "address line 1",
                    "billing street",
                ],
            ),
            (F::City, &["city", "billing city", "town"]),
            (
                F::Region,
                &[
                    "state",
                    "state/region",
                    "region",
                    "province",
                    "state/province",
                    "billing state/province",
                ],
            ),
            (
                F::PostalCode,
                &[
                    "postal code",
                    "zip",
                    "zip code",
                    "postcode",
                    "billing zip/postal code",
                ],
            ),
            (
                F::Country,
                &["country", "country/region", "billing country"],
            ),
            (
                F::Owner,
                &[
                    "owner_id",
                    "owner",
                    "company owner",
                    "account owner",
                    "owner email",
                ],
            ),
            (F::Tags, &["tags", "labels"]),
            (F::CreatedAt, CREATED),
            (F::UpdatedAt, UPDATED),
        ],
        Kind::Contact => &[
            (
                F::FirstName,
                &[
                    "first_name",
                    "first name",
                    "firstname",
                    "given name",
                    "first",
                ],
            ),
            (F::ExternalId, &["contact id", "person id"]),
            (
                F::LastName,
                &["last name", "lastname", "surname", "family name", "last"],
            ),
            (
                F::FullName,
                &["name", "full name", "contact name", "person"],
            ),
            (
                F::Email,
                &[
                    "email",
                    "e-mail",
                    "email address",
                    "e-mail address",
                    "e-mail 1 - value",
                    "primary email",
                    "work email",
                    "email 1",
                ],
            ),
            (
                F::Phone,
                &[
                    "phone",
                    "phone number",
                    "mobile",
                    "mobile phone",
                    "mobile phone number",
                    "phone 1 - value",
                    "work phone",
                    "business phone",
                    "telephone",
                ],
            ),
            (F::Title, &["title", "job title", "position", "job"]),
            (
                F::Customer,
                &["customer_id", "associated company id", "company record id"],
            ),
            (
                F::CompanyName,
                &[
                    "company",
                    "company name",
                    "organization",
                    "organization name",
                    "organisation",
                    "account name",
                    "organization 1 - name",
                ],
            ),
            (
                F::CompanyDomain,
                &["company domain name", "company domain", "domain", "website"],
            ),
            (
                F::Owner,
                &["owner_id", "owner", "contact owner", "owner email"],
            ),
            (F::Tags, &["tags", "labels", "group membership"]),
            (F::CreatedAt, CREATED),
            (F::UpdatedAt, UPDATED),
        ],
        Kind::Lead => &[
            (
                F::Title,
                &[
                    "title",
                    "lead title",
                    "deal name",
                    "deal title",
                    "opportunity name",
                    "lead name",
                    "name",
                ],
            ),
            (F::ExternalId, &["deal id", "lead id", "opportunity id"]),
            (
                F::Customer,
                &[
                    "customer_id",
                    "associated company id",
                    "company id",
                    "account id",
                ],
            ),
            (
                F::Contact,
                &["contact_id", "associated contact id", "contact id"],
            ),
            (
                F::CompanyName,
                &[
                    "company_name",
                    "company name",
                    "company",
                    "organization",
                    "organization name",
                    "account name",
                ],
            ),
            (
                F::CompanyDomain,
                &["company domain", "company domain name", "domain", "website"],
            ),
            (
                F::ContactName,
                &["contact_name", "contact name", "contact person", "person"],
            ),
            (
                F::Email,
                &["email", "contact email", "e-mail", "email address"],
            ),
            (F::Phone, &["phone", "contact phone", "phone number"]),
            (
                F::Stage,
                &["stage", "lead stage", "deal stage", "pipeline stage"],
            ),
            (
                F::ValueCents,
                &[
                    "value_cents",
                    "amount (cents)",
                    "amount in cents",
                    "value (cents)",
                ],
            ),
            (
                F::Amount,
                &[
                    "amount",
                    "value",
                    "deal value",
                    "deal amount",
                    "opportunity amount",
                ],
            ),
            (
                F::Currency,
                &["currency", "currency code", "deal currency code"],
            ),
            (
                F::Source,
                &["source", "lead source", "original source", "deal source"],
            ),
            (
                F::Owner,
                &[
                    "assigned_to",
                    "lead owner",
                    "deal owner",
                    "opportunity owner",
                    "owner",
                    "assigned to",
                ],
            ),
            (
                F::ExpectedCloseDate,
                &["expected_close_date", "expected close date", "close date"],
            ),
            (
                F::ClosedAt,
                &["closed_at", "closed date", "date closed", "won time"],
            ),
            (
                F::LostReason,
                &["lost_reason", "lost reason", "closed lost reason"],
            ),
            (
                F::StageChangedAt,
                &[
                    "stage_changed_at",
                    "stage changed date",
                    "stage change time",
                ],
            ),
            (F::CreatedAt, CREATED),
            (F::UpdatedAt, UPDATED),
        ],
        Kind::Task => &[
            (
                F::Title,
                &["title", "task title", "subject", "task", "task name"],
            ),
            (F::ExternalId, &["task id"]),
            (F::Description, &["description", "notes", "details", "body"]),
            (F::DueAt, &["due_at", "due date", "due", "deadline"]),
            (F::RemindAt, &["remind_at", "reminder date", "reminder"]),
            (F::Priority, &["priority"]),
            (F::Status, &["status", "task status"]),
            (
                F::Owner,
                &[
                    "assigned_to",
                    "assigned to",
                    "assignee",
                    "task owner",
                    "owner",
                ],
            ),
            (F::Lead, &["lead_id", "associated lead id", "deal id"]),
            (F::Customer, &["customer_id", "associated company id"]),
            (F::Contact, &["contact_id", "associated contact id"]),
            (
                F::CompletedAt,
                &["completed_at", "completed at", "completion date"],
            ),
            (F::CreatedAt, CREATED),
            (F::UpdatedAt, UPDATED),
        ],
        Kind::Activity => &[
            (
                F::Body,
                &["body", "notes", "description", "activity body", "content"],
            ),
            (F::ExternalId, &["activity id"]),
            (F::Kind, &["kind", "activity type", "type"]),
            (
                F::OccurredAt,
                &["occurred_at", "activity date", "date", "timestamp"],
            ),
            (F::Subject, &["subject", "activity subject"]),
            (F::CreatedBy, &["created_by", "created by", "logged by"]),
            (
                F::SubjectType,
                &["subject_type", "associated object type", "object type"],
            ),
            (
                F::SubjectId,
                &["subject_id", "associated record id", "object id"],
            ),
            (F::CreatedAt, CREATED),
            (F::UpdatedAt, UPDATED),
        ],
    }
}

/// A header as compared: lower case letters and digits only.
pub(crate) fn normalise(header: &str) -> String {
    header
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Which field each column fills: `columns[i]` is the field of the file's column `i`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    pub columns: Vec<Option<Field>>,
}

/// The generic id headers ("ID", "Record ID") name the row's own record in every entity.
const GENERIC_IDS: &[&str] = &["id", "record id", "external id", "source id"];

impl Mapping {
    /// The mapping suggested for `headers`: each column takes the first field whose known
    /// names include its header, each field at most once.
    pub fn suggest(kind: Kind, headers: &[String]) -> Mapping {
        let known = fields(kind);
        let mut taken = Vec::new();
        let columns = headers
            .iter()
            .map(|h| {
                let h = normalise(h);
                let found = known
                    .iter()
                    .find(|(field, names)| {
                        !taken.contains(field) && names.iter().any(|n| normalise(n) == h)
                    })
                    .map(|(field, _)| *field)
                    .or_else(|| {
                        (GENERIC_IDS.iter().any(|n| normalise(n) == h)
                            && !taken.contains(&F::ExternalId))
                        .then_some(F::ExternalId)
                    });
                if let Some(f) = found {
                    taken.push(f);
                }
                found
            })
            .collect();
        Mapping { columns }
    }

    /// The user's mapping (`{"Header": "field" | null}`) over the suggestion: headers it
    /// names take its field (`null` or `""`: not imported), the others keep the suggestion.
    /// 422 for a header not in the file, a field the entity does not have, or a field given
    /// to two columns.
    pub fn with_overrides(
        kind: Kind,
        headers: &[String],
        overrides: &BTreeMap<String, Option<String>>,
    ) -> AppResult<Mapping> {
        let mut mapping = Mapping::suggest(kind, headers);
        let mut v = Violations::new();
        let allowed: Vec<Field> = fields(kind).iter().map(|(f, _)| *f).collect();
        for (header, field) in overrides {
            let Some(i) = headers.iter().position(|h| h == header) else {
                v.add(format!("mapping.{header}"), "is not a column of the file");
                continue;
            };
            match field.as_deref().map(str::trim) {
                None | Some("") => mapping.columns[i] = None,
                Some(name) => match Field::parse(name).filter(|f| allowed.contains(f)) {
                    Some(f) => mapping.columns[i] = Some(f),
                    None => v.add(
                        format!("mapping.{header}"),
                        format!("{name} is not a field of {}", kind.table()),
                    ),
                },
            }
        }
        std::mem::take(&mut v).into_result()?;
        // A field chosen by the user displaces the suggestion of another column.
        for (header, field) in overrides {
            let Some(f) = field.as_deref().and_then(Field::parse) else {
                continue;
            };
            for (j, h) in headers.iter().enumerate() {
                if h != header && mapping.columns[j] == Some(f) && !overrides.contains_key(h) {
                    mapping.columns[j] = None;
                }
            }
        }
        for (i, f) in mapping.columns.iter().enumerate() {
            if let Some(f) = f
                && mapping.columns[..i].contains(&Some(*f))
            {
                v.add(
                    format!("mapping.{}", headers[i]),
                    format!("{} is already filled by another column", f.name()),
                );
            }
        }
        std::mem::take(&mut v).into_result()?;
        let required = fields(kind)[0].0;
        let has_required = mapping.columns.contains(&Some(required))
            || (required == F::FirstName && mapping.columns.contains(&Some(F::FullName)));
        if !has_required {
            v.add(
                "mapping",
                format!("no column fills {}, which every row needs", required.name()),
            );
        }
        v.into_result()?;
        Ok(mapping)
    }

    /// `{"Header": "field" | null}`, as stored and reported.
    pub fn to_json(&self, headers: &[String]) -> BTreeMap<String, Option<String>> {
        headers
            .iter()
            .zip(&self.columns)
            .map(|(h, f)| (h.clone(), f.map(Field::name)))
            .collect()
    }

    /// The column that fills `field`.
    pub fn column(&self, field: Field) -> Option<usize> {
        self.columns.iter().position(|f| *f == Some(field))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn hubspot_contact_headers_map_without_help() {
        let h = headers(&[
            "Record ID",
            "First Name",
            "Last Name",
            "Email",
            "Phone Number",
            "Job Title",
            "Company Name",
            "Company Domain Name",
            "Contact Owner",
            "Lifecycle Stage",
            "Create Date",
        ]);
        let m = Mapping::suggest(Kind::Contact, &h);
        assert_eq!(
            m.columns,
            vec![
                Some(F::ExternalId),
                Some(F::FirstName),
                Some(F::LastName),
                Some(F::Email),
                Some(F::Phone),
                Some(F::Title),
                Some(F::CompanyName),
                Some(F::CompanyDomain),
                Some(F::Owner),
                None,
                Some(F::CreatedAt),
            ]
        );
    }

    #[test]
    fn google_and_excel_style_headers() {
        let h = headers(&[
            "Given Name",
            "Family Name",
            "E-mail 1 - Value",
            "Organization 1 - Name",
        ]);
        let m = Mapping::suggest(Kind::Contact, &h);
        assert_eq!(
            m.columns,
            vec![
                Some(F::FirstName),
                Some(F::LastName),
                Some(F::Email),
                Some(F::CompanyName)
            ]
        );
        let h = headers(&["First Name", "E-mail Address", "Company"]);
        let m = Mapping::suggest(Kind::Contact, &h);
        assert_eq!(
            m.columns,
            vec![Some(F::FirstName), Some(F::Email), Some(F::CompanyName)]
        );
    }

    #[test]
    fn rapports_own_export_maps_back() {
        let h = headers(&[
            "id",
            "name",
            "domain",
            "industry",
            "segment",
            "phone",
            "address",
            "owner_id",
            "tags",
            "created_at",
            "updated_at",
            "created_by",
            "version",
        ]);
        let m = Mapping::suggest(Kind::Customer, &h);
        assert_eq!(m.column(F::ExternalId), Some(0));
        assert_eq!(m.column(F::Name), Some(1));
        assert_eq!(m.column(F::Owner), Some(7));
        assert_eq!(m.column(F::UpdatedAt), Some(10));
        assert_eq!(m.columns[12], None);
    }

    #[test]
    fn overrides_replace_suggestions_and_are_checked() {
        let h = headers(&["Company", "Web", "Notes"]);
        let mut o = BTreeMap::new();
        o.insert("Notes".to_owned(), Some("industry".to_owned()));
        o.insert("Web".to_owned(), None);
        let m = Mapping::with_overrides(Kind::Customer, &h, &o).unwrap();
        assert_eq!(m.columns, vec![Some(F::Name), None, Some(F::Industry)]);

        let mut bad = BTreeMap::new();
        bad.insert("Nope".to_owned(), Some("name".to_owned()));
        bad.insert("Notes".to_owned(), Some("stage".to_owned()));
        let err = Mapping::with_overrides(Kind::Customer, &h, &bad).unwrap_err();
        assert_eq!(err.field_errors().len(), 2);

        let mut none = BTreeMap::new();
        none.insert("Company".to_owned(), None);
        assert!(Mapping::with_overrides(Kind::Customer, &h, &none).is_err());
    }
}
