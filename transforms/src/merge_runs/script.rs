//! What merging needs to know about one RUN's script, and how the script must be wrapped for its
//! place in the merged chain.

use crate::model::{Model, RunShell, Shell};
use crate::shell::{ItemKind, Op, Script, StateKind};
use crate::syntax::Instruction;

/// Programs that start a daemon, or leave a process behind: separate RUNs kill it when they end,
/// a merged RUN lets it run on into the next command.
const DAEMONS: &[&str] = &[
    "service", "systemctl", "rc-service", "openrc", "nohup", "setsid", "start-stop-daemon", "daemonize",
    "pg_ctl", "pg_ctlcluster", "mysqld_safe", "mysqld", "mongod", "redis-server", "supervisord",
    "dockerd", "containerd", "Xvfb", "nginx", "apachectl", "apache2ctl", "httpd", "sshd", "php-fpm",
    "rabbitmq-server", "memcached", "cron", "crond", "postgres",
];

/// How a script sits in the merged chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Wrap {
    None,
    /// `( … )`: its state (`cd`, `export`, `set`, …) stays inside.
    Subshell,
    /// `{ …; }`: one command for `&&`, so `a; b` or `a || b` keep their meaning.
    Braces,
}

/// What follows the last top-level step of a script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tail {
    Nothing,
    Semicolon,
    /// `&`, a comment or something the model does not place.
    Other,
}

/// The facts about one shell-form RUN that decide whether and how it can be chained.
pub(super) struct Facts<'a> {
    pub index: usize,
    pub inst: &'a Instruction,
    pub script: &'a Script,
    /// One and-or list without `||` and without `&`: `prev && this` runs it exactly when `prev` succeeded.
    single_list: bool,
    tail: Tail,
    has_comment: bool,
    background: bool,
    /// Leaves state (working directory, variables, options, …) for the rest of the shell.
    pub has_state: bool,
    /// What the state is, for messages: `cd`, `export`, …
    pub state_names: Vec<&'static str>,
    has_trap: bool,
    /// Variables it sets or changes: read after a `( … )` they trip ShellCheck's SC2031.
    pub variables: Vec<String>,
    /// Assigns variables at its top level: after `&&` ShellCheck takes them for maybe unset
    /// (SC2086 on their unquoted use) unless the script is grouped.
    assigns: bool,
    /// Runs `set -e` (or `set` with arguments we cannot read).
    sets_errexit: bool,
    /// Something whose failure `set -e` would make fatal without deciding the script's status:
    /// several steps, a compound command, a function.
    errexit_sensitive: bool,
    compound_in_last_step: bool,
    /// Why a later command would see a process this script leaves running.
    pub daemon: Option<String>,
}

