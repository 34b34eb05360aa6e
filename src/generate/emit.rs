//! A small block-style YAML writer for generated files.
//!
//! Owns: quoting decisions (plain when unambiguous, single- or double-quoted
//! otherwise) and literal block scalars for multi-line PromQL, so generated
//! files read like hand-written ones and like Sloth's.
//! Must not: reorder anything (callers decide the order) or fold long lines.

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Appends YAML to a string; indentation is explicit at every call.
#[derive(Debug, Default)]
pub struct Emitter {
    pub out: String,
}

impl Emitter {
    pub fn with_capacity(n: usize) -> Self {
        Emitter {
            out: String::with_capacity(n),
        }
    }

    /// Starts a line: `indent` spaces, then `- ` when it opens a list item.
    /// Returns the column of the key that follows.
    fn start(&mut self, indent: usize, dash: bool) -> usize {
        for _ in 0..indent {
            self.out.push(' ');
        }
        if dash {
            self.out.push_str("- ");
            indent + 2
        } else {
            indent
        }
    }

    /// A comment line (`# text`), or a bare `#` for an empty line.
    pub fn comment(&mut self, text: &str) {
        for line in text.lines() {
            if line.is_empty() {
                self.out.push_str("#\n");
            } else {
                self.out.push_str("# ");
                self.out.push_str(line);
                self.out.push('\n');
            }
        }
    }

    /// `key: value` with the value quoted or written as a block as needed.
    pub fn entry(&mut self, indent: usize, dash: bool, key: &str, value: &str) {
        let col = self.start(indent, dash);
        write_scalar(&mut self.out, key, col + 2);
        self.out.push_str(": ");
        write_scalar(&mut self.out, value, col + 2);
        self.out.push('\n');
    }

    /// `key: value` for a value that is already valid YAML (a number, `[]`).
    pub fn entry_raw(&mut self, indent: usize, dash: bool, key: &str, raw: &str) {
        let col = self.start(indent, dash);
        write_scalar(&mut self.out, key, col + 2);
        self.out.push_str(": ");
        self.out.push_str(raw);
        self.out.push('\n');
    }

    /// `key:` opening a nested mapping or list.
    pub fn key(&mut self, indent: usize, dash: bool, key: &str) {
        let col = self.start(indent, dash);
        write_scalar(&mut self.out, key, col + 2);
        self.out.push_str(":\n");
    }

    /// A list item that is a scalar: `- value`.
    pub fn item(&mut self, indent: usize, value: &str) {
        let col = self.start(indent, true);
        write_scalar(&mut self.out, value, col + 2);
        self.out.push('\n');
    }

    /// `key:` and the map's entries one level deeper; nothing when empty.
    pub fn map<K: AsRef<str>, V: AsRef<str>>(
        &mut self,
        indent: usize,
        dash: bool,
        key: &str,
        map: &BTreeMap<K, V>,
    ) {
        if map.is_empty() {
            return;
        }
        let col = self.start(indent, dash);
        write_scalar(&mut self.out, key, col + 2);
        self.out.push_str(":\n");
        for (k, v) in map {
            self.entry(col + 2, false, k.as_ref(), v.as_ref());
        }
    }
}

/// What one pass over a string finds out for the quoting decision.
#[derive(Default)]
struct Scan {
    newline: bool,
    /// A control character other than newline and tab (C0, DEL or C1).
    control: bool,
    tab: bool,
    /// `: ` or ` #` inside, or `:` at the end: plain scalars cannot hold these.
    indicator: bool,
}

fn scan(s: &str) -> Scan {
    let b = s.as_bytes();
    let mut r = Scan::default();
    for (i, &c) in b.iter().enumerate() {
        match c {
            b'\n' => r.newline = true,
            b'\t' => r.tab = true,
            0..=0x1f | 0x7f => r.control = true,
            // C1 controls U+0080..U+009F are 0xC2 0x80..=0x9F in UTF-8.
            0xc2 if b.get(i + 1).is_some_and(|n| (0x80..=0x9f).contains(n)) => r.control = true,
            b':' if b.get(i + 1).is_none_or(|n| *n == b' ') => r.indicator = true,
            b'#' if i > 0 && b[i - 1] == b' ' => r.indicator = true,
            _ => {}
        }
    }
    r
}

/// Writes one scalar. Multi-line strings become literal blocks whose lines
/// are indented to `block_indent`.
pub fn write_scalar(out: &mut String, s: &str, block_indent: usize) {
    let sc = scan(s);
    if sc.newline && !sc.control && !s.starts_with(' ') && !s.starts_with('\n') {
        // Control characters other than newline and tab cannot appear in a
        // block; a first line starting with a space would need an
        // indentation indicator.
        write_block(out, s, block_indent);
    } else if !sc.newline && !sc.control && !sc.tab && !sc.indicator && is_plain_word(s) {
        out.push_str(s);
    } else if !sc.control && !sc.newline && !sc.tab {
        out.push('\'');
        if s.contains('\'') {
            out.push_str(&s.replace('\'', "''"));
        } else {
            out.push_str(s);
        }
        out.push('\'');
    } else {
        write_double_quoted(out, s);
    }
}

