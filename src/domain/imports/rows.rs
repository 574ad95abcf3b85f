//! One staged row becoming a record: its cells read through the mapping, its links resolved
//! by natural keys (domain, e-mail, owner e-mail) or the source system's record ids, the
//! duplicate policy applied, and then the same create and update functions as the API, so
//! every rule of the API holds for imported rows too. History from the file (created,
//! closed, stage changed, completed) is kept.

use std::collections::HashMap;
use std::sync::Arc;

use rusqlite::{Connection, OptionalExtension, params};

use super::mapping::{Field, Mapping};
use crate::auth::Actor;
use crate::domain::activities::{self, ActivityInput};
use crate::domain::clock::Timestamp;
use crate::domain::contacts::{self, ContactInput};
use crate::domain::currency::Currency;
use crate::domain::customers::{self, CustomerInput};
use crate::domain::leads::{self, LeadInput, StageDates};
use crate::domain::records::{self, Kind, Origin};
use crate::domain::tasks::{self, TaskInput};
use crate::domain::values;
use crate::error::{AppError, AppResult};

/// What to do with a row that matches a record already there (or an earlier row).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnDuplicate {
    Skip,
    Update,
    Create,
}

impl OnDuplicate {
    pub fn parse(s: &str) -> Option<OnDuplicate> {
        match s.trim() {
            "skip" | "" => Some(OnDuplicate::Skip),
            "update" => Some(OnDuplicate::Update),
            "create" => Some(OnDuplicate::Create),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            OnDuplicate::Skip => "skip",
            OnDuplicate::Update => "update",
            OnDuplicate::Create => "create",
        }
    }
}

/// What became of a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Created {
        id: String,
    },
    /// An existing record changed; `before` is its row as it was (for undoing the job).
    Updated {
        id: String,
        before: String,
    },
    Skipped {
        id: String,
    },
}

/// A problem with one cell (or the whole row: field `row`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellError {
    pub field: String,
    pub message: String,
}

/// State that lives for the whole job.
pub struct Job {
    pub kind: Kind,
    /// Shared with each row's view, which borrows it while the job itself is borrowed
    /// mutably.
    layout: Arc<Layout>,
    pub policy: OnDuplicate,
    pub dry_run: bool,
    pub actor: Actor,
    pub base_currency: Currency,
    /// User e-mail or id → user id (or `None`: no such active user).
    users: HashMap<String, Option<String>>,
    /// Dry runs only: the natural keys of records earlier rows would have created (a dry
    /// run writes nothing, so later rows cannot find them in the database).
    pending: HashMap<String, String>,
    /// Customers the current row created to link a contact to; the caller takes them.
    pub linked: Vec<String>,
    /// The `pending` keys added since [`Job::begin_chunk`], forgotten if the chunk is redone.
    chunk_keys: Vec<String>,
}

/// A link to another record.
enum Link {
    Found(String),
    /// Created by an earlier row of this dry run: valid, but not in the database.
    Pending,
    Missing,
}

impl Job {
    pub fn new(
        kind: Kind,
        headers: Vec<String>,
        mapping: Mapping,
        policy: OnDuplicate,
        dry_run: bool,
        actor: Actor,
        base_currency: Currency,
    ) -> Self {
        Job {
            kind,
            layout: Arc::new(Layout { headers, mapping }),
            policy,
            dry_run,
            actor: actor.for_import(),
            base_currency,
            users: HashMap::new(),
            pending: HashMap::new(),
            linked: Vec::new(),
            chunk_keys: Vec::new(),
        }
    }

    /// Starts a chunk of rows.
    pub fn begin_chunk(&mut self) {
        self.chunk_keys.clear();
    }

    /// Forgets what the current chunk's rows remembered, before the chunk runs again.
    pub fn undo_chunk(&mut self) {
        for key in self.chunk_keys.drain(..) {
            self.pending.remove(&key);
        }
    }

    fn remember(&mut self, key: String, id: String) {
        self.chunk_keys.push(key.clone());
        self.pending.insert(key, id);
    }

    /// Applies one row: `Ok(Err(..))` lists what is wrong with it; `Err` is a failure of
    /// the database, which ends the job. The caller wraps each row in a savepoint and rolls
    /// it back unless it succeeded.
    pub fn apply(
        &mut self,
        conn: &Connection,
        cells: &[String],
    ) -> AppResult<Result<Outcome, Vec<CellError>>> {
        if cells.len() != self.layout.headers.len() {
            return Ok(Err(vec![CellError {
                field: "row".into(),
                message: format!(
                    "has {} cells where the header has {}",
                    cells.len(),
                    self.layout.headers.len()
                ),
            }]));
        }
        let layout = Arc::clone(&self.layout);
        let row = RowView {
            cells,
            layout: &layout,
        };
        let mut errors = Vec::new();
        let result = match self.kind {
            Kind::Customer => self.customer(conn, &row, &mut errors),
            Kind::Contact => self.contact(conn, &row, &mut errors),
            Kind::Lead => self.lead(conn, &row, &mut errors),
            Kind::Task => self.task(conn, &row, &mut errors),
            Kind::Activity => self.activity(conn, &row, &mut errors),
        };
        match result {
            Ok(outcome) if errors.is_empty() => Ok(Ok(outcome)),
            Ok(_) => Ok(Err(errors)),
            Err(e @ (AppError::Internal(_) | AppError::Unavailable(_))) => Err(e),
            Err(e) => {
                errors.extend(row.describe(self.kind, e));
                Ok(Err(errors))
            }
        }
    }

