//! The role table of the API contract, in one place. Handlers and domain code ask it; they
//! never compare roles themselves.
//!
//! | | admin | manager | sales | support |
//! |---|---|---|---|---|
//! | read records | all | all | all | all, lead `value_cents` hidden |
//! | create | all | all | customers, contacts, leads, tasks, activities | contacts, tasks, activities |
//! | edit / delete (to trash) | all | all | what they own | contacts, tasks, activities they own |
//! | reassign, bulk edit, export, import | yes | yes | no | no |
//! | dashboard | team or one rep | team or one rep | own figures | own tasks, no money |
//! | users, stages, webhooks, audit, purge, backup | yes | no | no | no |
//!
//! Attachments follow the record they are attached to ([`may_attachment`]): read, list and
//! download with the record; upload with the right to edit it; delete (and restore) with
//! the right to edit it, or as the uploader who can still read it.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Manager,
    Sales,
    Support,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Admin, Role::Manager, Role::Sales, Role::Support];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Manager => "manager",
            Role::Sales => "sales",
            Role::Support => "support",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn names() -> Vec<&'static str> {
        Role::ALL.map(Role::as_str).to_vec()
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "Admin",
            Role::Manager => "Manager",
            Role::Sales => "Sales",
            Role::Support => "Support",
        }
    }
}

/// The kinds of CRM record the role table speaks about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Record {
    Customer,
    Contact,
    Lead,
    Task,
    Activity,
}

impl Record {
    pub const ALL: [Record; 5] = [
        Record::Customer,
        Record::Contact,
        Record::Lead,
        Record::Task,
        Record::Activity,
    ];
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordAction {
    Read,
    Create,
    Edit,
    /// Moving to the trash; purging is [`Capability::PurgeTrash`].
    Delete,
}

/// Whether the caller owns the record. "Own" is `owner_id` for customers and contacts,
/// `assigned_to` for leads, `assigned_to` or `created_by` for tasks, `created_by` for
/// activities and attachments; a record with no owner counts as its creator's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ownership {
    Own,
    Others,
}

impl Ownership {
    /// For records with one owner column: owned when the owner is the caller, or when
    /// nobody owns it and the caller created it.
    pub fn of(user_id: &str, owner: Option<&str>, created_by: Option<&str>) -> Ownership {
        let own = match owner {
            Some(owner) => owner == user_id,
            None => created_by == Some(user_id),
        };
        if own {
            Ownership::Own
        } else {
            Ownership::Others
        }
    }

    /// For tasks: the assignee and the creator both own it.
    pub fn of_task(
        user_id: &str,
        assigned_to: Option<&str>,
        created_by: Option<&str>,
    ) -> Ownership {
        if assigned_to == Some(user_id) || created_by == Some(user_id) {
            Ownership::Own
        } else {
            Ownership::Others
        }
    }
}

/// Actions that are not about one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capability {
    Reassign,
    BulkEdit,
    ExportCsv,
    ImportCsv,
    ManageUsers,
    ManageStages,
    ManageWebhooks,
    ViewAudit,
    PurgeTrash,
    DownloadBackup,
}

impl Capability {
    pub const ALL: [Capability; 10] = [
        Capability::Reassign,
        Capability::BulkEdit,
        Capability::ExportCsv,
        Capability::ImportCsv,
        Capability::ManageUsers,
        Capability::ManageStages,
        Capability::ManageWebhooks,
        Capability::ViewAudit,
        Capability::PurgeTrash,
        Capability::DownloadBackup,
    ];
}

/// Fields some roles may not see anywhere (API, search, exports, pages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    LeadValue,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DashboardScope {
    /// The whole team, or one rep of the caller's choosing.
    TeamOrRep,
    /// The caller's own figures.
    Own,
    /// The caller's own tasks, and no money figures.
    OwnTasksNoMoney,
}

/// May `role` do `action` on a `record` with the given ownership?
pub fn may(role: Role, action: RecordAction, record: Record, ownership: Ownership) -> bool {
    use Record::*;
    use RecordAction::*;
    match (role, action) {
        (_, Read) => true,
        (Role::Admin | Role::Manager, _) => true,
        (Role::Sales, Create) => true,
        (Role::Sales, Edit | Delete) => ownership == Ownership::Own,
        (Role::Support, Create) => matches!(record, Contact | Task | Activity),
        (Role::Support, Edit | Delete) => {
            matches!(record, Contact | Task | Activity) && ownership == Ownership::Own
        }
    }
}

