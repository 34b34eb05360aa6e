//! Loading and rendering the report templates, and escaping per format.
//!
//! Owns the template set: the defaults compiled into the binary from
//! `templates/*.tera` ([`EMBEDDED`]), overridden file by file by a user
//! directory (`--templates DIR`), each rendered with the escaping of its
//! format, chosen by the file name's suffix:
//!
//! | suffix | format | `{{ value }}` is escaped as |
//! |---|---|---|
//! | `.html.tera` | HTML (report page, email HTML) | HTML: `&`, `<`, `>`, `"`, `'` |
//! | `.md.tera` | Markdown (CI summaries, PR comments) | Markdown: `\`, `` ` ``, `*`, `_` (not inside words), `[`, `]`, `<`, `|`, `~`, a leading `#`, `>`, `+`, `-`; newlines become spaces |
//! | `.json.tera` | Slack Block Kit | Slack (`&`, `<`, `>` as entities), then as the inside of a JSON string |
//! | `.txt.tera` | plain text (email text) | nothing |
//!
//! Every template also gets two filters that format text which marks code
//! with backticks (reasons name queries that way): `code` renders its whole
//! input as code, `rich` renders backtick-quoted parts as code and the rest
//! as escaped text, both safely for the format.
//!
//! A broken template is an error naming its file, line and column. Must
//! not: build the view (that is [`super::view`]) or decide anything; the
//! only I/O is reading the override directory in [`Templates::load_dir`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde::Serialize;
use tera::{Kwargs, State, Tera, Value};

/// The HTML report page.
pub const REPORT_HTML: &str = "report.html.tera";
/// The Markdown summary.
pub const SUMMARY_MD: &str = "summary.md.tera";
/// The Slack Block Kit message.
pub const SLACK_JSON: &str = "slack.json.tera";
/// The plain-text email body.
pub const EMAIL_TEXT: &str = "email.txt.tera";
/// The HTML email body.
pub const EMAIL_HTML: &str = "email.html.tera";

/// The default templates, compiled into the binary: (file name, source).
pub const EMBEDDED: [(&str, &str); 5] = [
    (
        REPORT_HTML,
        include_str!("../../templates/report.html.tera"),
    ),
    (SUMMARY_MD, include_str!("../../templates/summary.md.tera")),
    (SLACK_JSON, include_str!("../../templates/slack.json.tera")),
    (EMAIL_TEXT, include_str!("../../templates/email.txt.tera")),
    (EMAIL_HTML, include_str!("../../templates/email.html.tera")),
];

/// Why templates could not be loaded or rendered. Messages name the file
/// (its path for a user template) and, when the template is at fault, the
/// line and column.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TemplateError {
    /// The override directory could not be read.
    #[error("reading templates from {dir}: {reason}")]
    Read {
        /// The directory.
        dir: PathBuf,
        /// What failed.
        reason: String,
    },
    /// A file in the override directory is not a template verdict uses.
    #[error(
        "{file}: not a template verdict renders (expected one of {}; a partial for `include` must end in .html.tera, .md.tera, .json.tera or .txt.tera)",
        EMBEDDED.map(|e| e.0).join(", ")
    )]
    Unknown {
        /// The file.
        file: String,
    },
    /// A template does not parse.
    #[error("{file}:{line}:{column}: template syntax error: {message}\n{detail}")]
    Syntax {
        /// The template's file (its path when it came from the user).
        file: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        message: String,
        /// The offending line, underlined.
        detail: String,
    },
    /// A template failed while rendering (unknown variable, bad filter use).
    #[error("{file}:{line}:{column}: rendering failed: {message}\n{detail}")]
    Render {
        /// The template's file.
        file: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        message: String,
        /// The offending line, underlined.
        detail: String,
    },
    /// Any other template failure, with the template it concerns.
    #[error("{file}: {message}")]
    Other {
        /// The template's file.
        file: String,
        /// What is wrong.
        message: String,
    },
    /// A template rendered, but not into what its format requires.
    #[error("{file}: {message}")]
    InvalidOutput {
        /// The template's file.
        file: String,
        /// What is wrong with the output.
        message: String,
    },
}

/// The output format of a template, from its file name's suffix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Family {
    /// `.html.tera`
    Html,
    /// `.md.tera`
    Markdown,
    /// `.json.tera` (Slack)
    Slack,
    /// `.txt.tera`
    Text,
}

impl Family {
    const ALL: [Family; 4] = [Family::Html, Family::Markdown, Family::Slack, Family::Text];