    // ---------------------------------------------------------------- per entity

    fn customer(
        &mut self,
        conn: &Connection,
        row: &RowView<'_>,
        errors: &mut Vec<CellError>,
    ) -> AppResult<Outcome> {
        let input = CustomerInput {
            name: row.opt(Field::Name),
            domain: row.opt(Field::Domain),
            industry: row.opt(Field::Industry),
            segment: row.opt(Field::Segment),
            phone: row.opt(Field::Phone),
            address: row.address(),
            owner_id: self.owner(conn, row, errors)?,
            tags: row.get(Field::Tags).map(split_tags),
        };
        let mut keys = self.own_keys(row);
        let domain = values::domain("domain", row.get(Field::Domain))
            .ok()
            .flatten();
        if let Some(d) = &domain {
            keys.push(format!("domain:{d}"));
        } else if let Some(name) = row.get(Field::Name) {
            keys.push(format!("name:{}", name.to_lowercase()));
        }
        if !errors.is_empty() {
            return Ok(Outcome::Skipped { id: String::new() });
        }
        let existing = self.find_duplicate(conn, row, &keys, |conn| {
            match (&domain, row.get(Field::Name)) {
                (Some(d), _) => customers::find_by_domain(conn, d),
                (None, Some(name)) => customers::find_by_name(conn, name),
                (None, None) => Ok(None),
            }
        })?;
        self.settle(conn, row, keys, existing, |conn, job, existing| {
            Ok(match existing {
                Some(id) => {
                    customers::update(conn, &job.actor, id, &input, None)?
                        .meta
                        .id
                }
                None => {
                    customers::create_from(conn, &job.actor, &input, &job.origin(row))?
                        .meta
                        .id
                }
            })
        })
    }

    fn contact(
        &mut self,
        conn: &Connection,
        row: &RowView<'_>,
        errors: &mut Vec<CellError>,
    ) -> AppResult<Outcome> {
        let (first, last) = match (row.get(Field::FirstName), row.get(Field::FullName)) {
            (None, Some(full)) if row.get(Field::LastName).is_none() => split_name(full),
            _ => (
                row.get(Field::FirstName).map(str::to_owned),
                row.get(Field::LastName).map(str::to_owned),
            ),
        };
        let (customer_id, new_company) = match self.customer_link(conn, row, errors)? {
            Some(Link::Found(id)) => (Some(Some(id)), None),
            Some(Link::Pending) | Some(Link::Missing) => (None, None),
            None => match self.company_for_contact(conn, row, errors)? {
                Company::Known(id) => (id, None),
                Company::New(company) => (None, Some(company)),
            },
        };
        let mut input = ContactInput {
            customer_id,
            first_name: Some(first),
            last_name: Some(last),
            email: row.opt(Field::Email),
            phone: row.opt(Field::Phone),
            title: row.opt(Field::Title),
            owner_id: self.owner(conn, row, errors)?,
            tags: row.get(Field::Tags).map(split_tags),
        };
        let mut keys = self.own_keys(row);
        let email = values::optional_email("email", row.get(Field::Email))
            .ok()
            .flatten();
        let digits = row
            .get(Field::Phone)
            .map(phone_digits)
            .filter(|d| d.len() >= 7);
        if let Some(e) = &email {
            keys.push(format!("email:{}", e.to_lowercase()));
        } else if let Some(d) = &digits {
            keys.push(format!("phone:{d}"));
        }
        if !errors.is_empty() {
            return Ok(Outcome::Skipped { id: String::new() });
        }
        let existing = self.find_duplicate(conn, row, &keys, |conn| match (&email, &digits) {
            (Some(e), _) => contacts::find_any_by_email(conn, e),
            (None, Some(d)) => contacts::find_by_phone_digits(conn, d),
            (None, None) => Ok(None),
        })?;
        if let Some(company) = new_company {
            // A row that fails must have written nothing (else its whole chunk runs again):
            // the contact about to be created is checked as its create will check it (with
            // the company, which passed its own checks, still to come) before the company is
            // written.
            if existing.is_none() || self.policy == OnDuplicate::Create {
                contacts::check(conn, &self.actor, &input)?;
            }
            input.customer_id = Some(Some(self.create_company(conn, company)?));
        }
        self.settle(conn, row, keys, existing, |conn, job, existing| {
            Ok(match existing {
                Some(id) => {
                    contacts::update(conn, &job.actor, id, &input, None)?
                        .meta
                        .id
                }
                None => {
                    contacts::create_from(conn, &job.actor, &input, &job.origin(row))?
                        .meta
                        .id
                }
            })
        })
    }