impl<'a> Facts<'a> {
    pub fn new(index: usize, inst: &'a Instruction, shell: &'a RunShell) -> Facts<'a> {
        let script = &shell.script;
        let steps = script.top_level();
        let single_list = steps.len() == 1
            && !steps[0].background
            && steps[0].items.iter().all(|item| item.op_before != Some(Op::Or));
        let tail = match steps.last() {
            Some(step) => match script.source().get(step.range.end..).map(str::trim) {
                Some("") => Tail::Nothing,
                Some(";") => Tail::Semicolon,
                _ => Tail::Other,
            },
            None => Tail::Other,
        };
        let changes = script.state_changes();
        let mut state_names: Vec<&'static str> = changes.iter().map(|c| state_name(&c.kind)).collect();
        state_names.dedup();
        // Any `set` counts, nested ones too: `(set -e; a; b)` stops at `a` only while untested.
        let sets_errexit = script.commands().iter().filter(|c| c.effective().is("set") || c.name() == Some("set")).any(|command| {
            let args = command.args();
            args.iter().enumerate().any(|(at, arg)| match arg.literal.as_deref() {
                None => true,
                Some(text) if text.starts_with("--") => false,
                Some(text) if text.starts_with('-') && text[1..].contains('e') => true,
                Some("-o") => args.get(at + 1).is_none_or(|next| next.literal.as_deref().is_none_or(|v| v == "errexit")),
                _ => false,
            })
        });
        let has_compound = |items: &[crate::shell::ChainItem]| items.iter().any(|item| item.kind == ItemKind::Compound);
        let errexit_sensitive = steps.len() > 1
            || steps.iter().any(|step| has_compound(&step.items))
            || changes.iter().any(|c| c.kind == StateKind::FunctionDef);
        let compound_in_last_step = steps.last().is_some_and(|step| has_compound(&step.items));
        Facts {
            index,
            inst,
            script,
            single_list,
            tail,
            has_comment: !script.comments().is_empty(),
            background: steps.iter().any(|step| step.background),
            has_state: !changes.is_empty(),
            state_names,
            has_trap: changes.iter().any(|c| c.kind == StateKind::Trap),
            variables: variables(script),
            assigns: changes.iter().any(|c| matches!(c.kind, StateKind::BareAssignment | StateKind::Export | StateKind::Declare)),
            sets_errexit,
            errexit_sensitive,
            compound_in_last_step,
            daemon: daemon(script),
        }
    }

    pub fn source(&self) -> &str {
        self.script.source()
    }

    /// How this script must be wrapped at its place in the chain, or why it cannot take that place.
    /// `errexit_shell`: the stage's SHELL runs with `-e`.
    pub fn place(&self, first: bool, last: bool, errexit_shell: bool) -> Result<Place, String> {
        if self.script.has_errors() {
            return Err("the shell parser could not read its script completely".into());
        }
        if self.script.top_level().is_empty() {
            return Err("its script has no command".into());
        }
        if self.script.has_heredoc() {
            return Err("its script has a heredoc".into());
        }
        if self.background {
            return Err("it sends a command to the background with `&`".into());
        }
        if !last && self.has_comment {
            return Err("its script ends with a shell comment: BuildKit joins the lines, so the comment would swallow the `&&` that follows".into());
        }
        if !last && self.tail == Tail::Other {
            return Err("its script does not end with a command".into());
        }
        let wrap = if !last && self.has_state {
            Wrap::Subshell
        } else if (!first && (!self.single_list || self.assigns)) || (!last && self.tail == Tail::Semicolon) {
            Wrap::Braces
        } else {
            Wrap::None
        };
        if wrap != Wrap::None && self.has_comment {
            return Err("its script ends with a shell comment, which would swallow the closing of the group it needs".into());
        }
        if !last && (errexit_shell || self.sets_errexit) {
            let sensitive = if wrap == Wrap::None { self.compound_in_last_step } else { self.errexit_sensitive };
            if sensitive {
                return Err("it relies on `set -e`, which does not apply inside a command that `&&` tests: merged, a failing command would no longer stop the build".into());
            }
        }
        let mut unsafe_reasons = Vec::new();
        if !last {
            if let Some(daemon) = &self.daemon {
                unsafe_reasons.push(daemon.clone());
            }
            if wrap == Wrap::Subshell && self.has_trap {
                unsafe_reasons.push("its `trap` would fire when the subshell ends rather than when the RUN ends".into());
            }
        }
        Ok(Place { wrap, unsafe_reasons })
    }

    /// Text that opens the wrap before the script.
    pub fn open(&self, wrap: Wrap) -> &'static str {
        match wrap {
            Wrap::None => "",
            // `((` would start an arithmetic command.
            Wrap::Subshell if self.source().starts_with('(') => "( ",
            Wrap::Subshell => "(",
            Wrap::Braces => "{ ",
        }
    }

    /// Text that closes the wrap after the script.
    pub fn close(&self, wrap: Wrap) -> &'static str {
        match wrap {
            Wrap::None => "",
            Wrap::Subshell => ")",
            Wrap::Braces if self.tail == Tail::Semicolon => " }",
            Wrap::Braces => "; }",
        }
    }

    /// True when the script reads `$name` or `${name…}`.
    pub fn reads_variable(&self, name: &str) -> bool {
        let text = self.source();
        let mut from = 0;
        while let Some(at) = text[from..].find('$') {
            let rest = &text[from + at + 1..];
            let rest = rest.strip_prefix('{').unwrap_or(rest);
            if rest.starts_with(name) && !rest[name.len()..].starts_with(|c: char| c == '_' || c.is_ascii_alphanumeric()) {
                return true;
            }
            from += at + 1;
        }
        false
    }
}

/// Where a script goes in the chain: its wrap, and what could make the merge change the image.
#[derive(Debug, Clone)]
pub(super) struct Place {
    pub wrap: Wrap,
    pub unsafe_reasons: Vec<String>,
}

fn state_name(kind: &StateKind) -> &'static str {
    match kind {
        StateKind::Cd => "cd",
        StateKind::PushdPopd => "pushd",
        StateKind::Export => "export",
        StateKind::Declare => "declare",
        StateKind::Unset => "unset",
        StateKind::BareAssignment => "a variable",
        StateKind::LoopVariable => "a loop variable",
        StateKind::Set => "set",
        StateKind::Shopt => "shopt",
        StateKind::Umask => "umask",
        StateKind::Ulimit => "ulimit",
        StateKind::Alias => "alias",
        StateKind::Trap => "trap",
        StateKind::Source => "source",
        StateKind::Exec => "exec",
        StateKind::Exit => "exit",
        StateKind::Eval => "eval",
        StateKind::FunctionDef => "a function",
        StateKind::Other(_) => "a shell builtin",
    }
}

/// Names of the variables the script's top level sets, exports or unsets.
fn variables(script: &Script) -> Vec<String> {
    let mut names = Vec::new();
    for change in script.state_changes() {
        let command = change.command.and_then(|i| script.commands().get(i));
        match (&change.kind, command) {
            (StateKind::LoopVariable, _) => {
                let text = script.text(&change.range);
                if let Some(rest) = text.strip_prefix("for") {
                    names.extend(identifier(rest.trim_start()).map(str::to_string));
                }
            }
            (
                StateKind::Export | StateKind::Declare | StateKind::Unset | StateKind::BareAssignment | StateKind::Other(_),
                Some(command),
            ) => {
                let words = command.assignments.iter().chain(command.words.iter().skip(1));
                for word in words {
                    if !word.raw.starts_with('-') {
                        names.extend(identifier(&word.raw).map(str::to_string));
                    }
                }
            }
            _ => {}
        }
    }
    names.sort();
    names.dedup();
    names
}