/// What can be done with a file attached to a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttachmentAction {
    /// See it in the record's list, download it.
    Read,
    /// Attach a new file to the record.
    Upload,
    /// Move it to the trash, or restore it from there. Purging is
    /// [`Capability::PurgeTrash`].
    Delete,
}

impl AttachmentAction {
    pub const ALL: [AttachmentAction; 3] = [
        AttachmentAction::Read,
        AttachmentAction::Upload,
        AttachmentAction::Delete,
    ];
}

/// The records files can be attached to.
pub const ATTACHABLE: [Record; 4] = [
    Record::Customer,
    Record::Contact,
    Record::Lead,
    Record::Task,
];

/// May `role` do `action` with a file attached to a `parent` record? `parent_ownership` is
/// the caller's ownership of the record, `uploader` whether the caller uploaded the file
/// (for uploads: irrelevant). Attachments follow their record: whoever may read the record
/// reads its files; whoever may edit it uploads and deletes; and the uploader may delete
/// their own file as long as they can still read the record.
pub fn may_attachment(
    role: Role,
    action: AttachmentAction,
    parent: Record,
    parent_ownership: Ownership,
    uploader: Ownership,
) -> bool {
    let read = may(role, RecordAction::Read, parent, parent_ownership);
    let edit = may(role, RecordAction::Edit, parent, parent_ownership);
    match action {
        AttachmentAction::Read => read,
        AttachmentAction::Upload => edit,
        AttachmentAction::Delete => edit || (uploader == Ownership::Own && read),
    }
}

pub fn has(role: Role, capability: Capability) -> bool {
    use Capability::*;
    match capability {
        Reassign | BulkEdit | ExportCsv | ImportCsv => matches!(role, Role::Admin | Role::Manager),
        ManageUsers | ManageStages | ManageWebhooks | ViewAudit | PurgeTrash | DownloadBackup => {
            role == Role::Admin
        }
    }
}

pub fn sees(role: Role, field: Field) -> bool {
    match field {
        Field::LeadValue => role != Role::Support,
    }
}

