//! Converting a prospect lead (company and person typed into the lead itself) into a
//! customer and a contact that the lead then links to.
//!
//! Everything runs on the caller's connection, inside the caller's transaction: the records
//! are created by [`customers::create`] and [`contacts::create`], with their own rules and
//! audit entries, and a failure anywhere leaves nothing behind.

use rusqlite::Connection;
use serde::{Deserialize, Serialize};

use super::{Lead, editable, persist};
use crate::auth::Actor;
use crate::auth::permissions::{Ownership, RecordAction};
use crate::domain::audit::{self, Entry};
use crate::domain::clock::Timestamp;
use crate::domain::contacts::{self, Contact, ContactInput};
use crate::domain::customers::{self, Customer, CustomerInput};
use crate::domain::records::{self, Kind};
use crate::domain::values;
use crate::error::{AppError, AppResult, FieldError, Violations};

/// The optional body of `POST /leads/{id}/convert`.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConvertInput {
    /// The company's web domain, in any form (`https://www.acme.com/about` means
    /// `acme.com`). Without it, the domain of the lead's e-mail address is used, unless that
    /// is a free-mail provider (gmail.com, outlook.com, …). A live customer with the domain
    /// is reused; otherwise the new customer gets it. Not together with `customer_id`.
    pub domain: Option<String>,
    /// Convert into this live customer instead of finding one by domain or creating one.
    pub customer_id: Option<String>,
    /// Default `true`. With `false` only the customer is linked, and the lead keeps its
    /// person details (`contact_name`, `email`, `phone`).
    pub create_contact: Option<bool>,
}

/// The answer of `POST /leads/{id}/convert`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Conversion {
    /// The lead, now linked to the customer and contact.
    pub lead: Lead,
    pub customer: Customer,
    /// `null` when converted with `"create_contact": false`.
    pub contact: Option<Contact>,
    /// False when an existing customer was reused.
    pub customer_created: bool,
    /// False when an existing contact was reused (or none was wanted).
    pub contact_created: bool,
}

/// `POST /leads/{id}/convert`: links the lead to a customer (reused by id or domain, else
/// created from `company_name`) and a contact there (reused by e-mail, else created from
/// `contact_name`, `email` and `phone`), and clears the prospect fields those records now
/// hold. Reused records are linked, never changed.
pub fn convert(
    conn: &Connection,
    actor: &Actor,
    id: &str,
    input: &ConvertInput,
    expected_version: Option<i64>,
) -> AppResult<Conversion> {
    let before = editable(conn, actor, id, expected_version)?;
    for kind in [Kind::Customer, Kind::Contact] {
        records::require(actor, RecordAction::Create, kind, Ownership::Own)?;
    }
    if before.customer_id.is_some() || before.contact_id.is_some() {
        return Err(AppError::Conflict(
            "This lead is already converted: it is linked to a customer or contact.".into(),
        ));
    }
    let plan = plan(conn, &before, input)?;

    // New records belong to whoever owns the lead, or to the converter if that user has
    // been deactivated since.
    let lead_owner = before
        .assigned_to
        .as_deref()
        .or(before.meta.created_by.as_deref());
    let owner = match lead_owner {
        Some(o) if records::check_user(conn, "owner_id", Some(o))?.is_none() => o.to_owned(),
        _ => actor.user_id.clone(),
    };
    let (customer, customer_created) = match plan.customer {
        CustomerPlan::Existing(c) => (*c, false),
        CustomerPlan::New { name, domain } => {
            let input = CustomerInput {
                name: Some(Some(name)),
                domain: Some(domain),
                owner_id: Some(Some(owner.clone())),
                ..CustomerInput::default()
            };
            let created = customers::create(conn, actor, &input)
                .map_err(|e| as_lead_fields(e, &[("name", "company_name", None)]))?;
            (created, true)
        }
    };
    let (contact, contact_created) = match plan.contact {
        ContactPlan::None => (None, false),
        ContactPlan::Existing(c) => (Some(*c), false),
        ContactPlan::New { name } => {
            let (first, last) = split_name(&name);
            let input = ContactInput {
                customer_id: Some(Some(customer.meta.id.clone())),
                first_name: Some(Some(first.to_owned())),
                last_name: Some(last.map(str::to_owned)),
                email: Some(before.email.clone()),
                phone: Some(before.phone.clone()),
                owner_id: Some(Some(owner)),
                ..ContactInput::default()
            };
            let created = contacts::create(conn, actor, &input).map_err(|e| {
                as_lead_fields(
                    e,
                    &[
                        ("first_name", "contact_name", Some("the first name")),
                        ("last_name", "contact_name", Some("the last name")),
                    ],
                )
            })?;
            (Some(created), true)
        }
    };

    let mut after = before.clone();
    after.customer_id = Some(customer.meta.id.clone());
    after.company_name = None;
    if let Some(contact) = &contact {
        after.contact_id = Some(contact.meta.id.clone());
        after.contact_name = None;
        after.email = None;
        after.phone = None;
    }
    after.meta.updated_at = Timestamp::now().to_stored();
    after.meta.version += 1;
    persist(conn, &after)?;
    audit::record(
        conn,
        Entry::new(Some(&actor.user_id), "lead.convert", "lead")
            .entity(&after.meta.id)
            .changes(&before, &after),
    )?;
    Ok(Conversion {
        lead: after.visible_to(actor),
        customer,
        contact,
        customer_created,
        contact_created,
    })
}