    /// The family of a template file name, if it is one.
    pub fn of(name: &str) -> Option<Family> {
        Family::ALL.into_iter().find(|f| name.ends_with(f.suffix()))
    }

    fn suffix(self) -> &'static str {
        match self {
            Family::Html => ".html.tera",
            Family::Markdown => ".md.tera",
            Family::Slack => ".json.tera",
            Family::Text => ".txt.tera",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Where a template came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Compiled into the binary from `templates/`.
    Embedded,
    /// A user's file.
    File(PathBuf),
}

/// A compiled template set: the defaults with any user overrides.
#[derive(Clone)]
pub struct Templates {
    engines: Vec<Tera>,
    origins: BTreeMap<String, Origin>,
}

impl std::fmt::Debug for Templates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Templates")
            .field("origins", &self.origins)
            .finish()
    }
}

impl Templates {
    /// The embedded defaults, compiled once per process.
    pub fn embedded() -> Result<&'static Templates, TemplateError> {
        static DEFAULTS: OnceLock<Result<Templates, TemplateError>> = OnceLock::new();
        DEFAULTS
            .get_or_init(|| Templates::with_overrides(Vec::new()))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// The defaults with every `*.tera` file of `dir` added: a file named
    /// like a default (`report.html.tera`) replaces it, any other
    /// `<name>.html.tera` / `.md.tera` / `.json.tera` / `.txt.tera` file is
    /// available to `{% include %}` from templates of the same format.
    pub fn load_dir(dir: &Path) -> Result<Templates, TemplateError> {
        let read_error = |reason: String| TemplateError::Read {
            dir: dir.to_owned(),
            reason,
        };
        let entries = std::fs::read_dir(dir).map_err(|e| read_error(e.to_string()))?;
        let mut files = Vec::new();
        for entry in entries {
            let path = entry.map_err(|e| read_error(e.to_string()))?.path();
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            if !name.ends_with(".tera") || !path.is_file() {
                continue;
            }
            let source = std::fs::read_to_string(&path)
                .map_err(|e| read_error(format!("{}: {e}", path.display())))?;
            files.push((name.to_owned(), path, source));
        }
        files.sort();
        Templates::with_overrides(files)
    }

    /// The defaults with the given user templates (file name, path shown in
    /// errors, source) added or replacing defaults of the same name. No I/O.
    pub fn with_overrides(
        files: Vec<(String, PathBuf, String)>,
    ) -> Result<Templates, TemplateError> {
        let mut sources: BTreeMap<String, (Origin, String)> = EMBEDDED
            .iter()
            .map(|(name, src)| ((*name).to_owned(), (Origin::Embedded, (*src).to_owned())))
            .collect();
        for (name, path, source) in files {
            if Family::of(&name).is_none() {
                return Err(TemplateError::Unknown {
                    file: path.display().to_string(),
                });
            }
            sources.insert(name, (Origin::File(path), source));
        }
        let origins: BTreeMap<String, Origin> = sources
            .iter()
            .map(|(name, (origin, _))| (name.clone(), origin.clone()))
            .collect();
        let mut engines = Vec::new();
        for family in Family::ALL {
            let mut tera = engine(family);
            let own: Vec<(&str, &str)> = sources
                .iter()
                .filter(|(name, _)| Family::of(name) == Some(family))
                .map(|(name, (_, src))| (name.as_str(), src.as_str()))
                .collect();
            tera.add_raw_templates(own)
                .map_err(|e| convert_error(&e, &origins, None))?;
            engines.push(tera);
        }
        Ok(Templates { engines, origins })
    }

    /// Where the template `name` came from.
    pub fn origin(&self, name: &str) -> Option<&Origin> {
        self.origins.get(name)
    }

    /// Renders the template `name` (one of the constants of this module)
    /// with `view` as its context.
    pub fn render(&self, name: &str, view: &impl Serialize) -> Result<String, TemplateError> {
        let file = self.file_name(name);
        let family = Family::of(name).ok_or_else(|| TemplateError::Other {
            file: file.clone(),
            message: "not a template name verdict knows".to_owned(),
        })?;
        let context = tera::Context::from_serialize(view).map_err(|e| TemplateError::Other {
            file: file.clone(),
            message: format!("building the template context: {e}"),
        })?;
        self.engines[family.index()]
            .render(name, &context)
            .map_err(|e| convert_error(&e, &self.origins, Some(name)))
    }

    /// How errors name a template: its path, or `templates/<name>`.
    fn file_name(&self, name: &str) -> String {
        display_name(name, &self.origins)
    }
}

