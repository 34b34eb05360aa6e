//! `{{.window}}` templating and PromQL validation with a position.

use std::sync::OnceLock;

use regex::Regex;

fn window_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"\{\{\s*\.window\s*\}\}").expect("static regex"))
}

/// Whether a query contains the `{{.window}}` placeholder (spaces allowed,
/// as in Go templates: `{{ .window }}`).
pub fn has_window(query: &str) -> bool {
    window_re().is_match(query)
}

/// Replaces every `{{.window}}` with a PromQL duration such as `5m` or `623s`.
pub fn render_window(query: &str, window: &str) -> String {
    window_re().replace_all(query, window).into_owned()
}

/// A PromQL error with the character position (0-based) in the rendered query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromqlError {
    pub position: usize,
    pub message: String,
}

impl std::fmt::Display for PromqlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "invalid PromQL at position {}: {}",
            self.position + 1,
            self.message
        )
    }
}

/// Parses a query; on failure finds the earliest position from which it can
/// no longer become valid, since promql-parser reports no position itself.
pub fn validate(query: &str) -> Result<promql_parser::parser::Expr, PromqlError> {
    match promql_parser::parser::parse(query) {
        Ok(expr) => Ok(expr),
        Err(message) => Err(PromqlError {
            position: locate_error(query, &message),
            message: tidy(&message, query),
        }),
    }
}

fn tidy(message: &str, query: &str) -> String {
    let m = message.trim();
    if m.starts_with("invalid promql query") || m.is_empty() {
        let at = locate_error(query, message);
        let near: String = query.chars().skip(at).take(20).collect();
        let near = near.lines().next().unwrap_or("").to_string();
        if near.trim().is_empty() {
            "unexpected end of query".to_string()
        } else {
            format!("syntax error near `{}`", near.trim())
        }
    } else {
        m.to_string()
    }
}

/// Candidate suffixes that can complete a valid prefix.
const COMPLETIONS: [&str; 8] = ["", " 1", " x", "[5m]", " x[5m]", "x}", "x}[5m]", ")"];

/// Brackets still open at the end of `text` (character index and the
/// closing bracket it needs, outermost first), ignoring brackets inside
/// quoted strings, and the quote character of an unterminated string.
fn open_brackets(text: &str) -> (Vec<(usize, char)>, Option<char>) {
    let mut stack = Vec::new();
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (i, c) in text.chars().enumerate() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '"' | '\'' | '`' => quote = Some(c),
            '(' => stack.push((i, ')')),
            '{' => stack.push((i, '}')),
            '[' => stack.push((i, ']')),
            ')' | '}' | ']' => {
                stack.pop();
            }
            _ => {}
        }
    }
    (stack, quote)
}

/// The text that closes an unterminated string and every open bracket.
fn closers_for(prefix: &str) -> String {
    let (stack, quote) = open_brackets(prefix);
    quote
        .into_iter()
        .chain(stack.iter().rev().map(|(_, c)| *c))
        .collect()
}

fn viable(prefix: &str) -> bool {
    if prefix.trim().is_empty() {
        return true;
    }
    let closers = closers_for(prefix);
    COMPLETIONS.iter().any(|c| {
        let a = format!("{prefix}{c}{closers}");
        let b = format!("{prefix}{closers}{c}");
        promql_parser::parser::parse(&a).is_ok() || promql_parser::parser::parse(&b).is_ok()
    })
}

/// The character index of the last opening bracket that is never closed.
fn unmatched_open(query: &str) -> Option<usize> {
    open_brackets(query).0.last().map(|(i, _)| *i)
}

/// The character index of the first token at which the query stops being
/// completable to a valid expression.
fn locate_error(query: &str, message: &str) -> usize {
    // Lexer errors name the offending character.
    if let Some(rest) = message.strip_prefix("unexpected character: ") {
        let ch: String = rest
            .trim_matches(|c| c == '\'' || c == '"')
            .chars()
            .take(1)
            .collect();
        if let Some(c) = ch.chars().next()
            && let Some(i) = query.chars().position(|q| q == c)
        {
            return i;
        }
    }
    // Unclosed brackets: point at the one left open.
    if message.starts_with("unclosed left")
        && let Some(i) = unmatched_open(query)
    {
        return i;
    }
    // Unknown functions: point at the name.
    if let Some(rest) = message.strip_prefix("unknown function with name '")
        && let Some(name) = rest.split('\'').next()
    {
        let re = Regex::new(&format!(r"\b{}\s*\(", regex::escape(name)));
        if let Some(m) = re.ok().and_then(|re| re.find(query)) {
            return query[..m.start()].chars().count();
        }
    }
    // Walk token boundaries (whitespace and punctuation) from the left.
    let chars: Vec<(usize, char)> = query.char_indices().collect();
    let mut last_good_token_start = 0;
    let mut i = 0;
    while i < chars.len() {
        let (_, c) = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let token_start = i;
        // A token: identifier/number run, a quoted string, or one punctuation char.
        if c.is_alphanumeric() || c == '_' || c == ':' || c == '.' {
            while i < chars.len() {
                let d = chars[i].1;
                if d.is_alphanumeric() || d == '_' || d == ':' || d == '.' {
                    i += 1;
                } else {
                    break;
                }
            }
        } else if c == '"' || c == '\'' || c == '`' {
            i += 1;
            while i < chars.len() && chars[i].1 != c {
                if chars[i].1 == '\\' {
                    i += 1;
                }
                i += 1;
            }
            i = (i + 1).min(chars.len());
        } else {
            i += 1;
            // two-char operators
            if i < chars.len()
                && matches!(
                    (c, chars[i].1),
                    ('=', '=') | ('!', '=') | ('=', '~') | ('!', '~') | ('<', '=') | ('>', '=')
                )
            {
                i += 1;
            }
        }
        let end = chars.get(i).map(|(b, _)| *b).unwrap_or(query.len());
        if !viable(&query[..end]) {
            return query[..chars[token_start].0].chars().count();
        }
        last_good_token_start = token_start;
    }
    // Every prefix is viable: the query ends too early.
    let _ = last_good_token_start;
    query.chars().count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_the_window_placeholder_with_or_without_spaces() {
        assert_eq!(
            render_window("rate(x[{{.window}}]) / rate(y[{{ .window }}])", "5m"),
            "rate(x[5m]) / rate(y[5m])"
        );
        assert!(has_window("a[{{ .window }}]"));
        assert!(!has_window("a[5m]"));
    }

    #[test]
    fn valid_queries_parse() {
        assert!(validate(r#"sum(rate(http_requests_total{code=~"5.."}[5m])) / sum(rate(http_requests_total[5m]))"#).is_ok());
    }

    #[test]
    fn a_missing_closing_parenthesis_points_at_the_unclosed_one() {
        let q = "sum(rate(x[5m])";
        let e = validate(q).unwrap_err();
        assert_eq!(e.position, 3);
        assert_eq!(
            e.to_string(),
            "invalid PromQL at position 4: unclosed left parenthesis"
        );
    }

    #[test]
    fn a_stray_token_is_located() {
        let q = "sum(rate(x[5m])) / / 2";
        let e = validate(q).unwrap_err();
        assert_eq!(e.position, 19, "{e}");
    }

    #[test]
    fn unknown_function_is_located_at_the_call() {
        let q = "sum(rat(x[5m]))";
        let e = validate(q).unwrap_err();
        assert_eq!(e.position, 4, "{e}");
    }

    #[test]
    fn bad_characters_are_located() {
        let q = "sum(x) $ 2";
        let e = validate(q).unwrap_err();
        assert_eq!(e.position, 7, "{e}");
    }
}