enum CustomerPlan {
    Existing(Box<Customer>),
    New {
        name: String,
        domain: Option<String>,
    },
}

enum ContactPlan {
    None,
    Existing(Box<Contact>),
    New { name: String },
}

struct Plan {
    customer: CustomerPlan,
    contact: ContactPlan,
}

/// Decides what to reuse and what to create, reading only, and reports every missing or
/// invalid field at once before anything is written.
fn plan(conn: &Connection, lead: &Lead, input: &ConvertInput) -> AppResult<Plan> {
    let mut v = Violations::new();
    let customer_id = input
        .customer_id
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let given_domain = v
        .check(values::domain("domain", input.domain.as_deref()))
        .flatten();
    if given_domain.as_deref().is_some_and(is_free_mail) {
        v.add(
            "domain",
            "is a free e-mail provider's domain, not a company's",
        );
    }
    if customer_id.is_some() && given_domain.is_some() {
        v.add("domain", "cannot be given together with customer_id");
    }

    let mut existing = None;
    let mut domain = None;
    match customer_id {
        Some(id) => match customers::get(conn, id) {
            Ok(c) => existing = Some(c),
            Err(AppError::NotFound) => v.add("customer_id", "is not an existing customer"),
            Err(e) => return Err(e),
        },
        None => {
            domain = given_domain.or_else(|| lead.email.as_deref().and_then(email_domain));
            if let Some(found) = domain
                .as_deref()
                .map(|d| customers::find_by_domain(conn, d))
                .transpose()?
                .flatten()
            {
                existing = Some(customers::get(conn, &found)?);
            }
        }
    }
    if existing.is_none() && customer_id.is_none() && lead.company_name.is_none() {
        v.add(
            "company_name",
            "is required to create a customer; or pass customer_id, or the domain of an \
             existing customer",
        );
    }

    let mut contact = ContactPlan::None;
    if input.create_contact.unwrap_or(true) {
        let reusable = match (&existing, &lead.email) {
            (Some(customer), Some(email)) => {
                contacts::find_by_email(conn, &customer.meta.id, email)?
            }
            _ => None,
        };
        contact = match (reusable, &lead.contact_name) {
            (Some(id), _) => ContactPlan::Existing(Box::new(contacts::get(conn, &id)?)),
            (None, Some(name)) => ContactPlan::New { name: name.clone() },
            (None, None) => {
                v.add(
                    "contact_name",
                    "is required to create a contact; or pass \"create_contact\": false",
                );
                ContactPlan::None
            }
        };
    }
    v.into_result()?;

    let customer = match existing {
        Some(c) => CustomerPlan::Existing(Box::new(c)),
        None => CustomerPlan::New {
            name: lead.company_name.clone().unwrap_or_default(),
            domain,
        },
    };
    Ok(Plan { customer, contact })
}

/// The company domain of an e-mail address: none for free-mail providers.
fn email_domain(email: &str) -> Option<String> {
    let (_, host) = email.rsplit_once('@')?;
    values::domain("email", Some(host))
        .ok()
        .flatten()
        .filter(|d| !is_free_mail(d))
}

