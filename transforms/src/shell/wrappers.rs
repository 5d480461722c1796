//! Programs that run another command given as their trailing arguments (`sudo apt-get …`),
//! so that transforms can look through them.

use super::word::is_assignment_word;
use super::ShellWord;

/// How to find the wrapped command in a wrapper's arguments.
struct Wrapper {
    name: &'static str,
    /// Short options whose value follows (attached, `-uroot`, or as the next word).
    short_values: &'static str,
    /// Long options whose value is the next word when not written `--name=value`.
    long_values: &'static [&'static str],
    /// Short options meaning no command is run (`command -v`, `sudo -l`).
    short_stops: &'static str,
    long_stops: &'static [&'static str],
    /// Accepts `NAME=value` words before the command.
    assignments: bool,
    /// Positional arguments before the command (`timeout DURATION`, `gosu USER`).
    positionals: usize,
}

const fn plain(name: &'static str) -> Wrapper {
    Wrapper {
        name,
        short_values: "",
        long_values: &[],
        short_stops: "",
        long_stops: &[],
        assignments: false,
        positionals: 0,
    }
}

const WRAPPERS: &[Wrapper] = &[
    Wrapper {
        short_values: "ugpCDrtUTR",
        long_values: &[
            "user",
            "group",
            "prompt",
            "close-from",
            "chdir",
            "role",
            "type",
            "other-user",
            "command-timeout",
            "chroot",
            "host",
        ],
        short_stops: "ehlvKV",
        long_stops: &[
            "edit",
            "help",
            "list",
            "validate",
            "remove-timestamp",
            "version",
        ],
        assignments: true,
        ..plain("sudo")
    },
    Wrapper {
        short_values: "uC",
        ..plain("doas")
    },
    Wrapper {
        short_values: "uC",
        long_values: &["unset", "chdir"],
        short_stops: "S",
        long_stops: &["split-string", "help", "version"],
        assignments: true,
        ..plain("env")
    },
    Wrapper {
        short_values: "n",
        long_values: &["adjustment"],
        ..plain("nice")
    },
    Wrapper {
        short_values: "cnp",
        long_values: &["class", "classdata", "pid"],
        ..plain("ionice")
    },
    Wrapper {
        short_values: "sk",
        long_values: &["signal", "kill-after"],
        positionals: 1,
        ..plain("timeout")
    },
    Wrapper {
        short_values: "fo",
        long_values: &["format", "output"],
        ..plain("time")
    },
    Wrapper {
        short_values: "adEILnPs",
        long_values: &[
            "arg-file",
            "delimiter",
            "max-lines",
            "max-args",
            "max-procs",
            "max-chars",
            "process-slot-var",
        ],
        long_stops: &["help", "version"],
        ..plain("xargs")
    },
    Wrapper {
        short_values: "a",
        ..plain("exec")
    },
    Wrapper {
        short_stops: "vV",
        ..plain("command")
    },
    Wrapper {
        short_values: "ioe",
        long_values: &["input", "output", "error"],
        ..plain("stdbuf")
    },
    Wrapper {
        long_values: &["userspec", "groups"],
        positionals: 1,
        ..plain("chroot")
    },
    Wrapper {
        positionals: 1,
        ..plain("gosu")
    },
    Wrapper {
        positionals: 1,
        ..plain("su-exec")
    },
    plain("nohup"),
    plain("builtin"),
    plain("eatmydata"),
    plain("chronic"),
    plain("busybox"),
];

/// Index of the first word of the command that actually runs, after any nesting of wrappers
/// (`sudo env X=1 nice apt-get …`). 0 when the command is not wrapped.
pub(crate) fn effective_start(words: &[ShellWord]) -> usize {
    let mut start = 0;
    while let Some(wrapped) = wrapped_command(words, start) {
        start = wrapped;
    }
    start
}

/// Where the command wrapped by `words[start]` begins, if that word is a wrapper running one.
fn wrapped_command(words: &[ShellWord], start: usize) -> Option<usize> {
    let name = words.get(start)?.literal.as_deref()?;
    let name = name.rsplit('/').next().unwrap_or(name);
    let wrapper = WRAPPERS.iter().find(|wrapper| wrapper.name == name)?;
    let mut next = start + 1;
    // Options; a non-static word ends them and is taken as the command.
    while let Some(text) = words.get(next).and_then(|word| word.literal.as_deref()) {
        if text == "--" {
            next += 1;
            break;
        }
        if let Some(long) = text.strip_prefix("--") {
            let (name, has_value) = long
                .split_once('=')
                .map_or((long, false), |(n, _)| (n, true));
            if wrapper.long_stops.contains(&name) {
                return None;
            }
            next += if !has_value && wrapper.long_values.contains(&name) {
                2
            } else {
                1
            };
        } else if let Some(cluster) = text.strip_prefix('-') {
            if cluster.is_empty() && wrapper.name != "env" {
                break;
            }
            next += 1;
            for (at, c) in cluster.char_indices() {
                if wrapper.short_stops.contains(c) {
                    return None;
                }
                if wrapper.short_values.contains(c) {
                    if at + c.len_utf8() == cluster.len() {
                        next += 1;
                    }
                    break;
                }
            }
        } else {
            break;
        }
    }
    if wrapper.assignments {
        // The raw text, so that `PATH=$PATH:/x` counts although it is not static.
        while words
            .get(next)
            .is_some_and(|word| is_assignment_word(&word.raw))
        {
            next += 1;
        }
    }
    next += wrapper.positionals;
    (next < words.len()).then_some(next)
}
