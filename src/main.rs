//! The `townhall` command: parses the command line and dispatches; nothing else lives here.

use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use townhall::accounts::{self, Email, Password, Role, Username};
use townhall::config::Config;

#[derive(Parser)]
#[command(name = "townhall", version, about = "A self-hosted company microblog and idea platform")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the site (the default when no command is given).
    Serve,
    /// Create or update the database schema, then exit.
    Migrate,
    /// Manage accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Look after the search index.
    #[command(subcommand)]
    Search(SearchCommand),
    /// Fill an empty database with a generated company (for trying Townhall at scale and for the
    /// load benchmark). Counts other than people scale with --people unless given.
    Seed {
        /// People in the company; communities are people/200, campaigns people/100.
        #[arg(long, default_value_t = 100_000)]
        people: u32,
        /// Posts and replies (default: ten per person).
        #[arg(long)]
        posts: Option<u32>,
        /// Ideas (default: one per person); votes are 16 and comments 4 per idea.
        #[arg(long)]
        ideas: Option<u32>,
        /// The same seed gives the same company.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Everyone's password (10 to 200 characters).
        #[arg(long, default_value = "townhall-seed")]
        password: String,
    },
}

#[derive(Subcommand)]
enum SearchCommand {
    /// Rebuild the search index from the database (resumes an interrupted rebuild).
    Reindex {
        /// Start over instead of resuming.
        #[arg(long)]
        restart: bool,
    },
    /// Show the search engine and the backlog of changes waiting to be indexed.
    Status,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create an account; the password is read from standard input (prompted on a terminal).
    Create {
        #[arg(long)]
        username: String,
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "member")]
        role: String,
        /// The name shown on posts; the username if not given.
        #[arg(long)]
        display_name: Option<String>,
    },
    /// Give an account one of the roles member, manager, moderator or admin.
    SetRole { username: String, role: String },
    /// Print a one-time link (24 hours) with which the person chooses a new password; using it signs
    /// out their other devices. Links use TOWNHALL_PUBLIC_URL, else the listening address.
    ResetPassword { username: String },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| match cli.command {
            // Bulk loading runs statements that take seconds by design.
            Some(Command::Seed { .. }) => "townhall=info,sqlx=error".into(),
            _ => "townhall=info,tower_http=warn,sqlx=warn".into(),
        }))
        .with_writer(std::io::stderr)
        // Colour codes only on a terminal: in a file or a log collector they are noise.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("townhall: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("townhall: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(run(cli.command.unwrap_or(Command::Serve), config));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("townhall: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, config: Config) -> Result<(), String> {
    match command {
        Command::Serve => townhall::serve(config).await.map_err(|e| e.to_string()),
        Command::Migrate => {
            townhall::open_database(&config).await.map_err(|e| e.to_string())?;
            println!("The database schema is up to date.");
            Ok(())
        }
        Command::User(UserCommand::Create { username, email, role, display_name }) => {
            let username = Username::parse(&username).map_err(|e| format!("--username: {e}"))?;
            let email = Email::parse(&email).map_err(|e| format!("--email: {e}"))?;
            let role = Role::parse(&role)
                .ok_or_else(|| format!("--role: `{role}` is not member, manager, moderator or admin"))?;
            let display_name =
                accounts::display_name(display_name.as_deref().unwrap_or(username.as_str()), "--display-name")?;
            let password = Password::parse(&read_password()?)?;
            let db = townhall::open_database(&config).await.map_err(|e| e.to_string())?;
            let hash = accounts::hash_password(password).await.map_err(|e| e.to_string())?;
            let account = accounts::store::NewAccount {
                username: username.as_str(),
                email: email.as_str(),
                display_name: &display_name,
                password_hash: &hash,
                department: "",
                role: Some(role),
                invitation: None,
            };
            let user =
                accounts::store::insert(&db, account).await.map_err(|e| match townhall::db::unique_violation(&e) {
                    Some(what) if what.contains("username") => "that username is taken".to_owned(),
                    Some(_) => "an account with that e-mail address exists already".to_owned(),
                    None => e.to_string(),
                })?;
            println!("Created @{} ({}) with the role {}.", user.username, user.email, user.role);
            Ok(())
        }
        Command::User(UserCommand::SetRole { username, role }) => {
            let role =
                Role::parse(&role).ok_or_else(|| format!("`{role}` is not member, manager, moderator or admin"))?;
            let db = townhall::open_database(&config).await.map_err(|e| e.to_string())?;
            let name = username.trim().to_lowercase();
            if !accounts::store::set_role(&mut &db, &name, role).await.map_err(|e| e.to_string())? {
                return Err(format!("no account is called @{name}"));
            }
            println!("@{name} is now {role}.");
            Ok(())
        }
        Command::User(UserCommand::ResetPassword { username }) => {
            let db = townhall::open_database(&config).await.map_err(|e| e.to_string())?;
            let name = username.trim().trim_start_matches('@').to_lowercase();
            let user = accounts::store::find_by_username(&mut &db, &name)
                .await
                .map_err(|e| e.to_string())?
                .filter(|u| u.deleted_at.is_none())
                .ok_or_else(|| format!("no account is called @{name}"))?;
            let token = accounts::password_links::issue(&db, user.id, accounts::password_links::Purpose::Reset, None)
                .await
                .map_err(|e| e.to_string())?;
            let origin = config.public_url.clone().unwrap_or_else(|| format!("http://{}", config.listen));
            println!(
                "Send this link to @{} ({}). It works once, for {} hours; earlier links stop working:",
                user.username,
                user.email,
                accounts::password_links::RESET_HOURS
            );
            println!("{}", accounts::password_links::link(&origin, &token));
            Ok(())
        }
        Command::Seed { people, posts, ideas, seed, password } => {
            let mut size = townhall::seed::Size::for_people(people);
            if let Some(posts) = posts {
                size.posts = posts;
            }
            if let Some(ideas) = ideas {
                size.idea_votes = ideas.saturating_mul(16);
                size.idea_comments = ideas.saturating_mul(4);
                size.ideas = ideas;
            }
            let password = Password::parse(&password).map_err(|e| format!("--password: {e}"))?;
            let db = townhall::open_database(&config).await.map_err(|e| e.to_string())?;
            let hash = accounts::hash_password(password).await.map_err(|e| e.to_string())?;
            let started = std::time::Instant::now();
            let written = townhall::seed::run(&db, &size, seed, &hash).await.map_err(|e| e.to_string())?;
            println!("Seeded the database in {:.0} s (seed {seed}):", started.elapsed().as_secs_f64());
            for (what, rows) in written.rows {
                println!("  {rows:>12}  {what}");
            }
            println!("Sign in as `admin` (or anyone) with the password given by --password.");
            Ok(())
        }
        Command::Search(command) => {
            let db = townhall::open_database(&config).await.map_err(|e| e.to_string())?;
            match command {
                SearchCommand::Reindex { restart } => {
                    townhall::search::maintenance::reindex(&config, &db, restart).await
                }
                SearchCommand::Status => {
                    print!("{}", townhall::search::maintenance::status(&config, &db).await?);
                    Ok(())
                }
            }
        }
    }
}

/// The password: typed without echo on a terminal, otherwise one line of standard input (scripts).
fn read_password() -> Result<String, String> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        return rpassword::prompt_password("Password (10-200 characters): ")
            .map_err(|e| format!("cannot read the password: {e}"));
    }
    let mut line = String::new();
    stdin.lock().read_line(&mut line).map_err(|e| format!("cannot read the password: {e}"))?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}
