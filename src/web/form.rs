//! Form errors kept per field, the bounds of the text fields people type, and small helpers for
//! values that travel in URLs.

/// Messages for the fields of a refused form, shown next to each field.
#[derive(Debug, Default, Clone)]
pub struct FormErrors {
    entries: Vec<(&'static str, String)>,
}

impl FormErrors {
    pub fn add(&mut self, field: &'static str, message: impl Into<String>) {
        if self.for_field(field).is_none() {
            self.entries.push((field, message.into()));
        }
    }

    /// Keeps the first error of a parse result under `field`, and the value when it parsed.
    pub fn check<T>(&mut self, field: &'static str, result: Result<T, String>) -> Option<T> {
        result.map_err(|message| self.add(field, message)).ok()
    }

    pub fn for_field(&self, field: &str) -> Option<&str> {
        self.entries.iter().find(|(f, _)| *f == field).map(|(_, m)| m.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// One text field people type (a title, a comment, a reason): its label for messages and its
/// bounds in characters, declared once beside the feature and read through [`Field::read`] by every
/// form and front door that takes it.
#[derive(Clone, Copy, Debug)]
pub struct Field {
    pub label: &'static str,
    pub min: usize,
    pub max: usize,
}

/// Text that passed its [`Field`]: trimmed, within bounds, and without control characters other
/// than line breaks. Reads as a `&str`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Text(String);

impl Field {
    pub const fn new(label: &'static str, min: usize, max: usize) -> Field {
        Field { label, min, max }
    }

    /// The field's text from what was typed, or the message saying what is wrong with it.
    pub fn read(&self, input: &str) -> Result<Text, String> {
        let Field { label, min, max } = *self;
        let text = input.trim();
        let len = text.chars().count();
        if len == 0 && min > 0 {
            return Err(format!("{label} cannot be empty."));
        }
        if len < min {
            return Err(format!("{label} needs at least {min} characters (this has {len})."));
        }
        if len > max {
            return Err(format!("{label} has at most {max} characters (this has {len})."));
        }
        if text.chars().any(|c| c.is_control() && c != '\n' && c != '\r') {
            return Err(format!("{label} contains characters that cannot be shown."));
        }
        Ok(Text(text.to_owned()))
    }
}

impl std::ops::Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl From<Text> for String {
    fn from(text: Text) -> String {
        text.0
    }
}

impl std::fmt::Display for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Percent-encodes everything but unreserved characters and `/`, for a value in a query string.
pub fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => out.push(byte as char),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// A place inside this site to return to after signing in; anything else (another host, a
/// protocol-relative `//host`, a backslash trick) becomes the home page.
pub fn local_path(next: Option<&str>) -> String {
    match next {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.contains('\\')
                && !path.chars().any(char::is_control)
                && path.len() <= 2000 =>
        {
            path.to_owned()
        }
        _ => "/".to_owned(),
    }
}

/// A `YYYY-MM-DD` date from a form or query (the `label` names it in the message) as the Unix time
/// of its start in the person's time zone; empty is `None`.
pub fn parse_day(value: &str, label: &str) -> Result<Option<i64>, super::AppError> {
    if value.trim().is_empty() {
        return Ok(None);
    }
    crate::format::parse_day(value)
        .map(Some)
        .ok_or_else(|| super::AppError::BadRequest(format!("The {label} date must look like 2026-11-24.")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_field_trims_and_holds_its_bounds() {
        let reason = Field::new("A reason", 3, 5);
        assert_eq!(reason.read("  abc \n").as_deref().ok(), Some("abc"));
        assert_eq!(reason.read("   ").err().as_deref(), Some("A reason cannot be empty."));
        assert_eq!(reason.read("ab").err().as_deref(), Some("A reason needs at least 3 characters (this has 2)."));
        assert_eq!(reason.read("abcdef").err().as_deref(), Some("A reason has at most 5 characters (this has 6)."));
        assert!(reason.read("a\u{7}bc").is_err_and(|e| e.contains("cannot be shown")));
        assert_eq!(Field::new("A note", 0, 5).read(" ").as_deref().ok(), Some(""));
        assert_eq!(reason.read("é\r\nü").as_deref().ok(), Some("é\r\nü"), "line breaks and letters stay");
    }

    #[test]
    fn only_local_paths_survive_as_a_return_address() {
        assert_eq!(local_path(Some("/people?q=a")), "/people?q=a");
        for hostile in ["//evil.example", "https://evil.example", "/\\evil.example", "evil", "/a\nb"] {
            assert_eq!(local_path(Some(hostile)), "/", "{hostile}");
        }
        assert_eq!(local_path(None), "/");
    }

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(percent_encode("/people?q=a b&c"), "/people%3Fq%3Da%20b%26c");
    }
}