/// Providers whose addresses say nothing about the company someone works for.
const FREE_MAIL: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "msn.com",
    "ymail.com",
    "aol.com",
    "icloud.com",
    "me.com",
    "mac.com",
    "proton.me",
    "protonmail.com",
    "pm.me",
    "web.de",
    "t-online.de",
    "mail.com",
    "mail.ru",
    "yandex.ru",
    "yandex.com",
    "qq.com",
    "163.com",
    "fastmail.com",
    "tutanota.com",
    "tuta.io",
];

/// Providers with a domain per country: `gmx.de`, `yahoo.co.uk`, `hotmail.fr`, …
const FREE_MAIL_FAMILIES: &[&str] = &["gmx", "yahoo", "hotmail", "outlook", "live"];

fn is_free_mail(domain: &str) -> bool {
    if FREE_MAIL.contains(&domain) {
        return true;
    }
    let Some((name, suffix)) = domain.split_once('.') else {
        return false;
    };
    let country_suffix = match suffix.split_once('.') {
        None => true,
        Some((second, country)) => {
            matches!(second, "co" | "com" | "net" | "org" | "ne")
                && country.len() == 2
                && !country.contains('.')
        }
    };
    FREE_MAIL_FAMILIES.contains(&name) && country_suffix
}

/// `Mary Ann Smith` → (`Mary Ann`, `Smith`): the last word is the last name.
fn split_name(name: &str) -> (&str, Option<&str>) {
    let name = name.trim();
    match name.rsplit_once(char::is_whitespace) {
        Some((first, last)) => (first.trim_end(), Some(last)),
        None => (name, None),
    }
}

/// Validation errors of the records created from the lead, named after the lead's fields
/// they came from (`from`, `to`, what the value was used as).
fn as_lead_fields(err: AppError, names: &[(&str, &str, Option<&str>)]) -> AppError {
    let AppError::Validation(errors) = err else {
        return err;
    };
    let mut renamed: Vec<FieldError> = Vec::new();
    for e in errors {
        let e = match names.iter().find(|(from, ..)| *from == e.field) {
            Some((_, to, Some(what))) => FieldError::new(*to, format!("{what} {}", e.message)),
            Some((_, to, None)) => FieldError::new(*to, e.message),
            None => e,
        };
        if !renamed.iter().any(|r| r.field == e.field) {
            renamed.push(e);
        }
    }
    AppError::Validation(renamed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_mail_is_recognised_in_its_country_forms() {
        for d in [
            "gmail.com",
            "outlook.com",
            "hotmail.com",
            "hotmail.co.uk",
            "yahoo.com",
            "yahoo.co.jp",
            "icloud.com",
            "proton.me",
            "gmx.de",
            "gmx.net",
            "gmx.at",
            "web.de",
            "outlook.com.br",
        ] {
            assert!(is_free_mail(d), "{d}");
        }
        for d in [
            "acme.com",
            "gmx-consulting.de",
            "live.acme.com",
            "yahoo.acme.co.uk",
            "mygmail.com",
        ] {
            assert!(!is_free_mail(d), "{d}");
        }
    }

    #[test]
    fn company_domains_come_from_work_addresses_only() {
        assert_eq!(
            email_domain("jane@Sales.Acme.com").as_deref(),
            Some("sales.acme.com")
        );
        assert_eq!(email_domain("jane@gmail.com"), None);
        assert_eq!(email_domain("jane@gmx.ch"), None);
        assert_eq!(email_domain("no-at-sign"), None);
    }

    #[test]
    fn names_split_on_the_last_space() {
        assert_eq!(split_name("Jane Doe"), ("Jane", Some("Doe")));
        assert_eq!(split_name(" Mary Ann  Smith "), ("Mary Ann", Some("Smith")));
        assert_eq!(split_name("Cher"), ("Cher", None));
    }

    #[test]
    fn errors_of_created_records_name_the_lead_fields() {
        let err = AppError::Validation(vec![
            FieldError::new("first_name", "is required"),
            FieldError::new("last_name", "must be at most 100 characters"),
            FieldError::new("email", "must be an e-mail address like name@example.com"),
        ]);
        let names = [
            ("first_name", "contact_name", Some("the first name")),
            ("last_name", "contact_name", Some("the last name")),
        ];
        let renamed = as_lead_fields(err, &names);
        let fields: Vec<(&str, &str)> = renamed
            .field_errors()
            .iter()
            .map(|e| (e.field.as_str(), e.message.as_str()))
            .collect();
        assert_eq!(
            fields,
            [
                ("contact_name", "the first name is required"),
                ("email", "must be an e-mail address like name@example.com"),
            ]
        );
    }
}