    fn lead(
        &mut self,
        conn: &Connection,
        row: &RowView<'_>,
        errors: &mut Vec<CellError>,
    ) -> AppResult<Outcome> {
        let customer_id = match self.customer_link(conn, row, errors)? {
            Some(Link::Found(id)) => Some(id),
            Some(_) => None,
            None => self.existing_company(conn, row)?,
        };
        let contact_id = match row.get(Field::Contact) {
            None => None,
            Some(raw) => match self.link(conn, Kind::Contact, raw)? {
                Link::Found(id) => Some(id),
                Link::Pending => None,
                Link::Missing => {
                    errors.push(row.error(Field::Contact, missing(Kind::Contact, raw)));
                    None
                }
            },
        };
        let value_cents = match (row.get(Field::ValueCents), row.get(Field::Amount)) {
            (Some(raw), _) => match parse_whole(raw) {
                Some(n) => Some(Some(n)),
                None => {
                    errors.push(row.error(Field::ValueCents, "must be a whole number of cents"));
                    None
                }
            },
            (None, Some(raw)) => match parse_amount(raw) {
                Some(n) => Some(Some(n)),
                None => {
                    errors.push(row.error(Field::Amount, "must be an amount like 1250.00"));
                    None
                }
            },
            (None, None) => None,
        };
        let input = LeadInput {
            title: row.opt(Field::Title),
            customer_id: customer_id.map(Some),
            contact_id: contact_id.map(Some),
            stage: row.get(Field::Stage).map(|s| Some(choice_key(s))),
            value_cents,
            currency: row.opt(Field::Currency),
            source: row.opt(Field::Source),
            assigned_to: self.owner(conn, row, errors)?,
            expected_close_date: row.date(Field::ExpectedCloseDate, errors),
            lost_reason: row.opt(Field::LostReason),
            company_name: row.opt(Field::CompanyName),
            contact_name: row.opt(Field::ContactName),
            email: row.opt(Field::Email),
            phone: row.opt(Field::Phone),
        };
        let dates = StageDates {
            closed_at: row.instant(Field::ClosedAt, errors),
            changed_at: row.instant(Field::StageChangedAt, errors),
        };
        let keys = self.own_keys(row);
        if !errors.is_empty() {
            return Ok(Outcome::Skipped { id: String::new() });
        }
        let existing = self.find_duplicate(conn, row, &keys, |_| Ok(None))?;
        self.settle(conn, row, keys, existing, |conn, job, existing| {
            Ok(match existing {
                Some(id) => leads::update(conn, &job.actor, id, &input, None)?.meta.id,
                None => {
                    let origin = job.origin(row);
                    leads::create_from(
                        conn,
                        &job.actor,
                        &input,
                        &origin,
                        &job.base_currency,
                        &dates,
                    )?
                    .meta
                    .id
                }
            })
        })
    }

    fn task(
        &mut self,
        conn: &Connection,
        row: &RowView<'_>,
        errors: &mut Vec<CellError>,
    ) -> AppResult<Outcome> {
        let link = |field: Field,
                    kind: Kind,
                    errors: &mut Vec<CellError>|
         -> AppResult<Option<Option<String>>> {
            match row.get(field) {
                None => Ok(None),
                Some(raw) => Ok(match self.link(conn, kind, raw)? {
                    Link::Found(id) => Some(Some(id)),
                    Link::Pending => None,
                    Link::Missing => {
                        errors.push(row.error(field, missing(kind, raw)));
                        None
                    }
                }),
            }
        };
        let lead_id = link(Field::Lead, Kind::Lead, errors)?;
        let customer_id = link(Field::Customer, Kind::Customer, errors)?;
        let contact_id = link(Field::Contact, Kind::Contact, errors)?;
        let input = TaskInput {
            title: row.opt(Field::Title),
            description: row.opt(Field::Description),
            due_at: row.instant(Field::DueAt, errors).map(Some),
            remind_at: row.instant(Field::RemindAt, errors).map(Some),
            priority: row.get(Field::Priority).map(|s| Some(choice_key(s))),
            status: row.get(Field::Status).map(|s| Some(choice_key(s))),
            assigned_to: self.owner(conn, row, errors)?,
            lead_id,
            customer_id,
            contact_id,
        };
        let completed_at = row.instant(Field::CompletedAt, errors);
        let keys = self.own_keys(row);
        if !errors.is_empty() {
            return Ok(Outcome::Skipped { id: String::new() });
        }
        let existing = self.find_duplicate(conn, row, &keys, |_| Ok(None))?;
        self.settle(conn, row, keys, existing, |conn, job, existing| {
            let Some(id) = existing else {
                let origin = job.origin(row);
                let task =
                    tasks::create_from(conn, &job.actor, &input, &origin, completed_at.as_deref())?;
                return Ok(task.meta.id);
            };
            let id = tasks::update(conn, &job.actor, id, &input, None)?.meta.id;
            if completed_at.is_some() {
                conn.prepare_cached(
                    "UPDATE tasks SET completed_at = ?2 WHERE id = ?1 AND completed_at IS NOT NULL",
                )?
                .execute(params![id, completed_at])?;
            }
            Ok(id)
        })
    }

