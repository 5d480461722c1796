//! EXPOSE ports written the way BuildKit records them: no host address or host port
//! (ExposeInvalidFormat), a lower-case protocol (ExposeProtoCasing). BuildKit already keeps only
//! the container port and lower-cases the protocol, so both rewrites leave the image as it is.

use crate::checks;
use crate::fix::{Edit, Finding, Fix};
use crate::model::Input;
use crate::syntax::{split_words, Keyword};

pub(super) fn check(input: &Input) -> Vec<Finding> {
    let file = input.file;
    let mut findings = Vec::new();
    for inst in file.instructions.iter().filter(|i| i.keyword == Keyword::Expose && i.sub.is_none()) {
        for word in split_words(inst.args_text(), file.escape) {
            let Some((host, container, proto)) = parse_port(&word.raw) else { continue };
            let logical = inst.args.start + word.range.start..inst.args.start + word.range.end;
            let contiguous = inst.logical.is_contiguous(logical.clone());
            let range = inst.logical.source_range(logical);
            let proto_part = proto.map(|p| format!("/{p}")).unwrap_or_default();
            if host {
                let written = format!("{container}{proto_part}");
                let finding = Finding::new(&checks::LINT_FIXES_EXPOSE_HOST_PORT, range.clone(), format!("`EXPOSE {}` names a host address or port: EXPOSE records only the container's port", word.raw))
                    .with_why("publishing to a host port is `docker run -p`'s job; BuildKit keeps only the container port and will reject the rest (ExposeInvalidFormat)");
                findings.push(if contiguous { finding.with_fix(Fix::safe(format!("Write `{written}`"), vec![Edit::replace(range.clone(), written)])) } else { finding });
            }
            if let Some(proto) = proto.filter(|p| p.chars().any(|c| c.is_ascii_uppercase())) {
                let lower = proto.to_ascii_lowercase();
                let finding = Finding::new(&checks::LINT_FIXES_EXPOSE_PROTOCOL_CASE, range.clone(), format!("protocol `{proto}` in upper case: write `{lower}`"))
                    .with_why("BuildKit lower-cases the protocol anyway (ExposeProtoCasing)");
                let at = range.end - proto.len();
                findings.push(if contiguous { finding.with_fix(Fix::safe(format!("Write `{lower}`"), vec![Edit::replace(at..range.end, lower)])) } else { finding });
            }
        }
    }
    findings
}

/// `[ip:][host:]container[/proto]`: whether a host part is there, the container port (or range)
/// and the protocol. `None` for words BuildKit would expand or reject.
fn parse_port(raw: &str) -> Option<(bool, &str, Option<&str>)> {
    if raw.contains(['$', '"', '\'', '[', '\\']) {
        return None;
    }
    let (ports, proto) = match raw.split_once('/') {
        Some((ports, proto)) if ["tcp", "udp", "sctp"].contains(&proto.to_ascii_lowercase().as_str()) => (ports, Some(proto)),
        Some(_) => return None,
        None => (raw, None),
    };
    let parts: Vec<&str> = ports.split(':').collect();
    let container = *parts.last()?;
    let is_range = |p: &str| !p.is_empty() && p.split('-').count() <= 2 && p.split('-').all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    if parts.len() > 3 || !is_range(container) {
        return None;
    }
    Some((parts.len() > 1, container, proto))
}

#[cfg(test)]
mod tests {
    use super::parse_port;

    #[test]
    fn ports() {
        assert_eq!(parse_port("80"), Some((false, "80", None)));
        assert_eq!(parse_port("8080:80/TCP"), Some((true, "80", Some("TCP"))));
        assert_eq!(parse_port("127.0.0.1:8080:80"), Some((true, "80", None)));
        assert_eq!(parse_port("8000-8010/udp"), Some((false, "8000-8010", Some("udp"))));
        assert_eq!(parse_port("$PORT"), None);
        assert_eq!(parse_port("80/http"), None);
    }
}