fn display_name(name: &str, origins: &BTreeMap<String, Origin>) -> String {
    match origins.get(name) {
        Some(Origin::File(path)) => path.display().to_string(),
        _ => format!("templates/{name}"),
    }
}

/// A tera error as a [`TemplateError`] naming the file, line and column.
fn convert_error(
    error: &tera::Error,
    origins: &BTreeMap<String, Origin>,
    rendering: Option<&str>,
) -> TemplateError {
    match error.kind() {
        tera::ErrorKind::SyntaxError(report) | tera::ErrorKind::RenderingError(report) => {
            let file = display_name(report.filename(), origins);
            let span = report.span();
            // tera's own report: "error: …\n --> name:line:col\n  |\n3 | …\n  |   ^^^".
            let full = error.to_string();
            let detail = full
                .lines()
                .skip_while(|l| !l.trim_start().starts_with("-->"))
                .skip(1)
                .collect::<Vec<_>>()
                .join("\n");
            let (line, column, message) = (
                span.start_line,
                span.start_col + 1,
                report.message().to_owned(),
            );
            if matches!(error.kind(), tera::ErrorKind::SyntaxError(_)) {
                TemplateError::Syntax {
                    file,
                    line,
                    column,
                    message,
                    detail,
                }
            } else {
                TemplateError::Render {
                    file,
                    line,
                    column,
                    message,
                    detail,
                }
            }
        }
        _ => {
            // Errors without a span (a missing include, a circular
            // include) usually name the template in their message.
            let message = error.to_string();
            let named = origins
                .keys()
                .find(|name| message.contains(name.as_str()))
                .map(String::as_str)
                .or(rendering);
            TemplateError::Other {
                file: named.map_or_else(|| "templates".to_owned(), |n| display_name(n, origins)),
                message,
            }
        }
    }
}

/// A tera instance for one family: its escaping and filters.
fn engine(family: Family) -> Tera {
    let mut tera = Tera::new();
    if family == Family::Text {
        tera.autoescape_on(Vec::<&str>::new());
    } else {
        tera.autoescape_on([family.suffix()]);
    }
    match family {
        Family::Html => {
            tera.set_escape_fn(|input, out| out.write_all(escape_html(input).as_bytes()));
            tera.register_filter("code", |s: &str, _: Kwargs, _: &State| {
                Value::safe_string(&code_html(s))
            });
            tera.register_filter("rich", |s: &str, _: Kwargs, _: &State| {
                Value::safe_string(&rich(s, escape_html, code_html))
            });
        }
        Family::Markdown => {
            tera.set_escape_fn(|input, out| out.write_all(escape_markdown(input).as_bytes()));
            tera.register_filter("code", |s: &str, _: Kwargs, _: &State| {
                Value::safe_string(&code_markdown(s))
            });
            tera.register_filter("rich", |s: &str, _: Kwargs, _: &State| {
                Value::safe_string(&rich(s, escape_markdown, code_markdown))
            });
            tera.register_filter("fence", |s: &str, _: Kwargs, _: &State| {
                Value::safe_string(&fence_markdown(s))
            });
        }
        Family::Slack => {
            tera.set_escape_fn(|input, out| {
                out.write_all(json_inner(&escape_slack(input)).as_bytes())
            });
            tera.register_filter("code", |s: &str, _: Kwargs, _: &State| {
                Value::safe_string(&json_inner(&code_slack(s)))
            });
            tera.register_filter("rich", |s: &str, _: Kwargs, _: &State| {
                Value::safe_string(&json_inner(&rich(s, escape_slack, code_slack)))
            });
        }
        Family::Text => {
            tera.register_filter("code", |s: &str, _: Kwargs, _: &State| s.to_owned());
            tera.register_filter("rich", |s: &str, _: Kwargs, _: &State| s.to_owned());
        }
    }
    tera
}

/// HTML text and attribute escaping: `&`, `<`, `>`, `"`, `'`.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn code_html(text: &str) -> String {
    format!("<code>{}</code>", escape_html(text))
}