    fn activity(
        &mut self,
        conn: &Connection,
        row: &RowView<'_>,
        errors: &mut Vec<CellError>,
    ) -> AppResult<Outcome> {
        let subject_type = row.get(Field::SubjectType).map(choice_key);
        let subject_kind = subject_type.as_deref().and_then(|t| match t {
            "customer" | "company" | "account" | "organization" => Some(Kind::Customer),
            "contact" | "person" => Some(Kind::Contact),
            "lead" | "deal" | "opportunity" => Some(Kind::Lead),
            _ => None,
        });
        if subject_type.is_some() && subject_kind.is_none() {
            errors.push(row.error(Field::SubjectType, "must be customer, contact or lead"));
        }
        let subject_id = match (subject_kind, row.get(Field::SubjectId)) {
            (Some(kind), Some(raw)) => match self.link(conn, kind, raw)? {
                Link::Found(id) => Some(id),
                Link::Pending => None,
                Link::Missing => {
                    errors.push(row.error(Field::SubjectId, missing(kind, raw)));
                    None
                }
            },
            _ => None,
        };
        let pending_subject = subject_kind.is_some() && subject_id.is_none() && errors.is_empty();
        let body = match (row.get(Field::Subject), row.get(Field::Body)) {
            (Some(s), Some(b)) => Some(format!("{s}\n\n{b}")),
            (s, b) => s.or(b).map(str::to_owned),
        };
        let created_by = match row.get(Field::CreatedBy) {
            None => None,
            Some(raw) => self.user(conn, raw)?.or_else(|| {
                errors.push(row.error(Field::CreatedBy, no_user(raw)));
                None
            }),
        };
        let input = ActivityInput {
            subject_type: subject_kind.map(|k| Some(k.name().to_owned())),
            subject_id: subject_id.map(Some),
            kind: row.get(Field::Kind).map(|s| Some(choice_key(s))),
            body: Some(body),
            occurred_at: row.instant(Field::OccurredAt, errors).map(Some),
        };
        let keys = self.own_keys(row);
        if !errors.is_empty() {
            return Ok(Outcome::Skipped { id: String::new() });
        }
        if pending_subject {
            // A subject an earlier row of this dry run creates: nothing more to check here.
            return Ok(Outcome::Created { id: String::new() });
        }
        let existing = self.find_duplicate(conn, row, &keys, |_| Ok(None))?;
        self.settle(conn, row, keys, existing, |conn, job, existing| {
            let Some(id) = existing else {
                let mut origin = job.origin(row);
                if let Some(author) = &created_by {
                    origin.created_by.clone_from(author);
                }
                let activity = activities::create_from(conn, &job.actor, &input, &origin)?;
                return Ok(activity.meta.id);
            };
            let id = activities::update(conn, &job.actor, id, &input, None)?
                .meta
                .id;
            if created_by.is_some() {
                conn.prepare_cached("UPDATE activities SET created_by = ?2 WHERE id = ?1")?
                    .execute(params![id, created_by])?;
            }
            Ok(id)
        })
    }

    // ---------------------------------------------------------------- shared steps

    /// Keys naming the row's own record: its id in the source system.
    fn own_keys(&self, row: &RowView<'_>) -> Vec<String> {
        row.get(Field::ExternalId)
            .map(|ext| vec![format!("ext:{}", ext)])
            .unwrap_or_default()
    }

    /// The record this row duplicates, if any: the record its own id names (a Rapport
    /// export imported again, or a record id seen before), else what `natural` finds.
    fn find_duplicate(
        &mut self,
        conn: &Connection,
        row: &RowView<'_>,
        keys: &[String],
        natural: impl FnOnce(&Connection) -> AppResult<Option<String>>,
    ) -> AppResult<Option<Duplicate>> {
        if self.policy == OnDuplicate::Create && row.get(Field::ExternalId).is_none() {
            return Ok(None);
        }
        if let Some(ext) = row.get(Field::ExternalId)
            && let Link::Found(id) = self.link(conn, self.kind, ext)?
        {
            return Ok(Some(Duplicate::Existing(id)));
        }
        if keys.iter().any(|k| self.pending.contains_key(k)) {
            return Ok(Some(Duplicate::Pending));
        }
        if self.policy == OnDuplicate::Create {
            return Ok(None);
        }
        Ok(natural(conn)?.map(Duplicate::Existing))
    }

