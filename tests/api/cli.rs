use crate::helpers::{PASSWORD, spawn_app};

#[actix_web::test]
async fn user_create_from_stdin_or_generated() {
    let app = spawn_app().await;
    let out = app.cli(
        &[
            "user",
            "create",
            "--email",
            "boss@example.com",
            "--name",
            "The Boss",
            "--role",
            "manager",
            "--password-stdin",
        ],
        Some(&format!("{PASSWORD}\n")),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    app.login("boss@example.com", PASSWORD).await;

    let out = app.cli(
        &[
            "user",
            "create",
            "--email",
            "gen@example.com",
            "--name",
            "Gen",
            "--role",
            "support",
        ],
        None,
    );
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    let password = stdout
        .lines()
        .find_map(|l| l.strip_prefix("Password (shown once): "))
        .unwrap();
    app.login("gen@example.com", password.trim()).await;

    // Invalid input is explained, and nothing is written.
    let out = app.cli(
        &[
            "user", "create", "--email", "nope", "--name", " ", "--role", "sales",
        ],
        None,
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("email") && stderr.contains("name"),
        "{stderr}"
    );
    let out = app.cli(
        &[
            "user",
            "create",
            "--email",
            "x@example.com",
            "--name",
            "X",
            "--role",
            "root",
        ],
        None,
    );
    assert!(!out.status.success());
    let out = app.cli(
        &["user", "reset-password", "--email", "ghost@example.com"],
        None,
    );
    assert!(!out.status.success());
}

#[actix_web::test]
async fn check_migrate_and_backup_commands() {
    let app = spawn_app().await;
    app.bootstrap_admin().await;
    let out = app.cli(&["migrate"], None);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("schema version"));
    let out = app.cli(&["check"], None);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("integrity: ok"));

    let dest = app.db_path.with_file_name("copy.db");
    let dest = dest.to_str().unwrap();
    assert!(app.cli(&["backup", dest], None).status.success());
    let again = app.cli(&["backup", dest], None);
    assert!(!again.status.success(), "refuses to overwrite");
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
    assert!(app.cli(&["backup", dest, "--force"], None).status.success());

    let missing = app.db_path.with_file_name("missing.db");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rapport"))
        .args(["check", "--db", missing.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(!missing.exists(), "check never creates a database");
}

#[actix_web::test]
async fn help_lists_every_command_and_env_var() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rapport"))
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    for word in [
        "serve",
        "migrate",
        "user",
        "backup",
        "restore",
        "check",
        "RAPPORT_DB",
    ] {
        assert!(help.contains(word), "{word} in --help");
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rapport"))
        .args(["serve", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    for var in [
        "RAPPORT_BIND",
        "RAPPORT_BASE_URL",
        "RAPPORT_TOKEN_TTL",
        "RAPPORT_TRUSTED_PROXY",
        "RAPPORT_BCRYPT_COST",
        "RAPPORT_BACKUP_DIR",
        "RAPPORT_BACKUP_INTERVAL",
        "RAPPORT_BACKUP_KEEP",
    ] {
        assert!(help.contains(var), "{var} in serve --help");
    }
}

#[actix_web::test]
async fn a_short_secret_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rapport"))
        .args(["serve", "--bind", "127.0.0.1:0"])
        .env("RAPPORT_DB", dir.path().join("r.db"))
        .env("RAPPORT_SECRET", "too-short")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 32 bytes"));
}

#[actix_web::test]
async fn demo_fills_an_empty_crm_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    let run = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_rapport"))
            .args(["demo", "--customers", "20", "--seed", "3"])
            .env("RAPPORT_DB", &db)
            .env("RAPPORT_BCRYPT_COST", "4")
            .output()
            .unwrap()
    };
    let out = run();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.contains("20 customers") && stdout.contains("admin@demo.example"),
        "{stdout}"
    );
    let again = run();
    assert!(
        !again.status.success(),
        "demo data never mixes with existing records"
    );

    let conn = rusqlite::Connection::open(&db).unwrap();
    let leads: i64 = conn
        .query_row("SELECT count(*) FROM leads", [], |r| r.get(0))
        .unwrap();
    assert_eq!(leads, 100);
    let check = std::process::Command::new(env!("CARGO_BIN_EXE_rapport"))
        .arg("check")
        .env("RAPPORT_DB", &db)
        .output()
        .unwrap();
    assert!(check.status.success());

    // The demo users can sign in with the documented password.
    let mut config = rapport::config::ServeConfig::for_tests(db.clone());
    config.secret = Some(rapport::config::Secret::parse(crate::helpers::SECRET).unwrap());
    let running = rapport::app::start(config).await.unwrap();
    assert!(running.setup_link().is_none());
    let base = format!("http://{}", running.addr);
    actix_web::rt::spawn(running.server);
    let res = crate::helpers::client()
        .post(format!("{base}/api/v1/auth/login"))
        .json(&serde_json::json!({"email": "admin@demo.example", "password": rapport::demo::PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), reqwest::StatusCode::OK);
}
