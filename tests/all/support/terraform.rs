//! Values read out of the Terraform files, so that a test uses exactly what
//! is deployed (the schedule's input, the API Gateway routes) rather than a
//! copy that could drift from it.
//!
//! Not an HCL implementation: [`block`] finds one block by its header,
//! [`attribute`] one attribute's expression in it, and [`literal`] reads a
//! literal expression (objects, tuples, strings, numbers, booleans, null,
//! optionally wrapped in `jsonencode`, `toset` or `tolist`) as JSON. Anything
//! else (a reference, a `${...}` template, another function) is an error
//! naming it, so a test fails loudly when the Terraform stops being a literal.

use serde_json::{Map, Number, Value};

/// The body (between the braces) of the block whose header is `header`, e.g.
/// `resource "aws_cloudwatch_event_target" "match_run"` or `locals`.
pub fn block<'a>(text: &'a str, header: &str) -> &'a str {
    let mut from = 0;
    while let Some(found) = text[from..].find(header) {
        let start = from + found;
        from = start + header.len();
        let at_line_start = text[..start].rsplit('\n').next().is_some_and(|before| before.trim().is_empty());
        let rest = &text[from..];
        if at_line_start && rest.trim_start().starts_with('{') {
            let open = from + rest.find('{').expect("an opening brace");
            let close = matching(text, open).unwrap_or_else(|| panic!("`{header}` is not closed"));
            return &text[open + 1..close];
        }
    }
    panic!("no block `{header} {{` in the Terraform text")
}

/// The expression of the attribute `name = ...` directly in `body` (not in
/// a nested block), up to the end of its line or of its brackets.
pub fn attribute<'a>(body: &'a str, name: &str) -> &'a str {
    let bytes = body.as_bytes();
    let (mut depth, mut i, mut line_start) = (0usize, 0, true);
    while i < bytes.len() {
        match bytes[i] {
            b'"' => i = skip_string(body, i),
            b'#' => {
                // To the newline, which starts the next line.
                i = body[i..].find('\n').map_or(body.len(), |n| i + n);
                continue;
            }
            b'/' if body[i..].starts_with("//") => {
                i = body[i..].find('\n').map_or(body.len(), |n| i + n);
                continue;
            }
            b'{' | b'[' | b'(' => depth += 1,
            b'}' | b']' | b')' => depth = depth.saturating_sub(1),
            b'\n' => {
                line_start = true;
                i += 1;
                continue;
            }
            b' ' | b'\t' | b'\r' => {
                i += 1;
                continue;
            }
            _ if depth == 0 && line_start && body[i..].starts_with(name) => {
                let after = body[i + name.len()..].trim_start();
                if after.starts_with('=') && !after.starts_with("==") {
                    let expression = after[1..].trim_start();
                    let start = body.len() - expression.len();
                    return &body[start..expression_end(body, start)];
                }
            }
            _ => {}
        }
        line_start = false;
        i += 1;
    }
    panic!("no attribute `{name} = ...` in the block:\n{body}")
}

/// A literal HCL expression as JSON.
pub fn literal(expression: &str) -> Result<Value, String> {
    let mut parser = Parser { text: expression, at: 0 };
    let value = parser.value()?;
    parser.blank();
    match parser.at == expression.len() {
        true => Ok(value),
        false => Err(format!("unexpected `{}` after the value in `{expression}`", &expression[parser.at..])),
    }
}

