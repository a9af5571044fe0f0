//! Telnet logins: whether the service gives a shell without asking, and whether a
//! factory-default pair logs in. Option negotiation is refused (every DO answered WONT, every
//! WILL answered DONT), which a server must accept (RFC 854); each pair is one paced
//! connection.

use std::net::SocketAddr;

use serde::Serialize;

use crate::conn::{Conn, Limits, quiet};
use crate::http::Credential;

const IAC: u8 = 0xff;
const DONT: u8 = 0xfe;
const DO: u8 = 0xfd;
const WONT: u8 = 0xfc;
const WILL: u8 = 0xfb;
const SB: u8 = 0xfa;
const SE: u8 = 0xf0;

/// The text of `bytes` with telnet commands taken out, and our refusals of the options the
/// server asked about. A command cut off at the end is left in `rest` for the next bytes.
pub fn negotiate(bytes: &[u8]) -> (Vec<u8>, Vec<u8>, usize) {
    let mut text = Vec::new();
    let mut replies = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != IAC {
            text.push(bytes[i]);
            i += 1;
            continue;
        }
        match bytes.get(i + 1) {
            None => break,
            Some(&IAC) => {
                text.push(IAC);
                i += 2;
            }
            Some(&verb @ (DO | DONT | WILL | WONT)) => {
                let Some(&option) = bytes.get(i + 2) else {
                    break;
                };
                match verb {
                    DO => replies.extend_from_slice(&[IAC, WONT, option]),
                    WILL => replies.extend_from_slice(&[IAC, DONT, option]),
                    _ => {}
                }
                i += 3;
            }
            Some(&SB) => match bytes[i..].windows(2).position(|w| w == [IAC, SE]) {
                Some(end) => i += end + 2,
                None => break,
            },
            Some(_) => i += 2,
        }
    }
    (text, replies, i)
}

/// What a prompt or answer says, read from the end of the text so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prompt {
    Login,
    Password,
    /// A login was refused.
    Refused,
    /// A shell prompt: logged in.
    Shell,
}

/// The prompt `text` ends with, if any.
pub fn prompt(text: &[u8]) -> Option<Prompt> {
    let text = String::from_utf8_lossy(text).to_ascii_lowercase();
    let tail = text.trim_end();
    let last_line = tail.rsplit(['\n', '\r']).next().unwrap_or_default();
    if ["incorrect", "failed", "denied", "invalid", "bad password"]
        .iter()
        .any(|w| tail.rsplit('\n').take(3).any(|l| l.contains(w)))
        && !last_line.ends_with("password:")
    {
        return Some(Prompt::Refused);
    }
    if last_line.ends_with("password:") {
        Some(Prompt::Password)
    } else if last_line.ends_with("login:") || last_line.ends_with("username:") {
        Some(Prompt::Login)
    } else if ["#", "$", ">"].iter().any(|p| last_line.ends_with(p)) && !last_line.is_empty() {
        Some(Prompt::Shell)
    } else {
        None
    }
}

/// How one attempt went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Attempt {
    LoggedIn,
    ShellWithoutLogin,
    Refused,
    NoLoginPrompt,
}

/// What the telnet service's login allowed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TelnetLogin {
    /// It gave a shell without asking for any credentials.
    pub shell_without_login: bool,
    /// It asked for a user name.
    pub asks_for_login: bool,
    pub tried: usize,
    /// The user whose default password logged in (the password is never reported).
    pub opened_by: Option<String>,
}

/// Tries `credentials` one connection each, until one logs in.
pub fn logins(
    addr: SocketAddr,
    credentials: &[Credential],
    limits: &Limits,
) -> std::io::Result<TelnetLogin> {
    let mut report = TelnetLogin::default();
    for c in credentials {
        if limits.time_is_up() {
            break;
        }
        match attempt(addr, c, limits)? {
            Attempt::ShellWithoutLogin => {
                report.shell_without_login = true;
                break;
            }
            Attempt::NoLoginPrompt => break,
            Attempt::LoggedIn => {
                report.asks_for_login = true;
                report.tried += 1;
                report.opened_by = Some(c.user.clone());
                break;
            }
            Attempt::Refused => {
                report.asks_for_login = true;
                report.tried += 1;
            }
        }
    }
    Ok(report)
}

fn attempt(addr: SocketAddr, c: &Credential, limits: &Limits) -> std::io::Result<Attempt> {
    let mut conn = Conn::open(addr, limits)?;
    let mut pending = Vec::new();
    let mut text = Vec::new();
    let mut sent_user = false;
    let mut sent_password = false;
    loop {
        let more = match conn.read_some() {
            Ok(Some(more)) => more,
            Ok(None) => return Ok(Attempt::Refused),
            Err(e) if quiet(&e) => {
                return Ok(if sent_user {
                    Attempt::Refused
                } else {
                    Attempt::NoLoginPrompt
                });
            }
            Err(e) => return Err(e),
        };
        pending.extend_from_slice(&more);
        let (plain, replies, used) = negotiate(&pending);
        pending.drain(..used);
        if !replies.is_empty() {
            conn.send(&replies)?;
        }
        text.extend_from_slice(&plain);
        match prompt(&text) {
            Some(Prompt::Login) if !sent_user => {
                conn.send(format!("{}\r\n", c.user).as_bytes())?;
                sent_user = true;
                text.clear();
            }
            Some(Prompt::Password) if sent_user && !sent_password => {
                conn.send(format!("{}\r\n", c.password).as_bytes())?;
                sent_password = true;
                text.clear();
            }
            Some(Prompt::Refused) | Some(Prompt::Login) if sent_password => {
                return Ok(Attempt::Refused);
            }
            Some(Prompt::Shell) if sent_password => return Ok(Attempt::LoggedIn),
            Some(Prompt::Shell) if !sent_user => return Ok(Attempt::ShellWithoutLogin),
            _ => {}
        }
    }
}

/// For the fuzz target: any bytes through the negotiation and prompt readers.
pub fn fuzz_stream(bytes: &[u8]) {
    let (text, _, _) = negotiate(bytes);
    let _ = prompt(&text);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_are_refused_and_prompts_read() {
        let (text, replies, used) =
            negotiate(b"\xff\xfd\x18\xff\xfb\x01\xff\xfa\x18\x01\xff\xf0login: \xff");
        assert_eq!(text, b"login: ");
        assert_eq!(replies, [IAC, WONT, 0x18, IAC, DONT, 0x01]);
        assert_eq!(used, 19, "the lone IAC at the end waits for more");
        assert_eq!(
            prompt(b"Debian GNU/Linux 12\r\ncamera login: "),
            Some(Prompt::Login)
        );
        assert_eq!(prompt(b"Password: "), Some(Prompt::Password));
        assert_eq!(
            prompt(b"\r\nLogin incorrect\r\ncamera login: "),
            Some(Prompt::Refused)
        );
        assert_eq!(prompt(b"\r\n~ # "), Some(Prompt::Shell));
        assert_eq!(prompt(b"Welcome"), None);
    }
}