    /// Applies the policy, writes (`save` creates when given `None`, else updates), and
    /// remembers the row's keys.
    fn settle(
        &mut self,
        conn: &Connection,
        row: &RowView<'_>,
        keys: Vec<String>,
        existing: Option<Duplicate>,
        save: impl FnOnce(&Connection, &Job, Option<&str>) -> AppResult<String>,
    ) -> AppResult<Outcome> {
        let outcome = match (existing, self.policy) {
            (Some(Duplicate::Pending), OnDuplicate::Skip) => {
                return Ok(Outcome::Skipped { id: String::new() });
            }
            (Some(Duplicate::Pending), OnDuplicate::Update) => {
                return Ok(Outcome::Updated {
                    id: String::new(),
                    before: String::new(),
                });
            }
            (Some(Duplicate::Existing(id)), OnDuplicate::Skip) => Outcome::Skipped { id },
            (Some(Duplicate::Existing(id)), OnDuplicate::Update) => {
                let before = snapshot(conn, self.kind, &id)?;
                let id = save(conn, self, Some(&id))?;
                Outcome::Updated { id, before }
            }
            _ => {
                let id = save(conn, self, None)?;
                Outcome::Created { id }
            }
        };
        let id = match &outcome {
            Outcome::Created { id, .. } | Outcome::Updated { id, .. } | Outcome::Skipped { id } => {
                id.clone()
            }
        };
        if let Some(ext) = row.get(Field::ExternalId) {
            remember_external(conn, self.kind, ext, &id)?;
        }
        if self.dry_run {
            for key in keys {
                self.remember(key, id.clone());
            }
        }
        Ok(outcome)
    }

    /// A new record's history as the file has it (a team's history survives the move):
    /// created and last changed when the file says, else now, by the importing user. Times
    /// the file spells wrongly count as absent. The audit entry keeps the real time of the
    /// import.
    fn origin(&self, row: &RowView<'_>) -> Origin {
        let created = row.instant(Field::CreatedAt, &mut Vec::new());
        let updated = row.instant(Field::UpdatedAt, &mut Vec::new());
        Origin {
            updated_at: updated.or_else(|| created.clone()),
            created_at: created,
            created_by: self.actor.user_id.clone(),
        }
    }

    /// The owner or assignee column as an input value: the user it names, or an error.
    fn owner(
        &mut self,
        conn: &Connection,
        row: &RowView<'_>,
        errors: &mut Vec<CellError>,
    ) -> AppResult<Option<Option<String>>> {
        let Some(raw) = row.get(Field::Owner) else {
            return Ok(None);
        };
        Ok(match self.user(conn, raw)? {
            Some(id) => Some(Some(id)),
            None => {
                errors.push(row.error(Field::Owner, no_user(raw)));
                None
            }
        })
    }

    /// An active user by e-mail address or id.
    fn user(&mut self, conn: &Connection, raw: &str) -> AppResult<Option<String>> {
        if let Some(found) = self.users.get(raw) {
            return Ok(found.clone());
        }
        let found: Option<String> = conn
            .prepare_cached(
                "SELECT id FROM users WHERE (email = ?1 COLLATE NOCASE OR id = ?1) AND active = 1",
            )?
            .query_row([raw.trim()], |r| r.get(0))
            .optional()?;
        self.users.insert(raw.to_owned(), found.clone());
        Ok(found)
    }

    /// A live record of `kind` by its Rapport id or its id in the source system (one
    /// lookup for the second when the value cannot be the first).
    fn link(&self, conn: &Connection, kind: Kind, raw: &str) -> AppResult<Link> {
        if crate::domain::could_be_id(raw) && records::is_live(conn, kind, raw)? {
            return Ok(Link::Found(raw.to_owned()));
        }
        let known: Option<String> = conn
            .prepare_cached(&format!(
                "SELECT k.id FROM import_keys k JOIN {} t ON t.id = k.id
                  WHERE k.kind = ?1 AND k.external_id = ?2 AND t.deleted_at IS NULL",
                kind.table()
            ))?
            .query_row(params![kind.name(), raw], |r| r.get(0))
            .optional()?;
        if let Some(id) = known {
            return Ok(Link::Found(id));
        }
        if self.dry_run && kind == self.kind && self.pending.contains_key(&format!("ext:{raw}")) {
            return Ok(Link::Pending);
        }
        Ok(Link::Missing)
    }

    /// The customer the row's customer column names, if it has one.
    fn customer_link(
        &self,
        conn: &Connection,
        row: &RowView<'_>,
        errors: &mut Vec<CellError>,
    ) -> AppResult<Option<Link>> {
        let Some(raw) = row.get(Field::Customer) else {
            return Ok(None);
        };
        let link = self.link(conn, Kind::Customer, raw)?;
        if matches!(link, Link::Missing) {
            // A company column can still find it by domain or name.
            if row.get(Field::CompanyDomain).is_some() || row.get(Field::CompanyName).is_some() {
                return Ok(None);
            }
            errors.push(row.error(Field::Customer, missing(Kind::Customer, raw)));
        }
        Ok(Some(link))
    }

    /// A live customer with the row's company domain, else with its company name.
    fn existing_company(&self, conn: &Connection, row: &RowView<'_>) -> AppResult<Option<String>> {
        if let Some(d) = values::domain("company_domain", row.get(Field::CompanyDomain))
            .ok()
            .flatten()
            && let Some(id) = customers::find_by_domain(conn, &d)?
        {
            return Ok(Some(id));
        }
        match row.get(Field::CompanyName) {
            Some(name) => customers::find_by_name(conn, name),
            None => Ok(None),
        }
    }

