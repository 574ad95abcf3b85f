use std::process::ExitCode;

use clap::Parser;
use rapport::cli::{self, Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    rapport::telemetry::init(&cli.log, cli.log_format);
    let result = match cli.command {
        Command::Serve(args) => {
            let demo = args.demo;
            match args.into_config(cli.db, cli.bcrypt_cost) {
                Ok(config) => seed_demo(demo, &config).and_then(|()| serve(config)),
                Err(e) => Err(e),
            }
        }
        Command::Migrate => cli::migrate(&cli.db).map(|()| ExitCode::SUCCESS),
        Command::User(command) => {
            cli::user(&cli.db, cli.bcrypt_cost, command).map(|()| ExitCode::SUCCESS)
        }
        Command::Backup { dest, force } => {
            cli::backup(&cli.db, &dest, force).map(|()| ExitCode::SUCCESS)
        }
        Command::Restore { src } => cli::restore(&cli.db, &src).map(|()| ExitCode::SUCCESS),
        Command::Check => cli::check(&cli.db),
        Command::Export(args) => cli::export(&cli.db, args),
        Command::Import(args) => cli::import(&cli.db, cli.bcrypt_cost, args),
        Command::Demo(args) => cli::demo(&cli.db, cli.bcrypt_cost, &args, false).map(|summary| {
            if let Some(s) = summary {
                println!("{s}");
            }
            ExitCode::SUCCESS
        }),
    };
    result.unwrap_or_else(|message| {
        eprintln!("rapport: {message}");
        ExitCode::FAILURE
    })
}

/// `serve --demo`: demo data first, on a database that has no users yet.
fn seed_demo(wanted: bool, config: &rapport::config::ServeConfig) -> Result<(), String> {
    if !wanted {
        return Ok(());
    }
    let args = cli::DemoArgs {
        customers: 200,
        seed: 42,
    };
    match cli::demo(&config.db, config.bcrypt_cost, &args, true)? {
        Some(summary) => println!("{summary}"),
        None => eprintln!("rapport: --demo ignored: the database already has users"),
    }
    Ok(())
}

fn serve(config: rapport::config::ServeConfig) -> Result<ExitCode, String> {
    actix_web::rt::System::new().block_on(async move {
        let running = rapport::app::start(config)
            .await
            .map_err(|e| e.to_string())?;
        println!("Rapport is listening on {}", running.base_url);
        if let Some(link) = running.setup_link() {
            println!();
            println!("No users yet. Open this link within 30 minutes to create the first admin:");
            println!();
            println!("    {link}");
            println!();
        }
        running.run().await.map_err(|e| e.to_string())?;
        Ok(ExitCode::SUCCESS)
    })
}