/// The shell identifier at the start of `text`, when it is one on its own or before `=`/`+=`.
fn identifier(text: &str) -> Option<&str> {
    let end = text.find(|c: char| !(c == '_' || c.is_ascii_alphanumeric())).unwrap_or(text.len());
    let name = &text[..end];
    let valid = !name.is_empty() && !name.starts_with(|c: char| c.is_ascii_digit());
    let rest = &text[end..];
    (valid && (rest.is_empty() || rest.starts_with('=') || rest.starts_with("+=") || rest.starts_with(char::is_whitespace) || rest.starts_with(';')))
        .then_some(name)
}

/// Why the script may leave a process running, if it may.
fn daemon(script: &Script) -> Option<String> {
    for command in script.commands() {
        let view = command.effective();
        let Some(name) = view.name() else { continue };
        let base = view.basename().unwrap_or(name);
        if DAEMONS.contains(&base) || name.starts_with("/etc/init.d/") || name.starts_with("/etc/rc.d/") {
            return Some(format!("`{base}` may leave a process running: separate RUNs stop it at the end of the RUN, merged it keeps running into the next command"));
        }
    }
    lone_ampersand(script.source())
        .then(|| "an `&` may start a background process: separate RUNs stop it at the end of the RUN, merged it keeps running into the next command".to_string())
}

/// An `&` that is not part of `&&`, `&>`, `>&`, `<&` or `|&`, outside quotes (a double-quoted
/// string with a command substitution inside counts as unquoted: when unsure, say so).
fn lone_ampersand(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut at = 0;
    while at < bytes.len() {
        match bytes[at] {
            b'\\' => at += 1,
            b'\'' => match bytes[at + 1..].iter().position(|&b| b == b'\'') {
                Some(len) => at += len + 1,
                None => return bytes[at..].contains(&b'&'),
            },
            b'"' => {
                let len = quoted_len(&bytes[at + 1..]);
                let inner = &bytes[at + 1..(at + 1 + len).min(bytes.len())];
                let substitutes = inner.windows(2).any(|w| w == b"$(") || inner.contains(&b'`');
                if substitutes && (0..inner.len()).any(|i| is_lone_ampersand(inner, i)) {
                    return true;
                }
                at += len + 1;
            }
            b'&' if is_lone_ampersand(bytes, at) => return true,
            _ => {}
        }
        at += 1;
    }
    false
}

fn is_lone_ampersand(bytes: &[u8], at: usize) -> bool {
    bytes[at] == b'&'
        && !matches!(at.checked_sub(1).map(|i| bytes[i]), Some(b'&' | b'>' | b'<' | b'|'))
        && !matches!(bytes.get(at + 1), Some(b'&' | b'>'))
}

/// Length of a double-quoted string's content up to its closing quote (escapes skipped).
fn quoted_len(bytes: &[u8]) -> usize {
    let mut at = 0;
    while at < bytes.len() {
        match bytes[at] {
            b'\\' => at += 2,
            b'"' => return at,
            _ => at += 1,
        }
    }
    bytes.len()
}

/// Whether the SHELL in effect at instruction `index` runs with `-e` (`-e`, `-eux`, `-o errexit`),
/// or an ENV sets SHELLOPTS.
pub(super) fn shell_errexit(model: &Model, index: usize) -> bool {
    // bash reads its options from SHELLOPTS too.
    if model.binding("SHELLOPTS", index).is_some() {
        return true;
    }
    let Shell::Set(args) = model.shell(index) else { return false };
    let mut words = args.iter().skip(1);
    while let Some(word) = words.next() {
        match word.as_str() {
            "-c" => break,
            "-o" if words.next().is_some_and(|w| w == "errexit") => return true,
            w if w.starts_with('-') && !w.starts_with("--") && w[1..].contains('e') => return true,
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lone_ampersands() {
        assert!(lone_ampersand("a & b"));
        assert!(lone_ampersand("a &"));
        assert!(!lone_ampersand("a && b"));
        assert!(!lone_ampersand("a >/dev/null 2>&1"));
        assert!(!lone_ampersand("a &>/dev/null"));
        assert!(!lone_ampersand("a |& b"));
        assert!(!lone_ampersand("curl 'https://x/?a=1&b=2'"));
        assert!(!lone_ampersand("curl \"https://x/?a=1&b=2\" && b"));
        assert!(lone_ampersand("echo \"$(sleep 1 &)\""));
        assert!(lone_ampersand("echo 'a' & b"));
        assert!(lone_ampersand("echo \\' & b"));
    }

    #[test]
    fn identifiers() {
        assert_eq!(identifier("FOO=1"), Some("FOO"));
        assert_eq!(identifier("FOO"), Some("FOO"));
        assert_eq!(identifier("x in a b"), Some("x"));
        assert_eq!(identifier("1A=2"), None);
        assert_eq!(identifier("$X"), None);
    }
}
