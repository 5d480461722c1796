//! Questions asked of a command's words: its name, flags, option values, subcommand.

use super::{Command, ShellWord};

/// A command's words seen as `name args…`: either as written ([`Command::view`]) or after
/// wrappers such as `sudo`/`env X=1` ([`Command::effective`]). Cheap to copy.
///
/// Flag and option queries follow getopt conventions on static words only: they stop at `--`,
/// read `-qy` as `-q -y` (up to the first non-letter, so `-j4` is `-j`), and read `--long=value`.
/// Which options take a value is tool-specific, so queries that need to know take a list.
/// For [`CommandView::positionals`] of a tool with no option that takes a value.
pub const NO_OPTIONS: &[&str] = &[];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandView<'a> {
    words: &'a [ShellWord],
}

impl<'a> CommandView<'a> {
    /// A command line given as words (an exec-form CMD's): the name first, then the arguments.
    pub fn of(words: &'a [ShellWord]) -> Self {
        CommandView { words }
    }

    /// The name first, then the arguments.
    pub fn words(self) -> &'a [ShellWord] {
        self.words
    }

    /// The program as written (`/usr/bin/apt-get`), when static.
    pub fn name(self) -> Option<&'a str> {
        self.words.first()?.literal.as_deref()
    }

    /// The program without its directory (`apt-get` for `/usr/bin/apt-get`).
    pub fn basename(self) -> Option<&'a str> {
        let name = self.name()?;
        // Asked of every command by every manager: a byte scan, not a reverse `str` searcher.
        Some(name.bytes().rposition(|b| b == b'/').map_or(name, |slash| &name[slash + 1..]))
    }

    /// True when the program's basename is `name`.
    pub fn is(self, name: &str) -> bool {
        self.basename() == Some(name)
    }

    pub fn args(self) -> &'a [ShellWord] {
        self.words.get(1..).unwrap_or(&[])
    }

    /// The command that starts `skip` words later, seen the same way: `pip install x` for
    /// `python -m pip install x` with `skip = 2`. Empty when there are not that many words.
    pub fn after(self, skip: usize) -> CommandView<'a> {
        CommandView {
            words: self.words.get(skip..).unwrap_or(&[]),
        }
    }

    /// True when some argument's static value is exactly `value`.
    pub fn has_word(self, value: &str) -> bool {
        self.args().iter().any(|arg| arg.is(value))
    }

    /// True when `-s` (also inside a cluster like `-qsy`) or `--long`/`--long=…` appears before `--`.
    pub fn has_flag(self, short: Option<char>, long: Option<&str>) -> bool {
        self.options().any(|option| match option {
            OptionWord::Long(name) => Some(name) == long,
            OptionWord::Short(cluster) => {
                short.is_some_and(|s| short_flags(cluster).any(|c| c == s))
            }
        })
    }

    /// The value of an option that takes one: `--long=v`, `--long v`, `-s v`, `-sv` or `-qs v`.
    /// `None` when absent or when the value is not static.
    pub fn option_value(self, short: Option<char>, long: Option<&str>) -> Option<&'a str> {
        let args = self.args();
        for (index, arg) in args.iter().enumerate() {
            let Some(text) = arg.literal.as_deref() else {
                continue;
            };
            if text == "--" {
                break;
            }
            let next = || args.get(index + 1).and_then(|next| next.literal.as_deref());
            if let Some(rest) = text.strip_prefix("--") {
                match rest.split_once('=') {
                    Some((name, value)) if Some(name) == long => return Some(value),
                    None if Some(rest) == long => return next(),
                    _ => {}
                }
            } else if let (Some(cluster), Some(short)) = (text.strip_prefix('-'), short) {
                for (at, c) in cluster.char_indices() {
                    if c == short {
                        let attached = &cluster[at + c.len_utf8()..];
                        return if attached.is_empty() {
                            next()
                        } else {
                            Some(attached)
                        };
                    }
                    if !c.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
        }
        None
    }

    /// Arguments that are not options, in order. `value_options` lists options whose value
    /// is the next word (`["-o", "--option"]`), so that value is not taken for a positional.
    /// Non-static words count as positionals.
    pub fn positionals<'q, S: AsRef<str>>(
        self,
        value_options: &'q [S],
    ) -> impl Iterator<Item = &'a ShellWord> + 'q
    where
        'a: 'q,
    {
        let mut options_ended = false;
        let mut skip_next = false;
        self.args().iter().filter(move |arg| {
            if skip_next {
                skip_next = false;
                return false;
            }
            let Some(text) = arg.literal.as_deref() else {
                return true;
            };
            if options_ended || text == "-" || !text.starts_with('-') {
                return true;
            }
            if text == "--" {
                options_ended = true;
            } else if text.starts_with("--") {
                skip_next = !text.contains('=') && value_options.iter().any(|o| o.as_ref() == text);
            } else {
                skip_next = takes_next_word(text, value_options);
            }
            false
        })
    }

    /// The first positional argument: `install` in `apt-get -y install curl`.
    /// Use [`CommandView::positionals`] when options before it take values (`apt-get -o X=1 install`).
    pub fn subcommand(self) -> Option<&'a str> {
        self.positionals(NO_OPTIONS).next()?.literal.as_deref()
    }

    /// For `sh -c '…'`, `bash -eux -c "…"` and other POSIX shells, the script word.
    /// Its content is not parsed here; call [`super::parse_script`] on its literal if needed.
    pub fn inline_script(self) -> Option<&'a ShellWord> {
        const SHELLS: &[&str] = &["sh", "bash", "dash", "ash", "zsh", "ksh", "mksh"];
        if !SHELLS.iter().any(|shell| self.is(shell)) {
            return None;
        }
        let mut has_c = false;
        let mut args = self.args().iter();
        while let Some(arg) = args.next() {
            let Some(text) = arg.literal.as_deref() else {
                return has_c.then_some(arg);
            };
            match text {
                "--" => return if has_c { args.next() } else { None },
                "-o" | "+o" | "--rcfile" | "--init-file" => {
                    args.next();
                }
                _ if text.starts_with("--") => {}
                _ if text.len() > 1 && (text.starts_with('-') || text.starts_with('+')) => {
                    has_c |= text.starts_with('-') && text.contains('c');
                    // `-euxo pipefail`: the option name follows a cluster ending in `o`.
                    if text.ends_with('o') {
                        args.next();
                    }
                }
                _ => return has_c.then_some(arg),
            }
        }
        None
    }

    fn options(self) -> impl Iterator<Item = OptionWord<'a>> {
        self.args()
            .iter()
            .map_while(|arg| match arg.literal.as_deref() {
                Some("--") => None,
                other => Some(other),
            })
            .filter_map(|text| {
                let text = text?;
                if let Some(long) = text.strip_prefix("--") {
                    Some(OptionWord::Long(
                        long.split_once('=').map_or(long, |(name, _)| name),
                    ))
                } else {
                    text.strip_prefix('-')
                        .filter(|cluster| !cluster.is_empty())
                        .map(OptionWord::Short)
                }
            })
    }
}

