//! The OpenAPI 3.1 description served at `/api/openapi.json`. Written next to the route table
//! and checked against it by the integration tests, so the two cannot drift apart.

use serde_json::{Value, json};

fn problem_ref() -> Value {
    json!({ "$ref": "#/components/responses/Problem" })
}

/// An operation with the usual error answers.
fn op(summary: &str, tag: &str, auth: bool, ok: (&str, Value), errors: &[u16]) -> Value {
    let mut responses = serde_json::Map::new();
    responses.insert(ok.0.to_owned(), ok.1);
    for code in errors {
        responses.insert(code.to_string(), problem_ref());
    }
    if auth {
        responses.insert("401".into(), problem_ref());
    }
    let mut o = json!({ "summary": summary, "tags": [tag], "responses": responses });
    if !auth {
        o["security"] = json!([]);
    }
    o
}

fn with_body(mut operation: Value, schema: Value) -> Value {
    operation["requestBody"] = json!({
        "required": true,
        "content": { "application/json": { "schema": schema } }
    });
    operation
}

fn with_params(mut operation: Value, params: Value) -> Value {
    operation["parameters"] = params;
    operation
}

fn json_response(description: &str, schema: Value) -> Value {
    json!({ "description": description, "content": { "application/json": { "schema": schema } } })
}