    /// A contact's company: an existing customer with its domain or name, or a new one to
    /// create for it, already checked as [`customers::create`] checks it (its problems are
    /// the row's, named by the company columns).
    fn company_for_contact(
        &mut self,
        conn: &Connection,
        row: &RowView<'_>,
        errors: &mut Vec<CellError>,
    ) -> AppResult<Company> {
        if row.get(Field::CompanyName).is_none() && row.get(Field::CompanyDomain).is_none() {
            return Ok(Company::Known(None));
        }
        if let Some(id) = self.existing_company(conn, row)? {
            return Ok(Company::Known(Some(Some(id))));
        }
        let domain = match values::domain("company_domain", row.get(Field::CompanyDomain)) {
            Ok(d) => d,
            Err(e) => {
                errors.push(row.error(Field::CompanyDomain, e.message));
                return Ok(Company::Known(None));
            }
        };
        let key = match &domain {
            Some(d) => format!("domain:{d}"),
            None => format!(
                "name:{}",
                row.get(Field::CompanyName).unwrap_or("").to_lowercase()
            ),
        };
        if self.dry_run && self.pending.contains_key(&key) {
            return Ok(Company::Known(Some(None)));
        }
        let name = row
            .get(Field::CompanyName)
            .map(str::to_owned)
            .or_else(|| domain.clone());
        let input = CustomerInput {
            name: Some(name),
            domain: Some(domain),
            ..CustomerInput::default()
        };
        match customers::check(conn, &self.actor, &input) {
            Ok(()) => Ok(Company::New(NewCompany { key, input })),
            Err(AppError::Validation(list)) => {
                for e in list {
                    let field = if e.field == "domain" {
                        Field::CompanyDomain
                    } else {
                        Field::CompanyName
                    };
                    errors.push(row.error(field, e.message));
                }
                Ok(Company::Known(None))
            }
            Err(e) => Err(e),
        }
    }

    /// Creates a contact's company (listed in `linked`) and answers its id.
    fn create_company(&mut self, conn: &Connection, company: NewCompany) -> AppResult<String> {
        let id = customers::create(conn, &self.actor, &company.input)?
            .meta
            .id;
        if self.dry_run {
            self.remember(company.key, id.clone());
        }
        self.linked.push(id.clone());
        Ok(id)
    }
}

/// The company a contact row names.
enum Company {
    /// The contact's `customer_id` as an input value: `None` when the row names no company
    /// (or one with problems), `Some(None)` when an earlier row of this dry run creates it.
    Known(Option<Option<String>>),
    /// Not there yet: created once the rest of the row has passed its checks.
    New(NewCompany),
}

struct NewCompany {
    /// Its natural key, remembered by a dry run.
    key: String,
    input: CustomerInput,
}

enum Duplicate {
    Existing(String),
    /// An earlier row of this dry run.
    Pending,
}

/// The file's columns and the field each fills.
struct Layout {
    headers: Vec<String>,
    mapping: Mapping,
}

/// A row's cells as fields.
struct RowView<'a> {
    cells: &'a [String],
    layout: &'a Layout,
}

