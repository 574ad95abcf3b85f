//! Static assets embedded in the binary. URLs carry a content hash (`?v=`), so a versioned
//! URL can be cached forever and a new binary's assets are fetched at once. In debug builds
//! rust-embed reads `assets/` from disk, so edits show up without a rebuild.

use std::collections::HashMap;
use std::sync::OnceLock;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "assets/"]
struct Assets;

/// Short content hashes of every asset, computed once.
fn hashes() -> &'static HashMap<String, String> {
    static HASHES: OnceLock<HashMap<String, String>> = OnceLock::new();
    HASHES.get_or_init(|| {
        Assets::iter()
            .filter_map(|name| {
                let file = Assets::get(&name)?;
                Some((
                    name.to_string(),
                    hex::encode(&file.metadata.sha256_hash()[..8]),
                ))
            })
            .collect()
    })
}

/// The cache-busting URL of an asset, e.g. `/assets/app.css?v=1a2b3c4d5e6f7a8b`.
pub fn url(name: &str) -> String {
    match hashes().get(name) {
        Some(hash) => format!("/assets/{name}?v={hash}"),
        None => format!("/assets/{name}"),
    }
}

#[derive(serde::Deserialize)]
pub struct Version {
    v: Option<String>,
}

pub async fn serve(
    req: HttpRequest,
    path: web::Path<String>,
    query: web::Query<Version>,
) -> HttpResponse {
    let name = path.into_inner();
    let Some(file) = Assets::get(&name) else {
        return HttpResponse::NotFound()
            .content_type("text/plain; charset=utf-8")
            .body("No such asset.");
    };
    let hash = hex::encode(&file.metadata.sha256_hash()[..8]);
    let etag = format!("\"{hash}\"");
    let cache = if query.v.as_deref() == Some(hash.as_str()) {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let fresh = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    if fresh {
        return HttpResponse::NotModified()
            .insert_header((header::ETAG, etag))
            .insert_header((header::CACHE_CONTROL, cache))
            .finish();
    }
    let mut content_type = file.metadata.mimetype().to_owned();
    if content_type.starts_with("text/") || content_type.ends_with("javascript") {
        content_type.push_str("; charset=utf-8");
    }
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, content_type))
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, cache))
        .body(file.data.into_owned())
}