/// The index of the bracket closing the one at `open` (strings and comments skipped).
fn matching(text: &str, open: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = open;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => i = skip_string(text, i),
            b'#' => i = text[i..].find('\n').map_or(text.len(), |n| i + n),
            b'{' | b'[' | b'(' => depth += 1,
            b'}' | b']' | b')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// The index of the closing quote of the string opening at `open`.
fn skip_string(text: &str, open: usize) -> usize {
    let bytes = text.as_bytes();
    let mut i = open + 1;
    while i < bytes.len() && bytes[i] != b'"' {
        i += if bytes[i] == b'\\' { 2 } else { 1 };
    }
    i
}

/// Where the expression starting at `start` ends: the first newline
/// outside brackets and strings.
fn expression_end(text: &str, start: usize) -> usize {
    let bytes = text.as_bytes();
    let (mut depth, mut i) = (0usize, start);
    while i < bytes.len() {
        match bytes[i] {
            b'"' => i = skip_string(text, i),
            b'{' | b'[' | b'(' => depth += 1,
            b'}' | b']' | b')' => depth = depth.saturating_sub(1),
            b'\n' if depth == 0 => return i,
            _ => {}
        }
        i += 1;
    }
    text.len()
}

struct Parser<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Parser<'a> {
    fn rest(&self) -> &'a str {
        &self.text[self.at..]
    }

    /// Whitespace, newlines and comments.
    fn blank(&mut self) {
        loop {
            let rest = self.rest();
            let trimmed = rest.trim_start();
            self.at += rest.len() - trimmed.len();
            if trimmed.starts_with('#') || trimmed.starts_with("//") {
                self.at += trimmed.find('\n').unwrap_or(trimmed.len());
            } else {
                return;
            }
        }
    }

    fn eat(&mut self, token: &str) -> bool {
        self.blank();
        let found = self.rest().starts_with(token);
        if found {
            self.at += token.len();
        }
        found
    }

    fn expect(&mut self, token: &str) -> Result<(), String> {
        match self.eat(token) {
            true => Ok(()),
            false => Err(format!("expected `{token}` at `{}`", self.rest())),
        }
    }

    fn identifier(&mut self) -> &'a str {
        self.blank();
        let rest = self.rest();
        let len = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-')).unwrap_or(rest.len());
        let start = self.at;
        self.at += len;
        &self.text[start..start + len]
    }

    fn value(&mut self) -> Result<Value, String> {
        self.blank();
        let rest = self.rest();
        if rest.starts_with('"') {
            return self.string().map(Value::String);
        }
        if self.eat("{") {
            return self.object();
        }
        if self.eat("[") {
            let mut items = Vec::new();
            while !self.eat("]") {
                items.push(self.value()?);
                if !self.eat(",") && !self.rest().trim_start().starts_with(']') {
                    return Err(format!("expected `,` or `]` at `{}`", self.rest()));
                }
            }
            return Ok(Value::Array(items));
        }
        if rest.starts_with(|c: char| c.is_ascii_digit() || c == '-') {
            // To the first character that is not part of a number, or the end.
            let len =
                rest.find(|c: char| !(c.is_ascii_digit() || matches!(c, '-' | '.' | 'e' | 'E'))).unwrap_or(rest.len());
            let number: f64 = rest[..len].parse().map_err(|e| format!("not a number `{}`: {e}", &rest[..len]))?;
            self.at += len;
            let number = match number.fract() == 0.0 && number.abs() < 9e15 {
                true => Number::from(number as i64),
                false => Number::from_f64(number).ok_or("not a finite number")?,
            };
            return Ok(Value::Number(number));
        }
        let name = self.identifier().to_string();
        match name.as_str() {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            "null" => Ok(Value::Null),
            "jsonencode" | "toset" | "tolist" if self.eat("(") => {
                let inner = self.value()?;
                self.expect(")")?;
                Ok(inner)
            }
            "" => Err(format!("not a literal value at `{}`", self.rest())),
            other => Err(format!("`{other}{}` is not a literal (a reference or a function call)", self.rest())),
        }
    }

    fn object(&mut self) -> Result<Value, String> {
        let mut fields = Map::new();
        while !self.eat("}") {
            self.blank();
            let key = match self.rest().starts_with('"') {
                true => self.string()?,
                false => self.identifier().to_string(),
            };
            if key.is_empty() {
                return Err(format!("expected a key at `{}`", self.rest()));
            }
            if !self.eat("=") {
                self.expect(":")?;
            }
            let value = self.value()?;
            if fields.insert(key.clone(), value).is_some() {
                return Err(format!("duplicate key `{key}`"));
            }
            self.eat(",");
        }
        Ok(Value::Object(fields))
    }

    fn string(&mut self) -> Result<String, String> {
        self.expect("\"")?;
        let mut out = String::new();
        let mut chars = self.rest().char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    self.at += i + 1;
                    return Ok(out);
                }
                '$' | '%' if self.rest()[i + 1..].starts_with('{') => {
                    return Err(format!("a template (`{c}{{`) is not a literal: `{}`", self.rest()));
                }
                '\\' => match chars.next().map(|(_, c)| c) {
                    Some('n') => out.push('\n'),
                    Some('t') => out.push('\t'),
                    Some('r') => out.push('\r'),
                    Some(c @ ('"' | '\\')) => out.push(c),
                    other => return Err(format!("unsupported escape \\{other:?}")),
                },
                c => out.push(c),
            }
        }
        Err("an unterminated string".into())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const TEXT: &str = r#"
# resource "x" "y" in a comment
resource "aws_thing" "one" {
  name  = "a # not a comment"
  input = jsonencode({ source = "s", n = 2, nested = { "k" = [1, true, null] } })
  block {
    input = "inner"
  }
  other = var.x
}
locals {
  # a comment
  routes = toset([
    "GET /a", # one
    "POST /b",
  ])
}
"#;

    #[test]
    fn blocks_attributes_and_literals() {
        let body = block(TEXT, r#"resource "aws_thing" "one""#);
        assert_eq!(literal(attribute(body, "name")), Ok(json!("a # not a comment")));
        assert_eq!(
            literal(attribute(body, "input")),
            Ok(json!({"source": "s", "n": 2, "nested": {"k": [1, true, null]}}))
        );
        assert_eq!(literal(attribute(block(TEXT, "locals"), "routes")), Ok(json!(["GET /a", "POST /b"])));
        assert!(literal(attribute(body, "other")).unwrap_err().contains("var.x"));
        assert!(literal(r#""${var.a}/x""#).unwrap_err().contains("template"));
        assert!(literal(r#"merge({a = 1}, {})"#).is_err());
        // A number that ends the expression (a variable's `default = 90`).
        assert_eq!((literal("90"), literal("-1.5")), (Ok(json!(90)), Ok(json!(-1.5))));
    }
}