impl RowView<'_> {
    /// The trimmed cell of `field`; `None` when unmapped or blank. A leading `'` that
    /// Rapport's export (or a spreadsheet) put before a formula character is dropped.
    fn get(&self, field: Field) -> Option<&str> {
        let i = self.layout.mapping.column(field)?;
        let raw = self.cells[i].trim();
        let raw = match raw.strip_prefix('\'') {
            Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => rest,
            _ => raw,
        };
        (!raw.is_empty()).then_some(raw)
    }

    /// A cell as an input value: absent when unmapped or blank (so updates keep what is
    /// there), else the text.
    fn opt(&self, field: Field) -> Option<Option<String>> {
        self.get(field).map(|s| Some(s.to_owned()))
    }

    fn error(&self, field: Field, message: impl Into<String>) -> CellError {
        CellError {
            field: self.column_name(field),
            message: message.into(),
        }
    }

    fn column_name(&self, field: Field) -> String {
        self.layout
            .mapping
            .column(field)
            .map(|i| self.layout.headers[i].clone())
            .unwrap_or_else(|| field.name())
    }

    /// The address: the address column, or its parts joined.
    fn address(&self) -> Option<Option<String>> {
        if let Some(a) = self.get(Field::Address) {
            return Some(Some(a.to_owned()));
        }
        let street = self.get(Field::Street);
        let locality = [Field::City, Field::Region, Field::PostalCode]
            .into_iter()
            .filter_map(|f| self.get(f))
            .collect::<Vec<_>>()
            .join(" ");
        let parts: Vec<&str> = [street, Some(locality.as_str()), self.get(Field::Country)]
            .into_iter()
            .flatten()
            .filter(|s| !s.is_empty())
            .collect();
        (!parts.is_empty()).then(|| Some(parts.join("\n")))
    }

    /// A point in time from the common spreadsheet forms: RFC 3339, `YYYY-MM-DD HH:MM[:SS]`
    /// or a bare date (UTC).
    fn instant(&self, field: Field, errors: &mut Vec<CellError>) -> Option<String> {
        let raw = self.get(field)?;
        match parse_instant(raw) {
            Some(t) => Some(t),
            None => {
                errors.push(self.error(field, "must be a date and time like 2026-12-31T09:00:00Z"));
                None
            }
        }
    }

    /// A calendar date; a time part is ignored.
    fn date(&self, field: Field, errors: &mut Vec<CellError>) -> Option<Option<String>> {
        let raw = self.get(field)?;
        let day = raw.get(..10).unwrap_or(raw);
        match values::date("date", Some(day)) {
            Ok(d) => Some(d),
            Err(_) => {
                errors.push(self.error(field, "must be a date like 2026-12-31"));
                None
            }
        }
    }

    /// The API's validation errors, named by the columns that fed each field.
    fn describe(&self, kind: Kind, error: AppError) -> Vec<CellError> {
        match error {
            AppError::Validation(list) => list
                .into_iter()
                .map(|e| CellError {
                    field: self.column_for(kind, &e.field),
                    message: e.message,
                })
                .collect(),
            AppError::Forbidden(message) | AppError::Conflict(message) => vec![CellError {
                field: "row".into(),
                message,
            }],
            AppError::NotFound => vec![CellError {
                field: "row".into(),
                message: "refers to a record that does not exist".into(),
            }],
            other => vec![CellError {
                field: "row".into(),
                message: other.detail(),
            }],
        }
    }

    /// The column behind an API field name (`owner_id` is the "Company Owner" column).
    fn column_for(&self, kind: Kind, api_field: &str) -> String {
        let candidates: &[Field] = match (kind, api_field) {
            (_, "owner_id" | "assigned_to") => &[Field::Owner],
            (Kind::Contact, "first_name") => &[Field::FirstName, Field::FullName],
            (Kind::Contact, "last_name") => &[Field::LastName, Field::FullName],
            (_, "customer_id") => &[Field::Customer, Field::CompanyDomain, Field::CompanyName],
            (_, "contact_id") => &[Field::Contact],
            (_, "lead_id") => &[Field::Lead],
            (_, "value_cents") => &[Field::ValueCents, Field::Amount],
            (Kind::Customer, "address") => &[Field::Address, Field::Street],
            (Kind::Activity, "body") => &[Field::Body, Field::Subject],
            (Kind::Activity, "subject_id") => &[Field::SubjectId],
            _ => &[],
        };
        candidates
            .iter()
            .copied()
            .chain(Field::parse(api_field))
            .find(|f| self.layout.mapping.column(*f).is_some())
            .map(|f| self.column_name(f))
            .unwrap_or_else(|| api_field.to_owned())
    }
}

fn remember_external(conn: &Connection, kind: Kind, ext: &str, id: &str) -> AppResult<()> {
    if id.is_empty() {
        return Ok(());
    }
    conn.prepare_cached(
        "INSERT INTO import_keys (kind, external_id, id) VALUES (?1, ?2, ?3)
         ON CONFLICT (kind, external_id) DO UPDATE SET id = excluded.id",
    )?
    .execute(params![kind.name(), ext, id])?;
    Ok(())
}

