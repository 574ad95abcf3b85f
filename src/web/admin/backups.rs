//! `/admin/backups`: the scheduled snapshots and how the schedule is doing — what
//! `GET /api/v1/admin/backups` answers — and a button to `GET /api/v1/admin/backup`, which
//! makes and streams a fresh snapshot (it accepts the browser's session cookie).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, web};
use maud::{Markup, html};

use crate::auth::permissions::Capability;
use crate::db::backups::{self, Overview};
use crate::domain::clock::{Timestamp, Zone};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::attachments::size;
use crate::web::components::moment;
use crate::web::session::Viewer;

use super::{WebResult, require, shell};

const PATH: &str = "/admin/backups";
/// The existing streaming route; a link is all a browser needs.
const DOWNLOAD: &str = "/api/v1/admin/backup";

pub async fn show(req: HttpRequest, state: web::Data<AppState>, viewer: Viewer) -> WebResult {
    require(&viewer, Capability::DownloadBackup)?;
    let schedule = state.config.backups.clone();
    let status = state.backup_status.clone();
    let overview = web::block(move || backups::overview(schedule.as_ref(), &status))
        .await
        .map_err(AppError::internal)?;
    let now = Timestamp::now().unix();
    let body = html! {
        section.card.download {
            h2 { "A fresh snapshot" }
            p { "A consistent copy of the whole database, attachments included, checked before it is sent. "
                "Making it takes a moment on a large database; the server keeps working meanwhile." }
            a.button.primary href=(DOWNLOAD) download { "Download a fresh snapshot" }
        }
        @if overview.scheduled {
            (schedule_card(&overview, now, &viewer.zone))
        } @else {
            section.card {
                h2 { "Scheduled snapshots are off" }
                p { "This server was started without " code { "--backup-dir" } ", so it takes no snapshots by itself. "
                    "Start it with a folder to keep them in, for example:" }
                pre { code { "rapport serve --backup-dir /var/backups/rapport" } }
                p.muted { "Or set " code { "RAPPORT_BACKUP_DIR" } ". "
                    code { "--backup-interval" } " (default 6h) sets how often, "
                    code { "--backup-keep" } " (default 14) how many are kept." }
            }
        }
    };
    Ok(shell(&req, &viewer, StatusCode::OK, PATH, "Backups", body))
}

fn schedule_card(o: &Overview, now: i64, zone: &Zone) -> Markup {
    html! {
        section.card.schedule {
            h2 { "Scheduled snapshots" }
            @if let Some(failure) = &o.last_error {
                div.alert role="alert" {
                    strong { "The last attempt failed" } " (" (moment(&failure.at, zone)) "): " (failure.message)
                }
            }
            dl.facts {
                dt { "Last backup" }
                dd {
                    @match (&o.last_success_at, o.last_success_size, o.last_success_age_seconds) {
                        (Some(at), Some(bytes), Some(age)) => {
                            strong { (ago(age)) } ", " (size(bytes as i64)) " · " (moment(at, zone))
                        },
                        _ => span.muted { "None yet" },
                    }
                }
                dt { "Last failure" }
                dd { @if o.last_error.is_some() { "See above" } @else { span.muted { "None" } } }
                @if let Some(dir) = &o.directory { dt { "Folder" } dd { code { (dir) } } }
                @if let Some(secs) = o.interval_seconds {
                    dt { "Every" } dd { (humantime::format_duration(std::time::Duration::from_secs(secs))) }
                }
                @if let Some(keep) = o.keep { dt { "Keeps" } dd { "the newest " (keep) } }
            }
            @if o.snapshots.is_empty() {
                p.empty { "No snapshot in the folder yet." }
            } @else {
                table.list.snapshots {
                    thead { tr { th scope="col" { "Snapshot" } th scope="col" { "Size" } th scope="col" { "Taken" } } }
                    tbody {
                        @for s in &o.snapshots {
                            tr {
                                td data-label="Snapshot" { code { (s.name) } }
                                td.num data-label="Size" { (size(s.size as i64)) }
                                td data-label="Taken" {
                                    (moment(&s.created_at, zone))
                                    @if let Some(at) = Timestamp::parse(&s.created_at) {
                                        span.muted { " · " (ago(now - at.unix())) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// An age in words: `just now`, `12 min ago`, `5 h ago`, `3 days ago`.
fn ago(seconds: i64) -> String {
    match seconds.max(0) {
        s if s < 60 => "just now".to_owned(),
        s if s < 3600 => format!("{} min ago", s / 60),
        s if s < 2 * 86_400 => format!("{} h ago", s / 3600),
        s => format!("{} days ago", s / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_in_words() {
        assert_eq!(ago(-5), "just now");
        assert_eq!(ago(59), "just now");
        assert_eq!(ago(60), "1 min ago");
        assert_eq!(ago(3599), "59 min ago");
        assert_eq!(ago(3600), "1 h ago");
        assert_eq!(ago(47 * 3600), "47 h ago");
        assert_eq!(ago(2 * 86_400), "2 days ago");
    }
}
