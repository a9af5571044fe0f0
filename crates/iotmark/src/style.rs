//! Terminal styling that respects `NO_COLOR` and stays plain when output is not a terminal.

use std::io::IsTerminal;

#[derive(Debug, Clone, Copy)]
pub struct Style {
    color: bool,
}

impl Style {
    pub fn stdout() -> Self {
        Self {
            color: std::io::stdout().is_terminal() && no_color_unset(),
        }
    }

    /// Whether progress bars belong on stderr: a terminal, and colour not switched off
    /// (`NO_COLOR` users asked for plain output).
    pub fn progress_on_stderr() -> bool {
        std::io::stderr().is_terminal() && no_color_unset()
    }

    pub fn stderr() -> Self {
        Self {
            color: std::io::stderr().is_terminal() && no_color_unset(),
        }
    }

    /// Whether this stream gets colour.
    pub fn colour(self) -> bool {
        self.color
    }

    fn paint(self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    pub fn bold(self, text: &str) -> String {
        self.paint("1", text)
    }

    pub fn dim(self, text: &str) -> String {
        self.paint("2", text)
    }

    pub fn error(self, text: &str) -> String {
        self.paint("1;31", text)
    }

    pub fn warn(self, text: &str) -> String {
        self.paint("1;33", text)
    }

    pub fn good(self, text: &str) -> String {
        self.paint("32", text)
    }

    pub fn accent(self, text: &str) -> String {
        self.paint("36", text)
    }
}

fn no_color_unset() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}