/// The row of a record as JSON (every column, and its tags), to put back if the job is
/// undone.
pub fn snapshot(conn: &Connection, kind: Kind, id: &str) -> AppResult<String> {
    let table = kind.table();
    let columns = table_columns(conn, table)?;
    let pairs = columns
        .iter()
        .map(|c| format!("'{c}', \"{c}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let tags = match kind {
        Kind::Customer | Kind::Contact => format!(
            ", '__tags', (SELECT json_group_array(tag) FROM {} WHERE {}_id = t.id)",
            tag_table(kind),
            kind.name()
        ),
        _ => String::new(),
    };
    Ok(conn.query_row(
        &format!("SELECT json_object({pairs}{tags}) FROM {table} t WHERE id = ?1"),
        [id],
        |r| r.get(0),
    )?)
}

/// Puts back a record as [`snapshot`] saw it, as a new version.
pub fn restore_snapshot(conn: &Connection, kind: Kind, id: &str, before: &str) -> AppResult<()> {
    let table = kind.table();
    let columns = table_columns(conn, table)?;
    let sets = columns
        .iter()
        .filter(|c| !matches!(c.as_str(), "id" | "version"))
        .map(|c| format!("\"{c}\" = json_extract(?2, '$.\"{c}\"')"))
        .collect::<Vec<_>>()
        .join(", ");
    conn.execute(
        &format!("UPDATE {table} SET {sets}, version = version + 1 WHERE id = ?1"),
        params![id, before],
    )?;
    if matches!(kind, Kind::Customer | Kind::Contact) {
        let tags: Vec<String> = conn
            .prepare("SELECT value FROM json_each(json_extract(?1, '$.__tags'))")?
            .query_map([before], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        crate::domain::records::set_tags(conn, kind, id, &tags)?;
    }
    Ok(())
}

fn tag_table(kind: Kind) -> &'static str {
    match kind {
        Kind::Customer => "customer_tags",
        _ => "contact_tags",
    }
}

fn table_columns(conn: &Connection, table: &str) -> AppResult<Vec<String>> {
    Ok(conn
        .prepare_cached(&format!("SELECT name FROM pragma_table_info('{table}')"))?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?)
}

fn missing(kind: Kind, raw: &str) -> String {
    format!(
        "no {} with the id or record id {raw} (import the {} first)",
        kind.name(),
        kind.table()
    )
}

fn no_user(raw: &str) -> String {
    format!("no active user with the e-mail address or id {raw} (create the user first)")
}

/// Tags as spreadsheets hold them: separated by `;` or `,`.
fn split_tags(raw: &str) -> Vec<String> {
    raw.split([';', ','])
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

/// "Ada King Lovelace" → ("Ada", "King Lovelace").
fn split_name(full: &str) -> (Option<String>, Option<String>) {
    let mut parts = full.trim().splitn(2, char::is_whitespace);
    let first = parts.next().map(str::to_owned).filter(|s| !s.is_empty());
    let last = parts
        .next()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty());
    (first, last)
}

/// A choice as people write it ("In Progress", "Closed Won") as a key (`in_progress`).
fn choice_key(raw: &str) -> String {
    raw.trim()
        .to_lowercase()
        .split(|c: char| c.is_whitespace() || c == '-')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join("_")
}

pub fn phone_digits(raw: &str) -> String {
    raw.chars().filter(char::is_ascii_digit).collect()
}

fn parse_whole(raw: &str) -> Option<i64> {
    let plain: String = raw
        .chars()
        .filter(|c| !matches!(c, ',' | '_' | ' '))
        .collect();
    plain.parse().ok()
}

/// `1,250.50`, `1250,50`, `$1 250` → cents. A separator followed by exactly two digits at
/// the end is the decimal one; other separators group thousands.
fn parse_amount(raw: &str) -> Option<i64> {
    let s: String = raw
        .trim()
        .trim_start_matches(|c: char| !c.is_ascii_digit() && c != '-')
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let (whole, cents) = match s.rfind(['.', ',']) {
        Some(i) if s.len() - i - 1 == 2 => (&s[..i], &s[i + 1..]),
        Some(i) if s.len() - i - 1 == 1 => (&s[..i], &s[i + 1..]),
        _ => (s.as_str(), "0"),
    };
    let whole: String = whole.chars().filter(char::is_ascii_digit).collect();
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let cents: i64 = format!("{cents:0<2}").parse().ok()?;
    whole.checked_mul(100)?.checked_add(cents)
}

/// A point in time from the forms spreadsheets use, as stored (UTC).
pub fn parse_instant(raw: &str) -> Option<String> {
    if let Some(t) = Timestamp::parse(raw) {
        return Some(t.to_stored());
    }
    let raw = raw.trim();
    let with_zone = match raw.len() {
        10 => format!("{raw}T00:00:00Z"),
        16 => format!("{}T{}:00Z", &raw[..10], &raw[11..]),
        19 => format!("{}T{}Z", &raw[..10], &raw[11..]),
        _ => return None,
    };
    Timestamp::parse(&with_zone).map(|t| t.to_stored())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_in_the_usual_spellings() {
        assert_eq!(parse_amount("1,250.50"), Some(125_050));
        assert_eq!(parse_amount("1250,5"), Some(125_050));
        assert_eq!(parse_amount("$1 250"), Some(125_000));
        assert_eq!(parse_amount("1.250.000"), Some(125_000_000));
        assert_eq!(parse_whole("11,115,000"), Some(11_115_000));
        assert_eq!(parse_whole("12.5"), None);
    }

    #[test]
    fn times_in_the_usual_spellings() {
        assert_eq!(
            parse_instant("2025-02-20T02:25:19Z").as_deref(),
            Some("2025-02-20T02:25:19.000Z")
        );
        assert_eq!(
            parse_instant("2025-02-20 02:25").as_deref(),
            Some("2025-02-20T02:25:00.000Z")
        );
        assert_eq!(
            parse_instant("2025-02-20").as_deref(),
            Some("2025-02-20T00:00:00.000Z")
        );
        assert_eq!(parse_instant("20/02/2025"), None);
    }

    #[test]
    fn choices_names_and_tags() {
        assert_eq!(choice_key(" In Progress "), "in_progress");
        assert_eq!(choice_key("Closed-Won"), "closed_won");
        assert_eq!(
            split_name("Ada King Lovelace"),
            (Some("Ada".into()), Some("King Lovelace".into()))
        );
        assert_eq!(split_name("Cher"), (Some("Cher".into()), None));
        assert_eq!(split_tags("vip; new-logo,,x"), ["vip", "new-logo", "x"]);
        assert_eq!(phone_digits("+1 (555) 010-0147"), "15550100147");
    }
}