/// One option word: the name of `--name[=value]`, or a short cluster without its dash.
enum OptionWord<'a> {
    Long(&'a str),
    Short(&'a str),
}

/// The letters of a short cluster, up to the first non-letter (the rest is a value: `-j4`).
fn short_flags(cluster: &str) -> impl Iterator<Item = char> + '_ {
    cluster.chars().take_while(char::is_ascii_alphabetic)
}

/// Whether a short option word `-abc` ends with an option from `value_options` whose value
/// is the next word (rather than attached, as in `-ofile`).
fn takes_next_word<S: AsRef<str>>(text: &str, value_options: &[S]) -> bool {
    let cluster = &text[1..];
    for (at, c) in cluster.char_indices() {
        let takes_value = value_options.iter().any(|option| {
            option
                .as_ref()
                .strip_prefix('-')
                .is_some_and(|o| !o.starts_with('-') && o.chars().eq([c]))
        });
        if takes_value {
            return at + c.len_utf8() == cluster.len();
        }
    }
    false
}

impl Command {
    /// Runs whenever the script gets this far and succeeds: a top-level command that nothing
    /// tests, negates, loops over or defers to a function or substitution.
    pub fn unconditional(&self) -> bool {
        self.step.is_some() && !self.in_condition && !self.negated && !self.in_function && !self.in_substitution && !self.in_loop
    }

    /// The words as written: `sudo` for `sudo apt-get install x`.
    pub fn view(&self) -> CommandView<'_> {
        CommandView { words: &self.words }
    }

    /// The words after wrappers that run another command (`sudo`, `env X=1`, `nice`,
    /// `timeout 10`, `xargs`, `exec`, `command`, `gosu user`, …): `apt-get install x`
    /// for `sudo -E apt-get install x`. The command itself when it is not wrapped, or when
    /// the wrapper is not running a command (`command -v x`, `sudo -l`). For `xargs`, the
    /// arguments read from stdin are of course missing.
    pub fn effective(&self) -> CommandView<'_> {
        CommandView {
            words: self.words.get(self.effective_start..).unwrap_or(&[]),
        }
    }

    /// The program as written, when static: `apt-get`, `/usr/bin/apt-get`, `sudo`.
    pub fn name(&self) -> Option<&str> {
        self.view().name()
    }

    /// The program without its directory: `apt-get` for `/usr/bin/apt-get`.
    pub fn basename(&self) -> Option<&str> {
        self.view().basename()
    }

    pub fn args(&self) -> &[ShellWord] {
        self.view().args()
    }

    /// See [`CommandView::has_word`]; this and the following look at the words as written.
    pub fn has_word(&self, value: &str) -> bool {
        self.view().has_word(value)
    }

    pub fn has_flag(&self, short: Option<char>, long: Option<&str>) -> bool {
        self.view().has_flag(short, long)
    }

    pub fn option_value(&self, short: Option<char>, long: Option<&str>) -> Option<&str> {
        self.view().option_value(short, long)
    }

    pub fn subcommand(&self) -> Option<&str> {
        self.view().subcommand()
    }
}