fn write_block(out: &mut String, s: &str, indent: usize) {
    let body = s.trim_end_matches('\n');
    let trailing = s.len() - body.len();
    out.push_str(match trailing {
        0 => "|-",
        1 => "|",
        _ => "|+",
    });
    for line in s
        .split('\n')
        .take(body.split('\n').count() + trailing.saturating_sub(1))
    {
        out.push('\n');
        if !line.is_empty() {
            for _ in 0..indent {
                out.push(' ');
            }
            out.push_str(line);
        }
    }
}

fn write_double_quoted(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Whether a one-line string can be written without quotes and still read
/// back as the same string (YAML 1.1 and 1.2 readers alike).
pub fn is_plain_safe(s: &str) -> bool {
    let sc = scan(s);
    !sc.newline && !sc.control && !sc.tab && !sc.indicator && is_plain_word(s)
}

/// The checks of `is_plain_safe` that look at the whole string's shape.
fn is_plain_word(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    if s.starts_with(' ') || s.ends_with(' ') {
        return false;
    }
    if "-?:,[]{}#&*!|>'\"%@`".contains(first) {
        return false;
    }
    // Anything a reader could take for a number, date, boolean or null.
    if first == '+' || first == '.' || first == '~' {
        return false;
    }
    if first.is_ascii_digit() && looks_like_number_or_date(s) {
        return false;
    }
    const SPECIAL: [&str; 12] = [
        "true", "false", "yes", "no", "on", "off", "y", "n", "null", "nan", "inf", "<<",
    ];
    !(s.len() <= 5 && SPECIAL.iter().any(|w| w.eq_ignore_ascii_case(s)))
}

fn looks_like_number_or_date(s: &str) -> bool {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let re = RE.get_or_init(|| {
        regex::Regex::new(
            r"(?x)^[-+]?(
                [0-9][0-9_]*(\.[0-9_]*)?([eE][-+]?[0-9]+)?   # 1, 1.5, 1e3, 1_000
              | \.[0-9]+([eE][-+]?[0-9]+)?                  # .5
              | 0x[0-9a-fA-F_]+ | 0o[0-7_]+ | 0b[01_]+       # other bases
              | [0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?      # sexagesimal (YAML 1.1)
            )$
            | ^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}                # dates and timestamps",
        )
        .expect("static regex")
    });
    re.is_match(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scalar(s: &str) -> String {
        let mut out = String::new();
        write_scalar(&mut out, s, 2);
        out
    }

    #[test]
    fn plain_scalars_stay_plain_and_ambiguous_ones_are_quoted() {
        assert_eq!(scalar("svc01-slo1"), "svc01-slo1");
        assert_eq!(scalar("vector(1)"), "vector(1)");
        assert_eq!(scalar("99.9"), "'99.9'");
        assert_eq!(scalar("2"), "'2'");
        assert_eq!(scalar("5m"), "5m");
        assert_eq!(scalar("1 - x"), "1 - x");
        assert_eq!(scalar("1e3"), "'1e3'");
        assert_eq!(scalar("0x1F"), "'0x1F'");
        assert_eq!(scalar("2026-01-01"), "'2026-01-01'");
        assert_eq!(scalar("1:30"), "'1:30'");
        assert_eq!(scalar("true"), "'true'");
        assert_eq!(scalar("#alerts-myteam"), "'#alerts-myteam'");
        assert_eq!(scalar("{{$labels.x}} y"), "'{{$labels.x}} y'");
        assert_eq!(scalar("it's"), "it's");
        assert_eq!(scalar("'q' x"), "'''q'' x'");
        assert_eq!(scalar(""), "''");
        assert_eq!(scalar("a: b"), "'a: b'");
        assert_eq!(scalar("tab\there"), "\"tab\\there\"");
    }

    #[test]
    fn multi_line_strings_become_literal_blocks_with_the_right_chomping() {
        assert_eq!(scalar("a\nb\n"), "|\n  a\n  b");
        assert_eq!(scalar("a\nb"), "|-\n  a\n  b");
        assert_eq!(scalar("a\n\nb"), "|-\n  a\n\n  b");
        assert_eq!(scalar("a\n\n"), "|+\n  a\n");
        assert_eq!(scalar(" a\nb"), "\" a\\nb\"");
    }

    #[test]
    fn what_is_written_reads_back_as_the_same_strings() {
        let values = [
            "plain",
            "99.9",
            "a\nb\n",
            "x\n  y\n\nz",
            "last\n\n\n",
            "'quoted' and \"double\"",
            "#channel",
            "{{$labels.sloth_service}} text",
            "- dash",
            "key: value",
            "  leading",
            "yes",
            "~",
        ];
        let mut e = Emitter::default();
        for (i, v) in values.iter().enumerate() {
            e.entry(0, false, &format!("k{i}"), v);
        }
        let parsed: BTreeMap<String, String> = serde_saphyr::from_str(&e.out).unwrap();
        for (i, v) in values.iter().enumerate() {
            assert_eq!(parsed[&format!("k{i}")], *v, "{}", e.out);
        }
    }
}