fn schema(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn list_params(filters: &[(&str, &str)], sorts: &[&str]) -> Value {
    let mut params = vec![
        json!({"name": "q", "in": "query", "schema": {"type": "string"}, "description": "Free text"}),
        json!({"name": "sort", "in": "query", "schema": {"enum": sorts}}),
        json!({"name": "order", "in": "query", "schema": {"enum": ["asc", "desc"]}}),
        json!({"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}}),
        json!({"name": "cursor", "in": "query", "schema": {"type": "string"}, "description": "`next_cursor` of the previous page"}),
    ];
    for (name, description) in filters {
        params.push(json!({"name": name, "in": "query", "schema": {"type": "string"}, "description": description}));
    }
    Value::Array(params)
}

fn page_of(item: &str) -> Value {
    json!({
        "type": "object",
        "required": ["items", "next_cursor"],
        "properties": {
            "items": { "type": "array", "items": schema(item) },
            "next_cursor": { "type": ["string", "null"] }
        }
    })
}

pub fn document() -> Value {
    let id_param =
        json!([{ "name": "id", "in": "path", "required": true, "schema": {"type": "string"} }]);
    let etag_header = json!({ "ETag": { "schema": { "type": "string" }, "description": "The record's version" } });
    let mut user_ok = json_response("The user", schema("User"));
    user_ok["headers"] = etag_header;
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Rapport API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "JSON API of Rapport, a self-hosted CRM. Authenticate with `Authorization: Bearer <token>`, where the token is a JWT from `POST /api/v1/auth/login` or a personal API token (`rpt_…`). Browser sessions use an HttpOnly cookie instead and must send the page's CSRF token in `X-CSRF-Token` on unsafe methods. Errors are RFC 9457 problem+json. Lists are keyset-paginated: pass `next_cursor` back as `cursor`; unknown query parameters are a 422."
        },
        "servers": [{ "url": "/" }],
        "security": [{ "bearer": [] }],
        "paths": {
            "/healthz": { "get": op("Liveness: 200 when the database answers", "operations", false,
                ("200", json_response("Healthy", json!({"type":"object","properties":{"status":{"const":"ok"}}}))), &[503]) },
            "/api/openapi.json": { "get": op("This document", "operations", false,
                ("200", json!({"description": "OpenAPI 3.1"})), &[]) },
            "/api/v1/auth/login": { "post": with_body(
                op("Sign in; rate limited per client address and per account-and-address", "auth", false,
                    ("200", json_response("Signed in", schema("SignedIn"))), &[400, 415, 422, 429]),
                json!({"type":"object","required":["email","password"],"properties":{"email":{"type":"string"},"password":{"type":"string"}}})) },
            "/api/v1/auth/logout": { "post": op("End the session this token belongs to", "auth", true,
                ("204", json!({"description": "Signed out"})), &[400, 403]) },
            "/api/v1/auth/me": { "get": op("The signed-in user", "auth", true,
                ("200", json_response("You", schema("User"))), &[]) },
            "/api/v1/auth/password": { "post": with_body(
                op("Change your password. Ends all your sessions and returns a fresh one for this client.", "auth", true,
                    ("200", json_response("Changed", schema("SignedIn"))), &[400, 403, 415, 422]),
                json!({"type":"object","required":["current_password","new_password"],"properties":{"current_password":{"type":"string"},"new_password":{"type":"string","minLength":8,"maxLength":64,"description":"8–64 characters, at most 72 bytes"}}})) },
            "/api/v1/users": {
                "get": with_params(
                    op("List users (admin)", "users", true, ("200", json_response("A page of users", page_of("User"))), &[400, 403, 422]),
                    list_params(&[("role", "admin, manager, sales or support"), ("active", "true or false")], &["name", "email", "created_at"])),
                "post": with_body(
                    op("Create a user (admin). Without `password`, one is generated and returned once.", "users", true,
                        ("201", json_response("Created", schema("UserWithPassword"))), &[400, 403, 415, 422]),
                    json!({"type":"object","required":["email","name","role"],"additionalProperties":false,"properties":{"email":{"type":"string","format":"email"},"name":{"type":"string","maxLength":100},"role":schema("Role"),"password":{"type":"string"}}}))
            },
            "/api/v1/users/{id}": {
                "parameters": id_param,
                "get": op("One user (admin)", "users", true, ("200", user_ok.clone()), &[403, 404]),
                "patch": with_body(
                    op("Change a user's e-mail, name, role or active flag (admin). Deactivating ends their sessions and tokens. Send `If-Match` with the ETag to refuse stale edits (412). The last active admin cannot be demoted (409).", "users", true,
                        ("200", user_ok), &[400, 403, 404, 409, 412, 415, 422]),
                    json!({"type":"object","additionalProperties":false,"properties":{"email":{"type":"string"},"name":{"type":"string"},"role":schema("Role"),"active":{"type":"boolean"}}}))
            },
            "/api/v1/users/{id}/reset-password": {
                "parameters": id_param,
                "post": op("Set a generated password, returned once; ends the user's sessions (admin)", "users", true,
                    ("200", json_response("The new password", json!({"type":"object","properties":{"password":{"type":"string"}}}))), &[403, 404])
            },
            "/api/v1/tokens": {
                "get": op("Your personal API tokens", "tokens", true, ("200", json_response("Tokens", page_of("ApiToken"))), &[]),
                "post": with_body(
                    op("Create a personal API token; `secret` is shown only in this response", "tokens", true,
                        ("201", json_response("Created", schema("NewApiToken"))), &[400, 409, 415, 422]),
                    json!({"type":"object","required":["name"],"properties":{"name":{"type":"string","maxLength":100}}}))
            },
            "/api/v1/tokens/{id}": {
                "parameters": id_param,
                "delete": op("Revoke one of your tokens", "tokens", true, ("204", json!({"description": "Revoked"})), &[403, 404])
            }
        },
        "components": {
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer" } },
            "responses": {
                "Problem": { "description": "RFC 9457 problem", "content": { "application/problem+json": { "schema": schema("Problem") } } }
            },
            "schemas": {
                "Role": { "enum": ["admin", "manager", "sales", "support"] },
                "User": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "string"}, "email": {"type": "string"}, "name": {"type": "string"},
                        "role": schema("Role"), "active": {"type": "boolean"},
                        "last_login_at": {"type": ["string", "null"], "format": "date-time"},
                        "created_at": {"type": "string", "format": "date-time"},
                        "updated_at": {"type": "string", "format": "date-time"},
                        "created_by": {"type": ["string", "null"]}, "version": {"type": "integer"}
                    }
                },
                "UserWithPassword": { "allOf": [schema("User"), {"type":"object","properties":{"password":{"type":"string","description":"Only when generated"}}}] },
                "SignedIn": {
                    "type": "object",
                    "properties": { "token": {"type": "string"}, "expires_at": {"type": "string", "format": "date-time"}, "user": schema("User") }
                },
                "ApiToken": {
                    "type": "object",
                    "properties": { "id": {"type": "string"}, "name": {"type": "string"}, "created_at": {"type": "string"}, "last_used_at": {"type": ["string", "null"]} }
                },
                "NewApiToken": { "allOf": [schema("ApiToken"), {"type":"object","properties":{"secret":{"type":"string"}}}] },
                "Problem": {
                    "type": "object",
                    "required": ["type", "title", "status", "detail"],
                    "properties": {
                        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"}, "detail": {"type": "string"},
                        "errors": {"type": "array", "items": {"type": "object", "properties": {"field": {"type": "string"}, "message": {"type": "string"}}}}
                    }
                }
            }
        }
    })
}
