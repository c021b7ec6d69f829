//! `tessera user ...`: the user's life cycle on the configured store, through the same
//! operations as the admin API (`tessera::users`).

use std::io::{IsTerminal, Read};

use tessera::config::Settings;
use tessera::credentials::PasswordHasher;
use tessera::store::{Store, User};
use tessera::{open_store, users};

use super::UserCommand;

/// Runs `command`; every command that changes a user prints its `sub`.
///
/// # Errors
/// One line naming what failed (store, unknown user, password input).
pub async fn run(settings: &Settings, command: UserCommand) -> Result<(), String> {
    let store = open_store(settings, false)
        .await
        .map_err(|e| e.to_string())?;
    let user = match command {
        UserCommand::Add {
            username,
            email,
            password,
        } => {
            let password = read_password(password.password_stdin)?;
            let hasher = hasher(settings)?;
            users::add_user(&store, &hasher, &username, email, Some(&password)).await
        }
        UserCommand::Passwd { username, password } => {
            let password = read_password(password.password_stdin)?;
            let hasher = hasher(settings)?;
            users::change_password(&store, &hasher, &username, &password).await
        }
        UserCommand::Disable { username } => users::disable(&store, &username).await,
        UserCommand::Enable { username } => {
            let user = named(&store, &username).await?;
            users::update(&store, user, None, Some(false), "cli").await
        }
        UserCommand::List => return list(&store).await,
        UserCommand::Show { username } => {
            return print(&store, &named(&store, &username).await?).await
        }
        UserCommand::Remove { username } => {
            let user = named(&store, &username).await?;
            users::remove(&store, &user, "cli").await.map(|()| user)
        }
        UserCommand::ResetFactors { username } => {
            users::reset_factors(&store, named(&store, &username).await?, "cli").await
        }
        UserCommand::LogoutAll { username } => {
            let user = named(&store, &username).await?;
            users::logout_all(&store, &user.sub)
                .await
                .map_err(|e| e.to_string())?;
            Ok(user)
        }
    }
    .map_err(|e| e.to_string())?;
    println!("{}", user.sub);
    Ok(())
}

async fn named(store: &Store, username: &str) -> Result<User, String> {
    users::by_username(store, username)
        .await
        .map_err(|e| e.to_string())
}

fn hasher(settings: &Settings) -> Result<PasswordHasher, String> {
    PasswordHasher::new(
        settings.hashing.argon2,
        settings.hashing.concurrency,
        settings.hashing.queue_limit,
    )
    .map_err(|e| e.to_string())
}

/// The password: from standard input with `--password-stdin`, else typed twice at the terminal.
///
/// # Errors
/// Without `--password-stdin` a standard input that is not a terminal is refused (a pipe or a
/// file would otherwise be read without the operator asking for it); differing passwords.
fn read_password(from_stdin: bool) -> Result<String, String> {
    if from_stdin {
        let mut input = String::new();
        std::io::stdin()
            .read_to_string(&mut input)
            .map_err(|e| format!("reading the password: {e}"))?;
        return Ok(input.trim_end_matches(['\r', '\n']).to_owned());
    }
    if !std::io::stdin().is_terminal() {
        return Err(
            "standard input is not a terminal: pass --password-stdin to read the \
                    password from it (e.g. printf '%s' \"$PW\" | tessera user add alice \
                    --password-stdin)"
                .into(),
        );
    }
    let first = rpassword::prompt_password("Password: ").map_err(|e| e.to_string())?;
    let again = rpassword::prompt_password("Again: ").map_err(|e| e.to_string())?;
    if first != again {
        return Err("the passwords differ".into());
    }
    Ok(first)
}

/// Prints `user` as one JSON line ([`users::describe`]).
async fn print(store: &Store, user: &User) -> Result<(), String> {
    let view = users::describe(store, user)
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "{}",
        serde_json::to_string(&view).map_err(|e| e.to_string())?
    );
    Ok(())
}

/// `user list`: every user, a page at a time (no `KEYS`).
async fn list(store: &Store) -> Result<(), String> {
    let mut cursor = None;
    loop {
        let page = users::list(store, cursor.as_deref(), users::MAX_PAGE)
            .await
            .map_err(|e| e.to_string())?;
        for user in &page.users {
            print(store, user).await?;
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => return Ok(()),
        }
    }
}