pub fn dashboard_scope(role: Role) -> DashboardScope {
    match role {
        Role::Admin | Role::Manager => DashboardScope::TeamOrRep,
        Role::Sales => DashboardScope::Own,
        Role::Support => DashboardScope::OwnTasksNoMoney,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROLES: [Role; 4] = Role::ALL;

    fn cell(role: Role, action: RecordAction, record: Record, ownership: Ownership) -> char {
        if may(role, action, record, ownership) {
            'Y'
        } else {
            '-'
        }
    }

    /// Each string is one row of the contract's table: the four roles (admin, manager,
    /// sales, support), for a record the caller owns and one it does not ("own/other").
    #[test]
    fn record_table_matches_the_contract_cell_by_cell() {
        use Ownership::*;
        use Record::*;
        use RecordAction::*;
        let expected: &[(RecordAction, Record, &str)] = &[
            (Read, Customer, "YY YY YY YY"),
            (Read, Contact, "YY YY YY YY"),
            (Read, Lead, "YY YY YY YY"),
            (Read, Task, "YY YY YY YY"),
            (Read, Activity, "YY YY YY YY"),
            (Create, Customer, "YY YY YY --"),
            (Create, Contact, "YY YY YY YY"),
            (Create, Lead, "YY YY YY --"),
            (Create, Task, "YY YY YY YY"),
            (Create, Activity, "YY YY YY YY"),
            (Edit, Customer, "YY YY Y- --"),
            (Edit, Contact, "YY YY Y- Y-"),
            (Edit, Lead, "YY YY Y- --"),
            (Edit, Task, "YY YY Y- Y-"),
            (Edit, Activity, "YY YY Y- Y-"),
            (Delete, Customer, "YY YY Y- --"),
            (Delete, Contact, "YY YY Y- Y-"),
            (Delete, Lead, "YY YY Y- --"),
            (Delete, Task, "YY YY Y- Y-"),
            (Delete, Activity, "YY YY Y- Y-"),
        ];
        assert_eq!(expected.len(), 4 * Record::ALL.len());
        for (action, record, row) in expected {
            let got: Vec<String> = ROLES
                .iter()
                .map(|&role| {
                    [
                        cell(role, *action, *record, Own),
                        cell(role, *action, *record, Others),
                    ]
                    .iter()
                    .collect()
                })
                .collect();
            assert_eq!(got.join(" "), *row, "{action:?} {record:?}");
        }
    }

    /// Each string is one row: the four roles (admin, manager, sales, support), each with
    /// four cells: (record own, file own), (record own, file other's), (record other's, file
    /// own), (record other's, file other's).
    #[test]
    fn attachment_table_cell_by_cell() {
        use AttachmentAction::*;
        use Ownership::*;
        use Record::*;
        let expected: &[(AttachmentAction, Record, &str)] = &[
            (Read, Customer, "YYYY YYYY YYYY YYYY"),
            (Read, Contact, "YYYY YYYY YYYY YYYY"),
            (Read, Lead, "YYYY YYYY YYYY YYYY"),
            (Read, Task, "YYYY YYYY YYYY YYYY"),
            (Upload, Customer, "YYYY YYYY YY-- ----"),
            (Upload, Contact, "YYYY YYYY YY-- YY--"),
            (Upload, Lead, "YYYY YYYY YY-- ----"),
            (Upload, Task, "YYYY YYYY YY-- YY--"),
            (Delete, Customer, "YYYY YYYY YYY- Y-Y-"),
            (Delete, Contact, "YYYY YYYY YYY- YYY-"),
            (Delete, Lead, "YYYY YYYY YYY- Y-Y-"),
            (Delete, Task, "YYYY YYYY YYY- YYY-"),
        ];
        assert_eq!(
            expected.len(),
            AttachmentAction::ALL.len() * ATTACHABLE.len()
        );
        for (action, record, row) in expected {
            let got: Vec<String> = ROLES
                .iter()
                .map(|&role| {
                    [(Own, Own), (Own, Others), (Others, Own), (Others, Others)]
                        .iter()
                        .map(|&(parent, file)| {
                            if may_attachment(role, *action, *record, parent, file) {
                                'Y'
                            } else {
                                '-'
                            }
                        })
                        .collect()
                })
                .collect();
            assert_eq!(got.join(" "), *row, "{action:?} {record:?}");
        }
    }

    #[test]
    fn capabilities_match_the_contract() {
        use Capability::*;
        // admin, manager, sales, support
        let expected: &[(Capability, &str)] = &[
            (Reassign, "YY--"),
            (BulkEdit, "YY--"),
            (ExportCsv, "YY--"),
            (ImportCsv, "YY--"),
            (ManageUsers, "Y---"),
            (ManageStages, "Y---"),
            (ManageWebhooks, "Y---"),
            (ViewAudit, "Y---"),
            (PurgeTrash, "Y---"),
            (DownloadBackup, "Y---"),
        ];
        assert_eq!(expected.len(), Capability::ALL.len());
        for (cap, row) in expected {
            let got: String = ROLES
                .iter()
                .map(|&r| if has(r, *cap) { 'Y' } else { '-' })
                .collect();
            assert_eq!(got, *row, "{cap:?}");
        }
    }

    #[test]
    fn only_support_loses_lead_value() {
        assert!(sees(Role::Admin, Field::LeadValue));
        assert!(sees(Role::Manager, Field::LeadValue));
        assert!(sees(Role::Sales, Field::LeadValue));
        assert!(!sees(Role::Support, Field::LeadValue));
    }

    #[test]
    fn dashboard_scopes() {
        assert_eq!(dashboard_scope(Role::Admin), DashboardScope::TeamOrRep);
        assert_eq!(dashboard_scope(Role::Manager), DashboardScope::TeamOrRep);
        assert_eq!(dashboard_scope(Role::Sales), DashboardScope::Own);
        assert_eq!(
            dashboard_scope(Role::Support),
            DashboardScope::OwnTasksNoMoney
        );
    }

    #[test]
    fn ownership_rules() {
        assert_eq!(Ownership::of("u1", Some("u1"), Some("u2")), Ownership::Own);
        assert_eq!(
            Ownership::of("u1", Some("u2"), Some("u1")),
            Ownership::Others
        );
        assert_eq!(
            Ownership::of("u1", None, Some("u1")),
            Ownership::Own,
            "unowned counts as the creator's"
        );
        assert_eq!(Ownership::of("u1", None, Some("u2")), Ownership::Others);
        assert_eq!(
            Ownership::of_task("u1", Some("u2"), Some("u1")),
            Ownership::Own
        );
        assert_eq!(
            Ownership::of_task("u1", Some("u1"), Some("u2")),
            Ownership::Own
        );
        assert_eq!(
            Ownership::of_task("u1", Some("u2"), Some("u3")),
            Ownership::Others
        );
    }

    #[test]
    fn roles_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("root"), None);
        assert_eq!(Role::parse("Admin"), None);
    }
}