/// Markdown (CommonMark + GFM tables) escaping for text that must render
/// as itself: backslash before every character that could start markup
/// inline (`\`, `` ` ``, `*`, `[`, `]`, `<`, `|`, `~`, `_` unless inside a
/// word), before a leading `#` or `>` and a leading `+ ` or `- ` that
/// could start a block, and newlines collapsed to spaces (a line break would end a
/// table row or a list item).
pub fn escape_markdown(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len() + 8);
    let mut at_start = true;
    for (i, &c) in chars.iter().enumerate() {
        let c = if c == '\n' || c == '\r' { ' ' } else { c };
        if at_start && c == ' ' {
            out.push(c);
            continue;
        }
        let word = |j: Option<usize>| {
            j.and_then(|j| chars.get(j))
                .is_some_and(|c| c.is_alphanumeric())
        };
        let escape = match c {
            '\\' | '`' | '*' | '[' | ']' | '<' | '|' | '~' => true,
            '_' => !(word(i.checked_sub(1)) && word(Some(i + 1))),
            '#' | '>' => at_start,
            // A list marker needs a space (or the end) after it.
            '+' | '-' => at_start && chars.get(i + 1).is_none_or(|n| *n == ' '),
            _ => false,
        };
        if escape {
            out.push('\\');
        }
        out.push(c);
        at_start = false;
    }
    out
}

