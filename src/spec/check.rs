//! Validation shared by every format: queries, objectives, names.

use super::decode::{Decoder, Field};
use super::promql::{has_window, render_window, validate};

/// The window used to render `{{.window}}` when checking a query.
const CHECK_WINDOW: &str = "5m";

/// Checks a query: `{{.window}}` present when required, and valid PromQL
/// once rendered. Errors point at the field and give the position in the query.
pub fn query(d: &mut Decoder, f: &Field<'_>, query: &str, needs_window: bool) -> bool {
    if query.trim().is_empty() {
        d.at(f, "query is empty");
        return false;
    }
    if needs_window && !has_window(query) {
        d.at(
            f,
            "query has no `{{.window}}` placeholder; verdict needs it to evaluate the query over different windows, e.g. rate(x[{{.window}}])",
        );
        return false;
    }
    let rendered = render_window(query, CHECK_WINDOW);
    match validate(&rendered) {
        Ok(_) => true,
        Err(e) => {
            let template_pos = template_position(query, e.position);
            let near: String = rendered.chars().skip(e.position).take(24).collect();
            let near = near.lines().next().unwrap_or("").trim().to_string();
            let mut msg = format!("{e}");
            if !near.is_empty() && !msg.contains(&near) {
                msg.push_str(&format!(" (near `{near}`)"));
            }
            if needs_window && has_window(query) {
                msg.push_str(&format!(
                    " (with {{{{.window}}}} rendered as {CHECK_WINDOW})"
                ));
            }
            // Point at the character itself when the value is in the file verbatim.
            let loc = if f.node.as_str() == Some(query) {
                d.locate_in_value(f.node, template_pos)
            } else {
                None
            };
            d.error(loc.unwrap_or(f.node.loc), &f.path, msg);
            false
        }
    }
}

/// Maps a character position in the rendered query back to the template
/// (each `{{.window}}` became the short check window).
fn template_position(template: &str, rendered_pos: usize) -> usize {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let re = RE.get_or_init(|| regex::Regex::new(r"\{\{\s*\.window\s*\}\}").expect("static regex"));
    let window_len = CHECK_WINDOW.chars().count();
    let mut shift: isize = 0;
    for m in re.find_iter(template) {
        let start = template[..m.start()].chars().count() as isize;
        let len = template[m.start()..m.end()].chars().count() as isize;
        let rendered_start = start - shift;
        if (rendered_pos as isize) < rendered_start + window_len as isize {
            break;
        }
        shift += len - window_len as isize;
    }
    (rendered_pos as isize + shift).max(0) as usize
}

/// Checks an objective given in percent: strictly between 0 and 100.
pub fn objective_percent(d: &mut Decoder, f: &Field<'_>, value: f64) -> bool {
    if value > 0.0 && value < 100.0 {
        true
    } else {
        d.at(
            f,
            format!("objective must be between 0 and 100 (exclusive), got {value}"),
        );
        false
    }
}

/// Checks a service or SLO name: `[A-Za-z0-9][A-Za-z0-9_.-]*`.
pub fn name(d: &mut Decoder, f: &Field<'_>, value: &str, what: &str) -> bool {
    let mut chars = value.chars();
    let ok = matches!(chars.next(), Some(c) if c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if !ok {
        d.at(
            f,
            format!(
                "invalid {what} name {value:?}: use letters, digits, `-`, `_` and `.`, starting with a letter or digit"
            ),
        );
    }
    ok
}

/// Checks label names of a labels map field.
pub fn label_names<'a>(
    d: &mut Decoder,
    f: &Field<'_>,
    names: impl IntoIterator<Item = &'a String>,
) {
    for n in names {
        if !super::decode::is_label_name(n) {
            d.error(
                f.node.loc,
                &f.path.key(n),
                format!("invalid label name {n:?}: must match [a-zA-Z_][a-zA-Z0-9_]*"),
            );
        }
    }
}

/// Checks one indicator criterion (`<0.5`, `<=+20%`, `>-5`) with the
/// evaluator's own parser, so what validates is exactly what evaluates.
pub fn criterion(s: &str) -> Result<(), String> {
    crate::eval::criteria::parse_criterion(s)
        .map(|_| ())
        .map_err(|e| e.to_string())
}