/// A Markdown code span holding `text` literally: fenced with more
/// backticks than any run inside, padded when it starts or ends with one,
/// `|` escaped for tables (GFM unescapes it inside code in cells) and
/// newlines collapsed.
fn code_markdown(text: &str) -> String {
    let text = text.replace(['\n', '\r'], " ").replace('|', "\\|");
    let longest = longest_run(&text, '`');
    let fence = "`".repeat(longest + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{text}{pad}{fence}")
}

/// A fenced Markdown code block holding `text` literally.
fn fence_markdown(text: &str) -> String {
    let fence = "`".repeat(longest_run(text, '`').max(2) + 1);
    format!("{fence}promql\n{}\n{fence}", text.trim_end())
}

fn longest_run(text: &str, c: char) -> usize {
    let (mut longest, mut run) = (0, 0);
    for x in text.chars() {
        if x == c {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    longest
}

/// Slack mrkdwn escaping: `&`, `<`, `>` as `&amp;`, `&lt;`, `&gt;`, so
/// `<!channel>`, `<@U123>` and `<http://x|y>` in the text stay text.
pub fn escape_slack(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Slack inline code: backticks inside cannot be escaped, so they become
/// a look-alike (ˋ) that cannot end the span.
fn code_slack(text: &str) -> String {
    format!(
        "`{}`",
        escape_slack(&text.replace('`', "\u{2cb}").replace('\n', " "))
    )
}

/// The inside of a JSON string literal holding `text`.
pub fn json_inner(text: &str) -> String {
    let quoted = serde_json::Value::String(text.to_owned()).to_string();
    quoted[1..quoted.len() - 1].to_owned()
}

/// Text whose backtick-quoted parts are code: each part rendered by
/// `code`, the rest by `escape`. An unmatched backtick is plain text.
fn rich(text: &str, escape: fn(&str) -> String, code: fn(&str) -> String) -> String {
    let parts: Vec<&str> = text.split('`').collect();
    let mut out = String::with_capacity(text.len() + 16);
    for (i, part) in parts.iter().enumerate() {
        if i % 2 == 0 {
            out.push_str(&escape(part));
        } else if i + 1 < parts.len() {
            // A closed pair; an empty one (``) shows nothing.
            if !part.is_empty() {
                out.push_str(&code(part));
            }
        } else {
            // The last backtick has no partner: it is text.
            out.push_str(&escape(&format!("`{part}")));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escaping_neutralises_tags_and_attributes() {
        assert_eq!(
            escape_html(r#"<script>alert("x")</script> & 'y'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
    }

    #[test]
    fn markdown_escaping_keeps_words_and_blocks_links_tables_and_html() {
        assert_eq!(
            escape_markdown("[x](http://evil) | <b>*y*</b>"),
            r"\[x\](http://evil) \| \<b>\*y\*\</b>"
        );
        // Underscores inside words do not start emphasis: left alone.
        assert_eq!(
            escape_markdown("max_time_to_recover"),
            "max_time_to_recover"
        );
        assert_eq!(escape_markdown("_em_"), r"\_em\_");
        // Block markers only matter at the start; newlines are collapsed.
        assert_eq!(escape_markdown("# a > b - c"), r"\# a > b - c");
        assert_eq!(escape_markdown("a\n# b"), "a # b");
        // An image needs `[`: escaping it is enough.
        assert_eq!(escape_markdown("![i](x)"), r"!\[i\](x)");
    }

    #[test]
    fn markdown_code_spans_survive_backticks_and_pipes() {
        assert_eq!(code_markdown("a-b"), "`a-b`");
        assert_eq!(code_markdown("a`b"), "``a`b``");
        assert_eq!(code_markdown("`x"), "`` `x ``");
        assert_eq!(code_markdown("a|b\nc"), r"`a\|b c`");
    }

    #[test]
    fn slack_escaping_turns_mentions_and_links_into_text() {
        assert_eq!(
            escape_slack("<!channel> <@U123> <http://x|y> & co"),
            "&lt;!channel&gt; &lt;@U123&gt; &lt;http://x|y&gt; &amp; co"
        );
        assert_eq!(json_inner("a \"b\"\n\\"), r#"a \"b\"\n\\"#);
    }

    #[test]
    fn rich_text_renders_backtick_parts_as_code_and_escapes_the_rest() {
        assert_eq!(
            rich(
                "no series from `sum(x{a=\"<b>\"})` at <t>",
                escape_html,
                code_html
            ),
            "no series from <code>sum(x{a=&quot;&lt;b&gt;&quot;})</code> at &lt;t&gt;"
        );
        // An unmatched backtick is text.
        assert_eq!(rich("a `b", escape_html, code_html), "a `b");
        assert_eq!(
            rich("a `b` `c", escape_markdown, code_markdown),
            r"a `b` \`c"
        );
    }

    #[test]
    fn the_embedded_templates_compile() {
        let t = Templates::embedded().unwrap_or_else(|e| panic!("{e}"));
        for (name, _) in EMBEDDED {
            assert_eq!(t.origin(name), Some(&Origin::Embedded));
        }
    }

    #[test]
    fn a_broken_user_template_is_an_error_naming_its_file_line_and_column() {
        let err = Templates::with_overrides(vec![(
            "summary.md.tera".to_owned(),
            PathBuf::from("/etc/verdict/templates/summary.md.tera"),
            "# {{ verdict }}\nok\n{% if slos %}\n{{ slos | nope( }}\n{% endif %}\n".to_owned(),
        )])
        .err()
        .unwrap_or_else(|| panic!("a syntax error"));
        let TemplateError::Syntax {
            file, line, column, ..
        } = &err
        else {
            panic!("{err:?}");
        };
        assert_eq!(file, "/etc/verdict/templates/summary.md.tera");
        assert_eq!((*line, *column), (4, 17));
        assert!(
            err.to_string().starts_with(
                "/etc/verdict/templates/summary.md.tera:4:17: template syntax error: "
            ),
            "{err}"
        );
    }

    #[test]
    fn an_unknown_variable_fails_at_render_time_with_its_position() {
        let t = Templates::with_overrides(vec![(
            "email.txt.tera".to_owned(),
            PathBuf::from("my/email.txt.tera"),
            "Hello\n  {{ no_such_thing }}\n".to_owned(),
        )])
        .unwrap_or_else(|e| panic!("{e}"));
        let err = t
            .render(EMAIL_TEXT, &serde_json::json!({ "verdict": "pass" }))
            .err()
            .unwrap_or_else(|| panic!("an error"));
        let TemplateError::Render {
            file,
            line,
            column,
            message,
            ..
        } = &err
        else {
            panic!("{err:?}");
        };
        assert_eq!(file, "my/email.txt.tera");
        assert_eq!((*line, *column), (2, 6));
        assert!(message.contains("no_such_thing"), "{message}");
    }

    #[test]
    fn a_file_that_is_no_template_format_is_refused_by_name() {
        let err = Templates::with_overrides(vec![(
            "report.htm.tera".to_owned(),
            PathBuf::from("t/report.htm.tera"),
            String::new(),
        )])
        .err()
        .unwrap_or_else(|| panic!("refused"));
        assert!(
            err.to_string()
                .starts_with("t/report.htm.tera: not a template verdict renders"),
            "{err}"
        );
    }

    #[test]
    fn a_partial_can_be_included_by_a_user_template_of_its_format() {
        let t = Templates::with_overrides(vec![
            (
                "email.txt.tera".to_owned(),
                PathBuf::from("d/email.txt.tera"),
                "[{% include \"footer.txt.tera\" %}]".to_owned(),
            ),
            (
                "footer.txt.tera".to_owned(),
                PathBuf::from("d/footer.txt.tera"),
                "verdict {{ verdict }}".to_owned(),
            ),
        ])
        .unwrap_or_else(|e| panic!("{e}"));
        let out = t
            .render(EMAIL_TEXT, &serde_json::json!({ "verdict": "pass" }))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(out, "[verdict pass]");
    }
}
